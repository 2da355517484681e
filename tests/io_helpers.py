"""Writing deepzoo estimator files by hand, as a damaged disk or a forger would.

The header is rebuilt here from the layout documented in ``deepzoo/io.py``
rather than by calling its private functions, so the tests also pin the
documented format.
"""

import hashlib
import json

import h5py

HEADER_SIZE = 512


def seal(path, version=2):
    """Write a header with a valid checksum over ``path``'s HDF5 content.

    Anyone can do this, which is why a valid checksum proves no intent.
    """
    data = path.read_bytes()
    digest = hashlib.sha256(data[HEADER_SIZE:]).hexdigest()
    header = f"deepzoo-estimator\nformat_version {version}\nsha256 {digest}\n"
    path.write_bytes(header.encode("ascii").ljust(HEADER_SIZE, b"\0") + data[HEADER_SIZE:])


def open_crafted(path, v1=False):
    """A new file in the current (sealed by :func:`seal`) or the version-1 layout."""
    f = h5py.File(path, "w", **({} if v1 else {"userblock_size": HEADER_SIZE}))
    f.attrs["format"] = "deepzoo-estimator"
    f.attrs["format_version"] = 1 if v1 else 2
    f.attrs["deepzoo_version"] = "0.1.0"
    return f


def estimator_group(group, class_path, params=None, learned=(), v1=False):
    """Give ``group`` the estimator layout; return its params and attributes groups."""
    group.attrs["class"] = class_path
    group.attrs["params"] = json.dumps(params or {})
    if not v1:
        group.attrs["learned"] = json.dumps(list(learned))
    return group.create_group("params"), group.create_group("attributes")


def nested_group(parent, name, class_path, params=None, learned=(), v1=False):
    """A nested estimator ``parent/name``; return its params and attributes groups."""
    group = parent.create_group(name)
    group.attrs["kind"] = "estimator"
    return estimator_group(group, class_path, params, learned, v1)
