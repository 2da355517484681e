"""Training calls that fail leave the model untouched; mixed dtypes and
read-only arrays; divergence detection; exact log-space scores; bad counts.

Every layer and network: a ``fit``/``partial_fit`` that raises (divergence,
a bad batch, an interrupt in the middle of an epoch) leaves every attribute
bit-identical to before the call. After the first fit a model's dtype is
fixed: later input is converted to it. Fits at absurd learning rates either
end with finite parameters below the documented bound or raise
``FloatingPointError`` naming the learning rate.
"""

import copy
import io
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from deepzoo import (
    Autoencoder,
    BernoulliRBM,
    ContractiveAutoencoder,
    DeepAutoencoder,
    DenoisingAutoencoder,
    FineTunedClassifier,
    FineTunedRegressor,
    GaussianBernoulliRBM,
    SparseAutoencoder,
    SparseCoding,
)
from deepzoo._kernels import rbm as rbm_kernels
from deepzoo._nn.divergence import (
    LOSS_GROWTH,
    PARAMETER_BOUND,
    check_divergence,
    parameter_bound,
)
from deepzoo.layers import _autoencoder, _sparse_coding
from deepzoo.networks._base import BaseNetwork

AUTOENCODERS = [Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder]


def _data(n=40, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    return X, np.arange(n) % 3, X[:, :2] @ np.array([1.0, -2.0])


def _make(name):
    """(estimator, X, y) for every estimator that trains."""
    X, labels, target = _data()
    common = dict(random_state=0)
    if name == "BernoulliRBM":
        return BernoulliRBM(n_components=4, n_iter=2, batch_size=10, **common), X, None
    if name.startswith("GaussianBernoulliRBM"):
        method = name.split("-")[1] if "-" in name else "cd"
        return GaussianBernoulliRBM(n_components=4, n_iter=2, batch_size=10, method=method,
                                    learn_variance=True, **common), X * 4 - 2, None
    if name in {cls.__name__ for cls in AUTOENCODERS}:
        cls = next(c for c in AUTOENCODERS if c.__name__ == name)
        return cls(n_components=5, max_iter=3, batch_size=10, tied_weights=name != "Autoencoder",
                   **common), X, None
    net = dict(hidden_layer_sizes=(5,), max_iter=3, batch_size=10, **common)
    if name == "FineTunedClassifier":
        return FineTunedClassifier(**net), X, labels
    if name == "FineTunedClassifier-pretrained":
        rbm = BernoulliRBM(n_components=5, n_iter=2, batch_size=10, random_state=0).fit(X)
        return FineTunedClassifier(rbm, top_only_iter=1, **net), X, labels
    if name == "FineTunedRegressor":
        return FineTunedRegressor(solver="sgd", learning_rate=0.01, **net), X, target
    if name == "DeepAutoencoder":
        return DeepAutoencoder(**{**net, "hidden_layer_sizes": (6, 3)}), X, None
    raise KeyError(name)


NAMES = ["BernoulliRBM", "GaussianBernoulliRBM", "GaussianBernoulliRBM-pcd",
         "GaussianBernoulliRBM-fpcd", *[c.__name__ for c in AUTOENCODERS],
         "FineTunedClassifier", "FineTunedClassifier-pretrained", "FineTunedRegressor",
         "DeepAutoencoder"]


def _call(est, method, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if isinstance(est, FineTunedClassifier) and method == "partial_fit":
            return est.partial_fit(X, y, classes=np.arange(3))
        return getattr(est, method)(X) if y is None else getattr(est, method)(X, y)


def assert_same_state(before, after, where="vars"):
    """Recursive, bit-for-bit equality of two snapshots of an estimator."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), where
        assert before.dtype == after.dtype and before.shape == after.shape, where
        assert np.array_equal(before, after, equal_nan=before.dtype.kind == "f"), where
    elif isinstance(before, dict):
        assert isinstance(after, dict) and before.keys() == after.keys(), \
            f"{where}: keys {sorted(before)} != {sorted(after)}"
        for key in before:
            assert_same_state(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert type(before) is type(after) and len(before) == len(after), where
        for i, (b, a) in enumerate(zip(before, after)):
            assert_same_state(b, a, f"{where}[{i}]")
    elif isinstance(before, np.random.RandomState):
        assert_same_state(before.get_state(legacy=False), after.get_state(legacy=False), where)
    elif hasattr(before, "__dict__") and not isinstance(before, type):
        assert type(before) is type(after), where
        assert_same_state(vars(before), vars(after), f"{where}.{type(before).__name__}")
    elif isinstance(before, float) and np.isnan(before):
        assert isinstance(after, float) and np.isnan(after), where
    else:
        assert before == after, f"{where}: {before!r} != {after!r}"


def _fitted(name):
    est, X, y = _make(name)
    _call(est, "fit", X, y)
    _call(est, "partial_fit", X, y)  # optimiser state and chains exist
    return est, X, y


# ------------------------------------------------------ transactional training


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_leaves_the_model_untouched(name, method):
    est, X, y = _fitted(name)
    est.set_params(learning_rate=1e30)
    before = copy.deepcopy(vars(est))
    with pytest.raises(FloatingPointError, match="learning_rate=1e\\+30"):
        _call(est, method, X, y)
    assert_same_state(before, vars(est))


@pytest.mark.parametrize("name", NAMES)
def test_bad_batch_leaves_the_model_untouched(name):
    est, X, y = _fitted(name)
    before = copy.deepcopy(vars(est))
    with pytest.raises(ValueError):
        _call(est, "partial_fit", X[:, :-1], y)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _call(est, "partial_fit", bad, y)
    assert_same_state(before, vars(est))


class _Interrupt:
    """Raise ``KeyboardInterrupt`` on call number ``at`` of ``function``."""

    def __init__(self, function, at):
        self.function, self.at, self.calls = function, at, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        result = self.function(*args, **kwargs)
        if self.calls >= self.at:
            raise KeyboardInterrupt
        return result


def _interrupt_inside_an_epoch(est, monkeypatch):
    """Interrupt after parameters were updated in place, mid-epoch."""
    if isinstance(est, (BernoulliRBM, GaussianBernoulliRBM)):
        # the compiled epoch returns with the parameters updated
        monkeypatch.setattr(rbm_kernels, "train_epoch", _Interrupt(rbm_kernels.train_epoch, 1))
    elif isinstance(est, BaseNetwork):
        interrupt = _Interrupt(BaseNetwork._loss_grad, 2)
        monkeypatch.setattr(type(est), "_loss_grad",
                            lambda self, *args, **kwargs: interrupt(self, *args, **kwargs))
    else:
        # the second mini-batch's objective, after the first step
        monkeypatch.setattr(_autoencoder, "autoencoder_objective",
                            _Interrupt(_autoencoder.autoencoder_objective, 2))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", NAMES)
def test_interrupt_inside_an_epoch_leaves_the_model_untouched(name, method, monkeypatch):
    est, X, y = _fitted(name)
    before = copy.deepcopy(vars(est))
    _interrupt_inside_an_epoch(est, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _call(est, method, X, y)
    assert_same_state(before, vars(est))


class _InterruptedStream(io.StringIO):
    def write(self, text):
        raise KeyboardInterrupt


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", NAMES)
def test_interrupt_in_verbose_output_leaves_the_model_untouched(name, method, monkeypatch):
    est, X, y = _fitted(name)
    est.set_params(verbose=1)
    before = copy.deepcopy(vars(est))
    monkeypatch.setattr(sys, "stdout", _InterruptedStream())
    with pytest.raises(KeyboardInterrupt):
        _call(est, method, X, y)
    assert_same_state(before, vars(est))


def test_a_failed_first_fit_leaves_the_estimator_unfitted():
    est, X, _ = _make("GaussianBernoulliRBM")
    est.set_params(learning_rate=1e30)
    before = copy.deepcopy(vars(est))
    with pytest.raises(FloatingPointError):
        est.fit(X)
    assert_same_state(before, vars(est))
    assert not hasattr(est, "components_")


# ------------------------------------------------ mixed dtypes, read-only arrays


def _parameter_arrays(est):
    if isinstance(est, BaseNetwork):
        return [*est.coefs_, *est.intercepts_]
    names = ["components_", "intercept_hidden_", "intercept_visible_", "sigma_",
             "decoder_components_"]
    return [getattr(est, name) for name in names if hasattr(est, name)]


MIXED = ["BernoulliRBM-cd", "BernoulliRBM-pcd", "BernoulliRBM-fpcd",
         "GaussianBernoulliRBM-cd", "GaussianBernoulliRBM-pcd", "GaussianBernoulliRBM-fpcd",
         "Autoencoder", "FineTunedClassifier", "FineTunedRegressor", "DeepAutoencoder"]


def _make_mixed(name):
    if name.startswith("BernoulliRBM-"):
        est, X, y = _make("BernoulliRBM")
        return est.set_params(method=name.split("-")[1]), X, y
    return _make(name.replace("-cd", ""))


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32)])
@pytest.mark.parametrize("name", MIXED)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_converts_input_to_the_model_dtype(name, dtypes):
    first, later = dtypes
    est, X, y = _make_mixed(name)
    _call(est, "fit", X.astype(first), y)
    same = copy.deepcopy(est)
    _call(est, "partial_fit", X.astype(later), y)
    _call(same, "partial_fit", X.astype(later).astype(first), y)
    for got, want in zip(_parameter_arrays(est), _parameter_arrays(same)):
        assert got.dtype == first
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", MIXED)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_copies_read_only_parameters(name, tmp_path):
    est, X, y = _make_mixed(name)
    _call(est, "fit", X, y)
    writeable = copy.deepcopy(est)
    originals = []
    for i, a in enumerate(_parameter_arrays(est)):
        a.setflags(write=False)
        originals.append((a, a.copy()))
    if hasattr(est, "components_"):
        # as after loading from a read-only memory map
        np.save(tmp_path / "W.npy", est.components_)
        est.components_ = np.load(tmp_path / "W.npy", mmap_mode="r")
    _call(est, "partial_fit", X, y)
    _call(writeable, "partial_fit", X, y)
    for got, want in zip(_parameter_arrays(est), _parameter_arrays(writeable)):
        np.testing.assert_array_equal(got, want)
    for a, copy_ in originals:
        np.testing.assert_array_equal(a, copy_)
    _call(est, "partial_fit", X, y)  # and again, on its own arrays
    _call(writeable, "partial_fit", X, y)
    for got, want in zip(_parameter_arrays(est), _parameter_arrays(writeable)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM, Autoencoder])
def test_inference_runs_in_the_model_dtype(cls):
    X, _, _ = _data()
    est = cls(n_components=4, random_state=0)
    est.set_params(**({"n_iter": 1} if "RBM" in cls.__name__ else {"max_iter": 1}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X.astype(np.float32))
    assert est.transform(X).dtype == np.float32
    np.testing.assert_array_equal(est.transform(X), est.transform(X.astype(np.float32)))
    if hasattr(est, "score_samples") and cls is not GaussianBernoulliRBM:
        np.testing.assert_array_equal(est.score_samples(X),
                                      est.score_samples(X.astype(np.float32)))


# --------------------------------------------------------------- divergence


def _grid_cases():
    cases = [("BernoulliRBM", {}), ("GaussianBernoulliRBM", {}),
             ("Autoencoder", {"solver": "sgd"}), ("Autoencoder", {"solver": "adam"}),
             ("DeepAutoencoder", {"solver": "sgd"}), ("DeepAutoencoder", {"solver": "adam"})]
    for name in ("FineTunedClassifier", "FineTunedRegressor"):
        cases += [(name, {"solver": "sgd"}), (name, {"solver": "adam"})]
    return cases


@pytest.mark.parametrize("learning_rate", [1e3, 1e5, 1e8, 1e12, 1e20, 1e30])
@pytest.mark.parametrize("name, params", _grid_cases())
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_no_silent_divergence(name, params, learning_rate):
    est, X, y = _make(name)
    est.set_params(learning_rate=learning_rate, **params)
    try:
        _call(est, "fit", X, y)
    except FloatingPointError as error:
        message = str(error)
        for part in (type(est).__name__, "epoch", f"learning_rate={learning_rate:g}",
                     "Lower learning_rate"):
            assert part in message
        assert not hasattr(est, "n_iter_")  # left unfitted
        return
    for a in _parameter_arrays(est):
        assert np.all(np.isfinite(a)) and np.abs(a).max() <= PARAMETER_BOUND


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_issue_examples_raise():
    X = np.random.default_rng(0).normal(size=(100, 5))
    with pytest.raises(FloatingPointError, match="GaussianBernoulliRBM diverged at epoch 1"):
        GaussianBernoulliRBM(n_components=4, learning_rate=1e30, random_state=0).fit(X)
    with pytest.raises(FloatingPointError, match="FineTunedRegressor diverged"):
        FineTunedRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate=1e3,
                           max_iter=50, random_state=0).fit(X, X[:, 0])


class _Named:
    learning_rate = 0.5


def test_parameter_bound_reads_the_data_without_copying_it():
    """partial_fit bounds by its whole input every epoch: no temporary of
    the data's size (numpy reports its allocations to tracemalloc)."""
    import tracemalloc

    X = np.random.default_rng(0).standard_normal((1000, 1000))  # 8 MB
    X[3, 7] = -40.0
    tracemalloc.start()
    try:
        assert parameter_bound(X) == 40.0 * PARAMETER_BOUND
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes // 100


def test_check_divergence_rules(tmp_path):
    ok = [np.ones(3), np.zeros((2, 2))]
    bound = parameter_bound(np.array([0.5, -1.0]))
    assert bound == PARAMETER_BOUND
    check_divergence(_Named(), ok, [1.0, 0.5, LOSS_GROWTH * 0.9], bound)
    with pytest.raises(FloatingPointError, match=r"_Named diverged at epoch 3 \(learning_rate="
                                                 r"0.5\).*loss grew.*Lower learning_rate"):
        check_divergence(_Named(), ok, [1.0, 0.5, LOSS_GROWTH * 1.1], bound)
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        check_divergence(_Named(), [np.array([1.0, np.nan])], [1.0], bound)
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        check_divergence(_Named(), ok, [1.0, np.inf], bound)
    with pytest.raises(FloatingPointError, match="beyond the bound 1e\\+06"):
        check_divergence(_Named(), [np.array([0.0, -2e6])], [1.0], bound)
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        check_divergence(_Named(), [np.array([-np.inf, 0.0])], [1.0], bound)
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        check_divergence(_Named(), [np.array([np.nan, -5.0])], [1.0], bound)
    # the bound follows the data's scale (unscaled regression targets)
    check_divergence(_Named(), [np.array([0.0, -2e6])], [1.0],
                     parameter_bound(np.ones((2, 2)), np.array([-10.0])))
    # streamed data: the largest magnitude of the chunks read so far
    from deepzoo.utils.streaming import RowStream

    X = np.memmap(tmp_path / "X.dat", dtype="float64", mode="w+", shape=(6, 2))
    X[4, 1] = -30.0
    stream = RowStream(X, "test", np.float64, batch_size=2)
    assert parameter_bound(stream) == PARAMETER_BOUND  # nothing read yet
    stream.scan()
    assert parameter_bound(stream, None) == 30 * PARAMETER_BOUND


def test_the_data_bound_is_read_only_when_a_parameter_needs_it():
    """A healthy epoch's parameters stay below PARAMETER_BOUND, the least
    bound there is, so a bound given as a callable (a pass over the data)
    is not evaluated; a parameter beyond it asks for the data's scale."""
    calls = []

    def bound():
        calls.append(1)
        return 10 * PARAMETER_BOUND

    check_divergence(_Named(), [np.array([0.0, -PARAMETER_BOUND])], [1.0], bound)
    assert calls == []
    check_divergence(_Named(), [np.array([0.0, -2e6])], [1.0], bound)  # within 10x
    assert calls == [1]
    with pytest.raises(FloatingPointError, match="beyond the bound 1e\\+07"):
        check_divergence(_Named(), [np.array([0.0, -2e7])], [1.0], bound)


@pytest.mark.parametrize("name", ["BernoulliRBM", "GaussianBernoulliRBM-pcd", "Autoencoder",
                                  "FineTunedRegressor", "DeepAutoencoder", "DBN"])
def test_healthy_epochs_do_not_read_the_data_for_the_bound(name, monkeypatch):
    """Training checks the parameters after every epoch without a pass over
    the data (3% of a partial_fit CD-1 epoch on 20,000 MNIST rows)."""
    from deepzoo import DBN
    from deepzoo._nn import divergence

    if name == "DBN":
        X, y = _data()[:2]
        model = DBN(hidden_layer_sizes=(5, 4), n_iter=2, n_updown_iter=2, batch_size=10,
                    random_state=0)
    else:
        model, X, y = _make(name)
    seen = []
    peak = divergence._peak
    monkeypatch.setattr(divergence, "_peak", lambda a: seen.append(a.size) or peak(a))
    model.fit(X, y)
    assert seen and X.size not in seen


class _TwoRates:
    learning_rate = 0.5
    updown_learning_rate = 2.0


def test_check_divergence_names_the_rate_it_is_given():
    bad = [np.array([np.nan])]
    with pytest.raises(FloatingPointError, match=r"_TwoRates up-down fine-tuning diverged at "
                                                 r"epoch 1 \(updown_learning_rate=2\).*Lower "
                                                 r"updown_learning_rate \(e.g. to 0.2\)"):
        check_divergence(_TwoRates(), bad, [1.0], 1e6, rate_name="updown_learning_rate",
                         stage="up-down fine-tuning")
    # an estimator without a learning rate gets no advice to lower one
    with pytest.raises(FloatingPointError) as error:
        check_divergence(object(), bad, [1.0, 2.0], 1e6, rate_name=None)
    message = str(error.value)
    assert message.startswith("object diverged at epoch 2: its parameters contain NaN or inf")
    assert "learning_rate" not in message and "Lower" not in message


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_coding_divergence_gives_no_learning_rate_advice(method, monkeypatch):
    X, _, _ = _data()
    sc = SparseCoding(4, alpha=0.1, max_iter=3, random_state=0).fit(X)
    before = copy.deepcopy(vars(sc))
    # a dictionary step that returns NaN, as from overflowing statistics
    monkeypatch.setattr(_sparse_coding.SparseCoding, "_dictionary_step",
                        lambda self, D, A, B, online: np.full_like(D, np.nan))
    with pytest.raises(FloatingPointError, match="SparseCoding diverged at epoch") as error:
        getattr(sc, method)(X)
    assert "learning_rate" not in str(error.value)
    assert_same_state(before, vars(sc))


# ------------------------------------------------------------ log-space scores


def _softplus(z):
    return np.logaddexp(0.0, z)


def _bernoulli_log_likelihood(X, Z):
    """Reference: sum_j x log sigmoid(z) + (1 - x) log(1 - sigmoid(z)), float64."""
    X, Z = X.astype(np.float64), Z.astype(np.float64)
    return -(X * _softplus(-Z) + (1 - X) * _softplus(Z)).sum(axis=1)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("cls", AUTOENCODERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_score_samples_is_exact_for_large_weights(cls, dtype):
    X, _, _ = _data(n=20, d=6)
    X = X.astype(dtype)
    X[:, 0] = 1.0
    X[:, 1] = 0.0
    est = cls(n_components=3, loss="cross_entropy", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)
    rng = np.random.default_rng(1)
    est.components_ = (300 * rng.standard_normal(est.components_.shape)).astype(dtype)
    est.intercept_visible_ = (300 * rng.standard_normal(6)).astype(dtype)
    if not est.tied_weights:
        est.decoder_components_ = (300 * rng.standard_normal((3, 6))).astype(dtype)
    W = est.components_.astype(np.float64)
    W_dec = W if est.tied_weights else est.decoder_components_.astype(np.float64)
    H = _sigmoid(X.astype(np.float64) @ W.T + est.intercept_hidden_)
    Z = H @ W_dec + est.intercept_visible_
    want = _bernoulli_log_likelihood(X, Z)
    assert want.min() < -1000  # far beyond what clipped probabilities can express
    got = est.score_samples(X)
    if dtype == np.float64:
        np.testing.assert_allclose(got, want, rtol=1e-12)
    else:
        # float32 hidden units differ from float64 ones by rounding only
        np.testing.assert_allclose(got, want, rtol=1e-3)
    assert est.score(X) == pytest.approx(np.mean(got))


def test_deep_autoencoder_cross_entropy_score_is_exact_for_large_weights():
    X, _, _ = _data(n=20, d=6)
    ae = DeepAutoencoder(hidden_layer_sizes=(3,), max_iter=0, random_state=0).fit(X)
    rng = np.random.default_rng(2)
    ae.coefs_ = [300 * rng.standard_normal(W.shape) for W in ae.coefs_]
    H = X @ ae.coefs_[0].T + ae.intercepts_[0]  # linear code layer
    Z = H @ ae.coefs_[1].T + ae.intercepts_[1]
    want = _bernoulli_log_likelihood(X, Z)
    assert want.min() < -1000
    np.testing.assert_allclose(ae.score_samples(X), want, rtol=1e-12)


def _log_softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_log_proba_is_exact_for_large_weights(n_classes):
    X, _, _ = _data(n=30, d=5)
    y = np.arange(30) % n_classes
    clf = FineTunedClassifier(hidden_layer_sizes=(4,), max_iter=0, random_state=0).fit(X, y)
    rng = np.random.default_rng(3)
    clf.coefs_[-1] = 500 * rng.standard_normal(clf.coefs_[-1].shape)
    H = _sigmoid(X @ clf.coefs_[0].T + clf.intercepts_[0])
    want = _log_softmax(H @ clf.coefs_[-1].T + clf.intercepts_[-1])
    assert want.min() < -1000
    got = clf.predict_log_proba(X)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(got), clf.predict_proba(X), rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------ bad counts


@pytest.fixture(scope="module")
def small_rbm():
    X, _, _ = _data()
    return BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)


@pytest.mark.parametrize("call, match", [
    (lambda r: r.sample(-1), "n_samples"),
    (lambda r: r.sample(0), "n_samples"),
    (lambda r: r.sample(2.5), "n_samples"),
    (lambda r: r.sample(2, n_steps=0), "n_steps"),
    (lambda r: r.sample(2, n_steps=-3), "n_steps"),
    (lambda r: r.log_partition("ais", n_runs=0), "n_runs"),
    (lambda r: r.log_partition("ais", n_runs=-1), "n_runs"),
    (lambda r: r.log_partition("ais", n_runs=1.5), "n_runs"),
    (lambda r: r.log_likelihood(np.zeros((1, 8)), "ais", n_runs=0), "n_runs"),
])
def test_bad_counts_name_the_argument(small_rbm, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(small_rbm)
