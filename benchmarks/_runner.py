"""Time competing callables in one process, interleaved and repeated.

Interleaving (A B C A B C ...) spreads any slow-down of the machine over
every candidate, so the printed ratios stay meaningful on a shared box.
"""

import gc
import os
import time

import numpy as np

__all__ = ["compare", "gemm_throughput", "print_table", "machine_summary", "setting"]


def setting(args, full, quick, smoke):
    """The value of a size or repeat count for the run's mode.

    ``--smoke`` (the tiniest data, one repeat) keeps every code path of a
    suite running for ``tests/test_benchmarks.py``; its timings mean
    nothing. It wins over ``--quick``.
    """
    return smoke if args.smoke else quick if args.quick else full


def compare(candidates, repeats=5, warmup=1):
    """Median wall time of each candidate.

    Parameters
    ----------
    candidates : dict of str -> callable
        Zero-argument callables; each call is one timed run.
    repeats : int
        Timed rounds; every round runs every candidate once, in turn.
    warmup : int
        Untimed rounds first (JIT compilation, caches, thread pools).

    Returns
    -------
    dict of str -> dict with ``median``, ``min``, ``times`` (seconds).
    """
    for _ in range(warmup):
        for fn in candidates.values():
            fn()
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {
        name: {"median": float(np.median(t)), "min": float(np.min(t)), "times": t}
        for name, t in times.items()
    }


def print_table(title, results, reference, flops=None):
    """Print medians and ratios against ``reference`` (ratio > 1: slower).

    ``flops`` maps candidate names to floating-point operation counts, for a
    GFLOP/s column.
    """
    ref = results[reference]["median"]
    print(f"\n== {title}")
    print(f"{'candidate':<40} {'median s':>10} {'min s':>10} {'x ' + reference:>18}"
          + ("  GFLOP/s" if flops else ""))
    for name, r in results.items():
        line = f"{name:<40} {r['median']:>10.4f} {r['min']:>10.4f} {r['median'] / ref:>18.3f}"
        if flops and name in flops:
            line += f"  {flops[name] / r['median'] / 1e9:8.1f}"
        print(line, flush=True)


def gemm_throughput(shapes, dtypes=(np.float32, np.float64), repeats=5, flops_per_shape=2e9):
    """GFLOP/s of ``A @ B`` for each (m, k, n) shape and dtype.

    This is the physical limit that the speed goals are stated against.
    Each shape runs at least ``repeats`` products and about
    ``flops_per_shape`` floating-point operations in all.
    """
    rng = np.random.default_rng(0)
    rows = []
    for dtype in dtypes:
        for m, k, n in shapes:
            A = rng.random((m, k)).astype(dtype)
            B = rng.random((k, n)).astype(dtype)
            out = np.empty((m, n), dtype=dtype)
            np.matmul(A, B, out=out)
            reps = max(repeats, int(flops_per_shape // (2 * m * k * n)) or 1)
            best = np.inf
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _ in range(max(1, reps // repeats)):
                    np.matmul(A, B, out=out)
                best = min(best, (time.perf_counter() - t0) / max(1, reps // repeats))
            rows.append((np.dtype(dtype).name, (m, k, n), 2 * m * k * n / best / 1e9))
    return rows


def machine_summary():
    """One line on the machine: cores, BLAS, thread settings."""
    from threadpoolctl import threadpool_info

    blas = [f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    return (f"cores={os.cpu_count()} numpy={np.__version__} blas={', '.join(blas)}")
