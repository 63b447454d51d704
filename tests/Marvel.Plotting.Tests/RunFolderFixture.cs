using System.Buffers.Binary;

namespace Marvel.Plotting.Tests;

/// <summary>Hand-made run folders and PNG checks shared by the plotting tests and the tool's <c>marvel plot</c> tests (linked into Marvel.Cli.Tests).</summary>
internal static class RunFolderFixture
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A run folder as a run leaves it: run.json, options.json, metrics/online.csv (aPID terms, one iteration without episodes), eval.csv, qbias.json.</summary>
    public static string Make(string folder, string name, bool qbias = true, string? onlineCsv = null, bool evalCsv = true, string controllerColumns = "controller/p,controller/i,controller/d,controller/kp")
    {
        var dir = Directory.CreateDirectory(Path.Combine(folder, name)).FullName;
        File.WriteAllText(Path.Combine(dir, "run.json"), """{ "task": "BallCircle", "algorithm": "Marvel", "cost_limit": 25, "seed": 0 }""");
        File.WriteAllText(Path.Combine(dir, "options.json"), """{ "options": { "TaskId": "BallCircle", "CostLimit": 25 } }""");
        File.WriteAllText(Path.Combine(dir, "status.json"), """{ "status": "completed", "stage": "completed" }""");
        Directory.CreateDirectory(Path.Combine(dir, "metrics"));
        int terms = controllerColumns.Length == 0 ? 0 : controllerColumns.Split(',').Length;
        onlineCsv ??= "iteration,environment_steps,episodes,mean_episode_return,mean_episode_cost,lambda,cumulative_violation,actor_loss" +
                      (terms > 0 ? "," + controllerColumns : "") + "\n" +
                      string.Concat(Enumerable.Range(1, 6).Select(i =>
                          $"{i},{400 * i},2,{(i == 3 ? "" : (10 + 5 * i).ToString(System.Globalization.CultureInfo.InvariantCulture))},{(i == 3 ? "" : (40 - 4 * i).ToString(System.Globalization.CultureInfo.InvariantCulture))}," +
                          $"{0.1 * i},{5 * i},-1.5" + string.Concat(Enumerable.Range(0, terms).Select(t => $",{0.01 * (t + 1) * i}")) + "\n"));
        File.WriteAllText(Path.Combine(dir, "metrics", "online.csv"), onlineCsv);
        if (evalCsv)
            File.WriteAllText(Path.Combine(dir, "metrics", "eval.csv"),
                "index,iteration,environment_steps,episodes,mean_return,std_return,mean_cost,std_cost,mean_length,normalized_reward,normalized_cost,safe\n" +
                "0,0,0,2,8,1,45,2,200,0.1,1.8,false\n" +
                "1,3,1200,2,20,1,30,2,200,0.3,1.2,false\n" +
                "2,6,2400,2,35,1,18,2,200,0.5,0.72,true\n");
        if (qbias)
            File.WriteAllText(Path.Combine(dir, "qbias.json"), """
            {
              "handover": { "reward": { "MeanRelativeBias": 0.42, "MeanQ": 3 }, "cost": { "MeanRelativeBias": -0.2, "MeanQ": 1 }, "gamma": 0.99, "rollout_steps": 200 },
              "aligned": { "reward": { "MeanRelativeBias": 0.05, "MeanQ": 2 }, "cost": { "MeanRelativeBias": "NaN", "MeanQ": 1 }, "gamma": 0.99, "rollout_steps": 200 }
            }
            """);
        return dir;
    }

    public static void ShouldBePng(string path)
    {
        File.Exists(path).Should().BeTrue(path);
        var bytes = File.ReadAllBytes(path);
        bytes.Take(8).Should().Equal(PngSignature, path);
        // IHDR follows the signature: length (4), "IHDR" (4), width (4, big-endian), height (4).
        BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)).Should().Be(RunPlots.Width);
        BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)).Should().Be(RunPlots.Height);
    }

    public static string Plot(string dir, string name) => Path.Combine(dir, "plots", name);
}
