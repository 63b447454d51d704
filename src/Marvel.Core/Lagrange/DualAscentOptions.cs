namespace Marvel.Core.Lagrange;

/// <summary>The optimiser that <see cref="DualAscentController"/> applies to the loss −λ·(J_c − CostLimit).</summary>
public enum DualAscentOptimizer
{
    /// <summary>Plain gradient step: λ ← λ + η·(J_c − CostLimit).</summary>
    Sgd,

    /// <summary>Adam (Kingma and Ba) on the same loss, in double precision, with bias correction.</summary>
    Adam,
}

/// <summary>Settings of <see cref="DualAscentController"/> (projected dual ascent on λ).</summary>
/// <remarks>
/// Defaults follow OmniSafe's naive Lagrangian (<c>PPOLag.yaml</c>: Adam, lr 0.035, λ_init 0.001), the rule
/// of algorithms.md §9.1. Marvel's reference ablation ("without aPID") uses Adam with lr = the task's
/// <c>lambda_lr</c> (marvel.md §5.1), <see cref="InitialLambda"/> = 0 and <see cref="InitialLambdaFloor"/> = 1e-5.
/// </remarks>
public sealed record DualAscentOptions
{
    /// <summary>
    /// Set point: the undiscounted episode cost budget d (cost units per episode, unscaled). Default 20, the
    /// online limit of the Marvel reference (<c>--cost_limit</c>); OmniSafe's configs use 25.
    /// </summary>
    public double CostLimit { get; set; } = 20.0;

    /// <summary>
    /// How the gradient step is taken. Default <see cref="DualAscentOptimizer.Adam"/>, as in OmniSafe
    /// <c>Lagrange</c> and Marvel <c>utils.Lagrange</c>.
    /// </summary>
    public DualAscentOptimizer Optimizer { get; set; } = DualAscentOptimizer.Adam;

    /// <summary>
    /// Learning rate η (λ units per unit of gradient for SGD; roughly the λ change per update for Adam).
    /// Default 0.035 (OmniSafe <c>PPOLag.yaml</c> <c>lambda_lr</c>). Marvel's per-task values are 1e-5 to 5e-3
    /// (marvel.md §5.1), tuned for 20 updates per iteration.
    /// </summary>
    public double LearningRate { get; set; } = 0.035;

    /// <summary>
    /// λ₀, the multiplier before the first update (λ units). Default 0.001 (OmniSafe
    /// <c>lagrangian_multiplier_init</c>); the Marvel reference passes 0.
    /// </summary>
    public double InitialLambda { get; set; } = 0.001;

    /// <summary>
    /// Lower bound applied once to the initial value: λ ← max(<see cref="InitialLambda"/>, floor). Default 0, as
    /// OmniSafe (max(λ_init, 0)). Set 1e-5 to reproduce Marvel's <c>utils.Lagrange</c>, which starts at
    /// max(λ_init, 1e-5) (algorithms.md §7.4 [NOTE]). It does not bound later updates.
    /// </summary>
    public double InitialLambdaFloor { get; set; }

    /// <summary>
    /// Optional upper bound of λ after every step (λ ← min(λ, bound)); null (default) means no upper bound, as in
    /// both references' defaults (OmniSafe <c>lagrangian_upper_bound</c> = None).
    /// </summary>
    public double? UpperBound { get; set; }

    /// <summary>Adam β₁, the decay of the first moment. Default 0.9 (PyTorch default, used by both references).</summary>
    public double AdamBeta1 { get; set; } = 0.9;

    /// <summary>Adam β₂, the decay of the second moment. Default 0.999 (PyTorch default).</summary>
    public double AdamBeta2 { get; set; } = 0.999;

    /// <summary>Adam ε, added to √v̂ in the denominator. Default 1e-8 (PyTorch default).</summary>
    public double AdamEpsilon { get; set; } = 1e-8;
}
