"""Autoencoder estimators: the encoder-layer contract, the PCA subspace of a
linear autoencoder, training control (partial_fit, early stopping,
convergence warnings, divergence) and the domain errors."""

import re
import warnings

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from deepzoo import Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from deepzoo._nn import encode, loss_samples
from deepzoo.layers._autoencoder import corrupt

ALL = [Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder]


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data / 16.0).astype(np.float64)


def _quiet_fit(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


# --------------------------------------------------------- encoder contract


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encoder_contract(cls, dtype, digits):
    X = digits[:300].astype(dtype)
    est = _quiet_fit(cls(n_components=12, loss="cross_entropy", max_iter=3, random_state=0), X)
    assert est.components_.shape == (12, 64)
    assert est.intercept_hidden_.shape == (12,) and est.intercept_visible_.shape == (64,)
    for attr in ("components_", "intercept_hidden_", "intercept_visible_"):
        assert getattr(est, attr).dtype == dtype
    assert est.hidden_activation_ == "sigmoid" and est.visible_activation_ == "sigmoid"
    H = est.transform(X)
    assert H.dtype == dtype
    # what a stack unrolls: the same function, bit for bit
    np.testing.assert_array_equal(
        H, encode(X, est.components_, est.intercept_hidden_, est.hidden_activation_))
    R = est.inverse_transform(H)
    assert R.shape == X.shape and R.dtype == dtype
    # score_samples: minus the per-sample loss of the clean reconstruction
    np.testing.assert_allclose(est.score_samples(X), -loss_samples("binary_cross_entropy", X, R),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert est.score(X) == pytest.approx(np.mean(est.score_samples(X)))
    assert list(est.get_feature_names_out()) == [f"{cls.__name__.lower()}{i}" for i in range(12)]


def test_untied_weights_have_a_decoder(digits):
    est = _quiet_fit(Autoencoder(8, tied_weights=False, max_iter=2, random_state=0), digits)
    assert est.decoder_components_.shape == est.components_.shape
    assert not np.allclose(est.decoder_components_, est.components_)
    H = est.transform(digits)
    np.testing.assert_allclose(est.inverse_transform(H),
                               H @ est.decoder_components_ + est.intercept_visible_)
    assert not hasattr(_quiet_fit(Autoencoder(8, max_iter=1), digits), "decoder_components_")


# -------------------------------------------------------------- exact check


def test_linear_tied_autoencoder_spans_pca_subspace(digits):
    """Issue 4, item 2: linear units, tied weights, squared loss on centred
    data: the weights span the top principal subspace (Baldi & Hornik 1989)."""
    X = digits - digits.mean(axis=0)
    k = 10
    pca = PCA(n_components=k).fit(X)
    # full-batch Adam: the noise of mini-batches would blur the subspace
    ae = Autoencoder(k, hidden_activation="linear", loss="squared_error", tied_weights=True,
                     batch_size=X.shape[0], learning_rate=0.03, max_iter=150, tol=0.0,
                     n_iter_no_change=150, random_state=0)
    _quiet_fit(ae, X)
    angles = np.degrees(subspace_angles(ae.components_.T, pca.components_.T))
    assert angles.max() < 1.0, angles
    # and the reconstruction error is PCA's (the minimum over rank-k maps)
    pca_error = 0.5 * np.mean(np.sum((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1))
    assert -ae.score(X) == pytest.approx(pca_error, rel=1e-4)


# ---------------------------------------------------------- training control


def test_partial_fit_continues_training(digits):
    est = Autoencoder(16, random_state=0, batch_size=50)
    for _ in range(5):
        est.partial_fit(digits)
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5
    assert est.t_ == 5 * int(np.ceil(len(digits) / 50))
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est._optimizers[None].t == est.t_  # the optimizer's moments carry over
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(digits[:, :10])


def test_fit_is_reproducible(digits):
    a = _quiet_fit(DenoisingAutoencoder(10, max_iter=3, random_state=7), digits)
    b = _quiet_fit(DenoisingAutoencoder(10, max_iter=3, random_state=7), digits)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = _quiet_fit(DenoisingAutoencoder(10, max_iter=3, random_state=8), digits)
    assert not np.array_equal(a.components_, c.components_)


def test_max_iter_reached_warns(digits):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        Autoencoder(8, max_iter=2, random_state=0).fit(digits)


def test_stops_on_tol_without_warning(digits):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = Autoencoder(8, max_iter=500, tol=10.0, n_iter_no_change=2, random_state=0).fit(digits)
    # the first epoch improves on an infinite best loss; the next two do
    # not improve by 10, and training stops
    assert est.n_iter_ == 3


def test_early_stopping_keeps_best_parameters(digits):
    est = Autoencoder(8, early_stopping=True, validation_fraction=0.2, max_iter=500,
                      n_iter_no_change=3, tol=1e-3, random_state=0, learning_rate=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(digits)
    assert est.n_iter_ < 500
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    # re-derive the held-out 20%: fit draws the weights, then the split
    rng = check_random_state(0)
    Autoencoder(8, random_state=0)._initialize(digits, rng)
    order = rng.permutation(len(digits))
    X_val = digits[order[: int(round(0.2 * len(digits)))]]
    # the parameters kept are those of the best validation epoch
    assert est.score(X_val) == pytest.approx(est.best_validation_score_, rel=1e-12)
    assert est.validation_scores_[-1] <= est.best_validation_score_


def test_early_stopping_needs_validation_samples():
    with pytest.raises(ValueError, match="validation"):
        Autoencoder(2, early_stopping=True, validation_fraction=0.1).fit(np.ones((3, 4)))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_divergence_raises(digits):
    est = Autoencoder(8, hidden_activation="linear", solver="sgd", learning_rate=50.0,
                      max_iter=20, random_state=0)
    with pytest.raises(FloatingPointError, match="diverged"):
        est.fit(digits * 10)


@pytest.mark.parametrize("solver", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "inverse_time"])
def test_every_solver_and_schedule_trains(solver, schedule, digits):
    lr = {"sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.05,
          "rmsprop": 0.002, "adam": 0.003}[solver]
    est = _quiet_fit(Autoencoder(16, solver=solver, learning_rate=lr, learning_rate_schedule=schedule,
                                 lr_decay=0.8, max_iter=4, random_state=0), digits)
    assert est.loss_curve_[-1] < 0.8 * est.loss_curve_[0]
    rate = est._optimizers[None].current_learning_rate()
    n_batches = int(np.ceil(len(digits) / 100))
    expected = {"constant": lr, "step": lr * 0.8**4, "exponential": lr * 0.8**4,
                "inverse_time": lr / (1 + (1 / 0.8 - 1) * 4)}[schedule]
    assert rate == pytest.approx(expected)
    assert est.t_ == 4 * n_batches


def test_verbose_line(digits, capsys):
    _quiet_fit(Autoencoder(4, max_iter=2, verbose=1, random_state=0), digits)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[Autoencoder\] Iteration 2, loss = [0-9.e+-]+, time = [0-9.]+s", lines[1])


# ---------------------------------------------------------------- variants


def test_sparse_autoencoder_reaches_target_activation(digits):
    est = _quiet_fit(SparseAutoencoder(64, sparsity_target=0.05, sparsity_weight=3.0,
                                       max_iter=60, learning_rate=0.01, random_state=0), digits)
    plain = _quiet_fit(Autoencoder(64, max_iter=60, learning_rate=0.01, random_state=0), digits)
    mean_sparse = est.transform(digits).mean()
    assert abs(mean_sparse - 0.05) < 0.02
    assert plain.transform(digits).mean() > 0.2


def test_l1_code_penalty_shrinks_codes(digits):
    kw = dict(hidden_activation="relu", sparsity_weight=0.0, max_iter=30, random_state=0)
    loose = _quiet_fit(SparseAutoencoder(32, code_l1=0.0, **kw), digits)
    tight = _quiet_fit(SparseAutoencoder(32, code_l1=0.5, **kw), digits)
    assert np.abs(tight.transform(digits)).sum(1).mean() < 0.5 * np.abs(loose.transform(digits)).sum(1).mean()


def test_contraction_shrinks_the_jacobian(digits):
    def jacobian_norm(est):
        H = est.transform(digits)
        D = H * (1 - H)
        return np.mean((D**2) @ np.sum(est.components_**2, axis=1))

    kw = dict(max_iter=30, random_state=0)
    weak = _quiet_fit(ContractiveAutoencoder(32, contraction=0.0, **kw), digits)
    strong = _quiet_fit(ContractiveAutoencoder(32, contraction=1.0, **kw), digits)
    assert jacobian_norm(strong) < 0.5 * jacobian_norm(weak)


def test_denoising_autoencoder_denoises(digits):
    kw = dict(loss="cross_entropy", max_iter=40, random_state=0, learning_rate=0.005)
    dae = _quiet_fit(DenoisingAutoencoder(64, corruption="masking", corruption_level=0.4, **kw), digits)
    ae = _quiet_fit(Autoencoder(64, **kw), digits)
    noisy = corrupt(digits, "masking", 0.4, key=123)

    def error(est):  # reconstruct the clean digits from the corrupted ones
        R = est.inverse_transform(est.transform(noisy))
        return loss_samples("binary_cross_entropy", digits, R).mean()

    assert error(dae) < error(ae)


def test_corruption_kinds():
    X = np.full((200, 100), 0.5)
    masked = corrupt(X, "masking", 0.25, key=1)
    assert set(np.unique(masked)) == {0.0, 0.5}
    assert abs((masked == 0).mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / X.size)
    sp = corrupt(X, "salt_and_pepper", 0.4, key=1)
    assert set(np.unique(sp)) == {0.0, 0.5, 1.0}
    assert abs((sp == 0).mean() - 0.2) < 0.01 and abs((sp == 1).mean() - 0.2) < 0.01
    g = corrupt(X, "gaussian", 0.1, key=1) - X
    assert abs(g.mean()) < 0.002 and g.std() == pytest.approx(0.1, rel=0.02)
    np.testing.assert_array_equal(corrupt(X, "masking", 0.25, key=1), masked)
    assert corrupt(X.astype(np.float32), "gaussian", 0.1, key=1).dtype == np.float32
    with pytest.raises(ValueError, match="'kind' parameter of corrupt .*Got 'dropout'"):
        corrupt(X, "dropout", 0.1, key=1)


# -------------------------------------------------------------- bad input


def test_domain_errors(digits):
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        Autoencoder(4, loss="cross_entropy").fit(digits - 0.5)
    with pytest.raises(ValueError, match="visible_activation='sigmoid'"):
        Autoencoder(4, loss="cross_entropy", visible_activation="tanh").fit(digits)
    with pytest.raises(ValueError, match="hidden_activation='sigmoid'"):
        SparseAutoencoder(4, hidden_activation="tanh").fit(digits)
    with pytest.raises(ValueError, match="corruption_level"):
        DenoisingAutoencoder(4, corruption_level=1.0).fit(digits)
    est = _quiet_fit(Autoencoder(4, max_iter=1), digits)
    with pytest.raises(ValueError, match="n_components"):
        est.inverse_transform(np.ones((2, 5)))


# ---------------------------------------------------------------- real data


def test_denoising_features_beat_raw_pixels_on_mnist(data_dir):
    """A small version of issue 4, item 3 (the full one is
    pretrain/dae_mnist_filters.py): 2,000 training images, 200 units."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from deepzoo.datasets import fetch_mnist

    train = fetch_mnist(subset="train-5k", data_home=data_dir, download=False)
    test = fetch_mnist(subset="test", data_home=data_dir, download=False)
    # the 5k file is sorted by label: draw a random subset
    idx = np.random.default_rng(0).permutation(len(train.target))[:2000]
    X, y = train.data[idx], train.target[idx]
    X_test, y_test = test.data[:2000], test.target[:2000]
    dae = _quiet_fit(DenoisingAutoencoder(200, loss="cross_entropy", corruption_level=0.25,
                                          batch_size=20, learning_rate=0.003, max_iter=10,
                                          random_state=0), X)

    def accuracy(A, B):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
        return clf.fit(A, y).score(B, y_test)

    raw = accuracy(X, X_test)
    learned = accuracy(dae.transform(X), dae.transform(X_test))
    assert learned > raw + 0.015, (raw, learned)


# ---------------------------------------------------------------- sparse input
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder, SparseAutoencoder,
                                 ContractiveAutoencoder])
def test_sparse_input_trains_as_dense(cls, dtype, fmt):
    # scikit-learn's MLPs accept scipy.sparse input; the same seed must give
    # the very same model and outputs as the dense equivalent
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = ((rng.random((45, 11)) < 0.3) * rng.random((45, 11))).astype(dtype)
    Xs = sp.csr_matrix(X).asformat(fmt)
    params = dict(n_components=4, max_iter=3, batch_size=8, random_state=0)
    dense = cls(**params).fit(X)
    sparse = cls(**params).fit(Xs)
    for name in dense._parameter_names():
        np.testing.assert_array_equal(getattr(sparse, name), getattr(dense, name))
    np.testing.assert_array_equal(sparse.loss_curve_, dense.loss_curve_)
    dense.partial_fit(X)
    sparse.partial_fit(Xs)
    np.testing.assert_array_equal(sparse.components_, dense.components_)
    np.testing.assert_array_equal(sparse.transform(Xs), dense.transform(X))
    assert sparse.transform(Xs).dtype == dtype
    np.testing.assert_array_equal(sparse.score_samples(Xs), dense.score_samples(X))
