"""DBN: greedy stack, label units, free-energy classification, up-down, sampling."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from deepzoo import DBN, DeepAutoencoder, FineTunedClassifier
from deepzoo.io import load, save

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


def test_updown_unties_and_improves_generative_prediction(labelled_dbn, digits):
    X, y = digits
    dbn = clone(labelled_dbn).set_params(n_updown_iter=6, updown_learning_rate=0.05)
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


def test_float32_preserved(digits):
    X, y = digits
    X = X[:200].astype(np.float32)
    dbn = DBN(hidden_layer_sizes=(10, 6), n_iter=2, n_updown_iter=1, random_state=0).fit(X, y[:200])
    arrays = (dbn.recognition_weights_ + dbn.generative_weights_
              + [dbn.top_components_, dbn.label_components_])
    assert all(a.dtype == np.float32 for a in arrays)
    assert dbn.predict_proba(X).dtype == np.float32
    assert dbn.sample(2, n_steps=3, random_state=0).dtype == np.float32


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
