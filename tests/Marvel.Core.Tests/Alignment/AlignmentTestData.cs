using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Offline.Cpq;

namespace Marvel.Core.Tests.Alignment;

/// <summary>Small artifacts and datasets for the alignment tests.</summary>
internal static class AlignmentTestData
{
    public const int ObservationSize = 3;
    public const int ActionSize = 2;

    public static LearnerContext Context(ulong seed = 1) =>
        new(BoxSpace.Uniform(ObservationSize, -10f, 10f), BoxSpace.Uniform(ActionSize, -1f, 1f), new SeedStreams(seed), 10, "tiny");

    /// <summary>An untrained CPQ export: actor [16, 16], reward critic 2 × [16, 16], cost critic 2 × [16, 16], reward scale 0.1, cost scale 1.</summary>
    public static HandoverArtifact Artifact(ulong seed = 1, double gamma = 0.99)
    {
        using var cpq = new CpqLearner(Context(seed), new CpqOptions
        {
            ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], VaeHiddenSize = 16, Gamma = gamma, EpisodeLength = 10,
        });
        return cpq.ExportHandover();
    }

    /// <summary>
    /// A dataset of <paramref name="rows"/> transitions with distinct observations and actions, rewards r_i and costs c_i
    /// given by the callbacks; one terminal at the end.
    /// </summary>
    public static OfflineDataset Dataset(int rows, Func<int, float> reward, Func<int, float> cost, Func<int, bool>? terminated = null, Func<int, bool>? truncated = null)
    {
        var obs = new float[rows * ObservationSize];
        var next = new float[rows * ObservationSize];
        var act = new float[rows * ActionSize];
        var r = new float[rows];
        var c = new float[rows];
        var term = new bool[rows];
        var trunc = new bool[rows];
        var random = new RandomSource(99);
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < ObservationSize; k++)
            {
                obs[i * ObservationSize + k] = (float)random.NextDouble(-1, 1);
                next[i * ObservationSize + k] = (float)random.NextDouble(-1, 1);
            }
            for (int k = 0; k < ActionSize; k++) act[i * ActionSize + k] = (float)random.NextDouble(-0.9, 0.9);
            r[i] = reward(i);
            c[i] = cost(i);
            term[i] = terminated?.Invoke(i) ?? i == rows - 1;
            trunc[i] = truncated?.Invoke(i) ?? false;
        }
        return new OfflineDataset(ObservationSize, ActionSize, obs, act, r, c, next, term, trunc, "alignment test data");
    }

    /// <summary>A copy of a critic's state dict whose members output constants: last layer weights 0, bias = constants[k].</summary>
    public static StateDict ConstantCritic(StateDict critic, params float[] constants)
    {
        var entries = critic.Entries.Select(e =>
        {
            // The output layer is the only one with a single output row: weight [1, h], bias [1].
            if (e.Shape[0] != 1) return e;
            int member = int.Parse(e.Name.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);
            var values = e.Shape.Length == 1 ? [constants[member]] : new float[e.Values.Length];
            return e with { Values = values };
        });
        return new StateDict(entries.ToList());
    }
}
