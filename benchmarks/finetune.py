"""One fine-tuning epoch of 784-500-500-2000-10, batch 100, float32.

Candidates, timed interleaved in one process (``_runner.compare``):

- deepzoo ``FineTunedClassifier`` (adam, and momentum SGD),
- ``sklearn.neural_network.MLPClassifier`` (adam, same sizes, batch, data),
- PyTorch CPU (adam, same threads) when torch is installed,
- the epoch's matrix products alone (forward + backward GEMMs): the floor.

The goal (issue 6, item 7): deepzoo >= 3x faster than scikit-learn and no
slower than PyTorch.
"""

import os
import warnings

import numpy as np
from threadpoolctl import threadpool_info

from ._runner import (Goal, compare, machine_summary, network_products, print_table, setting,
                      thread_scaling, torch_network_epoch)

SIZES = (784, 500, 500, 2000, 10)
BATCH = 100


def _data(n):
    """Fashion-MNIST training images when available, else uniform noise."""
    try:
        from deepzoo.datasets import fetch_fashion_mnist

        bunch = fetch_fashion_mnist(subset="train", download=False)
        return bunch.data[:n].astype(np.float32), bunch.target[:n], "Fashion-MNIST"
    except (OSError, ValueError, ImportError):
        rng = np.random.default_rng(0)
        return rng.random((n, SIZES[0]), dtype=np.float32), rng.integers(0, 10, n), "noise"


def _blas_threads():
    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return counts[0] if counts else os.cpu_count()


def run(args):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from deepzoo import FineTunedClassifier

    n = setting(args, full=10000, quick=2000, smoke=200)
    X, y, source = _data(n)
    threads = _blas_threads()
    print(machine_summary())
    print(f"data: {n} {source} images, float32; network {'-'.join(map(str, SIZES))}, "
          f"batch {BATCH}, threads {threads}")

    hidden = SIZES[1:-1]

    def deepzoo_epoch(solver, lr):
        clf = FineTunedClassifier(hidden_layer_sizes=hidden, solver=solver,
                                  learning_rate=lr, batch_size=BATCH, max_iter=1,
                                  random_state=0)

        def fit():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
        return fit

    sk = MLPClassifier(hidden_layer_sizes=hidden, activation="logistic", solver="adam",
                       batch_size=BATCH, max_iter=1, random_state=0)

    def sklearn_epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sk.fit(X, y)

    candidates = {
        "deepzoo adam": deepzoo_epoch("adam", 1e-3),
        "deepzoo momentum": deepzoo_epoch("momentum", 0.05),
        "sklearn MLPClassifier adam": sklearn_epoch,
        "GEMM only (same products)": network_products(X, SIZES, BATCH),
    }
    try:
        import torch

        candidates["torch adam"] = torch_network_epoch(
            X, y.astype(np.int64), SIZES, torch.nn.Sigmoid, torch.nn.CrossEntropyLoss(), BATCH,
            threads)
    except ImportError:
        print("torch not installed: PyTorch comparison skipped")
    results = compare(candidates, repeats=setting(args, full=5, quick=3, smoke=1), warmup=1)
    flops = 6 * n * sum(a * b for a, b in zip(SIZES, SIZES[1:]))
    print_table("one fine-tuning epoch (median of interleaved repeats)", results,
                "deepzoo adam", flops={k: flops for k in results})
    ours = results["deepzoo adam"]["median"]
    print(f"\nsklearn / deepzoo adam: {results['sklearn MLPClassifier adam']['median'] / ours:.2f}x"
          "  (goal >= 3)")
    if "torch adam" in results:
        print(f"torch / deepzoo adam:   {results['torch adam']['median'] / ours:.2f}x"
              "  (goal >= 1)")
    floor = results["GEMM only (same products)"]["median"]
    print(f"GEMM share of deepzoo adam epoch: {floor / ours:.0%}")
    case = f"fine-tuning epoch, {'-'.join(map(str, SIZES))}, adam"
    goals = [Goal("finetune", case, "x faster than scikit-learn",
                  results["sklearn MLPClassifier adam"]["median"] / ours, 3.0, at_most=False)]
    if "torch adam" in results:
        goals.append(Goal("finetune", case, "x faster than PyTorch",
                          results["torch adam"]["median"] / ours, 1.0, at_most=False))
    speedup = thread_scaling(candidates["deepzoo adam"],
                             repeats=setting(args, full=3, quick=2, smoke=1))
    print(f"2 threads / 1 thread on the deepzoo adam epoch: {speedup:.2f}x (goal >= 1.8)")
    goals.append(Goal("finetune", case, "speedup, 2 threads over 1", speedup, 1.8, at_most=False))
    return goals
