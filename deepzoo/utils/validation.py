"""Domain checks shared by the estimators.

Errors say what was received, what is required and what to use instead.
"""

import numpy as np
from sklearn.utils import check_array

__all__ = ["check_unit_interval", "check_codes", "check_2d", "check_not_bool",
           "check_float_array"]


def check_unit_interval(X, estimator_name, alternative=None):
    """Raise ``ValueError`` unless every value of ``X`` lies in [0, 1].

    Parameters
    ----------
    X : ndarray or sparse matrix
        Validated, finite data.
    estimator_name : str
        Name used in the message.
    alternative : str, optional
        An estimator to suggest for data outside [0, 1].
    """
    data = X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else X
    if data.size == 0:
        return
    lo, hi = float(data.min()), float(data.max())
    if lo < 0 or hi > 1:
        hint = "Scale with sklearn.preprocessing.MinMaxScaler"
        if alternative:
            hint += f" or use {alternative}"
        raise ValueError(
            f"{estimator_name} expects values in [0, 1]; got min={lo:.4g}, "
            f"max={hi:.4g}. {hint}."
        )


def unit_interval_check(caller, estimator_name, alternative=None):
    """:func:`check_unit_interval` as the ``check`` of a streamed chunk
    (:class:`deepzoo.utils.streaming.RowStream`): the message names the
    call and the chunk.

    Parameters
    ----------
    caller : str
        ``Class.method``, named first in the message.
    estimator_name, alternative : str
        As :func:`check_unit_interval`'s.

    Returns
    -------
    callable
        ``check(chunk, where)``.
    """
    def check(chunk, where):
        try:
            check_unit_interval(chunk, estimator_name, alternative=alternative)
        except ValueError as e:
            raise ValueError(f"{caller}: {where} of X: {e}") from None
    return check


def check_not_bool(caller, **counts):
    """Raise ``TypeError`` if a count was given as a bool.

    ``bool`` is an ``Integral``, so scikit-learn's parameter validation takes
    ``True`` for 1 and the error surfaces later as a bare numpy message.

    Parameters
    ----------
    caller : str
        Function or method named in the message.
    **counts
        The values to check, by parameter name.
    """
    for name, value in counts.items():
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{caller}: {name} must be an int, not a bool; got {value!r}.")


def check_2d(X, name, shape_hint, row="sample"):
    """Raise ``ValueError`` unless ``X`` (array-like) is 2-D.

    scikit-learn's own message suggests ``reshape(-1, 1)`` for a single
    feature, which is the wrong fix for a dictionary or for codes; this one
    names the expected shape.

    Parameters
    ----------
    X : array-like
    name : str
        Name of the argument, used in the message.
    shape_hint : str
        The expected shape, e.g. ``"(n_samples, n_features)"``.
    row : str, default="sample"
        What one row is (``"sample"``, ``"atom"``), for the reshape hint.
    """
    ndim = np.ndim(X)
    if ndim != 2:
        raise ValueError(
            f"{name} must be 2-D {shape_hint}; got a {ndim}-D array of shape "
            f"{np.shape(X)}. For a single {row} use {name}.reshape(1, -1)."
        )


def check_codes(X, n_components, caller, dtype=None):
    """Codes for a down-pass: a finite 2-D float array with ``n_components`` columns.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_components)
    n_components : int
        Width of the code layer.
    caller : str
        ``Class.method`` used in the messages.
    dtype : dtype, optional
        Convert to this dtype; default: float32 and float64 kept, anything
        else becomes float64.

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    check_2d(X, "X", "(n_samples, n_components)", row="code")
    codes = check_array(X, dtype=[np.float64, np.float32] if dtype is None else dtype,
                        ensure_all_finite=False, input_name="X")
    if codes.shape[1] != n_components:
        raise ValueError(
            f"{caller} expects codes with {n_components} columns (n_components); "
            f"got {codes.shape[1]}."
        )
    if not np.all(np.isfinite(codes)):
        raise ValueError(
            f"{caller}: the codes contain NaN or inf; pass finite codes, e.g. the "
            "output of transform."
        )
    return codes


def check_float_array(X, caller, ensure_2d=True):
    """Any array-like as a finite, C-contiguous float array (float32 kept, else float64).

    For the public helpers that take raw arrays (``corrupt``, ``dropout``):
    every refusal names ``X`` and ``caller``.

    Parameters
    ----------
    X : array-like
    caller : str
        Function named in the messages.
    ensure_2d : bool, default=True
        Require shape ``(n_samples, n_features)``; else any number of
        dimensions (for element-wise helpers).

    Returns
    -------
    ndarray
    """
    if ensure_2d:
        check_2d(X, "X", "(n_samples, n_features)")
    # check_array's own message for complex input names neither X nor the fix
    if np.iscomplexobj(X.data if hasattr(X, "tocsr") else X):
        raise ValueError(f"{caller}: X must be real; got complex values. Pass X.real "
                         "or abs(X) as intended.")
    return check_array(X, dtype=[np.float64, np.float32], order="C", ensure_2d=ensure_2d,
                       allow_nd=not ensure_2d, ensure_min_samples=0, input_name="X")
