"""Every private scikit-learn name deepzoo uses comes in through here.

When scikit-learn moves one of these, this is the only file to change.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "_fit_context",
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "validate_params",
    "check_is_fitted",
    "validate_data",
]
