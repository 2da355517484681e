"""The one place where kernel compilation flags are decided."""

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


def parallel_kernel(func=None, **options):
    """Compile ``func`` as the ``parallel=True`` twin (rows independent)."""
    return kernel(func, parallel=True, **options)
