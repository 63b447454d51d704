using Marvel.Core.Abstractions;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Data.Dsrl;

namespace Marvel.Core.Tests.Data.Dsrl;

[TestFixture]
public sealed class DsrlFileAttributesTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "marvel-dsrl-attribute-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static readonly DsrlFileAttributes Full = new()
    {
        TaskId = "BallCircle", Recipe = "frontier", RecipeOptions = "{\"TrainingSteps\":800,\"Schedule\":\"Sweep\"}",
        LibraryVersion = "1.2.3.4", Seed = ulong.MaxValue,
    };

    [Test]
    public void Write_WithAttributes_ReadAttributesGivesThemBack()
    {
        var path = Path.Combine(_folder, "a.hdf5");
        DsrlFile.Write(SmallDataset(), path, Full);

        var back = DsrlFile.ReadAttributes(path);

        back.Should().Be(Full);
        back.IsEmpty.Should().BeFalse();
    }

    [Test]
    public void Write_WithAttributes_LeavesTheTransitionsAsWithout()
    {
        var with = Path.Combine(_folder, "with.hdf5");
        var without = Path.Combine(_folder, "without.hdf5");
        DsrlFile.Write(SmallDataset(), with, Full);
        DsrlFile.Write(SmallDataset(), without);

        DsrlFile.Read(with).Fingerprint().Should().Be(DsrlFile.Read(without).Fingerprint());
    }

    [Test]
    public void ReadAttributes_FileWithoutAttributes_IsEmpty()
    {
        var path = Path.Combine(_folder, "plain.hdf5");
        DsrlFile.Write(SmallDataset(), path);

        var back = DsrlFile.ReadAttributes(path);

        back.IsEmpty.Should().BeTrue();
        back.Should().Be(new DsrlFileAttributes());
    }

    [Test]
    public void Write_PartialAttributes_LeavesTheOthersOut()
    {
        var path = Path.Combine(_folder, "partial.hdf5");
        DsrlFile.Write(SmallDataset(), path, new DsrlFileAttributes { TaskId = "CarRun" });

        DsrlFile.ReadAttributes(path).Should().Be(new DsrlFileAttributes { TaskId = "CarRun" });
    }

    [Test]
    public void ReadForTask_FileOfAnotherTask_IsRefusedNamingBothIdsAndTheFix()
    {
        var path = Path.Combine(_folder, "ballcircle.hdf5");
        DsrlFile.Write(SmallDataset(), path, new DsrlFileAttributes { TaskId = "BallCircle" });

        Action act = () => DsrlFile.ReadForTask(path, new EnvironmentSpec("CarCircle", 300) { DsrlId = "OfflineCarCircle-v0" });

        act.Should().Throw<InvalidDataException>()
            .WithMessage("*ballcircle.hdf5*recorded on task 'BallCircle'*task 'CarCircle' was requested*marvel collect --task CarCircle*run task 'BallCircle'*");
    }

    [TestCase("BallCircle")]
    [TestCase("OfflineBallCircle-v0")]
    public void ReadForTask_FileOfTheTask_ByIdOrDsrlId_Loads(string recorded)
    {
        var path = Path.Combine(_folder, "ok.hdf5");
        DsrlFile.Write(SmallDataset(), path, new DsrlFileAttributes { TaskId = recorded });

        var data = DsrlFile.ReadForTask(path, new EnvironmentSpec("BallCircle", 200) { DsrlId = "OfflineBallCircle-v0" });

        data.Count.Should().Be(4);
    }

    [Test]
    public void ReadForTask_FileWithoutTaskId_LoadsAsDsrlFilesDo()
    {
        var path = Path.Combine(_folder, "dsrl.hdf5");
        DsrlFile.Write(SmallDataset(), path);

        DsrlFile.ReadForTask(path, new EnvironmentSpec("CarRun", 200)).Count.Should().Be(4);
    }

    /// <summary>4 rows, observation size 2, action size 1, one episode ending in a timeout.</summary>
    private static OfflineDataset SmallDataset()
    {
        const int rows = 4;
        var obs = Enumerable.Range(0, rows * 2).Select(i => i * 0.5f).ToArray();
        var next = obs.Select(v => v + 1f).ToArray();
        var act = Enumerable.Range(0, rows).Select(i => -i * 0.25f).ToArray();
        var rew = Enumerable.Range(0, rows).Select(i => (float)i).ToArray();
        var cost = Enumerable.Range(0, rows).Select(i => (float)(i % 2)).ToArray();
        var tout = new bool[rows];
        tout[rows - 1] = true;
        return new OfflineDataset(2, 1, obs, act, rew, cost, next, new bool[rows], tout, "small");
    }
}
