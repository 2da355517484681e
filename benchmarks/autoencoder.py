"""One epoch of a 784-500 sigmoid autoencoder, batch 100, float32.

Candidates, timed interleaved in one process (``_runner.compare``):

- deepzoo ``Autoencoder``, tied weights, cross-entropy (the denoising-
  autoencoder setting), one epoch by ``partial_fit`` on a fitted model;
- the same epoch's matrix products alone (2 forward + 3 backward GEMMs per
  batch, the physical floor);
- ``fit(X)`` with ``max_iter=1`` of deepzoo (tied cross-entropy, and untied
  squared error with a linear output: the very network scikit-learn fits)
  against ``sklearn.neural_network.MLPRegressor(hidden_layer_sizes=(500,),
  activation="logistic", solver="adam", batch_size=100, max_iter=1).fit(X, X)``.

Goals (issue 4, item 6): the deepzoo epoch within 1.5x of its GEMMs, and
faster than scikit-learn.

Then issue 18's goals, float32, Adam, batch 100: the tied 784-500
autoencoder epoch and a random-start ``DeepAutoencoder``
784-1000-500-250-30 epoch (sigmoid units, linear code, cross-entropy) each
within 1.2x of its matrix products and >= 1.5x faster than the same model
in PyTorch CPU (same threads, batch and optimiser); the speedup of two
threads over one (goal >= 1.8).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from deepzoo import Autoencoder

from ._runner import (Goal, compare, machine_summary, network_products, print_table, setting,
                      thread_scaling, torch_network_epoch)

N_VISIBLE, N_HIDDEN, BATCH = 784, 500, 100
DEEP = (784, 1000, 500, 250, 30)


def _data(n):
    """The first ``n`` of the 5,000 MNIST training images when available,
    else uniform noise."""
    try:
        from deepzoo.datasets import fetch_mnist

        X, source = fetch_mnist(subset="train-5k", download=False).data, "MNIST train-5k"
    except (OSError, ValueError, ImportError):
        X = np.random.default_rng(0).random((5000, N_VISIBLE), dtype=np.float32)
        source = "uniform noise"
    X = np.ascontiguousarray(X[:n], dtype=np.float32)
    return X, source


def _gemm_only(X):
    """The five matrix products of each mini-batch of one epoch, nothing else."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((N_HIDDEN, N_VISIBLE)).astype(np.float32)
    H = rng.random((BATCH, N_HIDDEN), dtype=np.float32)
    R = rng.random((BATCH, N_VISIBLE), dtype=np.float32)
    dH = np.empty_like(H)
    gW = np.empty_like(W)
    gW2 = np.empty_like(W)

    def run():
        for start in range(0, X.shape[0], BATCH):
            batch = X[start:start + BATCH]
            np.matmul(batch, W.T, out=H)        # encode
            np.matmul(H, W, out=R)              # decode
            np.matmul(H.T, R, out=gW)           # decoder gradient
            np.matmul(R, W.T, out=dH)           # back to the code
            np.matmul(dH.T, batch, out=gW2)     # encoder gradient
    return run


def _torch_gemm_only(X, threads):
    """:func:`_gemm_only`'s five products per mini-batch in PyTorch's own
    BLAS: the floor of the PyTorch epoch."""
    import torch

    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(N_HIDDEN, N_VISIBLE, generator=gen)
    H, R = torch.empty(BATCH, N_HIDDEN), torch.empty(BATCH, N_VISIBLE)
    dH, gW, gW2 = torch.empty(BATCH, N_HIDDEN), torch.empty_like(W), torch.empty_like(W)
    Xt = torch.from_numpy(X)

    def run():
        with torch.no_grad():
            for start in range(0, Xt.shape[0], BATCH):
                batch = Xt[start:start + BATCH]
                torch.mm(batch, W.T, out=H)
                torch.mm(H, W, out=R)
                torch.mm(H.T, R, out=gW)
                torch.mm(R, W.T, out=dH)
                torch.mm(dH.T, batch, out=gW2)
    return run


def _torch_tied(X, threads):
    """The tied cross-entropy autoencoder in PyTorch: one epoch of Adam."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    W = torch.nn.Parameter(0.01 * torch.randn(N_HIDDEN, N_VISIBLE))
    b_h = torch.nn.Parameter(torch.zeros(N_HIDDEN))
    b_v = torch.nn.Parameter(torch.zeros(N_VISIBLE))
    opt = torch.optim.Adam([W, b_h, b_v], lr=1e-3)
    loss = torch.nn.BCEWithLogitsLoss(reduction="sum")
    Xt = torch.from_numpy(X)
    gen = torch.Generator().manual_seed(0)

    def run():
        order = torch.randperm(Xt.shape[0], generator=gen)
        for start in range(0, Xt.shape[0], BATCH):
            x = Xt[order[start:start + BATCH]]
            opt.zero_grad(set_to_none=False)
            h = torch.sigmoid(x @ W.T + b_h)
            (loss(h @ W + b_v, x) / x.shape[0]).backward()
            opt.step()
    return run


def _adam_only(model, n_steps):
    """``n_steps`` Adam steps over copies of ``model``'s parameters, as its
    epoch runs them (one compiled pass per array), gradients of ones."""
    from deepzoo._kernels import nn as kernels

    arrays = [a.reshape(-1).copy() for a in (*model.coefs_, *model.intercepts_)]
    state = [(np.ones_like(a), np.zeros_like(a), np.zeros_like(a)) for a in arrays]
    p = [np.float32(v) for v in (1e-3, 0.9, 0.1, 0.999, 0.001, 1e-8)]

    def run():
        for _ in range(n_steps):
            for a, (g, m, v) in zip(arrays, state):
                kernels.pick(kernels.adam_step, a.size)(a, g, m, v, *p)
    return run


def _peers(X, args):
    """Issue 18: the tied autoencoder and the deep autoencoder against their
    products and PyTorch, and their thread scaling."""
    from deepzoo import DeepAutoencoder

    threads = max(i["num_threads"] for i in __import__("threadpoolctl").threadpool_info()
                  if i["user_api"] == "blas")
    repeats = setting(args, full=5, quick=3, smoke=1)
    tied = Autoencoder(N_HIDDEN, loss="cross_entropy", batch_size=BATCH, random_state=0)
    tied.partial_fit(X)
    deep_model = DeepAutoencoder(hidden_layer_sizes=DEEP[1:], batch_size=BATCH, max_iter=1,
                                 random_state=0)
    _quiet(lambda: deep_model.fit(X[:200]))()
    deep = _quiet(lambda: deep_model.partial_fit(X))
    mirrored = DEEP + DEEP[-2::-1]
    candidates = {
        "deepzoo tied autoencoder": lambda: tied.partial_fit(X),
        "GEMM only, tied": _gemm_only(X),
        "deepzoo DeepAutoencoder": deep,
        "GEMM only, deep": network_products(X, mirrored, BATCH),
    }
    try:
        import torch

        candidates["torch tied autoencoder"] = _torch_tied(X, threads)
        candidates["GEMM only, tied, torch"] = _torch_gemm_only(X, threads)
        candidates["torch deep autoencoder"] = torch_network_epoch(
            X, X, mirrored, torch.nn.Sigmoid, torch.nn.BCEWithLogitsLoss(), BATCH, threads,
            linear=(len(DEEP) - 2,))
    except ImportError:
        print("torch not installed: PyTorch comparison skipped")
    candidates["Adam steps alone, deep"] = _adam_only(deep_model, X.shape[0] // BATCH)
    results = compare(candidates, repeats=repeats)
    print_table(f"one epoch, float32, {threads} thread(s)", results, "deepzoo tied autoencoder")
    t = {k: r["median"] for k, r in results.items()}
    # Adam reads and writes every parameter and two moments each step: a
    # memory-bound pass any Adam implementation pays beside the products
    print(f"DeepAutoencoder: products {t['GEMM only, deep']:.3f} s + Adam's passes "
          f"{t['Adam steps alone, deep']:.3f} s = {t['GEMM only, deep'] + t['Adam steps alone, deep']:.3f}"
          f" s; deepzoo {t['deepzoo DeepAutoencoder']:.3f} s = "
          f"{t['deepzoo DeepAutoencoder'] / (t['GEMM only, deep'] + t['Adam steps alone, deep']):.2f}x"
          " products + Adam")
    if "torch tied autoencoder" in t:
        # The goal's epoch against the products alone, in either library's
        # BLAS: below both, no element-wise code can reach it.
        print(f"tied: 1.5x faster than PyTorch needs <= {t['torch tied autoencoder'] / 1.5:.4f} s "
              f"an epoch; its products alone take {t['GEMM only, tied']:.4f} s in deepzoo's "
              f"BLAS and {t['GEMM only, tied, torch']:.4f} s in PyTorch's")
    goals = []
    for name, model, epoch in (("tied", "tied autoencoder", lambda: tied.partial_fit(X)),
                               ("deep", "DeepAutoencoder", deep)):
        case = (f"Autoencoder epoch, {N_VISIBLE}-{N_HIDDEN} tied" if name == "tied"
                else f"DeepAutoencoder epoch, {'-'.join(map(str, DEEP))}")
        ours = t[f"deepzoo {model}"]
        goals.append(Goal("autoencoder", case, "x GEMM floor", ours / t[f"GEMM only, {name}"], 1.2))
        peer = "torch " + ("tied autoencoder" if name == "tied" else "deep autoencoder")
        if peer in t:
            goals.append(Goal("autoencoder", case, "x faster than PyTorch", t[peer] / ours, 1.5,
                              at_most=False))
        speedup = thread_scaling(epoch, repeats=setting(args, full=3, quick=2, smoke=1))
        goals.append(Goal("autoencoder", case, "speedup, 2 threads over 1", speedup, 1.8,
                          at_most=False))
    return goals


def _quiet(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fn()
    return run


def _profile(model, X):
    """Own time (cProfile ``tottime``) of the busiest functions in one epoch.

    Matrix products written with ``@`` are not calls, so their time lands
    in the function that contains them (``autoencoder_objective``,
    ``encode``); the GEMM-only candidate measures them directly.
    """
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    model.partial_fit(X)
    prof.disable()
    stats = pstats.Stats(prof).stats
    rows = [(f"{name} ({file.rsplit('/', 1)[-1]})", v[2]) for (file, _, name), v in stats.items()]
    return sum(t for _, t in rows), sorted(rows, key=lambda r: -r[1])[:8]


def run(args):
    from sklearn.neural_network import MLPRegressor

    X, source = _data(setting(args, full=5000, quick=2000, smoke=200))
    print(machine_summary())
    print(f"data: {X.shape[0]} {source} images, float32; {N_VISIBLE}-{N_HIDDEN} sigmoid "
          f"autoencoder, batch {BATCH}")

    epoch_model = Autoencoder(N_HIDDEN, loss="cross_entropy", batch_size=BATCH, random_state=0)
    epoch_model.partial_fit(X)  # initialise (and compile) outside the timing

    def fit(**kw):
        model = Autoencoder(N_HIDDEN, batch_size=BATCH, max_iter=1, random_state=0, **kw)
        return _quiet(lambda: model.fit(X))

    sk = MLPRegressor(hidden_layer_sizes=(N_HIDDEN,), activation="logistic", solver="adam",
                      batch_size=BATCH, max_iter=1, random_state=0)
    candidates = {
        "deepzoo epoch (partial_fit)": lambda: epoch_model.partial_fit(X),
        "GEMM only (same products)": _gemm_only(X),
        "deepzoo fit, tied, cross-entropy": fit(loss="cross_entropy"),
        "deepzoo fit, untied, squared error": fit(tied_weights=False),
        "sklearn MLPRegressor fit(X, X)": _quiet(lambda: sk.fit(X, X)),
    }
    results = compare(candidates, repeats=setting(args, full=7, quick=3, smoke=1), warmup=1)
    flops = 5 * 2 * X.shape[0] * N_VISIBLE * N_HIDDEN
    print_table("one epoch (median of interleaved repeats)", results,
                "deepzoo epoch (partial_fit)", flops={k: flops for k in results})
    med = {k: v["median"] for k, v in results.items()}
    print(f"\ndeepzoo epoch / GEMM only:              "
          f"{med['deepzoo epoch (partial_fit)'] / med['GEMM only (same products)']:.2f}x"
          "  (goal <= 1.5)")
    for name in ("deepzoo fit, tied, cross-entropy", "deepzoo fit, untied, squared error"):
        print(f"sklearn / {name:<34} {med['sklearn MLPRegressor fit(X, X)'] / med[name]:.2f}x"
              "  (goal > 1)")

    gemm_share = med["GEMM only (same products)"] / med["deepzoo epoch (partial_fit)"]
    print(f"BLAS share of the deepzoo epoch: {gemm_share:.0%}; the rest is element-wise "
          "work, optimizer and Python")
    total, top = _profile(epoch_model, X)
    print(f"\nprofile of one epoch ({total:.3f}s under cProfile), own time:")
    for name, t in top:
        print(f"  {name:<55} {t:.4f}s")
    return _peers(X, args)
