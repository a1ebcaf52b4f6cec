#!/usr/bin/python3
"""Reference timing for BM_LinearAssignment (bench/analysis_bench.cpp): scipy's
linear_sum_assignment on n x n U[0, 1) float64 costs, median of 5 calls per n.

The matrices are drawn with numpy (not the C++ splitmix64 stream), so they are the same
KIND of matrix, not the same numbers; for uniform random costs the solve time depends on
n, not on the particular draw (the spread of the 5 calls below shows how much).

Usage: /usr/bin/python3 bench/lap_scipy.py [n ...]   (default: 128 512 1024)
"""
import statistics
import sys
import time

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [128, 512, 1024]
    print(f"scipy {scipy.__version__}, numpy {np.__version__}")
    rng = np.random.default_rng(12345)
    for n in sizes:
        times = []
        cpu = []  # process CPU time: comparable with Google Benchmark's cpu_time on a busy machine
        for _ in range(5):
            cost = rng.random((n, n))  # C-contiguous float64, U[0, 1)
            start = time.perf_counter()
            cpu_start = time.process_time()
            rows, cols = linear_sum_assignment(cost)
            cpu.append(time.process_time() - cpu_start)
            times.append(time.perf_counter() - start)
            assert len(cols) == n
        ms = [1e3 * t for t in times]
        print(f"n={n:5d}  median {statistics.median(ms):8.2f} ms  "
              f"min {min(ms):8.2f}  max {max(ms):8.2f}  "
              f"cpu median {1e3 * statistics.median(cpu):8.2f} ms  total={cost[rows, cols].sum():.4f}")


if __name__ == "__main__":
    main()
