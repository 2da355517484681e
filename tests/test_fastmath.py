"""The vectorisable helpers of ``_kernels/_fastmath.py`` against numpy."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from deepzoo._kernels import _fastmath as fm
from deepzoo._kernels._config import kernel

from . import naive


@kernel(cache=False)
def _apply(name, x, out):
    for i in range(x.shape[0]):
        if name == 0:
            out[i] = fm.exp(x[i])
        elif name == 1:
            out[i] = fm.sigmoid(x[i])
        elif name == 2:
            out[i] = fm.softplus(x[i])
        elif name == 3:
            out[i] = fm.log1p(x[i])
        elif name == 4:
            out[i] = fm.log(x[i])
        else:
            out[i] = fm.cos2pi(x[i])


@kernel(cache=False)
def _normals(key, start, out):
    for i in range(out.shape[0]):
        out[i] = fm.normal(key, start + i, out[0])


def _run(name, x):
    out = np.empty_like(x)
    _apply(name, x, out)
    return out


def _ulps(got, exact, dtype):
    """Error in units of the last place of ``exact`` rounded to ``dtype``."""
    ref = exact.astype(dtype)
    return np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(ref)).astype(np.float64)


@pytest.mark.parametrize("dtype, lo, hi, max_ulps", [
    (np.float64, -708.0, 709.0, 2.0),
    (np.float32, -87.0, 88.0, 3.0),
])
def test_exp_is_within_a_few_ulps(dtype, lo, hi, max_ulps):
    x = np.linspace(lo, hi, 400_001).astype(dtype)
    exact = np.exp(x.astype(np.longdouble)).astype(np.float64)
    assert _ulps(_run(0, x), exact, dtype).max() <= max_ulps


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-15), (np.float32, 1e-6)])
def test_sigmoid_softplus_log1p_match_numpy(dtype, rtol):
    x = np.linspace(-30, 30, 100_001).astype(dtype)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(_run(1, x), naive.sigmoid(x64), rtol=rtol * 4, atol=0)
    np.testing.assert_allclose(_run(2, x), naive.softplus(x64), rtol=rtol * 4, atol=0)
    # log1p on (-1, 1], and relative to tiny arguments of either sign
    t = np.concatenate([np.linspace(-0.99, 1, 100_001),
                        np.geomspace(1e-30, 1e-2, 1001), -np.geomspace(1e-30, 1e-2, 1001)])
    t = t.astype(dtype)
    np.testing.assert_allclose(_run(3, t), np.log1p(t.astype(np.float64)), rtol=rtol * 4,
                               atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_and_infinities_propagate(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1e6, -1e6], dtype)
    e = _run(0, x)
    assert np.isnan(e[0]) and e[1] == np.inf and e[3] == np.inf
    assert 0 <= e[2] < np.finfo(dtype).tiny * 2 and 0 <= e[4] < np.finfo(dtype).tiny * 2
    s = _run(1, x)
    assert np.isnan(s[0]) and s[1] == 1 and s[2] == 0 and s[3] == 1 and s[4] == 0


# The normal draws' log and cosine (Box-Muller's): log on its whole input
# range (u = 1 - uniform, in (0, 1]) and beyond, cos(2 pi u) on [0, 1).
@pytest.mark.parametrize("dtype, max_ulps", [(np.float64, 1.0), (np.float32, 1.0)])
def test_log_is_within_an_ulp(dtype, max_ulps):
    info = np.finfo(dtype)
    x = np.concatenate([np.geomspace(np.longdouble(info.tiny), np.longdouble(info.max), 200_001),
                        np.linspace(0.5, 2.0, 200_001), 1 - np.arange(50_000) * 2.0 ** -24,
                        1 - np.arange(50_000) * 2.0 ** -53]).astype(dtype)
    exact = np.log(x.astype(np.longdouble)).astype(np.float64)
    got = _run(4, x)
    assert got[x == 1].tolist() == [0.0] * int((x == 1).sum())
    assert _ulps(got[x != 1], exact[x != 1], dtype).max() <= max_ulps


@pytest.mark.parametrize("dtype, max_error", [(np.float64, 4.5e-16), (np.float32, 1.2e-7)])
def test_cos2pi_is_within_two_float_epsilons(dtype, max_error):
    # every uniform the float32 draws use, a grid of float64 ones, and the
    # quarter-turn edges where the reduction switches between sin and cos
    grid = np.arange(2 ** 24) * 2.0 ** -24 if dtype == np.float32 else \
        np.linspace(0, 1, 2_000_001, endpoint=False)
    edges = (np.arange(1, 8)[:, None] / 8 + np.arange(-3, 4) * 2.0 ** -24).ravel()
    u = np.concatenate([grid, edges]).astype(dtype)
    exact = np.cos(2 * np.pi * u.astype(np.longdouble)).astype(np.float64)
    assert np.abs(_run(5, u) - exact).max() <= max_error


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normal_draws_are_standard_normal(dtype):
    n = 1 << 21
    z = np.empty(n, dtype)
    _normals(np.uint64(2024), 0, z)
    z = z.astype(np.float64)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / n)
    # kurtosis 3: its standard error is sqrt(24 / n)
    assert abs(stats.kurtosis(z, fisher=False) - 3) < 5 * math.sqrt(24 / n)
    assert abs(stats.skew(z)) < 5 * math.sqrt(6 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # the tails, where a poor log would show: P(|z| > 3) and P(|z| > 4)
    for t in (3.0, 4.0):
        p = 2 * stats.norm.sf(t)
        assert abs(np.mean(np.abs(z) > t) - p) < 5 * math.sqrt(p / n)
    # consecutive draws are uncorrelated
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 5 / math.sqrt(n)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normal_draw_is_a_function_of_key_and_index(dtype):
    key = np.uint64(77)
    whole, part = np.empty(1000, dtype), np.empty(100, dtype)
    _normals(key, 0, whole)
    _normals(key, 450, part)
    assert_array_equal(part, whole[450:550])
    # the plain twin (NUMBA_DISABLE_JIT) and the reference draw the same
    # numbers, up to the rounding of the polynomials
    plain = np.array([fm.normal(key, i, dtype(0)) for i in range(1000)])
    assert plain.dtype == dtype
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-14, "atol": 1e-14}
    assert_allclose(whole, plain, **tol)
    assert_allclose(whole, naive.splitmix_normal(key, 1000, dtype), **tol)
