using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Marvel.Benchmarks.EnvironmentStepBenchmarks).Assembly).Run(args);
