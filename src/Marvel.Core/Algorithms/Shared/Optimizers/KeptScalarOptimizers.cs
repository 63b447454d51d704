namespace Marvel.Core.Algorithms.Shared.Optimizers;

// The classes are named Adam and AdamW on purpose: TorchSharp writes the optimizer's type name into every saved state
// (Optimizer.save_state_dict) and checks it on load, so states saved by TorchSharp's optimizers and by these load into
// each other unchanged. They live in their own namespace so no file sees two types named Adam.

/// <summary>
/// TorchSharp's Adam with the same state, hyper-parameters and arithmetic, but a <see cref="step"/> that hands libtorch only
/// scalars it keeps alive (docs/known-issues.md, "native crash"): constants come from <see cref="TorchScalars"/>, the per-step
/// bias corrections are owned in a <c>using</c> until the native call returns, and every <c>add</c> passes its alpha.
/// </summary>
internal sealed class Adam : TorchSharp.Modules.Adam
{
    /// <summary>Adam over <paramref name="parameters"/>; the arguments mean what they mean in <c>torch.optim.Adam</c>.</summary>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
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
