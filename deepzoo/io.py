"""Save and load estimators as HDF5 files, with no pickle inside.

Layout of a file (``FORMAT_VERSION`` 1)::

    /                      attrs: format, format_version, deepzoo_version,
                                  class, params (JSON of get_params(deep=False))
    /params/<name>         group, one per parameter whose value is an estimator
                           (nested estimators, recursively the same layout)
    /attributes/<name>     one entry per learned attribute (name ends with "_"):
                           dataset for an array, attribute for a scalar, string
                           or None, ordered group for a list/tuple/dict, group
                           with the same layout for a fitted estimator

Only classes from ``deepzoo`` and ``sklearn`` are rebuilt, so loading a file
never imports arbitrary code.
"""

import importlib
import json
import numbers
import os
import tempfile

import h5py
import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT = "deepzoo-estimator"
FORMAT_VERSION = 1
_TRUSTED_PREFIXES = ("deepzoo.", "sklearn.")
_NONE = "__none__"


def save(estimator, path):
    """Write ``estimator`` (fitted or not) to the HDF5 file ``path``.

    The file is written to a temporary neighbour and renamed into place, so
    an interrupted save leaves any earlier file at ``path`` intact.

    Parameters
    ----------
    estimator : BaseEstimator
        A deepzoo or scikit-learn estimator.
    path : str or os.PathLike
        Destination file.

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
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".deepzoo-", suffix=".h5.tmp", dir=directory)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            import deepzoo

            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["deepzoo_version"] = deepzoo.__version__
            _write_estimator(f, estimator)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path):
    """Read an estimator written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator : BaseEstimator

    Raises
    ------
    ValueError
        If the file is not HDF5, not a deepzoo file, written by a newer
        format version, or damaged.
    """
    path = os.fspath(path)
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ValueError(
            f"{path!r} is not a readable HDF5 file ({exc}); it may be damaged "
            "or not written by deepzoo.io.save."
        ) from None
    with f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(
                f"{path!r} is an HDF5 file but not a deepzoo estimator file "
                "(no 'format' attribute equal to 'deepzoo-estimator')."
            )
        version = int(f.attrs.get("format_version", -1))
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path!r} uses format version {version}, written by deepzoo "
                f"{f.attrs.get('deepzoo_version')}; this deepzoo reads up to "
                f"version {FORMAT_VERSION}. Upgrade deepzoo to load it."
            )
        try:
            return _read_estimator(f)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path!r} is damaged: {exc!r}.") from None


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_class_path(cls):
    """Prefer the public import path (``deepzoo.BernoulliRBM``) when it works."""
    top = cls.__module__.split(".")[0]
    module = importlib.import_module(top)
    if getattr(module, cls.__qualname__, None) is cls:
        return f"{top}.{cls.__qualname__}"
    return _class_path(cls)


def _resolve_class(path):
    if not path.startswith(_TRUSTED_PREFIXES):
        raise ValueError(
            f"refusing to rebuild class {path!r}: only deepzoo and scikit-learn "
            "classes are loaded."
        )
    module_name, _, name = path.rpartition(".")
    obj = importlib.import_module(module_name)
    return getattr(obj, name)


def _learned_attributes(estimator):
    for name, value in vars(estimator).items():
        if name.endswith("_") and not name.startswith("_"):
            yield name, value


def _write_estimator(group, estimator):
    group.attrs["class"] = _public_class_path(type(estimator))
    params = estimator.get_params(deep=False)
    plain = {}
    nested = group.create_group("params")
    for name, value in params.items():
        if isinstance(value, BaseEstimator) or _holds_estimator(value):
            _write_value(nested, name, value)
        else:
            plain[name] = _jsonable(type(estimator).__name__, name, value)
    group.attrs["params"] = json.dumps(plain)
    learned = group.create_group("attributes")
    for name, value in _learned_attributes(estimator):
        _write_value(learned, name, value)


def _holds_estimator(value):
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
    raise TypeError(
        f"{owner} parameter {name}={value!r} cannot be saved to HDF5; only "
        "numbers, strings, None, lists and estimators can. Pass an integer "
        "random_state instead of a RandomState, a name instead of a callable."
    )


def _unjson(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unjson(v) for v in value["__tuple__"])
        return {k: _unjson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unjson(v) for v in value]
    return value


def _write_value(parent, name, value):
    if isinstance(value, BaseEstimator):
        g = parent.create_group(name)
        g.attrs["kind"] = "estimator"
        _write_estimator(g, value)
    elif isinstance(value, np.ndarray) and value.dtype != object:
        parent.create_dataset(name, data=value)
    elif isinstance(value, np.ndarray):
        if not all(isinstance(v, str) for v in value.ravel()):
            raise TypeError(f"cannot save object array {name!r} to HDF5.")
        ds = parent.create_dataset(
            name, data=value.astype(str).astype(object), dtype=h5py.string_dtype()
        )
        ds.attrs["kind"] = "str_array"
    elif isinstance(value, (list, tuple, dict)):
        g = parent.create_group(name)
        g.attrs["kind"] = type(value).__name__
        items = value.items() if isinstance(value, dict) else enumerate(value)
        keys = []
        for i, (key, item) in enumerate(items):
            keys.append(str(key))
            _write_value(g, str(i), item)
        g.attrs["keys"] = json.dumps(keys)
    elif value is None:
        parent.attrs[name] = _NONE
    elif isinstance(value, (numbers.Number, np.generic, str, bool)):
        parent.attrs[name] = value
    else:
        raise TypeError(
            f"learned attribute {name!r} of type {type(value).__name__} cannot be "
            "saved to HDF5."
        )


def _read_value(parent, name):
    if name in parent.attrs:
        value = parent.attrs[name]
        if isinstance(value, str) and value == _NONE:
            return None
        if isinstance(value, np.generic):
            # Keep Python scalars as Python scalars (n_iter_ stays an int).
            return value.item() if value.dtype.kind in "biuf" and _is_pyscalar(value) else value
        return value
    node = parent[name]
    if isinstance(node, h5py.Dataset):
        if node.attrs.get("kind") == "str_array":
            return node.asstr()[()].astype(object)
        return node[()]
    kind = node.attrs["kind"]
    if kind == "estimator":
        return _read_estimator(node)
    keys = json.loads(node.attrs["keys"])
    items = [_read_value(node, str(i)) for i in range(len(keys))]
    if kind == "dict":
        return dict(zip(keys, items))
    return tuple(items) if kind == "tuple" else items


def _is_pyscalar(value):
    # h5py returns numpy scalars for Python ints/floats/bools; numpy scalars
    # saved on purpose (e.g. np.float32) keep a non-default width.
    return value.dtype in (np.int64, np.float64, np.bool_)


def _read_estimator(group):
    cls = _resolve_class(group.attrs["class"])
    params = _unjson(json.loads(group.attrs["params"]))
    for name in group["params"]:
        params[name] = _read_value(group["params"], name)
    estimator = cls(**params)
    learned = group["attributes"]
    for name in list(learned.attrs) + list(learned):
        setattr(estimator, name, _read_value(learned, name))
    return estimator
