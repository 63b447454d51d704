using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;

namespace Marvel.Benchmarks;

/// <summary>The SAC-Lag learner and batch shared by <see cref="SacLagUpdateBenchmarks"/> and the side-by-side worker.</summary>
internal static class SacLagBenchSetup
{
    public const int Batch = 256, Obs = 8, Act = 2;

    /// <summary>BallCircle shapes, [hidden, hidden] actor, twin reward critics and one cost critic of the same width, batch 256, fixed α;
    /// the batch is drawn from a replay buffer of random transitions.</summary>
    public static (SacLagLearner Learner, TransitionBatch Batch) Create(int hidden, Func<SacLagOptions, SacLagOptions>? adjust = null)
    {
        var options = Options(hidden);
        var learner = new SacLagLearner(Context(1), adjust is null ? options : adjust(options));
        return (learner, SampleBatch(2));
    }

    /// <summary>The BallCircle-shaped context of seed <paramref name="seed"/>.</summary>
    public static LearnerContext Context(ulong seed) =>
        new(BoxSpace.Uniform(Obs, -1000, 1000), BoxSpace.Uniform(Act, -1, 1), new SeedStreams(seed), 200, "BallCircle");

    /// <summary>[hidden, hidden] actor, twin reward critics and one cost critic of the same width, batch 256, fixed α.</summary>
    public static SacLagOptions Options(int hidden) => new()
    {
        ActorHiddenSizes = [hidden, hidden], CriticHiddenSizes = [hidden, hidden], RewardCriticCount = 2,
        CostCriticHiddenSizes = [hidden, hidden], CostCriticCount = 1, BatchSize = Batch,
    };

    /// <summary>A batch drawn from a replay buffer of random transitions made from <paramref name="seed"/>.</summary>
    public static TransitionBatch SampleBatch(ulong seed)
    {
        var random = new RandomSource(seed);
        var buffer = new ReplayBuffer(4096, Obs, Act);
        var o = new float[Obs];
        var n = new float[Obs];
        var a = new float[Act];
        for (int i = 0; i < 4096; i++)
        {
            for (int k = 0; k < Obs; k++) { o[k] = (float)random.NextGaussian(); n[k] = (float)random.NextGaussian(); }
            for (int k = 0; k < Act; k++) a[k] = (float)random.NextDouble(-1, 1);
            buffer.Add(o, a, (float)random.NextGaussian(), random.NextDouble() < 0.1 ? 1f : 0f, n, false, i % 200 == 199);
        }
        return buffer.Sample(Batch, random);
    }
}
