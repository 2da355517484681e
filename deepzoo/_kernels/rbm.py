"""Kernels of the restricted Boltzmann machines.

Pure functions on arrays: fused bias + activation + sampling steps, the
momentum update, free-energy sums, the exact partition function by
enumeration and the inner step of annealed importance sampling. Matrix
products stay with the caller (BLAS). Row loops run in parallel; every
random draw is ``uniform(key, row * n_cols + col)`` (see ``_fastmath``), so a
key reproduces a step bit for bit whatever the number of threads.

An output argument with zero rows means "not wanted": the kernel skips it.

The per-mini-batch kernels are serial: they take tens of microseconds, less
than waking a thread team costs, and the numba threads then spin on the
cores that the next GEMM's BLAS threads need (measured: a parallel weight
update made a CD-1 epoch several times slower and far more variable). The evaluation kernels (free energies,
pseudo-likelihood, enumeration of states) that do O(n_features *
n_components) or more work per parallel task run in parallel. Sums of
softplus terms run in the data type (see ``softplus_rows``).
"""

import math

import numpy as np
from numba import prange

from . import _fastmath as fm
from ._config import kernel, parallel_kernel


@kernel
def sigmoid_rows(Z, z_scale, bias, out_scale, key, P, S):
    """``P = out_scale * sigmoid(z_scale * Z + bias)``; ``S ~ Bernoulli(sigmoid(.))``.

    ``S`` with zero rows: no sample drawn. Outputs should not overlap ``Z``:
    LLVM's run-time alias check would fall back to scalar code (4x slower).
    """
    n, m = Z.shape
    sample = S.shape[0] > 0
    z_scale = fm.cast_like(z_scale, bias[0])
    out_scale = fm.cast_like(out_scale, bias[0])
    for i in prange(n):
        base = i * m
        for j in range(m):
            p = fm.sigmoid(z_scale * Z[i, j] + bias[j])
            if sample:
                S[i, j] = 1.0 if fm.uniform(key, base + j, p) < p else 0.0
            P[i, j] = out_scale * p


@kernel
def sigmoid_sqerr_rows(Z, bias, X, P, err):
    """``P = sigmoid(Z + bias)`` and ``err[i] = sum_j (X[i, j] - P[i, j])**2``."""
    n, m = Z.shape
    for i in prange(n):
        # monitoring only: accumulate in the data type (vectorises wider)
        acc = fm.cast_like(0.0, bias[0])
        for j in range(m):
            p = fm.sigmoid(Z[i, j] + bias[j])
            P[i, j] = p
            d = X[i, j] - p
            acc += d * d
        err[i] = acc


@kernel
def gaussian_rows(Z, bias, scale, std, key, M, S):
    """``M = bias + scale * Z``; ``S = M + std * N(0, 1)``.

    Linear (Gaussian) hidden units use ``scale = std = 1``; Gaussian visible
    units with variances ``s**2`` use ``scale = s**2`` and ``std = s``.
    """
    n, m = Z.shape
    sample = S.shape[0] > 0
    for i in prange(n):
        base = i * m
        for j in range(m):
            mean = bias[j] + scale[j] * Z[i, j]
            if sample:
                S[i, j] = mean + std[j] * fm.normal(key, base + j, mean)
            M[i, j] = mean


@kernel
def nrelu_rows(Z, bias, key, M, S):
    """Noisy rectified linear units (Nair & Hinton 2010).

    ``M = max(0, x)`` with ``x = Z + bias``; ``S = max(0, x + N(0, sigmoid(x)))``.
    """
    n, m = Z.shape
    sample = S.shape[0] > 0
    for i in prange(n):
        base = i * m
        for j in range(m):
            x = Z[i, j] + bias[j]
            if sample:
                noise = fm.normal(key, base + j, x) * math.sqrt(fm.sigmoid(x))
                S[i, j] = max(x + noise, 0.0)
            M[i, j] = max(x, 0.0)


@kernel
def sqerr_rows(X, V, err):
    """``err[i] = sum_j (X[i, j] - V[i, j])**2``."""
    n, m = X.shape
    for i in prange(n):
        acc = fm.cast_like(0.0, V[0, 0])
        for j in range(m):
            d = X[i, j] - V[i, j]
            acc += d * d
        err[i] = acc


@kernel
def softplus_rows(Z, bias, beta, out):
    """``out[i] = sum_j softplus(beta * (Z[i, j] + bias[j]))``.

    Summed in the data type: the vectorised loop keeps 32 partial sums, so
    the rounding error stays near that of a pairwise sum, while mixing
    float32 terms into a float64 sum would stop the vectorisation (2.5x
    slower, measured).
    """
    n, m = Z.shape
    beta = fm.cast_like(beta, bias[0])
    for i in prange(n):
        acc = fm.cast_like(0.0, bias[0])
        for j in range(m):
            acc += fm.softplus(beta * (Z[i, j] + bias[j]))
        out[i] = acc


@kernel
def decay_momentum_step(param, grad, velocity, learning_rate, momentum, grad_scale, weight_decay):
    """``velocity = momentum * velocity + lr * (grad_scale * grad - wd * param)``; ``param += velocity``.

    The RBM update of Hinton's recipe in one pass: gradient scaling (1 / batch)
    and L2 weight decay fused into the momentum step, so the raw statistics
    of the single weight-gradient GEMM are used as they are.

    All three arrays are 1-D views (``ravel`` of contiguous arrays).
    """
    learning_rate = fm.cast_like(learning_rate, param[0])
    momentum = fm.cast_like(momentum, param[0])
    step = learning_rate * fm.cast_like(grad_scale, param[0])
    decay = learning_rate * fm.cast_like(weight_decay, param[0])
    # one flat loop: a blocked loop with a min() bound ran 2.5x slower
    for k in range(param.shape[0]):
        v = momentum * velocity[k] + step * grad[k] - decay * param[k]
        velocity[k] = v
        param[k] += v



@kernel
def decay_step(param, grad, learning_rate, grad_scale, weight_decay):
    """``param += lr * (grad_scale * grad - wd * param)``: the update without
    momentum, which needs no velocity array (two memory streams fewer)."""
    step = fm.cast_like(learning_rate, param[0]) * fm.cast_like(grad_scale, param[0])
    decay = fm.cast_like(learning_rate, param[0]) * fm.cast_like(weight_decay, param[0])
    for k in range(param.shape[0]):
        param[k] += step * grad[k] - decay * param[k]


@kernel
def ais_hidden_rows(X, bias, beta_prev, beta, key, log_w, H):
    """One AIS step on the hidden side, for every chain (row).

    ``x = X + bias`` is the hidden input of the current visible state.
    Adds ``sum_j softplus(beta x_j) - softplus(beta_prev x_j)`` to
    ``log_w[i]`` (the change of the unnormalised log-probability from one
    temperature to the next) and samples ``H ~ Bernoulli(sigmoid(beta x))``,
    the hidden half of the transition that leaves ``p_beta`` invariant.
    """
    n, m = X.shape
    beta_prev = fm.cast_like(beta_prev, bias[0])
    beta = fm.cast_like(beta, bias[0])
    for i in prange(n):
        base = i * m
        acc = fm.cast_like(0.0, bias[0])
        for j in range(m):
            x = X[i, j] + bias[j]
            acc += fm.softplus(beta * x) - fm.softplus(beta_prev * x)
            p = fm.sigmoid(beta * x)
            H[i, j] = 1.0 if fm.uniform(key, base + j, p) < p else 0.0
        log_w[i] += acc


@parallel_kernel
def logsumexp_states(M, offset, linear, kind, weights, chunk_bits):
    """``log sum_s exp(linear . s + sum_o f_o(offset_o + (s M)_o))`` over ``s`` in {0, 1}**r.

    ``M`` has shape (r, n_other): the layer being enumerated has ``r``
    binary units, the other layer is summed out analytically through ``f``:
    ``kind == 0``: ``f_o(a) = softplus(a)`` (Bernoulli units);
    ``kind == 1``: ``f_o(a) = weights_o * a**2`` (Gaussian units).

    The states are visited in Gray-code order, so each step adds or removes
    one row of ``M`` (``n_other`` additions instead of a matrix product).
    Blocks of ``2**chunk_bits`` states run in parallel, each with its own
    running log-sum-exp in float64.
    """
    r, n_other = M.shape
    n_chunks = 1 << max(r - chunk_bits, 0)
    size = (1 << r) // n_chunks
    maxes = np.empty(n_chunks)
    sums = np.empty(n_chunks)
    zero = fm.cast_like(0.0, M[0, 0])
    for c in prange(n_chunks):
        # float64 running sums (2**chunk_bits updates must not drift) and
        # their copy in the data type for the vectorised softplus.
        a = np.empty(n_other)
        a_low = np.empty(n_other, dtype=M.dtype)
        start = c * size
        gray = start ^ (start >> 1)
        lin = 0.0
        for o in range(n_other):
            a[o] = offset[o]
        for u in range(r):
            if (gray >> u) & 1:
                lin += linear[u]
                for o in range(n_other):
                    a[o] += M[u, o]
        for o in range(n_other):
            a_low[o] = a[o]
        best = -np.inf
        total = 0.0
        for t in range(size):
            if t > 0:
                k = start + t
                # the bit that changes between gray(k - 1) and gray(k)
                u = 0
                while not (k >> u) & 1:
                    u += 1
                sign = -1.0 if (gray >> u) & 1 else 1.0
                lin += sign * linear[u]
                for o in range(n_other):
                    ao = a[o] + sign * M[u, o]
                    a[o] = ao
                    a_low[o] = ao
                gray ^= 1 << u
            value = 0.0
            if kind == 0:
                part = zero
                for o in range(n_other):
                    part += fm.softplus(a_low[o])
                value = np.float64(part)
            else:
                for o in range(n_other):
                    value += weights[o] * a[o] * a[o]
            value += lin
            if value > best:
                total = total * math.exp(best - value) + 1.0
                best = value
            else:
                total += math.exp(value - best)
        maxes[c] = best
        sums[c] = total
    top = maxes.max()
    return top + math.log(np.sum(sums * np.exp(maxes - top)))


@parallel_kernel
def pseudo_loglik_rows(X, Hin, WT, bias_visible, out):
    """Mean over features of ``log p(v_f | v_-f)`` for binary visible units.

    ``Hin = X @ W.T + c`` (hidden inputs), ``WT`` the weights transposed
    (n_features, n_components). Flipping feature ``f`` (``v_f -> 1 - v_f``)
    changes the free energy by ``dF = -b_f d - sum_j [softplus(x_j + d W_jf)
    - softplus(x_j)]`` with ``d = 1 - 2 v_f``, and
    ``log p(v_f | v_-f) = log sigmoid(dF)``. Exact: every feature is flipped,
    O(n_features * n_components) per sample.
    """
    n, d = X.shape
    m = Hin.shape[1]
    for i in prange(n):
        total = 0.0
        for f in range(d):
            delta = fm.cast_like(1.0 - 2.0 * X[i, f], Hin[0, 0])
            change = fm.cast_like(0.0, Hin[0, 0])
            for j in range(m):
                x = Hin[i, j]
                change += fm.softplus(x + delta * WT[f, j]) - fm.softplus(x)
            dF = -bias_visible[f] * delta - change
            # log sigmoid(dF) = -softplus(-dF), in float64
            total -= max(-dF, 0.0) + math.log1p(math.exp(-abs(dF)))
        out[i] = total / d
