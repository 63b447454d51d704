using System.Globalization;

namespace Marvel.Core.Environments;

/// <summary>The findings of <see cref="EnvironmentChecker.Check"/>: hard errors (contract violations) and warnings.</summary>
/// <param name="EnvironmentId">The checked task.</param>
/// <param name="Errors">Violations of the <see cref="IEnvironment"/> contract.</param>
/// <param name="Warnings">Legal but suspicious findings.</param>
public sealed record EnvironmentCheckReport(string EnvironmentId, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    /// <summary>True when there is no error.</summary>
    public bool IsValid => Errors.Count == 0;

    /// <summary>
    /// The report as text: <c>"BallCircle: all checks passed"</c>, or a first line with the counts followed by one indented line per
    /// error and per warning.
    /// </summary>
    public override string ToString()
    {
        if (Errors.Count == 0 && Warnings.Count == 0) return $"{EnvironmentId}: all checks passed";
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{EnvironmentId}: {Count(Errors.Count, "error")}, {Count(Warnings.Count, "warning")}");
        foreach (var e in Errors) text.Append(Environment.NewLine).Append("  error: ").Append(e);
        foreach (var w in Warnings) text.Append(Environment.NewLine).Append("  warning: ").Append(w);
        return text.ToString();
    }

    private static string Count(int n, string noun) => n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");

    /// <summary>Throws an <see cref="InvalidOperationException"/> listing every error, if any.</summary>
    public void ThrowIfInvalid()
    {
        if (!IsValid)
            throw new InvalidOperationException($"Environment '{EnvironmentId}' violates the IEnvironment contract:{Environment.NewLine} - " + string.Join(Environment.NewLine + " - ", Errors));
    }
}

/// <summary>
/// Checks an <see cref="IEnvironment"/> against its contract before you train on it: spaces, observation shapes and
/// bounds, determinism under a seed, finite rewards, finite non-negative costs, truncation at the horizon, and clear
/// errors on bad actions and on stepping outside an episode. Each failure names the method and the expected and actual value.
/// </summary>
public static class EnvironmentChecker
{
    /// <summary>Runs all checks on <paramref name="environment"/> (it is reset and stepped; its state afterwards is unspecified).</summary>
    /// <param name="environment">The environment.</param>
    /// <param name="seed">Seed for resets and random actions.</param>
    /// <param name="steps">Steps for the determinism and value checks.</param>
    public static EnvironmentCheckReport Check(IEnvironment environment, ulong seed = 0, int steps = 50)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var errors = new List<string>();
        var warnings = new List<string>();
        string id = environment.Spec?.Id ?? "(no spec)";
        var obsSpace = environment.ObservationSpace;
        var actSpace = environment.ActionSpace;
        if (obsSpace is null || actSpace is null)
        {
            errors.Add("ObservationSpace and ActionSpace must not be null.");
            return new EnvironmentCheckReport(id, errors, warnings);
        }
        if (!actSpace.IsBounded) warnings.Add($"ActionSpace {actSpace} is unbounded; squashed policies need bounds.");
        int obsDim = obsSpace.Dimension, actDim = actSpace.Dimension;
        var random = new RandomSource(seed);

        // Stepping before any reset must fail clearly.
        Expect<InvalidOperationException>(errors, "Step before Reset", () => environment.Step(new float[actDim], new float[obsDim]));

        var obs = new float[obsDim];
        var action = new float[actDim];
        Try(errors, "Reset(seed)", () => environment.Reset(seed, obs));
        if (!obsSpace.Contains(obs)) errors.Add($"Reset(seed) returned an observation outside ObservationSpace: [{Format(obs)}].");

        // Two seeded rollouts with the same actions must agree exactly.
        var actions = new float[steps * actDim];
        for (int t = 0; t < steps; t++) SampleAction(actSpace, random, actions.AsSpan(t * actDim, actDim));
        // A bug repeats at every step (a sign error in the cost makes every cost negative): one line per kind of failure, not per step.
        var stepFailures = new StepFailures();
        var first = Rollout(environment, seed, actions, steps, errors, stepFailures, "first rollout", obsSpace);
        var second = Rollout(environment, seed, actions, steps, errors, stepFailures, "second rollout", obsSpace);
        stepFailures.AddTo(errors);
        if (first is not null && second is not null)
        {
            for (int t = 0; t < Math.Min(first.Count, second.Count); t++)
            {
                if (!first[t].Equals(second[t]))
                {
                    errors.Add($"Not deterministic: with the same seed and actions, step {t} gave {first[t]} and then {second[t]}. Draw all randomness from a generator seeded in Reset(seed).");
                    break;
                }
            }
        }

        // Bad actions: wrong length and non-finite values.
        environment.Reset(seed, obs);
        Expect<ArgumentException>(errors, $"Step with an action of length {actDim + 1}", () => environment.Step(new float[actDim + 1], obs));
        if (actDim > 1) Expect<ArgumentException>(errors, $"Step with an action of length {actDim - 1}", () => environment.Step(new float[actDim - 1], obs));
        var nan = new float[actDim];
        nan[0] = float.NaN;
        Expect<ArgumentException>(errors, "Step with a NaN action", () => environment.Step(nan, obs));
        var inf = new float[actDim];
        inf[^1] = float.PositiveInfinity;
        Expect<ArgumentException>(errors, "Step with an infinite action", () => environment.Step(inf, obs));
        Expect<ArgumentException>(errors, "Reset with a wrong-length observation buffer", () => environment.Reset(seed, new float[obsDim + 1]));

        // Horizon: truncation exactly at MaxEpisodeSteps, then stepping must fail until reset.
        int horizon = environment.Spec?.MaxEpisodeSteps ?? 0;
        if (horizon <= 0) warnings.Add("Spec.MaxEpisodeSteps is 0: the task has no horizon; wrap it in TimeLimit for training.");
        else if (horizon <= 100_000)
        {
            environment.Reset(seed, obs);
            int t = 0;
            StepResult r = default;
            try
            {
                while (t < horizon)
                {
                    SampleAction(actSpace, random, action);
                    r = environment.Step(action, obs);
                    t++;
                    if (r.EpisodeEnded) break;
                }
                if (!r.Terminated)
                {
                    if (t != horizon || !r.Truncated)
                        errors.Add($"Horizon: expected Truncated = true at step {horizon} (MaxEpisodeSteps), got Truncated = {r.Truncated} at step {t}.");
                    else
                        Expect<InvalidOperationException>(errors, "Step after the episode ended", () => environment.Step(action, obs));
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                errors.Add($"Step threw {e.GetType().Name} during a full episode at step {t}: {e.Message}");
            }
        }
        return new EnvironmentCheckReport(id, errors, warnings);
    }

    private static List<StepRecord>? Rollout(IEnvironment env, ulong seed, float[] actions, int steps, List<string> errors, StepFailures stepFailures,
        string label, Abstractions.Spaces.BoxSpace obsSpace)
    {
        int actDim = env.ActionSpace.Dimension;
        var obs = new float[obsSpace.Dimension];
        var list = new List<StepRecord>();
        try
        {
            env.Reset(seed, obs);
            list.Add(new StepRecord(Format(obs), 0, 0, false, false));
            for (int t = 0; t < steps; t++)
            {
                var r = env.Step(actions.AsSpan(t * actDim, actDim), obs);
                if (!double.IsFinite(r.Reward)) stepFailures.Add("reward", $"Step {t} ({label}): reward is {r.Reward}; rewards must be finite.");
                if (!double.IsFinite(r.Cost) || r.Cost < 0) stepFailures.Add("cost", $"Step {t} ({label}): cost is {r.Cost}; costs must be finite and >= 0.");
                if (!obsSpace.Contains(obs)) stepFailures.Add("observation", $"Step {t} ({label}): observation outside ObservationSpace: [{Format(obs)}].");
                list.Add(new StepRecord(Format(obs), r.Reward, r.Cost, r.Terminated, r.Truncated));
                if (r.EpisodeEnded) env.Reset(obs);
            }
            return list;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add($"{label}: {e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    private static void SampleAction(Abstractions.Spaces.BoxSpace space, RandomSource random, Span<float> action)
    {
        if (space.IsBounded) space.Sample(random, action);
        else for (int i = 0; i < action.Length; i++) action[i] = (float)random.NextGaussian();
    }

    private static void Expect<TException>(List<string> errors, string what, Action act) where TException : Exception
    {
        try
        {
            act();
            errors.Add($"{what}: expected {typeof(TException).Name}, but no exception was thrown.");
        }
        catch (TException) { }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add($"{what}: expected {typeof(TException).Name}, got {e.GetType().Name}: {e.Message}");
        }
    }

    private static void Try(List<string> errors, string what, Action act)
    {
        try { act(); }
        catch (Exception e) when (e is not OutOfMemoryException) { errors.Add($"{what} threw {e.GetType().Name}: {e.Message}"); }
    }

    private static string Format(ReadOnlySpan<float> values)
    {
        var parts = new string[values.Length];
        for (int i = 0; i < values.Length; i++) parts[i] = values[i].ToString("R", CultureInfo.InvariantCulture);
        return string.Join(", ", parts);
    }

    /// <summary>Per-step failures grouped by kind: the first message of each kind and how many steps failed the same way.</summary>
    private sealed class StepFailures
    {
        private readonly List<(string Kind, string First, int Count)> _groups = [];

        public void Add(string kind, string message)
        {
            int i = _groups.FindIndex(g => g.Kind == kind);
            if (i < 0) _groups.Add((kind, message, 1));
            else _groups[i] = _groups[i] with { Count = _groups[i].Count + 1 };
        }

        public void AddTo(List<string> errors)
        {
            foreach (var (_, first, count) in _groups)
                errors.Add(count == 1 ? first : first + string.Create(CultureInfo.InvariantCulture, $" The same failure at {count} steps in all (only the first is shown)."));
        }
    }

    private sealed record StepRecord(string Observation, double Reward, double Cost, bool Terminated, bool Truncated);
}
