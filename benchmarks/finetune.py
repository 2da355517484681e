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

from ._runner import compare, machine_summary, print_table, setting

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


def _gemm_only(X):
    """The forward and backward matrix products of one epoch, nothing else."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((o, i)).astype(np.float32) for i, o in zip(SIZES, SIZES[1:])]
    # Finite, normal values: NaN or denormal garbage from np.empty slows BLAS.
    acts = [rng.random((BATCH, s), dtype=np.float32) for s in SIZES]
    deltas = [rng.random((BATCH, s), dtype=np.float32) for s in SIZES]
    grads = [np.empty_like(W) for W in Ws]

    def run():
        for start in range(0, X.shape[0] - BATCH + 1, BATCH):
            acts[0][...] = X[start:start + BATCH]
            for i, W in enumerate(Ws):
                np.matmul(acts[i], W.T, out=acts[i + 1])
            for i in range(len(Ws) - 1, -1, -1):
                np.matmul(deltas[i + 1].T, acts[i], out=grads[i])
                if i:
                    np.matmul(deltas[i + 1], Ws[i], out=deltas[i])
    return run


def _torch_epoch(X, y, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64))
    gen = torch.Generator().manual_seed(0)

    def run():
        order = torch.randperm(Xt.shape[0], generator=gen)
        for start in range(0, Xt.shape[0], BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    return run


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
        "GEMM only (same products)": _gemm_only(X),
    }
    try:
        candidates["torch adam"] = _torch_epoch(X, y, threads)
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
    print(f"GEMM share of deepzoo adam epoch: "
          f"{results['GEMM only (same products)']['median'] / ours:.0%}")
