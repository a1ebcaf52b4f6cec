#!/usr/bin/python3
"""Driver of bench/compare.sh (run that, not this): Driftscope's BM_TrainEpoch and
bench/torch_mlp.py alternately for every shape x batch x threads, plus the GEMM limit
(BM_StepGemms, BM_Sgemm), and a markdown table on stdout. Progress goes to stderr.

Both sides train on the same first `subset` samples of the embedded MNIST for the same
number of epochs per repetition (read from Driftscope's counters), report the median of
`--repeats` repetitions in samples/s, after a warm-up epoch. The order of the two programs
flips on every row so that a slow drift of the machine's load favours neither.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = ["784-128-10", "784-256-256-10", "784-1024-1024-10"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def run_bench(bench: str, pattern: str, repeats: int):
    cmd = [bench, f"--benchmark_filter={pattern}", f"--benchmark_repetitions={repeats}",
           "--benchmark_report_aggregates_only=true", "--benchmark_format=json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["benchmarks"]


def median_rows(rows):
    return {r["run_name"]: r for r in rows if r.get("aggregate_name") == "median"}


def run_torch(shape, batch, threads, subset, epochs, repeats):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    # libgomp's default is to spin at barriers; on 2 cores shared with other work a spinning
    # thread steals the core its partner needs (measured: torch at 2 threads 10-100x slower
    # than at 1 under load 8-12). PASSIVE (sleep at barriers) is the fair setting here;
    # override with OMP_WAIT_POLICY in the environment.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    lib = env.get("DRIFTSCOPE_TORCH_LD_LIBRARY_PATH")
    if lib:
        env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get(
            "LD_LIBRARY_PATH") else "")
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_mlp.py"), "--shape", shape, "--batch",
           str(batch), "--threads", str(threads), "--subset", str(subset), "--epochs",
           str(epochs), "--repeats", str(repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def param_count(shape: str) -> int:
    s = [int(x) for x in shape.split("-")]
    return sum(s[i] * s[i + 1] + s[i + 1] for i in range(len(s) - 1))


def plan(shape: str, batch: int) -> dict:
    """planIteration() of bench/train_bench.cpp (checked against the bench's counters)."""
    target = 2.0e9 if batch == 1 else 5.0e9 if batch <= 16 else 20.0e9
    wanted = int(target / (6.0 * param_count(shape)))
    n = (wanted + 255) // 256 * 256
    n = max(n, 256, 2 * batch)
    subset = min(n, 8000 // 256 * 256)
    return {"subset": subset, "epochs": max(1, (wanted + subset // 2) // subset)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--shapes", default=" ".join(SHAPES))
    ap.add_argument("--batches", default="1 16 64 256")
    ap.add_argument("--threads", default="1 2")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    shapes = args.shapes.split()
    batches = [int(b) for b in args.batches.split()]
    threads = [int(t) for t in args.threads.split()]

    start = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), "?")
    log(f"compare: {start}, {model}, {os.cpu_count()} CPUs, load {load()}")

    # Which BLAS the peer really uses.
    probe = run_torch("784-128-10", 64, 1, 256, 1, 1)
    log(f"torch {probe['torch']}, BLAS loaded: {probe['blas_loaded']}")

    # The GEMM limit, once.
    log("GEMM limit (BM_StepGemms, BM_Sgemm) ...")
    gemm = median_rows(run_bench(args.bench, "BM_(StepGemms|Sgemm)/", 3))

    rows = []
    flip = False
    for shape in shapes:
        for batch in batches:
            for t in threads:
                name = f"BM_TrainEpoch/{shape}/batch:{batch}/threads:{t}/"
                entry = {"shape": shape, "batch": batch, "threads": t, "load_before": load()}

                def ours():
                    med = median_rows(run_bench(args.bench, "^" + name, args.repeats))
                    (r,) = med.values()
                    # Google Benchmark's cpu_time is the main thread's: with 1 thread
                    # that is all the work, and a load-independent rate.
                    entry.update(ds=r["samples/s"], ds_gflops=r["GFLOP/s"],
                                 ds_cpu=r["samples/s"] * r["real_time"] / r["cpu_time"],
                                 subset=int(r["subset"]), epochs=int(r["epochs/iter"]),
                                 shards=int(r["shards"]))

                def theirs():
                    tr = run_torch(shape, batch, t, entry["subset"], entry["epochs"],
                                   args.repeats)
                    entry.update(torch=tr["samples_per_s"], torch_cpu=tr["samples_per_cpu_s"],
                                 torch_min=tr["min"],
                                 torch_max=tr["max"])

                if flip:
                    entry.update(plan(shape, batch))
                    theirs()
                    planned = (entry["subset"], entry["epochs"])
                    ours()
                    if planned != (entry["subset"], entry["epochs"]):
                        sys.exit(f"compare: plan mismatch for {name}: {planned} vs bench")
                else:
                    ours()
                    theirs()
                flip = not flip
                entry["load_after"] = load()
                for impl, key in ((0, "eigen"), (1, "openblas")):
                    g = next((v for k, v in gemm.items()
                              if k.startswith(f"BM_StepGemms/{shape}/batch:{batch}/impl:{impl}/")),
                             None)
                    if g:
                        entry[f"gemm_{key}"] = g["samples/s"]
                        entry[f"gemm_{key}_gflops"] = g["GFLOP/s"]
                entry["ratio"] = entry["ds"] / entry["torch"]
                log(f"{shape} b{batch} t{t}: ours {entry['ds']:,.0f}  torch {entry['torch']:,.0f}"
                    f"  ratio {entry['ratio']:.2f}  load {entry['load_before']}-"
                    f"{entry['load_after']}")
                rows.append(entry)
    end = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    print(f"Run {start} - {end}; {model}; {os.cpu_count()} CPUs; {platform.platform()}")
    print(f"torch {probe['torch']} with {probe['blas_loaded']}")
    print()
    print("| Shape | Batch | Threads | Driftscope samples/s | torch samples/s | ratio | "
          "ratio per CPU s (1 thread) | Driftscope GFLOP/s | GEMM limit Eigen / OpenBLAS, "
          "samples/s | % of best limit | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for e in rows:
        limits = [e.get("gemm_eigen"), e.get("gemm_openblas")]
        best = max(x for x in limits if x) if any(limits) else None
        lim = " / ".join(f"{x:,.0f}" if x else "-" for x in limits)
        pct = f"{100.0 * e['ds'] / best:.0f}%" if best else "-"
        print(f"| {e['shape']} | {e['batch']} | {e['threads']} | {e['ds']:,.0f} | "
              f"{e['torch']:,.0f} | {e['ratio']:.2f} | "
              f"{(e['ds_cpu'] / e['torch_cpu']) if e['threads'] == 1 else float('nan'):.2f} | "
              f"{e['ds_gflops']:.1f} | {lim} | {pct} | "
              f"{e['load_before']}-{e['load_after']} |")
    print()
    print("| GEMM benchmark | GFLOP/s |")
    print("|---|---:|")
    for name, r in gemm.items():
        print(f"| {name.replace('/min_time:0.200', '').replace('/real_time', '')} | "
              f"{r['GFLOP/s']:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"start": start, "end": end, "model": model, "rows": rows,
                       "gemm": gemm, "torch": probe}, f, indent=1)


if __name__ == "__main__":
    main()
