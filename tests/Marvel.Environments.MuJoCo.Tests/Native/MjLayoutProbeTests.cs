using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Marvel.Environments.MuJoCo.Native;

namespace Marvel.Environments.MuJoCo.Tests.Native;

/// <summary>
/// Compiles Native/layout_probe.c with gcc against the installed MuJoCo headers and checks every constant of
/// <see cref="MjLayout"/> against the offsets and values the C compiler reports.
/// </summary>
[NonParallelizable]
public sealed class MjLayoutProbeTests
{
    private static Dictionary<string, long>? _probe;

    private static Dictionary<string, long> Probe()
    {
        if (_probe is not null) return _probe;
        string source = Path.Combine(TestContext.CurrentContext.TestDirectory, "Native", "layout_probe.c");
        File.Exists(source).Should().BeTrue($"the probe source should be copied next to the tests ({source})");
        string exe = Path.Combine(Path.GetTempPath(), $"marvel-mj-probe-{Environment.ProcessId}");
        try
        {
            var (compileCode, compileOutput) = Run("gcc", $"-o \"{exe}\" \"{source}\" -lmujoco");
            compileCode.Should().Be(0, $"gcc must compile the probe against /usr/include/mujoco (install libmujoco-dev): {compileOutput}");
            var (runCode, output) = Run(exe, "");
            runCode.Should().Be(0, output);
            _probe = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .ToDictionary(p => Normalize(p[0]), p => long.Parse(p[1], CultureInfo.InvariantCulture));
            return _probe;
        }
        finally
        {
            File.Delete(exe);
        }
    }

    private static (int Code, string Output) Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr);
    }

    // "Model_opt_timestep" and "ModelOptTimestep" both become "modelopttimestep".
    private static string Normalize(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static IEnumerable<FieldInfo> LayoutConstants() =>
        typeof(MjLayout).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Where(f => f.IsLiteral);

    [Test]
    public void Probe_ReportsHeaderAndLibraryVersion222()
    {
        var probe = Probe();
        probe["headerversion"].Should().Be(222);
        probe["libraryversion"].Should().Be(222);
    }

    [Test]
    public void EveryLayoutConstant_EqualsTheCompilersValue()
    {
        var probe = Probe();
        var constants = LayoutConstants().ToList();
        constants.Should().HaveCountGreaterThan(15);
        foreach (var field in constants)
        {
            string key = field.Name == nameof(MjLayout.SupportedVersion) ? "headerversion" : Normalize(field.Name);
            probe.Should().ContainKey(key, $"the probe must report MjLayout.{field.Name}");
            Convert.ToInt64(field.GetRawConstantValue(), CultureInfo.InvariantCulture).Should().Be(probe[key], $"MjLayout.{field.Name} must match offsetof/sizeof in the installed headers");
        }
    }

    [Test]
    public void LoadedLibrary_ReportsVersion222()
    {
        MuJoCoTasks.LibraryVersion.Should().Be(222);
    }
}
