"""The BLAS wrappers that kernels call: against numpy, compiled and not."""

import numba
import numpy as np
import pytest

from deepzoo._kernels._blas import axpy, gemm, gemv, scal


@numba.njit
def _gemm_compiled(trans_a, trans_b, alpha, A, B, beta, C):
    gemm(trans_a, trans_b, alpha, A, B, beta, C)


@numba.njit
def _gemv_compiled(trans, alpha, A, x, beta, y):
    gemv(trans, alpha, A, x, beta, y)


@numba.njit
def _axpy_compiled(alpha, x, y):
    axpy(alpha, x, y)


@numba.njit
def _scal_compiled(alpha, x):
    scal(alpha, x)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_gemm_matches_numpy(compiled, dtype, trans_a, trans_b, beta, rng):
    m, k, n = 5, 7, 3
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    # C: a block of rows and columns of a larger buffer (row stride 11)
    buf = rng.standard_normal((9, 11)).astype(dtype)
    if beta == 0:
        buf[2:7, 4:7] = np.nan  # beta = 0 ignores the old values
    C = buf[2:7, 4:7]
    expected_buf = buf.copy()
    old = np.nan_to_num(C)
    expected_buf[2:7, 4:7] = 1.5 * (A.T if trans_a else A) @ (B.T if trans_b else B) + beta * old
    (_gemm_compiled if compiled else gemm)(trans_a, trans_b, 1.5, A, B, beta, C)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(buf, expected_buf, rtol=tol, atol=tol)
    assert C.dtype == dtype


def test_gemm_on_column_blocks_and_empty_shapes(rng):
    H = rng.standard_normal((6, 10))
    V = rng.standard_normal((6, 4))
    G = np.zeros((10, 4))
    for j0, j1 in ((0, 3), (3, 10)):
        _gemm_compiled(True, False, 1.0, H[:, j0:j1], V, 0.0, G[j0:j1])
    np.testing.assert_allclose(G, H.T @ V, rtol=1e-12)
    _gemm_compiled(False, False, 1.0, np.zeros((0, 3)), np.zeros((3, 2)), 0.0, np.zeros((0, 2)))


def test_gemm_rejects_strided_columns(rng):
    A = rng.standard_normal((4, 8))[:, ::2]
    with pytest.raises(ValueError, match="unit strides"):
        _gemm_compiled(False, False, 1.0, A, np.eye(4), 0.0, np.zeros((4, 4)))


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans", [False, True])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_gemv_matches_numpy(compiled, dtype, trans, beta, rng):
    # A: a block of rows and columns of a larger buffer (row stride 11), as
    # the RBM kernel's bias sums read a prefix of the rows of its statistics
    A = rng.standard_normal((9, 11)).astype(dtype)[2:7, 3:10]
    x = rng.standard_normal(A.shape[0] if trans else A.shape[1]).astype(dtype)
    y = rng.standard_normal(A.shape[1] if trans else A.shape[0]).astype(dtype)
    if beta == 0:
        y[:] = np.nan  # beta = 0 ignores the old values
    expected = 1.5 * ((A.T if trans else A) @ x) + beta * np.nan_to_num(y)
    (_gemv_compiled if compiled else gemv)(trans, 1.5, A, x, beta, y)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


def test_gemv_on_empty_shapes_and_strided_columns(rng):
    y = np.full(3, 7.0)
    _gemv_compiled(True, 1.0, np.zeros((0, 3)), np.zeros(0), 0.0, y)
    np.testing.assert_array_equal(y, 0.0)  # a sum of no rows
    _gemv_compiled(False, 1.0, np.zeros((0, 3)), np.zeros(3), 0.0, np.zeros(0))
    with pytest.raises(ValueError, match="unit strides"):
        _gemv_compiled(True, 1.0, rng.standard_normal((4, 8))[:, ::2], np.ones(4), 0.0,
                       np.zeros(4))


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_matches_numpy(compiled, dtype, rng):
    x = rng.standard_normal(50_000).astype(dtype)
    y = rng.standard_normal(50_000).astype(dtype)
    expected = y + dtype(-0.25) * x
    (_axpy_compiled if compiled else axpy)(-0.25, x, y)
    np.testing.assert_allclose(y, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scal_matches_numpy(compiled, dtype, rng):
    x = rng.standard_normal(50_000).astype(dtype)
    expected = dtype(-0.75) * x
    (_scal_compiled if compiled else scal)(-0.75, x)
    np.testing.assert_allclose(x, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
