using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Algorithms.Online.PpoLag;
using Marvel.Core.Algorithms.Online.SacLag;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;
using Marvel.Core.Environments.Wrappers;
using Marvel.Core.Lagrange;

namespace Marvel.Core.Tests.Pipeline;

/// <summary>The pieces of a resume checkpoint, one at a time: replay buffer, environment state, SAC-Lag learner state.</summary>
public class CheckpointStateTests
{
    [Test]
    public void ReplayBuffer_SaveThenLoad_SamplesTheSameRowsAndKeepsTheCursor()
    {
        var buffer = new ReplayBuffer(capacity: 5, observationSize: 2, actionSize: 1);
        for (int i = 0; i < 7; i++) // wraps: rows 0 and 1 were overwritten by transitions 5 and 6
            buffer.Add([i, -i], [0.1f * i], i, i % 2, [i + 1, -i - 1], i == 6, i == 3);
        using var memory = new MemoryStream();
        buffer.Save(memory);
        memory.Position = 0;
        var copy = new ReplayBuffer(5, 2, 1);

        copy.Load(memory);

        copy.Count.Should().Be(5);
        copy.TotalAdded.Should().Be(7);
        using (var a = buffer.Sample(16, new RandomSource(3)))
        using (var b = copy.Sample(16, new RandomSource(3)))
        {
            a.Observations.data<float>().ToArray().Should().Equal(b.Observations.data<float>().ToArray());
            a.Rewards.data<float>().ToArray().Should().Equal(b.Rewards.data<float>().ToArray());
            a.Terminated.data<float>().ToArray().Should().Equal(b.Terminated.data<float>().ToArray());
            a.Truncated.data<float>().ToArray().Should().Equal(b.Truncated.data<float>().ToArray());
        }
        // The cursor survived: the next add overwrites the same slot in both.
        buffer.Add([9, 9], [0.9f], 9, 1, [9, 9], false, false);
        copy.Add([9, 9], [0.9f], 9, 1, [9, 9], false, false);
        using var x = buffer.Sample(32, new RandomSource(4));
        using var y = copy.Sample(32, new RandomSource(4));
        x.Rewards.data<float>().ToArray().Should().Equal(y.Rewards.data<float>().ToArray());
    }

    [Test]
    public void ReplayBuffer_LoadIntoOtherCapacity_FailsNamingTheSizes()
    {
        var buffer = new ReplayBuffer(5, 2, 1);
        buffer.Add([1, 2], [0.5f], 1, 0, [2, 3], false, false);
        using var memory = new MemoryStream();
        buffer.Save(memory);
        memory.Position = 0;

        FluentActions.Invoking(() => new ReplayBuffer(6, 2, 1).Load(memory, "replay.bin"))
            .Should().Throw<InvalidDataException>().WithMessage("*replay.bin*capacity 5*ReplayCapacity*");
    }

    [TestCase("BallCircle")]
    [TestCase("CarRun")]
    public void VectorEnvironment_StateSavedMidEpisode_ContinuesIdentically(string task)
    {
        using var original = EnvironmentRegistry.Default.MakeVector(task, 2);
        var obs = new float[2 * original.ObservationSpace.Dimension];
        var results = new StepResult[2];
        original.Reset(42, obs);
        var actions = new float[2 * original.ActionSpace.Dimension];
        var rng = new RandomSource(1);
        void RandomActions() { for (int i = 0; i < actions.Length; i++) actions[i] = (float)rng.NextDouble(-1, 1); }
        for (int t = 0; t < 37; t++) { RandomActions(); original.Step(actions, obs, results); }
        using var memory = new MemoryStream();
        using (var w = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true)) original.SaveState(w);
        using var restored = EnvironmentRegistry.Default.MakeVector(task, 2);
        memory.Position = 0;
        using (var r = new BinaryReader(memory)) restored.LoadState(r);

        // Past the horizon, so the auto-reset (which draws from each task's restored generator) is covered too.
        var obsA = obs.ToArray();
        var obsB = obs.ToArray();
        var finishedA = new List<(int, EpisodeSummary)>();
        var finishedB = new List<(int, EpisodeSummary)>();
        for (int t = 0; t < original.Spec.MaxEpisodeSteps + 20; t++)
        {
            RandomActions();
            original.Step(actions, obsA, results, finishedA);
            var resultA = results.ToArray();
            restored.Step(actions, obsB, results, finishedB);
            obsB.Should().Equal(obsA, $"step {t}");
            results.Should().Equal(resultA);
        }
        finishedA.Should().HaveCount(2).And.Equal(finishedB, "episode sums restart from the saved partial returns and costs");
    }

    [Test]
    public void Wrappers_SaveTheirOwnStateThenTheInnerOne()
    {
        IEnvironment Make() => new NormalizeObservation(new TimeLimit(new BallRun(), 50));
        using var a = Make();
        var obs = new float[a.ObservationSpace.Dimension];
        a.Reset(3, obs);
        for (int t = 0; t < 20; t++) a.Step([0.5f, -0.2f], obs);
        var state = (ICheckpointableEnvironment)a;
        state.CanSaveState.Should().BeTrue();
        using var memory = new MemoryStream();
        using (var w = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true)) state.SaveState(w);
        using var b = Make();
        memory.Position = 0;
        using (var r = new BinaryReader(memory)) ((ICheckpointableEnvironment)b).LoadState(r);

        var obsA = new float[obs.Length];
        var obsB = new float[obs.Length];
        StepResult ra = default, rb = default;
        for (int t = 20; t < 50; t++)
        {
            ra = a.Step([0.5f, -0.2f], obsA);
            rb = b.Step([0.5f, -0.2f], obsB);
            obsB.Should().Equal(obsA);
        }
        ra.Truncated.Should().BeTrue("the restored TimeLimit counts from 20, so step 50 truncates");
        rb.Should().Be(ra);
        ((NormalizeObservation)b).Statistics.GetState().Mean.Should().Equal(((NormalizeObservation)a).Statistics.GetState().Mean);
    }

    [Test]
    public void Wrapper_AroundAnEnvironmentWithoutState_CannotSave_AndSaysWhich()
    {
        using var wrapped = new TimeLimit(new Algorithms.Online.CounterEnvironment(5), 5);
        wrapped.CanSaveState.Should().BeFalse();
        using var w = new BinaryWriter(new MemoryStream());
        FluentActions.Invoking(() => wrapped.SaveState(w)).Should().Throw<NotSupportedException>().WithMessage("*CounterEnvironment*ICheckpointableEnvironment*");
        using var vector = new VectorEnvironment([new Algorithms.Online.CounterEnvironment(5)]);
        vector.CanSaveState.Should().BeFalse();
    }

    [Test]
    public void Environment_LoadStateOfAnotherTask_FailsNamingBoth()
    {
        using var circle = new BallCircle();
        var obs = new float[8];
        circle.Reset(1, obs);
        using var memory = new MemoryStream();
        using (var w = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true)) circle.SaveState(w);
        memory.Position = 0;
        using var car = new CarCircle();
        using var r = new BinaryReader(memory);

        FluentActions.Invoking(() => car.LoadState(r)).Should().Throw<InvalidDataException>().WithMessage("*BallCircle*CarCircle*");
    }

    private static SacLagOptions Tiny(bool autoTune = true) => new()
    {
        ActorHiddenSizes = [8], CriticHiddenSizes = [8], CostCriticHiddenSizes = [8], BatchSize = 16, MiniBatches = 2, Schedule = SacLagSchedule.StepBased,
        UpdateEveryNSteps = 30, UpdatesPerIteration = 2, ReplayCapacity = 1000, AutoTuneAlpha = autoTune, Alpha = 0.1,
    };

    [Test]
    public void SacLag_CheckpointInTheMiddleOfAnEpisode_ContinuesBitIdentically()
    {
        var context = OnlineCheckpointContext();
        using var envA = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
        using var learnerA = new SacLagLearner(context, Tiny());
        var controllerA = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 1, Kp = 0.1, Ki = 0.1 });
        for (int i = 0; i < 3; i++) learnerA.RunIteration(envA, controllerA);
        var dir = Path.Combine(Path.GetTempPath(), "marvel-checkpoint-tests", Guid.NewGuid().ToString("N"));
        try
        {
            learnerA.SaveCheckpoint(dir);
            using var envState = new MemoryStream();
            using (var w = new BinaryWriter(envState, System.Text.Encoding.UTF8, leaveOpen: true)) envA.SaveState(w);
            var controllerState = controllerA.GetState();

            using var envB = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
            envState.Position = 0;
            using (var r = new BinaryReader(envState)) envB.LoadState(r);
            using var learnerB = new SacLagLearner(context, Tiny());
            learnerB.LoadCheckpoint(dir);
            var controllerB = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 1, Kp = 0.1, Ki = 0.1 });
            controllerB.SetState(controllerState);

            for (int i = 0; i < 3; i++)
            {
                var a = learnerA.RunIteration(envA, controllerA);
                var b = learnerB.RunIteration(envB, controllerB);
                b.Metrics.Should().Equal(a.Metrics, $"iteration {i} after the checkpoint");
                b.Episodes.Should().Equal(a.Episodes);
            }
            var exportA = learnerA.ExportHandover();
            var exportB = learnerB.ExportHandover();
            foreach (var role in exportA.Networks.Keys)
                exportB.Networks[role].ContentEquals(exportA.Networks[role]).Should().BeTrue(role);
            learnerB.Alpha.Should().Be(learnerA.Alpha);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void PpoLag_CheckpointInTheMiddleOfAnEpisode_ContinuesBitIdentically()
    {
        // 150 steps per iteration on 2 environments of BallRun (horizon 100): iterations end mid-episode.
        var options = new PpoLagOptions { ActorHiddenSizes = [8], CriticHiddenSizes = [8], StepsPerIteration = 150, UpdateEpochs = 2, MiniBatchSize = 50 };
        var context = OnlineCheckpointContext();
        using var envA = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
        using var learnerA = new PpoLagLearner(context, options);
        var controllerA = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 1, Kp = 0.1, Ki = 0.1 });
        for (int i = 0; i < 2; i++) learnerA.RunIteration(envA, controllerA);
        var dir = Path.Combine(Path.GetTempPath(), "marvel-checkpoint-tests", Guid.NewGuid().ToString("N"));
        try
        {
            learnerA.SaveCheckpoint(dir);
            using var envState = new MemoryStream();
            using (var w = new BinaryWriter(envState, System.Text.Encoding.UTF8, leaveOpen: true)) envA.SaveState(w);
            using var envB = EnvironmentRegistry.Default.MakeVector("BallRun", 2);
            envState.Position = 0;
            using (var r = new BinaryReader(envState)) envB.LoadState(r);
            using var learnerB = new PpoLagLearner(context, options);
            learnerB.LoadCheckpoint(dir);
            var controllerB = new PidLagrangeController(new PidLagrangeOptions { CostLimit = 1, Kp = 0.1, Ki = 0.1 });
            controllerB.SetState(controllerA.GetState());

            for (int i = 0; i < 3; i++)
            {
                var a = learnerA.RunIteration(envA, controllerA);
                var b = learnerB.RunIteration(envB, controllerB);
                b.Metrics.Should().Equal(a.Metrics, $"iteration {i} after the checkpoint");
                b.Episodes.Should().Equal(a.Episodes);
            }
            var exportA = learnerA.ExportHandover();
            var exportB = learnerB.ExportHandover();
            foreach (var role in exportA.Networks.Keys)
                exportB.Networks[role].ContentEquals(exportA.Networks[role]).Should().BeTrue(role);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void SacLag_LoadCheckpointWithOtherOptions_FailsNamingTheOption()
    {
        var context = OnlineCheckpointContext();
        var dir = Path.Combine(Path.GetTempPath(), "marvel-checkpoint-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using (var learner = new SacLagLearner(context, Tiny())) learner.SaveCheckpoint(dir);
            using var other = new SacLagLearner(context, Tiny() with { Tau = 0.01 });

            FluentActions.Invoking(() => other.LoadCheckpoint(dir)).Should().Throw<InvalidDataException>().WithMessage("*SacLagOptions.Tau*");
            File.Delete(Path.Combine(dir, "networks", "actor.bin"));
            using var same = new SacLagLearner(context, Tiny());
            FluentActions.Invoking(() => same.LoadCheckpoint(dir)).Should().Throw<InvalidDataException>().WithMessage("*actor.bin*incomplete*");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static LearnerContext OnlineCheckpointContext()
    {
        using var env = EnvironmentRegistry.Default.Make("BallRun");
        return new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(9), env.Spec.MaxEpisodeSteps, "BallRun");
    }
}
