"""LASSO solvers and dictionary updates for sparse coding.

Every solver works on the Gram matrix ``G = D @ D.T`` (n_components,
n_components) and the correlations ``C = X @ D.T`` (n_samples,
n_components), which the caller computes with BLAS. Per sample they
minimise ``0.5 * a @ G @ a - c @ a + alpha * |a|_1`` (equal, up to the
constant ``0.5 * |x|^2``, to ``0.5 * |x - a @ D|^2 + alpha * |a|_1``).
``G`` is symmetric, so its column ``j`` is read as the contiguous row
``G[j]``. ``q`` is accumulated in float64 whatever the input dtype: its
rounding error would otherwise decide, for float32, which atoms enter and
when the duality gap is small enough. Throughout, ``q = c - G @ a`` is the correlation of every atom with the
residual, ``q_j = d_j . r``: the KKT conditions read ``q_j = alpha *
sign(a_j)`` on the support and ``|q_j| <= alpha`` off it.

Samples are independent, so each solver has a serial kernel and a
parallel twin that spreads ``n_chunks`` chunks of rows over threads (more
chunks than threads: rows differ in cost, and each chunk allocates its
workspace once); the serial one serves small batches, where thread start-up
costs more than it saves, and callers that are already parallel. The twins
run the serial kernel on each chunk from Python threads (the kernels
release the GIL), not as ``parallel=True`` kernels: a row loop gains
nothing from numba's parallel compilation, whose parfor costs seconds of
compilation at first use (4 s of a first ``SparseCoding`` fit, measured).
Codes ``A`` are updated in place, so a caller's previous codes are the warm
start.
"""

import numba
import numpy as np
from numba import prange

from ..utils._threads import run_blocks

# error_model="numpy" (set by _config): a division must not branch on a zero
# divisor, which blocks vectorisation; the solvers guard their divisors.
from ._config import kernel, parallel_kernel

__all__ = [
    "feature_sign", "feature_sign_parallel",
    "coordinate_descent", "coordinate_descent_parallel",
    "omp", "omp_parallel",
    "duality_gaps", "fista_prox_step",
    "bcd_dictionary_update",
]


# ---------------------------------------------------------------- helpers


@kernel
def _cholesky_rows(M, start, n):
    """Extend a lower Cholesky factor from ``start`` to ``n`` rows, in place.

    Rows ``< start`` of ``M`` already hold the factor; rows ``start..n-1``
    hold the lower triangle (with diagonal) of the matrix. Growing the
    factor a row at a time costs O(n^2) per new row, so an active set that
    gains one atom per step never pays for a full factorisation.

    Returns the index of the first pivot that is not safely positive (that
    row's atom is, to working precision, in the span of the earlier ones;
    its off-diagonal part is then computed), or -1.
    """
    floor = 100.0 * np.finfo(M.dtype).eps
    for j in range(start, n):
        for k in range(j):
            s = M[j, k]
            for m in range(k):
                s -= M[j, m] * M[k, m]
            M[j, k] = s / M[k, k]
        d = M[j, j]
        for k in range(j):
            d -= M[j, k] * M[j, k]
        if d <= floor * M[j, j] or not d > 0:
            return j
        M[j, j] = np.sqrt(d)
    return -1


@kernel
def _cholesky_solve(L, n, b, out):
    """Solve ``L L' out = b`` with the lower factor ``L[:n, :n]``."""
    for i in range(n):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * out[k]
        out[i] = s / L[i, i]
    for i in range(n - 1, -1, -1):
        s = out[i]
        for k in range(i + 1, n):
            s -= L[k, i] * out[k]
        out[i] = s / L[i, i]


@kernel
def _null_step(q, active, n_act, theta, alpha, p, L, x_cur, x_try):
    """Descent step along the null space of a dependent active set.

    Atom ``p`` of the active set is (numerically) a combination
    ``sum_k w_k d_k`` of the atoms before it, so moving the codes along
    ``z = (-w, 1, 0...)`` leaves the reconstruction unchanged and changes
    only the L1 term, linearly until a coefficient reaches zero. Feature-sign
    search as published assumes independent active atoms; this step (from
    the same convexity argument) lets it handle overcomplete dictionaries
    whose Gram matrix is singular. Returns False when neither direction
    descends.
    """
    # L[p, :p] = L_{<p}^{-1} G_{<p, p}, so w = L_{<p}^{-T} L[p, :p].
    z = x_try  # scratch until the step is known
    for i in range(n_act):
        z[i] = 0.0
    z[p] = 1.0
    for i in range(p - 1, -1, -1):
        s = L[p, i]
        for k in range(i + 1, p):
            s -= L[k, i] * (-z[k])
        z[i] = -s / L[i, i]
    best_slope = 0.0
    best_sign = 0.0
    for sign in (1.0, -1.0):
        slope = 0.0
        for k in range(n_act):
            dk = sign * z[k]
            slope -= q[active[k]] * dk
            if x_cur[k] != 0:
                slope += alpha * theta[active[k]] * dk
            else:
                slope += alpha * abs(dk)
        if slope < best_slope:
            best_slope = slope
            best_sign = sign
    if best_sign == 0.0:
        return False
    t_stop = np.inf
    k_stop = -1
    for k in range(n_act):
        dk = best_sign * z[k]
        if x_cur[k] * dk < 0:
            t = -x_cur[k] / dk
            if t < t_stop:
                t_stop = t
                k_stop = k
    if k_stop < 0:
        return False
    for k in range(n_act):
        x_try[k] = x_cur[k] + t_stop * best_sign * z[k]
    x_try[k_stop] = 0.0
    return True


@kernel
def _residual_correlation(G, c, a, q):
    """``q = c - G @ a`` using only the nonzeros of ``a``."""
    K = c.shape[0]
    for i in range(K):
        q[i] = c[i]
    for j in range(K):
        aj = a[j]
        if aj != 0:
            for i in range(K):
                q[i] -= G[j, i] * aj


@kernel
def _reduced_objective(G, c, idx, n, x, alpha):
    """``0.5 x G_SS x - c_S x + alpha |x|_1`` on the index set ``idx[:n]``."""
    f = 0.0
    for k in range(n):
        jk = idx[k]
        xk = x[k]
        if xk == 0:
            continue
        s = 0.5 * G[jk, jk] * xk
        for m in range(k):
            s += G[jk, idx[m]] * x[m]
        f += xk * (s - c[jk]) + alpha * abs(xk)
    return f


# ---------------------------------------------------------- feature-sign


@kernel
def _line_search(G, c, active, n_act, theta, alpha, x_cur, x_new, x_try):
    """Feature-sign line search from ``x_cur`` towards ``x_new`` into ``x_try``.

    Returns True when ``x_new`` keeps the signs ``theta`` (then it is the
    exact minimiser on that orthant and is taken whole). Otherwise the
    discrete line search of Lee et al.: the objective is convex along the
    segment and changes form only where a coefficient crosses zero, so the
    best of ``x_new`` and those crossings is taken.
    """
    consistent = True
    for k in range(n_act):
        if x_new[k] * theta[active[k]] <= 0:
            consistent = False
            break
    if consistent:
        for k in range(n_act):
            x_try[k] = x_new[k]
        return True
    best_f = _reduced_objective(G, c, active, n_act, x_new, alpha)
    best_t = 1.0
    best_k = -1
    for k in range(n_act):
        xc = x_cur[k]
        xn = x_new[k]
        if xc != 0 and xc * xn <= 0:
            t = xc / (xc - xn)
            for m in range(n_act):
                x_try[m] = x_cur[m] + t * (x_new[m] - x_cur[m])
            x_try[k] = 0.0
            f = _reduced_objective(G, c, active, n_act, x_try, alpha)
            if f < best_f:
                best_f = f
                best_t = t
                best_k = k
    for m in range(n_act):
        x_try[m] = x_cur[m] + best_t * (x_new[m] - x_cur[m])
    if best_k >= 0:
        x_try[best_k] = 0.0
    return False


# n_factored typed int64 from the start: its first value, the literal 0,
# would otherwise compile a second variant of _cholesky_rows for it.
@kernel(locals={"n_factored": numba.int64})
def _feature_sign_row(G, c, a, alpha, positive, max_iter, rtol,
                      active, theta, q, M, rhs, x_cur, x_new, x_try):
    """Feature-sign search (Lee, Battle, Raina & Ng 2007) for one sample.

    Returns the number of feature-sign steps, negated when ``max_iter`` was
    reached before the optimality conditions held.
    """
    K = c.shape[0]
    n_act = 0
    for j in range(K):
        if positive and a[j] < 0:
            a[j] = 0.0
        theta[j] = 0.0
        if a[j] != 0:
            active[n_act] = j
            n_act += 1
            theta[j] = 1.0 if a[j] > 0 else -1.0
    _residual_correlation(G, c, a, q)
    # An atom enters only when it violates |q_j| <= alpha by a relative
    # margin, so rounding noise cannot make it enter and leave forever.
    threshold = alpha * (1.0 + rtol)
    nz_optimal = n_act == 0
    n_factored = 0
    for it in range(1, max_iter + 1):
        if nz_optimal:
            best = -1
            best_v = threshold
            for j in range(K):
                if theta[j] == 0:
                    v = q[j] if positive else abs(q[j])
                    if v > best_v:
                        best_v = v
                        best = j
            if best < 0:
                return it - 1
            active[n_act] = best
            n_act += 1
            theta[best] = 1.0 if q[best] > 0 else -1.0
        # Minimiser of the quadratic on the orthant given by theta. M keeps
        # the Cholesky factor of G over the active set for its first
        # n_factored atoms (their order never changes); only new rows are
        # factored.
        for k in range(n_act):
            jk = active[k]
            x_cur[k] = a[jk]
            rhs[k] = c[jk] - alpha * theta[jk]
        for k in range(n_factored, n_act):
            jk = active[k]
            for m in range(k + 1):
                M[k, m] = G[jk, active[m]]
        p = _cholesky_rows(M, n_factored, n_act)
        n_factored = n_act if p < 0 else p
        if p >= 0:
            if not _null_step(q, active, n_act, theta, alpha, p, M,
                              x_cur, x_try):
                return -it
            nz_optimal = False
        else:
            _cholesky_solve(M, n_act, rhs, x_new)
            nz_optimal = _line_search(G, c, active, n_act, theta, alpha,
                                      x_cur, x_new, x_try)
        # Apply the step, update q incrementally, drop zeros from the set.
        for k in range(n_act):
            jk = active[k]
            delta = x_try[k] - a[jk]
            if delta != 0:
                for i in range(K):
                    q[i] -= G[jk, i] * delta
            a[jk] = x_try[k]
        kept = 0
        for k in range(n_act):
            jk = active[k]
            if a[jk] != 0:
                theta[jk] = 1.0 if a[jk] > 0 else -1.0
                active[kept] = jk
                kept += 1
            else:
                theta[jk] = 0.0
                # Rows after a removed atom belong to another matrix now.
                n_factored = min(n_factored, k)
        if kept < n_act:
            nz_optimal = False
        n_act = kept
        if n_act == 0:
            nz_optimal = True
    return -max_iter


@kernel
def _feature_sign_workspace(K, dtype_like):
    return (np.empty(K, np.int64), np.empty(K, dtype_like.dtype),
            np.empty(K, np.float64), np.empty((K, K), dtype_like.dtype),
            np.empty(K, dtype_like.dtype), np.empty(K, dtype_like.dtype),
            np.empty(K, dtype_like.dtype), np.empty(K, dtype_like.dtype))


@kernel
def feature_sign(G, C, A, alpha, positive, max_iter, rtol, n_iter):
    """Feature-sign search on every row of ``C``; codes ``A`` in place."""
    ws = _feature_sign_workspace(C.shape[1], C)
    for i in range(C.shape[0]):
        n_iter[i] = _feature_sign_row(G, C[i], A[i], alpha, positive,
                                      max_iter, rtol, *ws)


def feature_sign_parallel(G, C, A, alpha, positive, max_iter, rtol, n_iter, n_chunks):
    """Parallel twin of :func:`feature_sign` (rows over threads)."""
    _over_threads(feature_sign, n_chunks, (G, C, A, alpha, positive, max_iter, rtol, n_iter),
                  rows=(1, 2, 7))


# ------------------------------------------------- coordinate descent


@kernel
def _soft_threshold(z, alpha, positive):
    if positive:
        return z - alpha if z > alpha else 0.0
    if z > alpha:
        return z - alpha
    if z < -alpha:
        return z + alpha
    return 0.0


@kernel
def _cd_update(G, c, a, q, j, alpha, positive):
    """Exact minimisation along coordinate ``j``; returns |change|."""
    gjj = G[j, j]
    if gjj <= 0:
        return 0.0
    old = a[j]
    a[j] = _soft_threshold(q[j] + gjj * old, alpha, positive) / gjj
    delta = a[j] - old  # after rounding to a's dtype, so q stays consistent
    if delta != 0:
        for i in range(c.shape[0]):
            q[i] -= G[j, i] * delta
    return abs(delta) * np.sqrt(gjj)


@kernel
def _duality_gap(c, a, q, xnorm2, alpha, positive):
    """Primal minus dual objective of the LASSO at ``a`` (``q = c - G a``).

    The dual point is the residual scaled into the dual feasible set
    ``{nu : |D nu|_inf <= alpha}`` (``D nu <= alpha`` for positive codes).
    """
    ca = 0.0
    aq = 0.0
    l1 = 0.0
    qmax = 0.0
    for j in range(c.shape[0]):
        ca += c[j] * a[j]
        aq += a[j] * q[j]
        l1 += abs(a[j])
        v = q[j] if positive else abs(q[j])
        if v > qmax:
            qmax = v
    r2 = max(xnorm2 - ca - aq, 0.0)  # |r|^2 = |x|^2 - c.a - a.q
    s = 1.0 if qmax <= alpha else alpha / qmax
    xr = xnorm2 - ca  # x . r
    return 0.5 * r2 * (1.0 + s * s) + alpha * l1 - s * xr


@kernel
def _cd_row(G, c, a, xnorm2, alpha, positive, max_iter, tol, q):
    """Cyclic coordinate descent with active-set sweeps for one sample.

    A full sweep over all atoms is followed by sweeps over the support only
    (cheap: support << atoms) until they stall; the duality gap, checked
    after each full sweep, decides convergence. Returns the number of
    sweeps, negated when ``max_iter`` was reached first.
    """
    K = c.shape[0]
    if positive:
        for j in range(K):
            if a[j] < 0:
                a[j] = 0.0
    gap_tol = tol * 0.5 * xnorm2
    n_sweeps = 0
    while n_sweeps < max_iter:
        # Fresh q at each full sweep keeps incremental rounding in check.
        _residual_correlation(G, c, a, q)
        if _duality_gap(c, a, q, xnorm2, alpha, positive) <= gap_tol:
            return n_sweeps
        biggest = 0.0
        for j in range(K):
            biggest = max(biggest, _cd_update(G, c, a, q, j, alpha, positive))
        n_sweeps += 1
        inner_tol = 1e-3 * biggest
        while n_sweeps < max_iter:
            moved = 0.0
            for j in range(K):
                if a[j] != 0:
                    moved = max(moved, _cd_update(G, c, a, q, j, alpha, positive))
            n_sweeps += 1
            if moved <= inner_tol:
                break
    _residual_correlation(G, c, a, q)
    if _duality_gap(c, a, q, xnorm2, alpha, positive) <= gap_tol:
        return n_sweeps
    return -max_iter


@kernel
def coordinate_descent(G, C, A, xnorm2, alpha, positive, max_iter, tol, n_iter):
    """Coordinate descent on every row of ``C``; codes ``A`` in place."""
    q = np.empty(C.shape[1], np.float64)
    for i in range(C.shape[0]):
        n_iter[i] = _cd_row(G, C[i], A[i], xnorm2[i], alpha, positive,
                            max_iter, tol, q)


def coordinate_descent_parallel(G, C, A, xnorm2, alpha, positive, max_iter,
                                tol, n_iter, n_chunks):
    """Parallel twin of :func:`coordinate_descent`."""
    _over_threads(coordinate_descent, n_chunks,
                  (G, C, A, xnorm2, alpha, positive, max_iter, tol, n_iter), rows=(1, 2, 3, 8))


@parallel_kernel
def duality_gaps(C, A, Q, xnorm2, alpha, positive, out):
    """Duality gap of every row, given ``Q = C - A @ G`` (from BLAS)."""
    for i in prange(C.shape[0]):
        out[i] = _duality_gap(C[i], A[i], Q[i], xnorm2[i], alpha, positive)


# ----------------------------------------------------------------- FISTA


@parallel_kernel
def fista_prox_step(Y, grad, A, step, alpha, positive, t):
    """One proximal-gradient step from ``Y`` plus momentum, per row.

    ``A`` (the previous iterate) becomes the new iterate and ``Y`` the
    extrapolated point. ``t`` holds each row's momentum parameter; a row
    whose step points against its momentum (O'Donoghue & Candes 2015
    gradient restart) restarts with ``t = 1``, which keeps FISTA's rate and
    adds the linear convergence that the sparse LASSO allows.
    """
    n, K = A.shape
    thr = alpha * step
    for i in prange(n):
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t[i] * t[i]))
        dot = 0.0
        for j in range(K):
            z = _soft_threshold(Y[i, j] - step * grad[i, j], thr, positive)
            dot += (Y[i, j] - z) * (z - A[i, j])
            grad[i, j] = z  # scratch: the new iterate
        if dot > 0:
            t_new = 1.0
            beta = 0.0
        else:
            beta = (t[i] - 1.0) / t_new
        for j in range(K):
            z = grad[i, j]
            Y[i, j] = z + beta * (z - A[i, j])
            A[i, j] = z
        t[i] = t_new


# ------------------------------------------------------------------- OMP


@kernel
def _omp_row(G, c, a, n_nonzero, alpha, idx, L, w, q, sol):
    """Orthogonal matching pursuit on the Gram matrix for one sample.

    Atoms enter greedily by largest ``|d_j . r|`` until ``n_nonzero`` are
    in or none correlates with the residual by more than ``alpha``; the
    codes are the least-squares fit on the chosen atoms, kept through an
    incrementally grown Cholesky factor of ``G_SS``.
    """
    K = c.shape[0]
    for j in range(K):
        a[j] = 0.0
        q[j] = c[j]
    n = 0
    while n < n_nonzero:
        best = -1
        best_v = alpha
        for j in range(K):
            v = abs(q[j])
            if v > best_v:
                chosen = False
                for k in range(n):
                    if idx[k] == j:
                        chosen = True
                if not chosen:
                    best_v = v
                    best = j
        if best < 0:
            break
        for k in range(n):
            L[n, k] = G[best, idx[k]]
        L[n, n] = G[best, best]
        if _cholesky_rows(L, n, n + 1) >= 0:
            break  # the atom is in the span of the chosen ones
        idx[n] = best
        n += 1
        for k in range(n):
            w[k] = c[idx[k]]
        _cholesky_solve(L, n, w, sol)
        for j in range(K):
            a[j] = 0.0
        for k in range(n):
            a[idx[k]] = sol[k]
        _residual_correlation(G, c, a, q)
    return n


@kernel
def _omp_workspace(K, n_nonzero, dtype_like):
    dt = dtype_like.dtype
    return (np.empty(n_nonzero, np.int64), np.empty((n_nonzero, n_nonzero), dt),
            np.empty(n_nonzero, dt), np.empty(K, dt), np.empty(n_nonzero, dt))


@kernel
def omp(G, C, A, n_nonzero, alpha, n_iter):
    """OMP on every row of ``C``; codes written to ``A``."""
    ws = _omp_workspace(C.shape[1], n_nonzero, C)
    for i in range(C.shape[0]):
        n_iter[i] = _omp_row(G, C[i], A[i], n_nonzero, alpha, *ws)


def omp_parallel(G, C, A, n_nonzero, alpha, n_iter, n_chunks):
    """Parallel twin of :func:`omp`."""
    _over_threads(omp, n_chunks, (G, C, A, n_nonzero, alpha, n_iter), rows=(1, 2, 5))


# ------------------------------------------------------ parallel twins


def _over_threads(serial, n_chunks, args, rows):
    """Run ``serial(*args)`` on ``n_chunks`` chunks of rows from threads
    (``utils._threads.run_blocks``): the arguments at the positions
    ``rows`` are cut into row blocks, the others passed whole. Each thread
    takes the next chunk when it finishes one, as rows differ in cost."""
    n = args[rows[0]].shape[0]
    n_chunks = max(1, min(n_chunks, n))

    def work(ch):
        lo, hi = ch * n // n_chunks, (ch + 1) * n // n_chunks
        serial(*[a[lo:hi] if i in rows else a for i, a in enumerate(args)])

    run_blocks(work, n_chunks)


# ------------------------------------------------------ dictionary step


@kernel
def bcd_dictionary_update(D, A, B, n_sweeps):
    """Block coordinate descent on the atoms (Mairal et al. 2010, Alg. 2).

    Minimises ``0.5 tr(D' A D) - tr(D' B)`` (the reconstruction error for
    codes with ``A = S' S``, ``B = S' X``) over ``D`` with ``|d_j| <= 1``,
    one atom at a time, exactly: ``d_j <- proj(d_j + (b_j - a_j' D) /
    A_jj)``. Atoms with ``A_jj == 0`` (unused) are left alone for the
    caller to resample. ``D`` is updated in place.
    """
    K, F = D.shape
    u = np.empty(F, D.dtype)
    for _ in range(n_sweeps):
        for j in range(K):
            ajj = A[j, j]
            if ajj <= 0:
                continue
            for f in range(F):
                u[f] = B[j, f]
            for k in range(K):
                akj = A[j, k]
                if akj != 0:
                    for f in range(F):
                        u[f] -= akj * D[k, f]
            norm2 = 0.0
            for f in range(F):
                u[f] = D[j, f] + u[f] / ajj
                norm2 += u[f] * u[f]
            scale = 1.0 / max(1.0, np.sqrt(norm2))
            for f in range(F):
                D[j, f] = u[f] * scale


@kernel
def code_statistics(X, codes, D, weight, gram, data, used):
    """Add one batch to Mairal's statistics from the nonzero codes only.

    ``gram += weight * codes' codes`` (K, K), ``data += weight * codes' X``
    (K, F) and ``used[k] = True`` for every atom with a nonzero code, in
    place; returns the batch's ``sum |x - a D|^2`` and ``sum |a|_1`` (float64),
    the reconstruction made with ``D``. A LASSO code holds a few nonzeros of
    K, so a row costs ``nnz * (nnz + F)`` operations where the dense products
    (and the residual ``X - codes @ D``) cost ``K * (K + 2F)``: about 20x
    fewer for 256 atoms of 64 features at 8 nonzeros.
    """
    n, F = X.shape
    K = D.shape[0]
    support = np.empty(K, np.int64)
    r = np.empty(F, np.float64)
    sq = 0.0
    l1 = 0.0
    for i in range(n):
        m = 0
        for k in range(K):
            if codes[i, k] != 0:
                support[m] = k
                m += 1
        for f in range(F):
            r[f] = X[i, f]
        for s in range(m):
            k = support[s]
            a = codes[i, k]
            l1 += abs(a)
            used[k] = True
            wa = weight * a
            for f in range(F):
                r[f] -= a * D[k, f]
                data[k, f] += wa * X[i, f]
            for t in range(m):
                gram[k, support[t]] += wa * codes[i, support[t]]
        for f in range(F):
            sq += r[f] * r[f]
    return sq, l1
