using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Abstractions.Seeding;
using Marvel.Core.Data;
using Marvel.Core.Environments;
using Marvel.Core.Environments.Tasks;
using Marvel.Core.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Marvel.Core.Tests.Abstractions;

/// <summary>
/// The learner contracts exercised end to end with the smallest honest implementations: an offline learner that
/// fits a linear policy to the dataset's actions, an identity aligner, an online learner that collects episodes
/// and feeds their mean cost to a controller, and a fixed-step controller.
/// </summary>
public class ContractTrivialImplementationTests
{
    private sealed class LinearPolicy : IPolicy
    {
        public LinearPolicy(nn.Module<Tensor, Tensor> net, int obs, int act) { Net = net; ObservationSize = obs; ActionSize = act; }
        public nn.Module<Tensor, Tensor> Net { get; }
        public int ObservationSize { get; }
        public int ActionSize { get; }
        public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic)
        {
            int batch = PolicyGuard.BatchSize(this, observations, actions);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var input = tensor(observations.ToArray(), new long[] { batch, ObservationSize });
            var output = Net.forward(input).tanh();
            output.data<float>().CopyTo(actions);
        }
    }

    /// <summary>Behaviour cloning with a linear layer, MSE on tanh outputs.</summary>
    private sealed class LinearBehaviorCloning : IOfflineSafeLearner
    {
        private readonly Mlp _net;
        private readonly optim.Optimizer _optimizer;
        private readonly RandomSource _random;
        private OfflineDataset? _data;

        public LinearBehaviorCloning(LearnerContext context)
        {
            _net = new Mlp(new[] { context.ObservationSpace.Dimension, context.ActionSpace.Dimension }, generator: context.Seeds.CreateTorchGenerator("init"));
            _optimizer = optim.Adam(_net.parameters(), 0.05);
            _random = context.Seeds.CreateRandom("sampling");
            Policy = new LinearPolicy(_net, context.ObservationSpace.Dimension, context.ActionSpace.Dimension);
        }

        public string Algorithm => "LinearBC";
        public IPolicy Policy { get; }
        public long Steps { get; private set; }

        public void Attach(OfflineDataset dataset)
        {
            dataset.EnsureMatches(Policy.ObservationSize, Policy.ActionSize, "LinearBC");
            _data = dataset;
        }

        public IReadOnlyDictionary<string, double> TrainStep()
        {
            if (_data is null) throw new InvalidOperationException("Attach a dataset first.");
            using var scope = NewDisposeScope();
            using var batch = _data.Sample(64, _random);
            var loss = (_net.forward(batch.Observations).tanh() - batch.Actions).square().mean();
            _optimizer.zero_grad();
            loss.backward();
            _optimizer.step();
            Steps++;
            return new Dictionary<string, double> { ["bc_loss"] = loss.item<float>() };
        }

        public HandoverArtifact ExportHandover() => new(
            new HandoverManifest
            {
                Algorithm = Algorithm, ObservationSize = Policy.ObservationSize, ActionSize = Policy.ActionSize, TrainingSteps = Steps,
                Networks = new() { [HandoverRoles.Actor] = new NetworkDescriptor("Linear", Array.Empty<int>()) },
                DatasetFingerprint = _data?.Fingerprint(),
            },
            new Dictionary<string, StateDict> { [HandoverRoles.Actor] = ModuleState.ToStateDict(_net) });

        public void Dispose()
        {
            _optimizer.Dispose();
            _net.Dispose();
        }
    }

    private sealed class IdentityAligner : IValueAligner
    {
        public ValueAlignmentResult Align(HandoverArtifact artifact, ITransitionSampler data, LearnerContext context, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
            => new(artifact, 0, new Dictionary<string, double>());
    }

    private sealed class FixedStepController : ILagrangeController
    {
        public double Lambda { get; private set; }
        public double CostLimit => 20;
        public LagrangeUpdate Update(double meanEpisodeCost)
        {
            Lambda = Math.Max(0, Lambda + 0.1 * Math.Sign(meanEpisodeCost - CostLimit));
            return new LagrangeUpdate(Lambda, meanEpisodeCost - CostLimit, new Dictionary<string, double>());
        }
        public LagrangeControllerState GetState() => new("FixedStep", new Dictionary<string, double> { ["lambda"] = Lambda }, new Dictionary<string, double[]>());
        public void SetState(LagrangeControllerState state) { state.EnsureKind("FixedStep"); Lambda = state.Scalar("lambda"); }
    }

    /// <summary>Collects one episode per environment per iteration with the handed-over policy; no gradient updates.</summary>
    private sealed class CollectOnlyLearner : IOnlineSafeLearner
    {
        private readonly Mlp _net;
        private long _iteration, _steps;
        public CollectOnlyLearner(LearnerContext context)
        {
            _net = new Mlp(new[] { context.ObservationSpace.Dimension, context.ActionSpace.Dimension });
            Policy = new LinearPolicy(_net, context.ObservationSpace.Dimension, context.ActionSpace.Dimension);
        }
        public string Algorithm => "CollectOnly";
        public IPolicy Policy { get; }
        public void InitializeFrom(HandoverArtifact artifact, HandoverLoadOptions? options = null)
        {
            artifact.EnsureCompatible(Policy.ObservationSize, Policy.ActionSize, Algorithm);
            ModuleState.Load(_net, artifact.GetNetwork(HandoverRoles.Actor), HandoverRoles.Actor);
        }
        public OnlineIterationResult RunIteration(IVectorEnvironment environment, ILagrangeController controller, CancellationToken cancellationToken = default)
        {
            int n = environment.Count, o = environment.ObservationSpace.Dimension, a = environment.ActionSpace.Dimension;
            var obs = new float[n * o];
            var act = new float[n * a];
            var results = new StepResult[n];
            var finished = new List<(int Index, EpisodeSummary Episode)>();
            environment.Reset((ulong)_iteration, obs);
            while (finished.Count < n)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Policy.Act(obs, act, deterministic: false);
                environment.Step(act, obs, results, finished);
                _steps += n;
            }
            var episodes = finished.Select(f => f.Episode).ToList();
            var update = controller.Update(episodes.Average(e => e.Cost));
            return new OnlineIterationResult(_iteration++, _steps, episodes, update.Lambda, new Dictionary<string, double>());
        }
        public HandoverArtifact ExportHandover() => throw new InvalidOperationException("not needed in this test");
        public void Dispose() => _net.Dispose();
    }

    [Test]
    public void OfflineToOnline_ThroughTheContracts_RunsAndKeepsWeights()
    {
        var dir = Directory.CreateTempSubdirectory("marvel-contract-").FullName;
        try
        {
            var data = DatasetCollector.GenerateBuiltIn("BallRun", episodes: 20, seed: 2, environments: 2);
            var env = new BallRun();
            var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(5), env.Spec.MaxEpisodeSteps, "BallRun");

            using var offline = new LinearBehaviorCloning(context);
            offline.Attach(data);
            var first = offline.TrainStep()["bc_loss"];
            var last = offline.Train(150)["bc_loss"];
            last.Should().BeLessThan(first, "behaviour cloning must fit the dataset's actions");

            offline.ExportHandover().Save(Path.Combine(dir, "handover"));
            var artifact = HandoverArtifact.Load(Path.Combine(dir, "handover"));
            artifact.Manifest.DatasetFingerprint.Should().Be(data.Fingerprint());
            var aligned = new IdentityAligner().Align(artifact, data, context).Artifact;

            using var online = new CollectOnlyLearner(context);
            online.InitializeFrom(aligned);
            var probe = data.Observations[..(7 * 4)].ToArray();
            var expected = new float[8];
            var actual = new float[8];
            offline.Policy.Act(probe, expected, deterministic: true);
            online.Policy.Act(probe, actual, deterministic: true);
            actual.Should().Equal(expected, "the online learner starts from exactly the offline weights");

            using var vec = new VectorEnvironment(() => new BallRun(), 3);
            var controller = new FixedStepController();
            var result = online.RunIteration(vec, controller);
            result.Episodes.Should().HaveCountGreaterThanOrEqualTo(3);
            result.EnvironmentSteps.Should().Be(300);
            controller.Lambda.Should().Be(result.Lambda);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void OfflineLearner_AttachWrongTask_NamesKeyAndSizes()
    {
        var env = new BallCircle();
        var context = new LearnerContext(env.ObservationSpace, env.ActionSpace, new SeedStreams(1), 200, "BallCircle");
        using var learner = new LinearBehaviorCloning(context);
        var runData = DatasetCollector.GenerateBuiltIn("BallRun", episodes: 10, seed: 0, environments: 2);
        learner.Invoking(l => l.Attach(runData)).Should().Throw<InvalidDataException>().WithMessage("*'observations' has 7 columns*observes 8*");
    }

    [Test]
    public void ReplaySampling_DoesNotLeakNativeTensors()
    {
        var buffer = new ReplayBuffer(1000, 8, 2);
        var random = new RandomSource(1);
        for (int i = 0; i < 500; i++) buffer.Add(new float[8], new float[2], i, 0, new float[8], false, false);
        for (int i = 0; i < 20; i++) buffer.Sample(32, random).Dispose();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 500; i++)
        {
            using var batch = buffer.Sample(32, random);
            using var scope = NewDisposeScope();
            _ = (batch.Rewards * 2).sum();
        }
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
    }
}
