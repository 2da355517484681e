"""Discovery of deepzoo's public estimators."""

import inspect

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]


def all_estimators():
    """Every public estimator class of deepzoo.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name, for every class exported in
        ``deepzoo.__all__`` that derives from ``sklearn.base.BaseEstimator``.

    Examples
    --------
    >>> from deepzoo.utils import all_estimators
    >>> all(isinstance(name, str) for name, _ in all_estimators())
    True
    """
    import deepzoo

    found = []
    for name in deepzoo.__all__:
        obj = getattr(deepzoo, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append((name, obj))
    return sorted(found)
