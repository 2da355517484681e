"""Fuzz tests: every public estimator and function on hostile inputs.

Seeded random generation (one ``numpy.random.Generator`` per target, seeded
from the target's name) builds inputs of random shapes (0 rows, 1 row, 1
feature, more features than rows, wrong feature count, 1-D, 3-D), dtypes
(float16/32/64, int, bool, object, complex, numeric strings), memory
layouts, NaN/inf placements (one cell, a row, a column, everything), sparse
(CSR/CSC) against dense, values outside [0, 1], bad targets, extreme
hyperparameters, every option of every categorical setting, odd call
orders (transform before fit, partial_fit with another dtype or width, on
read-only arrays, after a save/load round trip) and damaged model files.
Every call is classified:

- ``ok``: it returned, with output shaped as documented and finite where
  the input was finite (anything else is ``garbage``);
- ``clear``: a documented exception type (``ValueError``, ``TypeError``,
  scikit-learn's ``InvalidParameterError`` / ``NotFittedError``, or
  ``FloatingPointError`` naming the setting to change, for divergence)
  whose message names the problem;
- ``crash``: any other exception, or a documented type whose message is a
  bare library message that does not say what the user did wrong (or
  blames the input for a fault it does not have);
- ``garbage``: it returned, but accepted an input the estimator must reject
  or produced output that is non-finite, misshaped, divergent or (for
  sparse input, or after a save/load round trip) different from the
  reference result;
- ``lost``: it raised but left the estimator different from before the
  call (``vars()`` compared deeply, arrays bit for bit).

The suite asserts 0 crashes, 0 garbage and 0 lost, per target, and prints
the counts; each failure is printed with what reproduces it (seed, target,
input, exception) and the source file to fix.
"""

import copy
import inspect
import os
import re
import traceback
import warnings
import zlib
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import StrOptions

import deepzoo
from deepzoo.datasets import extract_natural_patches
from deepzoo.io import load, save
from deepzoo.layers import BernoulliRBM, Autoencoder, sparse_encode
from deepzoo.layers._autoencoder import corrupt
from deepzoo.layers._sparse_coding import update_dictionary
from deepzoo.networks import dropout, init_weights, max_norm
from deepzoo.utils import all_estimators

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ----------------------------------------------------------------- settings

# Small models: few units, 1-2 epochs, small batches, so that the whole
# suite stays within a minute on two cores.
SMALL = {
    "Autoencoder": dict(n_components=3, max_iter=2, batch_size=4, random_state=0),
    "DenoisingAutoencoder": dict(n_components=3, max_iter=2, batch_size=4, random_state=0),
    "SparseAutoencoder": dict(n_components=3, max_iter=2, batch_size=4, random_state=0),
    "ContractiveAutoencoder": dict(n_components=3, max_iter=2, batch_size=4, random_state=0),
    "BernoulliRBM": dict(n_components=3, n_iter=2, batch_size=4, random_state=0),
    "GaussianBernoulliRBM": dict(n_components=3, n_iter=2, batch_size=4, random_state=0),
    "SparseCoding": dict(n_components=3, alpha=0.1, max_iter=2, batch_size=4, random_state=0),
    "DBN": dict(hidden_layer_sizes=(3, 2), n_iter=1, n_updown_iter=1, batch_size=4,
                random_state=0),
    "StackedAutoencoder": dict(hidden_layer_sizes=(3, 2), max_iter=2, batch_size=4,
                               random_state=0),
    "DeepAutoencoder": dict(hidden_layer_sizes=(3, 2), max_iter=2, batch_size=4,
                            random_state=0),
    "FineTunedClassifier": dict(hidden_layer_sizes=(3,), max_iter=2, batch_size=4,
                                random_state=0),
    "FineTunedRegressor": dict(hidden_layer_sizes=(3,), max_iter=2, batch_size=4,
                               random_state=0),
    # 2-D rows are images of height 1: 1 x 2 filters fit any width but 1
    "ConvolutionalRBM": dict(n_filters=3, filter_shape=(1, 2), pool_shape=2, n_iter=2,
                             batch_size=4, random_state=0),
    "ConvolutionalDBN": dict(n_filters=(3, 2), filter_shape=[(1, 2), 1], pool_shape=2,
                             n_iter=1, batch_size=4, random_state=0),
}


def _make(name):
    if name == "Stack":
        return deepzoo.Stack([
            ("rbm", BernoulliRBM(n_components=3, n_iter=1, batch_size=4, random_state=0)),
            ("ae", Autoencoder(n_components=2, max_iter=2, batch_size=4, random_state=0)),
        ])
    assert name in SMALL, f"new estimator {name}: give it small settings in SMALL"
    return dict(all_estimators())[name](**SMALL[name])


# Extreme or invalid values per hyperparameter, tried where the estimator has
# the parameter. Each value must either train to a finite, bounded model or
# be refused clearly (InvalidParameterError, or FloatingPointError naming the
# learning rate for a divergence that can only be seen while training).
EXTREME = {
    "learning_rate": [1e-30, 1e3, 1e30, 0.0, -1.0, np.nan, np.inf],
    "updown_learning_rate": [1e30, -1.0],
    "batch_size": [10_000, 0, -1],
    "n_iter": [0, -1],
    "max_iter": [0, -1],
    "n_updown_iter": [-1],
    "n_components": [0, -1, 40],
    "hidden_layer_sizes": [(), (0,), (-1,), (3, 0)],
    "weight_decay": [1e10, -1.0],
    "alpha": [1e30, -1.0, np.nan],
    "k": [0],
    "updown_k": [0],
    "n_chains": [0],
    "initial_momentum": [1.5],
    "final_momentum": [-0.1],
    "momentum": [1e30, -1.0],
    "corruption_level": [1.5, -0.1],
    "sparsity_weight": [1e30],
    "sparsity_target": [0.0, 1.0],
    "contraction": [1e30],
    "tol": [-1.0],
    "cg_maxiter": [0],
    "dropout": [1.0, -0.5],
    "max_norm": [0.0, -1.0],
    "beta_1": [1.0],
    "epsilon": [0.0],
    "n_nonzero_coefs": [0],
    "top_only_iter": [-1],
    "n_filters": [0, -1, 40, (3, 0), ()],
    "filter_shape": [0, 100, (1, 0), (1, 2, 3)],
    "pool_shape": [0, 100, (0, 2)],
    "image_shape": [(5, 1), (0, 5), (1, 5, 1)],
}

# Counts that must be at least 1 (0 is meaningless, not "none").
_POSITIVE = {"batch_size", "n_components", "k", "updown_k", "n_chains", "n_nonzero_coefs",
             "n_filters", "filter_shape", "pool_shape"}
# Values that are invalid on their face: a model must refuse them, not
# train on them. Values not listed (a learning rate of 1e30, a weight decay
# of 1e10, max_iter=0) are legal settings: they must give a finite, bounded
# model or a clear error (divergence), either is accepted.
_FACE_INVALID = {("initial_momentum", 1.5), ("final_momentum", -0.1), ("momentum", 1e30),
                 ("corruption_level", 1.5), ("sparsity_target", 0.0),
                 ("sparsity_target", 1.0), ("dropout", 1.0), ("max_norm", 0.0),
                 ("beta_1", 1.0)}


def _invalid(param, value):
    if isinstance(value, tuple):
        # () may mean "no hidden layer": either accepted or refused clearly
        return any(v <= 0 for v in value)
    if not np.isfinite(value) or value < 0:
        return True
    if param in _POSITIVE and value == 0:
        return True
    return (param, value) in _FACE_INVALID


# A fitted model whose parameters exceed BOUND in magnitude (data in [0, 1],
# tiny models, 1-2 epochs), or whose loss curve grew GROWTH-fold from its
# first epoch, diverged without saying so (issue 11, item 5: "16 ended with
# parameters above 1e6"). The two numbers are the documented limits of
# deepzoo/_nn/divergence.py (PARAMETER_BOUND, LOSS_GROWTH). Borderline
# decision: a loss curve is not held to BOUND itself, because with a huge
# penalty (alpha=1e30) a huge loss is the true objective, not divergence.
BOUND = 1e6
GROWTH = 1e4

# Messages that come straight from numpy/scipy/Python internals: they say
# what failed inside the library, not what the caller did wrong.
_BARE = re.compile(
    "|".join([
        r"operands could not be broadcast", r"out of bounds", r"ambiguous",
        r"not aligned", r"matmul: Input operand", r"mismatch in its core dimension",
        r"cannot reshape", r"setting an array element with a sequence",
        r"invalid value encountered", r"overflow encountered", r"divide by zero",
        r"zero-size array", r"unsupported operand type", r"has no len\(\)",
        r"only integer scalar arrays", r"'NoneType' object", r"[Cc]annot cast",
        r"read-only", r"too many indices", r"tuple index out of range",
        r"unhashable type", r"negative dimensions are not allowed",
        r"object cannot be interpreted as an integer", r"must be real number",
        r"float\(\) argument must be", r"numba", r"No implementation of function",
        r"not supported between instances", r"object is not subscriptable",
        r"object is not iterable", r"could not convert", r"array is too big",
        r"Maximum allowed dimension", r"buffer", r"Cannot determine Numba type",
    ]))

_ALLOWED = (ValueError, TypeError, FloatingPointError)  # Invalid/NotFitted subclass ValueError


def _clear_message(exc, params):
    msg = str(exc)
    if len(msg) < 12 or _BARE.search(msg):
        return False
    if isinstance(exc, FloatingPointError) and not isinstance(exc, (ValueError, TypeError)):
        # A divergence is only actionable if the message names the setting
        # to change (issue 11: "a clear error naming the learning rate").
        return any(p in msg for p in params)
    return True


# ------------------------------------------------------------ comparisons

def _same(a, b):
    """Deep, bit-for-bit equality of two states (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype == object:
            return all(_same(x, y) for x, y in zip(a.ravel(), b.ravel()))
        return a.tobytes() == b.tobytes()
    if sp.issparse(a):
        a, b = a.tocsr(), b.tocsr()
        return (a.shape == b.shape and _same(a.data, b.data)
                and _same(a.indices, b.indices) and _same(a.indptr, b.indptr))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.random.RandomState):
        return _same(list(a.get_state()), list(b.get_state()))
    if isinstance(a, np.random.Generator):
        return _same(a.bit_generator.state, b.bit_generator.state)
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    if isinstance(a, (int, float, str, bytes, bool, type(None), np.generic)):
        return bool(a == b) or a is b
    if hasattr(a, "__dict__") and not inspect.isroutine(a) and not inspect.isclass(a):
        return _same(vars(a), vars(b))
    try:
        return bool(a == b)
    except Exception:
        return a is b


def _learned(state):
    """The learned attributes of an estimator (or of a copy of its vars())."""
    state = state if isinstance(state, dict) else vars(state)
    return {k: v for k, v in state.items() if k.endswith("_") and not k.startswith("_")}


def _floats(obj):
    """Every float array or number inside a (learned) value."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            yield obj
        elif obj.dtype == object:
            for x in obj.ravel():
                yield from _floats(x)
    elif isinstance(obj, (float, np.floating)):
        yield np.asarray(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _floats(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _floats(v)
    elif hasattr(obj, "get_params") and hasattr(obj, "__dict__"):
        for v in _learned(obj).values():
            yield from _floats(v)


def _is_curve(name):
    return any(w in name for w in ("loss", "error", "curve", "score"))


def _state_problem(est):
    """Why a model that returned from training is not a usable model."""
    for name, value in _learned(est).items():
        for a in _floats(value):
            if not a.size:
                continue
            if not np.all(np.isfinite(a)):
                return f"learned {name} contains NaN/inf"
            if _is_curve(name):
                first = float(np.ravel(a)[0])
                if a.ndim == 1 and first > 0 and a.max() > GROWTH * first:
                    return (f"learned {name} grew from {first:.3g} to {a.max():.3g} "
                            "(silent divergence)")
            elif np.max(np.abs(a)) > BOUND:
                return (f"learned {name} reaches {np.max(np.abs(a)):.3g} "
                        f"(> {BOUND:g}: silent divergence)")
    return None


# ------------------------------------------------------------------ inputs

class Data:
    """An input with a description and what it makes of the call."""

    def __init__(self, X, desc, *, bad=None, finite=True, n=None, sparse=False, dense=None):
        self.X, self.desc, self.bad, self.finite = X, desc, bad, finite
        self.n = n if n is not None else _rows(X)
        self.sparse, self.dense = sparse, dense


def _within_unit_interval(X):
    try:
        values = X.data if sp.issparse(X) else np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        return False
    return values.size > 0 and bool(np.all((values >= 0) & (values <= 1)))


def _rows(X):
    try:
        return np.shape(X)[0] if np.ndim(X) >= 1 else None
    except Exception:
        return None


def _desc(X):
    if sp.issparse(X):
        return f"{X.format} {X.dtype} {X.shape}"
    if isinstance(X, np.ndarray):
        return f"{X.dtype} {X.shape}"
    return f"{type(X).__name__} of len {len(X)}"


def _nonfinite(rng, X):
    """X with NaN/inf at a random place (one cell, a row, a column, all)."""
    X = np.array(X, dtype=np.float64)
    value = rng.choice([np.nan, np.inf, -np.inf])
    where = rng.choice(["cell", "row", "column", "all"])
    i, j = rng.integers(X.shape[0]), rng.integers(X.shape[1])
    if where == "cell":
        X[i, j] = value
    elif where == "row":
        X[i] = value
    elif where == "column":
        X[:, j] = value
    else:
        X[...] = value
    return X, f"{value} in {where}"


def _dtype_variant(rng, X):
    """X in another dtype; bad is set where the dtype must be refused."""
    kind = rng.choice(["float16", "float32", "int", "bool", "object", "complex",
                       "object-None", "str"])
    if kind == "float16":
        return Data(X.astype(np.float16), "float16")
    if kind == "float32":
        return Data(X.astype(np.float32), "float32")
    if kind == "int":
        return Data((X > 0.5).astype(np.int64), "int64 0/1")
    if kind == "bool":
        return Data(X > 0.5, "bool")
    if kind == "object":
        return Data(X.astype(object), "object (floats)")
    if kind == "complex":
        return Data(X + 1j * rng.random(X.shape), "complex128", bad="complex")
    if kind == "object-None":
        Xo = X.astype(object)
        Xo[rng.integers(X.shape[0]), rng.integers(X.shape[1])] = None
        return Data(Xo, "object with a None", bad="nan", finite=False)
    return Data(X.astype(str), "str digits")


def _variants(rng, X, *, fit):
    """Random hostile variants of a valid 2-D input ``X`` in [0, 1]."""
    n, d = X.shape
    out = [Data(X, "valid")]
    out.append(Data(X[:0], "0 rows", bad="empty" if fit else None))
    out.append(Data(X[:1], "1 row"))
    out.append(Data(X[:, :1], "1 feature", bad=None if fit else "width"))
    out.append(Data(rng.random((n, d + 2)), "2 extra features", bad=None if fit else "width"))
    out.append(Data(X[0], "1-D (one sample)", bad="ndim"))
    out.append(Data(X[None], "3-D", bad="ndim"))
    out.append(Data(X.tolist(), "list of lists"))
    for _ in range(3):
        Xn, how = _nonfinite(rng, X)
        out.append(Data(Xn, how, bad="nan", finite=False))
    for _ in range(2):
        out.append(_dtype_variant(rng, X))
    out.append(Data(3 * X - 1, "values in [-1, 2]", bad="range"))
    out.append(Data(-X, "values in [-1, 0]", bad="range"))
    for fmt in ("csr", "csc"):
        Xs = sp.random(n, d, density=0.5, format=fmt, random_state=int(rng.integers(1 << 30)))
        out.append(Data(Xs, fmt, sparse=True, dense=Xs.toarray()))
    if fit:
        wide = rng.random((2, 3 * d + 3))
        out.append(Data(wide, "more features than rows"))
    return out


_N_RANDOM = 8


def _random_valid(rng):
    """A valid input in [0, 1] of random shape, dtype, layout and content."""
    n, d = int(rng.integers(1, 25)), int(rng.integers(1, 9))
    content = rng.choice(["uniform", "binary", "constant", "zero column", "tiny", "ones"])
    X = rng.random((n, d))
    if content == "binary":
        X = (X > 0.5).astype(float)
    elif content == "constant":
        X[:] = X[0, 0]
    elif content == "zero column":
        X[:, rng.integers(d)] = 0
    elif content == "tiny":
        X *= 1e-300
    elif content == "ones":
        X[:] = 1
    dtype = rng.choice([np.float64, np.float32])
    X = X.astype(dtype)
    layout = rng.choice(["C", "F", "strided"])
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "strided":
        wide = np.zeros((n, 2 * d), dtype=dtype)
        wide[:, ::2] = X
        X = wide[:, ::2]
    return Data(X, f"random {content} {layout}-order")


# ----------------------------------------------------------------- fuzzer

class Fuzzer:
    """Runs calls, classifies them, keeps the counts and the failures."""

    def __init__(self, target, seed, source):
        self.target, self.seed, self.source = target, seed, source
        self.counts = Counter()
        self.failures = []

    def record(self, kind, desc, detail=""):
        self.counts["tried"] += 1
        self.counts[kind] += 1
        if kind in ("crash", "garbage", "lost"):
            self.failures.append((kind, desc, detail))

    def call(self, desc, fn, *args, owner=None, params=(), check=None, bad=None,
             training=False, mention=(), misleading=(), **kwargs):
        """Run ``fn(*args, **kwargs)``; classify; return the result or None.

        ``owner``: the estimator whose state a raising call must leave
        intact (and a non-training call must not change). ``check(result)``
        returns why an accepted result is garbage, or None. ``bad``: why the
        input must be refused (None if it is valid). ``mention``: words of
        which an error message must contain one to say what is wrong;
        ``misleading``: words it must not contain (a complaint the input
        does not deserve).
        """
        before = copy.deepcopy(vars(owner)) if owner is not None else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with np.errstate(all="ignore"):
                    result = fn(*args, **kwargs)
            except Exception as exc:
                detail = f"{type(exc).__name__}: {str(exc)[:300]}{_where(exc)}"
                if owner is not None and not _same(before, vars(owner)):
                    changed = sorted(k for k in set(before) | set(vars(owner))
                                     if k not in before or k not in vars(owner)
                                     or not _same(before[k], vars(owner)[k]))
                    self.record("lost", desc, f"{detail}; changed: {', '.join(changed)}")
                elif isinstance(exc, _ALLOWED) and _clear_message(exc, params) and (
                        not mention or any(w.lower() in str(exc).lower() for w in mention)
                ) and not any(w in str(exc) for w in misleading):
                    self.record("clear", desc)
                else:
                    self.record("crash", desc, detail)
                return None
        if bad is not None:
            self.record("garbage", desc, f"accepted ({bad}) input it must refuse")
            return None
        if owner is not None and not training and not _same(_learned(before), _learned(owner)):
            self.record("garbage", desc, "a non-training call changed the learned attributes")
            return None
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                problem = check(result) if check is not None else None
        except Exception as exc:
            # the call was accepted, but using its result fails
            self.record("crash", desc, f"accepted, then {type(exc).__name__}: "
                                       f"{str(exc)[:300]}{_where(exc)}")
            return None
        if problem:
            self.record("garbage", desc, problem)
            return None
        self.record("ok", desc)
        return result

    def report(self):
        lines = [f"{self.target}: seed={self.seed} " + ", ".join(
            f"{k}={self.counts[k]}" for k in ("tried", "ok", "clear", "crash", "garbage", "lost"))]
        for kind, desc, detail in self.failures:
            lines.append(f"  {kind.upper()} [{self.source}] seed={self.seed} {self.target}: "
                         f"{desc} -> {detail}")
        return "\n".join(lines)


def _where(exc):
    """The innermost deepzoo frame of a traceback (where the fix goes)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f"{os.sep}deepzoo{os.sep}" in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {os.path.relpath(f.filename, _REPO)}:{f.lineno})"


def _source(obj):
    return os.path.relpath(inspect.getsourcefile(inspect.unwrap(obj)), _REPO)


# ---------------------------------------------------------- output checks

def _array_problem(out, shape, finite):
    if sp.issparse(out):
        out = out.toarray()
    out = np.asarray(out)
    if shape is not None and out.shape != shape:
        return f"output shape {out.shape}, expected {shape}"
    if finite and out.dtype.kind in "fc" and not np.all(np.isfinite(out)):
        return "non-finite output for finite input"
    return None


_ROW_OUTPUT = {"predict", "score_samples", "free_energy", "log_likelihood", "decision_function"}
_FEATURE_OUTPUT = {"inverse_transform", "reconstruct", "gibbs"}
_DETERMINISTIC = {"transform", "inverse_transform", "predict", "predict_proba",
                  "predict_log_proba", "score", "score_samples", "free_energy",
                  "reconstruct", "decision_function"}


def _output_check(est, method, data, width, rest=()):
    """Documented output of ``method`` on ``data`` (``width``: number of
    columns of 2-D outputs that are not features, from the valid call;
    ``rest``: the call's other arguments, e.g. ``y`` of ``score``)."""
    n, finite = data.n, data.finite

    def check(out):
        if method == "score":
            if not np.isscalar(out) and np.ndim(out) != 0:
                return f"score returned {type(out).__name__}, not a number"
            # R^2 of fewer than two samples is undefined: scikit-learn's own
            # regressors return NaN with a warning, so it is not garbage.
            if finite and not np.isfinite(out) and not (is_regressor(est) and n < 2):
                return f"score {out} for finite input"
            return None
        if method in _ROW_OUTPUT:
            shape = (n,) if not (method == "predict" and width) else (n,) + width
        elif method in _FEATURE_OUTPUT:
            shape = (n, est.n_features_in_)
        else:  # transform, predict_proba, predict_log_proba
            out2 = np.asarray(out.toarray() if sp.issparse(out) else out)
            if out2.ndim != 2 or out2.shape[0] != n:
                return f"output shape {out2.shape}, expected ({n}, k)"
            shape = (n, width[0]) if width else None
        problem = _array_problem(out, shape, finite)
        if problem:
            return problem
        out = np.asarray(out)
        if method == "predict" and is_classifier(est) and n:
            if not np.isin(out, est.classes_).all():
                return "predict returned labels not in classes_"
        if method == "predict_proba" and n and finite:
            if out.min() < 0 or out.max() > 1 or not np.allclose(out.sum(axis=1), 1):
                return "predict_proba rows are not distributions"
        if method == "predict_log_proba" and n and finite and out.max() > 0:
            return "predict_log_proba above 0"
        if data.sparse and method in _DETERMINISTIC:
            try:
                ref = getattr(est, method)(data.dense, *rest)
            except Exception as exc:
                return f"sparse accepted but dense refused ({type(exc).__name__})"
            ref = np.asarray(ref)
            if ref.dtype.kind in "fc":
                same = out.shape == ref.shape and np.allclose(out, ref, rtol=1e-5, atol=1e-6,
                                                               equal_nan=True)
            else:
                same = np.array_equal(out, ref)
            if not same:
                return "sparse input gives another result than the same data dense"
        return None

    return check


# ------------------------------------------------------------- estimators

def _labels(rng, n, classifier):
    if classifier:
        y = np.arange(n) % 2
        rng.shuffle(y)
        return y
    return rng.random(n)


def _fit_args(name, est):
    """Whether fit takes labels, and whether they are class labels."""
    if is_classifier(est) or name == "DBN":
        return True, True
    if is_regressor(est):
        return True, False
    return False, False


def _range_refused(est, X, y):
    """Whether fit refuses data outside [0, 1] (then the methods that
    evaluate the same loss must too)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            clone(est).fit(3 * X - 1, y)
        except ValueError as exc:
            return "[0, 1]" in str(exc)
        except Exception:
            return False
    return False


# Models of probabilities (Bernoulli visible units): data outside [0, 1] is
# outside the model, so every method refuses it as fit does (issue 11,
# item 8). Elsewhere a range check in fit comes from a cross-entropy loss:
# then only the methods that evaluate that loss must refuse such data;
# encoding or decoding it is well defined (borderline decision).
_BERNOULLI_VISIBLE = {"BernoulliRBM", "DBN", "Stack", "ConvolutionalRBM", "ConvolutionalDBN"}
# Estimators of images, which take 3-D arrays (a batch of one-channel
# images) as well as 2-D rows.
_IMAGE_INPUT = {"ConvolutionalRBM", "ConvolutionalDBN"}
_LOSS_METHODS = {"fit", "partial_fit", "score", "score_samples"}

_METHODS = ("transform", "inverse_transform", "predict", "predict_proba", "predict_log_proba",
            "score", "score_samples", "reconstruct", "free_energy", "log_likelihood", "gibbs",
            "decision_function")


def fuzz_estimator(name, tmp_path):
    seed = zlib.crc32(name.encode())
    rng = np.random.default_rng(seed)
    base = _make(name)
    cls = type(base)
    fz = Fuzzer(name, seed, _source(cls))
    params = list(base.get_params(deep=False))
    supervised, classifier = _fit_args(name, base)
    nan_ok = base.__sklearn_tags__().input_tags.allow_nan
    n, d = 13, 5
    X = rng.random((n, d))
    y = _labels(rng, n, classifier) if supervised else None
    # models of probabilities must refuse such data whatever fit does now
    range_bad = name in _BERNOULLI_VISIBLE or _range_refused(base, X, y)

    def bad_for(data, method="fit"):
        """Why this estimator must refuse ``data`` (None: it may accept it)."""
        if data.bad == "ndim" and name in _IMAGE_INPUT and np.ndim(data.X) == 3 \
                and method == "fit":
            return None
        if data.bad == "range" and not (range_bad and (
                name in _BERNOULLI_VISIBLE or method in _LOSS_METHODS)):
            return None
        if data.bad == "nan" and nan_ok:
            return None
        return data.bad

    def fit(est, data, yy, how="fit", tag=""):
        args = (data.X,) if yy is None else (data.X, yy)
        desc = f"{_repr(est)}.{how}(X {data.desc} {_desc(data.X)}{tag})"
        bad = bad_for(data)
        if bad == "width" and how == "fit":
            bad = None  # fit starts afresh: any width is fine
        # Data in [0, 1] refused for being outside [0, 1] (e.g. a deeper
        # layer's codes checked as if they were the user's data) misleads.
        in_range = data.bad is None and _within_unit_interval(data.X)
        return fz.call(desc, getattr(est, how), *args, owner=est, params=params, bad=bad,
                       misleading=("values in [0, 1]",) if in_range else (),
                       training=True, check=lambda r: (
                           "fit did not return self" if r is not est else _state_problem(est)))

    # --- calls before fit
    fresh = clone(base)
    for method in ("transform", "predict", "score", "inverse_transform", "sample"):
        if hasattr(fresh, method):
            args = (X,) if method != "score" else ((X, y) if supervised else (X,))
            if method == "sample":
                args = ()
            fz.call(f"{name}.{method} before fit", getattr(fresh, method), *args, owner=fresh,
                    params=params, bad="unfitted")

    # --- fit on hostile inputs (fresh estimator each time)
    for data in _variants(rng, X, fit=True):
        yy = None
        if supervised:
            yy = _labels(rng, data.n, classifier) if data.n is not None else y
            if classifier and data.n and data.n > 1:
                yy[:2] = [0, 1]
        est = clone(base)
        fitted = fit(est, data, yy)
        if fitted is not None and data.desc != "valid" and data.bad is None:
            _use(fz, name, est, data, rng, y, supervised, classifier, bad_for, params,
                 full=False)

    # --- random valid inputs: shapes, dtypes, memory layouts, degenerate values
    for _ in range(_N_RANDOM):
        data = _random_valid(rng)
        yy = None
        if supervised:
            yy = _labels(rng, data.n, classifier)
            if classifier and data.n > 1:
                yy[:2] = [0, 1]
        est = clone(base)
        if fit(est, data, yy) is not None:
            _use(fz, name, est, data, rng, yy, supervised, classifier, bad_for, params,
                 full=False, tag=f" [fitted on {data.desc}]")

    # --- labels are optional (DBN): a model fitted without them
    if supervised and inspect.signature(base.fit).parameters["y"].default is None:
        est = clone(base)
        if fit(est, Data(X, "valid"), None, tag=", no labels") is not None:
            _use(fz, name, est, Data(X, "valid"), rng, y, supervised, classifier, bad_for,
                 params, full=False, tag=" [fitted without labels]")
            if hasattr(est, "sample"):
                fz.call(f"{name}.sample(2, labels=[0, 1]) fitted without labels", est.sample, 2,
                        n_steps=2, labels=[0, 1], random_state=0, owner=est,
                        params=params + ["labels"], bad="labels", mention=("label",))

    # --- bad targets
    if supervised:
        for yy, what, bad in [
            (y[:-3], "y 3 shorter", "y length"),
            (np.r_[y, y[:3]], "y 3 longer", "y length"),
            (y[:, None], "y as a column", None),
            (np.c_[y, y], "y with 2 columns", None if not classifier else "2-D y"),
            (np.where(np.arange(n) == 4, np.nan, y), "y with a NaN", "nan y"),
            (np.where(np.arange(n) == 4, np.inf, y.astype(float)), "y with an inf", "inf y"),
            (np.zeros(n, dtype=int), "y with one class", None),
            (np.array(["a", "b"])[np.arange(n) % 2], "y strings", None if classifier else "str y"),
            (y + 0.5 if classifier else y, "y continuous" if classifier else "y valid again",
             "continuous y" if classifier else None),
        ]:
            est = clone(base)
            desc = f"{_repr(est)}.fit(X float64 {X.shape}, {what})"

            def check_fit(r, est=est, yy=yy):
                if r is not est:
                    return "fit did not return self"
                problem = _state_problem(est)
                if problem:
                    return problem
                pred = np.asarray(est.predict(X))
                target_width = np.shape(yy)[1:] if not classifier else ()
                if pred.shape not in ((n,) + tuple(target_width), (n,)) or (
                        pred.shape == (n,) and target_width not in ((), (1,))):
                    return f"predict shape {pred.shape} for y of shape {np.shape(yy)}"
                if pred.dtype.kind in "fc" and not np.all(np.isfinite(pred)):
                    return "non-finite predictions"
                return None

            fz.call(desc, est.fit, X, yy, owner=est, params=params, bad=bad, training=True,
                    check=check_fit)

    # --- extreme hyperparameters
    for param, values in EXTREME.items():
        if param not in params:
            continue
        for value in values:
            est = clone(base).set_params(**{param: value})
            ok = fit(est, Data(X, "valid", bad=param if _invalid(param, value) else None), y,
                     tag=f" with {param}={value!r}")
            if ok is not None:
                _use(fz, name, est, Data(X, "valid"), rng, y, supervised, classifier,
                     bad_for, params, full=False, tag=f" [{param}={value!r}]")

    # --- every option of every categorical setting (method="pcd", loss=...),
    # each used, and continued with another dtype
    for param, option in _alternatives(base):
        est = clone(base).set_params(**{param: option})
        tag = f" [{param}={option!r}]"
        if fit(est, Data(X, "valid"), y, tag=tag) is None:
            continue
        _use(fz, name, est, Data(X, "valid"), rng, y, supervised, classifier, bad_for, params,
             full=False, tag=tag)
        _round_trip(fz, est, X, y, tmp_path / f"{name}-{param}.h5", params, tag)
        if hasattr(est, "partial_fit"):
            fit(copy.deepcopy(est), Data(X.astype(np.float32), "float32 after float64 fit"), y,
                how="partial_fit", tag=tag)

    # --- the main fitted model: every method on hostile inputs
    est = clone(base)
    if fit(est, Data(X, "valid"), y, tag=" [main]") is None:
        fz.record("crash", f"{_repr(est)}.fit(valid X)",
                  "valid data refused: the methods of a fitted model could not be fuzzed")
        return fz
    _use(fz, name, est, Data(X, "valid"), rng, y, supervised, classifier, bad_for, params,
         full=True)

    # --- targets of score and partial_fit on the fitted model
    if supervised:
        y_nan = np.where(np.arange(n) == 2, np.nan, y)
        for yy, what, bad in [(y[:-3], "y 3 shorter", "y length"),
                              (y_nan, "y with a NaN", "nan y"),
                              (np.c_[y, y], "y with 2 columns", "2-D y" if classifier else None)]:
            fz.call(f"{name}.score(X float64 {X.shape}, {what})", est.score, X, yy, owner=est,
                    params=params, bad=bad, check=_output_check(est, "score", Data(X, "v"), None))
    if classifier and hasattr(est, "partial_fit"):
        for classes, what, bad in [(None, "without classes", None),
                                   ([0], "classes=[0] missing a label of y", "classes")]:
            fresh = clone(base)
            fz.call(f"{_repr(fresh)}.partial_fit(X, y, {what}) as first call", fresh.partial_fit,
                    X, y, classes=classes, owner=fresh, params=params + ["classes"], bad=bad,
                    training=True, check=lambda r, fresh=fresh: _state_problem(fresh))
        copied = copy.deepcopy(est)
        fz.call(f"{name}.partial_fit(X, y with a label never seen) after fit", copied.partial_fit,
                X, np.where(np.arange(n) == 0, 7, y), owner=copied, params=params + ["classes"],
                bad="unseen label", training=True)

    # --- call orders on the fitted model
    if hasattr(est, "partial_fit"):
        for data in [Data(X.astype(np.float32), "float32 after float64 fit"),
                     Data(X, "valid again")] + _variants(rng, X, fit=False)[1:]:
            yy = None
            if supervised:
                yy = _labels(rng, data.n, classifier) if data.n is not None else y
            # a copy each time, so that one failure does not cascade
            fit(copy.deepcopy(est), data, yy, how="partial_fit")
        est32 = clone(base)
        if fit(est32, Data(X.astype(np.float32), "float32"), y) is not None:
            fit(est32, Data(X, "float64 after float32 fit"), y, how="partial_fit")
            fit(est32, Data(rng.random((n, d + 1)), "one more feature after fit", bad="width"), y,
                how="partial_fit")
        ro = clone(base)
        if fit(ro, Data(X, "valid"), y, tag=" [read-only arrays]") is not None:
            for v in _learned(ro).values():
                if isinstance(v, np.ndarray):
                    v.flags.writeable = False
            fit(ro, Data(X, "valid"), y, how="partial_fit", tag=" on read-only learned arrays")
    # --- save / load round trip of fitted models
    _round_trip(fz, est, X, y, tmp_path / f"{name}.h5", params)
    est32 = clone(base)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            est32.fit(X.astype(np.float32), y)
        except Exception:
            est32 = None
    if est32 is not None:
        _round_trip(fz, est32, X.astype(np.float32), y, tmp_path / f"{name}32.h5", params)
    fz.call(f"save/load of an unfitted {name}",
            lambda: load(_saved(clone(base), tmp_path / "fresh.h5")), params=params,
            check=lambda r: None if _same(r.get_params(deep=False).keys(),
                                          base.get_params(deep=False).keys())
            else "loaded parameters differ")

    # refit with another width, then use with the old width
    if fit(est, Data(rng.random((n, d + 2)), "refit with 2 more features"), y) is not None:
        fz.call(f"{name}.transform(X with the old width) after refit", _first_method(est),
                X, owner=est, params=params, bad="width",
                check=_output_check(est, "transform", Data(X, "old"), None))
    return fz


def _alternatives(est):
    """``(param, value)`` for every non-default option of the estimator's
    string and boolean settings."""
    defaults = est.get_params(deep=False)
    for param, constraints in getattr(type(est), "_parameter_constraints", {}).items():
        if param == "verbose" or param not in defaults:
            continue
        for c in constraints:
            if isinstance(c, StrOptions):
                options = sorted(c.options)
            elif c == "boolean" and isinstance(defaults[param], bool):
                options = [not defaults[param]]
            else:
                continue
            for option in options:
                if option != defaults[param]:
                    yield param, option


def _first_method(est):
    for m in ("transform", "predict"):
        if hasattr(est, m):
            return getattr(est, m)


def _saved(est, path):
    save(est, path)
    return path


def _repr(est):
    name = type(est).__name__
    if name == "Stack":
        return "Stack([rbm: BernoulliRBM(3, n_iter=1), ae: Autoencoder(2, max_iter=2)])"
    params = est.get_params(deep=False)
    return f"{name}({', '.join(f'{k}={params[k]!r}' for k in SMALL[name])})"


def _use(fz, name, est, train, rng, y, supervised, classifier, bad_for, params, *, full,
         tag=""):
    """Every public method of a fitted ``est``, on the training input and
    (``full``) on hostile variants of it."""
    X = np.asarray(train.X if not train.sparse else train.dense, dtype=np.float64)
    if X.ndim != 2:
        return
    widths = {}
    variants = [Data(X, "valid")]
    if full:
        variants += _variants(rng, X, fit=False)[1:]
    for method in _METHODS:
        if not hasattr(est, method):
            continue
        fn = getattr(est, method)
        for data in variants:
            inp = data
            if method == "inverse_transform":
                inp = _codes(est, data, widths)
                if inp is None:
                    continue
            args = (inp.X,)
            if method == "score" and supervised:
                args = (inp.X, _labels(rng, inp.n, classifier) if inp.n is not None else y)
            bad = bad_for(inp, method)
            if method == "inverse_transform" and inp.bad == "range":
                bad = None  # codes of any real value may be decoded
            desc = f"{name}.{method}(X {inp.desc} {_desc(inp.X)}){tag}"
            out = fz.call(desc, fn, *args, owner=est, params=params, bad=bad,
                          check=_output_check(est, method, inp, widths.get(method), args[1:]))
            if out is not None and data.desc == "valid" and method != "score":
                widths[method] = np.shape(out)[1:]
    _rbm_functions(fz, name, est, X, rng, params, full, tag)
    _sampling(fz, name, est, rng, params, full, tag)


def _codes(est, data, widths):
    """Hostile inputs of inverse_transform: codes of the fitted width."""
    k = widths.get("transform")
    if not k:
        return None
    k = k[0]
    n = 7
    rng = np.random.default_rng(k)
    H = rng.random((n, k))
    if data.desc == "valid":
        return Data(H, "valid codes")
    if data.desc == "0 rows":
        return Data(H[:0], "0 codes")
    if data.desc == "1 row":
        return Data(H[:1], "1 code")
    if data.bad == "nan":
        Hn, how = _nonfinite(rng, H)
        return Data(Hn, "codes with " + how, bad="nan", finite=False)
    if data.bad == "width":
        return Data(rng.random((n, k + 1)), "codes one too wide", bad="width")
    if data.bad == "ndim":
        return Data(H[0], "codes 1-D", bad="ndim")
    if data.bad == "complex":
        return Data(H + 1j, "complex codes", bad="complex")
    if data.sparse:
        Hs = sp.csr_matrix(np.where(H > 0.5, H, 0))
        return Data(Hs, "csr codes", sparse=True, dense=Hs.toarray())
    if data.bad == "range":
        return Data(3 * H - 1, "codes in [-1, 2]", bad="range")
    return None


def _rbm_functions(fz, name, est, X, rng, params, full, tag):
    if not hasattr(est, "log_partition"):
        return
    finite_float = lambda r: None if np.isfinite(r) else f"log_partition {r}"  # noqa: E731
    fz.call(f"{name}.log_partition('exact'){tag}", est.log_partition, owner=est, params=params,
            check=finite_float)
    fz.call(f"{name}.log_partition('ais', n_runs=5, betas=linspace(0,1,20)){tag}",
            est.log_partition, "ais", n_runs=5, betas=np.linspace(0, 1, 20), random_state=0,
            owner=est, params=params,
            check=lambda r: None if (len(r) == 2 and np.isfinite(r[0])) else f"ais gave {r}")
    if not full:
        return
    cases = [
        (("ais",), dict(n_runs=0), "n_runs=0", "n_runs"),
        (("ais",), dict(n_runs=-1), "n_runs=-1", "n_runs"),
        (("ais",), dict(n_runs=2.5), "n_runs=2.5", "n_runs"),
        (("ais",), dict(n_runs=5, betas=[0.5, 0.2, 1.0]), "decreasing betas", "betas"),
        (("ais",), dict(n_runs=5, betas=[0.0, np.nan, 1.0]), "NaN in betas", "betas"),
        (("ais",), dict(n_runs=5, betas=[]), "empty betas", "betas"),
        (("ais",), dict(n_runs=5, betas=np.linspace(0, 1, 20), base_rate=np.ones(3)),
         "base_rate of wrong length", "base_rate"),
        (("ais",), dict(n_runs=5, betas=np.linspace(0, 1, 20),
                        base_rate=np.full(X.shape[1], 2.0)), "base_rate above 1", "base_rate"),
        (("nope",), {}, "method='nope'", "method"),
        ((None,), {}, "method=None", "method"),
    ]
    for args, kwargs, what, bad in cases:
        if bad == "base_rate" and name == "GaussianBernoulliRBM":
            bad = None  # documented: Gaussian visible units ignore base_rate
        fz.call(f"{name}.log_partition({what}){tag}", est.log_partition, *args, owner=est,
                params=params + ["n_runs", "betas", "base_rate", "method"], bad=bad,
                mention=(bad,) if bad else (), **kwargs)
    fz.call(f"{name}.log_likelihood(X, 'ais', n_runs=5, betas=20 steps){tag}",
            est.log_likelihood, X, "ais", n_runs=5, betas=np.linspace(0, 1, 20), random_state=0,
            owner=est, params=params, check=_output_check(est, "log_likelihood",
                                                          Data(X, "v"), None))
    fz.call(f"{name}.log_likelihood(X, n_runs=0 with 'exact'){tag}", est.log_likelihood, X,
            "exact", n_runs=0, owner=est, params=params + ["n_runs", "method", "kwargs"],
            check=_output_check(est, "log_likelihood", Data(X, "v"), None))


def _sampling(fz, name, est, rng, params, full, tag):
    if not hasattr(est, "sample"):
        return
    d = est.n_features_in_
    kw = dict(n_steps=3) if "n_steps" in inspect.signature(est.sample).parameters else {}
    args_ok = [(2, kw, None)]
    if full:
        args_ok += [(0, kw, None), (-1, kw, "n_samples"), (2.5, kw, "n_samples"),
                    (True, kw, "n_samples"), (2, dict(n_steps=-1), "n_steps"),
                    (2, dict(n_steps=0), None), ("3", kw, "n_samples")]
        if name == "DBN" and getattr(est, "classes_", None) is not None:
            args_ok += [(2, dict(kw, labels=[0, 1]), None),
                        (2, dict(kw, labels=[7, 7]), "labels"),
                        (2, dict(kw, labels=[0]), "labels")]
    for n_samples, kwargs, bad in args_ok:
        rows = n_samples if isinstance(n_samples, int) and not isinstance(n_samples, bool) else 0
        expected = Data(np.zeros((max(rows, 0), d)), "samples")
        fz.call(f"{name}.sample({n_samples!r}, {kwargs}){tag}", est.sample, n_samples,
                random_state=0, owner=est, params=params + ["n_samples", "n_steps", "labels"],
                bad=bad, mention=(bad,) if bad else (),
                check=_output_check(est, "gibbs", expected, None), **kwargs)


def _round_trip(fz, est, X, y, path, params, tag=""):
    def check(loaded):
        if type(loaded) is not type(est):
            return f"loaded a {type(loaded).__name__}"
        compared = 0
        for method in sorted(_DETERMINISTIC - {"score"}):
            if hasattr(est, method) and method != "inverse_transform":
                try:
                    a = getattr(est, method)(X)
                except Exception:
                    continue  # not available on this model (e.g. predict without labels)
                b = getattr(loaded, method)(X)
                if not _same(np.asarray(a), np.asarray(b)):
                    return f"{method} differs after the round trip"
                compared += 1
        return None if compared else "no output method to compare worked on the saved model"

    what = f"a fitted {type(est).__name__} ({X.dtype}){tag}"
    loaded = fz.call(f"save/load round trip of {what}", lambda: load(_saved(est, path)),
                     owner=est, params=params, check=check)
    if loaded is not None and hasattr(loaded, "partial_fit"):
        # the optimiser state is not saved: training must resume from the file
        fz.call(f"partial_fit on the reloaded {what}", loaded.partial_fit, X,
                *(() if y is None else (y,)), owner=loaded, params=params, training=True,
                check=lambda r: "partial_fit did not return self" if r is not loaded
                else _state_problem(loaded))


def _estimator_names():
    return [name for name, _ in all_estimators()]


# -------------------------------------------------------------- functions

def fuzz_sparse_encode(tmp_path):
    seed = zlib.crc32(b"sparse_encode")
    rng = np.random.default_rng(seed)
    fz = Fuzzer("sparse_encode", seed, _source(sparse_encode))
    params = ["X", "dictionary", "alpha", "solver", "positive", "init", "tol", "max_iter",
              "n_nonzero_coefs", "atom", "n_components", "n_features", "sample"]
    n, d, k = 9, 6, 4
    X = rng.standard_normal((n, d))
    D = rng.standard_normal((k, d))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    for solver in ("feature_sign", "cd", "fista", "omp"):
        kw = dict(solver=solver)
        if solver == "omp":
            kw["n_nonzero_coefs"] = 2
        check = _codes_check(n, k)
        fz.call(f"sparse_encode(valid, solver={solver})", sparse_encode, X, D, 0.1,
                check=check, params=params, **kw)
        for data in _variants(rng, X, fit=False)[1:]:
            bad = data.bad if data.bad != "range" else None
            if data.bad == "width":
                bad = "width"
            fz.call(f"sparse_encode(X {data.desc} {_desc(data.X)}, solver={solver})",
                    sparse_encode, data.X, D, 0.1, params=params, bad=bad,
                    check=_codes_check(data.n, k, data.finite), **kw)
        Dn, how = _nonfinite(rng, D)
        others = [
            ((X, D[:0], 0.1), {}, "dictionary with 0 atoms", "atoms"),
            ((X, D[:, :-1], 0.1), {}, "dictionary of another width", "width"),
            ((X, Dn, 0.1), {}, f"dictionary with {how}", "nan"),
            ((X, D[0], 0.1), {}, "1-D dictionary", "ndim"),
            ((X, D, -1.0), {}, "alpha=-1", "alpha"),
            ((X, D, np.nan), {}, "alpha=NaN", "alpha"),
            ((X, D, 1e30), {}, "alpha=1e30", None),
            ((X, D, 0.1), dict(max_iter=0), "max_iter=0", "max_iter"),
            ((X, D, 0.1), dict(max_iter=-1), "max_iter=-1", "max_iter"),
            ((X, D, 0.1), dict(tol=-1.0), "tol=-1", "tol"),
            ((X, D, 0.1), dict(init=np.zeros((n, k + 1))), "init of wrong width", "init"),
            ((X, D, 0.1), dict(init=np.full((n, k), np.nan)), "NaN init", "init"),
            ((X, D, 0.1), dict(solver="nope"), "solver='nope'", "solver"),
            ((X, D.astype(np.float32), 0.1), {}, "float32 dictionary, float64 X", None),
            ((X.astype(np.float32), D, 0.1), {}, "float32 X, float64 dictionary", None),
            ((X, 1000 * D, 0.1), {}, "unnormalised dictionary", None),
            ((X, np.zeros_like(D), 0.1), {}, "all-zero dictionary", None),
        ]
        if solver == "omp":
            others += [((X, D, 0.1), dict(n_nonzero_coefs=0), "n_nonzero_coefs=0",
                        "n_nonzero_coefs"),
                       ((X, D, 0.1), dict(n_nonzero_coefs=k + 5), "n_nonzero_coefs > atoms",
                        None),
                       ((X, D, 0.1), dict(positive=True), "positive with omp", "positive")]
        for args, extra, what, bad in others:
            call_kw = {**kw, **extra}
            n_atoms = args[1].shape[0] if np.ndim(args[1]) == 2 else k
            fz.call(f"sparse_encode({what}, solver={solver})", sparse_encode, *args,
                    params=params, bad=bad, mention=_MENTION.get(bad, ()),
                    check=_codes_check(n, n_atoms), **call_kw)
    return fz


# What an error about an argument must name, so the caller knows which one
# to fix (e.g. issue 11: "sparse_encode with 0 atoms says '0 sample(s)'").
_MENTION = {
    "atoms": ("atom", "dictionary", "n_components"), "alpha": ("alpha",),
    "max_iter": ("max_iter",), "tol": ("tol",), "init": ("init",), "solver": ("solver",),
    "n_nonzero_coefs": ("n_nonzero_coefs",), "positive": ("positive",),
    "method": ("method",), "level": ("level",), "key": ("key",), "kind": ("kind",),
}


def _codes_check(n, k, finite=True):
    return lambda out: _array_problem(out, (n, k) if n is not None else None, finite)


def fuzz_update_dictionary(tmp_path):
    seed = zlib.crc32(b"update_dictionary")
    rng = np.random.default_rng(seed)
    fz = Fuzzer("update_dictionary", seed, _source(update_dictionary))
    params = ["dictionary", "A", "B", "method", "max_iter", "tol", "n_components", "n_features"]
    k, d, n = 4, 6, 20
    S = rng.standard_normal((n, k))
    X = rng.standard_normal((n, d))
    D = rng.standard_normal((k, d))
    A, B = S.T @ S, S.T @ X

    def norms_ok(out):
        problem = _array_problem(out, (k, d), True)
        if problem:
            return problem
        if np.linalg.norm(out, axis=1).max() > 1 + 1e-6:
            return "an atom's norm exceeds 1"
        return None

    for method in ("bcd", "lagrange_dual"):
        An, how = _nonfinite(rng, A)
        cases = [
            ((D, A, B), {}, "valid", None),
            ((D, np.zeros_like(A), np.zeros_like(B)), {}, "unused atoms", None),
            ((D, A, B[:, :-1]), {}, "B of another width", "width"),
            ((D, A[:-1, :-1], B), {}, "A of another size", "shape"),
            ((D[:, :-1], A, B), {}, "dictionary of another width", "width"),
            ((D, An, B), {}, f"A with {how}", "nan"),
            ((D, A, B * np.nan), {}, "NaN B", "nan"),
            ((D, -A, B), {}, "negative definite A", None if method == "bcd" else "A"),
            ((D, A, B), dict(max_iter=0), "max_iter=0", "max_iter"),
            ((D, A, B), dict(max_iter=-1), "max_iter=-1", "max_iter"),
            ((D, A, B), dict(tol=-1.0), "tol=-1", "tol"),
            ((D[0], A, B), {}, "1-D dictionary", "ndim"),
            ((D.astype(np.float32), A, B), {}, "float32 dictionary", None),
            ((D, A.astype(np.int64), B), {}, "int A", None),
            ((D, sp.csr_matrix(A), B), {}, "sparse A", "sparse"),
            ((D + 0j, A, B), {}, "complex dictionary", "complex"),
            ((D[:0], A[:0, :0], B[:0]), {}, "0 atoms", "atoms"),
        ]
        for args, extra, what, bad in cases:
            if bad == "A":
                bad = None  # not documented either way; must be finite if it returns
            check = norms_ok if args[0].shape == D.shape and what not in (
                "negative definite A",) else (lambda out: _array_problem(out, None, True))
            if what == "unused atoms":
                check = lambda out: None if _same(out, D) else "unused atoms changed"  # noqa
            fz.call(f"update_dictionary({what}, method={method})", update_dictionary, *args,
                    method=method, params=params, bad=bad, check=check,
                    mention=_MENTION.get(bad, ()), **extra)
    fz.call("update_dictionary(method='nope')", update_dictionary, D, A, B, method="nope",
            params=params, bad="method")
    return fz


def fuzz_corrupt(tmp_path):
    seed = zlib.crc32(b"corrupt")
    rng = np.random.default_rng(seed)
    fz = Fuzzer("corrupt", seed, _source(corrupt))
    params = ["X", "kind", "level", "key"]
    X = rng.random((7, 5))
    for kind in ("masking", "gaussian", "salt_and_pepper"):
        def check(out, X=X):
            return _array_problem(out, X.shape, True)

        cases = [
            ((X,), {}, "valid", None),
            ((X.astype(np.float32),), {}, "float32", None),
            ((X[:0],), {}, "0 rows", None),
            ((X[0],), {}, "1-D", None),
            ((X[None],), {}, "3-D", None),
            ((np.asfortranarray(X),), {}, "Fortran order", None),
            ((X[:, ::2],), {}, "non-contiguous view", None),
            (((X > 0.5).astype(np.int64),), {}, "int", None),
            ((X > 0.5,), {}, "bool", None),
            ((X.tolist(),), {}, "list", None),
            ((sp.csr_matrix(X),), {}, "csr", "sparse"),
            ((X + 0j,), {}, "complex", "complex"),
        ]
        # the input checks are the same for every kind: once is enough
        for args, extra, what, bad in cases if kind == "masking" else cases[:1]:
            data = args[0]
            shape = np.shape(data) if not sp.issparse(data) else data.shape
            # The docstring asks for a C-contiguous ndarray; a demanding user
            # still expects any array-like to work or to be refused clearly,
            # never to be read in the wrong order (borderline: corrupt is
            # the denoising autoencoders' helper, public by its docstring).
            fz.call(f"corrupt(X {what}, {kind!r}, 0.25, key=1)", corrupt, *args, kind, 0.25, 1,
                    params=params, bad=bad,
                    check=lambda out, shape=shape, data=data: _array_problem(out, shape, True)
                    or _corrupt_problem(out, data, kind))
        for level, bad in [(-0.1, "level"), (1.5, "level" if kind != "gaussian" else None),
                           (np.nan, "level"), (0.0, None), (1.0, None)]:
            fz.call(f"corrupt(X, {kind!r}, level={level})", corrupt, X, kind, level, 1,
                    params=params, bad=bad, check=check, mention=_MENTION.get(bad, ()))
        for key, bad in [(-1, "key"), (2 ** 70, "key"), (1.5, "key"), ("a", "key")]:
            fz.call(f"corrupt(X, {kind!r}, 0.25, key={key!r})", corrupt, X, kind, 0.25, key,
                    params=params, bad=bad, check=check, mention=_MENTION.get(bad, ()))
    fz.call("corrupt(X, 'nope', 0.25, 1)", corrupt, X, "nope", 0.25, 1, params=params,
            bad="kind")
    return fz


def _corrupt_problem(out, X, kind):
    """Masking and salt-and-pepper keep or replace entries, never move them."""
    if kind == "gaussian":
        return None
    X = np.asarray(X, dtype=float)
    out = np.asarray(out, dtype=float)
    kept = out == X
    replaced = (out == 0) | ((out == 1) & (kind == "salt_and_pepper"))
    if not np.all(kept | replaced):
        return "corrupted entries are neither kept nor replaced (read in the wrong order?)"
    return None


def fuzz_extract_natural_patches(tmp_path):
    seed = zlib.crc32(b"extract_natural_patches")
    fz = Fuzzer("extract_natural_patches", seed, _source(extract_natural_patches))
    params = ["n_patches", "patch_size", "whiten", "dtype", "random_state"]
    cases = [
        ((5, 4), {}, None, (5, 16)),
        ((0, 4), {}, None, (0, 16)),
        ((-1, 4), {}, "n_patches", None),
        ((True, 4), {}, "n_patches", None),
        ((2.5, 4), {}, "n_patches", None),
        (("3", 4), {}, "n_patches", None),
        ((np.int64(3), 4), {}, None, (3, 16)),
        ((3, 0), {}, "patch_size", None),
        ((3, -2), {}, "patch_size", None),
        ((3, 1000), {}, "patch_size", None),
        ((3, 4.5), {}, "patch_size", None),
        ((3, 4), dict(dtype=np.int64), "dtype", None),
        ((3, 4), dict(dtype="float32"), None, (3, 16)),
        ((3, 4), dict(whiten=False), None, (3, 16)),
        ((3, 4), dict(random_state=-1), "random_state", None),
    ]
    for args, kwargs, bad, shape in cases:
        kwargs = {"random_state": 0, **kwargs}
        fz.call(f"extract_natural_patches{args!r} {kwargs}", extract_natural_patches, *args,
                params=params, bad=bad, mention=(bad,) if bad else (),
                check=lambda out, shape=shape: _array_problem(out, shape, True), **kwargs)
    return fz


def fuzz_backprop_core(tmp_path):
    """The public helpers of deepzoo.networks: init_weights, dropout,
    max_norm."""
    seed = zlib.crc32(b"backprop core")
    rng = np.random.default_rng(seed)
    fz = Fuzzer("init_weights/dropout/max_norm", seed,
                f"{_source(init_weights)}, {_source(dropout)}")
    params = ["method", "fan_in", "fan_out", "rng", "dtype", "scale", "rate", "max_value",
              "axis", "X", "W"]

    def weights(shape, dtype=np.float64):
        def check(W):
            problem = _array_problem(W, shape, True)
            if problem:
                return problem
            return None if W.dtype == dtype else f"dtype {W.dtype}, expected {dtype}"
        return check

    state = np.random.RandomState(0)
    for method in ("small", "glorot", "xavier", "he", "sparse"):
        fz.call(f"init_weights({method!r}, 5, 3)", init_weights, method, 5, 3, state,
                params=params, check=weights((3, 5)))
    for args, kwargs, what, bad in [
        (("nope", 5, 3), {}, "method='nope'", "method"),
        (("he", 0, 3), {}, "fan_in=0", "fan_in"),
        (("glorot", -1, 3), {}, "fan_in=-1", "fan_in"),
        (("glorot", 5, 0), {}, "fan_out=0", "fan_out"),
        (("glorot", 2.5, 3), {}, "fan_in=2.5", "fan_in"),
        (("glorot", 5, 3), dict(dtype=np.int64), "dtype=int64", "dtype"),
        (("glorot", 5, 3), dict(scale=np.nan), "scale=nan", "scale"),
        (("glorot", 5, 3), dict(scale=np.inf), "scale=inf", "scale"),
    ]:
        # the argument's name or the refused value itself names the problem
        fz.call(f"init_weights{args!r} {kwargs}", init_weights, *args, state, params=params,
                bad=bad, mention=(bad, "'nope'"), check=weights((3, 5)), **kwargs)
    fz.call("init_weights('glorot', 5, 3, dtype=float32)", init_weights, "glorot", 5, 3, state,
            dtype=np.float32, params=params, check=weights((3, 5), np.float32))

    X = rng.random((6, 4))

    def dropped(X, rate):
        def check(result):
            Y, mask = result
            Xf = np.asarray(X, dtype=float)
            if np.shape(Y) != Xf.shape or np.shape(mask) != Xf.shape:
                return f"shapes {np.shape(Y)}, {np.shape(mask)} for X of shape {Xf.shape}"
            kept = 1 / (1 - rate)
            if not np.all((mask == 0) | np.isclose(mask, kept)):
                return "mask values other than 0 and 1 / (1 - rate)"
            return None if np.allclose(Y, Xf * mask) else "Y is not X * mask"
        return check

    for Xin, what in [(X, "valid"), (X.astype(np.float32), "float32"), (X[0], "1-D"),
                      (X[None], "3-D"), (X[:0], "0 rows"), (X.tolist(), "list")]:
        fz.call(f"dropout(X {what}, 0.5)", dropout, Xin, 0.5, state, params=params,
                check=dropped(Xin, 0.5))
    for rate, bad in [(0.0, None), (1.0, "rate"), (-0.1, "rate"), (np.nan, "rate"),
                      (1.5, "rate")]:
        fz.call(f"dropout(X, rate={rate})", dropout, X, rate, state, params=params, bad=bad,
                mention=(bad,) if bad else (), check=dropped(X, rate))

    W = rng.standard_normal((3, 4)) * 5

    def limited(W0, max_value, axis=1):
        def check(out):
            out = np.asarray(out, dtype=float)
            if out.shape != np.shape(W0):
                return f"shape {out.shape}"
            if not np.all(np.isfinite(out)):
                return "non-finite weights"
            norms = np.linalg.norm(out, axis=axis)
            if np.any(norms > max_value * (1 + 1e-6) + 1e-12):
                return "a weight vector still exceeds max_value"
            return None
        return check

    for W0, max_value, kwargs, what, bad in [
        (W, 1.0, {}, "valid", None),
        (W, 1.0, dict(axis=0), "axis=0", None),
        (np.zeros((3, 4)), 1.0, {}, "all-zero W", None),
        (W, 0.0, {}, "max_value=0", None),
        (W, -1.0, {}, "max_value=-1", "max_value"),
        (W, np.nan, {}, "max_value=nan", "max_value"),
        (W, 1.0, dict(axis=2), "axis=2", "axis"),
        ((W * 3).astype(np.int64), 1.0, {}, "int W", None),
        (W.astype(np.float32), 1.0, {}, "float32 W", None),
    ]:
        fz.call(f"max_norm(W {what}, {max_value})", max_norm, W0.copy(), max_value, **kwargs,
                params=params, bad=bad, mention=(bad,) if bad else (),
                check=limited(W0, max_value, kwargs.get("axis", 1)))
    return fz


def fuzz_io_load(tmp_path):
    """Damaged files: truncated, bytes flipped, a block zeroed, not HDF5.

    Every damaged file must be refused with a ``ValueError`` naming the
    file, or (a change that touches nothing the model is made of) load as
    a model identical to the saved one; never load changed weights.
    """
    seed = zlib.crc32(b"deepzoo.io.load")
    rng = np.random.default_rng(seed)
    fz = Fuzzer("deepzoo.io.load", seed, _source(load))
    X = rng.random((13, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 2 epochs, on purpose
        models = {"BernoulliRBM": _make("BernoulliRBM").fit(X), "Stack": _make("Stack").fit(X)}
    for name, model in models.items():
        path = tmp_path / f"{name}.h5"
        save(model, path)
        data = path.read_bytes()
        reference = model.transform(X)
        params = [str(tmp_path / f"{name}-damaged.h5")]

        def identical(loaded, model=model, reference=reference):
            if type(loaded) is not type(model):
                return f"a damaged file loaded as a {type(loaded).__name__}"
            if not _same(_learned(loaded), _learned(model)):
                return "a damaged file loaded with changed learned attributes"
            if not _same(loaded.transform(X), reference):
                return "a damaged file loaded with changed outputs"
            return None

        damages = [(b"", "empty file"), (b"not an HDF5 file\n" * 40, "a text file")]
        for cut in sorted(rng.choice(len(data), 6, replace=False)):
            damages.append((data[:cut], f"truncated to {cut} of {len(data)} bytes"))
        for pos in sorted(rng.choice(len(data), 12, replace=False)):
            flipped = bytearray(data)
            flipped[pos] ^= 1 << int(rng.integers(8))
            damages.append((bytes(flipped), f"one bit flipped at byte {pos}"))
        start = int(rng.integers(len(data) - 512))
        damages.append((data[:start] + bytes(512) + data[start + 512:],
                        f"512 bytes zeroed at {start}"))
        for damaged, what in damages:
            target = tmp_path / f"{name}-damaged.h5"
            target.write_bytes(damaged)
            fz.call(f"load({name} file, {what})", load, target, params=params,
                    mention=(target.name,), check=identical)
    return fz


_FUNCTIONS = {
    "sparse_encode": fuzz_sparse_encode,
    "update_dictionary": fuzz_update_dictionary,
    "corrupt": fuzz_corrupt,
    "extract_natural_patches": fuzz_extract_natural_patches,
    "deepzoo.io.load": fuzz_io_load,
    "backprop_core": fuzz_backprop_core,
}

# ------------------------------------------------------------------ tests

_RESULTS = {}


def _run(target, tmp_path_factory):
    if target not in _RESULTS:
        tmp = tmp_path_factory.mktemp(target)
        fuzz = _FUNCTIONS.get(target)
        _RESULTS[target] = fuzz(tmp) if fuzz else fuzz_estimator(target, tmp)
    return _RESULTS[target]


_TARGETS = _estimator_names() + list(_FUNCTIONS)


@pytest.mark.parametrize("target", _TARGETS)
def test_fuzz(target, tmp_path_factory):
    fz = _run(target, tmp_path_factory)
    print(fz.report())
    assert fz.counts["tried"] > 0
    assert not fz.failures, fz.report()


def test_fuzz_totals(tmp_path_factory, capsys):
    totals = Counter()
    for target in _TARGETS:
        totals.update(_run(target, tmp_path_factory).counts)
    with capsys.disabled():
        print("\nfuzz totals: " + ", ".join(
            f"{label}={totals[key]}" for key, label in [
                ("tried", "inputs tried"), ("ok", "ok"), ("clear", "clear errors"),
                ("crash", "crashes"), ("garbage", "garbage"), ("lost", "data lost")]))
    assert (totals["crash"], totals["garbage"], totals["lost"]) == (0, 0, 0), dict(totals)
