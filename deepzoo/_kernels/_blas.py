"""BLAS called from inside kernels: ``gemm``, ``gemv``, ``axpy`` and ``scal``.

A kernel that loops over mini-batches needs its matrix products without a
trip back to Python. These are scipy's BLAS (``scipy.linalg.cython_blas``,
always present with scipy), called by name from compiled code. The symbols
are registered with LLVM under deepzoo's own names when this module is
imported, so the compiled kernels stay cacheable (a raw function address
baked into the machine code would not survive a new process).

Two more things ``np.matmul`` cannot do are the reason for ``gemm``: the
``alpha``/``beta`` of BLAS, which fold a gradient step into the product
(``W <- beta * W + alpha * H.T @ V``), and products into strided views (a
block of columns of a buffer). ``axpy`` and ``scal`` run on BLAS's own threads; numba's
threads would fight BLAS's over the cores between products (see
``deepzoo.utils._threads``).

Both are plain numpy functions when called from Python (or with the JIT
disabled) and compile to the BLAS call inside a kernel.

Arrays are row-major with unit stride along rows (any row stride), the
BLAS's 32-bit sizes. A row-major ``C`` is the column-major ``C.T``, so
``C = op(A) @ op(B)`` is computed as the column-major ``C.T = op(B).T @
op(A).T``.
"""

import llvmlite.binding as llvm
import numpy as np
from numba import types
from numba.extending import get_cython_function_address, overload, register_jitable

from ._config import kernel

# The routines and their numbers of (pointer) arguments, Fortran style.
_ROUTINES = {"gemm": 13, "gemv": 11, "axpy": 6, "scal": 4}
_BLAS = {}
for _kind, _n_args in _ROUTINES.items():
    for _name in ("s" + _kind, "d" + _kind):
        llvm.add_symbol(f"deepzoo_{_name}",
                        get_cython_function_address("scipy.linalg.cython_blas", _name))
        _BLAS[_name] = types.ExternalFunction(f"deepzoo_{_name}",
                                              types.void(*[types.voidptr] * _n_args))


def _routine(routine, dtype):
    """The BLAS routine for arrays of numba type ``dtype`` (float32 or float64)."""
    return _BLAS[("s" if dtype == types.float32 else "d") + routine]


def gemm(trans_a, trans_b, alpha, A, B, beta, C):
    """``C = alpha * op(A) @ op(B) + beta * C`` in place (``op`` transposes
    when its flag is true). ``beta = 0`` ignores the old ``C`` (NaN too).

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo._kernels._blas import gemm
    >>> C = np.ones((2, 2))
    >>> gemm(False, True, 2.0, np.eye(2), np.eye(2), 1.0, C)
    >>> C
    array([[3., 1.],
           [1., 3.]])
    """
    product = (A.T if trans_a else A) @ (B.T if trans_b else B)
    if beta == 0:
        C[...] = alpha * product
    else:
        C *= beta
        C += alpha * product


def gemv(trans, alpha, A, x, beta, y):
    """``y = alpha * op(A) @ x + beta * y`` in place, for contiguous 1-D
    ``x`` and ``y`` (``op`` transposes when ``trans`` is true). ``beta = 0``
    ignores the old ``y`` (NaN too).

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo._kernels._blas import gemv
    >>> y = np.empty(2)
    >>> gemv(True, 0.5, np.array([[1.0, 2.0], [3.0, 4.0]]), np.ones(2), 0.0, y)
    >>> y
    array([2., 3.])
    """
    product = (A.T if trans else A) @ x
    if beta == 0:
        y[...] = alpha * product
    else:
        y *= beta
        y += alpha * product


def axpy(alpha, x, y):
    """``y += alpha * x`` in place, for contiguous 1-D arrays."""
    y += alpha * x


def scal(alpha, x):
    """``x *= alpha`` in place, for a contiguous 1-D array."""
    x *= alpha


_T, _N = ord("T"), ord("N")


@register_jitable
def _unit_rows(X):
    return X.shape[1] <= 1 or X.strides[1] == X.itemsize


@overload(gemm)
def _gemm_blas(trans_a, trans_b, alpha, A, B, beta, C):
    call = _routine("gemm", C.dtype)

    def impl(trans_a, trans_b, alpha, A, B, beta, C):
        m, n = C.shape
        k = A.shape[0] if trans_a else A.shape[1]
        if m == 0 or n == 0:
            return
        size = C.itemsize
        if not (_unit_rows(A) and _unit_rows(B) and _unit_rows(C)):
            raise ValueError("gemm needs unit strides along rows")
        # column-major view: C.T (n x m) = op(B).T (n x k) @ op(A).T (k x m)
        flags = np.empty(2, np.uint8)
        # character codes as numbers: ord() would compile numba's unicode
        # support into every kernel that calls gemm (seconds of first use)
        flags[0] = _T if trans_b else _N
        flags[1] = _T if trans_a else _N
        dims = np.empty(6, np.int32)
        dims[0], dims[1], dims[2] = n, m, k
        # leading dimensions: row strides (at least 1, as BLAS requires)
        dims[3] = max(B.strides[0] // size, B.shape[1], 1)
        dims[4] = max(A.strides[0] // size, A.shape[1], 1)
        dims[5] = max(C.strides[0] // size, n, 1)
        scalars = np.empty(2, C.dtype)
        scalars[0], scalars[1] = alpha, beta
        call(flags[0:].ctypes, flags[1:].ctypes, dims[0:].ctypes, dims[1:].ctypes,
             dims[2:].ctypes, scalars[0:].ctypes, B.ctypes, dims[3:].ctypes, A.ctypes,
             dims[4:].ctypes, scalars[1:].ctypes, C.ctypes, dims[5:].ctypes)

    return impl


@overload(gemv)
def _gemv_blas(trans, alpha, A, x, beta, y):
    call = _routine("gemv", y.dtype)

    def impl(trans, alpha, A, x, beta, y):
        if y.shape[0] == 0:
            return
        if x.shape[0] == 0:
            # BLAS returns at once on an empty matrix: y keeps its old values
            if beta == 0:
                y[:] = 0
            else:
                y *= beta
            return
        if not _unit_rows(A):
            raise ValueError("gemv needs unit strides along rows")
        # row-major A is the column-major A.T: A.T @ x is BLAS's "N" on it,
        # A @ x its "T"
        flags = np.empty(1, np.uint8)
        flags[0] = _N if trans else _T
        dims = np.empty(4, np.int32)
        dims[0], dims[1] = A.shape[1], A.shape[0]
        dims[2] = max(A.strides[0] // A.itemsize, A.shape[1], 1)
        dims[3] = 1
        scalars = np.empty(2, y.dtype)
        scalars[0], scalars[1] = alpha, beta
        call(flags.ctypes, dims[0:].ctypes, dims[1:].ctypes, scalars[0:].ctypes, A.ctypes,
             dims[2:].ctypes, x.ctypes, dims[3:].ctypes, scalars[1:].ctypes, y.ctypes,
             dims[3:].ctypes)

    return impl


@overload(axpy)
def _axpy_blas(alpha, x, y):
    call = _routine("axpy", y.dtype)

    def impl(alpha, x, y):
        ints = np.empty(2, np.int32)
        ints[0], ints[1] = y.shape[0], 1
        scalar = np.empty(1, y.dtype)
        scalar[0] = alpha
        call(ints[0:].ctypes, scalar.ctypes, x.ctypes, ints[1:].ctypes, y.ctypes,
             ints[1:].ctypes)

    return impl


@overload(scal)
def _scal_blas(alpha, x):
    call = _routine("scal", x.dtype)

    def impl(alpha, x):
        ints = np.empty(2, np.int32)
        ints[0], ints[1] = x.shape[0], 1
        scalar = np.empty(1, x.dtype)
        scalar[0] = alpha
        call(ints[0:].ctypes, scalar.ctypes, x.ctypes, ints[1:].ctypes)

    return impl


@kernel
def product(trans_a, trans_b, alpha, A, B, beta, C):
    """:func:`gemm` compiled, for Python callers whose products alternate
    with kernels that call ``gemm``: all of them then run on scipy's BLAS.
    numpy's ``@`` calls another BLAS library (numpy's own build) with its
    own thread pool, and on a 2-core machine the two pools' idle threads
    spin against each other's work (a DBN up-down epoch mixing them ran at
    4.1x its products, measured).

    Examples
    --------
    >>> import numpy as np
    >>> C = np.zeros((2, 2))
    >>> product(False, True, 1.0, np.eye(2), np.eye(2), 0.0, C)
    >>> C
    array([[1., 0.],
           [0., 1.]])
    """
    gemm(trans_a, trans_b, alpha, A, B, beta, C)
