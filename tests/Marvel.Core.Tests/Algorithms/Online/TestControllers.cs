using Marvel.Core.Abstractions;

namespace Marvel.Core.Tests.Algorithms.Online;

/// <summary>A controller whose λ never moves; records what it was fed.</summary>
internal sealed class FixedLambdaController(double lambda, double costLimit = 10) : ILagrangeController
{
    public double Lambda { get; private set; } = lambda;

    public double CostLimit { get; } = costLimit;

    public List<double> Inputs { get; } = new();

    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        Inputs.Add(meanEpisodeCost);
        return new LagrangeUpdate(Lambda, meanEpisodeCost - CostLimit, new Dictionary<string, double> { ["input"] = meanEpisodeCost });
    }

    public LagrangeControllerState GetState() => new("Fixed", new Dictionary<string, double> { ["lambda"] = Lambda }, new Dictionary<string, double[]>());

    public void SetState(LagrangeControllerState state) => Lambda = state.Scalar("lambda");
}

/// <summary>Plain projected gradient ascent λ ← max(0, λ + η (J_c − CostLimit)), for tests only.</summary>
internal sealed class SimpleDualAscentController(double learningRate, double costLimit) : ILagrangeController
{
    public double Lambda { get; private set; }

    public double CostLimit { get; } = costLimit;

    public LagrangeUpdate Update(double meanEpisodeCost)
    {
        Lambda = Math.Max(0, Lambda + learningRate * (meanEpisodeCost - CostLimit));
        return new LagrangeUpdate(Lambda, meanEpisodeCost - CostLimit, new Dictionary<string, double>());
    }

    public LagrangeControllerState GetState() => new("SimpleDualAscent", new Dictionary<string, double> { ["lambda"] = Lambda }, new Dictionary<string, double[]>());

    public void SetState(LagrangeControllerState state) => Lambda = state.Scalar("lambda");
}

/// <summary>A <see cref="FixedLambdaController"/>-like controller that can be warm-started; records each warm start. For tests only.</summary>
internal sealed class WarmStartableController(double lambda, double costLimit = 10) : ILagrangeController, ILagrangeWarmStart
{
    public double Lambda { get; private set; } = lambda;

    public double CostLimit { get; } = costLimit;

    public List<double> WarmStarts { get; } = new();

    public LagrangeUpdate Update(double meanEpisodeCost) => new(Lambda, meanEpisodeCost - CostLimit, new Dictionary<string, double>());

    public void WarmStart(double lambda)
    {
        WarmStarts.Add(lambda);
        Lambda = lambda;
    }

    public LagrangeControllerState GetState() => new("WarmStartable", new Dictionary<string, double> { ["lambda"] = Lambda }, new Dictionary<string, double[]>());

    public void SetState(LagrangeControllerState state) => Lambda = state.Scalar("lambda");
}
