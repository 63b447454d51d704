using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Policies;

namespace Marvel.Core.Tests.Data;

[TestFixture]
public sealed class RecordingVectorEnvironmentTests
{
    [Test]
    public void Recorder_DrivenLikeTheCollector_RecordsTheSameEpisodes()
    {
        // The collector's stage 0 resets with Derive(seed, "collect/0") and keeps episodes in the order they end; a deterministic
        // scripted policy driven through the recorder from the same reset must leave exactly those episodes behind.
        const ulong seed = 9;
        var policy = ScriptedTaskPolicy.Run("BallRun", targetSpeed: 2.5);
        using var collectorEnvironment = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
        var expected = DatasetCollector.CollectEpisodes(collectorEnvironment, [new CollectionStage(policy, 4, Deterministic: true)], seed);

        using var inner = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
        var recorder = new RecordingVectorEnvironment(inner);
        int obs = recorder.ObservationSpace.Dimension, act = recorder.ActionSpace.Dimension;
        var observations = new float[2 * obs];
        var actions = new float[2 * act];
        var results = new StepResult[2];
        recorder.Reset(SeedStreams.Derive(seed, "collect/0"), observations);
        var finished = new List<(int, EpisodeSummary)>();
        while (recorder.FinishedCount < 4)
        {
            policy.Act(observations, actions, deterministic: true);
            recorder.Step(actions, observations, results, finished);
        }
        var recorded = recorder.TakeFinished().Take(4).ToList();

        recorded.Should().HaveCount(4);
        for (int k = 0; k < 4; k++)
        {
            recorded[k].Observations.Should().Equal(expected[k].Observations);
            recorded[k].Actions.Should().Equal(expected[k].Actions);
            recorded[k].Rewards.Should().Equal(expected[k].Rewards);
            recorded[k].Costs.Should().Equal(expected[k].Costs);
            recorded[k].NextObservations.Should().Equal(expected[k].NextObservations);
            recorded[k].Terminals.Should().Equal(expected[k].Terminals);
            recorded[k].Timeouts.Should().Equal(expected[k].Timeouts);
        }
        finished.Should().HaveCountGreaterThanOrEqualTo(4, "the inner environment's summaries still reach the caller");
        recorder.FinishedCount.Should().Be(0, "TakeFinished hands the episodes out once");
    }

    [Test]
    public void Step_BeforeReset_SaysToReset()
    {
        using var inner = EnvironmentRegistry.Default.MakeVector("BallRun", 1);
        var recorder = new RecordingVectorEnvironment(inner);

        Action act = () => recorder.Step(new float[recorder.ActionSpace.Dimension], new float[recorder.ObservationSpace.Dimension], new StepResult[1]);

        act.Should().Throw<InvalidOperationException>().WithMessage("*before its first Reset*");
    }

    [Test]
    public void RecordedEpisode_ReturnAndCost_AreTheSums()
    {
        // Rewards 1 + 2.5 − 0.5 = 3; costs 0 + 1 + 1 = 2.
        var e = new RecordedEpisode([0, 0, 0], [0, 0, 0], [1f, 2.5f, -0.5f], [0f, 1f, 1f], [0, 0, 0], [false, false, false], [false, false, true]);

        (e.Return, e.Cost, e.Length).Should().Be((3.0, 2.0, 3));
    }
}
