using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "--side-by-side") return Marvel.Benchmarks.SideBySideWorker.Run(args);
if (args.Length > 0 && args[0] == "--gemm-shapes") return Marvel.Benchmarks.GemmShapes.Run();
if (args.Length > 0 && args[0] == "--seed-batch") return Marvel.Benchmarks.SeedBatchWorker.Run(args);
if (args.Length > 0 && args[0] == "--fused-rounds") return Marvel.Benchmarks.FusedOptionsWorker.Run(args);
BenchmarkSwitcher.FromAssembly(typeof(Marvel.Benchmarks.EnvironmentStepBenchmarks).Assembly).Run(args);
return 0;
