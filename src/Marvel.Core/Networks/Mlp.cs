using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>Hidden-layer activations an <see cref="Mlp"/> can use.</summary>
public enum Activation
{
    /// <summary>max(0, x).</summary>
    ReLU,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>x (no activation).</summary>
    Identity,
}

/// <summary>
/// A multilayer perceptron Linear → act → … → Linear (→ output act), with parameter names
/// <c>net.0.weight</c>, <c>net.0.bias</c>, <c>net.2.weight</c>, … as in the reference implementations, so
/// state dicts map one to one.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Sequential net;

    /// <summary>Creates the network.</summary>
    /// <param name="sizes">Layer widths including input and output, e.g. [8, 256, 256, 1]; at least two.</param>
    /// <param name="activation">Activation after every hidden Linear.</param>
    /// <param name="outputActivation">Activation after the last Linear.</param>
    /// <param name="generator">Generator for the initial weights (PyTorch's default initialization); the global one when null.</param>
    /// <exception cref="ArgumentException">Fewer than two sizes, or a size below 1.</exception>
    public Mlp(IReadOnlyList<int> sizes, Activation activation = Activation.ReLU, Activation outputActivation = Activation.Identity, Generator? generator = null)
        : base(nameof(Mlp))
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count < 2) throw new ArgumentException("An MLP needs at least an input and an output size.", nameof(sizes));
        if (sizes.Any(s => s < 1)) throw new ArgumentException($"Layer sizes must be positive; got [{string.Join(", ", sizes)}].", nameof(sizes));
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        int index = 0;
        for (int i = 0; i < sizes.Count - 1; i++)
        {
            layers.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), NetworkInit.Linear(sizes[i], sizes[i + 1], generator)));
            var act = i < sizes.Count - 2 ? activation : outputActivation;
            if (act != Activation.Identity)
                layers.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), Make(act)));
        }
        net = Sequential(layers);
        InputSize = sizes[0];
        OutputSize = sizes[^1];
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public int InputSize { get; }

    /// <summary>Output width.</summary>
    public int OutputSize { get; }

    /// <summary>Applies the network to [batch, InputSize] and returns [batch, OutputSize].</summary>
    public override Tensor forward(Tensor input) => net.forward(input);

    internal static Module<Tensor, Tensor> Make(Activation activation) => activation switch
    {
        Activation.ReLU => ReLU(),
        Activation.Tanh => Tanh(),
        _ => Identity(),
    };

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) net.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Seeded PyTorch-default initialization of Linear layers.</summary>
internal static class NetworkInit
{
    /// <summary>A Linear layer initialized as PyTorch does (Kaiming-uniform with a = √5, i.e. U(±1/√fan_in) for weight and bias), from <paramref name="generator"/>.</summary>
    public static Linear Linear(int inputs, int outputs, Generator? generator)
    {
        var layer = nn.Linear(inputs, outputs);
        if (generator is not null)
        {
            double bound = 1.0 / Math.Sqrt(inputs);
            using (no_grad())
            {
                layer.weight!.uniform_(-bound, bound, generator);
                layer.bias!.uniform_(-bound, bound, generator);
            }
        }
        return layer;
    }
}
