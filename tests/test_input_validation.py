"""Bad inputs to the stacks and sparse coding get clear errors, and a failed
training call leaves the estimator exactly as it was (issue 11, items 3, 8, 10)."""

import copy
import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from deepzoo import (
    DBN,
    BernoulliRBM,
    DeepAutoencoder,
    FineTunedRegressor,
    GaussianBernoulliRBM,
    SparseCoding,
    Stack,
    StackedAutoencoder,
    sparse_encode,
)
from deepzoo.datasets import (
    extract_natural_patches,
    fetch_fashion_mnist,
    fetch_mnist,
    get_data_home,
    load_idx,
)
from deepzoo.layers import _sparse_coding
from deepzoo.layers._autoencoder import corrupt
from deepzoo.layers._sparse_coding import sparse_coding_objective, update_dictionary
from deepzoo.networks import (
    check_gradient,
    dropout,
    init_weights,
    max_norm,
    numerical_gradient,
    relative_error,
)
from deepzoo.stacks import EncoderLayer, _dbn, decode

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------------ helpers
def assert_same_state(a, b, where="self"):
    """``vars(a) == vars(b)`` bit for bit: arrays by value and dtype, nested
    estimators and random generators by their own state, recursively."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        assert np.array_equal(a, b, equal_nan=True), where
    elif isinstance(a, np.random.RandomState):
        sa, sb = a.get_state(), b.get_state()
        assert all(np.array_equal(x, y) for x, y in zip(sa, sb)), where
    elif isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: {sorted(set(a) ^ set(b))}"
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), where
        assert_same_state(vars(a), vars(b), where)
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def assert_untouched(estimator, call, exc):
    """``call(estimator)`` raises ``exc`` and changes nothing in ``estimator``."""
    before = copy.deepcopy(estimator)
    with pytest.raises(exc):
        call(estimator)
    assert_same_state(vars(estimator), vars(before))


class _Interrupted(TransformerMixin, BaseEstimator):
    """A step whose fit is interrupted (Ctrl-C) half-way."""

    def __init__(self, interrupt=False):
        self.interrupt = interrupt

    def fit(self, X, y=None):
        if self.interrupt:
            raise KeyboardInterrupt
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) < 0.3).astype(np.float64)
    y = np.arange(60) % 3
    return X, y


@pytest.fixture(scope="module")
def labelled(data):
    X, y = data
    return DBN((8, 6), n_iter=3, n_updown_iter=1, batch_size=20, random_state=0).fit(X, y)


def _stack():
    return Stack([("rbm1", BernoulliRBM(6, n_iter=2, random_state=0)),
                  ("rbm2", BernoulliRBM(4, n_iter=2, random_state=0))])


@pytest.fixture(scope="module")
def fitted(data, labelled):
    """One fitted estimator of each stack type, with its code width."""
    X, _ = data
    return {
        "DBN": (labelled, 6),
        "Stack": (_stack().fit(X), 4),
        "StackedAutoencoder": (StackedAutoencoder((6, 4), max_iter=2, random_state=0).fit(X), 4),
    }


# --------------------------------------------------------- DBN labels (item 8)
@pytest.mark.parametrize("cut", [-3, 3])
def test_dbn_fit_rejects_labels_of_another_length(data, cut):
    X, y = data
    y = y[:cut] if cut < 0 else np.r_[y, y[:cut]]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        DBN((8, 6), n_iter=1).fit(X, y)


def test_dbn_fit_column_labels_warn_and_ravel(data):
    X, y = data
    params = dict(hidden_layer_sizes=(8, 6), n_iter=2, batch_size=20, random_state=0)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = DBN(**params).fit(X, y[:, None])
    flat = DBN(**params).fit(X, y)
    np.testing.assert_array_equal(column.classes_, flat.classes_)
    np.testing.assert_array_equal(column.label_components_, flat.label_components_)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform", "score"])
@pytest.mark.parametrize("shift", [-0.5, 1.0])
def test_dbn_inference_rejects_data_fit_rejects(labelled, data, method, shift):
    X, y = data
    args = (X + shift, y) if method == "score" else (X + shift,)
    with pytest.raises(ValueError, match=re.escape("DBN expects values in [0, 1]")):
        getattr(labelled, method)(*args)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform", "score"])
def test_dbn_inference_rejects_sparse_like_fit(labelled, data, method):
    X, y = data
    args = (sparse.csr_matrix(X), y) if method == "score" else (sparse.csr_matrix(X),)
    with pytest.raises(TypeError, match="dense data is required"):
        getattr(labelled, method)(*args)
    with pytest.raises(TypeError, match="dense data is required"):
        DBN((8, 6), n_iter=1).fit(sparse.csr_matrix(X))


@pytest.mark.parametrize("y_bad", ["short", "long", "sparse"])
def test_dbn_score_checks_labels(labelled, data, y_bad):
    X, y = data
    y = {"short": y[:-3], "long": np.r_[y, y[:3]], "sparse": sparse.csr_matrix(y)}[y_bad]
    with pytest.raises((ValueError, TypeError),
                       match="inconsistent numbers of samples|[Ss]parse"):
        labelled.score(X, y)


def test_dbn_score_column_labels(labelled, data):
    X, y = data
    assert labelled.score(X, y[:, None]) == labelled.score(X, y)


# ----------------------------------------------- inverse_transform (item 8)
@pytest.mark.parametrize("name", ["DBN", "Stack", "StackedAutoencoder"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_inverse_transform_rejects_non_finite_codes(fitted, name, bad):
    est, width = fitted[name]
    codes = np.full((3, width), 0.5)
    codes[1, -1] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        est.inverse_transform(codes)


@pytest.mark.parametrize("name", ["DBN", "Stack", "StackedAutoencoder"])
def test_inverse_transform_rejects_wrong_width(fitted, name):
    est, width = fitted[name]
    with pytest.raises(ValueError, match=f"{width} columns"):
        est.inverse_transform(np.full((3, width + 1), 0.5))
    with pytest.raises(ValueError, match="2-D"):
        est.inverse_transform(np.full(width, 0.5))


@pytest.mark.parametrize("name", ["DBN", "Stack", "StackedAutoencoder"])
def test_inverse_transform_round_trip_unchanged(fitted, data, name):
    # The checks leave valid codes as they were: ints become floats, float32
    # and float64 codes decode as before.
    est, width = fitted[name]
    H = est.transform(data[0])
    assert est.inverse_transform(H).shape == data[0].shape
    ones = est.inverse_transform(np.ones((2, width), dtype=np.int64))
    np.testing.assert_array_equal(ones, est.inverse_transform(np.ones((2, width))))


# ----------------------------------------------------------- DBN.sample
@pytest.mark.parametrize("kwargs, name", [
    ({"n_samples": -1}, "n_samples"), ({"n_samples": 0}, "n_samples"),
    ({"n_samples": 1.5}, "n_samples"), ({"n_samples": 2, "n_steps": 0}, "n_steps"),
    ({"n_samples": 2, "n_steps": -1}, "n_steps")])
def test_dbn_sample_rejects_bad_counts(labelled, kwargs, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of DBN.sample"):
        labelled.sample(**kwargs)


# -------------------------------------------------- sparse coding functions
@pytest.fixture(scope="module")
def coding():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 6))
    D = rng.standard_normal((5, 6))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    return X, D


def test_sparse_encode_zero_atoms(coding):
    X, _ = coding
    with pytest.raises(ValueError, match="dictionary has 0 atoms"):
        sparse_encode(X, np.zeros((0, 6)), 0.1)


@pytest.mark.parametrize("case, match", [
    ("X_1d", r"X must be 2-D.*reshape\(1, -1\)"),
    ("D_1d", r"dictionary must be 2-D \(n_components, n_features\)"),
    ("D_3d", r"dictionary must be 2-D"),
    ("features", "dictionary has 5 features per atom but X has 6"),
])
def test_sparse_encode_bad_shapes(coding, case, match):
    X, D = coding
    args = {"X_1d": (X[0], D), "D_1d": (X, D[0]), "D_3d": (X, D[None]),
            "features": (X, D[:, :5])}[case]
    with pytest.raises(ValueError, match=match):
        sparse_encode(*args, 0.1)


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e160), (np.float32, 1e20)])
def test_sparse_coding_refuses_overflowing_data(coding, dtype, scale):
    # The dictionary learned from such data used to be all zeros, with an
    # objective of inf and no error.
    X, D = coding
    Xs = (X * scale).astype(dtype)
    with pytest.raises(ValueError, match="too large for sparse coding"):
        sparse_encode(Xs, D, 0.1)
    with pytest.raises(ValueError, match="too large for sparse coding"):
        SparseCoding(5, max_iter=3, random_state=0).fit(Xs)


def test_sparse_encode_single_sample_reshaped(coding):
    X, D = coding
    np.testing.assert_allclose(sparse_encode(X[:1], D, 0.1),
                               sparse_encode(X, D, 0.1)[:1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case, match", [
    ("dictionary_1d", "dictionary must be 2-D"),
    ("A_shape", r"A must have shape \(5, 5\)"),
    ("B_shape", r"B must have shape \(5, 6\)"),
    ("A_nan", "Input A contains NaN"),
    ("B_inf", "Input B contains infinity"),
    ("method", "'method' parameter of update_dictionary"),
    ("max_iter", "'max_iter' parameter of update_dictionary"),
])
def test_update_dictionary_bad_inputs(coding, case, match):
    X, D = coding
    S = sparse_encode(X, D, 0.1)
    A, B = S.T @ S, S.T @ X
    kwargs = {}
    if case == "dictionary_1d":
        D = D[0]
    elif case == "A_shape":
        A = A[:4, :4]
    elif case == "B_shape":
        B = B[:, :5]
    elif case == "A_nan":
        A = A.copy()
        A[0, 0] = np.nan
    elif case == "B_inf":
        B = B.copy()
        B[1, 2] = np.inf
    elif case == "method":
        kwargs["method"] = "newton"
    else:
        kwargs["max_iter"] = 0
    with pytest.raises(ValueError, match=match):
        update_dictionary(D, A, B, **kwargs)


@pytest.mark.parametrize("method", ["bcd", "lagrange_dual"])
def test_update_dictionary_takes_lists_and_mixed_dtypes(coding, method):
    X, D = coding
    S = sparse_encode(X, D, 0.1)
    A, B = S.T @ S, S.T @ X
    expected = update_dictionary(D, A, B, method=method)
    np.testing.assert_array_equal(
        update_dictionary(D.tolist(), A.tolist(), B.tolist(), method=method), expected)
    mixed = update_dictionary(D, A.astype(np.float32), B, method=method)
    assert mixed.dtype == np.float64


def test_sparse_coding_objective_bad_shapes(coding):
    X, D = coding
    codes = np.zeros((20, 5))
    with pytest.raises(ValueError, match=r"codes must have shape .* = \(20, 5\)"):
        sparse_coding_objective(X, codes[:, :4], D, 0.1)
    with pytest.raises(ValueError, match="dictionary has 6 features per atom but X has 5"):
        sparse_coding_objective(X[:, :5], codes, D, 0.1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_sparse_coding_inverse_transform_non_finite(coding, bad):
    X, _ = coding
    sc = SparseCoding(5, max_iter=2, random_state=0).fit(X)
    codes = np.zeros((2, 5))
    codes[0, 1] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        sc.inverse_transform(codes)
    with pytest.raises(ValueError, match="2-D"):
        sc.inverse_transform(np.zeros(5))


# --------------------------------------- SparseCoding.partial_fit dtypes (item 3)
@pytest.mark.parametrize("solver", ["feature_sign", "cd", "fista", "omp"])
@pytest.mark.parametrize("dict_solver", ["bcd", "lagrange_dual"])
@pytest.mark.parametrize("first, then", [(np.float32, np.float64), (np.float64, np.float32)])
def test_sparse_coding_partial_fit_mixed_dtypes(coding, solver, dict_solver, first, then):
    X, _ = coding
    sc = SparseCoding(5, alpha=0.1, solver=solver, dict_solver=dict_solver, max_iter=3,
                      batch_size=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.fit(X.astype(first))
        # Converted to the model's dtype first: the same step as on converted data.
        reference = copy.deepcopy(sc).partial_fit(X[:10].astype(then).astype(first))
        sc.partial_fit(X[:10].astype(then))
        assert_same_state(vars(sc), vars(reference))
        sc.partial_fit(X[10:].astype(then))
    for name in ("components_", "code_gram_", "code_data_"):
        assert getattr(sc, name).dtype == first, name
        assert np.all(np.isfinite(getattr(sc, name))), name
    assert sc.transform(X.astype(then)).dtype == then


# ---------------------------------------------- transactional training (item 3)
def test_dbn_failed_fit_leaves_model(labelled, data, monkeypatch):
    X, y = data
    dbn = copy.deepcopy(labelled)
    assert_untouched(dbn, lambda m: m.fit(X, y[:-3]), ValueError)
    # Different width and outside [0, 1]: n_features_in_ must not change.
    assert_untouched(dbn, lambda m: m.fit(np.hstack([X, X]) * 2, y), ValueError)
    dbn.set_params(learning_rate=-1.0)
    assert_untouched(dbn, lambda m: m.fit(X, y), InvalidParameterError)
    dbn.set_params(learning_rate=0.1)

    def interrupt(*args):
        raise KeyboardInterrupt

    # Interrupted after the first epoch of the top RBM, and of up-down.
    monkeypatch.setattr(_dbn, "check_divergence", interrupt)
    assert_untouched(dbn, lambda m: m.fit(X, y), KeyboardInterrupt)
    monkeypatch.undo()
    check = _dbn.check_divergence

    def interrupt_updown(*args, **kwargs):
        if kwargs.get("rate_name") == "updown_learning_rate":
            raise KeyboardInterrupt
        return check(*args, **kwargs)

    monkeypatch.setattr(_dbn, "check_divergence", interrupt_updown)
    dbn.set_params(n_iter=1, n_updown_iter=2)
    assert_untouched(dbn, lambda m: m.fit(X, y), KeyboardInterrupt)


@pytest.mark.parametrize("params, match", [
    ({"hidden_layer_sizes": (6,), "learning_rate": 1e30}, r"DBN diverged .*learning_rate=1e\+30"),
    ({"updown_learning_rate": 1e30}, r"up-down .*updown_learning_rate=1e\+30"),
])
def test_dbn_divergence_is_an_error(labelled, data, params, match):
    # Parameters at 1e30 used to be returned without a word.
    X, y = data
    dbn = copy.deepcopy(labelled).set_params(**params)
    assert_untouched(dbn, lambda m: m.fit(X, y), FloatingPointError)
    with pytest.raises(FloatingPointError, match=match):
        dbn.fit(X, y)


def test_stack_failed_fit_leaves_model(data):
    X, _ = data
    stack = Stack([("scale", MinMaxScaler()), ("rbm", BernoulliRBM(4, n_iter=2, random_state=0)),
                   ("last", _Interrupted())]).fit(X)
    # The second layer rejects the first one's output (outside [0, 1]).
    stack.set_params(scale=StandardScaler())
    assert_untouched(stack, lambda m: m.fit(X), ValueError)
    stack.set_params(scale=MinMaxScaler())
    stack.set_params(last__interrupt=True)
    assert_untouched(stack, lambda m: m.fit(X), KeyboardInterrupt)
    stack.set_params(last__interrupt=False, rbm__n_iter=-1)
    assert_untouched(stack, lambda m: m.fit(X), InvalidParameterError)


def test_stacked_autoencoder_failed_fit_leaves_model(data, monkeypatch):
    X, _ = data
    sae = StackedAutoencoder((6, 4), max_iter=2, random_state=0).fit(X)
    # A wider X outside [0, 1] for cross-entropy: rejected by the first layer.
    assert_untouched(sae, lambda m: m.fit(np.hstack([X, X]) * 3), ValueError)

    def interrupt(self, X, y=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Stack, "fit", interrupt)
    assert_untouched(sae, lambda m: m.fit(np.hstack([X, X])), KeyboardInterrupt)


def test_sparse_coding_failed_fit_leaves_model(coding, monkeypatch):
    X, _ = coding
    sc = SparseCoding(5, alpha=0.1, max_iter=3, random_state=0).fit(X)
    # Values so large that |x|^2 overflows: refused, model kept.
    with np.errstate(all="ignore"):
        assert_untouched(sc, lambda m: m.fit(X * 1e300), ValueError)
    sc.set_params(batch_size=5)
    sc.partial_fit(X[:5])

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    # Interrupted in the dictionary step, after the statistics were updated.
    monkeypatch.setattr(_sparse_coding, "_update_dictionary", interrupt)
    assert_untouched(sc, lambda m: m.partial_fit(X[5:10]), KeyboardInterrupt)
    assert_untouched(sc, lambda m: m.fit(X), KeyboardInterrupt)
    # A never-fitted estimator stays unfitted.
    fresh = SparseCoding(5, random_state=0)
    assert_untouched(fresh, lambda m: m.partial_fit(X[:5]), KeyboardInterrupt)
    assert not hasattr(fresh, "components_")


# ------------------------------------------------ extract_natural_patches (item 10)
@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_patches": True}, TypeError, "n_patches must be an int, not a bool"),
    ({"n_patches": np.True_}, ValueError, "'n_patches' parameter"),
    ({"n_patches": 5, "patch_size": True}, ValueError, "'patch_size' parameter"),
    ({"n_patches": 5, "patch_size": np.True_}, ValueError, "'patch_size' parameter"),
    ({"n_patches": 5.0}, ValueError, "'n_patches' parameter"),
    ({"n_patches": "5"}, ValueError, "'n_patches' parameter"),
    ({"n_patches": -3}, ValueError, "'n_patches' parameter"),
    ({"n_patches": 5, "patch_size": 1}, ValueError, "'patch_size' parameter"),
    ({"n_patches": 5, "dtype": "no-such-type"}, TypeError, "dtype must be float32 or float64"),
    ({"n_patches": 5, "dtype": np.complex128}, ValueError, "dtype must be float32 or float64"),
    ({"n_patches": 5, "whiten": "yes"}, ValueError, "'whiten' parameter"),
])
def test_extract_natural_patches_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        extract_natural_patches(**kwargs)


def test_extract_natural_patches_numpy_ints():
    np.testing.assert_array_equal(
        extract_natural_patches(np.int64(3), np.int32(4), random_state=0),
        extract_natural_patches(3, 4, random_state=0))


# ------------------------------------------ review and fuzz findings (item 4)
@pytest.mark.parametrize("kwargs, name", [({"n_samples": True}, "n_samples"),
                                          ({"n_samples": 2, "n_steps": True}, "n_steps")])
def test_dbn_sample_rejects_bools(labelled, kwargs, name):
    with pytest.raises(TypeError, match=f"DBN.sample: {name} must be an int, not a bool"):
        labelled.sample(**kwargs)


@pytest.mark.parametrize("sizes", [(True, 3), (np.False_, 3), (3.0,), ((3,),), ()])
@pytest.mark.parametrize("estimator", [DBN, StackedAutoencoder])
def test_stacks_reject_bad_layer_sizes(data, estimator, sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a non-empty sequence"):
        estimator(sizes).fit(data[0])


@pytest.mark.parametrize("level", [[[0.1]], ["a", "b"], [0.1, np.nan], [0.1, 0.2, 0.3], -0.5])
def test_stacked_autoencoder_rejects_bad_corruption_levels(data, level):
    with pytest.raises(ValueError, match="corruption_level"):
        StackedAutoencoder((4, 3), corruption_level=level, max_iter=1).fit(data[0])


def test_stacked_autoencoder_checks_solver_by_name(data):
    with pytest.raises(InvalidParameterError, match="'solver' parameter of StackedAutoencoder"):
        StackedAutoencoder((4, 3), solver="newton", max_iter=1).fit(data[0])


def test_sparse_coding_partial_fit_on_read_only_state(coding):
    X, _ = coding
    sc = SparseCoding(5, alpha=0.1, random_state=0).partial_fit(X[:10])
    frozen = copy.deepcopy(sc)
    for name in ("components_", "code_gram_", "code_data_"):
        getattr(frozen, name).setflags(write=False)
    sc.partial_fit(X[10:])
    frozen.partial_fit(X[10:])
    assert_same_state(vars(frozen), vars(sc))


def test_sparse_encode_names_bad_init(coding):
    X, D = coding
    init = np.zeros((20, 5))
    init[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input init contains NaN"):
        sparse_encode(X, D, 0.1, init=init)


@pytest.mark.parametrize("method", ["bcd", "lagrange_dual"])
def test_update_dictionary_zero_atoms(method):
    with pytest.raises(ValueError, match="dictionary has 0 atoms"):
        update_dictionary(np.zeros((0, 6)), np.zeros((0, 0)), np.zeros((0, 6)), method=method)


@pytest.mark.parametrize("alpha", [np.nan, -0.1, np.inf])
def test_sparse_coding_objective_checks_alpha(coding, alpha):
    X, D = coding
    with pytest.raises(InvalidParameterError,
                       match="'alpha' parameter of sparse_coding_objective"):
        sparse_coding_objective(X, np.zeros((20, 5)), D, alpha)


def test_get_data_home_checks_its_argument():
    with pytest.raises(InvalidParameterError, match="'data_home' parameter of get_data_home"):
        get_data_home(5)


# ------------------------------------------------- the fuzz suite's findings
@pytest.fixture(scope="module")
def small_rbms(data):
    X, _ = data
    return [BernoulliRBM(3, n_iter=1, random_state=0).fit(X),
            GaussianBernoulliRBM(3, n_iter=1, random_state=0).fit(X)]


@pytest.mark.parametrize("i", [0, 1])
def test_log_partition_refuses_nan_betas(small_rbms, i):
    betas = np.linspace(0, 1, 5)
    betas[2] = np.nan
    with pytest.raises(ValueError, match="betas must be a 1-D array increasing strictly"):
        small_rbms[i].log_partition("ais", n_runs=2, betas=betas, random_state=0)


@pytest.mark.parametrize("value", [1.5, -0.5, np.nan])
def test_log_partition_refuses_a_base_rate_that_is_no_probability(small_rbms, value):
    base_rate = np.full(12, 0.3)
    base_rate[4] = value
    with pytest.raises(ValueError, match=r"base_rate holds probabilities and must lie in \[0, 1\]"):
        small_rbms[0].log_partition("ais", n_runs=2, betas=np.linspace(0, 1, 5),
                                    base_rate=base_rate, random_state=0)


@pytest.mark.parametrize("i", [0, 1])
@pytest.mark.parametrize("kwargs, name", [
    ({"n_samples": True, "n_steps": 3}, "n_samples"),
    ({"n_samples": 2, "n_steps": True}, "n_steps"),
])
def test_rbm_sample_refuses_bool_counts(small_rbms, i, kwargs, name):
    rbm = small_rbms[i]
    with pytest.raises(TypeError, match=f"{type(rbm).__name__}.sample: {name} must be an int, "
                                        "not a bool"):
        rbm.sample(**kwargs)


def test_log_partition_refuses_a_bool_n_runs(small_rbms):
    with pytest.raises(TypeError, match="log_partition: n_runs must be an int, not a bool"):
        small_rbms[0].log_partition("ais", n_runs=True)


@pytest.fixture(scope="module")
def deep_autoencoders(data):
    X, _ = data
    return {loss: DeepAutoencoder(hidden_layer_sizes=(5, 2), max_iter=2, loss=loss,
                                  random_state=0).fit(X)
            for loss in ("binary_cross_entropy", "squared_error")}


@pytest.mark.parametrize("codes, exc, match", [
    (np.zeros((4, 3)), ValueError, r"DeepAutoencoder.inverse_transform expects codes with 2 "
                                   r"columns \(n_components\); got 3"),
    (np.zeros(2), ValueError, "X must be 2-D"),
    (np.array([[0.5, np.nan]]), ValueError, "the codes contain NaN or inf"),
    (np.array([[0.5, -np.inf]]), ValueError, "the codes contain NaN or inf"),
    (np.zeros((4, 2)) + 0j, ValueError, "Complex data not supported"),
    (sparse.csr_matrix(np.ones((4, 2))), TypeError, "Sparse data was passed for X"),
])
def test_deep_autoencoder_inverse_transform_checks_codes(deep_autoencoders, codes, exc, match):
    with pytest.raises(exc, match=match):
        deep_autoencoders["squared_error"].inverse_transform(codes)


@pytest.mark.parametrize("method", ["score", "score_samples"])
@pytest.mark.parametrize("low, high", [(-1, 2), (-1, 0)])
def test_deep_autoencoder_cross_entropy_scores_refuse_data_outside_the_unit_interval(
        deep_autoencoders, data, method, low, high):
    X = data[0] * (high - low) + low
    with pytest.raises(ValueError, match=re.escape(
            "DeepAutoencoder with cross-entropy loss expects values in [0, 1]")):
        getattr(deep_autoencoders["binary_cross_entropy"], method)(X)
    # the squared error is defined on any real data
    assert np.isfinite(getattr(deep_autoencoders["squared_error"], method)(X)).all()


def test_regressor_names_non_numeric_targets(data):
    X, _ = data
    y = np.array(["a", "b", "c"] * 20)
    reg = FineTunedRegressor(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="FineTunedRegressor needs numeric targets y; got "
                                         "dtype <U1"):
        reg.fit(X, y)
    assert_untouched(reg.fit(X, np.arange(60.0)), lambda m: m.partial_fit(X, y), ValueError)


def test_regressor_early_stopping_needs_two_validation_samples(data):
    # R^2 on one sample is NaN: every validation score was NaN
    X, _ = data
    y = X.sum(axis=1)
    reg = FineTunedRegressor(hidden_layer_sizes=(3,), max_iter=2, early_stopping=True,
                             random_state=0)
    with pytest.raises(ValueError, match="validation_fraction=0.1 leaves 1 validation .*"
                                         "FineTunedRegressor needs at least 2"):
        reg.fit(X[:13], y[:13])
    reg.fit(X[:20], y[:20])
    assert np.all(np.isfinite(reg.validation_scores_))


X_CORRUPT = np.random.default_rng(1).random((7, 5))


@pytest.mark.parametrize("X, exc, match", [
    (X_CORRUPT[0], ValueError, "X must be 2-D"),
    (X_CORRUPT[None], ValueError, "X must be 2-D"),
    (sparse.csr_matrix(X_CORRUPT), ValueError, "'X' parameter of corrupt must be an "
                                               "array-like"),
    (X_CORRUPT + 0j, ValueError, "corrupt: X must be real"),
    (np.where(X_CORRUPT > 0.5, np.nan, X_CORRUPT), ValueError, "Input X contains NaN"),
])
def test_corrupt_refuses_bad_arrays(X, exc, match):
    with pytest.raises(exc, match=match):
        corrupt(X, "masking", 0.25, key=1)


@pytest.mark.parametrize("kind", ["masking", "gaussian", "salt_and_pepper"])
def test_corrupt_takes_any_float_array_like(kind):
    want = corrupt(X_CORRUPT, kind, 0.25, key=1)
    for X in (X_CORRUPT.tolist(), np.asfortranarray(X_CORRUPT)):
        np.testing.assert_array_equal(corrupt(X, kind, 0.25, key=1), want)
    assert corrupt(X_CORRUPT.astype(np.float32), kind, 0.25, key=1).dtype == np.float32


@pytest.mark.parametrize("kind, level, match", [
    ("masking", -0.1, "'level' parameter of corrupt"),
    ("masking", np.nan, "'level' parameter of corrupt"),
    ("gaussian", -0.1, "'level' parameter of corrupt"),
    ("gaussian", np.inf, "'level' parameter of corrupt"),
    ("masking", 1.5, r"level is a probability for kind='masking' and must lie in \[0, 1\]"),
    ("salt_and_pepper", 1.5, "level is a probability for kind='salt_and_pepper'"),
])
def test_corrupt_checks_level(kind, level, match):
    with pytest.raises(ValueError, match=match):
        corrupt(X_CORRUPT, kind, level, key=1)


@pytest.mark.parametrize("key", [-1, 2 ** 70, 1.5, "a"])
def test_corrupt_checks_key(key):
    with pytest.raises(InvalidParameterError, match="'key' parameter of corrupt"):
        corrupt(X_CORRUPT, "gaussian", 0.25, key)


@pytest.mark.parametrize("args, kwargs, match", [
    (("he", 0, 3), {}, "'fan_in' parameter of init_weights"),
    (("glorot", -1, 3), {}, "'fan_in' parameter of init_weights"),
    (("glorot", 5, 0), {}, "'fan_out' parameter of init_weights"),
    (("glorot", 2.5, 3), {}, "'fan_in' parameter of init_weights"),
    (("glorot", 5, 3), {"scale": np.nan}, "'scale' parameter of init_weights"),
    (("glorot", 5, 3), {"scale": np.inf}, "'scale' parameter of init_weights"),
    (("glorot", 5, 3), {"scale": 0.0}, "'scale' parameter of init_weights"),
    (("glorot", 5, 3), {"dtype": np.int64}, "init_weights: dtype must be a float dtype"),
])
def test_init_weights_checks_its_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        init_weights(*args, np.random.RandomState(0), **kwargs)


def test_init_weights_refuses_bool_fans():
    with pytest.raises(TypeError, match="init_weights: fan_out must be an int, not a bool"):
        init_weights("glorot", 5, True, np.random.RandomState(0))


def test_dropout_takes_any_float_array_like():
    X = np.random.default_rng(0).random((6, 4))
    Y, mask = dropout(X.tolist(), 0.5, np.random.RandomState(0))
    np.testing.assert_array_equal(Y, X * mask)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        dropout(np.full((2, 2), np.inf), 0.5, np.random.RandomState(0))


@pytest.mark.parametrize("W, kwargs, exc, match", [
    (np.ones((3, 4)), {"axis": 2}, ValueError, "'axis' parameter of max_norm"),
    (np.ones((3, 4)), {"max_value": np.nan}, ValueError, "'max_value' parameter of max_norm"),
    (np.ones((3, 4), dtype=np.int64), {}, TypeError, "W must be a 2-D float array"),
    (np.ones(4), {}, TypeError, "W must be a 2-D float array"),
    (np.full((3, 4), np.nan), {}, ValueError, "max_norm: W contains NaN or inf"),
    (np.ones((3, 4)).tolist(), {}, ValueError, "'W' parameter of max_norm"),
])
def test_max_norm_checks_its_arguments(W, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        max_norm(W, **{"max_value": 1.0, **kwargs})


def test_max_norm_refuses_read_only_weights():
    W = np.ones((3, 4))
    W.setflags(write=False)
    with pytest.raises(ValueError, match="W is read-only"):
        max_norm(W, 1.0)


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_stacked_autoencoder_cross_entropy_needs_sigmoid_codes(activation):
    X = np.random.default_rng(0).random((20, 5))
    sae = StackedAutoencoder(hidden_layer_sizes=(4, 3), hidden_activation=activation,
                             loss="cross_entropy", max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="hidden_activation='sigmoid'.*loss='squared_error'"):
        sae.fit(X)
    assert not hasattr(sae, "steps_")
    # One layer reconstructs the data itself, which is in [0, 1]: allowed.
    StackedAutoencoder(hidden_layer_sizes=(4,), hidden_activation=activation,
                       loss="cross_entropy", max_iter=1, random_state=0).fit(X)


# ------------------------------------------- public functions (issue 12, item 4)
def _layer():
    W = np.ones((2, 3))
    return EncoderLayer(W, np.zeros(2), "sigmoid", np.ascontiguousarray(W.T), np.zeros(3),
                        "sigmoid")


_W64 = np.ones(3)
_X = np.ones((4, 3))
_D = np.eye(2, 3)

# (function, arguments with one bad value, the bad argument's name)
_PUBLIC_FUNCTIONS = [
    (get_data_home, {"data_home": 3}, "data_home"),
    (load_idx, {"path": 3}, "path"),
    (fetch_mnist, {"subset": "validation"}, "subset"),
    (fetch_fashion_mnist, {"subset": "train-5k"}, "subset"),
    (fetch_mnist, {"download": "yes"}, "download"),
    (extract_natural_patches, {"n_patches": 0}, "n_patches"),
    (init_weights, {"method": "orthogonal", "fan_in": 2, "fan_out": 2,
                    "rng": np.random.default_rng(0)}, "method"),
    (dropout, {"X": _X, "rate": 1.0, "rng": np.random.default_rng(0)}, "rate"),
    (max_norm, {"W": _X.copy(), "max_value": 0.0}, "max_value"),
    (check_gradient, {"loss_and_grad": 1.0, "params": [_W64]}, "loss_and_grad"),
    (check_gradient, {"loss_and_grad": lambda: (0.0, [_W64]), "params": _W64}, "params"),
    (numerical_gradient, {"loss": lambda: 0.0, "params": [_W64], "eps": 0.0}, "eps"),
    (relative_error, {"analytic": "a", "numeric": _W64}, "analytic"),
    (decode, {"H": np.ones((1, 2)), "layer": (1, 2)}, "layer"),
    (sparse_encode, {"X": _X, "dictionary": _D, "alpha": 0.1, "solver": "lars"}, "solver"),
    (sparse_coding_objective, {"X": _X, "codes": np.ones((4, 2)), "dictionary": _D,
                               "alpha": -1.0}, "alpha"),
    (update_dictionary, {"dictionary": _D, "A": np.eye(2), "B": np.ones((3, 2)),
                         "method": "lagrange"}, "method"),
    (corrupt, {"X": _X, "kind": "dropout", "level": 0.1, "key": 0}, "kind"),
]


@pytest.mark.parametrize("function, kwargs, name", _PUBLIC_FUNCTIONS,
                         ids=[f"{f.__name__}-{n}" for f, _, n in _PUBLIC_FUNCTIONS])
def test_public_functions_name_the_bad_argument(function, kwargs, name):
    with pytest.raises(InvalidParameterError,
                       match=f"'{name}' parameter of {function.__name__} must be"):
        function(**kwargs)


@pytest.mark.parametrize("H, match", [(np.ones((1, 3)), "2 columns"),
                                      (np.full((1, 2), np.nan), "NaN or inf"),
                                      (np.ones(2), "2-D")])
def test_decode_checks_the_codes(H, match):
    with pytest.raises(ValueError, match=match):
        decode(H, _layer())


def test_decode_matches_the_down_pass():
    H = np.array([[0.5, -1.0]])
    layer = _layer()
    np.testing.assert_allclose(decode(H, layer),
                               1 / (1 + np.exp(-(H @ layer.decoder_weights.T))), rtol=1e-12)
