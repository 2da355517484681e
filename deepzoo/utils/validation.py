"""Domain checks shared by the estimators.

Errors say what was received, what is required and what to use instead.
"""

import numpy as np

__all__ = ["check_unit_interval", "check_finite_state", "check_float_dtype"]


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


def check_finite_state(estimator, *arrays):
    """Raise ``FloatingPointError`` if training produced NaN or inf.

    Called after each epoch so that a diverged model is reported at once,
    with the usual fix, instead of producing NaN features downstream.
    """
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise FloatingPointError(
                f"{type(estimator).__name__} diverged: its parameters contain "
                "NaN or inf. Lower learning_rate (or use momentum/weight decay), "
                "and check the input scale."
            )


def check_float_dtype(X):
    """The dtype learned arrays take: float32 stays float32, else float64."""
    return np.float32 if X.dtype == np.float32 else np.float64
