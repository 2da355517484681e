"""Losses: value, per-sample value and gradient w.r.t. the output pre-activation.

Every loss is a sum over output units and a mean over samples::

    squared_error          l(y, a) = 1/2 * sum_j (a_j - y_j)^2
    binary_cross_entropy   l(y, a) = -sum_j y_j log a_j + (1 - y_j) log(1 - a_j)
    softmax_cross_entropy  l(y, a) = -sum_j y_j log a_j

:func:`output_delta` returns ``dl/dz`` for the output pre-activation ``z``
(``a = f(z)``). Cross-entropies come with their canonical output activation
(sigmoid, softmax), where ``dl/dz = a - y``; the squared error accepts any
element-wise output activation, ``dl/dz = (a - y) f'(z)``.
"""

import numpy as np

from .activations import derivative_from_output

__all__ = ["LOSSES", "binary_cross_entropy_logits", "check_loss_activation", "log_softmax",
           "loss_samples", "loss_value", "output_delta"]

#: loss name -> the output activation it requires (None: any element-wise one)
LOSSES = {
    "squared_error": None,
    "binary_cross_entropy": "sigmoid",
    "softmax_cross_entropy": "softmax",
}


def check_loss_activation(loss, activation):
    """Raise ``ValueError`` unless ``loss`` can be paired with ``activation``."""
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(LOSSES)}.")
    required = LOSSES[loss]
    if required is not None and activation != required:
        raise ValueError(
            f"loss={loss!r} needs outputs in (0, 1) from a {required!r} output "
            f"activation; got {activation!r}. Use activation {required!r} or "
            "loss 'squared_error'."
        )
    if required is None and activation == "softmax":
        raise ValueError(
            "A softmax output pairs with loss 'softmax_cross_entropy'; got "
            f"loss={loss!r}."
        )


def _clip_probabilities(A):
    # log(0) would turn a confident mistake into inf; the clip moves nothing
    # that a float of this precision can tell apart from 0 or 1.
    eps = np.finfo(A.dtype).eps
    return np.clip(A, eps, 1 - eps)


def loss_samples(loss, Y, A):
    """Per-sample loss ``l(y_i, a_i)``, shape ``(n_samples,)``.

    Examples
    --------
    >>> import numpy as np
    >>> loss_samples("squared_error", np.zeros((1, 2)), np.ones((1, 2)))
    array([1.])
    """
    if loss == "squared_error":
        D = A - Y
        return 0.5 * np.einsum("ij,ij->i", D, D)
    P = _clip_probabilities(A)
    if loss == "binary_cross_entropy":
        return -(np.einsum("ij,ij->i", Y, np.log(P)) + np.einsum("ij,ij->i", 1 - Y, np.log1p(-P)))
    if loss == "softmax_cross_entropy":
        return -np.einsum("ij,ij->i", Y, np.log(P))
    raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(LOSSES)}.")


def binary_cross_entropy_logits(Y, Z):
    """Per-sample binary cross-entropy of ``sigmoid(Z)``, from the logits ``Z``.

    ``sum_j y_j softplus(-z_j) + (1 - y_j) softplus(z_j)``, which is
    ``-sum_j y_j log sigmoid(z_j) + (1 - y_j) log(1 - sigmoid(z_j))``
    computed in log space: exact for any ``z``, where :func:`loss_samples`
    has to clip probabilities that round to 0 or 1 (a confident mistake at
    ``z = -1000`` costs 1000, not ``-log(eps)``). Both terms are
    non-negative, so nothing cancels.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets in [0, 1].
    Z : ndarray of shape (n_samples, n_outputs)
        Output pre-activations.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> binary_cross_entropy_logits(np.ones((1, 1)), np.full((1, 1), -1000.0))
    array([1000.])
    """
    return (np.einsum("ij,ij->i", Y, np.logaddexp(0, -Z))
            + np.einsum("ij,ij->i", 1 - Y, np.logaddexp(0, Z)))


def log_softmax(Z):
    """``log softmax(Z)`` row by row, computed in log space (never ``-inf``).

    Examples
    --------
    >>> import numpy as np
    >>> log_softmax(np.array([[0.0, 1000.0]]))
    array([[-1000.,     0.]])
    """
    Z = Z - Z.max(axis=1, keepdims=True)
    Z -= np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return Z


def loss_value(loss, Y, A):
    """Mean over samples of :func:`loss_samples`, as a Python float."""
    return float(np.mean(loss_samples(loss, Y, A)))


def output_delta(loss, activation, Y, A, scale=1.0, out=None):
    """``scale * dl/dz`` for the output pre-activation ``z``, shape of ``A``.

    With ``scale = 1 / n_samples`` this is the gradient of :func:`loss_value`.

    Parameters
    ----------
    loss : str
        A key of :data:`LOSSES`.
    activation : str
        The output activation that produced ``A``.
    Y, A : ndarray of shape (n_samples, n_outputs)
        Targets and outputs.
    scale : float
    out : ndarray, optional
        Where to write the result (may be ``A`` itself).

    Examples
    --------
    >>> import numpy as np
    >>> output_delta("binary_cross_entropy", "sigmoid", np.ones((1, 1)), np.full((1, 1), 0.25))
    array([[-0.75]])
    """
    check_loss_activation(loss, activation)
    derivative = None
    if loss == "squared_error" and activation != "linear":
        # taken before ``out`` is written, since ``out`` may be ``A`` itself
        derivative = derivative_from_output(activation, A)
    out = np.subtract(A, Y, out=out)
    if derivative is not None:
        out *= derivative
    if scale != 1.0:
        out *= out.dtype.type(scale)
    return out
