using System.Diagnostics;
using System.Runtime.InteropServices;
using Marvel.Core.Abstractions.Learning;
using Marvel.Core.Data.Dsrl;
using PureHDF;

namespace Marvel.Core.Tests.Data.Dsrl;

[TestFixture]
public sealed class DsrlFileTests
{
    private const string SystemPython = "/usr/bin/python3";

    // The h5py-written fixture (tests/Marvel.Core.Tests/Fixtures/make_dsrl_fixture.py): 17 rows, observation size 8,
    // action size 2; episodes of 5, 4 and 6 steps and an unfinished 2-step tail.
    private static string FixturePath =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "dsrl_ballcircle_small.hdf5");

    private string _folder = "";

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "marvel-dsrl-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    // ---- The independent (h5py) fixture ------------------------------------------------------------------------

    [Test]
    public void Read_H5pyFixture_HasTheScriptsShapesAndValues()
    {
        var data = DsrlFile.Read(FixturePath, expectedObservationSize: 8, expectedActionSize: 2);

        data.Count.Should().Be(17);
        data.ObservationSize.Should().Be(8);
        data.ActionSize.Should().Be(2);
        data.Source.Should().Be(Path.GetFullPath(FixturePath));

        // observations[i, j] = i + j/8; next_observations[i, j] = i + 1 + j/8.
        data.ObservationAt(3).ToArray().Should().Equal(3f, 3.125f, 3.25f, 3.375f, 3.5f, 3.625f, 3.75f, 3.875f);
        data.Observations[16 * 8 + 7].Should().Be(16.875f);
        data.NextObservations[0].Should().Be(1f);
        data.NextObservations[16 * 8 + 7].Should().Be(17.875f);
        // actions[i] = [t/4, -e/2]: row 7 is e = 1, t = 2 -> [0.5, -0.5]; row 14 is e = 2, t = 5 -> [1.25, -1].
        data.Actions.Slice(7 * 2, 2).ToArray().Should().Equal(0.5f, -0.5f);
        data.Actions.Slice(14 * 2, 2).ToArray().Should().Equal(1.25f, -1f);
        // rewards[i] = e + t/2.
        data.Rewards.ToArray().Should().Equal(0f, 0.5f, 1f, 1.5f, 2f, 1f, 1.5f, 2f, 2.5f, 2f, 2.5f, 3f, 3.5f, 4f, 4.5f, 3f, 3.5f);
        // costs[i] = 1 where i % 3 == 0.
        data.Costs.ToArray().Should().Equal(1f, 0f, 0f, 1f, 0f, 0f, 1f, 0f, 0f, 1f, 0f, 0f, 1f, 0f, 0f, 1f, 0f);
        // h5py's numpy bool (an HDF5 enum over int8) decodes to true only at rows 8 (terminal) and 4, 14 (timeouts).
        RowsWhere(data.Terminals).Should().Equal(8);
        RowsWhere(data.Timeouts).Should().Equal(4, 14);
    }

    [Test]
    public void Read_H5pyFixture_SplitsEpisodesAtTerminalsAndTimeoutsAndDropsTheTail()
    {
        var episodes = DsrlFile.Read(FixturePath).Episodes;

        // Episode 0, rows 0-4:  return 0 + 0.5 + 1 + 1.5 + 2 = 5,          cost rows 0, 3 = 2, ends by timeout (row 4).
        // Episode 1, rows 5-8:  return 1 + 1.5 + 2 + 2.5 = 7,              cost row 6 = 1,     ends by terminal (row 8).
        // Episode 2, rows 9-14: return 2 + 2.5 + 3 + 3.5 + 4 + 4.5 = 19.5, cost rows 9, 12 = 2, ends by timeout (row 14).
        // Rows 15-16 carry no flag and belong to no episode.
        episodes.Should().Equal(
            new DatasetEpisode(0, 5, 5.0, 2.0, EndedByTermination: false),
            new DatasetEpisode(5, 4, 7.0, 1.0, EndedByTermination: true),
            new DatasetEpisode(9, 6, 19.5, 2.0, EndedByTermination: false));
    }

    // ---- Writing -----------------------------------------------------------------------------------------------

    [Test]
    public void Write_ThenRead_ArraysAreBitIdentical()
    {
        var original = TrickyDataset();
        var path = Path.Combine(_folder, "nested", "roundtrip.hdf5");

        DsrlFile.Write(original, path);
        var back = DsrlFile.Read(path, original.ObservationSize, original.ActionSize);

        back.Count.Should().Be(original.Count);
        back.ObservationSize.Should().Be(original.ObservationSize);
        back.ActionSize.Should().Be(original.ActionSize);
        Bits(back.Observations).Should().Equal(Bits(original.Observations));
        Bits(back.NextObservations).Should().Equal(Bits(original.NextObservations));
        Bits(back.Actions).Should().Equal(Bits(original.Actions));
        Bits(back.Rewards).Should().Equal(Bits(original.Rewards));
        Bits(back.Costs).Should().Equal(Bits(original.Costs));
        back.Terminals.ToArray().Should().Equal(original.Terminals.ToArray());
        back.Timeouts.ToArray().Should().Equal(original.Timeouts.ToArray());
        back.Fingerprint().Should().Be(original.Fingerprint());
    }

    [Test]
    public void Write_ThenRead_H5pyFixtureSurvivesUnchanged()
    {
        var original = DsrlFile.Read(FixturePath);
        var path = Path.Combine(_folder, "copy.hdf5");

        DsrlFile.Write(original, path);

        DsrlFile.Read(path).Fingerprint().Should().Be(original.Fingerprint());
    }

    [Test]
    public void Write_FailingBeforeTheRename_LeavesTheExistingFileIntactAndNoTemporaryFile()
    {
        var path = Path.Combine(_folder, "data.hdf5");
        var first = SmallDataset(rows: 6);
        DsrlFile.Write(first, path);
        var before = File.ReadAllBytes(path);

        // The second write fails after its HDF5 content is complete, just before the temporary file replaces the target.
        Action act = () => DsrlWriter.Write(SmallDataset(rows: 9), path, beforeCommit: _ => throw new IOException("disk full (simulated)"));

        act.Should().Throw<IOException>().WithMessage("*simulated*");
        File.ReadAllBytes(path).Should().Equal(before);
        DsrlFile.Read(path).Fingerprint().Should().Be(first.Fingerprint());
        Directory.GetFiles(_folder).Should().Equal(path);
    }

    [Test]
    [Category("Interop")]
    public void Write_OutputIsReadByH5pyAsDsrlWouldReadIt()
    {
        Assume.That(H5pyIsAvailable(), $"{SystemPython} cannot import h5py (install python3-h5py: eng/install-prerequisites.sh --hdf5-tools).");
        var path = Path.Combine(_folder, "for-h5py.hdf5");
        DsrlFile.Write(DsrlFile.Read(FixturePath), path);

        const string check = """
            import sys, h5py, numpy as np
            f = h5py.File(sys.argv[1], "r")
            for k in sorted(f.keys()):
                d = f[k]
                print(k, d.dtype, d.shape, d.compression)
            print("terminals", np.flatnonzero(f["terminals"][:]).tolist())
            print("timeouts", np.flatnonzero(f["timeouts"][:]).tolist())
            print("rewards_sum", float(f["rewards"][:].sum()))
            print("observations_row3", f["observations"][3].tolist())
            """;
        var output = RunPython(check, path);

        // Rewards sum: episodes 5 + 7 + 19.5 plus the tail 3 + 3.5 = 38.
        output.Should().Be(string.Join("\n",
            "actions float32 (17, 2) gzip",
            "costs float32 (17,) gzip",
            "next_observations float32 (17, 8) gzip",
            "observations float32 (17, 8) gzip",
            "rewards float32 (17,) gzip",
            "terminals bool (17,) gzip",
            "timeouts bool (17,) gzip",
            "terminals [8]",
            "timeouts [4, 14]",
            "rewards_sum 38.0",
            "observations_row3 [3.0, 3.125, 3.25, 3.375, 3.5, 3.625, 3.75, 3.875]"));
    }

    // ---- Accepted variants ---------------------------------------------------------------------------------------

    [Test]
    public void Read_Float64Arrays_AreCastToFloat32()
    {
        var content = ValidContent(rows: 4, obs: 3, act: 2);
        content[DsrlSchema.Observations] = new H5Dataset(Enumerable.Range(0, 12).Select(i => i * 0.25).ToArray(), fileDims: [4, 3]);
        content[DsrlSchema.Rewards] = new H5Dataset(new[] { 0.1, 0.5, -2.0, 1e-3 });
        var path = WriteRaw(content);

        var data = DsrlFile.Read(path);

        data.Observations[5].Should().Be(1.25f);
        data.Rewards.ToArray().Should().Equal(0.1f, 0.5f, -2f, 1e-3f); // the nearest float32 of each double
    }

    [Test]
    public void Read_PerRowDatasetsOfShapeNBy1_AreAccepted()
    {
        var content = ValidContent(rows: 4, obs: 3, act: 2);
        content[DsrlSchema.Rewards] = new H5Dataset(new float[] { 1, 2, 3, 4 }, fileDims: [4, 1]);
        content[DsrlSchema.Costs] = new H5Dataset(new float[] { 0, 1, 0, 1 }, fileDims: [4, 1]);
        content[DsrlSchema.Terminals] = new H5Dataset(new byte[] { 0, 1, 0, 0 }, fileDims: [4, 1]);
        content[DsrlSchema.Timeouts] = new H5Dataset(new byte[] { 0, 0, 0, 1 }, fileDims: [4, 1]);
        var path = WriteRaw(content);

        var data = DsrlFile.Read(path);

        data.Rewards.ToArray().Should().Equal(1f, 2f, 3f, 4f);
        data.Costs.ToArray().Should().Equal(0f, 1f, 0f, 1f);
        RowsWhere(data.Terminals).Should().Equal(1);
        RowsWhere(data.Timeouts).Should().Equal(3);
    }

    [Test]
    public void Read_ColumnStripChunksLikeH5pyMakesForWideArrays_KeepsRowMajorOrder()
    {
        // h5py's automatic chunking cuts wide arrays into column strips, e.g. (15625, 1); the reader's chunk cache
        // must still deliver rows in order. Here: 10 rows x 3 columns in (4, 1) chunks, deflate-compressed.
        var values = Enumerable.Range(0, 30).Select(i => i * 0.5f).ToArray();
        var content = ValidContent(rows: 10, obs: 3, act: 2);
        var deflate = new PureHDF.VOL.Native.H5DatasetCreation(Filters: [new PureHDF.Filters.H5Filter(PureHDF.Filters.DeflateFilter.Id)]);
        content[DsrlSchema.Observations] = new H5Dataset(values, chunks: [4, 1], fileDims: [10, 3], datasetCreation: deflate);
        content[DsrlSchema.Rewards] = new H5Dataset(values[..10], chunks: [3], fileDims: [10], datasetCreation: deflate);
        var path = WriteRaw(content);

        var data = DsrlFile.Read(path);

        data.Observations.ToArray().Should().Equal(values);
        data.Rewards.ToArray().Should().Equal(values[..10]);
    }

    [TestCase("uint8")]
    [TestCase("int8")]
    [TestCase("int16")]
    [TestCase("int64")]
    [TestCase("float32")]
    [TestCase("float64")]
    public void Read_FlagsStoredAsNumbers_NonZeroMeansTrue(string dtype)
    {
        // Row 1 holds 1, row 2 a non-zero value other than 1 (negative for signed types), the rest 0.
        object terminals = dtype switch
        {
            "uint8" => new byte[] { 0, 1, 200, 0 },
            "int8" => new sbyte[] { 0, 1, -1, 0 },
            "int16" => new short[] { 0, 1, -300, 0 },
            "int64" => new long[] { 0, 1, long.MinValue, 0 },
            "float32" => new float[] { 0, 1, -0.5f, -0f },
            _ => new double[] { 0, 1, 2.5, -0.0 },
        };
        var content = ValidContent(rows: 4, obs: 3, act: 2);
        content[DsrlSchema.Terminals] = new H5Dataset(terminals);
        var path = WriteRaw(content);

        RowsWhere(DsrlFile.Read(path).Terminals).Should().Equal(1, 2);
    }

    // ---- Bad files: one test per case ----------------------------------------------------------------------------

    [TestCase("observations")]
    [TestCase("next_observations")]
    [TestCase("actions")]
    [TestCase("rewards")]
    [TestCase("costs")]
    [TestCase("terminals")]
    [TestCase("timeouts")]
    public void Read_MissingKey_NamesKeyAndFile(string key)
    {
        var content = ValidContent();
        content.Remove(key);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset '{key}' is missing*write the missing one*");
    }

    [Test]
    public void Read_KeyIsAGroup_SaysItMustBeADataset()
    {
        var content = ValidContent();
        content[DsrlSchema.Costs] = new H5Group { ["values"] = new H5Dataset(new float[6]) };
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"DSRL file '{path}': dataset 'costs' is a group*");
    }

    [Test]
    public void Read_RowCountMismatchBetweenKeys_NamesBothKeysAndCounts()
    {
        var content = ValidContent(rows: 6);
        content[DsrlSchema.Costs] = new H5Dataset(new float[5]);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'costs' has 5 rows but 'observations' has 6*one row per transition*");
    }

    [Test]
    public void Read_NextObservationsNarrowerThanObservations_NamesBothWidths()
    {
        var content = ValidContent(rows: 6, obs: 3);
        content[DsrlSchema.NextObservations] = new H5Dataset(new float[12], fileDims: [6, 2]);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'next_observations' has 2 columns but 'observations' has 3*");
    }

    [TestCase("observations", 0, 1)]
    [TestCase("next_observations", 3, 2)]
    [TestCase("actions", 5, 0)]
    [TestCase("rewards", 2, 0)]
    [TestCase("costs", 4, 0)]
    public void Read_NaN_NamesKeyRowAndFile(string key, int row, int column)
    {
        var path = WriteRaw(ValidContentWith(key, row, column, float.NaN));

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"Dataset '{path}': key '{key}' row {row}*NaN*must be finite*write it again*");
    }

    [TestCase("observations", 1, 2, float.PositiveInfinity)]
    [TestCase("actions", 0, 1, float.NegativeInfinity)]
    [TestCase("rewards", 5, 0, float.PositiveInfinity)]
    public void Read_Infinity_NamesKeyRowAndFile(string key, int row, int column, float value)
    {
        var path = WriteRaw(ValidContentWith(key, row, column, value));

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"Dataset '{path}': key '{key}' row {row}*Infinity*must be finite*");
    }

    [Test]
    public void Read_Float64TooLargeForFloat32_IsReportedAsInfinite()
    {
        var content = ValidContent(rows: 3);
        content[DsrlSchema.Rewards] = new H5Dataset(new[] { 0.0, 1e300, 0.0 });
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"Dataset '{path}': key 'rewards' row 1 is Infinity*");
    }

    [Test]
    public void Read_NegativeCost_NamesRowAndFile()
    {
        var path = WriteRaw(ValidContentWith(DsrlSchema.Costs, 3, 0, -1f));

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"Dataset '{path}': key 'costs' row 3 is -1; costs must be >= 0*");
    }

    [Test]
    public void Read_NaNFlag_NamesKeyRowAndFile()
    {
        var content = ValidContent(rows: 4);
        content[DsrlSchema.Timeouts] = new H5Dataset(new[] { 0f, 0f, float.NaN, 1f });
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"DSRL file '{path}': dataset 'timeouts' row 2 is NaN*");
    }

    [Test]
    public void Read_EmptyFile_SaysEmptyAndNamesFile()
    {
        var path = Path.Combine(_folder, "empty.hdf5");
        File.WriteAllBytes(path, []);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"DSRL file '{path}' is empty (0 bytes)*download or export it again*");
    }

    [Test]
    public void Read_TruncatedFile_SaysTruncatedWithBothLengths()
    {
        var path = Path.Combine(_folder, "truncated.hdf5");
        var whole = File.ReadAllBytes(FixturePath);
        File.WriteAllBytes(path, whole[..1000]);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}' is truncated: it has 1000 bytes but*byte {whole.Length}*get the file again*");
    }

    [Test]
    public void Read_FileCutInsideTheSuperblock_SaysTruncated()
    {
        var path = Path.Combine(_folder, "stub.hdf5");
        File.WriteAllBytes(path, File.ReadAllBytes(FixturePath)[..20]);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"DSRL file '{path}' is truncated*superblock*");
    }

    [Test]
    public void Read_CorruptBody_ThrowsInvalidDataNamingFile()
    {
        var path = Path.Combine(_folder, "corrupt.hdf5");
        var bytes = File.ReadAllBytes(FixturePath);
        bytes.AsSpan(3000).Fill(0xA5); // keeps the superblock and the length, destroys the object headers and data
        File.WriteAllBytes(path, bytes);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}'*could not be decoded as HDF5*download or export it again*");
    }

    [Test]
    public void Read_TextFile_SaysNotHdf5AndShowsItsStart()
    {
        var path = Path.Combine(_folder, "notes.hdf5");
        File.WriteAllText(path, "episode,reward,cost\n1,2.5,0\n");

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}' is not an HDF5 file*'episode,reward,c'*");
    }

    [Test]
    public void Read_OneDimensionalObservations_SaysWrongRank()
    {
        var content = ValidContent(rows: 6);
        content[DsrlSchema.Observations] = new H5Dataset(new float[6]);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'observations' has rank 1, shape (6,), but must be 2-D (N, observationSize)*reshape*");
    }

    [Test]
    public void Read_RewardsWithTwoColumns_SaysOneValuePerTransition()
    {
        var content = ValidContent(rows: 6);
        content[DsrlSchema.Rewards] = new H5Dataset(new float[12], fileDims: [6, 2]);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'rewards' has shape (6, 2) but must be (N,) or (N, 1)*");
    }

    [Test]
    public void Read_IntegerObservations_SaysConvertToFloat32()
    {
        var content = ValidContent(rows: 6, obs: 3);
        content[DsrlSchema.Observations] = new H5Dataset(new int[18], fileDims: [6, 3]);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'observations' has type int32 but must be float32 or float64*astype(np.float32)*");
    }

    [Test]
    public void Read_ObservationSizeOtherThanTheEnvironments_NamesBothSizes()
    {
        var path = WriteRaw(ValidContent(obs: 3, act: 2));

        var act = () => DsrlFile.Read(path, expectedObservationSize: 8, expectedActionSize: 2);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'observations' has 3 columns but the environment observes 8 values*dataset recorded for this task*");
    }

    [Test]
    public void Read_ActionSizeOtherThanTheEnvironments_NamesBothSizes()
    {
        var path = WriteRaw(ValidContent(obs: 3, act: 2));

        var act = () => DsrlFile.Read(path, expectedObservationSize: 3, expectedActionSize: 4);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': dataset 'actions' has 2 columns but the environment takes 4 action values*");
    }

    [Test]
    public void Read_ZeroRows_SaysTheDatasetHasNoTransitions()
    {
        var content = new Dictionary<string, object>
        {
            [DsrlSchema.Observations] = new H5Dataset(Array.Empty<float>(), fileDims: [0, 3]),
            [DsrlSchema.NextObservations] = new H5Dataset(Array.Empty<float>(), fileDims: [0, 3]),
            [DsrlSchema.Actions] = new H5Dataset(Array.Empty<float>(), fileDims: [0, 2]),
            [DsrlSchema.Rewards] = new H5Dataset(Array.Empty<float>(), fileDims: [0]),
            [DsrlSchema.Costs] = new H5Dataset(Array.Empty<float>(), fileDims: [0]),
            [DsrlSchema.Terminals] = new H5Dataset(Array.Empty<byte>(), fileDims: [0]),
            [DsrlSchema.Timeouts] = new H5Dataset(Array.Empty<byte>(), fileDims: [0]),
        };
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"Dataset '{path}'*no transitions*");
    }

    [Test]
    public void Read_FileThatDoesNotExist_ThrowsFileNotFoundWithPath()
    {
        var path = Path.Combine(_folder, "absent.hdf5");

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<FileNotFoundException>()
            .WithMessage($"DSRL file '{path}' does not exist*")
            .Which.FileName.Should().Be(path);
    }

    private const string WriteWithUserBlock = """
        import sys, h5py, numpy as np
        n = 6
        with h5py.File(sys.argv[1], "w", userblock_size=512) as f:
            f.create_dataset("observations", data=np.arange(n * 3, dtype=np.float32).reshape(n, 3))
            f.create_dataset("next_observations", data=np.arange(n * 3, dtype=np.float32).reshape(n, 3) + 1)
            f.create_dataset("actions", data=np.zeros((n, 2), dtype=np.float32))
            f.create_dataset("rewards", data=np.ones(n, dtype=np.float32))
            f.create_dataset("costs", data=np.zeros(n, dtype=np.float32))
            f.create_dataset("terminals", data=np.array([0, 0, 1, 0, 0, 0], dtype=bool))
            f.create_dataset("timeouts", data=np.array([0, 0, 0, 0, 0, 1], dtype=bool))
        """;

    [Test]
    [Category("Interop")]
    public void Read_H5pyFileWithA512ByteUserBlock_IsAccepted()
    {
        Assume.That(H5pyIsAvailable(), $"{SystemPython} cannot import h5py (install python3-h5py: eng/install-prerequisites.sh --hdf5-tools).");
        var path = Path.Combine(_folder, "userblock.hdf5");
        RunPython(WriteWithUserBlock, path);

        var data = DsrlFile.Read(path);

        data.Count.Should().Be(6);
        data.Episodes.Should().HaveCount(2);
        data.Observations[4].Should().Be(4f);
    }

    [Test]
    [Category("Interop")]
    public void Read_TruncatedFileWithAUserBlock_SaysTruncatedWithTheRealLength()
    {
        Assume.That(H5pyIsAvailable(), $"{SystemPython} cannot import h5py (install python3-h5py: eng/install-prerequisites.sh --hdf5-tools).");
        var whole = Path.Combine(_folder, "userblock-whole.hdf5");
        RunPython(WriteWithUserBlock, whole);
        var bytes = File.ReadAllBytes(whole);
        var path = Path.Combine(_folder, "userblock-cut.hdf5");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}' is truncated: it has {bytes.Length - 100} bytes but*runs to byte {bytes.Length}.*");
    }

    [Test]
    public void Read_NoRowHasATerminalOrTimeoutFlag_SaysNoEpisodeEnds()
    {
        var content = ValidContent(rows: 6);
        content[DsrlSchema.Terminals] = new H5Dataset(new byte[6]);
        content[DsrlSchema.Timeouts] = new H5Dataset(new byte[6]);
        var path = WriteRaw(content);

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}': none of its 6 rows has a 'terminals' or 'timeouts' flag set*no complete episode*timeouts*");
    }

    [Test]
    public void Read_HdfFileWithoutAnyDataset_SaysItHoldsNoTransitions()
    {
        var path = WriteRaw(new Dictionary<string, object>());

        var act = () => DsrlFile.Read(path);

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"DSRL file '{path}' holds no transitions: none of the seven DSRL datasets*(the file holds: nothing)*");
    }

    // ---- Helpers -------------------------------------------------------------------------------------------------

    private static int[] RowsWhere(ReadOnlySpan<bool> flags)
    {
        var rows = new List<int>();
        for (int i = 0; i < flags.Length; i++) if (flags[i]) rows.Add(i);
        return [.. rows];
    }

    private static byte[] Bits(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values).ToArray();

    /// <summary>Seven valid datasets written the way a third-party tool might (PureHDF, uint8 flags, no compression).</summary>
    private static Dictionary<string, object> ValidContent(int rows = 6, int obs = 3, int act = 2)
    {
        float[] Ramp(int count, float scale) => Enumerable.Range(0, count).Select(i => i * scale).ToArray();
        var terminals = new byte[rows];
        var timeouts = new byte[rows];
        terminals[Math.Min(2, rows - 1)] = 1;
        timeouts[rows - 1] = 1;
        return new Dictionary<string, object>
        {
            [DsrlSchema.Observations] = new H5Dataset(Ramp(rows * obs, 0.5f), fileDims: [(ulong)rows, (ulong)obs]),
            [DsrlSchema.NextObservations] = new H5Dataset(Ramp(rows * obs, 0.25f), fileDims: [(ulong)rows, (ulong)obs]),
            [DsrlSchema.Actions] = new H5Dataset(Ramp(rows * act, -0.125f), fileDims: [(ulong)rows, (ulong)act]),
            [DsrlSchema.Rewards] = new H5Dataset(Ramp(rows, 1f)),
            [DsrlSchema.Costs] = new H5Dataset(Ramp(rows, 0f)),
            [DsrlSchema.Terminals] = new H5Dataset(terminals),
            [DsrlSchema.Timeouts] = new H5Dataset(timeouts),
        };
    }

    /// <summary><see cref="ValidContent"/> (6 rows, obs 3, act 2) with one float set to <paramref name="value"/>.</summary>
    private static Dictionary<string, object> ValidContentWith(string key, int row, int column, float value)
    {
        const int rows = 6;
        int width = key switch { DsrlSchema.Observations or DsrlSchema.NextObservations => 3, DsrlSchema.Actions => 2, _ => 1 };
        var values = new float[rows * width];
        for (int i = 0; i < values.Length; i++) values[i] = 0.5f * i;
        values[row * width + column] = value;
        var content = ValidContent(rows, obs: 3, act: 2);
        content[key] = width == 1 ? new H5Dataset(values) : new H5Dataset(values, fileDims: [rows, (ulong)width]);
        return content;
    }

    private string WriteRaw(Dictionary<string, object> content)
    {
        var file = new H5File();
        foreach (var (key, value) in content) file[key] = value;
        var path = Path.Combine(_folder, $"crafted-{Guid.NewGuid():N}.hdf5");
        file.Write(path);
        return path;
    }

    private static OfflineDataset SmallDataset(int rows)
    {
        var obs = Enumerable.Range(0, rows * 2).Select(i => i * 0.5f).ToArray();
        var next = obs.Select(v => v + 1f).ToArray();
        var act = Enumerable.Range(0, rows).Select(i => -i * 0.25f).ToArray();
        var rew = Enumerable.Range(0, rows).Select(i => (float)i).ToArray();
        var cost = Enumerable.Range(0, rows).Select(i => (float)(i % 2)).ToArray();
        var term = new bool[rows];
        var tout = new bool[rows];
        tout[rows - 1] = true;
        return new OfflineDataset(2, 1, obs, act, rew, cost, next, term, tout, $"small {rows}");
    }

    /// <summary>Values whose bits a lossy path would change: signed zero, subnormals, extremes, non-round fractions.</summary>
    private static OfflineDataset TrickyDataset()
    {
        const int rows = 7, obsSize = 5, actSize = 3;
        float[] specials = [-0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1f / 3f, MathF.PI, 1e-38f, -123456.789f, 0.1f];
        float[] Fill(int count, int shift) => Enumerable.Range(0, count).Select(i => specials[(i + shift) % specials.Length]).ToArray();
        var costs = new[] { 0f, float.Epsilon, 1f / 3f, 80f, 0f, 1e-38f, float.MaxValue };
        return new OfflineDataset(obsSize, actSize,
            Fill(rows * obsSize, 0), Fill(rows * actSize, 3), Fill(rows, 5), costs, Fill(rows * obsSize, 7),
            terminals: [false, true, false, false, false, false, false],
            timeouts: [false, false, false, true, false, false, true],
            source: "tricky values");
    }

    private static bool H5pyIsAvailable()
    {
        if (!File.Exists(SystemPython)) return false;
        try
        {
            RunPython("import h5py");
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string RunPython(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(SystemPython)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {SystemPython}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new InvalidOperationException($"{SystemPython} did not finish within 60 s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{SystemPython} exited with {process.ExitCode}: {stderr.Result}");
        return stdout.ReplaceLineEndings("\n").TrimEnd('\n');
    }
}
