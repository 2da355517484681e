"""What a seed guarantees (docs/ARCHITECTURE.md, "Randomness").

A seed reproduces a fit bit for bit for a given BLAS build and BLAS thread
count, whatever numba's thread count: random draws are counter-based and
the kernels' reductions run in a fixed order. The BLAS thread count is not
covered: OpenBLAS splits a product differently between one and two threads
and rounds differently (measured: up to 1.4e-4 on one 100x784 by 784x500
float32 product), so results then agree only up to rounding.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from deepzoo.utils import all_estimators

from .common_params import CHECK_PARAMS

NAMES = [name for name, _ in all_estimators() if name != "Stack"]
SUPERVISED = ("DBN", "FineTunedClassifier", "FineTunedRegressor")


def _outputs(n_threads):
    """Every estimator's learned state and output on fixed data, from a fixed
    seed, with numba on ``n_threads`` threads and BLAS on one."""
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(n_threads)
    # Enough rows that the row-parallel kernels split their work.
    rng = np.random.default_rng(0)
    X = rng.random((400, 12))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    out = {}
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # budgets are tiny on purpose
        for name, cls in all_estimators():
            if name not in NAMES:
                continue
            est = cls(**CHECK_PARAMS.get(name, {})).fit(X, y if name in SUPERVISED else None)
            method = est.predict if name.startswith("FineTuned") else est.transform
            out[name] = np.asarray(method(X), dtype=np.float64)
            for attr, value in vars(est).items():
                if attr.endswith("_") and isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    out[f"{name}.{attr}"] = value
    return out


_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.test_reproducibility import _outputs
np.savez({path!r}, **_outputs({n_threads}))
"""


def _run(tmp_path, n_threads):
    path = str(tmp_path / f"threads{n_threads}.npz")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # NUMBA_NUM_THREADS=2 lets numba start two threads even on a one-core
    # machine, so the comparison is real wherever the test runs.
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(root=root, path=path, n_threads=n_threads)],
        env=env, check=True, timeout=600,
    )
    return np.load(path)


@pytest.mark.slow
def test_a_seed_reproduces_every_estimator_bit_for_bit_at_any_numba_thread_count(tmp_path):
    one, two = _run(tmp_path, 1), _run(tmp_path, 2)
    assert sorted(one.files) == sorted(two.files)
    assert len({key.split(".")[0] for key in one.files}) == len(NAMES)
    differing = [key for key in one.files if not np.array_equal(one[key], two[key])]
    assert not differing, f"differ between 1 and 2 numba threads: {differing}"


def test_a_seed_reproduces_a_fit_bit_for_bit():
    first, again = _outputs(1), _outputs(1)
    for key, value in first.items():
        assert np.array_equal(value, again[key]), key


_CACHE_SCRIPT = """
import sys
import numpy as np
from deepzoo import BernoulliRBM, GaussianBernoulliRBM
X = (np.random.default_rng(0).random((200, 16)) < 0.3).astype(np.float32)
out = {}
for method in ("cd", "pcd", "fpcd", "pt"):
    rbm = BernoulliRBM(n_components=8, method=method, batch_size=10, n_iter=2, random_state=0)
    out[method] = rbm.fit(X).components_
for method in ("cd", "pcd", "fpcd"):
    gauss = GaussianBernoulliRBM(n_components=8, method=method, learn_variance=True,
                                 batch_size=10, n_iter=2, learning_rate=0.005,
                                 random_state=0).fit(X)
    out["gaussian-" + method] = gauss.components_
    out["gaussian-" + method + ".sigma_"] = gauss.sigma_
gauss = GaussianBernoulliRBM(n_components=8, method="pt", learn_variance=True, batch_size=10,
                             n_iter=3, learning_rate=0.002, random_state=0).fit(X)
out["gaussian-pt"], out["gaussian-pt.sigma_"] = gauss.components_, gauss.sigma_
out["nrelu"] = BernoulliRBM(n_components=8, hidden_unit="nrelu", batch_size=10, n_iter=2,
                            learning_rate=0.01, random_state=0).fit(X).components_
np.savez(sys.argv[1], **out)
"""


def test_a_warm_numba_cache_reproduces_a_cold_one(tmp_path):
    """The same fits in a process that compiles the kernels (cold cache)
    and in one that loads them from the cache it left (warm): bit for bit.
    (Fast PCD's weight step once fused a different product into an FMA in
    the cached code than in the freshly compiled one, so its fast weights
    differed from the second mini-batch on; and a Gaussian RBM that learns
    its variances with persistent chains drew its visible states
    differently, through ``gaussian_rows``; so did noisy rectified hidden
    units, and parallel tempering of a Gaussian RBM that learns its
    variances: docs/ARCHITECTURE.md, "Numba's cache does not follow
    imports".)"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = []
    for name in ("cold", "warm"):
        path = str(tmp_path / f"{name}.npz")
        subprocess.run([sys.executable, "-c", _CACHE_SCRIPT, path], env=env, check=True,
                       timeout=600)
        runs.append(np.load(path))
    cold, warm = runs
    differing = [key for key in cold.files if not np.array_equal(cold[key], warm[key])]
    assert not differing, f"differ between a cold and a warm numba cache: {differing}"
