using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.IO;
using Marvel.Core.Abstractions.Learning;

namespace Marvel.Core.Tests.Abstractions;

public class PersistenceTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("marvel-persist-").FullName;

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void AtomicWrite_FailureMidWrite_KeepsPreviousFileAndLeavesNoTemp()
    {
        var path = Path.Combine(_dir, "data.bin");
        AtomicFile.WriteAllText(path, "old content");
        FluentActions.Invoking(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[] { 1, 2, 3 });
            throw new IOException("disk full (simulated)");
        })).Should().Throw<IOException>();
        File.ReadAllText(path).Should().Be("old content");
        Directory.GetFiles(_dir).Should().ContainSingle();
    }

    [Test]
    public void AtomicDirectory_FailureMidWrite_KeepsPreviousFolder()
    {
        var target = Path.Combine(_dir, "artifact");
        AtomicFile.WriteDirectory(target, d => File.WriteAllText(Path.Combine(d, "a.txt"), "v1"));
        FluentActions.Invoking(() => AtomicFile.WriteDirectory(target, d =>
        {
            File.WriteAllText(Path.Combine(d, "a.txt"), "v2-partial");
            throw new InvalidOperationException("crash (simulated)");
        })).Should().Throw<InvalidOperationException>();
        File.ReadAllText(Path.Combine(target, "a.txt")).Should().Be("v1");
        Directory.GetDirectories(_dir).Should().ContainSingle();
    }

    [Test]
    public void AtomicDirectory_KilledBetweenTheTwoRenames_NextWriteRestoresNothingLostAndCleansLeftovers()
    {
        var target = Path.Combine(_dir, "artifact");
        AtomicFile.WriteDirectory(target, d => File.WriteAllText(Path.Combine(d, "a.txt"), "v1"));
        SimulateKillBetweenRenames(target, "v2");

        AtomicFile.WriteDirectory(target, d => File.WriteAllText(Path.Combine(d, "a.txt"), "v3"));

        File.ReadAllText(Path.Combine(target, "a.txt")).Should().Be("v3");
        Directory.GetDirectories(_dir).Should().Equal(target);
    }

    [Test]
    public void HandoverArtifact_Load_AfterAKillBetweenTheTwoRenames_LoadsThePreviousCopyAndCleansLeftovers()
    {
        var path = Path.Combine(_dir, "handover");
        SampleArtifact().Save(path);
        SimulateKillBetweenRenames(path, "half-written");

        var loaded = HandoverArtifact.Load(path);

        loaded.Manifest.Algorithm.Should().Be("Test");
        Directory.GetDirectories(_dir).Should().Equal(path);
    }

    // What the folder swap leaves when the process dies after 'target → .old' and before '.tmp → target'.
    private void SimulateKillBetweenRenames(string target, string newContent)
    {
        var name = Path.GetFileName(target);
        var temp = Path.Combine(_dir, $".{name}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        File.WriteAllText(Path.Combine(temp, "a.txt"), newContent);
        Directory.Move(target, Path.Combine(_dir, $".{name}.{Guid.NewGuid():N}.old"));
        Directory.Exists(target).Should().BeFalse();
    }

    [Test]
    public void HandoverArtifact_Load_NaNWeight_NamesFileAndTensor()
    {
        var artifact = SampleArtifact();
        var bad = new StateDict(new[]
        {
            new NamedTensor("net.0.weight", new long[] { 2, 3 }, new[] { 1f, 2f, float.NaN, 4f, 5f, 6f }),
            new NamedTensor("net.0.bias", new long[] { 2 }, new[] { -0.5f, 0.25f }),
        });
        var path = Path.Combine(_dir, "nan");
        artifact.With(networks: new Dictionary<string, StateDict> { [HandoverRoles.Actor] = bad }).Save(path);

        FluentActions.Invoking(() => HandoverArtifact.Load(path)).Should().Throw<InvalidDataException>()
            .WithMessage("*actor.bin*tensor 'net.0.weight' [2, 3] holds NaN at flat index 2*");
    }

    [Test]
    public void HandoverArtifact_Load_ManifestObservationSizeDisagreesWithTheWeights_NamesFileAndTensor()
    {
        // A critic ensemble's first layer takes observation + action: 3 + 1 = 4 inputs, but the manifest says 5 + 1.
        var critic = new StateDict(new[]
        {
            new NamedTensor("members.0.net.0.weight", new long[] { 2, 4 }, new float[8]),
            new NamedTensor("members.0.net.0.bias", new long[] { 2 }, new float[2]),
        });
        var manifest = new HandoverManifest
        {
            Algorithm = "Test", ObservationSize = 5, ActionSize = 1,
            Networks = new() { [HandoverRoles.RewardCritic] = new NetworkDescriptor("QEnsemble", new[] { 2 }, 1) },
        };
        var path = Path.Combine(_dir, "sizes");
        new HandoverArtifact(manifest, new Dictionary<string, StateDict> { [HandoverRoles.RewardCritic] = critic }).Save(path);

        FluentActions.Invoking(() => HandoverArtifact.Load(path)).Should().Throw<InvalidDataException>()
            .WithMessage("*reward_critic.bin*tensor 'members.0.net.0.weight' [2, 4] takes 4 inputs*ObservationSize 5 + ActionSize 1 takes 6*");
    }

    [Test]
    public void HandoverArtifact_Load_TruncatedOptimizerFile_NamesTheFile_AndAWholeOneLoads()
    {
        var linear = TorchSharp.torch.nn.Linear(3, 2);
        using var adam = TorchSharp.torch.optim.Adam(linear.parameters(), 1e-3);
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            adam.zero_grad();
            linear.forward(TorchSharp.torch.ones(4, 3)).sum().backward();
            adam.step();
        }
        var bytes = Marvel.Core.Networks.ModuleState.SaveOptimizer(adam);
        var path = Path.Combine(_dir, "optimizer");
        SampleArtifact().With(optimizerStates: new Dictionary<string, byte[]> { [HandoverRoles.Actor] = bytes }).Save(path);
        HandoverArtifact.Load(path).OptimizerStates[HandoverRoles.Actor].Should().Equal(bytes);

        var file = Path.Combine(path, "optimizers", "actor.bin");
        File.WriteAllBytes(file, bytes[..(bytes.Length - 5)]);

        FluentActions.Invoking(() => HandoverArtifact.Load(path)).Should().Throw<InvalidDataException>()
            .WithMessage($"Optimizer state '{file}' is truncated*inside the state of parameter 1 (exp_avg_sq)*");
    }

    private static HandoverArtifact SampleArtifact()
    {
        var actor = new StateDict(new[]
        {
            new NamedTensor("net.0.weight", new long[] { 2, 3 }, new[] { 1f, 2f, 3f, 4f, 5f, 6f }),
            new NamedTensor("net.0.bias", new long[] { 2 }, new[] { -0.5f, 0.25f }),
        });
        var manifest = new HandoverManifest
        {
            Algorithm = "Test",
            ObservationSize = 3,
            ActionSize = 2,
            CostLimit = 20,
            Networks = new() { [HandoverRoles.Actor] = new NetworkDescriptor("Linear", new[] { 2 }) },
            Lagrange = new LagrangeControllerState("Fixed", new Dictionary<string, double> { ["lambda"] = 0.5 }, new Dictionary<string, double[]> { ["delay"] = new[] { 1.0, 2.0 } }),
            ObservationNormalizer = new RunningMeanStdState(new[] { 0.0, 1, 2 }, new[] { 1.0, 1, 1 }, 10),
        };
        return new HandoverArtifact(manifest, new Dictionary<string, StateDict> { [HandoverRoles.Actor] = actor },
            new Dictionary<string, byte[]> { [HandoverRoles.Actor] = new byte[] { 9, 8, 7 } });
    }

    [Test]
    public void HandoverArtifact_SaveLoad_RoundTripsEverything()
    {
        var artifact = SampleArtifact();
        var path = Path.Combine(_dir, "handover");
        artifact.Save(path);
        var loaded = HandoverArtifact.Load(path);
        loaded.GetNetwork(HandoverRoles.Actor).ContentEquals(artifact.GetNetwork(HandoverRoles.Actor)).Should().BeTrue();
        loaded.OptimizerStates[HandoverRoles.Actor].Should().Equal(9, 8, 7);
        loaded.Manifest.CostLimit.Should().Be(20);
        loaded.Manifest.Lagrange!.Scalar("lambda").Should().Be(0.5);
        loaded.Manifest.Lagrange.Array("delay").Should().Equal(1.0, 2.0);
        loaded.Manifest.ObservationNormalizer!.Mean.Should().Equal(0, 1, 2);
        loaded.Manifest.LibraryVersion.Should().NotBeNullOrEmpty();
        loaded.Manifest.Runtime.Should().ContainKeys("marvelCore", "torchSharp", "libtorch", "cpuKernelCapability", "torchThreads");
        loaded.Manifest.Runtime!["libtorch"].Should().Be(TorchSharp.torch.__version__);
    }

    [Test]
    public void HandoverArtifact_Load_MissingManifest_SaysIncomplete()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "half"));
        FluentActions.Invoking(() => HandoverArtifact.Load(Path.Combine(_dir, "half"))).Should().Throw<InvalidDataException>().WithMessage("*manifest.json*missing*");
    }

    [Test]
    public void HandoverArtifact_Load_OtherFormatVersion_NamesBothVersions()
    {
        var path = Path.Combine(_dir, "v99");
        SampleArtifact().Save(path);
        var manifest = Path.Combine(path, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"FormatVersion\": 1", "\"FormatVersion\": 99"));
        FluentActions.Invoking(() => HandoverArtifact.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*format version 99*reads format 1*");
    }

    [Test]
    public void HandoverArtifact_Load_TruncatedNetworkFile_NamesTheFile()
    {
        var path = Path.Combine(_dir, "trunc");
        SampleArtifact().Save(path);
        var file = Path.Combine(path, "networks", "actor.bin");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length - 5)]);
        FluentActions.Invoking(() => HandoverArtifact.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*actor.bin*truncated*");
    }

    [Test]
    public void HandoverArtifact_Load_MissingNetworkFile_NamesRole()
    {
        var path = Path.Combine(_dir, "nofile");
        SampleArtifact().Save(path);
        File.Delete(Path.Combine(path, "networks", "actor.bin"));
        FluentActions.Invoking(() => HandoverArtifact.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*network 'actor'*missing*");
    }

    [Test]
    public void HandoverArtifact_EnsureCompatible_RejectsOtherSizes() =>
        FluentActions.Invoking(() => SampleArtifact().EnsureCompatible(8, 2, "SAC-Lag")).Should().Throw<InvalidDataException>().WithMessage("SAC-Lag:*observation size 3*this task has 8*");

    [Test]
    public void StateDict_RejectsShapeValueMismatch() =>
        FluentActions.Invoking(() => new StateDict(new[] { new NamedTensor("w", new long[] { 2, 2 }, new float[3]) })).Should().Throw<ArgumentException>().WithMessage("*'w'*[2, 2]*3 values*");

    [Test]
    public void LagrangeState_WrongKind_Throws()
    {
        var state = new LagrangeControllerState("Pid", new Dictionary<string, double>(), new Dictionary<string, double[]>());
        FluentActions.Invoking(() => state.EnsureKind("DualAscent")).Should().Throw<ArgumentException>().WithMessage("*'Pid'*'DualAscent'*");
        FluentActions.Invoking(() => state.Scalar("lambda")).Should().Throw<ArgumentException>().WithMessage("*no scalar 'lambda'*");
    }
}
