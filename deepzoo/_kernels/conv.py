"""Kernels of the convolutional RBM: patches, their sums, probabilistic max-pooling.

Images are channels-last, ``(n, height, width * n_channels)`` (a free
reshape of the rows scikit-learn passes), and so are the detection and
pooled maps, ``(n, height, width, n_filters)``. The convolutions are
matrix products on patches (im2col, then BLAS):

- the valid correlation of an image with the filters is ``im2col`` then
  ``patches @ filters.T``, with the filters laid out as rows of
  ``(filter_height, filter_width, n_channels)`` values;
- the full convolution of the detection maps with the filters (the input
  of the visible units) is ``maps @ filters`` then ``col2im``, which adds
  each patch back where it came from;
- the weight gradient is ``maps.T @ patches`` on the same patches.

Measured on the benchmark's shapes (``python -m benchmarks conv_rbm``;
24 filters of 10x10 over 28x28 images, one BLAS thread): a compiled
direct correlation ran at 8 GFLOP/s, the patch products at 60-70 GFLOP/s
with ``im2col`` costing a quarter of the product's time
(docs/ARCHITECTURE.md, "Convolutional RBMs").

The layer calls ``detect`` (``im2col``, the correlation, ``pool``),
``reconstruct`` (the full convolution) and ``weight_gradient``, which
share blocks of a mini-batch's images between threads (end of this file).

``pool`` is the probabilistic max-pooling of Lee, Grosse, Ranganath & Ng
(2009): in each block of detection units of one filter at most one unit
is on, and the block's pooling unit is on when one is. Blocks at the
right and bottom edges are smaller when the pool does not divide the
detection map. Every random draw is ``uniform(key, ((s * n_rows + bi) *
n_cols + bj) * n_filters + k)`` for sample ``s``, block ``(bi, bj)`` and
filter ``k`` (see ``_fastmath``). An output argument with zero rows means
"not wanted", as in ``rbm.py``.
"""

import math

import numpy as np

from ..utils._threads import run_blocks
from . import _fastmath as fm
from ._blas import gemm
from ._config import kernel


def detection_shape(image_shape, filter_shape):
    """``(height, width)`` of the valid correlation of an image with a filter."""
    return image_shape[0] - filter_shape[0] + 1, image_shape[1] - filter_shape[1] + 1


def pooled_shape(detection, pool_shape):
    """``(rows, cols)`` of pooling blocks over detection maps (edge blocks
    are smaller when the pool does not divide the map)."""
    return -(-detection[0] // pool_shape[0]), -(-detection[1] // pool_shape[1])


@kernel
def im2col(V, filter_height, filter_width, n_channels, P):
    """``P[(s * Hd + i) * Wd + j, (r * fw + q) * C + c] = V[s, i + r, (j + q) * C + c]``.

    ``V``: images ``(n, H, W * C)``; ``P``: patches ``(n * Hd * Wd, fh * fw * C)``
    with ``Hd = H - fh + 1``, ``Wd = W - fw + 1``.
    """
    n, height, row_len = V.shape
    hd = height - filter_height + 1
    wd = row_len // n_channels - filter_width + 1
    span = filter_width * n_channels
    # row views and running offsets: 4x faster than indexing P[row, r * span + t]
    # (measured; LLVM then proves the copies contiguous)
    row = 0
    for s in range(n):
        for i in range(hd):
            for j in range(wd):
                patch = P[row]
                col = 0
                for r in range(filter_height):
                    line = V[s, i + r, j * n_channels:j * n_channels + span]
                    for t in range(span):
                        patch[col + t] = line[t]
                    col += span
                row += 1


@kernel
def col2im(R, filter_height, filter_width, n_channels, V):
    """``V[s, i + r, (j + q) * C + c] += R[(s * Hd + i) * Wd + j, (r * fw + q) * C + c]``,
    over every patch: the transpose of :func:`im2col` (``V`` is not zeroed).

    The same walk as :func:`im2col` in the other direction, kept apart: one
    kernel for both would type the write into ``V`` even when it only reads,
    and refuse read-only images (a read-only memory map).
    """
    n, height, row_len = V.shape
    hd = height - filter_height + 1
    wd = row_len // n_channels - filter_width + 1
    span = filter_width * n_channels
    row = 0
    for s in range(n):
        for i in range(hd):
            for j in range(wd):
                patch = R[row]
                col = 0
                for r in range(filter_height):
                    line = V[s, i + r, j * n_channels:j * n_channels + span]
                    for t in range(span):
                        line[t] += patch[col + t]
                    col += span
                row += 1


@kernel
def pool(I, bias, pool_height, pool_width, key, D, S, pooled, log_z, totals, first=0):
    """Probabilistic max-pooling of the detection inputs ``I + bias``.

    For each block ``B`` of filter ``k`` with inputs ``x_u = I_u + bias[k]``:
    ``P(h_u = 1) = exp(x_u) / (1 + sum_B exp(x))`` into ``D`` (always),
    ``P(p = 1) = 1 - 1 / (1 + sum_B exp(x))`` into ``pooled``, a sample of
    the block (none or one unit on) into ``S``, and
    ``log_z[s] = sum over blocks of log(1 + sum_B exp(x))`` (float64), the
    hidden part of the free energy, and ``totals[k]``, the sum of filter
    ``k``'s detection probabilities (float64; the hidden biases' statistic).

    ``I``, ``D``, ``S``: ``(n, Hd, Wd, K)``; ``pooled``: ``(n, Hp, Wp, K)``.
    ``first``: the index of ``I``'s first image in the mini-batch, which
    numbers the random draws (a block of images draws what the whole
    mini-batch would draw for them).
    """
    n, hd, wd, n_filters = I.shape
    hp = (hd + pool_height - 1) // pool_height
    wp = (wd + pool_width - 1) // pool_width
    sample = S.shape[0] > 0
    want_pooled = pooled.shape[0] > 0
    want_log_z = log_z.shape[0] > 0
    want_totals = totals.shape[0] > 0
    for k in range(totals.shape[0]):
        totals[k] = 0.0
    one = fm.cast_like(1.0, bias[0])
    top = np.empty(n_filters, I.dtype)
    total = np.empty(n_filters, I.dtype)
    p_off = np.empty(n_filters, I.dtype)
    threshold = np.empty(n_filters, I.dtype)
    cumulative = np.empty(n_filters, I.dtype)
    for s in range(n):
        acc = 0.0
        for bi in range(hp):
            i0 = bi * pool_height
            i1 = min(i0 + pool_height, hd)
            for bj in range(wp):
                j0 = bj * pool_width
                j1 = min(j0 + pool_width, wd)
                # shift by the largest input (at least 0, the "all off" state)
                for k in range(n_filters):
                    top[k] = 0.0
                for i in range(i0, i1):
                    for j in range(j0, j1):
                        for k in range(n_filters):
                            top[k] = max(top[k], I[s, i, j, k] + bias[k])
                for k in range(n_filters):
                    p_off[k] = fm.exp(-top[k])
                    total[k] = p_off[k]
                for i in range(i0, i1):
                    for j in range(j0, j1):
                        for k in range(n_filters):
                            e = fm.exp(I[s, i, j, k] + bias[k] - top[k])
                            D[s, i, j, k] = e
                            total[k] += e
                for k in range(n_filters):
                    inv = one / total[k]
                    p_off[k] *= inv
                    total[k] = inv
                for i in range(i0, i1):
                    for j in range(j0, j1):
                        for k in range(n_filters):
                            D[s, i, j, k] *= total[k]
                if want_totals:
                    for k in range(n_filters):
                        # the block's probabilities sum to 1 - p_off
                        totals[k] += one - p_off[k]
                if want_pooled:
                    for k in range(n_filters):
                        pooled[s, bi, bj, k] = one - p_off[k]
                if want_log_z:
                    for k in range(n_filters):
                        # log(1 + sum exp(x)) = top + log(exp(-top) + sum exp(x - top))
                        acc += top[k] - math.log(total[k])
                if sample:
                    base = ((first + s) * hp + bi) * wp + bj
                    for k in range(n_filters):
                        threshold[k] = fm.uniform(key, base * n_filters + k, one)
                        cumulative[k] = p_off[k]
                    # the first unit whose cumulative probability passes the
                    # draw is on; the "all off" state comes first
                    for i in range(i0, i1):
                        for j in range(j0, j1):
                            for k in range(n_filters):
                                before = cumulative[k]
                                cumulative[k] = before + D[s, i, j, k]
                                on = before <= threshold[k] and cumulative[k] > threshold[k]
                                S[s, i, j, k] = one if on else 0.0
        if want_log_z:
            log_z[s] = acc


# ------------------------------------------------ blocks of images on threads
#
# A mini-batch's images are independent until the weight gradient sums
# them, so the three steps below cut the images into blocks of ``block``
# images, and Python threads run a serial kernel on each block
# (``utils._threads.run_blocks``), each with its own single-threaded BLAS
# products (the caller holds BLAS at one thread). The blocks do not depend
# on the number of threads, and the sums over blocks run in block order, so
# the results do not either.


@kernel
def _detect_block(V, filters, filter_height, filter_width, bias, pool_height, pool_width, key,
                  first, P, I, D, S, pooled, log_z, totals):
    n, hd, wd, n_filters = D.shape
    im2col(V, filter_height, filter_width, filters.shape[1] // (filter_height * filter_width), P)
    gemm(False, True, 1.0, P, filters, 0.0, I)
    pool(I.reshape((n, hd, wd, n_filters)), bias, pool_height, pool_width, key, D, S, pooled,
         log_z, totals, first)


def detect(V, filters, filter_height, filter_width, bias, pool_height, pool_width, key, block,
           P, I, D, S, pooled, log_z, totals):
    """The hidden layer of images ``V`` ``(n, H, W * C)``: :func:`im2col`
    into ``P``, the detection inputs ``I = P @ filters.T`` (``filters``
    flattened to ``(K, fh * fw * C)``), then :func:`pool` of ``I + bias``
    into ``D``, ``S``, ``pooled``, ``log_z`` and ``totals`` (the same
    outputs, with the same draws), over blocks of ``block`` images.

    ``P``: ``(n * Hd * Wd, fh * fw * C)``; ``I``: ``(n * Hd * Wd, K)``;
    ``D``: ``(n, Hd, Wd, K)``.
    """
    n, hd, wd, n_filters = D.shape
    n_blocks = -(-n // block)
    partial = np.empty((n_blocks, n_filters))

    def work(b):
        lo, hi = b * block, min(n, (b + 1) * block)
        rows = slice(lo * hd * wd, hi * hd * wd)
        _detect_block(V[lo:hi], filters, filter_height, filter_width, bias, pool_height,
                      pool_width, key, lo, P[rows], I[rows], D[lo:hi], S[lo:hi], pooled[lo:hi],
                      log_z[lo:hi], partial[b])

    run_blocks(work, n_blocks)
    if totals.shape[0]:
        totals[:] = partial.sum(axis=0)


@kernel
def _reconstruct_block(S, filters, filter_height, filter_width, R, Z):
    gemm(False, False, 1.0, S, filters, 0.0, R)
    Z[...] = 0.0
    col2im(R, filter_height, filter_width, filters.shape[1] // (filter_height * filter_width), Z)


def reconstruct(S, filters, filter_height, filter_width, block, R, Z):
    """The full convolution ``Z`` ``(n, H, W * C)`` of the maps ``S``
    ``(n * Hd * Wd, K)`` with the filters: ``R = S @ filters`` then
    :func:`col2im` into the zeroed ``Z``, over blocks of ``block`` images."""
    n = Z.shape[0]
    per_image = S.shape[0] // max(n, 1)
    n_blocks = -(-n // block)

    def work(b):
        lo, hi = b * block, min(n, (b + 1) * block)
        rows = slice(lo * per_image, hi * per_image)
        _reconstruct_block(S[rows], filters, filter_height, filter_width, R[rows], Z[lo:hi])

    run_blocks(work, n_blocks)


def weight_gradient(D, P, per_image, block, alpha, G):
    """``G = alpha * D.T @ P`` (``D``: maps ``(n * per_image, K)``, ``P``
    their patches), one product per block of ``block`` images, summed in
    block order.

    numpy's BLAS, not ``_blas.gemm``: its build ran this transposed
    product 1.5x faster (200 against 300 us for 4,000 patches of 10x10
    and 24 maps, one thread, measured).
    """
    n = D.shape[0] // per_image
    n_blocks = -(-n // block)
    partial = np.empty((n_blocks, *G.shape), G.dtype)

    def work(b):
        rows = slice(b * block * per_image, min(n, (b + 1) * block) * per_image)
        np.matmul(D[rows].T, P[rows], out=partial[b])

    run_blocks(work, n_blocks)
    G[...] = partial[0]
    for b in range(1, n_blocks):
        G += partial[b]
    G *= alpha
