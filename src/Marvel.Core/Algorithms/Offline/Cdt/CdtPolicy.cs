using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Algorithms.Offline.Cdt;

/// <summary>
/// The acting side of <see cref="CdtLearner"/>: keeps each environment row's recent history and conditions the model on
/// the remaining return and cost (algorithms spec §6.4).
/// </summary>
/// <remarks>
/// <para>At each step the last ≤ L steps of (s, a, R̂, Ĉ, t) are fed with a zero placeholder for the current action; the
/// action is the Gaussian mean at the last position (deterministic) or a sample (stochastic), clamped to [−m, m].</para>
/// <para><see cref="IPolicy"/> carries no rewards, so the caller reports each step's reward and cost with
/// <see cref="Record"/>; without it R̂ and Ĉ stay at their targets. <see cref="IPolicy.OnEpisodeStart"/> resets a row.</para>
/// </remarks>
public sealed class CdtPolicy : IPolicy
{
    private readonly CdtLearner _learner;
    private readonly List<History> _rows = new();

    internal CdtPolicy(CdtLearner learner)
    {
        _learner = learner;
        TargetReturn = learner.Options.TargetReturn;
        TargetCost = learner.Budget.CostLimit;
    }

    /// <summary>Initial return-to-go R̂₀ of new episodes (unscaled reward units). Defaults to <see cref="CdtOptions.TargetReturn"/>.</summary>
    public double TargetReturn { get; set; }

    /// <summary>Initial cost-to-go Ĉ₀ of new episodes (unscaled cost units). Defaults to <see cref="CdtOptions.CostLimit"/>.</summary>
    public double TargetCost { get; set; }

    /// <inheritdoc />
    public int ObservationSize => _learner.ObservationSize;

    /// <inheritdoc />
    public int ActionSize => _learner.ActionSize;

    /// <inheritdoc />
    public void OnEpisodeStart(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        while (_rows.Count <= index) _rows.Add(new History());
        _rows[index] = new History { Return = TargetReturn, Cost = TargetCost };
    }

    /// <summary>Reports the reward and cost (unscaled) of row <paramref name="index"/>'s last step: R̂ ← R̂ − r, Ĉ ← Ĉ − c.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The row has not acted yet.</exception>
    public void Record(int index, double reward, double cost)
    {
        if (index < 0 || index >= _rows.Count) throw new ArgumentOutOfRangeException(nameof(index), index, "This row has not acted yet.");
        _rows[index].Return -= reward;
        _rows[index].Cost -= cost;
    }

    /// <inheritdoc />
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
    {
        int batch = PolicyGuard.BatchSize(this, observations, actions);
        var o = _learner.Options;
        int os = ObservationSize, az = ActionSize, l = o.SequenceLength;
        var model = _learner.Model;
        var scales = RewardCostScales.Of(o);
        model.eval();
        for (int row = 0; row < batch; row++)
        {
            if (row >= _rows.Count) OnEpisodeStart(row);
            var h = _rows[row];
            h.States.Add(observations.Slice(row * os, os).ToArray());
            h.Returns.Add(h.Return);
            h.Costs.Add(h.Cost);
            int count = h.States.Count, n = Math.Min(l, count), first = count - n;
            var states = new float[n * os];
            var acts = new float[n * az];
            var rtg = new float[n];
            var ctg = new float[n];
            var time = new long[n];
            for (int j = 0; j < n; j++)
            {
                int t = first + j;
                h.States[t].CopyTo(states, j * os);
                if (t < h.Actions.Count) h.Actions[t].CopyTo(acts, j * az);   // the current step's action stays 0
                rtg[j] = scales.Reward(h.Returns[t]);
                ctg[j] = scales.Cost(h.Costs[t]);
                time[j] = Math.Min(t, model.MaxTimestep - 1);
            }
            var action = new float[az];
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var device = _learner.Device;
                var (mean, logStd, _) = model.Predict(
                    TorchInputs.Float32(states, [1, n, os], device), TorchInputs.Float32(acts, [1, n, az], device),
                    TorchInputs.Float32(rtg, [1, n], device), TorchInputs.Float32(ctg, [1, n], device),
                    TorchInputs.Int64(time, [1, n], device), ones(1, n, device: device));
                var last = mean.select(1, n - 1);
                if (!deterministic) last = last.add(logStd.select(1, n - 1).exp() * randn(last.shape, device: last.device, generator: _learner.PolicyNoise), TorchScalars.One);
                last.clamp(TorchScalars.Of(-_learner.MaxAction), TorchScalars.Of(_learner.MaxAction)).to_type(ScalarType.Float32).cpu().data<float>().CopyTo(action);
            }
            h.Actions.Add(action);
            action.CopyTo(actions.Slice(row * az, az));
        }
    }

    private sealed class History
    {
        public List<float[]> States { get; } = new();
        public List<float[]> Actions { get; } = new();
        public List<double> Returns { get; } = new();
        public List<double> Costs { get; } = new();
        public double Return { get; set; }
        public double Cost { get; set; }
    }
}
