"""The one place where kernel compilation flags are decided."""

import types

import numba

# Fast-math without ``nnan``/``ninf``: kernels must still see and propagate
# NaN and inf so that divergence is detected instead of silently hidden.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def kernel(func=None, **options):
    """Compile ``func`` as a serial, cached, GIL-free kernel.

    ``error_model="numpy"``: division by zero gives inf/NaN like numpy
    instead of raising, which keeps loops free of exception checks.
    """
    # numba accepts a set of flags, not a frozenset.
    opts = dict(cache=True, nogil=True, fastmath=set(FASTMATH), error_model="numpy")
    opts.update(options)
    if func is None:
        return numba.njit(**opts)
    return numba.njit(**opts)(func)


def unfused_kernel(func):
    """``kernel`` without ``reassoc`` and ``contract``: for the sampling
    kernels that the RBM epoch kernel calls to draw normals
    (``rbm.gaussian_rows``, ``nrelu_rows``, ``tempered_visible_rows``).
    With those flags each of them rounded differently in a process that
    loaded the epoch kernel from numba's cache than in the one that
    compiled it, so a warm cache gave other fits than a cold one
    (tests/test_reproducibility.py; docs/ARCHITECTURE.md, "Numba's cache
    does not follow imports"). Why is not known.
    """
    return kernel(func, fastmath=set(FASTMATH) - {"reassoc", "contract"})


def parallel_kernel(func=None, **options):
    """Compile ``func`` as the ``parallel=True`` twin (rows independent)."""
    return kernel(func, parallel=True, **options)


def twins(func):
    """Compile ``func`` twice: ``(serial, parallel)`` with ``prange`` loops.

    Each twin compiles a copy of ``func`` under its own qualified name, so
    that each has its own cache file: Numba's cache index does not tell
    target options apart (numba issue 6845), and twins of one function
    would share one entry; whichever compiled first would then run for both
    in every later process, a serial kernel on threads or a parallel one on
    one core.
    """
    return (kernel(_renamed(func, "serial")),
            parallel_kernel(_renamed(func, "parallel")))


def _renamed(func, suffix):
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__,
                              func.__defaults__, func.__closure__)
    copy.__qualname__ = f"{func.__qualname__}_{suffix}"
    copy.__doc__ = func.__doc__
    return copy


def when_given(func):
    """``func`` compiled as a kernel, called only when its first argument is
    not None.

    Inside a kernel, the call dispatches on that argument's type: with None
    it is a no-op and ``func`` is not even typed. A kernel that takes an
    optional feature's arrays as None when the feature is off (fast weights,
    a learned variance) thus compiles none of its code, where an empty
    array would compile it in every variant (seconds of a first fit).
    """
    from numba import types
    from numba.extending import overload

    # Without ``contract``: with it, fast PCD's weight step (a when_given
    # kernel) rounded differently in the process that compiled its caller
    # and in one that loaded the caller from numba's cache (a different
    # product fused into an FMA), so a warm cache gave other fast weights
    # than a cold one; unfused, they agree bit for bit
    # (tests/test_reproducibility.py). Why the cached code differs from the
    # freshly compiled one is not known yet.
    compiled = kernel(func, fastmath=set(FASTMATH) - {"contract"})

    def call(first, *args):
        if first is not None:
            compiled(first, *args)

    @overload(call)
    def _call(first, *args):
        if isinstance(first, types.NoneType):
            return lambda first, *args: None
        return lambda first, *args: compiled(first, *args)

    call.__name__ = call.__qualname__ = func.__name__
    call.__doc__ = func.__doc__
    call.kernel = compiled
    return call
