"""Time competing callables in one process, interleaved and repeated.

Interleaving (A B C A B C ...) spreads any slow-down of the machine over
every candidate, so the printed ratios stay meaningful on a shared box.
"""

import dataclasses
import gc
import os
import time

import numpy as np

__all__ = ["Goal", "compare", "gemm_throughput", "network_products", "print_table",
           "machine_summary", "setting", "thread_scaling", "torch_network_epoch"]


@dataclasses.dataclass(frozen=True)
class Goal:
    """A measured figure beside its goal: one row of ``python -m benchmarks
    all``'s table. Every suite's ``run`` returns a list of them.

    ``value`` is met when ``value <= target`` (``at_most``, ratios of time
    against a floor or a peer) or ``value >= target`` (speedups).
    """

    suite: str
    case: str
    measure: str
    value: float
    target: float
    at_most: bool = True

    @property
    def met(self):
        return self.value <= self.target if self.at_most else self.value >= self.target

    def line(self):
        """The goal as printed by a suite: measure, value, goal, verdict."""
        sign = "<=" if self.at_most else ">="
        return (f"GOAL {self.case}: {self.measure} = {self.value:.3g} (goal {sign} "
                f"{self.target:g}) {'met' if self.met else 'MISSED'}")


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


def thread_scaling(fn, repeats=3, warmup=1):
    """Speedup of ``fn`` on every thread over one thread: the median time
    with BLAS and numba limited to one thread over the median with their
    defaults, interleaved as in ``compare``."""
    import numba
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    n_numba = numba.get_num_threads()

    def single():
        numba.set_num_threads(1)
        try:
            with controller.limit(limits=1):
                fn()
        finally:
            numba.set_num_threads(n_numba)

    results = compare({"one": single, "all": fn}, repeats=repeats, warmup=warmup)
    return results["one"]["median"] / results["all"]["median"]


def network_products(X, sizes, batch):
    """The forward and backward matrix products of one epoch of a fully
    connected network of layer ``sizes`` over ``X`` in mini-batches, nothing
    else: the floor of any implementation (numpy's BLAS, float32)."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((o, i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    # Finite, normal values: NaN or denormal garbage from np.empty slows BLAS.
    acts = [rng.random((batch, s), dtype=np.float32) for s in sizes]
    deltas = [rng.random((batch, s), dtype=np.float32) for s in sizes]
    grads = [np.empty_like(W) for W in Ws]

    def run():
        for start in range(0, X.shape[0] - batch + 1, batch):
            acts[0][...] = X[start:start + batch]
            for i, W in enumerate(Ws):
                np.matmul(acts[i], W.T, out=acts[i + 1])
            for i in range(len(Ws) - 1, -1, -1):
                np.matmul(deltas[i + 1].T, acts[i], out=grads[i])
                if i:
                    np.matmul(deltas[i + 1], Ws[i], out=deltas[i])
    return run


def torch_network_epoch(X, Y, sizes, hidden, loss, batch, threads, linear=()):
    """One epoch of Adam (learning rate 1e-3) in PyTorch CPU over a fully
    connected network of layer ``sizes``: ``hidden`` activation (a
    ``torch.nn`` module class) after every layer but the last and those
    listed in ``linear``, ``loss`` a ``torch.nn`` loss instance on the last
    layer's output and ``Y``'s rows. Raises ImportError without torch."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2 and i not in linear:
            layers.append(hidden())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    gen = torch.Generator().manual_seed(0)

    def run():
        order = torch.randperm(Xt.shape[0], generator=gen)
        for start in range(0, Xt.shape[0], batch):
            idx = order[start:start + batch]
            opt.zero_grad(set_to_none=False)
            loss(model(Xt[idx]), Yt[idx]).backward()
            opt.step()
    return run


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
