"""The vectorisable helpers of ``_kernels/_fastmath.py`` against numpy."""

import numpy as np
import pytest

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
        else:
            out[i] = fm.log1p01(x[i])


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
    t = np.linspace(0, 1, 100_001).astype(dtype)
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
