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

from deepzoo import DBN, BernoulliRBM, SparseCoding, Stack, StackedAutoencoder, sparse_encode
from deepzoo.datasets import extract_natural_patches, get_data_home
from deepzoo.layers import _sparse_coding
from deepzoo.layers._sparse_coding import sparse_coding_objective, update_dictionary
from deepzoo.stacks import _dbn

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
