using System.CommandLine;
using System.Globalization;
using Marvel.Cli.Running;
using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Environments;
using Marvel.Core.Inference;

namespace Marvel.Cli.Commands;

/// <summary><c>export</c>: writes an artifact's actor as an ONNX graph (<see cref="OnnxExport"/>).</summary>
internal static class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var artifact = new Option<string>("--artifact") { Description = "Handover artifact folder whose actor is exported.", Required = true, HelpName = "folder" };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (input 'observation' [batch, obs], output 'action' [batch, act]).", Required = true, HelpName = "file" };
        var task = new Option<string?>("--task") { Description = "Take the action box from this registered task instead of the artifact's recorded one." };
        var command = CommandKit.Make("export",
            "Export an artifact's deterministic actor as a standard ONNX graph (Gemm, Relu, Tanh, scaling; observation normalization folded in), " +
            "to run without libtorch in ONNX Runtime. Actors that export: CPQ, BEAR-Lag, COptiDICE, SAC-Lag, PPO-Lag, BC. CDT and BCQ-Lag do not.",
            "marvel export --artifact runs/marvel/final --onnx policy.onnx");
        foreach (var o in new Option[] { artifact, onnx, task }) command.Add(o);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(artifact)!, file = parse.GetValue(onnx)!;
            var loaded = PipelineRunner.LoadArtifact(path);
            BoxSpace? box = null;
            if (parse.GetValue(task) is { } taskId)
            {
                if (!EnvironmentRegistry.Default.Contains(taskId))
                    throw new UsageException($"--task '{taskId}' is not a registered task; registered: {string.Join(", ", EnvironmentRegistry.Default.Ids)}.");
                using var probe = EnvironmentRegistry.Default.Make(taskId);
                try
                {
                    loaded.EnsureCompatible(probe.ObservationSpace.Dimension, probe.ActionSpace.Dimension, $"--artifact '{path}'");
                }
                catch (InvalidDataException e)
                {
                    throw new UsageException(e.Message, e);
                }
                box = probe.ActionSpace;
            }
            else if (loaded.Manifest.ActionLow is null)
            {
                context.Error.WriteLine($"warning: artifact '{path}' records no action box (written before it was recorded) and no --task was given: " +
                                        "the graph returns the actor's own output (in [-1, 1] for squashed actors). Pass --task to map actions onto a task's box.");
            }
            var full = Path.GetFullPath(file);
            if (Path.GetDirectoryName(full) is { } folder) Directory.CreateDirectory(folder);
            try
            {
                OnnxExport.Save(loaded, full, box);
            }
            catch (Exception e) when (e is NotSupportedException or InvalidDataException or ArgumentException)
            {
                throw new UsageException($"--artifact '{path}': {e.Message}", e);
            }
            var m = loaded.Manifest;
            string normalization = m.ObservationNormalizer is null ? "." : ", observation normalization included.";
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {full} ({new FileInfo(full).Length} bytes): {m.Algorithm} actor, input '{OnnxExport.InputName}' [batch, {m.ObservationSize}], output '{OnnxExport.OutputName}' [batch, {m.ActionSize}], opset {OnnxExport.OpsetVersion}{normalization}"));
            return ExitCodes.Success;
        });
        return command;
    }
}
