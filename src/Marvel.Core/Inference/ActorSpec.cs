using System.Globalization;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Networks;

namespace Marvel.Core.Inference;

/// <summary>The three actor families an artifact's actor can belong to for acting without its learner.</summary>
internal enum ActorFamily
{
    /// <summary>a = tanh(μ(s)) (sampled: tanh(μ + σ·ε)), mapped onto the action box: CPQ, BEAR-Lag, COptiDICE, SAC-Lag.</summary>
    SquashedGaussian,

    /// <summary>a = tanh(MLP(s)), mapped onto the action box: behaviour cloning (the learner's m · tanh for a box [−m, m]).</summary>
    Deterministic,

    /// <summary>a = μ(s) (sampled: μ + σ·ε), clipped into the action box: PPO-Lag.</summary>
    Gaussian,
}

/// <summary>What an artifact's actor is, checked against the kinds this library can run without the producing learner.</summary>
/// <param name="Family">The family.</param>
/// <param name="Descriptor">The actor's descriptor from the manifest.</param>
/// <param name="HiddenActivation">The activation after every hidden layer.</param>
/// <param name="Manifest">The artifact's manifest.</param>
internal sealed record ActorSpec(ActorFamily Family, NetworkDescriptor Descriptor, Activation HiddenActivation, HandoverManifest Manifest)
{
    /// <summary>The actor kinds that load and export, as written in manifests.</summary>
    public static readonly IReadOnlyList<string> SupportedKinds = ["SquashedGaussianActor", "DeterministicActor", "GaussianActor"];

    /// <summary>Reads and checks the actor's descriptor.</summary>
    /// <param name="manifest">The artifact's manifest.</param>
    /// <param name="receiver">Who asks, for messages.</param>
    /// <exception cref="InvalidDataException">The artifact has no actor, or its descriptor is malformed.</exception>
    /// <exception cref="NotSupportedException">The actor is of a kind that cannot act on its own (CDT's transformer, BCQ-Lag's perturbation actor).</exception>
    public static ActorSpec Resolve(HandoverManifest manifest, string receiver)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (!manifest.Networks.TryGetValue(HandoverRoles.Actor, out var d))
            throw new InvalidDataException($"{receiver}: the handover artifact from '{manifest.Algorithm}' has no '{HandoverRoles.Actor}' network " +
                $"(it has: {string.Join(", ", manifest.Networks.Keys)}). Export it from a learner that trains an actor.");
        var family = d.Kind switch
        {
            "SquashedGaussianActor" => ActorFamily.SquashedGaussian,
            "DeterministicActor" => ActorFamily.Deterministic,
            "GaussianActor" => ActorFamily.Gaussian,
            _ => throw new NotSupportedException(Unsupported(manifest.Algorithm, d.Kind, receiver)),
        };
        if (d.HiddenSizes is null || d.HiddenSizes.Length == 0 || d.HiddenSizes.Any(h => h < 1))
            throw new InvalidDataException($"{receiver}: the actor descriptor of the artifact from '{manifest.Algorithm}' has hidden sizes " +
                $"[{string.Join(", ", d.HiddenSizes ?? [])}]; at least one positive width is needed.");
        if (!Enum.TryParse<Activation>(d.Activation, ignoreCase: true, out var activation) || !Enum.IsDefined(activation))
            throw new InvalidDataException($"{receiver}: the actor descriptor names activation '{d.Activation}'; known: {string.Join(", ", Enum.GetNames<Activation>())}.");
        if (family != ActorFamily.Gaussian && activation != Activation.ReLU)
            throw new InvalidDataException($"{receiver}: a {d.Kind} is built with ReLU, but the descriptor names '{d.Activation}'. Re-export the artifact.");
        return new ActorSpec(family, d, activation, manifest);
    }

    /// <summary>The action box actions are mapped onto: <paramref name="actionSpace"/> when given, else the manifest's recorded box, else none.</summary>
    /// <exception cref="ArgumentException"><paramref name="actionSpace"/> has another dimension than the actor's actions.</exception>
    public BoxSpace? ActionBox(BoxSpace? actionSpace, string receiver)
    {
        if (actionSpace is not null)
        {
            if (actionSpace.Dimension != Manifest.ActionSize)
                throw new ArgumentException($"{receiver}: the action space has {actionSpace.Dimension} coordinates, but the actor of the artifact from " +
                    $"'{Manifest.Algorithm}' produces {Manifest.ActionSize}.", nameof(actionSpace));
            return actionSpace;
        }
        return Manifest.ActionLow is { } low && Manifest.ActionHigh is { } high ? new BoxSpace(low, high) : null;
    }

    /// <summary>The state-dict key prefixes of the actor's Linear layers, input first, and the activation after each
    /// (the output layer's is the family's squash, Tanh, or none).</summary>
    public IReadOnlyList<(string Prefix, Activation After)> LinearLayers()
    {
        int hidden = Descriptor.HiddenSizes.Length;
        var layers = new List<(string, Activation)>();
        // Mlp numbers its Sequential children Linear, activation, Linear, …; an Identity activation adds no child.
        string Mlp(string name, int linear, int activationsBefore) =>
            string.Create(CultureInfo.InvariantCulture, $"{name}.net.{linear + activationsBefore}");
        switch (Family)
        {
            case ActorFamily.SquashedGaussian:
                for (int i = 0; i < hidden; i++) layers.Add((Mlp("trunk", i, i), Activation.ReLU));
                layers.Add(("mu", Activation.Tanh));
                break;
            case ActorFamily.Deterministic:
                for (int i = 0; i < hidden; i++) layers.Add((Mlp("pi", i, i), Activation.ReLU));
                layers.Add((Mlp("pi", hidden, hidden), Activation.Tanh));
                break;
            default:
                int step = HiddenActivation == Activation.Identity ? 0 : 1;
                for (int i = 0; i < hidden; i++) layers.Add((Mlp("mean", i, i * step), HiddenActivation));
                layers.Add((Mlp("mean", hidden, hidden * step), Activation.Identity));
                break;
        }
        return layers;
    }

    /// <summary>The entry <paramref name="key"/> of the actor's weights, checked to have <paramref name="shape"/>.</summary>
    /// <exception cref="InvalidDataException">The entry is missing or has another shape; the message names the key and both shapes.</exception>
    public static NamedTensor Weight(StateDict weights, string key, long[] shape, string receiver)
    {
        if (!weights.TryGet(key, out var entry))
            throw new InvalidDataException($"{receiver}: the actor's weights have no '{key}'. Re-export the artifact from its learner.");
        if (!entry.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"{receiver}: the actor's '{key}' is {entry.ShapeText}, but its descriptor needs [{string.Join(", ", shape)}].");
        return entry;
    }

    /// <summary>Whether actions are mapped from [−1, 1] onto the box (true) or clipped into it (false).</summary>
    public bool Squashed => Family != ActorFamily.Gaussian;

    private static string Unsupported(string algorithm, string kind, string receiver)
    {
        string why = kind switch
        {
            "CdtModel" => "CDT's causal transformer acts on a window of past states, actions, returns-to-go and costs-to-go, not on one observation; " +
                          "run it through CdtLearner.Policy",
            "PerturbationActor" => "BCQ-Lag's perturbation actor acts on actions drawn from its VAE and picks among them with the reward critic, " +
                                   "and the artifact holds neither the VAE nor that rule; run it through BcqLagLearner.Policy",
            _ => "it is not one of the actor kinds this library knows",
        };
        return $"{receiver}: the artifact's actor from '{algorithm}' is a '{kind}', which cannot be loaded or exported on its own: {why}. " +
               $"Kinds that can: {string.Join(", ", SupportedKinds)} (CPQ, BEAR-Lag, COptiDICE, SAC-Lag, PPO-Lag and the BC variants).";
    }
}
