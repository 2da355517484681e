"""Save and load estimators as HDF5 files, with no pickle inside.

A file holds data only, and loading one never runs code named by the file:

- :func:`load` verifies the header and a SHA-256 of the whole content
  before libhdf5 reads a byte, so a damaged file (flipped bits, truncated,
  a zeroed block) raises ``ValueError`` instead of loading changed weights
  or reaching the HDF5 parser;
- it then reads the whole file into plain data and checks it before it
  builds any object: every class must be on an allowlist (the estimators of
  ``deepzoo.utils.all_estimators`` and ``sklearn.utils.discovery.
  all_estimators``, looked up by the path the file records; no module is
  imported by a name read from the file); parameters and learned attributes
  must be numbers, strings, None, lists, tuples, dicts, slices, numeric,
  boolean, string and object arrays (and masked ones) of these, numpy
  ufuncs named by their numpy name (looked up only among the ``np.ufunc``
  objects of the ``numpy`` namespace, never imported or reached through
  attributes), or nested allow-listed estimators; HDF5 links, external or virtual storage, filters
  and other data types, which can make libhdf5 read other files or load
  plugins, are refused; every learned attribute the writer listed must be
  present, and the learned float arrays of deepzoo estimators must be
  finite (training records, names ending ``_curve_``, ``_error_`` or
  ``_scores_``, may hold inf). Anything else raises ``ValueError`` naming
  the place inside the file;
- it warns (:class:`VersionWarning`) when the file was written with another
  major.minor version of scikit-learn or numpy, or a newer deepzoo;
- only then is each estimator built, by calling its class with the stored
  parameters and setting the stored learned attributes.

The checksum detects damage, not forgery: anyone can write a file with a
valid checksum, which is why the allowlist exists. Such a file still
reaches libhdf5's parser, whose own defects the checks cannot stop: a
forged file can make libhdf5 loop forever on open, though not run code
through deepzoo.

``load(path, trusted=True)`` also imports estimator classes that are not
on the allowlist (your own subclasses) by the module path the file
records. That runs the code of the module and of the class, so it is
unsafe with a file you did not write yourself.

Layout of a file (``FORMAT_VERSION`` 2)::

    bytes 0-511            header (the HDF5 user block): the ASCII lines
                               deepzoo-estimator
                               format_version 2
                               sha256 <hex digest of bytes 512 to the end>
                           then NUL bytes up to 512
    bytes 512-             an HDF5 file:
    /                      attrs: format, format_version, and the versions of
                                  deepzoo, numpy, scipy, scikit-learn, h5py and
                                  HDF5 that wrote it (<name>_version), and the
                                  root estimator's attrs below
    estimator group        attrs: class, params (JSON of the data parameters of
                                  get_params(deep=False); a tuple is
                                  {"__tuple__": [...]}, a numpy ufunc
                                  {"__numpy_ufunc__": "log1p"}), learned (JSON list of
                                  the learned attribute names), rebuilt (JSON
                                  list of learned attributes that load rebuilds
                                  from the parameters, if any)
    <estimator>/params/<name>
                           one entry per parameter that holds an estimator
                           (nested estimators, recursively the same layout)
    <estimator>/attributes/<name>
                           one entry per learned attribute (name ends with "_"):
                           dataset for a numeric, boolean or string array,
                           attribute for a scalar, string or None, ordered group
                           (attrs kind, keys; entries 0, 1, ...) for a list,
                           tuple, dict or object array (attr shape), group for
                           a slice (start, stop, step) or masked array (data,
                           mask), group (kind numpy_ufunc, attr name) for a
                           numpy ufunc, group with the estimator layout for a
                           fitted estimator

``docs/file-format.md`` describes the layout for readers that use h5py only.

Learned attributes are the instance attributes whose names end with "_" and
do not start with "_"; private state is not saved, so an estimator that
keeps fitted state only in private attributes does not round trip.

Files of format version 1 (no header, no ``learned`` list) are still read,
with the same checks but no checksum; saving them again adds one.
"""

import functools
import hashlib
import importlib
import inspect
import io
import json
import numbers
import os
import re
import sys
import warnings

import h5py
import numpy as np
from sklearn.base import BaseEstimator

from .utils._files import write_atomic
from .utils.streaming import RowStream

__all__ = ["save", "load", "transform_to_hdf5", "FORMAT_VERSION", "VersionWarning"]

FORMAT = "deepzoo-estimator"
FORMAT_VERSION = 2
_HEADER_SIZE = 512
_HEADER_START = f"{FORMAT}\nformat_version ".encode("ascii")
_HEADER = re.compile(
    rb"deepzoo-estimator\nformat_version (\d+)\nsha256 ([0-9a-f]{64})\n\0*\Z"
)
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NONE = "__none__"
# A numpy ufunc among JSON parameters: {"__numpy_ufunc__": "log1p"}.
_UFUNC = "__numpy_ufunc__"
_GROUP_KINDS = (
    "estimator",
    "list",
    "tuple",
    "dict",
    "object_array",
    "slice",
    "masked_array",
    "numpy_ufunc",
)
# Training records (loss curves, reconstruction errors) may hold inf: an
# epoch is recorded before divergence is refused. Learned parameters may not.
_RECORD_SUFFIXES = ("_curve_", "_error_", "_scores_")


class VersionWarning(UserWarning):
    """A loaded file was written by versions that may build a different model.

    Raised by :func:`load` when the file's scikit-learn or numpy version
    differs from the running one in its major or minor number (their
    estimators' learned attributes change between such versions), or when
    its deepzoo version is newer than the running one.
    """


def save(estimator, path):
    """Write ``estimator`` (fitted or not) to the HDF5 file ``path``.

    The file is built in memory, written to a temporary neighbour, flushed
    to disk and renamed into place, so an interrupted save (an exception, a
    killed process, a power cut) leaves any earlier file at ``path`` intact.
    The file's permissions follow the umask, as for any file you create.
    Temporary files left by a killed save of the same ``path`` are removed
    by the next save.

    Parameters
    ----------
    estimator : BaseEstimator
        A deepzoo or scikit-learn estimator whose parameters are data
        (numbers, strings, None, lists, dicts, estimators, numpy ufuncs
        such as ``np.log1p``, stored by name). Any other function, and a
        scipy.stats distribution, cannot be stored, because loading it
        would run code.
    path : str or os.PathLike
        Destination file.

    Raises
    ------
    TypeError
        If a parameter or learned attribute cannot be stored as data.
    ValueError
        If a learned parameter of a deepzoo estimator is NaN or infinite.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from deepzoo.io import save, load
    >>> path = os.path.join(tempfile.mkdtemp(), "scaler.h5")
    >>> save(MinMaxScaler().fit([[0.0], [2.0]]), path)
    >>> load(path).transform([[1.0]])
    array([[0.5]])
    """
    if not isinstance(estimator, BaseEstimator):
        raise TypeError(
            f"deepzoo.io.save expects a scikit-learn estimator; got "
            f"{type(estimator).__name__}."
        )
    path = os.fspath(path)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", userblock_size=_HEADER_SIZE) as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        for name, version in _versions().items():
            f.attrs[f"{name}_version"] = version
        _write_estimator(f, estimator)
    data = buffer.getbuffer()
    digest = hashlib.sha256(data[_HEADER_SIZE:]).hexdigest()
    data[:_HEADER_SIZE] = _header(digest)
    write_atomic(path, data)


def load(path, *, trusted=False):
    """Read an estimator written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike
    trusted : bool, default=False
        Also import estimator classes that are not on the allowlist, by the
        module path the file records. Unsafe: importing a module and
        building its class run that code. Use it only for files you wrote
        yourself from your own estimator classes.

    Returns
    -------
    estimator : BaseEstimator

    Raises
    ------
    ValueError
        If the file is not HDF5, not a deepzoo file, written by a newer
        format version, damaged, or names anything but data and
        allow-listed estimator classes. Nothing is built before the whole
        file has been checked.
    FileNotFoundError, IsADirectoryError, PermissionError
        As the operating system reports them for ``path``.

    Warns
    -----
    VersionWarning
        If the file was written with another major.minor version of
        scikit-learn or numpy, or a newer deepzoo, than the running ones.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        spec, versions = _parse(data, trusted)
        _warn_versions(path, versions)
        return _build(spec)
    except ValueError as exc:
        raise ValueError(f"{path!r}: {exc}") from None


def transform_to_hdf5(estimator, X, group, name, *, method="transform"):
    """Write ``estimator.transform(X)`` into an HDF5 dataset a chunk at a time.

    For data too large for memory: each chunk of rows of ``X`` (see
    :mod:`deepzoo.utils.streaming`) is read, transformed and written before
    the next is read, so memory holds one chunk and its output. The result
    is itself a streamed input: the next model can ``fit`` on it.

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)
        An ``h5py.Dataset``, a ``numpy.memmap``, an array...
    group : h5py.File or h5py.Group
        Open for writing.
    name : str
        Name of the new dataset in ``group``.
    method : str, default="transform"
        The estimator's row-wise method to apply (``"predict_proba"``,
        ``"score_samples"``...).

    Returns
    -------
    h5py.Dataset
        The new dataset, of shape ``(n_samples, n_outputs)`` (or
        ``(n_samples,)`` for one value per row).

    Raises
    ------
    ValueError
        If ``name`` exists in ``group``, or a chunk of ``X`` is invalid (the
        message names its rows). A failed call removes the partial dataset.

    Examples
    --------
    >>> import h5py, numpy as np
    >>> from deepzoo import BernoulliRBM
    >>> from deepzoo.io import transform_to_hdf5
    >>> X = np.random.default_rng(0).random((50, 6))
    >>> rbm = BernoulliRBM(n_components=3, n_iter=2, random_state=0).fit(X)
    >>> with h5py.File("codes.h5", "w", driver="core", backing_store=False) as f:
    ...     transform_to_hdf5(rbm, X, f, "codes").shape
    (50, 3)
    """
    if name in group:
        raise ValueError(f"transform_to_hdf5: {name!r} already exists in {group.name!r}; "
                         "delete it or choose another name.")
    stream = RowStream(X, "transform_to_hdf5", None)
    apply = getattr(estimator, method)
    out = None
    try:
        for i in range(stream.n_chunks):
            result = np.asarray(apply(stream.read(i)))
            if out is None:
                out = group.create_dataset(
                    name, shape=(stream.n_samples,) + result.shape[1:], dtype=result.dtype,
                    chunks=(min(stream.chunk_rows, stream.n_samples),) + result.shape[1:])
            start, stop = stream.bounds(i)
            out[start:stop] = result
    except BaseException:
        if name in group:
            del group[name]
        raise
    if out is None:
        raise ValueError("transform_to_hdf5: X has 0 samples.")
    return out


def _versions():
    import scipy
    import sklearn

    import deepzoo

    return {
        "deepzoo": deepzoo.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
    }


def _release(version):
    """``(major, minor, ...)`` of a version string, or None if it has none."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in match[0].split(".")) if match else None


def _warn_versions(path, stored):
    running = _versions()
    differences = []
    for name, label in (("sklearn", "scikit-learn"), ("numpy", "numpy")):
        old, new = _release(stored.get(name, "")), _release(running[name])
        if old is not None and old[:2] != new[:2]:
            differences.append(f"{label} {stored[name]} (running {running[name]})")
    old, new = _release(stored.get("deepzoo", "")), _release(running["deepzoo"])
    if old is not None and old > new:
        differences.append(f"deepzoo {stored['deepzoo']} (running {running['deepzoo']})")
    if differences:
        warnings.warn(
            f"{path!r} was written with {', '.join(differences)}. Estimators can "
            "change their learned attributes between such versions, so the loaded "
            "model may fail or predict differently: check it on data with known "
            "answers, or install the versions it was written with, or refit and "
            "save it with the running ones.",
            VersionWarning,
            stacklevel=3,
        )


def _header(digest):
    text = f"{FORMAT}\nformat_version {FORMAT_VERSION}\nsha256 {digest}\n"
    return text.encode("ascii").ljust(_HEADER_SIZE, b"\0")


# -- writing -----------------------------------------------------------------


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_class_path(cls):
    """Prefer the public import path (``deepzoo.BernoulliRBM``) when it works."""
    top = cls.__module__.split(".")[0]
    module = importlib.import_module(top)
    if getattr(module, cls.__qualname__, None) is cls:
        return f"{top}.{cls.__qualname__}"
    return _class_path(cls)


def _learned_attributes(estimator):
    for name, value in vars(estimator).items():
        if name.endswith("_") and not name.startswith("_"):
            yield name, value


def _rebuilt_attributes(estimator):
    # A search's scorer_ holds the functions that fit derives from its
    # `scoring` parameter, which the file stores as data: load rebuilds it.
    if hasattr(estimator, "_get_scorers") and hasattr(estimator, "scorer_"):
        return ["scorer_"]
    return []


def _rebuild_scorer(search):
    try:
        scorers, _ = search._get_scorers()
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"scorer_ of {type(search).__name__} cannot be rebuilt from "
            f"scoring={search.scoring!r}: {exc}"
        ) from exc
    search.scorer_ = scorers._scorers if search.multimetric_ else scorers


_REBUILDERS = {"scorer_": _rebuild_scorer}


def _is_deepzoo(cls):
    return cls.__module__.split(".")[0] == "deepzoo"


def _write_estimator(group, estimator):
    cls = type(estimator)
    group.attrs["class"] = _public_class_path(cls)
    plain = {}
    nested = group.create_group("params")
    for name, value in estimator.get_params(deep=False).items():
        if isinstance(value, BaseEstimator) or _holds_estimator(value):
            _write_value(nested, name, value)
        else:
            plain[name] = _jsonable(cls.__name__, name, value)
    group.attrs["params"] = json.dumps(plain)
    rebuilt = _rebuilt_attributes(estimator)
    learned = {
        name: value
        for name, value in _learned_attributes(estimator)
        if name not in rebuilt
    }
    if _is_deepzoo(cls):
        bad = _nonfinite_attribute(learned)
        if bad is not None:
            raise ValueError(
                f"cannot save {cls.__name__}: its learned attribute {bad} holds NaN "
                "or infinite values (training diverged), and such a file would "
                "be refused on load. Refit it, e.g. with a smaller learning_rate."
            )
    group.attrs["learned"] = json.dumps(list(learned))
    if rebuilt:
        group.attrs["rebuilt"] = json.dumps(rebuilt)
    attributes = group.create_group("attributes")
    for name, value in learned.items():
        _write_value(attributes, name, value)


def _holds_estimator(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, BaseEstimator) or _holds_estimator(v) for v in value)
    return False


def _jsonable(owner, name, value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple)):
        return {"__tuple__": [_jsonable(owner, name, v) for v in value]} if isinstance(
            value, tuple
        ) else [_jsonable(owner, name, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(owner, name, v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.random.RandomState):
        raise TypeError(
            f"{owner} parameter {name}={value!r} cannot be saved to HDF5: pass an "
            "integer random_state instead of a RandomState."
        )
    if _ufunc_name(value) is not None:
        return {_UFUNC: _ufunc_name(value)}
    if _is_distribution(value):
        raise _distribution_error(f"{owner} parameter {name}", value)
    if callable(value):
        raise TypeError(
            f"{owner} parameter {name}={value!r} is a function, which cannot be "
            "saved: a deepzoo file holds data only, so that loading it never runs "
            "code, and only numpy's own ufuncs (np.log1p, np.sqrt...) are stored, "
            "by name. Apply the function to the data before the model, or use a "
            "scikit-learn estimator that does the same step (e.g. StandardScaler, "
            "PowerTransformer), or a string where the parameter accepts one."
        )
    raise TypeError(
        f"{owner} parameter {name}={value!r} cannot be saved to HDF5; only "
        "numbers, strings, None, lists, dicts and estimators can (e.g. an "
        "integer cv instead of a splitter object)."
    )


@functools.lru_cache(maxsize=None)
def _numpy_ufuncs():
    """numpy's ufuncs by the names numpy exports them under: the only
    functions a file can name."""
    return {name: f for name, f in vars(np).items() if isinstance(f, np.ufunc)}


def _ufunc_name(value):
    """The name numpy exports ufunc ``value`` under, or None (scipy.special's
    ufuncs are ``np.ufunc`` too, but not numpy's)."""
    name = getattr(value, "__name__", None) if isinstance(value, np.ufunc) else None
    return name if _numpy_ufuncs().get(name) is value else None


def _ufunc(name, where):
    ufunc = _numpy_ufuncs().get(name) if isinstance(name, str) else None
    if ufunc is None:
        raise ValueError(
            f"{where}: {name!r} is not a numpy ufunc; a file can name no other "
            "function."
        )
    return ufunc


def _is_distribution(value):
    # scipy.stats distributions (frozen or not) and anything sampled like them.
    return hasattr(value, "rvs") and not isinstance(value, (list, tuple, dict))


def _distribution_error(where, value):
    return TypeError(
        f"{where} holds {value!r}, a distribution, which cannot be saved: a "
        "deepzoo file holds data only, and a distribution is an object whose "
        "sampling code loading would have to run. Give the values to try as a "
        "list instead, e.g. param_distributions={'C': [0.01, 0.1, 1, 10]} "
        "(RandomizedSearchCV samples lists uniformly), or save the fitted "
        "search's best_estimator_."
    )


def _unjson(value, where):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unjson(v, where) for v in value["__tuple__"])
        if set(value) == {_UFUNC}:
            return _ufunc(value[_UFUNC], where)
        return {k: _unjson(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_unjson(v, where) for v in value]
    return value


def _write_value(parent, name, value):
    if isinstance(value, BaseEstimator):
        g = parent.create_group(name)
        g.attrs["kind"] = "estimator"
        _write_estimator(g, value)
    elif isinstance(value, np.ma.MaskedArray):
        # The mask says which grid points of a search had this parameter.
        g = parent.create_group(name)
        g.attrs["kind"] = "masked_array"
        _write_value(g, "data", value.filled())
        g.create_dataset("mask", data=np.ma.getmaskarray(value))
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        parent.create_dataset(name, data=value)
    elif isinstance(value, np.ndarray) and value.dtype.kind == "O" and not all(
        isinstance(v, str) for v in value.flat
    ):
        # Mixed items (None among numbers, estimators in a search's grid):
        # one entry each, as a list.
        _write_value(parent, name, list(value.flat))
        parent[name].attrs["kind"] = "object_array"
        parent[name].attrs["shape"] = json.dumps(value.shape)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "OU":
        ds = parent.create_dataset(
            name, data=value.astype(str).astype(object), dtype=h5py.string_dtype()
        )
        ds.attrs["kind"] = "str_array" if value.dtype.kind == "O" else "unicode_array"
    elif isinstance(value, (list, tuple, dict)):
        g = parent.create_group(name)
        g.attrs["kind"] = type(value).__name__
        items = value.items() if isinstance(value, dict) else enumerate(value)
        keys = []
        for i, (key, item) in enumerate(items):
            keys.append(str(key))
            _write_value(g, str(i), item)
        g.attrs["keys"] = json.dumps(keys)
    elif isinstance(value, slice):
        g = parent.create_group(name)
        g.attrs["kind"] = "slice"
        for part in ("start", "stop", "step"):
            _write_value(g, part, getattr(value, part))
    elif _ufunc_name(value) is not None:
        # e.g. best_params_ of a search over FunctionTransformer(func=...)
        g = parent.create_group(name)
        g.attrs["kind"] = "numpy_ufunc"
        g.attrs["name"] = _ufunc_name(value)
    elif value is None:
        parent.attrs[name] = _NONE
    elif isinstance(value, (numbers.Number, np.generic, str, bool)):
        parent.attrs[name] = value
    elif _is_distribution(value):
        raise _distribution_error(_join(parent.name, name), value)
    else:
        raise TypeError(
            f"{_join(parent.name, name)}: a value of type {type(value).__name__} "
            "cannot be saved to HDF5; only numbers, strings, None, arrays, lists, "
            "tuples, dicts, slices and estimators can."
        )


def _nonfinite_attribute(attributes):
    """Name of the first learned parameter holding NaN or inf, else None."""
    for name, value in attributes.items():
        if name.endswith(_RECORD_SUFFIXES):
            continue
        for array in _float_arrays(value):
            if not np.isfinite(array).all():
                return name
    return None


def _float_arrays(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _float_arrays(item)


# -- reading: check everything, build nothing ----------------------------------


class _Estimator:
    """A checked estimator read from a file, not yet built."""

    def __init__(self, cls, params, attributes, rebuilt):
        self.cls, self.params = cls, params
        self.attributes, self.rebuilt = attributes, rebuilt


class _ObjectArray:
    """A checked object array read from a file; its items may be estimators."""

    def __init__(self, items, shape):
        self.items, self.shape, self.mask = items, shape, None


def _parse(data, trusted):
    """Check ``data`` whole; return it as plain values and ``_Estimator``, and
    the versions of deepzoo, numpy and scikit-learn that wrote it."""
    version = _check_header(data)
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            _check_root(f, version)
            versions = {
                name: _read_attr(f, f"{name}_version")
                for name in ("deepzoo", "numpy", "sklearn")
                if f"{name}_version" in f.attrs
            }
            versions = {k: v for k, v in versions.items() if isinstance(v, str)}
            return _Reader(trusted, version).estimator(f), versions
    except ValueError:
        raise
    except Exception as exc:
        # Only a headerless (version 1) file reaches libhdf5 unverified; its
        # errors (OSError, KeyError, RuntimeError...) all mean damage.
        raise ValueError(f"damaged: {type(exc).__name__}: {exc}") from exc


def _check_header(data):
    """Return the format version, after checking the checksum if any."""
    if data.startswith(_HEADER_START):
        version = re.match(rb"\d+", data[len(_HEADER_START) :])
        if version is not None and int(version[0]) > FORMAT_VERSION:
            raise ValueError(
                f"format version {int(version[0])} is newer than this deepzoo "
                f"reads (up to {FORMAT_VERSION}). Upgrade deepzoo to load it."
            )
        match = _HEADER.match(data[:_HEADER_SIZE])
        if match is None or int(match[1]) < 2 or len(data) < _HEADER_SIZE + 8:
            raise ValueError(
                "damaged: its deepzoo header (the first 512 bytes) is malformed "
                "or the file is truncated."
            )
        if hashlib.sha256(data[_HEADER_SIZE:]).hexdigest() != match[2].decode():
            raise ValueError(
                "damaged: checksum mismatch (its content is not what was saved: "
                "truncated, altered or corrupted). Restore it from a copy or save "
                "the model again."
            )
        if not data[_HEADER_SIZE:].startswith(_HDF5_SIGNATURE):
            raise ValueError("damaged: no HDF5 data after the deepzoo header.")
        return int(match[1])
    if data.startswith(_HDF5_SIGNATURE):
        return 1
    if data[_HEADER_SIZE:].startswith(_HDF5_SIGNATURE):
        raise ValueError(
            "HDF5 data without a deepzoo header in its first 512 bytes: the "
            "header is damaged, or this is an HDF5 file not written by "
            "deepzoo.io.save."
        )
    raise ValueError(
        "not a readable HDF5 file: neither a deepzoo header nor HDF5 data; it "
        "may be damaged or not written by deepzoo.io.save."
    )


def _check_root(f, version):
    if "format" not in f.attrs or _read_attr(f, "format") != FORMAT:
        raise ValueError(
            "an HDF5 file but not a deepzoo estimator file (no 'format' "
            "attribute equal to 'deepzoo-estimator')."
        )
    stored = _read_attr(f, "format_version") if "format_version" in f.attrs else None
    if not isinstance(stored, int):
        raise ValueError(f"damaged: format_version is {stored!r}, not an integer.")
    if stored > FORMAT_VERSION:
        raise ValueError(
            f"format version {stored}, written by deepzoo "
            f"{f.attrs.get('deepzoo_version')}; this deepzoo reads up to version "
            f"{FORMAT_VERSION}. Upgrade deepzoo to load it."
        )
    if stored != version:
        raise ValueError(
            f"damaged: format_version {stored} does not match its layout "
            f"(version {version})."
        )


def _read_attr(group, name):
    """A scalar number, string or None stored as an HDF5 attribute."""
    attr = group.attrs.get_id(name)
    is_string = h5py.check_string_dtype(attr.dtype) is not None
    if attr.shape != () or not (is_string or attr.dtype.kind in "biufc"):
        raise ValueError(
            f"{_join(group.name, name)}: attribute of type {attr.dtype} and shape "
            f"{attr.shape} refused; only scalar numbers and strings are read."
        )
    value = group.attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        return None if value == _NONE else value
    # Keep Python scalars as Python scalars (n_iter_ stays an int); numpy
    # scalars saved on purpose (e.g. np.float32) keep a non-default width.
    return value.item() if value.dtype in (np.int64, np.float64, np.bool_) else value


def _join(group_name, name):
    return f"{group_name.rstrip('/')}/{name}"


def _damaged(where, what):
    return ValueError(f"{where}: {what} (the file is damaged).")


def _json_attr(group, name, expected):
    if name not in group.attrs:
        raise _damaged(group.name, f"no {name!r} attribute")
    text = _read_attr(group, name)
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (json.JSONDecodeError, RecursionError):
        value = None
    if not isinstance(value, expected):
        raise _damaged(_join(group.name, name), "not valid JSON")
    return value


@functools.lru_cache(maxsize=None)
def _allowlist(package):
    """Every loadable class of ``package`` ("deepzoo" or "sklearn") by each
    path it can be imported from.

    One table per package: scikit-learn's list imports every scikit-learn
    module (about two seconds), which a file of deepzoo models never needs.
    """
    if package == "deepzoo":
        from deepzoo.utils.discovery import all_estimators
    else:
        from sklearn.utils.discovery import all_estimators

    table = {}
    for _, cls in all_estimators():
        # The defining module (sklearn.pipeline.Pipeline) and the public
        # packages that re-export the class (deepzoo.BernoulliRBM).
        parts = cls.__module__.split(".")
        for i in range(1, len(parts) + 1):
            module = sys.modules.get(".".join(parts[:i]))
            if getattr(module, cls.__qualname__, None) is cls:
                table[f"{module.__name__}.{cls.__qualname__}"] = cls
    return table


def _estimator_class(path, node, trusted):
    package = path.partition(".")[0]
    cls = _allowlist(package).get(path) if package in ("deepzoo", "sklearn") else None
    if cls is not None:
        return cls
    if not trusted:
        raise ValueError(
            f"{node}: class {path!r} is not a loadable estimator: only deepzoo "
            "and scikit-learn estimators are rebuilt, and nothing was built. If "
            "you saved this file yourself from your own estimator class, "
            "load(path, trusted=True) imports it, which runs its code: never "
            "do that with a file from someone else."
        )
    module_name, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except Exception as exc:
        raise ValueError(f"{node}: class {path!r} cannot be imported ({exc}).") from exc
    if not (inspect.isclass(cls) and issubclass(cls, BaseEstimator)):
        raise ValueError(f"{node}: {path!r} is not an estimator class.")
    return cls


def _check_parameters(cls, params, where):
    """Refuse parameters the constructor would reject (unknown or missing)."""
    signature = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    unknown = set(params) - {p.name for p in signature}
    missing = {p.name for p in signature if p.default is p.empty} - set(params)
    if unknown or missing:
        raise ValueError(
            f"{where}: {sorted(unknown or missing)} "
            f"{'are not parameters' if unknown else 'are required parameters'} of "
            f"{_class_path(cls)}."
        )


def _check_attribute_names(cls, attributes, where):
    """Refuse names that are not learned attributes (methods, properties...)."""
    for name in attributes:
        if (
            not name.isidentifier()
            or not name.endswith("_")
            or name.startswith("_")
            or hasattr(inspect.getattr_static(cls, name, None), "__get__")
        ):
            raise ValueError(
                f"{_join(where, name)}: not a learned attribute name of "
                f"{_class_path(cls)}."
            )


def _check_rebuilt(cls, params, attributes, rebuilt, where):
    """Only a search's scorer_, from a scoring given by name(s), is rebuilt."""
    scoring = params.get("scoring")
    names = list(scoring.values()) if isinstance(scoring, dict) else scoring
    names = [names] if names is None or isinstance(names, str) else names
    if not (
        set(rebuilt) <= set(_REBUILDERS)
        and hasattr(cls, "_get_scorers")
        and isinstance(attributes.get("multimetric_"), bool)
        and isinstance(names, (list, tuple))
        and all(n is None or isinstance(n, str) for n in names)
    ):
        raise ValueError(f"{where}: cannot rebuild {rebuilt} for {_class_path(cls)}.")


class _Reader:
    """Reads one file into plain values, refusing anything but data."""

    def __init__(self, trusted, version):
        self.trusted, self.version = trusted, version
        self.seen = set()

    def estimator(self, group):
        node = group.name
        path = _read_attr(group, "class") if "class" in group.attrs else None
        if not isinstance(path, str):
            raise _damaged(node, "no 'class' attribute")
        cls = _estimator_class(path, node, self.trusted)
        params = _unjson(_json_attr(group, "params", dict), _join(node, "params"))
        params.update(self.members(self.child(group, "params", h5py.Group)))
        _check_parameters(cls, params, _join(node, "params"))
        attributes = self.members(self.child(group, "attributes", h5py.Group))
        _check_attribute_names(cls, attributes, _join(node, "attributes"))
        rebuilt = []
        if self.version >= 2:
            listed = _json_attr(group, "learned", list)
            if set(attributes) != set(listed):
                missing = sorted(set(map(str, listed)) - set(attributes))
                extra = sorted(set(attributes) - set(listed))
                raise _damaged(
                    _join(node, "attributes"),
                    f"learned attribute(s) {missing} missing"
                    if missing
                    else f"learned attribute(s) {extra} not listed by the writer",
                )
            if "rebuilt" in group.attrs:
                rebuilt = _json_attr(group, "rebuilt", list)
                _check_rebuilt(cls, params, attributes, rebuilt, node)
        if _is_deepzoo(cls):
            bad = _nonfinite_attribute(attributes)
            if bad is not None:
                raise ValueError(
                    f"{_join(node, 'attributes/' + bad)}: learned parameters hold "
                    "NaN or infinite values; the file is damaged or was crafted."
                )
        return _Estimator(cls, params, attributes, rebuilt)

    def child(self, group, name, kind):
        """``group[name]``, refusing links and objects reached twice."""
        where = _join(group.name, name)
        link = group.get(name, getlink=True)
        if link is None:
            raise _damaged(where, "missing")
        if not isinstance(link, h5py.HardLink):
            raise ValueError(
                f"{where}: {type(link).__name__} refused; a deepzoo file holds no "
                "links (they can point into other files)."
            )
        node = group[name]
        if not isinstance(node, kind):
            raise _damaged(where, f"not an HDF5 {kind.__name__}")
        if node.id in self.seen:
            raise ValueError(f"{where}: the same HDF5 object is linked twice.")
        self.seen.add(node.id)
        return node

    def members(self, group, metadata=()):
        """Every value stored in ``group``, as attributes and children."""
        names = [n for n in group.attrs if n not in metadata]
        children = list(group)
        if set(names) & set(children):
            raise _damaged(group.name, "stores a name twice")
        values = {name: _read_attr(group, name) for name in names}
        for name in children:
            node = self.child(group, name, (h5py.Group, h5py.Dataset))
            values[name] = self.value(node)
        return values

    def value(self, node):
        if isinstance(node, h5py.Dataset):
            return self.dataset(node)
        kind = _read_attr(node, "kind") if "kind" in node.attrs else None
        if kind not in _GROUP_KINDS:
            raise ValueError(f"{node.name}: unknown kind {kind!r}.")
        if kind == "estimator":
            return self.estimator(node)
        if kind == "masked_array":
            parts = self.members(node, metadata=("kind",))
            data, mask = parts.get("data"), parts.get("mask")
            if (
                set(parts) != {"data", "mask"}
                or not isinstance(data, (np.ndarray, _ObjectArray))
                or not isinstance(mask, np.ndarray)
                or mask.dtype != bool
                or mask.shape != data.shape
            ):
                raise _damaged(node.name, "not a masked array")
            if isinstance(data, _ObjectArray):
                data.mask = mask
                return data
            return np.ma.MaskedArray(data, mask=mask)
        if kind == "numpy_ufunc":
            parts = self.members(node, metadata=("kind",))
            if set(parts) != {"name"}:
                raise _damaged(node.name, "not a numpy ufunc")
            return _ufunc(parts["name"], node.name)
        if kind == "slice":
            parts = self.members(node, metadata=("kind",))
            if set(parts) != {"start", "stop", "step"} or not all(
                v is None or isinstance(v, int) for v in parts.values()
            ):
                raise _damaged(node.name, "not a slice")
            return slice(parts["start"], parts["stop"], parts["step"])
        keys = _json_attr(node, "keys", list)
        metadata = ("kind", "keys") + (("shape",) if kind == "object_array" else ())
        items = self.members(node, metadata=metadata)
        if set(items) != {str(i) for i in range(len(keys))} or not all(
            isinstance(k, str) for k in keys
        ):
            raise _damaged(node.name, "does not match its keys")
        items = [items[str(i)] for i in range(len(keys))]
        if kind == "object_array":
            shape = _json_attr(node, "shape", list)
            if not all(isinstance(n, int) and n >= 0 for n in shape) or np.prod(
                shape, dtype=object
            ) != len(items):
                raise _damaged(node.name, "wrong shape")
            return _ObjectArray(items, tuple(shape))
        if kind == "dict":
            return dict(zip(keys, items))
        return tuple(items) if kind == "tuple" else items

    def dataset(self, ds):
        where = ds.name
        plist = ds.id.get_create_plist()
        if ds.is_virtual or ds.external or plist.get_nfilters():
            raise ValueError(
                f"{where}: virtual, external or filtered storage refused; a "
                "deepzoo file stores its arrays plainly."
            )
        kind = _read_attr(ds, "kind") if "kind" in ds.attrs else None
        if set(ds.attrs) - {"kind"} or kind not in (None, "str_array", "unicode_array"):
            raise ValueError(f"{where}: unexpected attributes {sorted(ds.attrs)}.")
        is_string = h5py.check_string_dtype(ds.dtype) is not None
        if ds.shape is None or (is_string != (kind is not None)) or not (
            is_string or ds.dtype.kind in "biufc"
        ):
            raise ValueError(
                f"{where}: dataset of type {ds.dtype} refused; only numeric, "
                "boolean and string arrays are read."
            )
        if not is_string and ds.id.get_storage_size() < ds.nbytes:
            raise _damaged(where, "declares more data than it stores")
        if kind == "str_array":
            return ds.asstr()[()].astype(object)
        if kind == "unicode_array":
            return ds.asstr()[()].astype(str)
        return ds[()]


# -- building: only checked data reaches here ----------------------------------


def _build(value):
    if isinstance(value, _Estimator):
        estimator = value.cls(**{k: _build(v) for k, v in value.params.items()})
        for name, item in value.attributes.items():
            setattr(estimator, name, _build(item))
        for name in value.rebuilt:
            _REBUILDERS[name](estimator)
        return estimator
    if isinstance(value, _ObjectArray):
        array = np.empty(len(value.items), dtype=object)
        for i, item in enumerate(value.items):
            array[i] = _build(item)  # element-wise: a tuple item must not broadcast
        array = array.reshape(value.shape)
        if value.mask is not None:
            array = np.ma.MaskedArray(array, mask=value.mask)
        return array
    if isinstance(value, dict):
        return {k: _build(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_build(v) for v in value)
    return value
