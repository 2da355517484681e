"""Data too large for memory: rows read a chunk at a time; dask arrays block by block.

What is streamed
----------------
``fit``, ``partial_fit``, ``transform`` and the scores stream their input
when it is an ``h5py.Dataset``, a ``numpy.memmap``, a dask array, or any
other 2-D array-like that has ``shape``, ``dtype`` and row slicing
(``X[a:b]``) and is neither a numpy array, a sparse matrix nor a
DataFrame (a zarr array, for instance). In-memory arrays train as before,
bit for bit.

The semantics of a streamed epoch
---------------------------------
- The rows are cut into chunks of consecutive rows: as many as fit in
  :func:`chunk_bytes` (64 MiB by default) in the model's dtype, rounded
  down to a multiple of ``batch_size`` so that no mini-batch straddles two
  chunks; the last chunk holds the rest.
- With ``shuffle=True`` the chunks are visited in a fresh random order
  every epoch and the estimator shuffles the rows within each chunk as it
  shuffles in-memory data; mini-batches are drawn within one chunk. With
  ``shuffle=False`` chunks and rows are read in order: the mini-batches of
  in-memory data.
- One chunk is in memory at a time (and its conversion to the model's
  dtype when the file's differs): memory is bounded by the chunk plus the
  model, whatever the number of rows. Put the rows of a file in random
  order once if they are sorted (by class, by source image): shuffling
  within chunks cannot mix rows that are far apart.
- Data that fit in one chunk train exactly as the same array in memory,
  bit for bit (``tests/test_out_of_core.py``).
- ``fit`` reads the data once more before training, for the statistics of
  the initialisation (the visible biases of an RBM) or the divergence bound
  (:meth:`RowStream.scan`); that pass also checks every chunk, so bad data
  are refused before any update.
- Labels stay in memory: supervised training pairs each chunk with the
  targets of its rows (:meth:`RowStream.labelled_chunks`). Early stopping
  holds out the last rows (:meth:`RowStream.split`).

A chunk that holds NaN or inf, a file that was closed or data of the wrong
width raise a ``ValueError`` naming the chunk (its rows) and the fix; the
training call then leaves the model as it was (``utils/_transaction.py``).

Dask arrays
-----------
``transform``, ``predict``, ``predict_proba``, ``score_samples`` and
:func:`deepzoo.sparse_encode` return a dask array when given one, computed
block of rows by block of rows where dask runs (on a cluster's workers);
the blocks are first joined along the columns, so every block holds whole
rows.
"""

import contextlib
import contextvars
import functools

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array, column_or_1d

from ._compat import check_is_fitted
from ._sparse import column_mean

__all__ = ["chunk_bytes", "is_streamed", "is_dask", "RowStream", "TransformedRows",
           "blockwise", "map_rows", "stream_rows", "streamed_targets", "training_stream"]

_CHUNK_BYTES = contextvars.ContextVar("deepzoo_chunk_bytes", default=64 << 20)


@contextlib.contextmanager
def chunk_bytes(n_bytes):
    """Set the size of the chunks that streamed training and inference read.

    Parameters
    ----------
    n_bytes : int
        Bytes of one chunk in the model's dtype (64 MiB by default); a
        chunk holds at least one mini-batch.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.utils.streaming import RowStream, chunk_bytes
    >>> X = np.memmap("/tmp/deepzoo-doctest.dat", dtype="float32", mode="w+", shape=(100, 8))
    >>> with chunk_bytes(32 * 8 * 4):
    ...     RowStream(X, "example", np.float32).chunk_rows
    32
    """
    if not isinstance(n_bytes, (int, np.integer)) or isinstance(n_bytes, bool) or n_bytes < 1:
        raise ValueError(f"chunk_bytes: n_bytes must be a positive int; got {n_bytes!r}.")
    token = _CHUNK_BYTES.set(int(n_bytes))
    try:
        yield
    finally:
        _CHUNK_BYTES.reset(token)


def is_dask(X):
    """Whether ``X`` is a dask array (checked without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "map_blocks")


def is_streamed(X):
    """Whether ``X`` is read a chunk at a time rather than converted whole.

    Parameters
    ----------
    X : object

    Returns
    -------
    bool
    """
    if isinstance(X, (np.memmap, TransformedRows)):
        return True
    if isinstance(X, np.ndarray) or sp.issparse(X) or isinstance(X, (list, tuple)) \
            or hasattr(X, "iloc"):
        return False
    if hasattr(getattr(X, "id", None), "valid"):
        # an h5py object: its other attributes raise once its file is
        # closed, which RowStream reports
        return True
    return all(hasattr(X, a) for a in ("shape", "dtype", "__getitem__")) \
        and len(getattr(X, "shape", ())) == 2


def _check_open(X, caller):
    # h5py's own error for a closed file is "identifier is not of specified type"
    ident = getattr(X, "id", None)
    if ident is not None and hasattr(ident, "valid") and not ident.valid:
        raise ValueError(
            f"{caller}: X is a dataset of a closed HDF5 file; open the file again "
            "(h5py.File(path, 'r')) and pass its dataset while the file is open."
        )


class RowStream:
    """A 2-D array-like read a chunk of rows at a time, each chunk checked.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        See :func:`is_streamed`.
    caller : str
        ``Class.method`` named in the messages.
    dtype : dtype or None
        The chunks are converted to it (C order); None: float32 data stay
        float32, anything else becomes float64 (a first fit's rule).
    n_features : int, optional
        The width the model expects (refused otherwise).
    batch_size : int, default=1
        Chunks hold a multiple of it (one batch at least).
    check : callable, optional
        ``check(chunk, where)``: more checks of a converted chunk (``where``
        names it, for the message).
    rows : (int, int), optional
        Only these rows, ``[start, stop)``.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.utils.streaming import RowStream, chunk_bytes
    >>> X = np.memmap("/tmp/deepzoo-doctest.dat", dtype="float32", mode="w+", shape=(10, 4))
    >>> with chunk_bytes(4 * 4 * 4):
    ...     stream = RowStream(X, "example", np.float32)
    >>> stream.n_chunks, [c.shape for c in stream.chunks()]
    (3, [(4, 4), (4, 4), (2, 4)])
    """

    def __init__(self, X, caller, dtype, *, n_features=None, batch_size=1, check=None,
                 rows=None):
        _check_open(X, caller)
        shape = tuple(X.shape)
        if dtype is None:
            dtype = np.float32 if np.dtype(X.dtype) == np.float32 else np.float64
        if len(shape) != 2:
            raise ValueError(f"{caller}: X must be 2-D (n_samples, n_features); got shape "
                             f"{shape}.")
        if n_features is not None and shape[1] != n_features:
            raise ValueError(
                f"{caller}: X has {shape[1]} features, but the model was fitted on "
                f"{n_features}; pass data of the training width."
            )
        self.X, self.caller, self.dtype, self._check = X, caller, np.dtype(dtype), check
        self.n_features = shape[1]
        # the largest magnitude of the chunks read so far (divergence bound)
        self.max_abs = 0.0
        self.start, self.stop = rows if rows is not None else (0, shape[0])
        # a TransformedRows chunk holds its source's rows too (often wider)
        width = max(self.n_features, getattr(X, "source_width", 0))
        row_bytes = max(1, width * self.dtype.itemsize)
        chunk = max(1, _CHUNK_BYTES.get() // row_bytes)
        if chunk >= batch_size:
            chunk -= chunk % batch_size
        self.chunk_rows = max(chunk, min(batch_size, self.n_samples))
        self.batch_size = batch_size

    @property
    def n_samples(self):
        return self.stop - self.start

    @property
    def shape(self):
        return (self.n_samples, self.n_features)

    @property
    def n_chunks(self):
        return -(-self.n_samples // self.chunk_rows) if self.n_samples else 0

    def split(self, n_tail):
        """Two streams: the rows but the last ``n_tail``, and those."""
        cut = self.stop - n_tail
        head, tail = (RowStream(self.X, self.caller, self.dtype, batch_size=self.batch_size,
                                check=self._check, rows=r)
                      for r in ((self.start, cut), (cut, self.stop)))
        return head, tail

    def bounds(self, i):
        """Rows ``[start, stop)`` of chunk ``i``."""
        start = self.start + i * self.chunk_rows
        return start, min(start + self.chunk_rows, self.stop)

    def _where(self, i):
        start, stop = self.bounds(i)
        return f"chunk {i + 1} of {self.n_chunks} (rows {start} to {stop - 1})"

    def read(self, i):
        """Chunk ``i``, converted and checked."""
        start, stop = self.bounds(i)
        return self._convert(self._get(slice(start, stop)), self._where(i))

    def _get(self, key):
        _check_open(self.X, self.caller)
        return np.asarray(self.X[key])

    def _convert(self, block, where):
        if block.dtype.kind not in "biuf":
            raise TypeError(f"{self.caller}: {where} of X has dtype {block.dtype}; pass "
                            "real numbers.")
        out = np.ascontiguousarray(block, dtype=self.dtype)
        # the sum is NaN or inf if any value is (or if it overflows: then the
        # values are checked one by one), with no temporary array
        if not np.isfinite(out.sum(dtype=np.float64)) and not np.isfinite(out).all():
            raise ValueError(
                f"{self.caller}: {where} of X contains NaN or inf; fix or drop those rows "
                "(np.isfinite(X[start:stop]).all(axis=1) finds them)."
            )
        if self._check is not None:
            self._check(out, where)
        if out.size:
            # no temporary as large as the chunk
            self.max_abs = max(self.max_abs, -float(out.min()), float(out.max()))
        return out

    def _order(self, rng, shuffle):
        # no draw for a single chunk: it trains as the in-memory array
        order = rng.permutation(self.n_chunks) if shuffle and self.n_chunks > 1 \
            else range(self.n_chunks)
        return [int(i) for i in order]

    def chunks(self, rng=None, shuffle=False):
        """The chunks, in a random order drawn from ``rng`` if ``shuffle``
        (no draw for a single chunk: it trains as the in-memory array)."""
        for i in self._order(rng, shuffle):
            yield self.read(i)

    def labelled_chunks(self, Y, rng=None, shuffle=False):
        """``(chunk, targets)`` pairs in the order of :meth:`chunks`.

        ``Y`` holds the targets of every row of ``X`` in memory (``Y[k]``
        is row ``k``'s, whatever rows the stream covers); each chunk gets
        ``Y[start:stop]`` of its :meth:`bounds`. ``Y=None``: each chunk is
        its own target (autoencoders).

        Examples
        --------
        >>> import numpy as np
        >>> from deepzoo.utils.streaming import RowStream, chunk_bytes
        >>> X = np.memmap("/tmp/deepzoo-doctest.dat", dtype="float32", mode="w+", shape=(10, 4))
        >>> with chunk_bytes(4 * 4 * 4):
        ...     head, tail = RowStream(X, "example", np.float32).split(3)
        >>> [y.tolist() for _, y in tail.labelled_chunks(np.arange(10))]
        [[7, 8, 9]]
        """
        for i in self._order(rng, shuffle):
            chunk = self.read(i)
            start, stop = self.bounds(i)
            yield chunk, (chunk if Y is None else Y[start:stop])

    def scan(self):
        """Read every chunk once, in order: each is checked (bad data are
        refused before training starts) and :attr:`max_abs` covers them all.

        Returns
        -------
        self
        """
        for _ in self.chunks():
            pass
        return self

    def take(self, indices):
        """Rows at ``indices`` (any order, repeats allowed), checked."""
        indices = np.asarray(indices, dtype=np.intp)
        unique, inverse = np.unique(indices, return_inverse=True)
        # h5py reads fancy selections in increasing order only
        block = self._get(self.start + unique)
        return self._convert(block, f"rows {list(unique[:5])}...")[inverse]

    def column_mean(self, fn=None):
        """``column_mean(fn(X))`` over every chunk: exactly the in-memory mean
        for a single chunk, else summed in float64."""
        if self.n_chunks == 1:
            return column_mean(self.read(0), fn)
        total = np.zeros(self.n_features)
        for chunk in self.chunks():
            total += (chunk if fn is None else fn(chunk)).sum(axis=0, dtype=np.float64)
        return (total / self.n_samples).astype(self.dtype)

    def n_minibatches(self, batch_size):
        """Mini-batches of one epoch: those of every chunk."""
        full, rest = divmod(self.n_samples, self.chunk_rows)
        per_chunk = -(-self.chunk_rows // min(batch_size, self.chunk_rows))
        return full * per_chunk + (-(-rest // min(batch_size, rest)) if rest else 0)


class TransformedRows:
    """Rows of ``X`` through fitted steps, computed when read.

    The input of a stack's upper layer, never materialised: each read of
    rows ``X[a:b]`` runs them through ``steps`` (each step's
    ``transform``). ``np.asarray`` of it (what a step that does not stream
    calls) computes every row, chunk by chunk.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    steps : list of fitted transformers, bottom first
    """

    def __init__(self, X, steps):
        self.X, self.steps = X, list(steps)
        first = self[0:1]
        self.shape = (X.shape[0], first.shape[1])
        self.dtype = first.dtype
        self.ndim = 2
        #: The widest row a read holds (RowStream sizes its chunks by it).
        self.source_width = max(X.shape[1], getattr(X, "source_width", 0))

    def __len__(self):
        return self.shape[0]

    @property
    def id(self):
        # the source's open/closed state (h5py), checked by RowStream
        return getattr(self.X, "id", None)

    def __getitem__(self, key):
        rows = np.asarray(self.X[key])
        for step in self.steps:
            rows = step.transform(rows)
        return rows

    def __array__(self, dtype=None, copy=None):
        stream = RowStream(self, "TransformedRows", self.dtype)
        out = np.concatenate(list(stream.chunks())) if stream.n_chunks \
            else np.empty(self.shape, self.dtype)
        return out if dtype is None else out.astype(dtype)


def training_stream(estimator, X, caller, *, reset, dtype=None, n_features=None, batch_size=1,
                    check=None):
    """The :class:`RowStream` a training call reads: refused if empty; a
    resetting call (``fit``, a first ``partial_fit``) takes its width.

    Parameters
    ----------
    estimator : estimator
        Gets ``n_features_in_`` (and loses ``feature_names_in_``) if
        ``reset``.
    X : array-like
        See :func:`is_streamed`.
    caller : str
        The method, named in messages as ``Class.method``.
    reset : bool
    dtype, n_features, batch_size, check
        As :class:`RowStream`'s; ``dtype=None`` and ``n_features=None`` on
        ``reset`` let the data choose.

    Returns
    -------
    RowStream
    """
    name = f"{type(estimator).__name__}.{caller}"
    stream = RowStream(X, name, dtype, n_features=n_features, batch_size=batch_size,
                       check=check)
    if stream.n_samples < 1:
        raise ValueError(f"{name}: X has 0 samples; at least 1 is required.")
    if reset:
        estimator.n_features_in_ = stream.n_features
        estimator.__dict__.pop("feature_names_in_", None)
    return stream


def streamed_targets(y, stream, multi_output=False, y_numeric=False):
    """Targets ``y`` of a streamed ``X``, checked as ``validate_data``
    checks them beside in-memory ``X`` (without ``multi_output``, a column
    vector is raveled with a ``DataConversionWarning``); they stay in
    memory.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    stream : RowStream
        The stream of ``X``: ``y`` needs one target per row.
    multi_output, y_numeric : bool, default=False
        As ``validate_data``'s: 2-D targets allowed; object targets made
        float64.

    Returns
    -------
    ndarray
    """
    y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
    if not multi_output:
        y = column_or_1d(y, warn=True)
    if y_numeric and y.dtype.kind == "O":
        y = y.astype(np.float64)
    if y.shape[0] != stream.n_samples:
        raise ValueError(f"{stream.caller}: y has {y.shape[0]} rows but X has "
                         f"{stream.n_samples}; pass one target per row of X.")
    return y


def stream_rows(X, fn, caller, dtype, n_features, check=None):
    """``fn`` applied to each chunk of a streamed ``X``, the results stacked.

    Memory: the output plus one chunk. Row-wise ``fn`` only; ``check`` as
    :class:`RowStream`'s.
    """
    stream = RowStream(X, caller, dtype, n_features=n_features, check=check)
    return np.concatenate([fn(chunk) for chunk in stream.chunks()]) if stream.n_chunks \
        else fn(np.empty((0, n_features), dtype))


def map_rows(X, fn, width, dtype):
    """``fn`` over the row blocks of a dask array ``X``: a dask array.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    fn : callable
        Row-wise: a block of rows to their results.
    width : int or None
        Columns of the result; None for one value per row.
    dtype : dtype
        Of the result.

    Returns
    -------
    dask array
    """
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D dask array (n_samples, n_features); got shape "
                         f"{X.shape}.")
    X = X.rechunk({1: -1})
    if width is None:
        return X.map_blocks(fn, drop_axis=1, dtype=dtype, chunks=(X.chunks[0],))
    return X.map_blocks(fn, dtype=dtype, chunks=(X.chunks[0], (width,)))


def blockwise(width, dtype):
    """Method decorator: dask input in, dask output computed block by block.

    Parameters
    ----------
    width : callable
        ``width(self)``: columns of the output, or None for 1-D output.
    dtype : callable
        ``dtype(self)``: dtype of the output.

    The input's width is checked at the call (not at ``compute``), then
    the method runs once per block of rows.
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, X, *args, **kwargs):
            if not is_dask(X):
                return method(self, X, *args, **kwargs)
            check_is_fitted(self)
            expected = getattr(self, "n_features_in_", None)
            if X.ndim == 2 and expected is not None and X.shape[1] != expected:
                raise ValueError(
                    f"{type(self).__name__}.{method.__name__}: X has {X.shape[1]} "
                    f"features, but the model was fitted on {expected}; pass data of the "
                    "training width."
                )
            block_fn = functools.partial(_call, method, self, args, kwargs)
            return map_rows(X, block_fn, width(self), dtype(self))

        return wrapper

    return decorate


def _call(method, estimator, args, kwargs, block):
    return method(estimator, block, *args, **kwargs)
