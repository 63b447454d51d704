namespace Marvel.Core.Environments;

/// <summary>
/// A task's recipe for the built-in cost-sweep dataset, for tasks the library does not ship (e.g. from an environments
/// package): the scripted controller at each aggressiveness level. <c>DatasetCollector.GenerateBuiltIn</c> uses it in place
/// of its own controllers and keeps the rest of the recipe (ten levels skewed toward the costly end, Gaussian action noise,
/// a tenth of random-action episodes). Register it with <see cref="EnvironmentRegistry.RegisterScriptedSweep"/>.
/// </summary>
/// <param name="PolicyAt">The controller at aggressiveness f ∈ [0, 1]: 0 is the cautious, cheap end and 1 the reward-seeking,
/// costly end. Called once per level, so each level gets a fresh instance; it must fit the task's observation and action sizes.</param>
/// <param name="NoiseStandardDeviation">σ of the Gaussian noise added to every action of the levels (the built-in tasks use 0.3).</param>
public sealed record ScriptedSweep(Func<double, IPolicy> PolicyAt, double NoiseStandardDeviation = 0.3);
