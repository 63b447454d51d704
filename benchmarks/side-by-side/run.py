#!/usr/bin/env python3
"""Side-by-side timing of one SAC-Lag update: Marvel (.NET/TorchSharp) against the PyTorch twin in sac_lag_update.py.

Both workers stay alive for the whole run (one torch thread each, warmed up first); each round asks one worker for n updates and
then the other (the order alternates between rounds), and reports the per-round ratio .NET/PyTorch of the milliseconds per update,
for process CPU time and for wall time, with the medians over rounds.

    python3 benchmarks/side-by-side/run.py --hidden 256 --rounds 9 --updates 60

With --learner cpq or bear-lag the PyTorch worker is the twin of that offline learner's update (cpq_update.py, bear_lag_update.py)
and both sides run it at the sizes of --net-hidden, --vae-hidden and --batch (default: the learners' defaults [256, 256], 400, 512;
the offline benchmark's sample uses --net-hidden 64,64 --vae-hidden 64 --batch 256):

    python3 benchmarks/side-by-side/run.py --learner cpq --net-hidden 64,64 --vae-hidden 64 --batch 256 --rounds 7 --updates 20

--phases also prints each worker's wall milliseconds per update by phase (VAE, critics, actor, Polyak and read) for every round.

With --against dotnet the second worker is .NET as well (another build with --against-dll, or the same build with extra environment
variables from --against-env KEY=VALUE ...), for A/B measurements of a change in the same interleaved rounds.

Build first (`dotnet build benchmarks/Marvel.Benchmarks -c Release`). The PyTorch worker runs under /usr/bin/python3 (Debian's
python3-torch); Debian's torch links libblas.so.3, which is the reference BLAS unless OpenBLAS is first on LD_LIBRARY_PATH
(--openblas, the default, prepends /usr/lib/x86_64-linux-gnu/openblas-pthread). OpenBLAS 0.3.21 does not recognise newer CPUs
(Zen 4 among them) and then uses slow generic kernels; --coretype sets OPENBLAS_CORETYPE for that case (default: SkylakeX where the
CPU shows AVX-512, else Haswell).
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def start(cmd, env):
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError(f"{cmd[0]} did not start: {line!r}")
    return p, line.strip()


def minor_faults(p):
    """Minor page faults of a worker so far (Linux /proc/<pid>/stat field 10)."""
    with open(f"/proc/{p.pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def ask(p, n, phases=None):
    p.stdin.write(f"{n}\n")
    p.stdin.flush()
    wall, cpu, *extra = p.stdout.readline().split()
    if phases is not None:
        phases.append(" ".join(extra))
    return float(wall), float(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--updates", type=int, default=50, help="updates per worker per round")
    ap.add_argument("--warmup", type=int, default=60, help="updates per worker before the first round (JIT tiering, allocator warm-up)")
    ap.add_argument("--openblas", default="/usr/lib/x86_64-linux-gnu/openblas-pthread", help="'' to keep the reference BLAS")
    ap.add_argument("--coretype", default="auto",
                    help="OPENBLAS_CORETYPE ('' to leave unset; auto: SkylakeX where the CPU flags show avx512f, else Haswell)")
    ap.add_argument("--learner", default="sac-lag", help="sac-lag, cpq, bear-lag, or (with --against dotnet only) bcq-lag")
    ap.add_argument("--net-hidden", help="offline learners: actor and critic widths, e.g. 64,64 (default: the options' 256,256)")
    ap.add_argument("--vae-hidden", type=int, help="offline learners: VAE width (default: the options' 400)")
    ap.add_argument("--batch", type=int, help="offline learners: batch size (default: the options' 512)")
    ap.add_argument("--foreach", action="store_true", help="PyTorch twin: Adam(foreach=True) instead of the CPU default")
    ap.add_argument("--phases", action="store_true", help="offline learners: also print wall ms per update by phase")
    ap.add_argument("--against", choices=["pytorch", "dotnet"], default="pytorch", help="the second worker")
    ap.add_argument("--against-dll", help="the second .NET worker's Marvel.Benchmarks.dll (default: --dll)")
    ap.add_argument("--against-env", nargs="*", default=[], help="KEY=VALUE settings for the second .NET worker only")
    ap.add_argument("--dll", default=os.path.join(ROOT, "benchmarks/Marvel.Benchmarks/bin/Release/net10.0/linux-x64/Marvel.Benchmarks.dll"))
    args = ap.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    py_env = dict(env)
    if args.openblas:
        py_env["LD_LIBRARY_PATH"] = args.openblas + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    if args.coretype == "auto":
        # The same VM has shown AVX-512 on some days and not on others; SkylakeX kernels then die of SIGILL. Haswell (AVX2) was the
        # fastest of OpenBLAS 0.3.21's kernels without AVX-512 here (256^3 product: Haswell 79, auto-detected Zen 75 GFLOP/s).
        with open("/proc/cpuinfo") as f:
            args.coretype = "SkylakeX" if " avx512f" in f.read() else "Haswell"
    if args.coretype:
        py_env["OPENBLAS_CORETYPE"] = args.coretype
    twins = {"sac-lag": "sac_lag_update.py", "cpq": "cpq_update.py", "bear-lag": "bear_lag_update.py"}
    if args.learner not in twins and args.against != "dotnet":
        ap.error(f"{args.learner} has no PyTorch twin; use --against dotnet")
    sizes = []   # offline learners: the same sizes for both workers (none given: the options' defaults)
    if args.net_hidden:
        sizes += ["--net-hidden", args.net_hidden]
    if args.vae_hidden:
        sizes += ["--vae-hidden", str(args.vae_hidden)]
    if args.batch:
        sizes += ["--batch", str(args.batch)]
    if args.phases:
        sizes += ["--phases"]
    offline = args.learner != "sac-lag"
    net_cmd = ["dotnet", args.dll, "--side-by-side", "--hidden", str(args.hidden), "--learner", args.learner] + (sizes if offline else [])
    net, net_banner = start(net_cmd, env)
    if args.against == "pytorch":
        if offline:
            py_cmd = [os.path.join(HERE, twins[args.learner]), "--hidden", args.net_hidden or "256,256", "--vae-hidden",
                      str(args.vae_hidden or 400), "--batch", str(args.batch or 512)] + (["--phases"] if args.phases else [])
            py_cmd += ["--foreach"] if args.foreach else []
        else:
            py_cmd = [os.path.join(HERE, twins[args.learner]), "--hidden", str(args.hidden)]
        py, py_banner = start(["/usr/bin/python3"] + py_cmd, py_env)
        second = f"PyTorch: {py_banner}; BLAS dir {args.openblas or 'reference'}, OPENBLAS_CORETYPE={args.coretype or 'unset'}"
    else:
        b_env = dict(env, **dict(kv.split("=", 1) for kv in args.against_env))
        py, py_banner = start(["dotnet", args.against_dll or args.dll, "--side-by-side", "--hidden", str(args.hidden), "--learner", args.learner]
                              + (sizes if offline else []), b_env)
        second = f"B = .NET {args.against_dll or args.dll} with {' '.join(args.against_env) or 'no extra settings'}"
    if offline:
        shape = f"hidden {args.net_hidden or '256,256 (default)'}, VAE {args.vae_hidden or '400 (default)'}, batch {args.batch or '512 (default)'}"
    else:
        shape = f"hidden {args.hidden}, batch 256"
    print(f"# {args.learner}, {shape}, {args.updates} updates per worker per round, {args.rounds} rounds")
    print(f"# A = .NET {args.dll}: {net_banner}; {second}")
    ask(net, args.warmup)
    ask(py, args.warmup)
    cpu_ratios, wall_ratios = [], []
    faults0 = {"net": minor_faults(net), "py": minor_faults(py)}
    print("round | A ms/update (cpu, wall) | B ms/update (cpu, wall) | ratio A/B cpu | ratio A/B wall")
    for r in range(args.rounds):
        order = [(net, "net"), (py, "py")] if r % 2 == 0 else [(py, "py"), (net, "net")]
        phase_text = {"net": [], "py": []}
        res = {name: ask(p, args.updates, phase_text[name] if args.phases else None) for p, name in order}
        (nw, nc), (pw, pc) = res["net"], res["py"]
        cpu_ratios.append(nc / pc)
        wall_ratios.append(nw / pw)
        print(f"{r + 1} | {nc:.3f}, {nw:.3f} | {pc:.3f}, {pw:.3f} | {nc / pc:.3f} | {nw / pw:.3f}", flush=True)
        if args.phases:
            print(f"#   phases A: {phase_text['net'][0]}\n#   phases B: {phase_text['py'][0]}", flush=True)
    print(f"median ratio A/B: cpu {statistics.median(cpu_ratios):.3f}, wall {statistics.median(wall_ratios):.3f}; "
          f"cpu ratios min {min(cpu_ratios):.3f}, max {max(cpu_ratios):.3f}; load average at the end {os.getloadavg()[0]:.2f}")
    per_update = {k: (minor_faults(p) - faults0[k]) / (args.rounds * args.updates) for k, p in (("net", net), ("py", py))}
    print(f"minor page faults per update over the rounds: A {per_update['net']:.0f}, B {per_update['py']:.0f}")
    for p in (net, py):
        p.stdin.write("quit\n")
        p.stdin.flush()
        p.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
