using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// The behaviour model of BCQ, BEAR and CPQ: a conditional variational auto-encoder of actions given states.
/// Encoder q(z | s, a) = N(μ(s, a), σ(s, a)²); decoder a ≈ maxAction · tanh(D(s, z)).
/// </summary>
/// <remarks>
/// <para>Architecture (algorithms spec §0.4): encoder Linear(s‖a → H), ReLU, Linear(H → H), ReLU, then
/// μ = Linear(H → L) and log σ = clamp(Linear(H → L), −4, 15); decoder Linear(s‖z → H), ReLU, Linear(H → H), ReLU,
/// Linear(H → |A|). Parameter names <c>e1</c>, <c>e2</c>, <c>mean</c>, <c>log_std</c>, <c>d1</c>, <c>d2</c>, <c>d3</c>
/// follow the reference implementation, so state dicts map one to one.</para>
/// <para>Loss: L = MSE(â, a) + β · KL, KL = −½ · mean(1 + log σ² − μ² − σ²), the mean taken over the batch and the
/// latent dimensions.</para>
/// <para>Decoding without a latent draws z ~ N(0, I) clipped to [−0.5, 0.5], which keeps decoded actions near
/// the data.</para>
/// </remarks>
public sealed class ConditionalVae : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Lower clamp of the encoder's log σ.</summary>
    public const double LogStdMin = -4;
    /// <summary>Upper clamp of the encoder's log σ.</summary>
    public const double LogStdMax = 15;
    /// <summary>Bound of the prior latent draw used when decoding without a latent.</summary>
    public const double LatentClip = 0.5;

    private readonly Linear e1;
    private readonly Linear e2;
    private readonly Linear mean;
    private readonly Linear log_std;
    private readonly Linear d1;
    private readonly Linear d2;
    private readonly Linear d3;

    /// <summary>Creates the VAE.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="hiddenSize">Width H of both hidden layers of encoder and decoder (reference: 400).</param>
    /// <param name="latentSize">Latent size L (reference: 2 · actionSize).</param>
    /// <param name="maxAction">Bound of the action box: decoded actions lie in [−maxAction, maxAction].</param>
    /// <param name="generator">Initialization generator (PyTorch default initialization).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or <paramref name="maxAction"/> is not positive.</exception>
    public ConditionalVae(int observationSize, int actionSize, int hiddenSize, int latentSize, double maxAction, Generator? generator = null)
        : base(nameof(ConditionalVae))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(observationSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(latentSize);
        if (!(maxAction > 0) || !double.IsFinite(maxAction)) throw new ArgumentOutOfRangeException(nameof(maxAction), maxAction, "maxAction must be finite and positive.");
        e1 = NetworkInit.Linear(observationSize + actionSize, hiddenSize, generator);
        e2 = NetworkInit.Linear(hiddenSize, hiddenSize, generator);
        mean = NetworkInit.Linear(hiddenSize, latentSize, generator);
        log_std = NetworkInit.Linear(hiddenSize, latentSize, generator);
        d1 = NetworkInit.Linear(observationSize + latentSize, hiddenSize, generator);
        d2 = NetworkInit.Linear(hiddenSize, hiddenSize, generator);
        d3 = NetworkInit.Linear(hiddenSize, actionSize, generator);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        HiddenSize = hiddenSize;
        LatentSize = latentSize;
        MaxAction = maxAction;
        RegisterComponents();
    }

    /// <summary>Observation length.</summary>
    public int ObservationSize { get; }

    /// <summary>Action length.</summary>
    public int ActionSize { get; }

    /// <summary>Hidden width H.</summary>
    public int HiddenSize { get; }

    /// <summary>Latent size L.</summary>
    public int LatentSize { get; }

    /// <summary>Bound of decoded actions.</summary>
    public double MaxAction { get; }

    /// <summary>Reconstructs actions through a sampled latent: z ~ q(z | s, a), â = decode(s, z), [batch, ActionSize].</summary>
    /// <remarks>Uses the global generator; learners call <see cref="Reconstruct"/> with their own.</remarks>
    public override Tensor forward(Tensor observations, Tensor actions)
    {
        var (recon, m, s) = Reconstruct(observations, actions, null);
        m.Dispose();
        s.Dispose();
        return recon;
    }

    /// <summary>The encoder's posterior parameters.</summary>
    /// <param name="observations">[..., ObservationSize].</param>
    /// <param name="actions">[..., ActionSize].</param>
    /// <returns>μ and clamped log σ, each [..., LatentSize].</returns>
    public (Tensor Mean, Tensor LogStd) Encode(Tensor observations, Tensor actions)
    {
        using var input = cat(new[] { observations, actions }, -1);
        using var h1 = e1.forward(input);
        using var r1 = functional.relu(h1);
        using var h2 = e2.forward(r1);
        using var r2 = functional.relu(h2);
        var m = mean.forward(r2);
        using var raw = log_std.forward(r2);
        return (m, raw.clamp(TorchScalars.Of(LogStdMin), TorchScalars.Of(LogStdMax)));
    }

    /// <summary>Decodes a given latent: maxAction · tanh(D(s, z)).</summary>
    /// <param name="observations">[..., ObservationSize].</param>
    /// <param name="latent">[..., LatentSize].</param>
    /// <returns>[..., ActionSize].</returns>
    public Tensor Decode(Tensor observations, Tensor latent)
    {
        using var raw = DecodeRaw(observations, latent);
        using var squashed = raw.tanh();
        return squashed.mul(TorchScalars.Of(MaxAction));
    }

    /// <summary>Decodes a prior draw z ~ N(0, I) clipped to [−0.5, 0.5].</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="generator">Generator for z.</param>
    /// <returns>[batch, ActionSize].</returns>
    public Tensor Decode(Tensor observations, Generator? generator)
    {
        using var z = PriorLatent(new[] { observations.shape[0], LatentSize }, observations, generator);
        return Decode(observations, z);
    }

    /// <summary>
    /// Decodes <paramref name="count"/> prior draws per state (BEAR): returns tanh(D(s, z)) and the raw
    /// pre-tanh D(s, z), both [batch, count, ActionSize] and without the maxAction factor, as the reference does.
    /// </summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="count">Draws per state (≥ 1).</param>
    /// <param name="generator">Generator for z.</param>
    public (Tensor Squashed, Tensor Raw) DecodeMultiple(Tensor observations, int count, Generator? generator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        long batch = observations.shape[0];
        using var z = PriorLatent(new[] { batch, count, LatentSize }, observations, generator);
        using var repeated = observations.unsqueeze(1).expand(batch, count, ObservationSize);
        var raw = DecodeRaw(repeated, z);
        return (raw.tanh(), raw);
    }

    /// <summary>Encodes, samples z = μ + σ·ε and decodes.</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize].</param>
    /// <param name="generator">Generator for ε.</param>
    /// <returns>The reconstruction [batch, ActionSize], μ and log σ [batch, LatentSize].</returns>
    public (Tensor Reconstruction, Tensor Mean, Tensor LogStd) Reconstruct(Tensor observations, Tensor actions, Generator? generator)
    {
        var (m, logStd) = Encode(observations, actions);
        using var noise = randn(m.shape, dtype: m.dtype, device: m.device, generator: generator);
        using var std = logStd.exp();
        using var z = m.add(std * noise, TorchScalars.One);
        return (Decode(observations, z), m, logStd);
    }

    /// <summary>The training loss L = MSE(â, a) + β · KL (§0.4).</summary>
    /// <param name="observations">[batch, ObservationSize].</param>
    /// <param name="actions">[batch, ActionSize].</param>
    /// <param name="klWeight">β ≥ 0.</param>
    /// <param name="generator">Generator for the reparameterized latent.</param>
    /// <returns>Total loss, reconstruction term and KL term (scalars; the total carries the graph).</returns>
    public (Tensor Total, Tensor Reconstruction, Tensor Kl) Loss(Tensor observations, Tensor actions, double klWeight, Generator? generator)
    {
        var (recon, m, logStd) = Reconstruct(observations, actions, generator);
        var reconstruction = functional.mse_loss(recon, actions);
        var kl = KlDivergence(m, logStd);
        recon.Dispose();
        m.Dispose();
        logStd.Dispose();
        using var weighted = kl.mul(TorchScalars.Of(klWeight));
        return (reconstruction.add(weighted, TorchScalars.One), reconstruction, kl);
    }

    /// <summary>KL(N(μ, σ²) ‖ N(0, I)) as the reference writes it: −½ · mean(1 + log σ² − μ² − σ²), mean over every element.</summary>
    /// <param name="mean">μ, any shape.</param>
    /// <param name="logStd">log σ, same shape.</param>
    /// <returns>A scalar.</returns>
    public static Tensor KlDivergence(Tensor mean, Tensor logStd)
    {
        using var perElement = KlTerms(mean, logStd);
        return perElement.mean();
    }

    /// <summary>The same KL averaged over the last (latent) dimension only: one value per sample, shape [...].</summary>
    /// <param name="mean">μ, [..., L].</param>
    /// <param name="logStd">log σ, [..., L].</param>
    public static Tensor KlPerSample(Tensor mean, Tensor logStd)
    {
        using var perElement = KlTerms(mean, logStd);
        return perElement.mean(new long[] { -1 });
    }

    private static Tensor KlTerms(Tensor mean, Tensor logStd)
    {
        // −½ (1 + log σ² − μ² − σ²) with log σ² = 2 log σ and σ² = exp(2 log σ).
        using var logVar = logStd.mul(TorchScalars.Of(2));
        using var variance = logVar.exp();
        using var inner = logVar.add(TorchScalars.One, TorchScalars.One).sub(mean.Squared()).sub(variance);
        return inner.mul(TorchScalars.Of(-0.5));
    }

    private Tensor DecodeRaw(Tensor observations, Tensor latent)
    {
        using var input = cat(new[] { observations, latent }, -1);
        using var h1 = d1.forward(input);
        using var r1 = functional.relu(h1);
        using var h2 = d2.forward(r1);
        using var r2 = functional.relu(h2);
        return d3.forward(r2);
    }

    private static Tensor PriorLatent(long[] shape, Tensor like, Generator? generator)
    {
        using var z = randn(shape, dtype: like.dtype, device: like.device, generator: generator);
        return z.clamp(TorchScalars.Of(-LatentClip), TorchScalars.Of(LatentClip));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            e1.Dispose();
            e2.Dispose();
            mean.Dispose();
            log_std.Dispose();
            d1.Dispose();
            d2.Dispose();
            d3.Dispose();
        }
        base.Dispose(disposing);
    }
}
