"""Regularisers: weight penalties, max-norm constraint, inverted dropout.

Penalties are added to a loss that is already a mean over samples, so
``alpha`` does not depend on the batch size. They apply to weights, not to
biases.
"""

from numbers import Integral, Real

import numpy as np

from ..utils._compat import Interval, Options, validate_params
from ..utils.validation import check_float_array

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


@validate_params(
    {
        "W": [np.ndarray],
        "max_value": [Interval(Real, 0, None, closed="neither")],
        "axis": [Options(Integral, {0, 1})],
    },
    prefer_skip_nested_validation=True,
)
def max_norm(W, max_value, axis=1):
    """Rescale, in place, every unit's weight vector whose L2 norm exceeds ``max_value``.

    With the ``(fan_out, fan_in)`` layout (``axis=1``) each row holds one
    unit's incoming weights, as in Srivastava et al. (2014), section 5.1.
    Vectors already inside the ball are left untouched.

    Parameters
    ----------
    W : ndarray of shape (fan_out, fan_in)
        Finite, writeable, of a float dtype: it is rescaled in place.
    max_value : float > 0
    axis : {0, 1}, default=1
        The axis along which a vector is one unit's weights.

    Returns
    -------
    W : the same array

    Raises
    ------
    ValueError, TypeError
        Naming the argument: ``W`` not a finite writeable 2-D float array,
        ``max_value`` not positive, ``axis`` neither 0 nor 1.

    Examples
    --------
    >>> import numpy as np
    >>> max_norm(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    array([[0.6, 0.8],
           [0.3, 0.4]])
    """
    if W.ndim != 2 or W.dtype.kind != "f":
        raise TypeError(f"max_norm rescales W in place: W must be a 2-D float array; got a "
                        f"{W.ndim}-D array of dtype {W.dtype}. Convert it with "
                        "W.astype(float) and use the result.")
    if not W.flags.writeable:
        raise ValueError("max_norm rescales W in place, but W is read-only; pass a copy.")
    if not np.all(np.isfinite(W)):
        raise ValueError("max_norm: W contains NaN or inf; its norms are undefined.")
    return _max_norm(W, max_value, axis)


def _max_norm(W, max_value, axis=1):
    """:func:`max_norm` without validation, for the training loop's mini-batches."""
    norms = np.sqrt(np.einsum("ij,ij->i", W, W) if axis == 1 else np.einsum("ij,ij->j", W, W))
    factor = np.minimum(1, max_value / np.maximum(norms, np.finfo(W.dtype).tiny))
    W *= factor[:, None] if axis == 1 else factor[None, :]
    return W


@validate_params(
    {
        "X": ["array-like"],
        "rate": [Interval(Real, 0, 1, closed="left")],
        "rng": [np.random.RandomState, np.random.Generator],
    },
    prefer_skip_nested_validation=True,
)
def dropout(X, rate, rng):
    """Inverted dropout: zero each entry with probability ``rate``, scale the rest by ``1 / (1 - rate)``.

    The expectation of the output equals ``X``, so nothing is rescaled at
    prediction time, when dropout is simply not applied (Srivastava et al.
    2014, with the scaling moved to training time).

    Parameters
    ----------
    X : array-like
        Finite, of any shape; float32 stays float32, anything else becomes
        float64.
    rate : float in [0, 1)
        Probability of dropping an entry.
    rng : numpy.random.RandomState or numpy.random.Generator

    Returns
    -------
    Y : ndarray, ``X * mask``
    mask : ndarray of the dtype of ``Y``
        0 or ``1 / (1 - rate)``; the backward pass multiplies the incoming
        gradient by the same mask.

    Raises
    ------
    ValueError, TypeError
        Naming the argument: ``X`` not a finite real dense array, ``rate``
        outside [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> Y, mask = dropout(np.ones((2, 3)), 0.5, np.random.RandomState(0))
    >>> np.unique(Y)
    array([0., 2.])
    """
    return _dropout(check_float_array(X, "dropout", ensure_2d=False), rate, rng)


def _dropout(X, rate, rng):
    """:func:`dropout` without validation, for the training loop's mini-batches.

    ``X`` is a float array and ``rate`` lies in [0, 1).
    """
    mask = (rng.random(X.shape) >= rate).astype(X.dtype)
    mask *= X.dtype.type(1 / (1 - rate))
    return X * mask, mask
