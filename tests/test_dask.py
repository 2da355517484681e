"""deepzoo on Dask: a real LocalCluster (2 worker processes), nothing mocked.

Needs the ``dask`` extra (``pip install -e ".[dask]"``); skipped otherwise.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

pytest.importorskip("dask.distributed",
                    reason='dask is not installed; install the extra: pip install -e ".[dask]"')
pytest.importorskip("dask_ml", reason='dask-ml is not installed; pip install -e ".[dask]"')

import dask.array as da  # noqa: E402
import joblib  # noqa: E402
from dask.distributed import Client, LocalCluster, get_task_stream  # noqa: E402
from dask_ml.wrappers import Incremental  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from deepzoo import (  # noqa: E402
    Autoencoder,
    BernoulliRBM,
    FineTunedClassifier,
    GaussianBernoulliRBM,
    SparseCoding,
    Stack,
    StackedAutoencoder,
    sparse_encode,
)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = (rng.random((400, 16)) < 0.3).astype(np.float64)
    y = (X[:, :8].sum(axis=1) > X[:, 8:].sum(axis=1)).astype(int)
    return X, y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_transform_predict_and_sparse_encode_return_dask_arrays(client, data):
    X, y = data
    Xd = da.from_array(X, chunks=(100, 8))  # column blocks are joined first
    rbm = BernoulliRBM(6, n_iter=2, random_state=0).fit(X)
    ae = Autoencoder(5, max_iter=2, random_state=0).fit(X)
    clf = FineTunedClassifier(Stack([("rbm", BernoulliRBM(6, n_iter=2, random_state=0))]),
                              max_iter=2, random_state=0).fit(X, y)
    D = np.random.default_rng(1).standard_normal((10, 16))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    sc = SparseCoding(10, alpha=0.1, max_iter=2, random_state=0).fit(X)
    cases = [
        (rbm.transform(Xd), rbm.transform(X)),
        (rbm.score_samples(Xd), rbm.score_samples(X)),
        (ae.transform(Xd), ae.transform(X)),
        (clf.predict(Xd), clf.predict(X)),
        (clf.predict_proba(Xd), clf.predict_proba(X)),
        (sc.transform(Xd), sc.transform(X)),
        (sparse_encode(Xd, D, 0.1), sparse_encode(X, D, 0.1)),
    ]
    for lazy, eager in cases:
        assert isinstance(lazy, da.Array)
        assert lazy.shape == eager.shape and lazy.dtype == eager.dtype
        # row blocks of 100: BLAS may round a block's products differently
        np.testing.assert_allclose(client.compute(lazy).result(), eager, rtol=1e-10,
                                   atol=1e-12)


def test_dask_input_of_the_wrong_width_fails_at_the_call(data):
    X, _ = data
    rbm = BernoulliRBM(6, n_iter=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but the model was fitted on 16"):
        rbm.transform(da.zeros((10, 3)))
    with pytest.raises(ValueError, match="features"):
        sparse_encode(da.zeros((10, 3)), np.eye(16)[:4], 0.1)


@pytest.mark.parametrize("make", [
    lambda: BernoulliRBM(6, random_state=0),
    lambda: GaussianBernoulliRBM(6, random_state=0),
    lambda: Autoencoder(5, random_state=0),
    lambda: SparseCoding(6, alpha=0.1, batch_size=20, random_state=0),
    lambda: Stack([("a", BernoulliRBM(8, random_state=0)), ("b", BernoulliRBM(4, random_state=1))]),
    lambda: StackedAutoencoder((8, 4), random_state=0),
], ids=["rbm", "gaussian_rbm", "autoencoder", "sparse_coding", "stack", "stacked_autoencoder"])
def test_incremental_trains_block_by_block_and_scores(client, data, make):
    X, _ = data
    Xd = da.from_array(X, chunks=(100, 16))
    inc = Incremental(make(), shuffle_blocks=False).fit(Xd)
    est = inc.estimator_
    # one partial_fit per block: the same model as four partial_fit calls here
    ref = make()
    for start in range(0, 400, 100):
        ref.partial_fit(X[start:start + 100])
    last = est.steps_[-1][1] if hasattr(est, "steps_") else est
    ref_last = ref.steps_[-1][1] if hasattr(ref, "steps_") else ref
    np.testing.assert_allclose(last.components_, ref_last.components_, rtol=1e-6, atol=1e-8)
    score = inc.score(Xd, None)
    assert np.isfinite(score)
    assert score == pytest.approx(ref.score(X), rel=1e-6, abs=1e-9)
    assert isinstance(inc.transform(Xd), da.Array)


def test_grid_search_runs_on_the_cluster_through_joblib(client, data):
    X, y = data
    pipe = Pipeline([("rbm", BernoulliRBM(8, n_iter=3, random_state=0)),
                     ("clf", LogisticRegression(max_iter=500))])
    grid = {"rbm__learning_rate": [0.05, 0.2], "rbm__n_components": [4, 8]}
    local = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
    # the 12 fits ran as tasks on both worker processes
    workers = {task["worker"] for task in stream.data}
    assert workers == set(client.scheduler_info()["workers"])


def test_unsupervised_grid_search_scores_with_the_transformers_score(client, data):
    # dask_ml's own search, on the cluster, with no scoring: the RBM's score
    from dask_ml.model_selection import GridSearchCV as DaskGridSearchCV

    X, _ = data
    grid = {"n_components": [2, 12]}
    remote = DaskGridSearchCV(BernoulliRBM(n_iter=3, random_state=0), grid, cv=3,
                              scheduler=client).fit(X)
    local = GridSearchCV(BernoulliRBM(n_iter=3, random_state=0), grid, cv=3).fit(X)
    # measured: they differ by 2e-5 relative (not from BLAS threads: a
    # one-thread reference differs as much); the scores themselves are 1e-3 apart
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-4)
    assert remote.best_params_ == local.best_params_
