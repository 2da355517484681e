"""Design rule 5: a seed gives the same run with the JIT on or off.

Every estimator is fitted here (kernels compiled) and in a subprocess with
``NUMBA_DISABLE_JIT=1`` (the kernels run as Python, drawing their random
numbers from the plain twins in ``_kernels/_fastmath.py``), and the two
outputs are compared.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from deepzoo.utils import all_estimators

from .common_params import CHECK_PARAMS

# The estimators with kernels (Stack only chains other estimators). DBN is
# fitted with labels so that its label units and up-down pass run too.
NAMES = [name for name, _ in all_estimators() if name != "Stack"]


def _outputs(dtype):
    """Each estimator's output on fixed data, fitted from a fixed seed."""
    rng = np.random.default_rng(0)
    X = rng.random((30, 6)).astype(dtype)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    out = {}
    for name, cls in all_estimators():
        if name not in NAMES:
            continue
        est = cls(**CHECK_PARAMS.get(name, {}))
        supervised = name in ("DBN", "FineTunedClassifier", "FineTunedRegressor")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # budgets are tiny on purpose
            est.fit(X, y if supervised else None)
        method = est.predict if name.startswith("FineTuned") else est.transform
        out[name] = np.asarray(method(X), dtype=np.float64)
    return out


_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.test_jit_off import _outputs
np.savez({path!r}, **_outputs(np.{dtype}))
"""


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_estimators_give_the_same_results_with_the_jit_off(dtype, tmp_path):
    path = str(tmp_path / "nojit.npz")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run([sys.executable, "-c", _SCRIPT.format(root=root, path=path, dtype=dtype)],
                   env=env, check=True, timeout=600)
    interpreted = np.load(path)
    compiled = _outputs(np.dtype(dtype).type)
    assert sorted(interpreted.files) == sorted(compiled)
    # float64: the same draws and the same maths, up to fast-math reordering
    # (seen: 4e-14); float32: the compiled exp/log are polynomials a few ulps
    # off math's (seen: 8e-5 relative, sparse coding's solver)
    rtol, atol = {"float64": (1e-10, 1e-12), "float32": (2e-4, 1e-6)}[dtype]
    for name, got in compiled.items():
        assert_allclose(got, interpreted[name], rtol=rtol, atol=atol, err_msg=name)
