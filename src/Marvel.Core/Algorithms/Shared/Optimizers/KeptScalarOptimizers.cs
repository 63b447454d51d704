using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Shared.Optimizers;

// The classes are named Adam and AdamW on purpose: TorchSharp writes the optimizer's type name into every saved state
// (Optimizer.save_state_dict) and checks it on load, so states saved by TorchSharp's optimizers and by these load into
// each other unchanged. They live in their own namespace so no file sees two types named Adam.

/// <summary>
/// TorchSharp's Adam with the same state, hyper-parameters and arithmetic, but a <see cref="step"/> that hands libtorch only
/// scalars it keeps alive (docs/known-issues.md, "native crash"): constants come from <see cref="TorchScalars"/>, the per-step
/// bias corrections are owned in a <c>using</c> until the native call returns, and every <c>add</c> passes its alpha.
/// </summary>
/// <remarks>
/// When its parameters are exactly those of one <see cref="FlatParameters"/> (a network flattened before the optimizer was made), the
/// moments live in two buffers of the same layout and <see cref="step"/> and <see cref="zero_grad"/> run a handful of native calls over
/// the whole network instead of several per tensor. Adam is elementwise and the flat step issues the same operations in the same order,
/// so the parameters, moments and step counts are bit-identical to the per-tensor step (tested), and the per-parameter state objects
/// stay views of the buffers, so saved states keep their format. The flat step treats every parameter as having a gradient at every
/// step (a parameter no loss reaches gets a zero gradient rather than being skipped); all of the library's flattened networks are
/// reached by their loss at every step.
/// </remarks>
internal sealed class Adam : TorchSharp.Modules.Adam
{
    private readonly FlatMoments? _flat;

    /// <summary>Adam over <paramref name="parameters"/>; the arguments mean what they mean in <c>torch.optim.Adam</c>.</summary>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
        if (amsgrad || maximize || _parameter_groups.Count != 1) return;
        var group = _parameter_groups[0].Parameters.ToArray();
        if (FlatParameters.Find(group) is { Gradients: not null } flat)
            _flat = new FlatMoments(flat, group.Select(p => (State)_state[p.Handle]).ToArray());
    }

    /// <summary>True when the moments live in flat buffers (the parameters were one flattened network).</summary>
    internal bool IsFlat => _flat is not null;

    /// <inheritdoc />
    public override void zero_grad()
    {
        if (_flat is null) base.zero_grad();
        else _flat.Parameters.Gradients!.zero_();
    }

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
        double weightDecay = options.weight_decay!.Value, lr = options.LearningRate!.Value;
        bool amsgrad = options.amsgrad!.Value, maximize = options.maximize!.Value;
        if (_flat is not null && !amsgrad && !maximize && _flat.TryBeginStep())
        {
            FlatStep(_flat, beta1, beta2, eps, weightDecay, lr);
            return;
        }
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            if (maximize) grad = grad.neg();
            state.step += 1;
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            if (weightDecay != 0) grad = grad.add(param, TorchScalars.Of(weightDecay));
            KeptScalarAdamMath.UpdateMoments(state.exp_avg, state.exp_avg_sq, grad, beta1, beta2);
            Tensor secondMoment = state.exp_avg_sq;
            if (amsgrad)
            {
                var previous = state.max_exp_avg_sq;
                state.max_exp_avg_sq = maximum(previous, state.exp_avg_sq).DetachFromDisposeScope();
                previous.Dispose();
                secondMoment = state.max_exp_avg_sq;
            }
            KeptScalarAdamMath.ApplyStep(param, state.exp_avg, secondMoment, biasCorrection1, biasCorrection2, lr, eps);
        }
    }, closure);

    private static void FlatStep(FlatMoments flat, double beta1, double beta2, double eps, double weightDecay, double lr)
    {
        long step = flat.StepAfterIncrement();
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        var values = flat.Parameters.Values;
        var grad = flat.Parameters.Gradients!;
        using var decayed = weightDecay != 0 ? grad.add(values, TorchScalars.Of(weightDecay)) : null;
        KeptScalarAdamMath.UpdateMoments(flat.FirstMoment, flat.SecondMoment, decayed ?? grad, beta1, beta2);
        KeptScalarAdamMath.ApplyStep(values, flat.FirstMoment, flat.SecondMoment, flat.Denominator, biasCorrection1, biasCorrection2, lr, eps);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _flat?.Dispose();
    }

    /// <summary>The two moment buffers of a flattened network and the per-parameter states that are views of them.</summary>
    private sealed class FlatMoments : IDisposable
    {
        private readonly State[] _states;
        private readonly Tensor[] _firstViews;
        private readonly Tensor[] _secondViews;

        public FlatMoments(FlatParameters parameters, State[] states)
        {
            Parameters = parameters;
            _states = states;
            var values = parameters.Values;
            FirstMoment = zeros_like(values).DetachFromDisposeScope();
            SecondMoment = zeros_like(values).DetachFromDisposeScope();
            Denominator = zeros_like(values).DetachFromDisposeScope();
            _firstViews = new Tensor[states.Length];
            _secondViews = new Tensor[states.Length];
            Rebind();
        }

        public FlatParameters Parameters { get; }
        public Tensor FirstMoment { get; }
        public Tensor SecondMoment { get; }
        public Tensor Denominator { get; } // scratch for √v/√(1 − β₂ᵗ) + ε, so a step allocates no tensor

        /// <summary>
        /// Checks that the states still hold the buffer views (a state loaded from another optimizer object replaces its tensors; it is
        /// copied into the buffers then) and that every parameter is at the same step; false sends the step down the per-tensor path.
        /// </summary>
        public bool TryBeginStep()
        {
            long step = _states[0].step;
            bool rebind = false;
            for (int i = 0; i < _states.Length; i++)
            {
                if (_states[i].step != step || _states[i].max_exp_avg_sq is not null) return false;
                rebind |= !ReferenceEquals(_states[i].exp_avg, _firstViews[i]) || !ReferenceEquals(_states[i].exp_avg_sq, _secondViews[i]);
            }
            if (rebind) Rebind();
            return true;
        }

        public long StepAfterIncrement()
        {
            foreach (var state in _states) state.step += 1;
            return _states[0].step;
        }

        // Copies each state's moments into the buffers (the gaps between slices stay zero) and makes the state hold views of them.
        private void Rebind()
        {
            using var noGrad = no_grad();
            var offsets = Parameters.Offsets;
            for (int i = 0; i < _states.Length; i++)
            {
                _firstViews[i] = Bind(FirstMoment, offsets[i], _states[i].exp_avg, _firstViews[i]);
                _secondViews[i] = Bind(SecondMoment, offsets[i], _states[i].exp_avg_sq, _secondViews[i]);
                _states[i].exp_avg = _firstViews[i];
                _states[i].exp_avg_sq = _secondViews[i];
            }
        }

        private static Tensor Bind(Tensor buffer, long offset, Tensor current, Tensor? previousView)
        {
            if (ReferenceEquals(current, previousView)) return current;
            using var slice = buffer.narrow(0, offset, current.numel());
            var view = slice.view(current.shape).DetachFromDisposeScope();
            view.copy_(current);
            current.Dispose();
            previousView?.Dispose();
            return view;
        }

        public void Dispose()
        {
            FirstMoment.Dispose();
            SecondMoment.Dispose();
            Denominator.Dispose();
        }
    }
}

/// <summary>TorchSharp's AdamW (decoupled weight decay) with the kept-scalar <see cref="step"/> of <see cref="Adam"/>.</summary>
internal sealed class AdamW : TorchSharp.Modules.AdamW
{
    /// <summary>AdamW over <paramref name="parameters"/>; the arguments mean what they mean in <c>torch.optim.AdamW</c>.</summary>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
    }

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
        double weightDecay = options.weight_decay!.Value, lr = options.LearningRate!.Value;
        bool amsgrad = options.amsgrad!.Value, maximize = options.maximize!.Value;
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            if (maximize) grad = grad.neg();
            state.step += 1;
            // Decoupled decay: θ ← θ·(1 − η·λ). A learning-rate warm-up changes the factor every step, so it is owned, not cached.
            using (var decay = (1 - lr * weightDecay).ToScalar()) param.mul_(decay);
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            KeptScalarAdamMath.UpdateMoments(state.exp_avg, state.exp_avg_sq, grad, beta1, beta2);
            Tensor secondMoment = state.exp_avg_sq;
            if (amsgrad)
            {
                var previous = state.max_exp_avg_sq;
                state.max_exp_avg_sq = maximum(previous, state.exp_avg_sq).DetachFromDisposeScope();
                previous.Dispose();
                secondMoment = state.max_exp_avg_sq;
            }
            KeptScalarAdamMath.ApplyStep(param, state.exp_avg, secondMoment, biasCorrection1, biasCorrection2, lr, eps);
        }
    }, closure);
}

/// <summary>The two moment and parameter updates Adam and AdamW share, in TorchSharp's order of operations (bit-identical results).</summary>
internal static class KeptScalarAdamMath
{
    /// <summary>m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g².</summary>
    public static void UpdateMoments(Tensor firstMoment, Tensor secondMoment, Tensor grad, double beta1, double beta2)
    {
        firstMoment.mul_(TorchScalars.Of(beta1)).add_(grad, TorchScalars.Of(1 - beta1));
        secondMoment.mul_(TorchScalars.Of(beta2)).addcmul_(grad, grad, TorchScalars.Of(1 - beta2));
    }

    /// <summary><see cref="ApplyStep(Tensor, Tensor, Tensor, double, double, double, double)"/> with the denominator built in
    /// <paramref name="denominator"/> (same shape as <paramref name="param"/>) instead of a fresh tensor; the same operations per element.</summary>
    public static void ApplyStep(Tensor param, Tensor firstMoment, Tensor secondMoment, Tensor denominator, double biasCorrection1, double biasCorrection2, double lr, double eps)
    {
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var negativeStepSize = (-(lr / biasCorrection1)).ToScalar();
        denominator.copy_(secondMoment).sqrt_().div_(sqrtBiasCorrection2).add_(TorchScalars.Of(eps), TorchScalars.One);
        param.addcdiv_(firstMoment, denominator, negativeStepSize);
    }

    /// <summary>θ ← θ − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε).</summary>
    public static void ApplyStep(Tensor param, Tensor firstMoment, Tensor secondMoment, double biasCorrection1, double biasCorrection2, double lr, double eps)
    {
        // These two change every step, so they are owned here rather than cached; 'using' keeps each alive past its native call.
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var negativeStepSize = (-(lr / biasCorrection1)).ToScalar();
        using var root = secondMoment.sqrt();
        using var denominator = root.div(sqrtBiasCorrection2).add_(TorchScalars.Of(eps), TorchScalars.One);
        param.addcdiv_(firstMoment, denominator, negativeStepSize);
    }
}
