"""Sparse input made dense a block of rows at a time.

The layers accept CSR input where scikit-learn's equivalents do. Row-wise
computations (inference, scores, initial statistics) densify a bounded block
at a time, so memory stays bounded and the results equal the dense input's.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["CHUNK_ELEMENTS", "dense_chunks", "by_rows", "column_mean"]

# Rows of sparse input made dense at a time (inference, initial statistics):
# bounded memory, and the same row-wise products as dense input.
CHUNK_ELEMENTS = 1 << 20


def dense_chunks(X):
    """``X`` as dense blocks of rows: ``X`` itself if dense, else CSR rows
    densified ``CHUNK_ELEMENTS`` values at a time."""
    if not sp.issparse(X):
        yield X
        return
    step = max(1, CHUNK_ELEMENTS // max(X.shape[1], 1))
    for start in range(0, X.shape[0], step):
        yield X[start:start + step].toarray()


def by_rows(X, fn):
    """``fn(X)`` for a row-wise ``fn``, applied chunk by chunk to sparse ``X``."""
    if not sp.issparse(X):
        return fn(X)
    return np.concatenate([fn(chunk) for chunk in dense_chunks(X)])


def column_mean(X, fn=None):
    """``np.mean(fn(X), axis=0)`` for dense or sparse ``X``, bit for bit
    equal for both: numpy sums the rows in order, so the blocks' rows are
    summed in order too, then divided as numpy's mean divides. Streamed
    ``X`` (:class:`deepzoo.utils.streaming.RowStream`) computes its own, a
    chunk at a time, exactly as in memory."""
    if hasattr(X, "column_mean"):
        return X.column_mean(fn)
    if not sp.issparse(X):
        return np.mean(X if fn is None else fn(X), axis=0)
    total = None
    for chunk in dense_chunks(X):
        part = chunk if fn is None else fn(chunk)
        total = np.add.reduce(part if total is None else np.vstack([total[None], part]),
                              axis=0)
    return np.true_divide(total, np.intp(X.shape[0]), out=total, casting="unsafe")
