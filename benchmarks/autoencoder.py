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
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._runner import compare, machine_summary, print_table, setting

N_VISIBLE, N_HIDDEN, BATCH = 784, 500, 100


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

    from deepzoo import Autoencoder

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
