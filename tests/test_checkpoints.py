"""Epoch checkpoints: an interrupted fit resumes bit for bit, and a
checkpoint file is untrusted input."""

import os
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from deepzoo import DBN, BernoulliRBM, GaussianBernoulliRBM
from deepzoo.utils import checkpoints
from deepzoo.utils.checkpoints import epoch_checkpoints

N_ITER = 4


def _data(gaussian):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 7)
    return X if gaussian else (X > 0.5).astype(float)


CASES = [
    (BernoulliRBM, dict(method="cd", k=2)),
    (BernoulliRBM, dict(method="pcd", n_chains=10, sparsity_cost=0.1)),
    (BernoulliRBM, dict(method="fpcd", n_chains=10)),
    (BernoulliRBM, dict(method="pt", n_chains=5, n_temperatures=3)),
    (BernoulliRBM, dict(method="cd", learning_rate_schedule="linear", momentum_switch=2)),
    (GaussianBernoulliRBM, dict(method="cd", learn_variance=True)),
]


def _make(cls, params):
    return cls(n_components=5, n_iter=N_ITER, batch_size=16, random_state=3, **params)


def _interrupt_after(monkeypatch, epoch):
    """``fit`` is stopped (KeyboardInterrupt) once epoch ``epoch`` is saved."""
    save = checkpoints.save_epoch

    def save_then_stop(estimator, rng, state, history):
        save(estimator, rng, state, history)
        if len(history["reconstruction_error_"]) == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints, "save_epoch", save_then_stop)


def _assert_same(a, b):
    for name in ("components_", "intercept_hidden_", "intercept_visible_",
                 "reconstruction_error_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if hasattr(a, "sigma_"):
        np.testing.assert_array_equal(a.sigma_, b.sigma_)
    assert a.n_iter_ == b.n_iter_ == N_ITER


def _assert_same_dbn(resumed, reference, extra_names):
    """Every learned array of two DBNs equal, bit for bit."""
    names = ["top_components_", "top_intercept_hidden_", "top_intercept_visible_",
             "updown_error_", "reconstruction_error_", *extra_names]
    for name in names:
        np.testing.assert_array_equal(getattr(resumed, name), getattr(reference, name),
                                      err_msg=name)
    for name in ("recognition_weights_", "generative_weights_", "recognition_intercepts_",
                 "generative_intercepts_"):
        for a, b in zip(getattr(resumed, name), getattr(reference, name)):
            np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("cls, params", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_interrupted_fit_resumes_bit_for_bit(cls, params, tmp_path, monkeypatch):
    X = _data(cls is GaussianBernoulliRBM)
    reference = _make(cls, params).fit(X)
    path = tmp_path / "rbm.npz"
    rbm = _make(cls, params)
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 2)
        with epoch_checkpoints(rbm, path), pytest.raises(KeyboardInterrupt):
            rbm.fit(X)
    assert path.exists()
    assert not hasattr(rbm, "components_")  # the failed call left it unfitted
    # a new process: a new estimator with the same settings
    resumed = _make(cls, params)
    resumed.verbose = True  # not part of what a checkpoint must match
    with epoch_checkpoints(resumed, path):
        resumed.fit(X)
    _assert_same(resumed, reference)
    assert not path.exists()  # a completed fit removes its checkpoint


def test_resume_says_so(tmp_path, monkeypatch, capsys):
    X = _data(False)
    path = tmp_path / "rbm.npz"
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 3)
        with epoch_checkpoints(_make(BernoulliRBM, {}), path) as _, pytest.raises(
                KeyboardInterrupt):
            # the checkpoint belongs to the estimator the block names
            rbm = _make(BernoulliRBM, {})
            with epoch_checkpoints(rbm, path):
                rbm.fit(X)
    rbm = _make(BernoulliRBM, {})
    rbm.verbose = True
    with epoch_checkpoints(rbm, path):
        rbm.fit(X)
    out = capsys.readouterr().out
    assert "resumed after epoch 3 from its checkpoint" in out
    assert out.count("Iteration") == 1  # only epoch 4 was trained


def _interrupted_file(tmp_path, monkeypatch, **params):
    path = tmp_path / "rbm.npz"
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 2)
        rbm = _make(BernoulliRBM, params)
        with epoch_checkpoints(rbm, path), pytest.raises(KeyboardInterrupt):
            rbm.fit(_data(False))
    return path


def _fit_fresh_expecting_warning(path, match, **params):
    X = _data(False)
    rbm = _make(BernoulliRBM, params)
    with epoch_checkpoints(rbm, path), pytest.warns(UserWarning, match=match):
        rbm.fit(X)
    _assert_same(rbm, _make(BernoulliRBM, params).fit(X))


def test_checkpoint_of_other_parameters_is_not_used(tmp_path, monkeypatch):
    path = _interrupted_file(tmp_path, monkeypatch, learning_rate=0.05)
    _fit_fresh_expecting_warning(path, "another estimator or other parameters",
                                 learning_rate=0.2)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "pickle", "shape", "nan"])
def test_damaged_checkpoint_is_not_used(tmp_path, monkeypatch, damage):
    path = _interrupted_file(tmp_path, monkeypatch)
    with np.load(path) as f:
        arrays = {name: f[name] for name in f.files}
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
        match = "not used"
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint")
        match = "not used"
    else:
        if damage == "pickle":
            # an object array: loading it would unpickle (run code)
            arrays["state/components_"] = np.array([object()], dtype=object)
            match = "Object arrays cannot be loaded"
        elif damage == "shape":
            arrays["state/components_"] = arrays["state/components_"][:, :3]
            match = "components_ has shape"
        else:
            arrays["state/components_"] = np.full_like(arrays["state/components_"], np.nan)
            match = "components_ holds NaN"
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    _fit_fresh_expecting_warning(path, match)


def test_clones_in_the_block_do_not_checkpoint(tmp_path):
    X = _data(False)
    rbm = _make(BernoulliRBM, {})
    path = tmp_path / "rbm.npz"
    with epoch_checkpoints(rbm, path):
        other = clone(rbm)
        calls = []
        original = checkpoints.save_epoch

        def spy(estimator, rng, state, history):
            calls.append(estimator)
            original(estimator, rng, state, history)

        checkpoints.save_epoch = spy
        try:
            other.fit(X)
        finally:
            checkpoints.save_epoch = original
    assert not path.exists()
    _assert_same(other, _make(BernoulliRBM, {}).fit(X))


def test_partial_fit_writes_no_checkpoint(tmp_path):
    rbm = _make(BernoulliRBM, {})
    path = tmp_path / "rbm.npz"
    with epoch_checkpoints(rbm, path):
        rbm.partial_fit(_data(False))
    assert not path.exists()
    pickle.loads(pickle.dumps(rbm))  # still an ordinary estimator
    assert not os.listdir(tmp_path)


def _dbn(**params):
    from deepzoo import DBN

    return DBN(**{"hidden_layer_sizes": (6, 5, 8), "n_iter": 2, "batch_size": 16,
                  "n_updown_iter": 4, "random_state": 5, **params})


def _dbn_data():
    X = _data(False)
    return X, (X[:, 0] + 2 * X[:, 1]).astype(int)


@pytest.mark.parametrize("updown_top_method", ["cd", "pcd"])
@pytest.mark.parametrize("top_n_init", [1, 3])
@pytest.mark.parametrize("supervised", [True, False], ids=["labels", "no-labels"])
@pytest.mark.parametrize("stop_after", [0, 2])
def test_dbn_resumes_its_updown_stage_bit_for_bit(supervised, stop_after, top_n_init,
                                                  updown_top_method, tmp_path, monkeypatch):
    # with updown_top_method="pcd" the checkpoint carries the top's chains
    X, y = _dbn_data()
    args = (X, y) if supervised else (X,)
    params = {"top_method": "pcd", "top_n_init": top_n_init,
              "updown_top_method": updown_top_method}
    reference = _dbn(**params).fit(*args)
    path = tmp_path / "dbn.npz"
    save = checkpoints.save_epoch

    def save_then_stop(estimator, rng, state, history):
        save(estimator, rng, state, history)  # the layers' RBMs call it too
        if len(history.get("updown_error_", [None])) == stop_after:
            raise KeyboardInterrupt

    dbn = _dbn(**params)
    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save_epoch", save_then_stop)
        with epoch_checkpoints(dbn, path), pytest.raises(KeyboardInterrupt):
            dbn.fit(*args)
    assert path.exists() and not hasattr(dbn, "top_components_")
    resumed = _dbn(**params)
    with monkeypatch.context() as patch:
        # neither the greedy layers nor the labelled top are trained again
        from deepzoo.stacks import _dbn as dbn_module

        patch.setattr(dbn_module.Stack, "fit", lambda *a: pytest.fail("layers retrained"))
        patch.setattr(type(resumed), "_fit_labelled_top", lambda *a: pytest.fail("top retrained"))
        with epoch_checkpoints(resumed, path):
            resumed.fit(*args)
    assert not path.exists()
    _assert_same_dbn(resumed, reference,
                     ["label_components_", "label_intercept_"] if supervised else [])
    # the errors that chose among the tops survive the interruption
    if supervised and top_n_init > 1:
        assert resumed.top_init_error_.shape == (top_n_init,)
        np.testing.assert_array_equal(resumed.top_init_error_, reference.top_init_error_)
    else:
        assert resumed.top_init_error_ is None
    assert resumed.n_iter_ == reference.n_iter_ == 4
    if supervised:
        np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))


def test_dbn_checkpoint_of_other_layer_sizes_is_not_used(tmp_path, monkeypatch):
    X, y = _dbn_data()
    path = tmp_path / "dbn.npz"
    save = checkpoints.save_epoch

    def save_then_stop(estimator, rng, state, history):
        save(estimator, rng, state, history)
        if "updown_error_" in history:
            raise KeyboardInterrupt

    dbn = _dbn()
    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save_epoch", save_then_stop)
        with epoch_checkpoints(dbn, path), pytest.raises(KeyboardInterrupt):
            dbn.fit(X, y)
    # same parameters, other data: the shapes tell
    other = _dbn()
    with epoch_checkpoints(other, path), pytest.warns(UserWarning, match="has shape"):
        other.fit(X[:, :5], y)
    np.testing.assert_array_equal(other.top_components_, _dbn().fit(X[:, :5], y).top_components_)


def _interrupted_after(dbn, path, args, monkeypatch, stop_after):
    """Fit ``dbn`` under a checkpoint until up-down epoch ``stop_after`` is saved."""
    save = checkpoints.save_epoch

    def save_then_stop(estimator, rng, state, history):
        save(estimator, rng, state, history)
        if len(history.get("updown_error_", [None])) == stop_after:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save_epoch", save_then_stop)
        with epoch_checkpoints(dbn, path), pytest.raises(KeyboardInterrupt):
            dbn.fit(*args)


# CD-1 then CD-2; rate 1.0
_SCHEDULED = {"top_method": "pcd", "updown_k": (1, 2), "validation_fraction": 0.25,
              "updown_learning_rate": 1.0}
# The held-out error of this fit is lowest at up-down epoch 1 ([0.67, 0.73,
# 0.67, 0.73], the greedy DBN's 0.73), so a fit stopped after epoch 3 holds
# its best parameters only in the checkpoint
_BEST_FIRST = {**_SCHEDULED, "n_iter": 30, "random_state": 6, "updown_learning_rate": 0.3}


@pytest.mark.parametrize("stop_after", [1, 3], ids=["first-stage", "second-stage"])
def test_dbn_resumes_its_cd_schedule_and_best_epoch_bit_for_bit(stop_after, tmp_path,
                                                                monkeypatch):
    X, y = _dbn_data()
    reference = _dbn(**_BEST_FIRST).fit(X, y)
    best = int(np.argmin(reference.validation_error_)) + 1
    assert best == 1 and reference.validation_error_[-1] > reference.validation_error_.min()
    assert reference.validation_error_.min() < reference.greedy_validation_error_
    path = tmp_path / "dbn.npz"
    _interrupted_after(_dbn(**_BEST_FIRST), path, (X, y), monkeypatch, stop_after)
    resumed = _dbn(**_BEST_FIRST)
    with epoch_checkpoints(resumed, path):
        resumed.fit(X, y)
    assert not path.exists()
    _assert_same_dbn(resumed, reference,
                     ["label_components_", "label_intercept_", "validation_error_"])
    assert resumed.greedy_validation_error_ == reference.greedy_validation_error_
    assert resumed.n_iter_ == 4
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))


def test_unseeded_dbn_resumes_with_the_held_out_rows_it_trained_without(tmp_path, monkeypatch,
                                                                       held_out_rows):
    X, y = _dbn_data()
    params = {**_SCHEDULED, "random_state": None}
    path = tmp_path / "dbn.npz"
    dbn = DBN(hidden_layer_sizes=(6, 5, 8), n_iter=2, batch_size=16, n_updown_iter=4, **params)
    _interrupted_after(dbn, path, (X, y), monkeypatch, 2)
    resumed = clone(dbn)
    with epoch_checkpoints(resumed, path):
        resumed.fit(X, y)
    assert len(held_out_rows) == 2 and held_out_rows[0].shape == (15,)
    np.testing.assert_array_equal(*held_out_rows)
    assert resumed.validation_error_.shape == (4,)
