"""One training epoch of the RBMs (``partial_fit``) against the plain-numpy
reference ``naive.rbm_train_epoch``, over a grid of settings.

Relies on the estimators' private optimiser state (``_velocity`` with keys
W, b, c, log_variance; ``_mean_hidden``; ``_chain_h``; ``_fast`` with keys
W, b, c) and on the order of the epoch's draws from ``_rng``: the
permutation (``shuffle=True``), then ``randint(int64 max, (n_batches,
2k + 2), dtype=int64)`` as the kernels' keys (3k + 2 columns for parallel
tempering).
"""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose

from deepzoo import BernoulliRBM, GaussianBernoulliRBM

from . import naive

N_SAMPLES, N_FEATURES, N_HIDDEN = 7, 6, 5

# (id, visible type, estimator parameters); batch_size 3 leaves a last batch of 1
CASES = [
    ("cd1", "bernoulli", {}),
    ("cd3", "bernoulli", {"k": 3}),
    ("cd1-sample", "bernoulli", {"sample_visible": True}),
    ("cd3-sample", "bernoulli", {"k": 3, "sample_visible": True}),
    ("cd1-no-momentum", "bernoulli", {"initial_momentum": 0.0, "final_momentum": 0.0}),
    ("cd2-momentum-switch", "bernoulli", {"k": 2, "momentum_switch": 1, "final_momentum": 0.9}),
    ("cd1-no-decay", "bernoulli", {"weight_decay": 0.0}),
    # the kernel keeps the weights scaled (W = s A): these reach the rescaling
    # branches (|s| below its floor) within the epoch
    ("cd1-tiny-momentum", "bernoulli", {"initial_momentum": 1e-30, "final_momentum": 1e-30}),
    ("cd1-batch1-momentum", "bernoulli", {"batch_size": 1, "initial_momentum": 0.001}),
    ("cd1-batch1-strong-decay", "bernoulli", {"batch_size": 1, "initial_momentum": 0.0,
                                              "final_momentum": 0.0, "weight_decay": 4.5}),
    ("cd1-decay-over-lr", "bernoulli", {"initial_momentum": 0.0, "final_momentum": 0.0,
                                        "weight_decay": 5.0}),
    ("cd1-decay", "bernoulli", {"weight_decay": 0.05}),
    ("cd1-sparsity", "bernoulli", {"sparsity_cost": 0.5, "sparsity_target": 0.2}),
    ("cd2-no-shuffle", "bernoulli", {"k": 2, "shuffle": False}),
    ("cd1-one-batch", "bernoulli", {"batch_size": 7}),
    ("cd1-linear-schedule", "bernoulli", {"learning_rate_schedule": "linear", "n_iter": 2}),
    ("pcd", "bernoulli", {"method": "pcd"}),
    ("pcd2-chains4", "bernoulli", {"method": "pcd", "k": 2, "n_chains": 4}),
    ("pcd-chains2-sparsity", "bernoulli", {"method": "pcd", "n_chains": 2, "sparsity_cost": 0.3}),
    ("pcd-no-momentum", "bernoulli", {"method": "pcd", "initial_momentum": 0.0,
                                      "final_momentum": 0.0, "shuffle": False}),
    ("pcd-batch-over-n", "bernoulli", {"method": "pcd", "batch_size": 10}),
    ("fpcd", "bernoulli", {"method": "fpcd", "n_chains": 4}),
    ("fpcd2-fast", "bernoulli", {"method": "fpcd", "k": 2, "fast_learning_rate": 0.3,
                                 "fast_decay": 0.8, "momentum_switch": 1}),
    ("pt", "bernoulli", {"method": "pt", "n_temperatures": 3}),
    ("pt2-chains2", "bernoulli", {"method": "pt", "k": 2, "n_chains": 2, "n_temperatures": 4,
                                  "learning_rate": 1.0}),
    ("pt-no-momentum", "bernoulli", {"method": "pt", "n_chains": 5, "n_temperatures": 2,
                                     "initial_momentum": 0.0, "final_momentum": 0.0}),
    ("cd1-gaussian-hidden", "bernoulli", {"hidden_unit": "gaussian", "learning_rate": 0.02}),
    ("pcd-gaussian-hidden", "bernoulli", {"hidden_unit": "gaussian", "method": "pcd",
                                          "learning_rate": 0.02}),
    ("cd2-nrelu", "bernoulli", {"hidden_unit": "nrelu", "k": 2}),
    ("fpcd-nrelu", "bernoulli", {"hidden_unit": "nrelu", "method": "fpcd", "n_chains": 2}),
    ("g-cd1", "gaussian", {}),
    ("g-cd1-var", "gaussian", {"learn_variance": True}),
    ("g-cd2-var", "gaussian", {"learn_variance": True, "k": 2, "weight_decay": 0.05}),
    ("g-cd1-sample-var", "gaussian", {"learn_variance": True, "sample_visible": True,
                                      "sparsity_cost": 0.5}),
    ("g-cd1-no-momentum-var", "gaussian", {"learn_variance": True, "initial_momentum": 0.0,
                                           "final_momentum": 0.0}),
    ("g-pcd-var", "gaussian", {"learn_variance": True, "method": "pcd", "n_chains": 4}),
    ("g-pcd", "gaussian", {"method": "pcd", "k": 2}),
    ("g-fpcd-var", "gaussian", {"learn_variance": True, "method": "fpcd", "n_chains": 2,
                                "fast_learning_rate": 0.1}),
    ("g-pt-var", "gaussian", {"learn_variance": True, "method": "pt", "k": 2,
                              "n_temperatures": 3}),
    ("g-cd1-gaussian-hidden", "gaussian", {"hidden_unit": "gaussian", "learning_rate": 0.01}),
    ("g-cd2-nrelu-var", "gaussian", {"hidden_unit": "nrelu", "k": 2, "learn_variance": True,
                                     "shuffle": False}),
]

TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}


def _model(visible, params, dtype):
    rng = np.random.RandomState(0)
    if visible == "bernoulli":
        X = rng.uniform(size=(N_SAMPLES, N_FEATURES))
        X[:3] = X[:3] > 0.5  # binary rows beside grey levels
        cls, lr = BernoulliRBM, 0.2
    else:
        X = rng.normal(size=(N_SAMPLES, N_FEATURES)) * np.linspace(0.5, 2, N_FEATURES)
        cls, lr = GaussianBernoulliRBM, 0.05
    params = {"n_components": N_HIDDEN, "batch_size": 3, "n_iter": 1, "random_state": 1,
              "learning_rate": lr, "weight_decay": 0.001, **params}
    # one epoch of fit: non-zero velocity, moved chains and fast weights
    return cls(**params).fit(X.astype(dtype)), X.astype(dtype)


def _state(rbm):
    state = {"W": rbm.components_, "b": rbm.intercept_visible_, "c": rbm.intercept_hidden_,
             "velocity": rbm._velocity, "mean_hidden": rbm._mean_hidden}
    if hasattr(rbm, "sigma_"):
        state["sigma"] = rbm.sigma_
    if rbm.method != "cd":
        state["chain_h"] = rbm._chain_h
    if rbm.method == "fpcd":
        state["fast"] = rbm._fast
    return copy.deepcopy(state)


def _assert_close(got, ref, rtol, name):
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, name
    # absolute part on the array's own scale: entries near zero (a velocity,
    # a bias) are differences of larger terms
    assert_allclose(got, ref, rtol=rtol, atol=rtol * max(np.abs(ref).max(), 1e-3),
                    err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("visible, params", [pytest.param(v, p, id=i) for i, v, p in CASES])
def test_partial_fit_epoch_matches_reference(visible, params, dtype):
    rbm, X = _model(visible, params, dtype)
    before = _state(rbm)
    rng = copy.deepcopy(rbm._rng)
    n_batches = -(-N_SAMPLES // min(rbm.batch_size, N_SAMPLES))
    order = rng.permutation(N_SAMPLES) if rbm.shuffle else None
    n_keys = (3 if rbm.method == "pt" else 2) * rbm.k + 2
    keys = rng.randint(np.iinfo(np.int64).max, size=(n_batches, n_keys),
                       dtype=np.int64).astype(np.uint64)
    epoch = rbm.n_iter_
    settings = {**rbm.get_params(), "visible": visible, "epoch": epoch}
    ref, ref_err = naive.rbm_train_epoch(X, before, settings, order, keys)

    rbm.partial_fit(X)

    rtol = TOLERANCE[dtype]
    assert rbm.components_.dtype == dtype
    after = _state(rbm)
    for name in ("W", "b", "c", "sigma", "mean_hidden", "chain_h"):
        if name in ref:
            _assert_close(after[name], ref[name], rtol, name)
    for group in ("velocity", "fast"):
        if group in ref:
            assert set(after[group]) == set(ref[group]), group
            for name in ref[group]:
                _assert_close(after[group][name], ref[group][name], rtol, f"{group}[{name}]")
    if visible == "gaussian":
        _assert_close(rbm.decoder_components_, ref["W"] * ref["sigma"] ** 2, rtol, "decoder")
    if rbm.method == "pt":
        n_chains = rbm._chain_h.shape[0] // rbm.n_temperatures
        assert ref["swaps"].sum() > 0  # the case reaches the swaps
        assert_allclose(rbm.swap_rate_, ref["swaps"] / (n_batches * rbm.k * n_chains),
                        rtol=1e-12)
    else:
        assert not hasattr(rbm, "swap_rate_")
    assert rbm.n_iter_ == epoch + 1 and rbm.reconstruction_error_.shape == (epoch + 1,)
    _assert_close(rbm.reconstruction_error_[-1], ref_err, rtol, "reconstruction error")
    # the epoch draws nothing else from the estimator's generator
    assert rng.randint(2 ** 31) == rbm._rng.randint(2 ** 31)


@pytest.mark.parametrize("method", ["cd", "pt"])
def test_k_schedule_lengthens_the_chain_epoch_by_epoch(method):
    """``k_schedule="linear"``: epochs of 1, 3 and 5 Gibbs steps for k = 5
    over three epochs, each equal to the reference epoch with that k."""
    rng0 = np.random.RandomState(0)
    X = (rng0.uniform(size=(N_SAMPLES, N_FEATURES)) > 0.5).astype(np.float64)
    params = dict(n_components=N_HIDDEN, batch_size=3, random_state=1, learning_rate=0.2,
                  k=5, method=method, n_temperatures=3, momentum_switch=1)
    rbm = BernoulliRBM(**params, n_iter=0).fit(X)  # the initial state, no epoch
    state, rng = _state(rbm), copy.deepcopy(rbm._rng)
    n_batches = -(-N_SAMPLES // 3)
    for epoch, k in enumerate([1, 3, 5]):
        order = rng.permutation(N_SAMPLES)
        keys = rng.randint(np.iinfo(np.int64).max,
                           size=(n_batches, (3 if method == "pt" else 2) * k + 2),
                           dtype=np.int64).astype(np.uint64)
        settings = {**rbm.get_params(), "k": k, "visible": "bernoulli", "epoch": epoch}
        ref, _ = naive.rbm_train_epoch(X, state, settings, order, keys)
        state = {**state, **{name: ref[name] for name in ("W", "b", "c", "mean_hidden",
                                                          "chain_h", "velocity")
                             if name in ref}}

    fitted = BernoulliRBM(**params, n_iter=3, k_schedule="linear").fit(X)

    for name in ("W", "b", "c"):
        _assert_close(_state(fitted)[name], state[name], 1e-9, name)
    if method == "pt":
        assert fitted.swap_rate_.shape == (2,)


@pytest.mark.parametrize("method", ["cd", "pcd", "fpcd", "pt"])
def test_a_fit_maps_the_kernel_scratch_once(method, monkeypatch):
    """The epochs of one fit share the kernel's scratch buffers (mapped
    afresh every epoch, a large scratch cost 4% of the epoch at 784-2000,
    batch 1000); a partial_fit maps its own. No epoch reads what an earlier
    one left there: with every new scratch filled with NaN the fit is the
    same, bit for bit."""
    from deepzoo._kernels import rbm as kernels

    made = []

    def poisoned(**buffers):
        for a in buffers.values():
            a.fill(np.nan)
        made.append(buffers["buffers_h"].shape)
        return scratch(**buffers)

    scratch = kernels.Scratch
    X = (np.random.RandomState(0).uniform(size=(N_SAMPLES, N_FEATURES)) > 0.5).astype(float)
    params = dict(n_components=N_HIDDEN, batch_size=3, method=method, n_temperatures=3,
                  n_iter=4, random_state=0)
    plain = BernoulliRBM(**params).fit(X)
    monkeypatch.setattr(kernels, "Scratch", poisoned)
    rbm = BernoulliRBM(**params).fit(X)
    assert len(made) == 1
    for name in ("components_", "intercept_visible_", "intercept_hidden_",
                 "reconstruction_error_"):
        np.testing.assert_array_equal(getattr(rbm, name), getattr(plain, name), err_msg=name)
    rbm.partial_fit(X)
    assert len(made) == 2
