"""DBN: greedy stack, label units, free-energy classification, up-down, sampling."""

import copy
import itertools
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from deepzoo import DBN, BernoulliRBM, DeepAutoencoder, FineTunedClassifier
from deepzoo._kernels import rbm as _k
from deepzoo.io import load, save
from deepzoo.stacks import _dbn

from . import naive
from .naive import sigmoid


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.fixture(scope="module")
def labelled_dbn(digits):
    X, y = digits
    return DBN(hidden_layer_sizes=(64, 128), n_iter=15, batch_size=20,
               random_state=0).fit(X[:1200], y[:1200])


def _exact_label_posterior(dbn, X):
    """p(label | x) by summing the top RBM's joint over every hidden state."""
    V = X
    for W, b in zip(dbn.recognition_weights_, dbn.recognition_intercepts_):
        V = sigmoid(V @ W.T + b)
    W, U = dbn.top_components_, dbn.label_components_
    c, d = dbn.top_intercept_hidden_, dbn.label_intercept_
    H = np.array(list(itertools.product([0, 1], repeat=W.shape[0])), dtype=float)
    out = np.empty((X.shape[0], U.shape[1]))
    for j in range(U.shape[1]):
        # log sum_h exp(-E(v, l=j, h)) without the b.v term (same for every label)
        energy = H @ c + (V @ W.T) @ H.T + H @ U[:, j] + d[j]
        m = energy.max(axis=1, keepdims=True)
        out[:, j] = (m + np.log(np.exp(energy - m).sum(axis=1, keepdims=True))).ravel()
    out -= out.max(axis=1, keepdims=True)
    P = np.exp(out)
    return P / P.sum(axis=1, keepdims=True)


def test_free_energy_classification_is_exact_posterior():
    rng = np.random.default_rng(0)
    X = rng.random((40, 6))
    y = np.arange(40) % 3
    dbn = DBN(hidden_layer_sizes=(5, 7), n_iter=3, batch_size=10, random_state=0).fit(X, y)
    # Make the label weights matter, then compare with brute force over 2^7 states.
    dbn.label_components_ += rng.normal(size=dbn.label_components_.shape)
    np.testing.assert_allclose(dbn.predict_proba(X), _exact_label_posterior(dbn, X),
                               rtol=1e-10, atol=1e-12)


def test_greedy_labelled_dbn_classifies_digits(labelled_dbn, digits):
    X, y = digits
    assert labelled_dbn.score(X[1200:], y[1200:]) > 0.85
    assert labelled_dbn.reconstruction_error_[-1] < labelled_dbn.reconstruction_error_[0]
    # Greedy training leaves the lower layers tied.
    np.testing.assert_array_equal(labelled_dbn.recognition_weights_[0],
                                  labelled_dbn.generative_weights_[0])


@pytest.mark.parametrize("updown_top_method", ["cd", "pcd"])
def test_updown_unties_and_improves_generative_prediction(labelled_dbn, digits,
                                                          updown_top_method):
    X, y = digits
    dbn = clone(labelled_dbn).set_params(n_updown_iter=6, updown_learning_rate=0.05,
                                         updown_top_method=updown_top_method)
    dbn.fit(X[:1200], y[:1200])
    assert dbn.n_iter_ == 6
    assert dbn.updown_error_[-1] < dbn.updown_error_[0]
    assert not np.array_equal(dbn.recognition_weights_[0], dbn.generative_weights_[0])
    # Same seed: the greedy phase is identical, up-down must not wreck it.
    assert dbn.score(X[1200:], y[1200:]) > labelled_dbn.score(X[1200:], y[1200:]) - 0.02


def test_unsupervised_dbn_is_rbm_stack(digits):
    X, _ = digits
    dbn = DBN(hidden_layer_sizes=(20, 10), n_iter=2, random_state=0).fit(X[:300])
    H = sigmoid(sigmoid(X @ dbn.recognition_weights_[0].T + dbn.recognition_intercepts_[0])
                @ dbn.top_components_.T + dbn.top_intercept_hidden_)
    np.testing.assert_allclose(dbn.transform(X), H, rtol=1e-12)
    assert dbn.label_components_ is None and dbn.classes_ is None
    with pytest.raises(AttributeError, match="has no attribute .predict."):
        dbn.predict(X)
    assert not hasattr(dbn, "predict_proba") and not hasattr(DBN(), "score")
    with pytest.raises(ValueError, match="fitted with labels"):
        dbn.sample(2, labels=[0, 1])


def test_learning_rate_schedule_reaches_the_greedy_rbms(digits):
    # the lower RBMs are BernoulliRBMs with the DBN's schedule, seeded from
    # the DBN's random_state
    X, y = digits
    params = dict(n_iter=3, batch_size=50, learning_rate=0.1)
    dbn = DBN(hidden_layer_sizes=(20, 10), learning_rate_schedule="linear", random_state=0,
              **params).fit(X[:300], y[:300])
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=2)[0]
    rbm = BernoulliRBM(20, learning_rate_schedule="linear", random_state=int(seed),
                       n_iter=3, batch_size=50, learning_rate=0.1).fit(X[:300])
    np.testing.assert_array_equal(dbn.recognition_weights_[0], rbm.components_)
    constant = DBN(hidden_layer_sizes=(20, 10), random_state=0, **params).fit(X[:300], y[:300])
    assert not np.allclose(constant.recognition_weights_[0], rbm.components_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unrolled_networks_reproduce_dbn_bit_for_bit(digits, dtype):
    X, y = digits
    X = X[:300].astype(dtype)
    dbn = DBN(hidden_layer_sizes=(20, 10), n_iter=2, n_updown_iter=1,
              random_state=0).fit(X, y[:300])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FineTunedClassifier(dbn, max_iter=1, top_only_iter=1,
                                  random_state=0).fit(X, y[:300])
    assert dbn.transform(X).dtype == dtype
    np.testing.assert_array_equal(clf.transform(X), dbn.transform(X))
    ae = DeepAutoencoder(dbn, max_iter=0).fit(X)
    np.testing.assert_array_equal(ae.reconstruct(X), dbn.inverse_transform(dbn.transform(X)))


def test_fantasies_follow_clamped_labels(labelled_dbn):
    labels = np.repeat(np.arange(10), 5)
    V = labelled_dbn.sample(50, n_steps=200, labels=labels, random_state=0)
    assert V.shape == (50, 64) and V.min() >= 0 and V.max() <= 1
    assert np.mean(labelled_dbn.predict(V) == labels) > 0.5
    free = labelled_dbn.sample(5, n_steps=20, random_state=0)
    np.testing.assert_array_equal(free, labelled_dbn.sample(5, n_steps=20, random_state=0))


def test_completion_of_a_one_rbm_dbn_is_the_rbms_clamped_gibbs_chain(digits):
    """A DBN of one RBM has no directed layers: its completion is exact
    clamped Gibbs sampling, the very chain of BernoulliRBM.complete."""
    from deepzoo import BernoulliRBM

    X, _ = digits
    dbn = DBN(hidden_layer_sizes=(12,), n_iter=2, random_state=0).fit(X[:300])
    rbm = BernoulliRBM(n_components=12, n_iter=0).fit(X[:300])
    rbm.components_ = dbn.top_components_
    rbm.intercept_hidden_ = dbn.top_intercept_hidden_
    rbm.intercept_visible_ = dbn.top_intercept_visible_
    mask = np.arange(64) < 40
    for mean in (False, True):
        got = dbn.complete(X[300:310], mask, n_steps=7, mean=mean, random_state=3)
        np.testing.assert_array_equal(
            got, rbm.complete(X[300:310], mask, n_steps=7, mean=mean, random_state=3))


def test_completion_with_labels(labelled_dbn, digits):
    X, y = digits
    mask = np.arange(64) < 32
    labels = y[1200:1220]
    V = labelled_dbn.complete(X[1200:1220], mask, n_steps=30, labels=labels, random_state=0)
    np.testing.assert_array_equal(V[:, mask], X[1200:1220, mask])
    assert set(np.unique(V[:, ~mask])) <= {0.0, 1.0}
    # label units free: the same chain runs without them clamped
    free = labelled_dbn.complete(X[1200:1220], mask, n_steps=30, random_state=0)
    assert free.shape == V.shape and not np.array_equal(free, V)
    with pytest.raises(ValueError, match="DBN.complete: mask must be a boolean array"):
        labelled_dbn.complete(X[:2], np.ones(3, bool))
    with pytest.raises(ValueError, match="labels must be 2 values from classes_"):
        labelled_dbn.complete(X[:2], mask, labels=[11, 12])


def test_float32_preserved(digits):
    X, y = digits
    X = X[:200].astype(np.float32)
    dbn = DBN(hidden_layer_sizes=(10, 6), n_iter=2, n_updown_iter=1, random_state=0).fit(X, y[:200])
    arrays = (dbn.recognition_weights_ + dbn.generative_weights_
              + [dbn.top_components_, dbn.label_components_])
    assert all(a.dtype == np.float32 for a in arrays)
    assert dbn.predict_proba(X).dtype == np.float32
    assert dbn.sample(2, n_steps=3, random_state=0).dtype == np.float32
    assert dbn.complete(X[:2], np.arange(64) < 9, n_steps=2,
                        random_state=0).dtype == np.float32


def test_bad_input():
    with pytest.raises(ValueError, match=r"expects values in \[0, 1\]"):
        DBN(hidden_layer_sizes=(3,), n_iter=1).fit(np.full((5, 2), 2.0))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        DBN(hidden_layer_sizes=(0,), n_iter=1).fit(np.zeros((5, 2)))


def test_round_trip(labelled_dbn, digits, tmp_path):
    X, _ = digits
    save(labelled_dbn, tmp_path / "dbn.h5")
    loaded = load(tmp_path / "dbn.h5")
    np.testing.assert_array_equal(loaded.predict_proba(X), labelled_dbn.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), labelled_dbn.transform(X))


def test_verbose(capsys, digits):
    X, y = digits
    DBN(hidden_layer_sizes=(4, 3), n_iter=1, n_updown_iter=1, verbose=True).fit(X[:50], y[:50])
    out = capsys.readouterr().out
    assert "[DBN] Iteration 1, top RBM reconstruction error = " in out
    assert "[DBN] Iteration 1, up-down data prediction error = " in out


def test_gradient_of_networks_unrolled_from_dbn(digits):
    from deepzoo._nn.gradcheck import check_gradient

    X, y = digits
    # Trained long enough for weights of order 1: with tiny weights the
    # lower layers' gradients vanish into the differences' round-off.
    dbn = DBN(hidden_layer_sizes=(8, 5), n_iter=20, batch_size=20, n_updown_iter=2,
              random_state=0).fit(X[:300], y[:300])
    X, y = X[:20], y[:20]
    clf = FineTunedClassifier(dbn, max_iter=0, random_state=0).fit(X, y)
    Y = clf._targets(y, X.dtype)
    assert check_gradient(lambda: clf._loss_grad(X, Y), clf._params()) <= 1e-6
    ae = DeepAutoencoder(dbn, max_iter=0).fit(X)
    assert check_gradient(lambda: ae._loss_grad(X, X), ae._params()) <= 1e-6


# --------------------------------------------------- the top RBM's CD-k
N_ROWS, N_PENULTIMATE, N_TOP, N_CLASSES = 7, 6, 5, 3


def _top_rbm(dtype):
    """A top RBM with labels, parameters and momentum far from zero, and
    data for it: penultimate probabilities and one-hot labels."""
    rng = np.random.RandomState(0)
    W, U = rng.normal(size=(N_TOP, N_PENULTIMATE)), rng.normal(size=(N_TOP, N_CLASSES))
    b, d, c = rng.normal(size=N_PENULTIMATE), rng.normal(size=N_CLASSES), rng.normal(size=N_TOP)
    top = _dbn._TopRBM(W=W.astype(dtype), c=c.astype(dtype), b=b.astype(dtype),
                       U=U.astype(dtype), d=d.astype(dtype))
    for velocity in top.velocity.values():
        velocity[...] = 0.05 * rng.normal(size=velocity.shape)
    V = rng.uniform(size=(N_ROWS, N_PENULTIMATE)).astype(dtype)
    L = np.eye(N_CLASSES, dtype=dtype)[rng.randint(N_CLASSES, size=N_ROWS)]
    return top, V, L


def _state(top):
    """The top RBM in the reference's terms: ``[W | U]``, ``[b | d]`` apart."""
    k = N_PENULTIMATE
    vel = top.velocity
    return copy.deepcopy({
        "W": top.W[:, :k], "U": top.W[:, k:], "b": top.b[:k], "d": top.b[k:], "c": top.c,
        "velocity": {"W": vel["W"][:, :k], "U": vel["W"][:, k:], "b": vel["b"][:k],
                     "d": vel["b"][k:], "c": vel["c"]}})


def _assert_state_close(top, ref, rtol):
    got = _state(top)
    for name in ("W", "U", "b", "d", "c"):
        for g, r, what in ((got[name], ref[name], name),
                           (got["velocity"][name], ref["velocity"][name], f"velocity[{name}]")):
            assert_allclose(g, r, rtol=rtol, atol=rtol * max(np.abs(r).max(), 1e-3),
                            err_msg=what)


TOP_TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}


# batch_size 3 leaves a last batch of 1; epoch 1 uses initial_momentum
# unless momentum_switch is 0 or 1
@pytest.mark.parametrize("params", [
    {}, {"k": 2, "weight_decay": 0.05}, {"momentum_switch": 1},
    {"initial_momentum": 0.0, "weight_decay": 0.05}, {"initial_momentum": 0.0, "batch_size": 7},
    {"learning_rate_schedule": "linear", "n_iter": 4},
], ids=["cd1", "cd2-decay", "final-momentum", "no-momentum", "one-batch", "linear-rate"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_labelled_top_epoch_matches_reference(params, dtype):
    dbn = DBN(**{"batch_size": 3, "learning_rate": 0.2, "weight_decay": 0.01, **params})
    top, V, L = _top_rbm(dtype)
    before = _state(top)
    rng = np.random.RandomState(1)
    draws = copy.deepcopy(rng)
    total = dbn._top_epoch(top, top.visible(V, L), 1, rng)
    # the epoch's draws: the permutation, then the kernels' keys
    order = draws.permutation(N_ROWS)
    n_batches = -(-N_ROWS // dbn.batch_size)
    keys = draws.randint(np.iinfo(np.int64).max, size=(n_batches, 2 * dbn.k + 2),
                         dtype=np.int64).astype(np.uint64)
    momentum = dbn.initial_momentum if dbn.momentum_switch > 1 else dbn.final_momentum
    # epoch 1 of n_iter: the linear schedule has decayed the rate by 1 / n_iter
    rate = dbn.learning_rate * (1 - 1 / dbn.n_iter if dbn.learning_rate_schedule == "linear"
                                else 1)
    ref, ref_total, _ = naive.rbm_label_train_epoch(
        V, L, before, {"learning_rate": rate, "momentum": momentum,
                       "weight_decay": dbn.weight_decay, "k": dbn.k,
                       "batch_size": dbn.batch_size}, order, keys)
    assert top.W.dtype == dtype
    _assert_state_close(top, ref, TOP_TOLERANCE[dtype])
    assert_allclose(total, ref_total, rtol=TOP_TOLERANCE[dtype])
    assert rng.randint(2 ** 31) == draws.randint(2 ** 31)


@pytest.mark.parametrize("epoch", [0, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_labelled_top_pcd_epoch_matches_reference(epoch, dtype):
    # PCD: the negative phase runs persistent chains (4 of them, fewer than
    # the mini-batch rows), at initial_momentum and a linearly decaying rate
    dbn = DBN(batch_size=4, learning_rate=0.2, weight_decay=0.01, k=2, n_iter=5,
              top_method="pcd", top_learning_rate=0.3)
    top, V, L = _top_rbm(dtype)
    X = top.visible(V, L)
    top.start_chains(X, 4, np.random.RandomState(3))
    assert top.chains.shape == (4, N_TOP) and set(np.unique(top.chains)) <= {0, 1}
    before = {**_state(top), "chain_h": top.chains.copy()}
    rng = np.random.RandomState(1)
    draws = copy.deepcopy(rng)
    total = dbn._top_epoch(top, X, epoch, rng)
    order = draws.permutation(N_ROWS)
    n_batches = -(-N_ROWS // dbn.batch_size)
    keys = draws.randint(np.iinfo(np.int64).max, size=(n_batches, 2 * dbn.k + 2),
                         dtype=np.int64).astype(np.uint64)
    ref, ref_total, _ = naive.rbm_label_train_epoch(
        V, L, before, {"learning_rate": 0.3 * (1 - epoch / 5), "momentum": dbn.initial_momentum,
                       "weight_decay": dbn.weight_decay, "k": dbn.k,
                       "batch_size": dbn.batch_size}, order, keys)
    rtol = TOP_TOLERANCE[dtype]
    _assert_state_close(top, ref, rtol)
    assert_allclose(total, ref_total, rtol=rtol)
    np.testing.assert_array_equal(top.chains, ref["chain_h"])


def test_pcd_top_fantasies_follow_labels(digits):
    # End to end through the persistent chains: fantasies of a DBN on 8x8
    # digits, judged by a logistic regression on the pixels. (On digits
    # CD-1's fantasies follow their labels too; the difference shows on
    # MNIST, docs/experiments.md.)
    from sklearn.linear_model import LogisticRegression

    X, y = digits
    judge = LogisticRegression(max_iter=1000).fit(X, y)
    dbn = DBN(hidden_layer_sizes=(64, 128), n_iter=30, batch_size=20, top_method="pcd",
              top_learning_rate=0.05, random_state=0).fit(X, y)
    labels = np.repeat(np.arange(10), 20)
    V = dbn.sample(len(labels), n_steps=300, labels=labels, random_state=0)
    assert np.mean(judge.predict(V) == labels) > 0.8
    assert dbn.score(X, y) > 0.85


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_updown_top_step_matches_reference(dtype):
    # up-down: one CD-3 update on one mini-batch, no momentum, no weight
    # decay; the sleep pass starts from the chain's final visible states
    top, V, L = _top_rbm(dtype)
    before = _state(top)
    keys = np.random.RandomState(2).randint(np.iinfo(np.int64).max, size=(1, 8),
                                            dtype=np.int64).astype(np.uint64)
    total, negative = top.epoch(top.visible(V, L), np.empty(0, np.int64), keys,
                                batch_size=N_ROWS, k=3, learning_rate=0.3)
    ref, ref_total, ref_negative = naive.rbm_label_train_epoch(
        V, L, before, {"learning_rate": 0.3, "momentum": 0.0, "weight_decay": 0.0, "k": 3,
                       "batch_size": N_ROWS}, None, keys)
    rtol = TOP_TOLERANCE[dtype]
    _assert_state_close(top, ref, rtol)
    assert_allclose(total, ref_total, rtol=rtol)
    assert_allclose(negative, ref_negative, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("n_chains", [None, 7], ids=["cd", "pcd"])
@pytest.mark.parametrize("schedule, epoch, rate", [
    ("constant", 0, 0.5), ("constant", 3, 0.5), ("linear", 0, 0.5), ("linear", 3, 0.5 * 5 / 8)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_updown_pass_matches_reference(dtype, schedule, epoch, rate, n_chains):
    # three mini-batches of up-down with CD-2 in the top RBM (or two Gibbs
    # steps of 7 persistent chains, fewer than the batch's 20 rows): every
    # weight, bias and the error as the plain-numpy reference computes
    # them, at the rate of the schedule's epoch (of 8)
    X, y = load_digits(return_X_y=True)
    X = (X[:200] / 16).astype(dtype)
    dbn = DBN(hidden_layer_sizes=(16, 12, 20), n_iter=1, batch_size=20, updown_learning_rate=0.5,
              random_state=0).fit(X, y[:200])
    dbn.set_params(n_updown_iter=8, updown_learning_rate_schedule=schedule)
    dbn.n_iter_ = epoch
    Y = np.eye(10, dtype=dtype)[y[:60]]
    top = dbn._top()
    n_pen = 12
    before = copy.deepcopy({
        "W": top.W[:, :n_pen], "U": top.W[:, n_pen:], "b": top.b[:n_pen], "d": top.b[n_pen:],
        "c": top.c, "velocity": {"W": np.zeros((20, n_pen)), "U": np.zeros((20, 10)),
                                 "b": np.zeros(n_pen), "d": np.zeros(10), "c": np.zeros(20)}})
    if n_chains:
        dbn.set_params(updown_top_method="pcd")
        top.chains = (np.random.RandomState(5).random_sample((n_chains, 20)) < 0.5).astype(dtype)
        before["chain_h"] = top.chains.copy()
    arrays = copy.deepcopy([dbn.recognition_weights_, dbn.recognition_intercepts_,
                            dbn.generative_weights_, dbn.generative_intercepts_])
    err = dbn._updown_pass(top, X[:60], Y, np.random.RandomState(3), 2)
    draw = np.random.RandomState(3)
    order = draw.permutation(60)
    layer_keys, top_keys = _k.draw_keys(draw, (3, 3)), _k.draw_keys(draw, (3, 6))
    R, r, G, g, ref_top, ref_err = naive.dbn_updown_pass(
        X[:60], Y, *arrays, before, 2, rate, 20, order, layer_keys, top_keys, dtype)
    rtol = TOP_TOLERANCE[dtype]
    for name, got, ref in (("R", dbn.recognition_weights_, R), ("r", dbn.recognition_intercepts_, r),
                           ("G", dbn.generative_weights_, G), ("g", dbn.generative_intercepts_, g)):
        for l in range(2):
            assert_allclose(got[l], ref[l], rtol=rtol, atol=rtol, err_msg=f"{name}[{l}]")
    got_top = {"W": top.W[:, :n_pen], "U": top.W[:, n_pen:], "b": top.b[:n_pen],
               "d": top.b[n_pen:], "c": top.c}
    if n_chains:
        got_top["chain_h"] = top.chains
        assert not np.array_equal(top.chains, before["chain_h"])
    for name, value in got_top.items():
        assert_allclose(value, ref_top[name], rtol=rtol, atol=rtol, err_msg=name)
    assert_allclose(err, ref_err, rtol=rtol)
    # the pass moved every layer
    for got, old in zip(dbn.generative_weights_ + dbn.recognition_weights_,
                        arrays[2] + arrays[0]):
        assert np.abs(got - old).max() > 1e-3


def _reproduced_arrays():
    """Every learned array of a labelled DBN with up-down fine-tuning,
    fitted from a fixed seed with BLAS on one thread."""
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    with threadpool_limits(1, user_api="blas"):
        dbn = DBN(hidden_layer_sizes=(20, 16, 12), n_iter=2, k=2, batch_size=32, n_updown_iter=2,
                  updown_k=2, random_state=0).fit(X[:400] / 16, y[:400])
    out = {"fantasies": dbn.sample(5, n_steps=10, labels=np.arange(5), random_state=0)}
    for name, value in vars(dbn).items():
        arrays = value if isinstance(value, list) else [value]
        for i, a in enumerate(arrays):
            if name.endswith("_") and isinstance(a, np.ndarray) and a.dtype.kind == "f":
                out[f"{name}{i}"] = a
    return out


_THREADS_SCRIPT = """
import sys
import numba
import numpy as np
sys.path.insert(0, {root!r})
numba.set_num_threads({n_threads})
from tests.test_dbn import _reproduced_arrays
np.savez({path!r}, **_reproduced_arrays())
"""


def test_a_seed_reproduces_a_dbn_bit_for_bit_at_any_numba_thread_count(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = []
    for n_threads in (1, 2):
        path = str(tmp_path / f"threads{n_threads}.npz")
        # NUMBA_NUM_THREADS=2 lets numba start two threads on any machine
        subprocess.run([sys.executable, "-c", _THREADS_SCRIPT.format(
            root=root, path=path, n_threads=n_threads)],
            env={**os.environ, "NUMBA_NUM_THREADS": "2"}, check=True, timeout=600)
        runs.append(np.load(path))
    here = _reproduced_arrays()
    assert sorted(runs[0].files) == sorted(runs[1].files) == sorted(here)
    assert "label_components_0" in here and "recognition_weights_1" in here
    for name, value in here.items():
        assert np.array_equal(runs[0][name], runs[1][name]), name
        assert np.array_equal(runs[0][name], value), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_streamed_labelled_top_epoch_is_the_reference_chunk_by_chunk(dtype, tmp_path):
    # chunks of 4 rows of the 7 (batch_size 2): the chunk order drawn
    # first, then each chunk's permutation and keys, as in memory
    from deepzoo.utils.streaming import RowStream, chunk_bytes

    dbn = DBN(batch_size=2, learning_rate=0.2, weight_decay=0.01, k=2)
    top, V, L = _top_rbm(dtype)
    mm = np.memmap(tmp_path / "v.dat", dtype=dtype, mode="w+", shape=V.shape)
    mm[:] = V
    with chunk_bytes(4 * N_PENULTIMATE * np.dtype(dtype).itemsize):
        stream = RowStream(mm, "t", dtype, batch_size=dbn.batch_size)
    assert [stream.bounds(i) for i in range(stream.n_chunks)] == [(0, 4), (4, 7)]
    ref = _state(top)
    rng = np.random.RandomState(0)
    draws = copy.deepcopy(rng)
    total = dbn._top_epoch(top, stream, 0, rng, L)
    ref_total = 0.0
    chunk_order = draws.permutation(2)
    assert chunk_order.tolist() == [1, 0]  # this seed: the second chunk first
    for i in chunk_order:
        start, stop = stream.bounds(i)
        n = stop - start
        order = draws.permutation(n)
        keys = draws.randint(np.iinfo(np.int64).max, size=(-(-n // 2), 2 * dbn.k + 2),
                             dtype=np.int64).astype(np.uint64)
        ref, part, _ = naive.rbm_label_train_epoch(
            V[start:stop], L[start:stop], ref,
            {"learning_rate": dbn.learning_rate, "momentum": dbn.initial_momentum,
             "weight_decay": dbn.weight_decay, "k": dbn.k, "batch_size": dbn.batch_size},
            order, keys)
        ref_total += part
    _assert_state_close(top, ref, TOP_TOLERANCE[dtype])
    assert_allclose(total, ref_total, rtol=TOP_TOLERANCE[dtype])
    assert rng.randint(2 ** 31) == draws.randint(2 ** 31)


def _learned(dbn):
    """Every learned float array of a fitted DBN by name."""
    out = {}
    for name, value in vars(dbn).items():
        for i, a in enumerate(value if isinstance(value, list) else [value]):
            if name.endswith("_") and isinstance(a, np.ndarray) and a.dtype.kind == "f":
                out[f"{name}{i}"] = a
    return out


def _assert_same_fit(a, b, skip=()):
    arrays_a, arrays_b = _learned(a), _learned(b)
    assert sorted(arrays_a) == sorted(arrays_b)
    for name in arrays_a:
        if name not in skip:
            np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)


@pytest.mark.parametrize("updown_k, n_updown_iter, expected", [
    ((3, 6, 10), 6, [3, 3, 6, 6, 10, 10]),
    ([2, 1], 4, [2, 2, 1, 1]),
    (np.array([4]), 2, [4, 4]),
    (5, 3, [5, 5, 5]),
])
def test_updown_k_schedule_runs_equal_consecutive_stages(updown_k, n_updown_iter, expected,
                                                         digits, monkeypatch):
    X, y = digits
    steps = []
    updown_pass = DBN._updown_pass

    def recording(self, top, X, Y, rng, k):
        steps.append(k)
        return updown_pass(self, top, X, Y, rng, k)

    monkeypatch.setattr(DBN, "_updown_pass", recording)
    DBN(hidden_layer_sizes=(6, 5), n_iter=1, n_updown_iter=n_updown_iter, updown_k=updown_k,
        random_state=0).fit(X[:100], y[:100])
    assert steps == expected


def test_updown_k_of_equal_stages_is_the_int(digits):
    X, y = digits
    params = {"hidden_layer_sizes": (6, 5), "n_iter": 1, "n_updown_iter": 4, "random_state": 0}
    _assert_same_fit(DBN(updown_k=(2, 2), **params).fit(X[:100], y[:100]),
                     DBN(updown_k=2, **params).fit(X[:100], y[:100]))


@pytest.mark.parametrize("updown_k, n_updown_iter, match", [
    ((), 3, "non-empty sequence"),
    ((3, 0), 2, "non-empty sequence"),
    ((3, 2.5), 2, "non-empty sequence"),
    ((3, True), 2, "non-empty sequence"),
    ([[3, 6]], 2, "non-empty sequence"),
    ((3, 6, 10), 301, r"not a multiple of 3; set n_updown_iter to a multiple of 3 \(e.g. 300\)"),
    ((3, 6, 10), 2, r"not a multiple of 3.*\(e.g. 3\)"),
])
def test_bad_updown_k_is_refused_before_training(updown_k, n_updown_iter, match, digits,
                                                 monkeypatch):
    X, y = digits
    monkeypatch.setattr(_dbn.Stack, "fit", lambda *a: pytest.fail("trained"))
    dbn = DBN(hidden_layer_sizes=(6, 5), n_updown_iter=n_updown_iter, updown_k=updown_k)
    with pytest.raises(ValueError, match=match):
        dbn.fit(X[:50], y[:50])
    assert not hasattr(dbn, "top_components_")


def _validated(n_updown_iter, **params):
    return DBN(hidden_layer_sizes=(16, 32), n_iter=3, batch_size=20, n_updown_iter=n_updown_iter,
               updown_learning_rate=1.0, random_state=0, **params)


def test_validation_keeps_the_parameters_of_the_best_updown_epoch(digits):
    X, y = digits
    dbn = _validated(8, validation_fraction=0.2).fit(X[:600], y[:600])
    assert dbn.n_iter_ == 8 and dbn.validation_error_.shape == (8,)
    best = int(np.argmin(dbn.validation_error_)) + 1
    assert best < 8  # this seed: the last epoch is not the best
    assert dbn.validation_error_[-1] > dbn.validation_error_.min()
    # the epochs of a longer fit start as the shorter fit's: the parameters
    # kept are bit for bit those of a fit that stops at the best epoch
    shorter = _validated(best, validation_fraction=0.2).fit(X[:600], y[:600])
    _assert_same_fit(dbn, shorter, skip=("updown_error_0", "validation_error_0"))
    np.testing.assert_array_equal(dbn.validation_error_[:best], shorter.validation_error_)
    np.testing.assert_array_equal(dbn.updown_error_[:best], shorter.updown_error_)
    assert shorter.validation_error_[-1] == dbn.validation_error_.min()


def test_validation_holds_out_a_stratified_split_from_the_whole_fit(digits, monkeypatch):
    X, y = digits
    seen = {}
    stack_fit = _dbn.Stack.fit

    def recording(self, X, *args):
        seen["greedy"] = X.shape[0]
        return stack_fit(self, X, *args)

    monkeypatch.setattr(_dbn.Stack, "fit", recording)
    split = _dbn._Validation.split

    def keeping(self, X, y):
        out = split(self, X, y)
        seen["held"] = self.X, self.y
        return out

    monkeypatch.setattr(_dbn._Validation, "split", keeping)
    dbn = _validated(3, validation_fraction=0.25).fit(X[:400], y[:400])
    assert seen["greedy"] == 300
    X_held, y_held = seen["held"]
    np.testing.assert_array_equal(np.bincount(y_held),
                                  np.round(np.bincount(y[:400]) / 4).astype(int))
    # the model kept scores the best error recorded on the held-out rows
    assert np.mean(dbn.predict(X_held) != y_held) == dbn.validation_error_.min()


def test_validation_keeps_the_greedy_dbn_when_no_updown_epoch_beats_it(digits):
    X, y = digits
    params = {"hidden_layer_sizes": (32, 64), "n_iter": 20, "batch_size": 20, "top_n_init": 2,
              "validation_fraction": 0.2, "random_state": 0}
    greedy = DBN(**params).fit(X[:600], y[:600])
    # a rate that wrecks the classifier (8% held-out error) in every up-down
    # epoch (68-75%)
    with pytest.warns(UserWarning, match=r"every up-down epoch classified the held-out "
                                         r"samples worse than the greedy DBN it started "
                                         r"from .* updown_learning_rate \(it is 3.0\)"):
        wrecked = DBN(n_updown_iter=3, updown_learning_rate=3.0, **params).fit(X[:600], y[:600])
    assert wrecked.n_iter_ == 3
    assert wrecked.greedy_validation_error_ == greedy.top_init_error_.min()
    assert wrecked.validation_error_.min() > wrecked.greedy_validation_error_
    # the parameters kept are the greedy DBN's, bit for bit
    kept = _learned(wrecked)
    for name, a in _learned(greedy).items():
        if name != "updown_error_0":
            np.testing.assert_array_equal(kept[name], a, err_msg=name)
    # without up-down there is no greedy start to compare with
    assert greedy.greedy_validation_error_ is None
    # continued from a fitted DBN, the warning names that one
    continued = copy.deepcopy(greedy).set_params(warm_start=True, n_updown_iter=3,
                                                 updown_learning_rate=3.0)
    with pytest.warns(UserWarning, match="worse than the fitted DBN it started from"):
        continued.fit(X[:600], y[:600])


def test_without_labels_or_updown_validation_fraction_changes_nothing(digits):
    X, y = digits
    params = {"hidden_layer_sizes": (6, 5), "n_iter": 2, "random_state": 0}
    plain = DBN(n_updown_iter=2, **params).fit(X[:200])
    asked = DBN(n_updown_iter=2, validation_fraction=0.2, **params).fit(X[:200])
    _assert_same_fit(plain, asked)
    assert asked.validation_error_ is None
    plain = DBN(**params).fit(X[:200], y[:200])
    asked = DBN(validation_fraction=0.2, **params).fit(X[:200], y[:200])
    _assert_same_fit(plain, asked)
    assert asked.validation_error_ is None


def test_validation_fraction_errors(digits, tmp_path):
    X, y = digits
    with pytest.raises(ValueError, match="validation_fraction=0.01 leaves 0 validation and 50 "
                                         "training samples .* or set validation_fraction=None"):
        DBN(hidden_layer_sizes=(4,), n_updown_iter=1, validation_fraction=0.01).fit(X[:50],
                                                                                    y[:50])
    with pytest.raises(ValueError, match="validation_fraction"):
        DBN(validation_fraction=1.0).fit(X[:50], y[:50])
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="w+", shape=(50, X.shape[1]))
    mm[:] = X[:50]
    with pytest.raises(ValueError, match="needs the data in memory"):
        DBN(hidden_layer_sizes=(4,), n_updown_iter=1, validation_fraction=0.2).fit(mm, y[:50])


def test_validated_dbn_round_trip(digits, tmp_path):
    X, y = digits
    dbn = _validated(2, validation_fraction=0.2, updown_k=(1, 2)).fit(X[:300], y[:300])
    save(dbn, tmp_path / "dbn.h5")
    loaded = load(tmp_path / "dbn.h5")
    assert loaded.get_params()["updown_k"] == (1, 2)
    np.testing.assert_array_equal(loaded.validation_error_, dbn.validation_error_)
    assert loaded.greedy_validation_error_ == dbn.greedy_validation_error_
    np.testing.assert_array_equal(loaded.predict(X), dbn.predict(X))


def _error(dbn, X, y):
    return float(np.mean(dbn.predict(X) != y))


def test_top_n_init_keeps_the_top_that_classifies_the_training_samples_best(digits):
    X, y = digits[0][:400], digits[1][:400]
    params = {"hidden_layer_sizes": (16, 32), "n_iter": 3, "batch_size": 20, "random_state": 0}
    one = DBN(**params).fit(X, y)
    many = DBN(top_n_init=4, **params).fit(X, y)
    assert one.top_init_error_ is None and many.top_init_error_.shape == (4,)
    # the lower layers are trained once; the first top is the single fit's
    for name in ("recognition_weights_", "generative_weights_"):
        for a, b in zip(getattr(one, name), getattr(many, name)):
            np.testing.assert_array_equal(a, b)
    assert many.top_init_error_[0] == _error(one, X, y)
    best = int(np.argmin(many.top_init_error_))
    assert best > 0  # this seed: a later top classifies better than the first
    assert _error(many, X, y) == many.top_init_error_.min() < many.top_init_error_[0]
    assert many.reconstruction_error_.shape == (3,)
    assert not np.array_equal(many.top_components_, one.top_components_)


def test_top_n_init_chooses_on_the_held_out_samples(digits, monkeypatch):
    X, y = digits
    split = _dbn._Validation.split
    seen = {}

    def keeping(self, X, y):
        out = split(self, X, y)
        seen["held"] = self.X, self.y
        return out

    monkeypatch.setattr(_dbn._Validation, "split", keeping)
    dbn = DBN(hidden_layer_sizes=(16, 32), n_iter=3, batch_size=20, top_n_init=3,
              validation_fraction=0.25, random_state=0).fit(X[:400], y[:400])
    X_held, y_held = seen["held"]
    assert X_held.shape[0] == 100 and dbn.validation_error_ is None
    assert _error(dbn, X_held, y_held) == dbn.top_init_error_.min()
    # no up-down and one top: nothing is held out
    plain = DBN(hidden_layer_sizes=(16, 32), n_iter=3, batch_size=20,
                validation_fraction=0.25, random_state=0).fit(X[:400], y[:400])
    _assert_same_fit(plain, DBN(hidden_layer_sizes=(16, 32), n_iter=3, batch_size=20,
                                random_state=0).fit(X[:400], y[:400]))


def test_top_n_init_on_streamed_data_scores_every_chunk(digits, tmp_path):
    from deepzoo.utils.streaming import chunk_bytes
    X, y = digits[0][:400], digits[1][:400]
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    params = {"hidden_layer_sizes": (16, 32), "n_iter": 2, "batch_size": 20, "top_n_init": 3,
              "random_state": 0}
    # in one chunk the stream trains, and scores, as the array
    _assert_same_fit(DBN(**params).fit(X, y), DBN(**params).fit(mm, y))
    with chunk_bytes(100 * X.shape[1] * 8):
        dbn = DBN(**params).fit(mm, y)
    assert _error(dbn, X, y) == dbn.top_init_error_.min()


def test_bad_top_n_init_is_refused(digits):
    from sklearn.utils._param_validation import InvalidParameterError
    with pytest.raises(InvalidParameterError, match="top_n_init"):
        DBN(top_n_init=0).fit(*digits)


def _greedy_then_warm(X, y, **warm_params):
    params = {"hidden_layer_sizes": (16, 32), "n_iter": 3, "batch_size": 20, "random_state": 0}
    greedy = DBN(**params).fit(X, y)
    return greedy, copy.deepcopy(greedy).set_params(warm_start=True, n_updown_iter=2,
                                                    **warm_params)


def test_warm_start_runs_updown_from_the_fitted_dbn(digits, monkeypatch):
    X, y = digits[0][:300], digits[1][:300]
    greedy, warm = _greedy_then_warm(X, y, updown_learning_rate=1e-30)
    monkeypatch.setattr(_dbn.Stack, "fit", lambda *a: pytest.fail("greedy layers retrained"))
    monkeypatch.setattr(DBN, "_fit_labelled_top", lambda *a: pytest.fail("top retrained"))
    warm.fit(X, y)
    assert warm.n_iter_ == 2 and warm.updown_error_.shape == (2,)
    # a vanishing up-down rate: the parameters are the greedy fit's
    for name in ("recognition_weights_", "generative_weights_"):
        for a, b in zip(getattr(warm, name), getattr(greedy, name)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(warm.top_components_, greedy.top_components_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(warm.label_components_, greedy.label_components_, rtol=0,
                               atol=1e-12)
    # up-down at a useful rate moves them; a second warm fit continues from there
    warm.set_params(updown_learning_rate=0.1).fit(X, y)
    assert not np.allclose(warm.top_components_, greedy.top_components_)
    moved = warm.top_components_.copy()
    warm.fit(X, y)
    assert warm.n_iter_ == 2 and not np.array_equal(warm.top_components_, moved)


def test_warm_start_holds_out_the_rows_a_cold_fit_holds_out(digits, held_out_rows):
    X, y = digits[0][:300], digits[1][:300]
    params = {"hidden_layer_sizes": (16, 32), "n_iter": 3, "batch_size": 20, "top_n_init": 2,
              "validation_fraction": 0.2, "random_state": 0}
    greedy = DBN(**params).fit(X, y)
    warm = copy.deepcopy(greedy).set_params(warm_start=True, n_updown_iter=2).fit(X, y)
    assert len(held_out_rows) == 2
    np.testing.assert_array_equal(*held_out_rows)
    assert warm.greedy_validation_error_ == greedy.top_init_error_.min()


def test_warm_start_on_an_unfitted_dbn_is_a_cold_fit(digits):
    X, y = digits[0][:200], digits[1][:200]
    params = {"hidden_layer_sizes": (6, 5), "n_iter": 2, "n_updown_iter": 1, "random_state": 0}
    _assert_same_fit(DBN(**params).fit(X, y), DBN(warm_start=True, **params).fit(X, y))


@pytest.mark.parametrize("change, match", [
    ({"classes": True}, "the classes .* differ from the previous fit's"),
    ({"features": True}, "8 features, but the fitted DBN has 64"),
    ({"hidden_layer_sizes": (16, 8)}, r"hidden_layer_sizes=\(16, 8\), but the fitted DBN has "
                                      r"layers of \(16, 32\)"),
    ({"labels": False}, "fitted with labels"),
])
def test_warm_start_refuses_another_problem(change, match, digits):
    X, y = digits[0][:200], digits[1][:200]
    _, warm = _greedy_then_warm(X, y)
    before = warm.top_components_.copy()
    if change.get("classes"):
        y = np.where(y == 9, 10, y)
    if change.get("features"):
        X = X[:, :8]
    if "hidden_layer_sizes" in change:
        warm.set_params(hidden_layer_sizes=change["hidden_layer_sizes"])
    with pytest.raises(ValueError, match=match):
        warm.fit(X, y) if change.get("labels", True) else warm.fit(X)
    np.testing.assert_array_equal(warm.top_components_, before)
