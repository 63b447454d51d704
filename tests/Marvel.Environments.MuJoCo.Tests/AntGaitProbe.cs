using Marvel.Core.Abstractions;
using Marvel.Environments.MuJoCo.Policies;
using Marvel.Environments.MuJoCo.Tasks;

namespace Marvel.Environments.MuJoCo.Tests;

/// <summary>Calibration probes of the ant gaits (explicit: they print tables for docs/environments-mujoco.md, they assert nothing).</summary>
[Explicit("calibration probe: prints numbers for the docs")]
public sealed class AntGaitProbe
{
    private static (double Return, double Cost, int Length, double X, double Y, double Yaw) Roll(IEnvironment env, IPolicy policy, ulong seed)
    {
        var obs = new float[env.ObservationSpace.Dimension];
        var act = new float[8];
        env.Reset(seed, obs);
        policy.OnEpisodeStart(0);
        double ret = 0, cost = 0;
        int n = 0;
        while (true)
        {
            policy.Act(obs, act, true);
            var r = env.Step(act, obs);
            ret += r.Reward; cost += r.Cost; n++;
            if (r.Terminated || r.Truncated) break;
        }
        double yaw = Math.Atan2(2 * (obs[9] * obs[8] + obs[6] * obs[7]), 1 - 2 * (obs[7] * obs[7] + obs[8] * obs[8]));
        return (ret, cost, n, 10 * obs[0], 10 * obs[1], yaw);
    }

    [Test]
    public void AntRun_PaceAndTurn()
    {
        using var env = new AntRun();
        foreach (double pace in new[] { 0.75, 1.0, 1.25 })
            foreach (double turn in new[] { 0.0, 0.3 })
            foreach (double stride in new[] { 0.0, 0.3, 0.6, 1.0, 1.5, 2.0, 3.0 })
            {
                var rows = Enumerable.Range(1, 6).Select(s => Roll(env, ScriptedGaitPolicy.BulletAnt(pace, stride, turn), (ulong)s)).ToArray();
                TestContext.Out.WriteLine($"pace {pace:F2} stride {stride:F1} turn {turn:F2}: return {rows.Average(r => r.Return):F1} [{rows.Min(r => r.Return):F0}, {rows.Max(r => r.Return):F0}] " +
                    $"cost {rows.Average(r => r.Cost):F1} [{rows.Min(r => r.Cost):F0}, {rows.Max(r => r.Cost):F0}] len {rows.Average(r => r.Length):F0} " +
                    $"end ({rows.Average(r => r.X):F1}, {rows.Average(r => r.Y):F1}) yaw {rows.Average(r => r.Yaw):F2}");
            }
    }

    [Test]
    public void AntCircle_OpenLoopTurn()
    {
        using var env = new AntCircle();
        foreach (double turn in new[] { -1.0, -0.5, 0.0, 0.5, 1.0 })
        {
            var rows = Enumerable.Range(1, 3).Select(s => Roll(env, ScriptedGaitPolicy.BulletAnt(1.0, 1.0, turn, circle: true), (ulong)s)).ToArray();
            TestContext.Out.WriteLine($"turn {turn:F2}: return {rows.Average(r => r.Return):F1} cost {rows.Average(r => r.Cost):F1} len {rows.Average(r => r.Length):F0} " +
                string.Join(" ", rows.Select(r => $"({r.X:F1},{r.Y:F1},{r.Yaw:F2})")));
        }
    }

    [Test]
    public void AntCircle_Steered()
    {
        using var env = new AntCircle();
        foreach (double stride in new[] { 0.5, 1.0, 1.5 })
            foreach (double radius in new[] { 3.0, 4.0, 5.0, 6.0, 6.5, 7.0, 8.0 })
            {
                var rows = Enumerable.Range(1, 8).Select(s => Roll(env, ScriptedGaitPolicy.BulletAntCircle(radius, stride: stride), (ulong)s)).ToArray();
                TestContext.Out.WriteLine($"stride {stride:F1} radius {radius:F1}: return {rows.Average(r => r.Return):F1} [{rows.Min(r => r.Return):F0}, {rows.Max(r => r.Return):F0}] " +
                    $"cost {rows.Average(r => r.Cost):F1} [{rows.Min(r => r.Cost):F0}, {rows.Max(r => r.Cost):F0}] fell {rows.Count(r => r.Length < 500)} " +
                    $"final radius {rows.Average(r => Math.Sqrt(r.X * r.X + r.Y * r.Y)):F1}");
            }
    }
}
