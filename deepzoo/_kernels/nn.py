"""Fused element-wise kernels of the backprop core.

Each kernel makes one pass over memory where numpy would make several passes
and allocate temporaries (an Adam step is ten numpy operations on arrays as
large as the weight matrix). Arrays are 1-D views of C-contiguous parameter
arrays, or 2-D activations; scalars arrive already cast to the array dtype so
float32 arithmetic stays float32. Each kernel has a serial and a
``parallel=True`` twin (elements are independent); the callers pick by size.
"""

import numba
import numpy as np

from ._config import twins
from ._fastmath import exp, log1p, normal, sigmoid, uniform

__all__ = [
    "sgd_step",
    "momentum_step",
    "nesterov_step",
    "adagrad_step",
    "rmsprop_step",
    "adam_step",
    "sigmoid_inplace",
    "mul_sigmoid_derivative",
    "mul_tanh_derivative",
    "mul_relu_derivative",
    "sigmoid_cross_entropy_delta",
    "squared_error_delta",
    "mask_noise",
    "salt_and_pepper_noise",
    "gaussian_noise",
    "PARALLEL_MIN_SIZE",
    "pick",
    "as_scalar",
]

#: Arrays with fewer elements than this run the serial twin. These loops are
#: memory-bound and vectorised: below about a million elements, waking
#: threads costs more than it saves (measured on 2 busy cores).
PARALLEL_MIN_SIZE = 1 << 20


# ---------------------------------------------------------------- optimizers
# ``p`` parameters, ``g`` gradient, state arrays as named; all 1-D, same dtype.
# Every scalar, complements such as ``1 - beta`` included, comes in from the
# caller in the array dtype: a Python literal in the loop would promote
# float32 arithmetic to float64 and stop the loop from vectorising.


def _sgd(p, g, lr):
    for i in numba.prange(p.shape[0]):
        p[i] -= lr * g[i]


def _momentum(p, g, v, lr, mu):
    for i in numba.prange(p.shape[0]):
        vi = mu * v[i] - lr * g[i]
        v[i] = vi
        p[i] += vi


def _nesterov(p, g, v, lr, mu):
    # Sutskever et al. (2013) form: the look-ahead gradient is folded in, so
    # ``g`` is taken at the current parameters.
    for i in numba.prange(p.shape[0]):
        vi = mu * v[i] - lr * g[i]
        v[i] = vi
        p[i] += mu * vi - lr * g[i]


def _adagrad(p, g, s, lr, eps):
    for i in numba.prange(p.shape[0]):
        gi = g[i]
        si = s[i] + gi * gi
        s[i] = si
        p[i] -= lr * gi / (np.sqrt(si) + eps)


def _rmsprop(p, g, s, lr, rho, one_minus_rho, eps):
    for i in numba.prange(p.shape[0]):
        gi = g[i]
        si = rho * s[i] + one_minus_rho * gi * gi
        s[i] = si
        p[i] -= lr * gi / (np.sqrt(si) + eps)


def _adam(p, g, m, v, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_t):
    # ``lr_t`` and ``eps_t`` carry the bias corrections (Kingma & Ba 2015,
    # end of section 2), so the loop needs no power of beta.
    for i in numba.prange(p.shape[0]):
        gi = g[i]
        mi = beta1 * m[i] + one_minus_beta1 * gi
        vi = beta2 * v[i] + one_minus_beta2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] -= lr_t * mi / (np.sqrt(vi) + eps_t)


sgd_step = twins(_sgd)
momentum_step = twins(_momentum)
nesterov_step = twins(_nesterov)
adagrad_step = twins(_adagrad)
rmsprop_step = twins(_rmsprop)
adam_step = twins(_adam)


# --------------------------------------------------------------- activations
# 2-D arrays (a batch of activations), rows in parallel.


def _sigmoid_inplace(Z):
    for i in numba.prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] = sigmoid(Z[i, j])


# ``a - a * a`` and ``d - d * a * a`` instead of ``a * (1 - a)`` and
# ``d * (1 - a * a)``: no literal 1 to promote float32 to float64.


def _mul_sigmoid_derivative(D, A):
    for i in numba.prange(D.shape[0]):
        for j in range(D.shape[1]):
            a = A[i, j]
            D[i, j] *= a - a * a


def _mul_tanh_derivative(D, A):
    for i in numba.prange(D.shape[0]):
        for j in range(D.shape[1]):
            a = A[i, j]
            d = D[i, j]
            D[i, j] = d - d * a * a


def _mul_relu_derivative(D, A):
    for i in numba.prange(D.shape[0]):
        for j in range(D.shape[1]):
            # multiply rather than assign, so a NaN in D still propagates
            if not A[i, j] > 0:
                D[i, j] *= 0


sigmoid_inplace = twins(_sigmoid_inplace)
mul_sigmoid_derivative = twins(_mul_sigmoid_derivative)
mul_tanh_derivative = twins(_mul_tanh_derivative)
mul_relu_derivative = twins(_mul_relu_derivative)


# ------------------------------------------------------------ output layer
# ``Z`` holds the output pre-activation without its bias ``b`` (the product
# ``H @ W``); it is overwritten by ``scale * dl/dz`` and ``rows`` (zeros on
# entry) receives each sample's loss, in one pass. ``one`` is 1 in the dtype.


def _sigmoid_cross_entropy_delta(Z, b, Y, scale, one, rows):
    # l = softplus(z) - y z computed from the logit: no log(0), no clipping.
    # With e = exp(-|z|): softplus(z) = max(z, 0) + log(1 + e) and
    # sigmoid(z) = 1 / (1 + e) for z >= 0, e / (1 + e) otherwise.
    zero = one - one
    for i in numba.prange(Z.shape[0]):
        s = rows[i]
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[j]
            y = Y[i, j]
            a = abs(z)
            e = exp(-a)
            p = one / (one + e)
            s += max(z, zero) + log1p(e) - y * z
            Z[i, j] = ((p if z >= zero else e * p) - y) * scale
        rows[i] = s


def _squared_error_delta(Z, b, Y, scale, one, rows):
    # linear output: l = (z - y)^2 / 2, dl/dz = z - y
    half = one / (one + one)
    for i in numba.prange(Z.shape[0]):
        s = rows[i]
        for j in range(Z.shape[1]):
            d = Z[i, j] + b[j] - Y[i, j]
            s += d * d
            Z[i, j] = d * scale
        rows[i] = s * half


sigmoid_cross_entropy_delta = twins(_sigmoid_cross_entropy_delta)
squared_error_delta = twins(_squared_error_delta)


# -------------------------------------------------------------- corruption
# Noise for denoising autoencoders from the counter-based generator of
# ``_fastmath``: draw ``idx`` of key ``key`` is the same whatever the thread
# count, so a seed reproduces a run bit for bit.


def _mask_noise(X, key, level, fill, out):
    # each entry is replaced by ``fill`` with probability ``level``
    d = X.shape[1]
    for i in numba.prange(X.shape[0]):
        for j in range(d):
            x = X[i, j]
            out[i, j] = fill if uniform(key, i * d + j, x) < level else x


def _salt_and_pepper_noise(X, key, level, low, high, out):
    # with probability ``level`` an entry becomes ``low`` or ``high``, by a
    # fair coin (Vincent et al. 2010, section 4.1)
    d = X.shape[1]
    for i in numba.prange(X.shape[0]):
        for j in range(d):
            x = X[i, j]
            idx = 2 * (i * d + j)
            if uniform(key, idx, x) < level:
                x = low if uniform(key, idx + 1, x) < 0.5 else high
            out[i, j] = x


def _gaussian_noise(X, key, sigma, out):
    d = X.shape[1]
    for i in numba.prange(X.shape[0]):
        for j in range(d):
            x = X[i, j]
            out[i, j] = x + sigma * normal(key, i * d + j, x)


mask_noise = twins(_mask_noise)
salt_and_pepper_noise = twins(_salt_and_pepper_noise)
gaussian_noise = twins(_gaussian_noise)


def pick(pair, size):
    """The serial or parallel twin of ``pair`` (from :func:`twins`) for an
    array of ``size``."""
    return pair[size >= PARALLEL_MIN_SIZE]


def as_scalar(value, dtype):
    """``value`` as a numpy scalar of ``dtype`` (keeps float32 loops float32)."""
    return np.dtype(dtype).type(value)
