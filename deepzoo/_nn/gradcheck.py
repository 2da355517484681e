"""Gradient checking by centred finite differences.

As the UFLDL notes teach: perturb each parameter by ``+-eps``, take
``(J(theta + eps) - J(theta - eps)) / (2 eps)`` (error O(eps^2)), and compare
with the analytic gradient through the relative error
``||g_analytic - g_numeric|| / (||g_analytic|| + ||g_numeric||)``. In float64
a correct gradient gives about 1e-9 or less; a wrong one gives 1e-2 or more.
"""

from numbers import Real

import numpy as np

from ..utils._compat import Interval, validate_params

__all__ = ["numerical_gradient", "relative_error", "check_gradient"]


def _check_float64(params):
    for i, p in enumerate(params):
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64):
            raise TypeError(
                f"gradient checks need float64 parameters (float32 round-off "
                f"swamps the finite differences); parameter {i} is "
                f"{getattr(p, 'dtype', type(p).__name__)}. Cast with astype(np.float64)."
            )


_EPS = [Interval(Real, 0, None, closed="neither")]


@validate_params(
    {"loss": [callable], "params": [list, tuple], "eps": _EPS},
    prefer_skip_nested_validation=True,
)
def numerical_gradient(loss, params, eps=1e-6):
    """Centred finite-difference gradient of ``loss()`` w.r.t. each array in ``params``.

    Parameters
    ----------
    loss : callable
        ``loss() -> float``, reading the current values of ``params``.
    params : list of float64 ndarray
        Perturbed in place one entry at a time and restored exactly.
    eps : float > 0, default=1e-6
        Half-width of the difference.

    Returns
    -------
    list of ndarray, shapes of ``params``
    """
    _check_float64(params)
    grads = []
    for p in params:
        if not p.flags.c_contiguous:
            raise ValueError("parameters must be C-contiguous: they are perturbed in place.")
        g = np.empty_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss()
            flat[i] = old - eps
            down = loss()
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@validate_params(
    {"analytic": ["array-like", Real], "numeric": ["array-like", Real]},
    prefer_skip_nested_validation=True,
)
def relative_error(analytic, numeric):
    """``||a - n|| / (||a|| + ||n||)``, 0 when both are 0.

    Parameters
    ----------
    analytic, numeric : array-like or float
        Two gradients of the same size (raveled before comparing).

    Returns
    -------
    float
    """
    a = np.ravel(analytic)
    n = np.ravel(numeric)
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return float(np.linalg.norm(a - n) / denom) if denom > 0 else 0.0


@validate_params(
    {"loss_and_grad": [callable], "params": [list, tuple], "eps": _EPS},
    prefer_skip_nested_validation=True,
)
def check_gradient(loss_and_grad, params, eps=1e-6):
    """Largest relative error, over the parameter arrays, of an analytic gradient.

    Parameters
    ----------
    loss_and_grad : callable
        ``loss_and_grad() -> (loss, [grad per parameter])`` at the current
        values of ``params``.
    params : list of float64 ndarray
        The arrays the gradients refer to (perturbed in place and restored).
    eps : float > 0, default=1e-6
        Half-width of the centred differences.

    Returns
    -------
    float
        ``max_k relative_error(analytic_k, numeric_k)``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, -2.0, 0.5])
    >>> f = lambda: (float(np.sum(np.sin(w))), [np.cos(w)])
    >>> check_gradient(f, [w]) < 1e-9
    True
    """
    _check_float64(params)
    _, analytic = loss_and_grad()
    analytic = [np.array(a, dtype=np.float64) for a in analytic]
    if len(analytic) != len(params):
        raise ValueError(f"got {len(analytic)} gradients for {len(params)} parameters.")
    numeric = numerical_gradient(lambda: loss_and_grad()[0], params, eps)
    return max(relative_error(a, n) for a, n in zip(analytic, numeric))
