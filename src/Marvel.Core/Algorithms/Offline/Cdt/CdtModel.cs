using Marvel.Core.Networks;
using static TorchSharp.torch.nn;

namespace Marvel.Core.Algorithms.Offline.Cdt;

/// <summary>
/// CDT's sequence model (algorithms spec §6.2): per step the tokens (R̂_t, offset − Ĉ_t, s_t, a_t), each a linear embedding
/// plus a time-step embedding, run through a <see cref="CausalTransformer"/>; a diagonal Gaussian action head reads the
/// state token, a two-class cost head reads the action token.
/// </summary>
/// <remarks>Weights of every Linear and Embedding ~ N(0, 0.02²), biases 0, LayerNorms 1/0, drawn from the given generator.</remarks>
public sealed class CdtModel : Module<Tensor, Tensor>
{
    private const int TokensPerStep = 4;
    private readonly Embedding timestep;
    private readonly Linear return_embedding;
    private readonly Linear cost_embedding;
    private readonly Linear state_embedding;
    private readonly Linear action_embedding;
    private readonly LayerNorm embedding_norm;
    private readonly CausalTransformer transformer;
    private readonly LayerNorm output_norm;
    private readonly Linear action_mean;
    private readonly Linear action_log_std;
    private readonly Linear cost_head;
    private readonly double _dropout;
    private readonly Generator? _dropoutGenerator;

    /// <summary>Creates the model.</summary>
    /// <param name="observationSize">Observation length.</param>
    /// <param name="actionSize">Action length.</param>
    /// <param name="maxTimestep">Rows of the time-step table (T + L).</param>
    /// <param name="embeddingSize">E.</param>
    /// <param name="layers">Transformer blocks.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="dropout">Dropout rate.</param>
    /// <param name="costTokenOffset">The cost token is offset − Ĉ.</param>
    /// <param name="clampLogStd">Clamp log σ to [−5, 2].</param>
    /// <param name="initGenerator">Initialization generator.</param>
    /// <param name="dropoutGenerator">Dropout generator (not owned).</param>
    public CdtModel(int observationSize, int actionSize, int maxTimestep, int embeddingSize, int layers, int heads, double dropout,
        double costTokenOffset, bool clampLogStd, Generator? initGenerator, Generator? dropoutGenerator)
        : base(nameof(CdtModel))
    {
        timestep = Embedding(maxTimestep, embeddingSize);
        return_embedding = Linear(1, embeddingSize);
        cost_embedding = Linear(1, embeddingSize);
        state_embedding = Linear(observationSize, embeddingSize);
        action_embedding = Linear(actionSize, embeddingSize);
        embedding_norm = LayerNorm(embeddingSize);
        transformer = new CausalTransformer(embeddingSize, layers, heads, dropout, dropoutGenerator);
        output_norm = LayerNorm(embeddingSize);
        action_mean = Linear(embeddingSize, actionSize);
        action_log_std = Linear(embeddingSize, actionSize);
        cost_head = Linear(embeddingSize, 2);
        _dropout = dropout;
        _dropoutGenerator = dropoutGenerator;
        CostTokenOffset = costTokenOffset;
        ClampLogStd = clampLogStd;
        MaxTimestep = maxTimestep;
        RegisterComponents();
        Initialize(initGenerator);
    }

    /// <summary>The cost token offset.</summary>
    public double CostTokenOffset { get; }

    /// <summary>Whether log σ is clamped to [−5, 2].</summary>
    public bool ClampLogStd { get; }

    /// <summary>Rows of the time-step table.</summary>
    public int MaxTimestep { get; }

    /// <summary>Not used: call <see cref="Predict"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override Tensor forward(Tensor input) => throw new NotSupportedException("Call CdtModel.Predict with states, actions, returns-to-go, costs-to-go, time steps and mask.");

    /// <summary>Runs the model on windows of L steps.</summary>
    /// <param name="states">[batch, L, observationSize].</param>
    /// <param name="actions">[batch, L, actionSize] (the current step's action may be a zero placeholder).</param>
    /// <param name="returnsToGo">[batch, L], scaled.</param>
    /// <param name="costsToGo">[batch, L], scaled.</param>
    /// <param name="timesteps">[batch, L], int64, each below <see cref="MaxTimestep"/>.</param>
    /// <param name="mask">[batch, L], 1 for real steps and 0 for padding.</param>
    /// <returns>Gaussian mean and log σ [batch, L, actionSize] (from the state tokens) and cost log-probabilities [batch, L, 2] (from the action tokens).</returns>
    public (Tensor Mean, Tensor LogStd, Tensor CostLogProbs) Predict(Tensor states, Tensor actions, Tensor returnsToGo, Tensor costsToGo, Tensor timesteps, Tensor mask)
    {
        using var scope = NewDisposeScope();
        long b = states.shape[0], l = states.shape[1], e = embedding_norm.weight!.shape[0];
        var time = timestep.forward(timesteps);
        var tokens = stack(new[]
        {
            return_embedding.forward(returnsToGo.unsqueeze(-1)).add(time, TorchScalars.One),
            cost_embedding.forward((TorchScalars.Minus(CostTokenOffset, costsToGo)).unsqueeze(-1)).add(time, TorchScalars.One),
            state_embedding.forward(states).add(time, TorchScalars.One),
            action_embedding.forward(actions).add(time, TorchScalars.One),
        }, 2).reshape(b, TokensPerStep * l, e);
        var padding = mask.le(TorchScalars.Of(0.5)).unsqueeze(2).expand(b, l, TokensPerStep).reshape(b, TokensPerStep * l);
        var h = CausalTransformer.Dropout(embedding_norm.forward(tokens), _dropout, training, _dropoutGenerator);
        h = output_norm.forward(transformer.forward(h, padding)).view(b, l, TokensPerStep, e);
        var stateFeature = h.select(2, 2);
        var actionFeature = h.select(2, 3);
        var logStd = action_log_std.forward(stateFeature);
        if (ClampLogStd) logStd = logStd.clamp(TorchScalars.Of(-5), TorchScalars.Of(2));
        var costLogProbs = functional.log_softmax(cost_head.forward(actionFeature), -1);
        return (action_mean.forward(stateFeature).MoveToOuterDisposeScope(), logStd.MoveToOuterDisposeScope(), costLogProbs.MoveToOuterDisposeScope());
    }

    private void Initialize(Generator? generator)
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            bool norm = name.Contains("norm", StringComparison.Ordinal) || name.Contains("ln", StringComparison.Ordinal);
            if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else if (norm) p.fill_(TorchScalars.One);
            else p.normal_(0, 0.02, generator);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            timestep.Dispose();
            return_embedding.Dispose();
            cost_embedding.Dispose();
            state_embedding.Dispose();
            action_embedding.Dispose();
            embedding_norm.Dispose();
            transformer.Dispose();
            output_norm.Dispose();
            action_mean.Dispose();
            action_log_std.Dispose();
            cost_head.Dispose();
        }
        base.Dispose(disposing);
    }
}
