"""Fine-tuned networks: gradients, exact unrolling, training, persistence."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from deepzoo import DeepAutoencoder, FineTunedClassifier, FineTunedRegressor, Stack
from deepzoo._nn.gradcheck import check_gradient
from deepzoo.io import load, save

from .test_stack import ContractLayer


def _stack(untied=False, code="linear"):
    return Stack([
        ("l1", ContractLayer(6, untied=untied, random_state=1)),
        ("l2", ContractLayer(4, untied=untied, random_state=2)),
        ("code", ContractLayer(3, hidden_activation=code, random_state=3)),
    ])


def _xy(dtype=np.float64, n=30, d=7, n_classes=3):
    rng = np.random.default_rng(0)
    X = rng.random((n, d)).astype(dtype)
    return X, np.arange(n) % n_classes


def _gradient_error(net, X, Y, n_trainable=None):
    return check_gradient(lambda: net._loss_grad(X, Y, n_trainable=n_trainable),
                          net._params(n_trainable))


@pytest.mark.parametrize("pretrained", [None, "stack"])
@pytest.mark.parametrize("alpha", [0.0, 0.01])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_classifier_gradient(pretrained, alpha, activation):
    X, y = _xy()
    stack = _stack(code=activation) if pretrained else None
    net = FineTunedClassifier(stack, hidden_layer_sizes=(5, 4), activation=activation,
                              alpha=alpha, max_iter=0, random_state=0).fit(X, y)
    Y = net._targets(y, X.dtype)
    assert _gradient_error(net, X, Y) <= 1e-6
    assert _gradient_error(net, X, Y, n_trainable=1) <= 1e-6


def test_regressor_gradient_multi_output():
    X, _ = _xy()
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2] * 3]
    net = FineTunedRegressor(_stack(), alpha=0.1, max_iter=0, random_state=0).fit(X, Y)
    assert _gradient_error(net, X, Y) <= 1e-6


@pytest.mark.parametrize("untied", [False, True])
@pytest.mark.parametrize("loss", ["binary_cross_entropy", "squared_error"])
def test_deep_autoencoder_gradient(untied, loss):
    X, _ = _xy()
    net = DeepAutoencoder(_stack(untied=untied), loss=loss, max_iter=0).fit(X)
    assert len(net.coefs_) == 6
    assert _gradient_error(net, X, X) <= 1e-6


def test_deep_autoencoder_gradient_without_pretraining():
    X, _ = _xy()
    net = DeepAutoencoder(hidden_layer_sizes=(5, 2), activation="tanh", output_activation="linear",
                          max_iter=0, random_state=0, alpha=0.01).fit(X)
    assert net.loss_ == "squared_error"
    assert _gradient_error(net, X, X) <= 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fitted", [True, False])
def test_unrolled_classifier_reproduces_stack_bit_for_bit(dtype, fitted):
    X, y = _xy(dtype)
    stack = _stack()
    fitted_stack = clone(stack).fit(X)
    net = FineTunedClassifier(fitted_stack if fitted else stack, max_iter=2, top_only_iter=2,
                              learning_rate=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X, y)
    H = net.transform(X)
    assert H.dtype == dtype
    np.testing.assert_array_equal(H, fitted_stack.transform(X))
    # Only the output layer trained: its loss went down, the rest is the stack.
    assert net.loss_curve_[1] < net.loss_curve_[0]
    if fitted:
        assert net.pretrained_ is fitted_stack
    else:
        assert not hasattr(stack, "steps_")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("untied", [False, True])
def test_deep_autoencoder_starts_at_stack_down_pass(dtype, untied):
    X, _ = _xy(dtype)
    stack = _stack(untied=untied).fit(X)
    net = DeepAutoencoder(stack, max_iter=0).fit(X)
    down = stack.inverse_transform(stack.transform(X))
    assert net.reconstruct(X).dtype == dtype
    np.testing.assert_array_equal(net.transform(X), stack.transform(X))
    np.testing.assert_array_equal(net.reconstruct(X), down)
    np.testing.assert_array_equal(net.inverse_transform(net.transform(X)), down)
    # Untied after unrolling: the decoder is a copy, not the stack's array.
    assert not np.shares_memory(net.coefs_[-1], stack.steps_[0][1].components_)


def test_fine_tuning_improves_reconstruction():
    X = load_digits().data[:400] / 16
    stack = Stack([("l1", ContractLayer(32, random_state=1)),
                   ("code", ContractLayer(8, hidden_activation="linear"))]).fit(X)
    net = DeepAutoencoder(stack, solver="cg", batch_size=200, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X)
    before = DeepAutoencoder(stack, max_iter=0).fit(X).score(X)
    assert net.score(X) > before + 1.0
    assert np.all(np.diff(net.loss_curve_) < 0)


@pytest.mark.parametrize("solver", ["adam", "momentum", "cg"])
def test_classifier_learns_digits(solver):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    lr = {"adam": 0.003, "momentum": 0.1, "cg": 0.1}[solver]
    clf = FineTunedClassifier(hidden_layer_sizes=(40,), solver=solver, learning_rate=lr,
                              batch_size=500 if solver == "cg" else 50, max_iter=20,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:1200], y[:1200])
    assert clf.score(X[1200:], y[1200:]) > 0.9
    proba = clf.predict_proba(X[1200:])
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)


def test_float32_training_stays_float32():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    clf = FineTunedClassifier(hidden_layer_sizes=(20,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert all(W.dtype == np.float32 for W in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == np.float32


def test_early_stopping_keeps_best_validation_weights():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    clf = FineTunedClassifier(hidden_layer_sizes=(30,), learning_rate=0.01, max_iter=60,
                              early_stopping=True, n_iter_no_change=3, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ < 60
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_max_iter_warns():
    X, y = _xy()
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        FineTunedClassifier(hidden_layer_sizes=(3,), max_iter=1).fit(X, y)


def test_partial_fit_equals_fit_epochs():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    y = y[:300]
    params = dict(hidden_layer_sizes=(10,), shuffle=False, random_state=0, learning_rate=0.01)
    a = FineTunedClassifier(max_iter=3, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y)
    b = FineTunedClassifier(**params)
    for _ in range(3):
        b.partial_fit(X, y, classes=np.arange(10))
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-12)
    assert b.n_iter_ == 3 and b.loss_curve_ == pytest.approx(a.loss_curve_)


def test_partial_fit_needs_classes_and_known_labels():
    X, y = _xy()
    clf = FineTunedClassifier(hidden_layer_sizes=(3,))
    with pytest.raises(ValueError, match="classes="):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 5)


def test_dropout_and_max_norm():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    clf = FineTunedClassifier(hidden_layer_sizes=(40,), dropout=0.2, max_norm=1.5,
                              learning_rate=0.01, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:1200], y[:1200])
    assert np.linalg.norm(clf.coefs_[0], axis=1).max() <= 1.5 * (1 + 1e-12)
    assert clf.score(X[1200:], y[1200:]) > 0.85


def test_verbose(capsys):
    X, y = _xy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        FineTunedClassifier(hidden_layer_sizes=(3,), max_iter=2, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[FineTunedClassifier] Iteration 1, loss = ")
    assert len(lines) == 2


def test_divergence_raises():
    X, y = _xy()
    X = X * 1e30
    with pytest.raises(FloatingPointError, match="diverged"):
        with np.errstate(all="ignore"):
            FineTunedRegressor(hidden_layer_sizes=(3,), solver="sgd", learning_rate=1e10,
                               max_iter=5, activation="linear").fit(X, X[:, 0] * 1e30)


def test_bad_inputs():
    X, y = _xy()
    with pytest.raises(TypeError, match="encoder-layer contract"):
        FineTunedClassifier(Stack([("s", StandardScaler())]), max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="expects 5 features; X has 7"):
        FineTunedClassifier(_stack().fit(X[:, :5]), max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        FineTunedClassifier(hidden_layer_sizes=(0,), max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match=r"expects values in \[0, 1\]"):
        DeepAutoencoder(hidden_layer_sizes=(3,), max_iter=1).fit(X - 2)


def test_fine_tuned_network_round_trip(tmp_path):
    X, y = _xy(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FineTunedClassifier(hidden_layer_sizes=(5, 4), max_iter=3,
                                  random_state=0).fit(X, y)
    save(clf, tmp_path / "clf.h5")
    loaded = load(tmp_path / "clf.h5")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), clf.transform(X))
    # Training resumes from the loaded weights.
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == 4


def test_grid_search_over_pretrained_stack_parameter():
    from sklearn.model_selection import GridSearchCV

    from deepzoo import BernoulliRBM

    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    stack = Stack([("rbm1", BernoulliRBM(8, n_iter=3, random_state=0)),
                   ("rbm2", BernoulliRBM(8, n_iter=3, random_state=0))])
    clf = FineTunedClassifier(stack, max_iter=3, learning_rate=0.01, random_state=0)
    grid = {"pretrained__rbm2__n_components": [2, 16]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(clf, grid, cv=2).fit(X, y)
    assert search.best_params_ == {"pretrained__rbm2__n_components": 16}
    assert search.best_estimator_.coefs_[1].shape == (16, 8)
    # the user's stack is untouched
    assert stack.steps[1][1].n_components == 8 and not hasattr(stack, "steps_")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rbm_stack_with_linear_code_unrolls_exactly(dtype):
    from deepzoo import BernoulliRBM

    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype(dtype)
    stack = Stack([("rbm1", BernoulliRBM(16, n_iter=2, random_state=0)),
                   ("code", BernoulliRBM(4, n_iter=2, hidden_unit="gaussian",
                                         learning_rate=0.001, random_state=0))]).fit(X)
    ae = DeepAutoencoder(stack, max_iter=0).fit(X)
    assert ae.activations_ == ["sigmoid", "linear", "sigmoid", "sigmoid"]
    np.testing.assert_array_equal(ae.transform(X), stack.transform(X))
    np.testing.assert_array_equal(ae.reconstruct(X), stack.inverse_transform(stack.transform(X)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FineTunedClassifier(stack, max_iter=1, top_only_iter=1, random_state=0).fit(X, y[:300])
    assert clf.transform(X).dtype == dtype
    np.testing.assert_array_equal(clf.transform(X), stack.transform(X))


@pytest.mark.parametrize("estimator", [FineTunedClassifier, FineTunedRegressor, DeepAutoencoder])
def test_docstrings_carry_the_shared_blocks(estimator):
    from deepzoo.networks._finetuned import SHARED_ATTRIBUTES_DOC, SHARED_PARAMETERS_DOC

    doc = estimator.__doc__
    assert SHARED_PARAMETERS_DOC in doc and SHARED_ATTRIBUTES_DOC in doc
    assert "%(" not in doc and "{{" not in doc


@pytest.mark.parametrize("blocks", [{"param": "x"}, {"params": "x", "attrs": "y"}])
def test_fill_docstring_refuses_unmatched_placeholders(blocks):
    from deepzoo.utils._docstrings import fill_docstring

    def f():
        """Doc.

%(params)s
        """

    with pytest.raises(ValueError, match="placeholders"):
        fill_docstring(**blocks)(f)
