using System.Text;

namespace Marvel.Core.Abstractions.Seeding;

/// <summary>
/// Derives independent, reproducible seeds for named streams ("env/3", "replay", "actor-noise", "torch")
/// from one root seed. One root seed therefore drives environments, sampling and torch.
/// </summary>
/// <remarks>
/// The child seed is SplitMix64(root ⊕ FNV-1a-64(name)): stable across processes, platforms and
/// .NET versions (unlike <see cref="string.GetHashCode()"/>).
/// </remarks>
public sealed class SeedStreams
{
    /// <summary>Creates the streams of one run.</summary>
    /// <param name="rootSeed">The run's seed.</param>
    public SeedStreams(ulong rootSeed) => RootSeed = rootSeed;

    /// <summary>The run's seed.</summary>
    public ulong RootSeed { get; }

    /// <summary>The seed of the stream <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public ulong Derive(string name) => Derive(RootSeed, name);

    /// <summary>The seed of stream <paramref name="name"/> under root seed <paramref name="rootSeed"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public static ulong Derive(ulong rootSeed, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 0x100000001B3UL;
        }
        ulong x = rootSeed ^ hash;
        return RandomSource.SplitMix64(ref x);
    }

    /// <summary>A <see cref="RandomSource"/> for stream <paramref name="name"/>.</summary>
    public RandomSource CreateRandom(string name) => new(Derive(name));

    /// <summary>A TorchSharp CPU generator for stream <paramref name="name"/>.</summary>
    /// <remarks>Pass it explicitly to factories such as <c>torch.randn(..., generator: g)</c>; never seed the global generator.</remarks>
    public TorchSharp.torch.Generator CreateTorchGenerator(string name)
    {
        TorchNative.EnsureAvailable();
        return new TorchSharp.torch.Generator(Derive(name));
    }

    /// <summary>The streams of a sub-component, whose root is the seed of stream <paramref name="name"/>.</summary>
    public SeedStreams Fork(string name) => new(Derive(name));
}
