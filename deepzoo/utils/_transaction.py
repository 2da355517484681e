"""Training calls that either finish or leave the estimator untouched."""

import copy
import functools

__all__ = ["transactional"]


def transactional(method):
    """Make a training method (``fit``, ``partial_fit``) all-or-nothing.

    The estimator's state (``vars(self)``, nested estimators and arrays
    included) is copied before the call and put back if the call raises
    anything, ``KeyboardInterrupt`` included: kernels update parameters in
    place, so without this a failure half-way through an epoch (divergence,
    a bad batch, an interrupt) would leave a model that is neither the old
    one nor a trained one. Nested calls (``fit`` calling ``partial_fit``)
    copy once, at the outermost call.

    Examples
    --------
    >>> class Counter:
    ...     n = 0
    ...     @transactional
    ...     def partial_fit(self, fail):
    ...         self.n += 1
    ...         if fail:
    ...             raise ValueError("bad batch")
    ...         return self
    >>> c = Counter().partial_fit(False)
    >>> try:
    ...     c.partial_fit(True)
    ... except ValueError:
    ...     pass
    >>> c.n
    1
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_transaction", False):
            return method(self, *args, **kwargs)
        # Constructor parameters are not copied: scikit-learn's rules keep
        # them untouched by fit, and a restored estimator must hold the very
        # objects the user passed (``clf.pretrained is stack``).
        params = self.get_params(deep=False).values() if hasattr(self, "get_params") else ()
        saved = copy.deepcopy(self.__dict__, memo={id(v): v for v in params})
        self.__dict__["_in_transaction"] = True
        try:
            result = method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        self.__dict__.pop("_in_transaction", None)
        return result

    return wrapper
