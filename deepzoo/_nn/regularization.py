"""Regularisers: weight penalties, max-norm constraint, inverted dropout.

Penalties are added to a loss that is already a mean over samples, so
``alpha`` does not depend on the batch size. They apply to weights, not to
biases.
"""

import numpy as np

__all__ = [
    "l2_penalty",
    "add_l2_gradient",
    "l1_penalty",
    "add_l1_gradient",
    "max_norm",
    "dropout",
]


def l2_penalty(W, alpha):
    """``alpha / 2 * ||W||_F^2`` (weight decay)."""
    return 0.5 * alpha * float(np.vdot(W, W))


def add_l2_gradient(grad, W, alpha):
    """``grad += alpha * W`` in place: the gradient of :func:`l2_penalty`."""
    if alpha:
        grad += W.dtype.type(alpha) * W
    return grad


def l1_penalty(W, alpha):
    """``alpha * sum |W|``."""
    return alpha * float(np.abs(W).sum())


def add_l1_gradient(grad, W, alpha):
    """``grad += alpha * sign(W)`` in place (the subgradient 0 at W = 0)."""
    if alpha:
        grad += W.dtype.type(alpha) * np.sign(W)
    return grad


def max_norm(W, max_value, axis=1):
    """Rescale, in place, every unit's weight vector whose L2 norm exceeds ``max_value``.

    With the ``(fan_out, fan_in)`` layout (``axis=1``) each row holds one
    unit's incoming weights, as in Srivastava et al. (2014), section 5.1.
    Vectors already inside the ball are left untouched.

    Returns
    -------
    W : the same array

    Examples
    --------
    >>> import numpy as np
    >>> max_norm(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    array([[0.6, 0.8],
           [0.3, 0.4]])
    """
    if not max_value > 0:
        raise ValueError(f"max_norm needs max_value > 0; got {max_value}.")
    norms = np.sqrt(np.einsum("ij,ij->i", W, W) if axis == 1 else np.einsum("ij,ij->j", W, W))
    factor = np.minimum(1, max_value / np.maximum(norms, np.finfo(W.dtype).tiny))
    W *= factor[:, None] if axis == 1 else factor[None, :]
    return W


def dropout(X, rate, rng):
    """Inverted dropout: zero each entry with probability ``rate``, scale the rest by ``1 / (1 - rate)``.

    The expectation of the output equals ``X``, so nothing is rescaled at
    prediction time, when dropout is simply not applied (Srivastava et al.
    2014, with the scaling moved to training time).

    Parameters
    ----------
    X : ndarray
    rate : float in [0, 1)
        Probability of dropping an entry.
    rng : numpy.random.RandomState or numpy.random.Generator

    Returns
    -------
    Y : ndarray, ``X * mask``
    mask : ndarray of ``X.dtype``
        0 or ``1 / (1 - rate)``; the backward pass multiplies the incoming
        gradient by the same mask.

    Examples
    --------
    >>> import numpy as np
    >>> Y, mask = dropout(np.ones((2, 3)), 0.5, np.random.RandomState(0))
    >>> np.unique(Y)
    array([0., 2.])
    """
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1); got {rate}.")
    dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
    mask = (rng.random(X.shape) >= rate).astype(dtype)
    mask *= dtype.type(1 / (1 - rate))
    return X * mask, mask
