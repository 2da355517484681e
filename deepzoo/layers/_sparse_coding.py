"""Sparse coding: LASSO codes and dictionary learning.

Per sample, the codes ``a`` minimise ``0.5 * |x - a @ D|^2 + alpha * |a|_1``
for a dictionary ``D`` of shape (n_components, n_features) with unit-norm
rows, the convention of :func:`sklearn.decomposition.sparse_encode`.
Dictionary learning alternates this LASSO (codes, dictionary fixed) with a
constrained least-squares problem (dictionary, codes fixed).
"""

import time
import warnings
from functools import partial
from numbers import Integral, Real

import numba
import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state

from .._kernels import lasso as _k
from .._nn.divergence import PARAMETER_BOUND, check_divergence
from .._nn.training import minibatches
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
    validate_params,
)
from ..utils._progress import announces_compilation, report_progress
from ..utils._threads import blas_single_thread
from ..utils._transaction import transactional
from ..utils.streaming import (
    RowStream,
    blockwise,
    is_dask,
    is_streamed,
    map_rows,
    stream_rows,
    training_stream,
)
from ..utils.validation import check_2d, check_codes

__all__ = ["sparse_encode", "SparseCoding", "sparse_coding_objective",
           "update_dictionary"]

# Below this many rows the serial kernels win: starting threads costs more
# than the few microseconds each row takes.
_PARALLEL_MIN_ROWS = 64


def _default_tol(dtype):
    return 1e-8 if dtype == np.float64 else 1e-5


@validate_params(
    {
        "X": ["array-like"],
        "codes": ["array-like"],
        "dictionary": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def sparse_coding_objective(X, codes, dictionary, alpha):
    """Mean over samples of ``0.5 * |x - a @ D|^2 + alpha * |a|_1``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    codes : ndarray of shape (n_samples, n_components)
    dictionary : ndarray of shape (n_components, n_features)
    alpha : float

    Returns
    -------
    objective : float

    Examples
    --------
    >>> import numpy as np
    >>> sparse_coding_objective(np.ones((1, 2)), np.ones((1, 1)),
    ...                         np.array([[1.0, 0.0]]), alpha=0.5)
    1.0
    """
    X, codes, dictionary = np.asarray(X), np.asarray(codes), np.asarray(dictionary)
    check_2d(X, "X", "(n_samples, n_features)")
    check_2d(dictionary, "dictionary", "(n_components, n_features)", row="atom")
    _check_dictionary_width(dictionary, X)
    if codes.shape != (X.shape[0], dictionary.shape[0]):
        raise ValueError(
            f"codes must have shape (n_samples, n_components) = "
            f"{(X.shape[0], dictionary.shape[0])}; got {codes.shape}."
        )
    return _sparse_coding_objective(X, codes, dictionary, alpha)


def _sparse_coding_objective(X, codes, dictionary, alpha):
    """:func:`sparse_coding_objective` without checks, for every mini-batch."""
    R = (X - codes @ dictionary).ravel()
    n = X.shape[0]
    # Dot products (BLAS) in float64 rather than einsum: this runs on every
    # mini-batch of online learning.
    R64 = R.astype(np.float64, copy=False)
    l1 = np.abs(codes).sum(dtype=np.float64)
    return float((0.5 * (R64 @ R64) + alpha * l1) / n)


@validate_params(
    {
        "X": ["array-like"],
        "dictionary": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"feature_sign", "cd", "fista", "omp"})],
        "positive": ["boolean"],
        "init": ["array-like", None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def sparse_encode(X, dictionary, alpha, *, solver="feature_sign", positive=False,
                  init=None, tol=None, max_iter=1000, n_nonzero_coefs=None):
    """Sparse codes of ``X`` against a dictionary, one LASSO per sample.

    Each row ``a`` of the result minimises
    ``0.5 * |x - a @ dictionary|^2 + alpha * |a|_1`` (with ``a >= 0`` when
    ``positive``), the convention of
    :func:`sklearn.decomposition.sparse_encode`, so results compare directly.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data; float32 stays float32, anything else becomes float64.
    dictionary : array-like of shape (n_components, n_features)
        Atoms as rows (normally of unit norm).
    alpha : float >= 0
        Weight of the L1 penalty. For ``"omp"``: greedy selection stops
        once no atom correlates with the residual by more than ``alpha``.
    solver : {"feature_sign", "cd", "fista", "omp"}, default="feature_sign"
        - ``"feature_sign"``: feature-sign search (Lee et al. 2007), an
          exact active-set method; fastest when codes are sparse.
        - ``"cd"``: coordinate descent on the Gram matrix with sweeps over
          the support between full sweeps.
        - ``"fista"``: accelerated proximal gradient on all samples at once
          (matrix products in BLAS), with adaptive restart.
        - ``"omp"``: orthogonal matching pursuit, an L0 budget of
          ``n_nonzero_coefs`` atoms (least-squares codes, not a LASSO).
    positive : bool, default=False
        Constrain the codes to be non-negative (not with ``"omp"``).
    init : array-like of shape (n_samples, n_components), optional
        Warm start (e.g. the codes of the previous dictionary) for
        ``"feature_sign"``, ``"cd"`` and ``"fista"``.
    tol : float, optional
        ``"cd"`` and ``"fista"`` stop when a sample's duality gap is at most
        ``tol * 0.5 * |x|^2``; ``"feature_sign"`` admits an atom only when
        ``|d_j . r| > alpha * (1 + tol)``. Default: 1e-8 for float64,
        1e-5 for float32.
    max_iter : int, default=1000
        Per sample: feature-sign steps, coordinate sweeps, or (for the
        whole batch) FISTA iterations. A sample that does not converge
        within it raises a ``ConvergenceWarning``.
    n_nonzero_coefs : int, optional
        ``"omp"`` only: the number of atoms per code; default
        ``min(max(n_features // 10, 1), n_components)``, as scikit-learn.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)

    Raises
    ------
    ValueError
        If ``X`` or the dictionary is not a finite 2-D array, the
        dictionary has no atom or another number of features than ``X``,
        or a sample's squared norm overflows the dtype.
    FloatingPointError
        If the solver produced NaN or inf codes.

    See Also
    --------
    SparseCoding : learns the dictionary.
    sklearn.decomposition.sparse_encode : the same problem, other solvers.

    References
    ----------
    H. Lee, A. Battle, R. Raina and A. Y. Ng, "Efficient sparse coding
    algorithms", NIPS 2006 (2007).
    A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding
    algorithm for linear inverse problems", SIAM J. Imaging Sci. 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import sparse_encode
    >>> D = np.eye(3)
    >>> sparse_encode(np.array([[2.0, -0.5, 0.1]]), D, alpha=0.2)
    array([[ 1.8, -0.3,  0. ]])
    """
    if is_dask(X):
        return _dask_encode(X, dictionary, alpha, solver=solver, positive=positive,
                            init=init, tol=tol, max_iter=max_iter,
                            n_nonzero_coefs=n_nonzero_coefs)
    check_2d(X, "X", "(n_samples, n_features)")
    X = check_array(X, dtype=[np.float64, np.float32], order="C")
    dtype = X.dtype
    check_2d(dictionary, "dictionary", "(n_components, n_features)", row="atom")
    D = _check_dictionary(dictionary, dtype)
    _check_dictionary_width(D, X)
    n, K = X.shape[0], D.shape[0]
    if init is not None:
        A = check_array(init, dtype=dtype, order="C", copy=True, input_name="init")
        if A.shape != (n, K):
            raise ValueError(
                f"init has shape {A.shape}; warm-start codes must have shape "
                f"(n_samples, n_components) = {(n, K)}."
            )
    else:
        A = np.zeros((n, K), dtype=dtype)
    _check_sign(solver, positive)
    return _sparse_encode(X, D, float(alpha), A, solver=solver, positive=positive, tol=tol,
                          max_iter=max_iter, n_nonzero_coefs=n_nonzero_coefs)


def _dask_encode(X, dictionary, alpha, *, init, **options):
    """:func:`sparse_encode` of a dask array: a dask array, one block of rows
    at a time where dask runs (each row's LASSO is independent, so the codes
    are those of the whole array in memory)."""
    if init is not None:
        raise ValueError("sparse_encode: init (warm-start codes) is not supported with dask "
                         "input; encode without init.")
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    check_2d(dictionary, "dictionary", "(n_components, n_features)", row="atom")
    D = _check_dictionary(dictionary, dtype)
    if X.ndim == 2 and D.shape[1] != X.shape[1]:
        _check_dictionary_width(D, np.empty((0, X.shape[1]), dtype))
    _check_sign(options["solver"], options["positive"])
    return map_rows(X, partial(sparse_encode, dictionary=D, alpha=alpha, **options),
                    D.shape[0], dtype)


def _check_sign(solver, positive):
    if solver == "omp" and positive:
        raise ValueError(
            "positive=True is not available with solver='omp'; use "
            "'feature_sign', 'cd' or 'fista' for non-negative codes."
        )


def _sparse_encode(X, D, alpha, A, *, solver, positive, tol, max_iter, n_nonzero_coefs):
    """:func:`sparse_encode` on checked arrays: ``X`` (n, F) and ``D`` (K, F)
    C-contiguous of one float dtype; ``A`` (n, K) of that dtype holds the warm
    start and receives the codes (returned)."""
    n, dtype = X.shape[0], X.dtype
    # Every solver works with |x|^2 (objective, duality gap): where it
    # overflows, codes and dictionary steps would silently become inf or 0.
    with np.errstate(over="ignore"):
        xnorm2 = np.einsum("ij,ij->i", X, X)
    if not np.all(np.isfinite(xnorm2)):
        raise ValueError(
            f"X is too large for sparse coding in {dtype}: the squared norm of "
            f"a sample overflows (max |x| = {float(np.abs(X).max()):.3g}). Scale X "
            "down, e.g. with sklearn.preprocessing.StandardScaler."
        )
    tol = _default_tol(dtype) if tol is None else tol
    with blas_single_thread():
        n_iter = _encode(X, xnorm2, D, A, alpha, solver, positive, tol, max_iter,
                         n_nonzero_coefs)
    if not np.all(np.isfinite(A)):
        raise FloatingPointError(
            "sparse_encode produced NaN or inf codes; check X and the "
            "dictionary for NaN, inf or all-zero atoms."
        )
    n_failed = int(np.sum(n_iter < 0))
    if n_failed:
        warnings.warn(
            f"sparse_encode (solver={solver!r}): {n_failed} of {n} codes did "
            f"not converge within max_iter={max_iter}; increase max_iter or "
            "tol.",
            ConvergenceWarning,
        )
    return A


def _check_dictionary(dictionary, dtype):
    """A finite C-contiguous 2-D dictionary of ``dtype`` with at least one atom."""
    # An empty dictionary gets its own message (check_array would speak of
    # "0 sample(s)").
    D = check_array(dictionary, dtype=dtype, order="C", ensure_min_samples=0,
                    input_name="dictionary")
    if D.shape[0] == 0:
        raise ValueError(
            f"dictionary has 0 atoms (shape {D.shape}); it needs at least one "
            "atom (row)."
        )
    return D


def _check_dictionary_width(D, X):
    if D.shape[1] != X.shape[1]:
        raise ValueError(
            f"dictionary has {D.shape[1]} features per atom but X has "
            f"{X.shape[1]}; the dictionary must have shape (n_components, "
            f"{X.shape[1]})."
        )


def _encode(X, xnorm2, D, A, alpha, solver, positive, tol, max_iter, n_nonzero_coefs):
    """Run the chosen solver on ``A`` in place; per-row iteration counts.

    ``xnorm2`` holds the squared norm of each row of ``X``.
    """
    n, K = A.shape
    G = D @ D.T
    C = X @ D.T
    n_iter = np.zeros(n, dtype=np.int64)
    parallel = n >= _PARALLEL_MIN_ROWS
    extra = (min(n, 8 * numba.get_num_threads()),) if parallel else ()
    if solver == "feature_sign":
        fn = _k.feature_sign_parallel if parallel else _k.feature_sign
        fn(G, C, A, alpha, positive, max_iter, tol, n_iter, *extra)
    elif solver == "cd":
        fn = _k.coordinate_descent_parallel if parallel else _k.coordinate_descent
        fn(G, C, A, xnorm2, alpha, positive, max_iter, tol, n_iter, *extra)
    elif solver == "fista":
        _fista(G, C, A, xnorm2, alpha, positive, max_iter, tol, n_iter)
    else:
        if n_nonzero_coefs is None:
            n_nonzero_coefs = min(max(X.shape[1] // 10, 1), K)
        n_nonzero = min(n_nonzero_coefs, K)
        fn = _k.omp_parallel if parallel else _k.omp
        fn(G, C, A, n_nonzero, alpha, n_iter, *extra)
    return n_iter


def _fista(G, C, A, xnorm2, alpha, positive, max_iter, tol, n_iter):
    """FISTA on all rows at once, converged rows dropped as they finish."""
    dtype = C.dtype
    lipschitz = float(linalg.eigvalsh(G, subset_by_index=[G.shape[0] - 1] * 2)[0])
    step = 1.0 / max(lipschitz, np.finfo(dtype).tiny)
    rows = np.arange(C.shape[0])
    Ca, Aa, xa = C, A.copy(), xnorm2
    Y = Aa.copy()
    t = np.ones(len(rows))
    gaps = np.empty(len(rows))
    n_iter[:] = -max_iter
    # The gap costs a matrix product, as much as an iteration: check it
    # every few iterations only.
    check_every = 5
    for it in range(1, max_iter + 1):
        grad = Y @ G
        grad -= Ca
        _k.fista_prox_step(Y, grad, Aa, step, alpha, positive, t)
        if it % check_every and it != max_iter:
            continue
        Q = Ca - Aa @ G
        _k.duality_gaps(Ca, Aa, Q, xa, alpha, positive, gaps[: len(rows)])
        done = gaps[: len(rows)] <= tol * 0.5 * xa
        if done.any():
            A[rows[done]] = Aa[done]
            n_iter[rows[done]] = it
            keep = ~done
            rows, Ca, Aa, Y, t, xa = (rows[keep], Ca[keep], Aa[keep], Y[keep],
                                      t[keep], xa[keep])
            if len(rows) == 0:
                return
    A[rows] = Aa


@validate_params(
    {
        "dictionary": ["array-like"],
        "A": ["array-like"],
        "B": ["array-like"],
        "method": [StrOptions({"bcd", "lagrange_dual"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def update_dictionary(dictionary, A, B, *, method="bcd", max_iter=100, tol=1e-10):
    """Dictionary step: least squares under ``|d_j| <= 1``, codes fixed.

    Minimises ``0.5 tr(D' A D) - tr(D' B)``, which is the reconstruction
    error ``0.5 |X - S @ D|^2`` up to a constant, from the statistics
    ``A = S' S`` and ``B = S' X`` of the codes ``S``. Atoms with
    ``A_jj == 0`` (never used) keep their value.

    Parameters
    ----------
    dictionary : array-like of shape (n_components, n_features)
        Starting point (``"bcd"``); not modified.
    A : array-like of shape (n_components, n_components)
    B : array-like of shape (n_components, n_features)
        Its dtype (float32 kept, else float64) is the result's; the
        dictionary and ``A`` are converted to it.
    method : {"bcd", "lagrange_dual"}
        ``"bcd"``: block coordinate descent over atoms (Mairal et al.
        2010), ``max_iter`` sweeps or until the largest atom change is
        below ``tol``. ``"lagrange_dual"``: projected Newton on the
        Lagrange dual (Lee et al. 2007), until the projected dual gradient
        is below ``tol``.
    max_iter : int
    tol : float

    Returns
    -------
    dictionary : ndarray of shape (n_components, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> X = np.array([[3.0, 0.0], [0.0, 4.0]])
    >>> update_dictionary(np.eye(2), S.T @ S, S.T @ X, method="lagrange_dual")
    array([[1., 0.],
           [0., 1.]])
    """
    check_2d(B, "B", "(n_components, n_features)", row="atom")
    # Zero rows pass here so that an empty dictionary is named as such below.
    B = check_array(B, dtype=[np.float64, np.float32], ensure_min_samples=0, input_name="B")
    check_2d(dictionary, "dictionary", "(n_components, n_features)", row="atom")
    dictionary = _check_dictionary(dictionary, B.dtype)
    A = check_array(A, dtype=B.dtype, ensure_2d=False, input_name="A")
    K = dictionary.shape[0]
    if B.shape != dictionary.shape:
        raise ValueError(f"B must have shape {dictionary.shape} (that of the dictionary); "
                         f"got {B.shape}.")
    if A.shape != (K, K):
        raise ValueError(f"A must have shape {(K, K)} (n_components squared); got {A.shape}.")
    return _update_dictionary(dictionary, A, B, method, max_iter, tol)


def _update_dictionary(dictionary, A, B, method, max_iter, tol):
    """:func:`update_dictionary` on checked arrays of one dtype."""
    if method == "bcd":
        D = np.array(dictionary, dtype=B.dtype, order="C")
        for sweep in range(1, max_iter + 1):
            # the last sweep (the only one of an online step) needs no check
            before = D.copy() if sweep < max_iter else None
            _k.bcd_dictionary_update(D, A, B, 1)
            if before is None or np.max(np.abs(D - before)) <= tol:
                break
        return D
    return _lagrange_dual(dictionary, A, B, max_iter, tol)


def _lagrange_dual(dictionary, A, B, max_iter, tol):
    """Projected Newton on the dual of the constrained least squares.

    With multipliers ``lam >= 0`` for ``|d_j|^2 <= 1``, the minimiser of the
    Lagrangian is ``D = (A + diag(lam))^-1 B``, and the dual to minimise is
    ``f(lam) = 0.5 tr(B' M^-1 B) + 0.5 sum(lam)``, ``M = A + diag(lam)``,
    with gradient ``0.5 (1 - |d_j|^2)`` and Hessian ``M^-1 * (D D')``
    (element-wise): a K-variable problem however many samples there are.
    """
    D = np.array(dictionary, dtype=B.dtype, order="C")
    used = np.flatnonzero(np.diag(A) > 0)
    if used.size == 0:
        return D
    Au = A[np.ix_(used, used)].astype(np.float64)
    Bu = B[used].astype(np.float64)
    # A tiny ridge keeps M invertible when an unconstrained atom (lam = 0)
    # meets linearly dependent codes; it is far below every tolerance.
    ridge = 1e-13 * np.trace(Au) / used.size
    # Start where a diagonal A would put the optimum: |b_j| / (A_jj + lam_j) = 1.
    lam = np.maximum(np.linalg.norm(Bu, axis=1) - np.diag(Au), 0.0)

    def solve(lam):
        M = Au + np.diag(lam + ridge)
        cho = linalg.cho_factor(M, lower=True, check_finite=False)
        Dn = linalg.cho_solve(cho, Bu, check_finite=False)
        return cho, Dn, 0.5 * np.sum(Bu * Dn) + 0.5 * lam.sum()

    cho, Dn, f = solve(lam)
    for _ in range(max_iter):
        grad = 0.5 * (1.0 - np.einsum("ij,ij->i", Dn, Dn))
        projected = np.where(lam > 0, grad, np.minimum(grad, 0.0))
        if np.max(np.abs(projected)) <= tol:
            break
        # Variables held at the bound lam = 0 by a positive gradient stay
        # out of the Newton system (Bertsekas' projected Newton).
        free = (lam > 0) | (grad < 0)
        Minv = linalg.cho_solve(cho, np.eye(used.size), check_finite=False)
        H = (Minv * (Dn @ Dn.T))[np.ix_(free, free)]
        # Rarely used atoms give rows of H many orders of magnitude smaller
        # than the others: solve the symmetrically scaled system, damped a
        # little so that it stays positive definite to working precision.
        scale = np.sqrt(np.maximum(np.diag(H), np.finfo(np.float64).tiny))
        Hs = H / scale[:, None] / scale[None, :]
        Hs[np.diag_indices_from(Hs)] += 1e-10
        direction = np.zeros_like(lam)
        direction[free] = linalg.cho_solve(
            linalg.cho_factor(Hs, lower=True, check_finite=False),
            grad[free] / scale, check_finite=False) / scale
        t = 1.0
        while True:
            lam_new = np.maximum(lam - t * direction, 0.0)
            cho_new, Dn_new, f_new = solve(lam_new)
            if f_new <= f - 1e-4 * grad @ (lam - lam_new) or t < 1e-10:
                break
            t *= 0.5
        lam, cho, Dn, f = lam_new, cho_new, Dn_new, f_new
    norms = np.linalg.norm(Dn, axis=1, keepdims=True)
    D[used] = Dn / np.maximum(norms, 1.0)
    return D


def _renormalise(D, A, B):
    """Scale atoms with ``0 < |d_j| < 1`` up to unit norm, in place.

    The codes of such an atom scale down by the same factor: the
    reconstruction is unchanged and the L1 penalty shrinks, so the
    objective still decreases. The statistics follow (``A <- S A S``,
    ``B <- S B``; stacked statistics, ``(..., K, K)`` and ``(..., K, F)``,
    each part); returns the scale of every atom for the codes.
    """
    norms = np.linalg.norm(D, axis=1)
    scale = np.ones(D.shape[0], D.dtype)
    # Most atoms come out of the dictionary step projected onto the sphere:
    # scaling their statistics by 1 - 1e-16 would be a pass over A and B (a
    # tenth of an online step) that changes nothing.
    short = np.flatnonzero((norms > 0) & (np.abs(norms - 1) > 8 * np.finfo(D.dtype).eps))
    if short.size:
        scale[short] = norms[short]
        D[short] /= scale[short, None]
        A[..., short, :] *= scale[short, None]
        A[..., :, short] *= scale[short]
        B[..., short, :] *= scale[short, None]
    return scale


def _past_weight(step, batch_size, rows, n_samples=None):
    """Weight of the statistics so far when a mini-batch's are added.

    Mairal et al. (2010), section 3.4: the statistics after step ``t``
    (0-based) weigh ``theta`` samples' worth, ``theta = (t + 1) eta`` while
    ``t < eta - 1`` and ``eta^2 + t + 1 - eta`` after (``eta`` the batch
    size), and the past gets ``(theta + 1 - eta) / (theta + 1)``: early
    batches, coded with a poor dictionary, fade. With the training set's
    size ``n_samples`` known (``fit``), ``theta`` stops growing at twice it,
    SPAMS' ``trainDL`` rule: the past never counts more than two passes.
    A batch of ``rows < eta`` (the rest of a pass) forgets ``rows``
    samples' worth, ``(theta + 1 - rows) / (theta + 1)``.
    """
    if step < batch_size - 1:
        theta = (step + 1) * batch_size
    else:
        theta = batch_size * batch_size + step + 1 - batch_size
    if n_samples is not None:
        theta = min(theta, 2 * n_samples)
    # batches are never larger than the training set: theta > rows
    return (theta + 1 - rows) / (theta + 1)


def _add_statistics(X, codes, D, alpha, weight, gram, data):
    """Add ``weight * codes' codes`` to ``gram`` and ``weight * codes' X`` to
    ``data`` in place; returns the batch's objective with ``D`` and which
    atoms the codes use.

    Sparse codes take the kernel that visits only their nonzeros, dense ones
    BLAS: per row, ``nnz (nnz + F)`` scalar operations against ``K (K + 2F)``
    multiply-adds in BLAS, which does 20-40 of them in the time the kernel
    does one (measured with 64-1024 atoms of 64-256 features; the kernel
    was 0.15x the products' time at 8 of 256 atoms, 1.7x at 64).
    """
    n, F = X.shape
    K = D.shape[0]
    nnz = np.count_nonzero(codes) / n
    if 32 * nnz * (nnz + F) <= K * (K + 2 * F):
        used = np.zeros(K, bool)
        sq, l1 = _k.code_statistics(X, codes, D, weight, gram, data, used)
        return (0.5 * sq + alpha * l1) / n, used
    gram += weight * (codes.T @ codes)
    data += weight * (codes.T @ X)
    return _sparse_coding_objective(X, codes, D, alpha), codes.any(axis=0)


def _zero_atoms(atoms, gram, data):
    """Forget atoms in Mairal's statistics (plain or stacked), in place."""
    gram[..., atoms, :] = 0
    gram[..., :, atoms] = 0
    data[..., atoms, :] = 0


class SparseCoding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Sparse coding: an overcomplete dictionary learned with LASSO codes.

    Minimises ``mean_i 0.5 * |x_i - a_i @ D|^2 + alpha * |a_i|_1`` over the
    codes ``a_i`` and the dictionary ``D`` (``components_``, unit-norm
    rows), alternating a LASSO for the codes (:func:`sparse_encode`) with a
    constrained least-squares step for the dictionary. ``fit`` works on the
    full batch (``batch_size=None``) or in online mini-batches;
    ``partial_fit`` learns online from Mairal's sufficient statistics, for
    data that does not fit in memory. Sparse coding is not a feed-forward
    encoder: ``transform`` solves an optimisation problem per sample.

    Parameters
    ----------
    n_components : int, optional
        Number of atoms; default ``n_features``. More than ``n_features``
        gives an overcomplete dictionary.
    alpha : float, default=1.0
        Weight of the L1 penalty.
    solver : {"feature_sign", "cd", "fista", "omp"}, default="feature_sign"
        Code solver for learning and ``transform``; see
        :func:`sparse_encode`.
    n_nonzero_coefs : int, optional
        Atoms per code for ``solver="omp"``.
    positive_code : bool, default=False
        Non-negative codes.
    dict_solver : {"bcd", "lagrange_dual"}, default="bcd"
        Dictionary step: block coordinate descent (Mairal et al. 2010) or
        Newton on the Lagrange dual (Lee et al. 2007).
    batch_size : int, optional
        ``None``: each ``fit`` iteration encodes all samples and solves the
        dictionary step on them. An integer: each iteration is one pass of
        online mini-batches of this size over shuffled data.
    max_iter : int, default=100
        Iterations (full batch) or passes (mini-batches) of ``fit``.
    tol : float, default=1e-4
        ``fit`` stops when the objective decreases by less than
        ``tol * objective`` in one iteration.
    dict_init : array-like of shape (n_components, n_features), optional
        Initial dictionary (normalised to unit rows); default: randomly
        chosen training samples.
    verbose : int, default=0
        Print the objective after every iteration.
    random_state : int, RandomState instance or None, default=None
        Initial dictionary and mini-batch order.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The dictionary, unit-norm atoms as rows.
    loss_curve_ : list of float
        Objective after each iteration (full batch: on all samples;
        mini-batches: mean over the pass's batches at encoding time;
        ``partial_fit``: the batch's objective).
    n_iter_ : int
        Iterations run by ``fit``; after ``partial_fit``, its steps so far.
    n_steps_ : int
        Mini-batch steps taken by ``partial_fit`` and online ``fit``.
    n_resampled_ : int
        Atoms that were unused and replaced by badly reconstructed samples.
    code_gram_ : ndarray of shape (n_components, n_components)
        Mairal's statistic ``A`` (weighted ``S' S``), kept for
        ``partial_fit``.
    code_data_ : ndarray of shape (n_components, n_features)
        Mairal's statistic ``B`` (weighted ``S' X``), kept for
        ``partial_fit``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string feature names.

    See Also
    --------
    sparse_encode : the codes for a given dictionary.
    sklearn.decomposition.MiniBatchDictionaryLearning : the same model.

    Notes
    -----
    Atoms are kept at unit norm: after the dictionary step (constrained to
    ``|d_j| <= 1``) any shorter atom is scaled up and its codes down, which
    leaves the reconstruction unchanged and lowers the L1 penalty.

    Online ``fit`` knows the size ``M`` of its training set and forgets as
    Mairal et al. (2010, section 3.4) advise for a training set of fixed
    size, and as SPAMS' ``trainDL`` does: the statistics ``A`` and ``B``
    never weigh more than ``2 M`` samples, and each pass drops the
    statistics of the pass before the last, so that codes made with an old
    dictionary leave them when their samples come back. On 1,000 whitened
    6x6 patches, 54 atoms, batches of 100, seeded, ten passes of ``fit`` end
    at a held-out objective of 4.093 where ``partial_fit`` on the very same
    batches ends at 4.148 (4.099 after a hundred passes; ``fit`` converges
    at 4.036). ``partial_fit`` sees an open-ended stream: it keeps Mairal's
    weights, which give the past ever more weight; its first pass is
    ``fit``'s, bit for bit.

    References
    ----------
    B. A. Olshausen and D. J. Field, "Emergence of simple-cell receptive
    field properties by learning a sparse code for natural images", Nature
    381, 1996.
    H. Lee, A. Battle, R. Raina and A. Y. Ng, "Efficient sparse coding
    algorithms", NIPS 2006 (2007).
    J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
    factorization and sparse coding", JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import SparseCoding
    >>> X = np.random.default_rng(0).standard_normal((100, 8))
    >>> sc = SparseCoding(n_components=12, alpha=0.5, random_state=0).fit(X)
    >>> sc.components_.shape
    (12, 8)
    >>> bool(np.allclose(np.linalg.norm(sc.components_, axis=1), 1))
    True
    >>> sc.transform(X[:2]).shape
    (2, 12)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"feature_sign", "cd", "fista", "omp"})],
        "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "positive_code": ["boolean"],
        "dict_solver": [StrOptions({"bcd", "lagrange_dual"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "dict_init": ["array-like", None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=None, *, alpha=1.0, solver="feature_sign",
                 n_nonzero_coefs=None, positive_code=False, dict_solver="bcd",
                 batch_size=None, max_iter=100, tol=1e-4, dict_init=None,
                 verbose=0, random_state=None):
        self.n_components = n_components
        self.alpha = alpha
        self.solver = solver
        self.n_nonzero_coefs = n_nonzero_coefs
        self.positive_code = positive_code
        self.dict_solver = dict_solver
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.dict_init = dict_init
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------ helpers

    def _encode(self, X, D, init=None):
        """Codes of validated ``X`` (C-contiguous, ``D``'s dtype); ``init``, the
        previous codes, is overwritten by the new ones."""
        _check_sign(self.solver, self.positive_code)
        A = np.zeros((X.shape[0], D.shape[0]), dtype=X.dtype) if init is None else init
        return _sparse_encode(X, D, float(self.alpha), A, solver=self.solver,
                              positive=self.positive_code, tol=None, max_iter=1000,
                              n_nonzero_coefs=self.n_nonzero_coefs)

    def _initial_dictionary(self, X, rng):
        n_samples, n_features = X.shape
        K = self.n_components or n_features
        if self.dict_init is not None:
            check_2d(self.dict_init, "dict_init", "(n_components, n_features)", row="atom")
            D = check_array(self.dict_init, dtype=X.dtype, order="C", copy=True,
                            input_name="dict_init")
            if D.shape != (K, n_features):
                raise ValueError(
                    f"dict_init has shape {D.shape}; it must be (n_components, "
                    f"n_features) = {(K, n_features)}."
                )
        else:
            # Training samples as atoms (Mairal et al.); Gaussian directions
            # where there are too few samples or a sample is zero.
            D = rng.standard_normal((K, n_features)).astype(X.dtype)
            take = rng.permutation(n_samples)[:K]
            D[: take.size] = X.take(take) if isinstance(X, RowStream) else X[take]
        norms = np.linalg.norm(D, axis=1)
        zero = norms <= np.finfo(X.dtype).tiny * 1e3
        if zero.any():
            D[zero] = rng.standard_normal((int(zero.sum()), n_features))
            norms = np.linalg.norm(D, axis=1)
        D /= norms[:, None]
        return D

    def _resample_dead(self, X, codes, D, dead):
        """Replace unused atoms by the worst-reconstructed samples.

        An atom no sample uses contributes nothing and would never move;
        pointing it at the largest residuals puts it where the dictionary
        fails most (zero codes: the objective is unchanged by the swap).
        """
        dead = np.flatnonzero(dead)
        if dead.size == 0:
            return 0
        R = X - codes @ D
        err = np.einsum("ij,ij->i", R, R)
        order = np.argsort(-err, kind="stable")[: dead.size]
        fresh = R[order]
        norms = np.linalg.norm(fresh, axis=1)
        ok = norms > np.finfo(X.dtype).eps * max(1.0, float(np.max(norms, initial=0.0)))
        D[dead[: int(ok.sum())]] = fresh[ok] / norms[ok, None]
        return int(ok.sum())

    def _dictionary_step(self, D, A, B, online):
        # Online steps warm-start from the previous dictionary, so one BCD
        # sweep per batch is Mairal's choice; full batch solves to tolerance
        # (as the Lagrange dual always does: Newton needs few iterations).
        sweeps = 1 if online and self.dict_solver == "bcd" else 100
        return _update_dictionary(D, A, B, self.dict_solver, sweeps, 1e-10)

    def _online_step(self, X, D, gram, data, n_samples=None, batch_size=None):
        """One mini-batch: codes, statistics update, dictionary step.

        ``gram`` and ``data`` are Mairal's statistics ``A`` and ``B``,
        updated in place: ``(K, K)`` and ``(K, F)``, or stacked ``(2, K, K)``
        and ``(2, K, F)``, the previous pass's and the current pass's (the
        window of :meth:`fit`), their sum the statistics. ``D`` may be
        changed in place (resampled atoms); the new dictionary is returned
        with the batch's objective. ``n_samples``: the training set's size,
        where known (:func:`_past_weight`). ``batch_size``: the size of a
        full batch where ``X`` may be shorter (the rest of a pass in
        :meth:`fit`); ``X`` counts for its rows, not as a full batch.
        """
        codes = self._encode(X, D)
        nb = X.shape[0]
        eta = nb if batch_size is None else batch_size
        beta = _past_weight(self.n_steps_, eta, nb, n_samples)
        gram *= beta
        data *= beta
        stacked = gram.ndim == 3
        gram_now, data_now = (gram[-1], data[-1]) if stacked else (gram, data)
        # A short batch's mean would count as much as a full batch's and
        # carry its noise: the last 16 rows of a 10,000-row pass in batches
        # of 256 cost SPAMS' objective 1.6x the steps on MNIST patches.
        objective, used = _add_statistics(X, codes, D, self.alpha, 1.0 / eta, gram_now, data_now)
        A, B = (gram.sum(axis=0), data.sum(axis=0)) if stacked else (gram, data)
        diag = np.diag(A)
        dead = (diag <= 1e-6 * max(float(diag.max()), np.finfo(X.dtype).tiny)) & ~used
        n_new = self._resample_dead(X, codes, D, dead)
        if n_new:
            replaced = np.flatnonzero(dead)[:n_new]
            _zero_atoms(replaced, gram, data)
            _zero_atoms(replaced, A, B)
            self.n_resampled_ += n_new
        D = self._dictionary_step(D, A, B, online=True)
        _renormalise(D, gram, data)
        self.n_steps_ += 1
        return D, objective

    def _start(self, X, rng):
        K = self.n_components or X.shape[1]
        self.components_ = self._initial_dictionary(X, rng)
        self.code_gram_ = np.zeros((K, K), dtype=X.dtype)
        self.code_data_ = np.zeros((K, X.shape[1]), dtype=X.dtype)
        self.n_steps_ = 0
        self.n_resampled_ = 0
        self.loss_curve_ = []

    def _log(self, iteration, objective, start):
        self.loss_curve_.append(objective)
        if self.verbose:
            report_progress(self, iteration, "objective", objective,
                            time.perf_counter() - start)

    # ---------------------------------------------------------- public API

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the dictionary from ``X``.

        All or nothing: if learning fails (e.g. diverges) or is
        interrupted, the estimator is left as it was before the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            With ``batch_size`` set, an ``h5py.Dataset``, a ``numpy.memmap``
            or another array-like too large for memory is read a chunk at a
            time (:mod:`deepzoo.utils.streaming`); full-batch learning
            (``batch_size=None``) codes every sample at once and reads it
            whole.
        y : ignored

        Returns
        -------
        self : SparseCoding
        """
        if is_streamed(X) and self.batch_size is not None:
            X = self._stream(X, True, "fit")
        else:
            # full batch codes every sample at once: streamed X is read whole
            X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        rng = check_random_state(self.random_state)
        self._start(X, rng)
        with blas_single_thread():
            converged = self._fit_loop(X, rng)
        if not converged:
            warnings.warn(
                f"SparseCoding did not converge in max_iter={self.max_iter} "
                f"iterations (tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
            )
        return self

    def _fit_loop(self, X, rng):
        """Alternate code and dictionary steps; True once converged."""
        D = self.components_
        start = time.perf_counter()
        previous = np.inf
        codes = None
        window = self._new_window() if self.batch_size is not None else None
        for it in range(1, self.max_iter + 1):
            if self.batch_size is None:
                codes = self._encode(X, D, init=codes)
                self.n_resampled_ += self._resample_dead(X, codes, D, ~codes.any(axis=0))
                A = codes.T @ codes
                B = codes.T @ X
                D = self._dictionary_step(D, A, B, online=False)
                codes *= _renormalise(D, A, B)[None, :]
                objective = _sparse_coding_objective(X, codes, D, self.alpha)
            else:
                total = 0.0
                steps = self._online_pass(X, D, rng, window)
                for D, batch_objective, rows in steps:
                    total += batch_objective * rows
                objective = total / X.shape[0]
            # atoms have unit norm, whatever the data's scale: the plain bound
            check_divergence(self, [D], [*self.loss_curve_, objective], PARAMETER_BOUND,
                             rate_name=None)
            self.components_ = D
            self._log(it, objective, start)
            self.n_iter_ = it
            if previous - objective <= self.tol * abs(objective):
                return True
            previous = objective
        return False

    def _new_window(self):
        """Zero statistics for :meth:`_online_pass`: the previous pass's and
        the current pass's, stacked."""
        return (np.zeros((2, *self.code_gram_.shape), self.code_gram_.dtype),
                np.zeros((2, *self.code_data_.shape), self.code_data_.dtype))

    def _online_pass(self, X, D, rng, window):
        """One pass of :meth:`fit`'s online steps over shuffled ``X``,
        yielding ``(dictionary, batch objective, batch rows)`` after each.

        ``window`` holds Mairal's statistics of the previous and of the
        current pass (:meth:`_new_window`); the pass first drops those of
        the pass before the last (Mairal et al. 2010, section 3.4: on a
        training set of known size, a sample's codes made with an old
        dictionary leave the statistics when it comes back; SPAMS'
        ``trainDL`` keeps two passes) and ends with their sum in
        ``code_gram_`` and ``code_data_``. ``X`` is validated once by
        :meth:`fit`: the steps neither check the batches nor copy the
        model, as each :meth:`partial_fit` must.
        """
        gram, data = window
        gram[0], data[0] = gram[1], data[1]
        gram[1], data[1] = 0, 0
        full = min(self.batch_size, X.shape[0])
        # a stream: its chunks in a shuffled order, the rows shuffled
        # within each (one chunk trains as the array in memory)
        for part in X.chunks(rng, shuffle=True) if isinstance(X, RowStream) else [X]:
            for rows in minibatches(part.shape[0], self.batch_size, rng, shuffle=True):
                batch = part[rows]
                D, objective = self._online_step(batch, D, gram, data, X.shape[0], full)
                yield D, objective, batch.shape[0]
        self.code_gram_, self.code_data_ = gram.sum(axis=0), data.sum(axis=0)

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One online step on the mini-batch ``X`` (Mairal et al. 2010).

        All or nothing, like :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Converted to the dtype of the model (that of the first batch).
            An ``h5py.Dataset``, a ``numpy.memmap`` or another array-like
            too large for memory takes one step per chunk, the chunks in
            order (:func:`deepzoo.utils.streaming.chunk_bytes` sets their
            size); data that fit in one chunk take the in-memory step.
        y : ignored

        Returns
        -------
        self : SparseCoding
        """
        first = not hasattr(self, "components_")
        streamed = is_streamed(X)
        if streamed:
            X = self._stream(X, first, "partial_fit")
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32], order="C",
                              reset=first)
        if first:
            self._start(X, check_random_state(self.random_state))
        for batch in X.chunks() if streamed else [X]:
            self._partial_step(batch.astype(self.components_.dtype, copy=False))
        return self

    def _partial_step(self, X):
        """:meth:`partial_fit`'s online step on one batch, checked and logged."""
        start = time.perf_counter()
        # new arrays: learned arrays may be read-only (loaded from a file,
        # or shared)
        gram, data = self.code_gram_.copy(), self.code_data_.copy()
        with blas_single_thread():
            D, objective = self._online_step(X, self.components_.copy(), gram, data)
        self.code_gram_, self.code_data_ = gram, data
        check_divergence(self, [D], [*self.loss_curve_, objective], PARAMETER_BOUND,
                         rate_name=None)
        self.components_ = D
        self.n_iter_ = self.n_steps_
        self._log(self.n_steps_, objective, start)

    def _stream(self, X, reset, caller):
        """A streamed ``X`` (utils/streaming.py), every chunk read and checked
        once before training: bad data are refused before any update."""
        dtype, n_features = (None, None) if reset else (self.components_.dtype,
                                                        self.n_features_in_)
        return training_stream(self, X, caller, reset=reset, dtype=dtype, n_features=n_features,
                               batch_size=self.batch_size or 1).scan()

    @blockwise(width=lambda self: self.components_.shape[0],
               dtype=lambda self: self.components_.dtype)
    def transform(self, X):
        """Sparse codes of ``X`` against ``components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A dask array gives a dask array, computed block by block; an
            ``h5py.Dataset`` or a ``numpy.memmap`` is read a chunk at a time.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        if is_streamed(X):
            return stream_rows(X, self._codes, "SparseCoding.transform", None,
                               self.n_features_in_)
        return self._codes(validate_data(self, X, dtype=[np.float64, np.float32], order="C",
                                         reset=False))

    def _codes(self, X):
        """Codes of validated ``X`` against the dictionary in ``X``'s dtype."""
        return self._encode(X, np.ascontiguousarray(self.components_, dtype=X.dtype))

    def score(self, X, y=None):
        """Minus the sparse coding objective of ``X``'s codes (higher is better).

        ``-mean(0.5 * |x - a @ components_|^2 + alpha * |a|_1)`` with ``a``
        the codes of :meth:`transform`: what model selection
        (``GridSearchCV``, ``dask_ml``) maximises when no scoring is given.
        Only comparable between models of the same ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=False)
        D = np.ascontiguousarray(self.components_, dtype=X.dtype)
        return -float(_sparse_coding_objective(X, self._encode(X, D), D, float(self.alpha)))

    def inverse_transform(self, X):
        """Reconstruct data from codes: ``codes @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        codes = check_codes(X, self.components_.shape[0], "SparseCoding.inverse_transform")
        return codes @ self.components_.astype(codes.dtype, copy=False)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
