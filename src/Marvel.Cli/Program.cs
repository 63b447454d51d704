using Marvel.Cli;

// Ctrl+C (SIGINT) and SIGTERM cancel the command: the pipeline stops between steps, writes its metrics (and a checkpoint when
// Marvel:Pipeline:CheckpointEvery > 0) and the tool exits with code 1. A second Ctrl+C ends the process at once.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine("Cancelling... (Ctrl+C again to stop at once)");
    cancellation.Cancel();
};
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    cancellation.Cancel();
});
var context = new CliContext(Console.Out, Console.Error, Interactive: !Console.IsOutputRedirected, CliContext.DefaultWorkerCommand());
return await MarvelApp.RunAsync(args, context, cancellation.Token);
