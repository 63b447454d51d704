using Marvel.Core.Algorithms.Shared;
using Marvel.Core.Networks;

namespace Marvel.Core.Algorithms.Offline.COptiDice;

/// <summary>
/// COptiDICE: offline constrained RL by stationary distribution correction estimation (Lee et al., ICLR 2022), as OSRL's
/// <c>coptidice.py</c> (algorithms spec §5).
/// </summary>
/// <remarks>
/// <para>COptiDICE learns correction weights w(s, a) = d^π(s, a)/d^D(s, a) through a Lagrangian dual ν(s) with an
/// f-divergence regulariser, estimates the policy's normalised discounted cost ĉ (an upper bound through χ and τ; a per-step
/// quantity), moves λ so that ĉ ≤ <see cref="CostThreshold"/> = (1 − γ)·<see cref="CostBudget.QCostThreshold"/>(κ, γ, T), and
/// extracts the policy by w-weighted behaviour cloning.</para>
/// <para>One update: λ and the advantage e (Eq. 1); χ and τ (Eq. 2, cost upper bound); ν (Eq. 3); λ (Eq. 4); actor
/// (Eq. 5). No target networks.</para>
/// </remarks>
public sealed class COptiDiceLearner : OfflineLearner<COptiDiceOptions>
{
    /// <summary>The method's name in manifests and messages.</summary>
    public const string Name = "COptiDICE";
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    private readonly double _maxAction;
    private readonly SquashedGaussianActor _actor;
    private readonly QEnsemble _nu;
    private readonly QEnsemble _chi;
    private readonly Parameter _lambdaRaw;
    private readonly Parameter _tauRaw;
    private readonly Adam _actorOptimizer;
    private readonly Adam _nuOptimizer;
    private readonly Adam _chiOptimizer;
    private readonly Adam _lambdaOptimizer;
    private readonly Adam _tauOptimizer;
    private readonly Generator _noise;
    private readonly Generator _policyNoise;
    private bool[] _isInitial = [];
    private double _initialProportion;
    private Tensor? _observationStd;
    private Tensor? _actionStd;

    /// <summary>Builds the networks, the dual scalars and their optimizers.</summary>
    /// <param name="options">Settings; copied.</param>
    /// <param name="context">Spaces, device, seeds and the task horizon.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message lists every bad field.</exception>
    /// <exception cref="ArgumentException">The action space is not a symmetric box [−m, m]^d.</exception>
    public COptiDiceLearner(LearnerContext context, COptiDiceOptions? options = null)
        : base(Name, context, options, new COptiDiceOptionsValidator(), "coptidice",
            static o => o with { ActorHiddenSizes = o.ActorHiddenSizes.ToArray(), ValueHiddenSizes = o.ValueHiddenSizes.ToArray() }, OfflineLearnerLifecycle.EpisodeBudget,
            "nu_loss", "chi_loss", "tau_loss", "lambda_loss", "actor_loss", "lambda", "tau", "cost_estimate", "divergence", "weight_mean")
    {
        _maxAction = OfflineLearning.MaxAction(context.ActionSpace, Name);
        int obs = context.ObservationSpace.Dimension, act = context.ActionSpace.Dimension;

        // §5.3: the only conversion of κ. ĉ = E_{d^π}[c] under the normalised discounted occupancy is (1 − γ) times the discounted
        // cost value, so its bound is (1 − γ)·q_thres; OSRL compares ĉ with q_thres itself (ReferenceDiscountedSumThreshold).
        QCostThreshold = Budget.CriticThreshold(Settings.Gamma, Settings.CostScale,
            bootstrapsThroughTruncation: !Settings.TreatTimeoutAsTerminal);
        CostThreshold = Settings.ReferenceDiscountedSumThreshold ? QCostThreshold
            : Budget.PerStepCriticThreshold(Settings.Gamma, Settings.CostScale, bootstrapsThroughTruncation: !Settings.TreatTimeoutAsTerminal);

        var device = context.Device;
        using (var init = Seeds.CreateTorchGenerator("init"))
        {
            _actor = Life.Network("actor", OfflineLearning.To(new SquashedGaussianActor(obs, act, Settings.ActorHiddenSizes, init), device));
            _nu = Life.Network("nu", OfflineLearning.To(new QEnsemble(obs, 0, Settings.ValueHiddenSizes, Settings.NuEnsembleSize, init), device));
            _chi = Life.Network("chi", OfflineLearning.To(new QEnsemble(obs, 0, Settings.ValueHiddenSizes, Settings.ChiEnsembleSize, init), device));
        }
        _lambdaRaw = Life.Tensor("lambda_raw", new Parameter(ones(Array.Empty<long>(), device: device)));   // λ = softplus(1) at the start (OSRL)
        _tauRaw = Life.Tensor("tau_raw", new Parameter(ones(Array.Empty<long>(), device: device)));
        _actorOptimizer = Life.Optimizer("actor", OfflineLearning.Adam(_actor, Settings.ActorLearningRate));
        _nuOptimizer = Life.Optimizer("nu", OfflineLearning.Adam(_nu, Settings.CriticLearningRate));
        _chiOptimizer = Life.Optimizer("chi", OfflineLearning.Adam(_chi, Settings.CriticLearningRate));
        _lambdaOptimizer = Life.Optimizer("lambda", KeptScalarOptimizer.Adam(new[] { _lambdaRaw }, Settings.ScalarLearningRate));
        _tauOptimizer = Life.Optimizer("tau", KeptScalarOptimizer.Adam(new[] { _tauRaw }, Settings.ScalarLearningRate));
        _noise = Life.Generator("noise", OfflineLearning.Generator(Seeds, "noise", device));
        _policyNoise = Life.Generator("policy", OfflineLearning.Generator(Seeds, "policy", device));
        Policy = Life.Owns(new TorchPolicy(obs, act, device, Act, TorchPolicy.Identity));
    }

    /// <summary>Episode length T used for the threshold.</summary>
    public int EpisodeLength => Budget.EpisodeLength;

    /// <summary>q_thres = <see cref="CostBudget.QCostThreshold"/>(κ, γ, T): the discounted cost value of spending κ evenly over T steps.</summary>
    public double QCostThreshold { get; }

    /// <summary>The bound on the per-step cost estimate ĉ that λ enforces: (1 − γ)·<see cref="QCostThreshold"/>, or
    /// <see cref="QCostThreshold"/> itself with <see cref="COptiDiceOptions.ReferenceDiscountedSumThreshold"/>.</summary>
    public double CostThreshold { get; }

    /// <summary>Share of dataset transitions that start an episode, p_init (0 before <see cref="Attach"/>).</summary>
    public double InitialStateProportion => _initialProportion;

    /// <summary>Binds the dataset and derives the initial-state flags, p_init and the per-dimension standard deviations.</summary>
    /// <exception cref="InvalidDataException">The widths do not match the networks.</exception>
    public override void Attach(OfflineDataset dataset)
    {
        Life.Attach(dataset);
        _isInitial = InitialFlags(dataset.Terminals, dataset.Timeouts);
        _initialProportion = _isInitial.Count(f => f) / (double)_isInitial.Length;
        _observationStd?.Dispose();
        _actionStd?.Dispose();
        _observationStd = ColumnStd(dataset.Observations, dataset.ObservationSize, Life.Device);
        _actionStd = ColumnStd(dataset.Actions, dataset.ActionSize, Life.Device);
    }

    /// <summary>is_init: true at row 0 and after every terminal or timeout (the reference's rule).</summary>
    internal static bool[] InitialFlags(ReadOnlySpan<bool> terminals, ReadOnlySpan<bool> timeouts)
    {
        var flags = new bool[terminals.Length];
        for (int i = 0; i < flags.Length; i++) flags[i] = i == 0 || terminals[i - 1] || timeouts[i - 1];
        return flags;
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> TrainStep() => Life.TrainStep(dataset =>
    {
        var (batch, isInitial) = Sample(dataset);
        return Update(batch, isInitial);
    });

    /// <summary>One COptiDICE gradient step on <paramref name="batch"/> (unscaled rewards and costs).</summary>
    /// <param name="batch">The transitions.</param>
    /// <param name="isInitial">[batch], float 0/1: the transition starts an episode.</param>
    /// <exception cref="InvalidOperationException">No dataset is attached (p_init and the noise scales come from it).</exception>
    /// <exception cref="TrainingDivergedException">A loss or logged value is NaN or infinite.</exception>
    internal IReadOnlyDictionary<string, double> Update(TransitionBatch batch, Tensor isInitial)
    {
        if (_observationStd is null || _actionStd is null) throw new InvalidOperationException($"{Name}: attach a dataset before updating.");
        using var scope = NewDisposeScope();
        var o = Settings;
        var b = ScaledBatch.From(batch, RewardCostScales.Of(o), o.TreatTimeoutAsTerminal, costBackupIgnoresDone: false);
        double gamma = o.Gamma, alpha = o.Alpha;
        long size = batch.Size;

        // Eq. 1: e = r − λ c + γ (1 − d) ν(s′) − ν(s) with λ = softplus(λ_raw) held fixed; w = ReLU((f′)⁻¹(e / α)).
        var lambda = TorchScalars.Softplus(_lambdaRaw);
        var nu = _nu.Min(b.Observations, b.Observations);
        var advantage = Advantage(b, nu, _nu.Min(b.NextObservations, b.NextObservations), lambda.detach(), gamma);
        var w = nn.functional.relu(FInverseDerivative(advantage.div(TorchScalars.Of(alpha)), o.Divergence));
        var wFixed = w.detach();

        // Eq. 2: cost upper bound. ℓ = (1 − γ) χ(s) 1_init / p_init + w̃ (c + γ (1 − d) χ(s′) − χ(s)); ω = B softmax(ℓ / τ);
        // ĉ = mean(ω w̃ c); L_χ = mean(ω ℓ) (gradient also through ω); L_τ = τ (ε − D_KL(ω)).
        Tensor costEstimate, chiLoss, tauLoss, divergence;
        var tau = TorchScalars.Softplus(_tauRaw);
        if (o.CostUpperBoundEpsilon > 0)
        {
            var chi = _chi.Min(b.Observations, b.Observations);
            var chiNext = _chi.Min(b.NextObservations, b.NextObservations);
            var ell = (chi.mul(TorchScalars.Of(1 - gamma)) * isInitial).div(TorchScalars.Of(_initialProportion)).add(wFixed * (b.Costs.add(b.RewardContinues.mul(TorchScalars.Of(gamma)) * chiNext, TorchScalars.One) - chi), TorchScalars.One);
            var logits = ell / tau.detach();
            var omega = logits.softmax(0).mul(TorchScalars.Of(size));
            var logOmega = logits.log_softmax(0).add(TorchScalars.Of(Math.Log(size)), TorchScalars.One);
            divergence = ((omega * logOmega - omega).add(TorchScalars.One, TorchScalars.One)).mean();
            costEstimate = (omega * wFixed * b.Costs).mean();
            chiLoss = (omega * ell).mean();
            GradientStep.Apply(_chiOptimizer, chiLoss);
            tauLoss = tau * (TorchScalars.Minus(o.CostUpperBoundEpsilon, divergence.detach()));
            GradientStep.Apply(_tauOptimizer, tauLoss);
        }
        else
        {
            costEstimate = (wFixed * b.Costs).mean();
            chiLoss = zeros(Array.Empty<long>(), device: nu.device);
            tauLoss = zeros(Array.Empty<long>(), device: nu.device);
            divergence = zeros(Array.Empty<long>(), device: nu.device);
        }

        // Eq. 3: L_ν = (1 − γ) mean(ν(s) 1_init / p_init) + mean(w e − α f(w)).
        var nuLoss = ((nu * isInitial).div(TorchScalars.Of(_initialProportion))).mean().mul(TorchScalars.Of(1 - gamma)).add((w * advantage - F(w, o.Divergence).mul(TorchScalars.Of(alpha))).mean(), TorchScalars.One);
        GradientStep.Apply(_nuOptimizer, nuLoss);

        // Eq. 4: L_λ = λ (qc_thres − ĉ): λ grows while the cost estimate exceeds the threshold.
        var lambdaLoss = LambdaLoss(lambda, CostThreshold, costEstimate);
        GradientStep.Apply(_lambdaOptimizer, lambdaLoss);

        // Eq. 5: policy extraction by w-weighted likelihood of the (noised) dataset action; w recomputed with the updated ν and λ.
        Tensor policyWeight;
        using (no_grad())
        {
            var newLambda = TorchScalars.Softplus(_lambdaRaw);
            var e = Advantage(b, _nu.Min(b.Observations, b.Observations), _nu.Min(b.NextObservations, b.NextObservations), newLambda, gamma);
            policyWeight = nn.functional.relu(FInverseDerivative(e.div(TorchScalars.Of(alpha)), o.Divergence));
        }
        var observationNoise = (randn(b.Observations.shape, generator: _noise, device: b.Observations.device) * _observationStd).mul(TorchScalars.Of(o.ExtractionNoiseScale));
        var actionNoise = (randn(b.Actions.shape, generator: _noise, device: b.Actions.device) * _actionStd).mul(TorchScalars.Of(o.ExtractionNoiseScale));
        var noisyObservations = b.Observations.add(observationNoise, TorchScalars.One);
        var targetActions = (b.Actions.add(actionNoise, TorchScalars.One)).div(TorchScalars.Of(_maxAction));
        var logLikelihood = o.ReferencePreTanhBehaviorCloning
            ? PreTanhLogLikelihood(noisyObservations, targetActions)
            : _actor.LogProb(noisyObservations, targetActions);
        var actorLoss = -(policyWeight * logLikelihood).mean();
        GradientStep.Apply(_actorOptimizer, actorLoss);

        return Life.Report(nuLoss, chiLoss, tauLoss, lambdaLoss, actorLoss, lambda, tau, costEstimate, divergence, wFixed.mean());
    }

    /// <summary>f of the chosen divergence, element-wise.</summary>
    internal static Tensor F(Tensor x, FDivergence divergence) => divergence switch
    {
        FDivergence.ChiSquare => (x.sub(TorchScalars.One)).Squared().mul(TorchScalars.Of(0.5)),
        FDivergence.KullbackLeibler => x * (x.add(TorchScalars.Of(1e-10), TorchScalars.One)).log(),
        _ => where(x.lt(TorchScalars.One), (x * ((x.add(TorchScalars.Of(1e-10), TorchScalars.One)).log().sub(TorchScalars.One))).add(TorchScalars.One, TorchScalars.One), (x.sub(TorchScalars.One)).Squared().mul(TorchScalars.Of(0.5))),
    };

    /// <summary>(f′)⁻¹ of the chosen divergence, element-wise.</summary>
    internal static Tensor FInverseDerivative(Tensor y, FDivergence divergence) => divergence switch
    {
        FDivergence.ChiSquare => y.add(TorchScalars.One, TorchScalars.One),
        FDivergence.KullbackLeibler => (y.sub(TorchScalars.One)).exp(),
        _ => where(y.lt(TorchScalars.Of(0)), y.clamp_max(TorchScalars.Of(0)).exp(), y.add(TorchScalars.One, TorchScalars.One)),
    };

    /// <summary>Eq. 1: e = r − λ c + γ (1 − d) ν(s′) − ν(s), element-wise over the batch.</summary>
    internal static Tensor Advantage(ScaledBatch b, Tensor nu, Tensor nuNext, Tensor lambda, double gamma) =>
        (b.Rewards - lambda * b.Costs).add(b.RewardContinues.mul(TorchScalars.Of(gamma)) * nuNext, TorchScalars.One) - nu;

    /// <summary>Eq. 4: L_λ = λ (threshold − ĉ) with ĉ held fixed, so a descent step raises λ while ĉ exceeds the threshold.</summary>
    internal static Tensor LambdaLoss(Tensor lambda, double threshold, Tensor costEstimate) => lambda * TorchScalars.Minus(threshold, costEstimate.detach());

    // OSRL's extraction: Σ_i log N(a_i; μ_i, σ_i) of the pre-tanh Gaussian at the raw action.
    private Tensor PreTanhLogLikelihood(Tensor observations, Tensor actions)
    {
        var (mean, logStd) = _actor.Distribution(observations);
        var z = (actions - mean) / logStd.exp();
        return ((z.Squared().mul(TorchScalars.Of(-0.5)) - logStd).sub(TorchScalars.Of(HalfLogTwoPi))).sum(-1);
    }

    private (TransitionBatch Batch, Tensor IsInitial) Sample(OfflineDataset d)
    {
        int n = Settings.BatchSize, os = d.ObservationSize, az = d.ActionSize;
        var obs = new float[n * os];
        var next = new float[n * os];
        var act = new float[n * az];
        var rew = new float[n];
        var cost = new float[n];
        var term = new float[n];
        var trunc = new float[n];
        var init = new float[n];
        for (int i = 0; i < n; i++)
        {
            int r = Life.Batches.NextInt(d.Count);
            d.Observations.Slice(r * os, os).CopyTo(obs.AsSpan(i * os));
            d.NextObservations.Slice(r * os, os).CopyTo(next.AsSpan(i * os));
            d.Actions.Slice(r * az, az).CopyTo(act.AsSpan(i * az));
            rew[i] = d.Rewards[r];
            cost[i] = d.Costs[r];
            term[i] = d.Terminals[r] ? 1 : 0;
            trunc[i] = d.Timeouts[r] ? 1 : 0;
            init[i] = _isInitial[r] ? 1 : 0;
        }
        var device = Life.Device;
        Tensor T(float[] values, params long[] shape) => TorchInputs.Float32(values, shape, device);
        var batch = new TransitionBatch(T(obs, n, os), T(act, n, az), T(rew, n), T(cost, n), T(next, n, os), T(term, n), T(trunc, n));
        return (batch, T(init, n));
    }

    private static Tensor ColumnStd(ReadOnlySpan<float> values, int width, Device device)
    {
        int rows = values.Length / width;
        var mean = new double[width];
        var square = new double[width];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < width; j++)
            {
                double v = values[i * width + j];
                mean[j] += v;
                square[j] += v * v;
            }
        var std = new float[width];
        for (int j = 0; j < width; j++)
        {
            double m = mean[j] / rows;
            std[j] = (float)Math.Sqrt(Math.Max(0, square[j] / rows - m * m));
        }
        var result = TorchInputs.Float32(std, [width], CPU);
        if (device.type == TorchSharp.DeviceType.CPU) return result;
        var moved = result.to(device);
        result.Dispose();
        return moved;
    }

    private Tensor Act(Tensor observations, bool deterministic) => _actor.ScaledAction(observations, deterministic, _policyNoise, _maxAction);

    /// <inheritdoc />
    public override HandoverArtifact ExportHandover()
    {
        var o = Settings;
        return Life.Export(Budget.CostLimit, o.Gamma, o.RewardScale, o.CostScale, DualState,
            new HandoverPart(HandoverRoles.Actor, new("SquashedGaussianActor", o.ActorHiddenSizes.ToArray()), _actor, _actorOptimizer));
    }

    // λ and τ, raw and through softplus, with the threshold λ enforces, as the artifact's multiplier state (reads the device).
    private LagrangeControllerState DualState()
    {
        double lambdaRaw = _lambdaRaw.item<float>(), tauRaw = _tauRaw.item<float>();
        static double Softplus(double x) => x > 20 ? x : Math.Log(1 + Math.Exp(x));
        return new LagrangeControllerState("COptiDiceDual",
            new Dictionary<string, double>
            {
                ["lambda_raw"] = lambdaRaw, ["lambda"] = Softplus(lambdaRaw), ["tau_raw"] = tauRaw, ["tau"] = Softplus(tauRaw), ["threshold"] = CostThreshold,
            },
            new Dictionary<string, double[]>());
    }

    /// <inheritdoc />
    private protected override void DisposeUnregistered()
    {
        _observationStd?.Dispose();
        _actionStd?.Dispose();
    }
}
