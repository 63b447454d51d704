using static TorchSharp.torch.nn;

namespace Marvel.Core.Networks;

/// <summary>
/// A stack of pre-LayerNorm transformer blocks with causal self-attention (GPT style):
/// x ← x + Dropout(Attention(LN(x))); x ← x + Dropout(W₂ GELU(W₁ LN(x))), W₁: E → 4E.
/// </summary>
/// <remarks>
/// Attention is causal and ignores padded keys. Dropout draws its masks from the generator given at construction, so
/// training is reproducible without touching TorchSharp's global generator; it is active only in training mode
/// (<c>train()</c> / <c>eval()</c>). Parameter names: <c>blocks.{i}.ln1</c>, <c>.qkv</c>, <c>.proj</c>, <c>.ln2</c>, <c>.fc1</c>, <c>.fc2</c>.
/// </remarks>
public sealed class CausalTransformer : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<TransformerBlock> blocks;

    /// <summary>Creates the stack.</summary>
    /// <param name="embeddingSize">Token width E (a multiple of <paramref name="heads"/>).</param>
    /// <param name="layers">Number of blocks.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="dropout">Dropout rate of attention weights and residual branches, in [0, 1).</param>
    /// <param name="dropoutGenerator">Generator of the dropout masks (not owned).</param>
    /// <exception cref="ArgumentException">E is not a multiple of the head count, or a size is below 1.</exception>
    public CausalTransformer(int embeddingSize, int layers, int heads, double dropout, Generator? dropoutGenerator)
        : base(nameof(CausalTransformer))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (embeddingSize < 1 || embeddingSize % heads != 0)
            throw new ArgumentException($"The embedding size ({embeddingSize}) must be a positive multiple of the head count ({heads}).", nameof(embeddingSize));
        blocks = new ModuleList<TransformerBlock>(Enumerable.Range(0, layers).Select(_ => new TransformerBlock(embeddingSize, heads, dropout, dropoutGenerator)).ToArray());
        RegisterComponents();
    }

    /// <summary>Runs the blocks.</summary>
    /// <param name="tokens">[batch, N, E].</param>
    /// <param name="padding">[batch, N], bool, true for padded tokens (never attended to).</param>
    /// <returns>[batch, N, E].</returns>
    public override Tensor forward(Tensor tokens, Tensor padding)
    {
        using var scope = NewDisposeScope();
        long n = tokens.shape[1];
        var future = ones(n, n, dtype: ScalarType.Bool, device: tokens.device).triu(1);            // [N, N]: key after query
        var blocked = future.unsqueeze(0).logical_or(padding.unsqueeze(1)).unsqueeze(1);         // [batch, 1, N, N]
        var mask = zeros(blocked.shape, dtype: tokens.dtype, device: tokens.device).masked_fill(blocked, TorchScalars.Of(-1e9));
        var x = tokens;
        foreach (var block in blocks) x = block.forward(x, mask);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Dropout with masks from <paramref name="generator"/>: x · 1[u ≥ p] / (1 − p), u ~ U(0, 1).</summary>
    internal static Tensor Dropout(Tensor x, double p, bool training, Generator? generator)
    {
        if (!training || p <= 0) return x.alias();
        using var u = rand(x.shape, dtype: x.dtype, device: x.device, generator: generator);
        using var keep = u.ge(TorchScalars.Of(p)).to_type(x.dtype);
        using var kept = x * keep;
        return kept.div(TorchScalars.Of(1 - p));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) blocks.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>One pre-LN block with causal multi-head self-attention.</summary>
    internal sealed class TransformerBlock : Module<Tensor, Tensor, Tensor>
    {
        private readonly LayerNorm ln1;
        private readonly Linear qkv;
        private readonly Linear proj;
        private readonly LayerNorm ln2;
        private readonly Linear fc1;
        private readonly Linear fc2;
        private readonly int _heads;
        private readonly double _dropout;
        private readonly Generator? _generator;

        public TransformerBlock(int embeddingSize, int heads, double dropout, Generator? generator) : base(nameof(TransformerBlock))
        {
            ln1 = LayerNorm(embeddingSize);
            qkv = Linear(embeddingSize, 3 * embeddingSize);
            proj = Linear(embeddingSize, embeddingSize);
            ln2 = LayerNorm(embeddingSize);
            fc1 = Linear(embeddingSize, 4 * embeddingSize);
            fc2 = Linear(4 * embeddingSize, embeddingSize);
            _heads = heads;
            _dropout = dropout;
            _generator = generator;
            RegisterComponents();
        }

        /// <param name="x">[batch, N, E].</param>
        /// <param name="mask">[batch, 1, N, N] additive attention mask.</param>
        public override Tensor forward(Tensor x, Tensor mask)
        {
            using var scope = NewDisposeScope();
            long b = x.shape[0], n = x.shape[1], e = x.shape[2], d = e / _heads;
            var parts = qkv.forward(ln1.forward(x)).view(b, n, 3, _heads, d).permute(2, 0, 3, 1, 4);   // [3, batch, H, N, d]
            var (q, k, v) = (parts[0], parts[1], parts[2]);
            var scores = q.matmul(k.transpose(-2, -1)).div(TorchScalars.Of(Math.Sqrt(d))).add(mask, TorchScalars.One);
            var weights = Dropout(scores.softmax(-1), _dropout, training, _generator);
            var attended = weights.matmul(v).transpose(1, 2).reshape(b, n, e);
            var h = x.add(Dropout(proj.forward(attended), _dropout, training, _generator), TorchScalars.One);
            var mlp = fc2.forward(functional.gelu(fc1.forward(ln2.forward(h))));
            return (h.add(Dropout(mlp, _dropout, training, _generator), TorchScalars.One)).MoveToOuterDisposeScope();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                ln1.Dispose();
                qkv.Dispose();
                proj.Dispose();
                ln2.Dispose();
                fc1.Dispose();
                fc2.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
