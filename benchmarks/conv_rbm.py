"""CD-1 epoch of a convolutional RBM: deepzoo vs its own products vs PyTorch.

``python -m benchmarks conv_rbm [--quick | --smoke]``

24 filters of 10x10 over 28x28 images (MNIST when ``DEEPZOO_DATA`` points
at it, else synthetic strokes), 2x2 probabilistic max-pooling, batch 100,
float32, one epoch over 10,000 images (2,000 with ``--quick``):

- ``deepzoo ConvolutionalRBM``: ``partial_fit`` of an initialised model
  (CD-1, momentum, weight decay, sparsity target);
- ``GEMM only``: the four matrix products of the same CD-1 steps on
  prebuilt patches (detection inputs twice, the visible input, the stacked
  weight gradient) and nothing else: the floor of deepzoo's method;
- ``torch``: the same four convolutions in PyTorch, when it is installed
  (an optional extra of the benchmarks, never of deepzoo): the
  correlations with ``torch.nn.functional.conv2d``, the weight gradient as
  one ``conv2d`` of the stacked positive and negative images with their
  maps, and the full convolution with ``conv_transpose2d``, PyTorch's
  fastest form of it here (``conv2d`` of the zero-padded maps with the
  flipped filters took 88 ms per mini-batch against 33 ms, one thread).

Candidates run interleaved in one process, at one thread and at every
core (BLAS, numba and PyTorch alike); deepzoo's training runs BLAS on one
thread and shares blocks of a mini-batch's images between numba's number
of threads, so its times at every core show that choice against the
others' threads. The ratios are printed, and the share of
the machine's float32 GEMM throughput (a 1000x1000x1000 product at the same
thread count) that deepzoo's epoch reaches, counting the convolutions'
multiply-adds.
"""

import os

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from deepzoo import ConvolutionalRBM

from ._runner import Goal, compare, gemm_throughput, machine_summary, print_table, setting
from .rbm import _data

N_FILTERS, FILTER, POOL, IMAGE, BATCH = 24, 10, 2, 28, 100


def _shapes():
    detection = IMAGE - FILTER + 1
    return detection, detection * detection, FILTER * FILTER


def _flops(n_images):
    """Floating-point operations of the epoch's convolutions: three of
    ``K x Hd x Wd x f x f`` multiply-adds per image, and the weight
    gradient over the positive and negative images."""
    _, positions, patch = _shapes()
    return 2 * 5 * n_images * N_FILTERS * positions * patch


def _gemm_only(n_images, rng):
    """The epoch's products on prebuilt patches, into preallocated outputs."""
    _, positions, patch = _shapes()
    rows = BATCH * positions
    P = rng.random((2 * rows, patch), dtype=np.float32)
    D = rng.random((2 * rows, N_FILTERS), dtype=np.float32)
    W = rng.random((N_FILTERS, patch), dtype=np.float32)
    I = np.empty((rows, N_FILTERS), np.float32)
    R = np.empty((rows, patch), np.float32)
    G = np.empty((N_FILTERS, patch), np.float32)

    def run():
        for _ in range(n_images // BATCH):
            np.matmul(P[:rows], W.T, out=I)
            np.matmul(D[:rows], W, out=R)
            np.matmul(P[rows:], W.T, out=I)
            np.matmul(D.T, P, out=G)

    return run


def _torch_convolutions(X, threads):
    """The same four convolutions per mini-batch in PyTorch (NCHW float32)."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    detection, _, _ = _shapes()
    rng = np.random.default_rng(0)
    V = torch.from_numpy(X.reshape(-1, 1, IMAGE, IMAGE))
    W = torch.from_numpy(rng.random((N_FILTERS, 1, FILTER, FILTER), dtype=np.float32))
    H = torch.from_numpy(rng.random((2 * BATCH, N_FILTERS, detection, detection),
                                    dtype=np.float32))
    def run():
        with torch.no_grad():
            for start in range(0, V.shape[0] - BATCH + 1, BATCH):
                v = V[start:start + BATCH]
                F.conv2d(v, W)
                vn = F.conv_transpose2d(H[:BATCH], W)
                F.conv2d(vn, W)
                F.conv2d(torch.cat([v, vn]).transpose(0, 1), H.transpose(0, 1))

    return run


def _compare(X, threads, repeats):
    n = X.shape[0]
    model = ConvolutionalRBM(N_FILTERS, filter_shape=FILTER, pool_shape=POOL,
                             image_shape=(IMAGE, IMAGE), batch_size=BATCH, n_iter=1,
                             random_state=0).fit(X[:BATCH])
    names = {"ours": "deepzoo ConvolutionalRBM (CD-1)",
             "gemm": "GEMM only (same products)",
             "torch": "torch (same convolutions)"}
    candidates = {names["ours"]: lambda: model.partial_fit(X),
                  names["gemm"]: _gemm_only(n, np.random.default_rng(0))}
    try:
        candidates[names["torch"]] = _torch_convolutions(X, threads)
    except ImportError:
        print("torch not installed: PyTorch comparison skipped")
    n_numba = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            results = compare(candidates, repeats=repeats)
            peak = gemm_throughput([(1000, 1000, 1000)], dtypes=(np.float32,), repeats=repeats,
                                   flops_per_shape=0 if n < 1000 else 2e10)[0][2]
    finally:
        numba.set_num_threads(n_numba)
    flops = _flops(n)
    print_table(f"one CD-1 epoch, {n} images, float32, {threads} thread(s)", results,
                names["ours"], flops={name: flops for name in results})
    t = {key: results[name]["median"] for key, name in names.items() if name in results}
    print(f"\n{threads} thread(s): deepzoo / GEMM only = {t['ours'] / t['gemm']:.2f}")
    if "torch" in t:
        print(f"{threads} thread(s): deepzoo / torch = {t['ours'] / t['torch']:.2f}"
              "   (goal <= 1: parity or better)")
    print(f"{threads} thread(s): deepzoo reaches {flops / t['ours'] / 1e9:.1f} GFLOP/s, "
          f"{flops / t['ours'] / 1e9 / peak:.0%} of the machine's float32 GEMM "
          f"({peak:.1f} GFLOP/s, 1000x1000x1000)")
    case = f"ConvolutionalRBM CD-1 epoch, {threads} thread(s)"
    goals = []
    if "torch" in t:
        goals.append(Goal("conv_rbm", case, "x PyTorch's convolutions", t["ours"] / t["torch"],
                          1.0))
    return goals, t["ours"]


def run(args):
    rng = np.random.default_rng(0)
    n = setting(args, full=10000, quick=2000, smoke=BATCH)
    repeats = setting(args, full=5, quick=3, smoke=1)
    X, source = _data(n, rng)
    print(machine_summary())
    print(f"data: {source}, {X.shape[0]} images of {IMAGE}x{IMAGE}; {N_FILTERS} filters "
          f"{FILTER}x{FILTER}, pool {POOL}x{POOL}, batch {BATCH}, CD-1")
    goals, times = [], {}
    for threads in sorted({1, os.cpu_count() or 1}):
        found, times[threads] = _compare(X, threads, repeats)
        goals += found
    if len(times) > 1:
        speedup = times[1] / times[max(times)]
        print(f"\n{max(times)} threads / 1 thread: {speedup:.2f}x (goal >= 1.8)")
        goals.append(Goal("conv_rbm", "ConvolutionalRBM CD-1 epoch",
                          f"speedup, {max(times)} threads over 1", speedup, 1.8, at_most=False))
    return goals
