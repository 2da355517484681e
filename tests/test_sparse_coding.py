"""Sparse coding: LASSO solvers, dictionary steps and the SparseCoding estimator."""

import re
import warnings

import numpy as np
import pytest
from sklearn.decomposition import sparse_encode as sk_sparse_encode
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import orthogonal_mp_gram

from deepzoo import SparseCoding, sparse_encode
from deepzoo._kernels import lasso as k
from deepzoo.datasets import extract_natural_patches
from deepzoo.layers._sparse_coding import sparse_coding_objective, update_dictionary

from . import naive

LASSO_SOLVERS = ["feature_sign", "cd", "fista"]
# Tight settings for the optimality tests: feature-sign is exact; CD and
# FISTA run until the duality gap is 1e-11 (CD) or 1e-13 (FISTA) of
# 0.5 |x|^2. CD on an ill-conditioned support creeps below 1e-11 (one
# random sample stalls near 5e-12 with KKT residuals of 1e-11); FISTA's
# iterates keep tiny coefficients whose KKT residual barely moves the gap,
# so it needs the tighter gap to bring every residual under 1e-6 (on a
# learned 256-atom dictionary: 1.3e-6 at 1e-12, 2.3e-7 at 1e-13).
TIGHT = {"feature_sign": {}, "cd": {"tol": 1e-11, "max_iter": 100000},
         "fista": {"tol": 1e-13, "max_iter": 100000}}


def _unit_rows(D):
    return D / np.linalg.norm(D, axis=1, keepdims=True)


def _random_problem(n=30, n_features=12, n_components=24, seed=0):
    rng = np.random.default_rng(seed)
    D = _unit_rows(rng.standard_normal((n_components, n_features)))
    X = rng.standard_normal((n, n_features))
    return X, D


@pytest.fixture(scope="module")
def patches():
    """Whitened 8x8 natural patches and 96 unit atoms cut from other patches."""
    X = extract_natural_patches(200, 8, random_state=0)
    D = _unit_rows(extract_natural_patches(96, 8, random_state=1))
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    return X, D, alpha


def _sklearn_objective(X, D, alpha, positive=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes = sk_sparse_encode(X, D, algorithm="lasso_cd", alpha=alpha,
                                 max_iter=100000, positive=positive)
    return sparse_coding_objective(X, codes, D, alpha)


# ----------------------------------------------------------- optimality


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("solver", LASSO_SOLVERS)
def test_kkt_and_objective_random(solver, positive):
    X, D = _random_problem()
    alpha = 0.4
    codes = sparse_encode(X, D, alpha, solver=solver, positive=positive, **TIGHT[solver])
    assert np.count_nonzero(codes) > X.shape[0]  # not the trivial solution
    if positive:
        assert codes.min() >= 0
    assert naive.lasso_kkt_violation(X, codes, D, alpha, positive) <= 1e-6
    ours = sparse_coding_objective(X, codes, D, alpha)
    per_sample = [naive.lasso_objective(x, a, D, alpha) for x, a in zip(X, codes)]
    assert ours == pytest.approx(np.mean(per_sample), rel=1e-13)
    ref = _sklearn_objective(X, D, alpha, positive)
    assert abs(ours - ref) <= 1e-6 * ref
    assert ours <= ref * (1 + 1e-12)


@pytest.mark.parametrize("solver", LASSO_SOLVERS)
def test_kkt_and_objective_natural_patches(solver, patches):
    X, D, alpha = patches
    codes = sparse_encode(X, D, alpha, solver=solver, **TIGHT[solver])
    nnz = np.count_nonzero(codes, axis=1).mean()
    assert 3 <= nnz <= 20
    assert naive.lasso_kkt_violation(X, codes, D, alpha) <= 1e-6
    ours = sparse_coding_objective(X, codes, D, alpha)
    ref = _sklearn_objective(X, D, alpha)
    assert abs(ours - ref) <= 1e-6 * ref


def test_feature_sign_singular_gram():
    # Duplicated atoms and more atoms than features: the Gram matrix is
    # singular and active sets become dependent (the null-space step).
    rng = np.random.default_rng(3)
    base = _unit_rows(rng.standard_normal((6, 4)))
    D = np.vstack([base, base[:3], -base[3:5]])
    X = rng.standard_normal((40, 4)) * 3
    for dtype, tol in [(np.float64, 1e-6), (np.float32, 1e-3)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            codes = sparse_encode(X.astype(dtype), D.astype(dtype), 0.3)
        assert naive.lasso_kkt_violation(X, codes.astype(np.float64), D, 0.3) <= tol
        ref = _sklearn_objective(X, D, 0.3)
        assert sparse_coding_objective(X, codes.astype(np.float64), D, 0.3) <= ref * (1 + tol)


def test_alpha_zero_and_large_alpha():
    X, D = _random_problem(n=5, n_features=6, n_components=4)
    codes = sparse_encode(X, D, 0.0)  # least squares on an undercomplete basis
    expected, *_ = np.linalg.lstsq(D.T, X.T, rcond=None)
    np.testing.assert_allclose(codes, expected.T, atol=1e-10)
    big = np.abs(X @ D.T).max() * 1.01
    for solver in ["feature_sign", "cd", "fista", "omp"]:
        assert not sparse_encode(X, D, big, solver=solver).any()


def test_warm_start_from_the_solution_is_a_fixed_point():
    X, D = _random_problem(n=20)
    G, C = D @ D.T, X @ D.T
    codes = sparse_encode(X, D, 0.3)
    n_iter = np.empty(len(X), dtype=np.int64)
    A = codes.copy()
    k.feature_sign(G, C, A, 0.3, False, 100, 1e-10, n_iter)
    # One step re-solves the orthant system; nothing enters or leaves.
    assert n_iter.max() <= 1
    np.testing.assert_allclose(A, codes, atol=1e-12)
    warm = sparse_encode(X, D, 0.3, solver="cd", init=codes, tol=1e-12)
    np.testing.assert_allclose(warm, codes, atol=1e-9)


# ------------------------------------------------ kernels vs references


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-8), (np.float32, 2e-4)])
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_kernels_match_naive_coordinate_descent(dtype, atol, positive):
    X, D = _random_problem(n=8, n_features=10, n_components=15, seed=1)
    alpha = 0.3
    expected = np.array([naive.lasso_coordinate_descent(x, D, alpha, positive) for x in X])
    Xd, Dd = X.astype(dtype), D.astype(dtype)
    G, C = Dd @ Dd.T, Xd @ Dd.T
    xnorm2 = np.einsum("ij,ij->i", Xd, Xd)
    tol = 1e-11 if dtype == np.float64 else 1e-5
    n_iter = np.empty(len(X), dtype=np.int64)
    for run in [
        lambda A: k.feature_sign(G, C, A, alpha, positive, 1000, tol, n_iter),
        lambda A: k.feature_sign_parallel(G, C, A, alpha, positive, 1000, tol, n_iter, 3),
        lambda A: k.coordinate_descent(G, C, A, xnorm2, alpha, positive, 100000, tol, n_iter),
        lambda A: k.coordinate_descent_parallel(G, C, A, xnorm2, alpha, positive, 100000,
                                                tol, n_iter, 3),
    ]:
        A = np.zeros_like(C)
        run(A)
        assert A.dtype == dtype
        assert (n_iter >= 0).all()
        np.testing.assert_allclose(A, expected, atol=atol)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_duality_gap_kernel_matches_naive(dtype, rtol):
    X, D = _random_problem(n=6, seed=2)
    rng = np.random.default_rng(0)
    A = (rng.standard_normal((6, D.shape[0])) * (rng.random((6, D.shape[0])) < 0.3)).astype(dtype)
    Xd, Dd = X.astype(dtype), D.astype(dtype)
    C = Xd @ Dd.T
    Q = C - A @ (Dd @ Dd.T)
    for positive in [False, True]:
        out = np.empty(6, dtype=dtype)
        k.duality_gaps(C, A, Q, np.einsum("ij,ij->i", Xd, Xd), 0.5, positive, out)
        expected = [naive.lasso_duality_gap(x, a, D, 0.5, positive)
                    for x, a in zip(X, A.astype(np.float64))]
        np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_fista_step_matches_naive(dtype, atol):
    rng = np.random.default_rng(4)
    Y, grad, A = (rng.standard_normal((7, 9)).astype(dtype) for _ in range(3))
    t = (1 + rng.random(7) * 3)
    for positive in [False, True]:
        A_ref, Y_ref, t_ref = naive.fista_prox_step(Y.astype(float), grad.astype(float),
                                                    A.astype(float), 0.3, 0.5, positive, t)
        Yk, gk, Ak, tk = Y.copy(), grad.copy(), A.copy(), t.copy()
        k.fista_prox_step(Yk, gk, Ak, 0.3, 0.5, positive, tk)
        np.testing.assert_allclose(Ak, A_ref, atol=atol)
        np.testing.assert_allclose(Yk, Y_ref, atol=atol * 10)
        np.testing.assert_allclose(tk, t_ref, atol=1e-12)


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_omp_matches_naive_and_sklearn(dtype, atol):
    X, D = _random_problem(n=10, n_features=16, n_components=30, seed=5)
    G, C = D @ D.T, X @ D.T
    expected = np.array([naive.orthogonal_matching_pursuit(x, D, 5) for x in X])
    np.testing.assert_allclose(orthogonal_mp_gram(G, C.T, n_nonzero_coefs=5).T, expected,
                               atol=1e-10)
    for parallel in [False, True]:
        A = np.zeros_like(C, dtype=dtype)
        n_iter = np.empty(len(X), dtype=np.int64)
        if parallel:
            k.omp_parallel(G.astype(dtype), C.astype(dtype), A, 5, 0.0, n_iter, 4)
        else:
            k.omp(G.astype(dtype), C.astype(dtype), A, 5, 0.0, n_iter)
        assert (n_iter == 5).all()
        np.testing.assert_allclose(A, expected, atol=atol)
    # The residual is orthogonal to the chosen atoms; alpha stops selection.
    codes = sparse_encode(X, D, 0.0, solver="omp", n_nonzero_coefs=5)
    R = (X - codes @ D) @ D.T
    assert np.abs(R[codes != 0]).max() <= 1e-10
    stopped = sparse_encode(X, D, 0.8, solver="omp", n_nonzero_coefs=30)
    ref = np.array([naive.orthogonal_matching_pursuit(x, D, 30, 0.8) for x in X])
    np.testing.assert_allclose(stopped, ref, atol=1e-10)


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_bcd_kernel_matches_naive(dtype, atol):
    rng = np.random.default_rng(6)
    S = rng.standard_normal((50, 8)) * (rng.random((50, 8)) < 0.4)
    S[:, 3] = 0  # an unused atom is skipped
    X = rng.standard_normal((50, 5))
    D = _unit_rows(rng.standard_normal((8, 5)))
    A, B = S.T @ S, S.T @ X
    expected = naive.bcd_dictionary_sweep(naive.bcd_dictionary_sweep(D, A, B), A, B)
    got = D.astype(dtype)
    k.bcd_dictionary_update(got, A.astype(dtype), B.astype(dtype), 2)
    np.testing.assert_allclose(got, expected, atol=atol)
    np.testing.assert_array_equal(got[3], D[3].astype(dtype))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_code_statistics_kernel_matches_naive(dtype, rtol):
    rng = np.random.default_rng(8)
    S = rng.standard_normal((40, 12)) * (rng.random((40, 12)) < 0.3)
    S[:, 5] = 0  # an atom no code uses
    S[7] = 0  # a sample coded by nothing
    X = rng.standard_normal((40, 9))
    D = _unit_rows(rng.standard_normal((12, 9)))
    gram0, data0 = rng.standard_normal((12, 12)), rng.standard_normal((12, 9))
    gram, data = gram0.astype(dtype), data0.astype(dtype)
    used = np.zeros(12, bool)
    sq, l1 = k.code_statistics(X.astype(dtype), S.astype(dtype), D.astype(dtype), 0.25,
                               gram, data, used)
    ref_gram, ref_data, ref_used, ref_sq, ref_l1 = naive.code_statistics(X, S, D, 0.25)
    atol = 10 * rtol
    np.testing.assert_allclose(gram, gram0 + ref_gram, rtol=rtol, atol=atol)
    np.testing.assert_allclose(data, data0 + ref_data, rtol=rtol, atol=atol)
    np.testing.assert_array_equal(used, ref_used)
    assert not used[5]
    np.testing.assert_allclose([sq, l1], [ref_sq, ref_l1], rtol=rtol)


@pytest.mark.parametrize("density", [0.05, 1.0])  # the sparse kernel, then BLAS
def test_batch_statistics_match_naive_sparse_or_dense(density):
    from deepzoo.layers._sparse_coding import _add_statistics

    rng = np.random.default_rng(9)
    S = rng.standard_normal((30, 64)) * (rng.random((30, 64)) < density)
    S[:, 2] = 0
    X = rng.standard_normal((30, 16))
    D = _unit_rows(rng.standard_normal((64, 16)))
    gram, data = np.ones((64, 64)), np.ones((64, 16))
    objective, used = _add_statistics(X, S, D, 0.3, 0.5, gram, data)
    ref_gram, ref_data, ref_used, ref_sq, ref_l1 = naive.code_statistics(X, S, D, 0.5)
    np.testing.assert_allclose(gram, 1 + ref_gram, rtol=1e-12)
    np.testing.assert_allclose(data, 1 + ref_data, rtol=1e-12)
    np.testing.assert_array_equal(used, ref_used)
    np.testing.assert_allclose(objective, (0.5 * ref_sq + 0.3 * ref_l1) / 30, rtol=1e-12)


# ------------------------------------------------------- dictionary step


def _dictionary_problem(seed=7):
    X = extract_natural_patches(300, 6, random_state=seed)
    rng = np.random.default_rng(seed)
    D0 = _unit_rows(rng.standard_normal((48, 36)))
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    S = sparse_encode(X, D0, alpha)
    return X, D0, S


def test_dictionary_step_decreases_objective_and_bounds_norms():
    X, D0, S = _dictionary_problem()
    A, B = S.T @ S, S.T @ X

    def error(D):
        return 0.5 * np.sum((X - S @ D) ** 2)

    D, previous = D0, error(D0)
    for _ in range(20):  # every BCD sweep decreases the objective
        D = update_dictionary(D, A, B, method="bcd", max_iter=1)
        assert error(D) <= previous * (1 + 1e-14)
        assert np.linalg.norm(D, axis=1).max() <= 1 + 1e-12
        previous = error(D)
    bcd = update_dictionary(D0, A, B, method="bcd", max_iter=5000, tol=1e-13)
    dual = update_dictionary(D0, A, B, method="lagrange_dual")
    assert abs(error(bcd) - error(dual)) <= 1e-9 * error(dual)
    assert error(dual) < error(D0)
    np.testing.assert_allclose(dual, bcd, atol=1e-5)
    used = np.diag(A) > 0
    norms = np.linalg.norm(dual[used], axis=1)
    assert norms.max() <= 1 + 1e-12


@pytest.mark.parametrize("dict_solver", ["bcd", "lagrange_dual"])
def test_fit_objective_monotone_with_unit_atoms(dict_solver):
    X, _, _ = _dictionary_problem(seed=8)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sc = SparseCoding(48, alpha=alpha, dict_solver=dict_solver, max_iter=8,
                          random_state=0).fit(X)
    curve = np.array(sc.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * curve[1:])
    assert curve[-1] < 0.95 * curve[0]
    np.testing.assert_allclose(np.linalg.norm(sc.components_, axis=1), 1, atol=1e-12)
    codes = sc.transform(X)
    assert sparse_coding_objective(X, codes, sc.components_, alpha) <= curve[-1] * (1 + 1e-12)
    np.testing.assert_allclose(sc.inverse_transform(codes), codes @ sc.components_)


def test_bcd_and_dual_learn_the_same_dictionary():
    X, _, _ = _dictionary_problem(seed=9)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    fits = []
    for dict_solver in ["bcd", "lagrange_dual"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(SparseCoding(24, alpha=alpha, dict_solver=dict_solver, max_iter=3,
                                     random_state=0).fit(X))
    np.testing.assert_allclose(fits[0].loss_curve_, fits[1].loss_curve_, rtol=1e-7)


# ------------------------------------------------------------ estimator


def test_online_learning_partial_fit_and_minibatch_fit():
    X = extract_natural_patches(2000, 6, random_state=10)
    held_out = extract_natural_patches(300, 6, random_state=11)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    init = _unit_rows(X[-54:])
    before = sparse_coding_objective(held_out, sparse_encode(held_out, init, alpha), init,
                                     alpha)
    sc = SparseCoding(54, alpha=alpha, dict_init=init, random_state=0)
    for lo in range(0, len(X), 200):
        sc.partial_fit(X[lo: lo + 200])
    after = sparse_coding_objective(held_out, sc.transform(held_out), sc.components_, alpha)
    assert after < 0.9 * before  # learned from ten batches, better on unseen data
    assert sc.n_steps_ == 10 and len(sc.loss_curve_) == 10
    assert sc.code_gram_.shape == (54, 54) and sc.code_data_.shape == (54, 36)
    np.testing.assert_allclose(np.linalg.norm(sc.components_, axis=1), 1, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mb = SparseCoding(54, alpha=alpha, dict_init=init, batch_size=200, max_iter=2,
                          random_state=0).fit(X)
    assert mb.n_steps_ == 20 and mb.n_iter_ == 2
    assert mb.loss_curve_[1] < mb.loss_curve_[0]
    assert sparse_coding_objective(held_out, mb.transform(held_out), mb.components_,
                                   alpha) < 0.9 * before


def test_online_fit_forgets_the_passes_before_the_last():
    # fit knows its training set: past the first pass (the same steps as
    # partial_fit on the same batches, bit for bit) it drops the statistics
    # of the pass before the last and caps the past at two passes, and
    # reaches a lower objective at equal steps than partial_fit, which
    # keeps every batch's statistics.
    X = extract_natural_patches(1000, 6, random_state=20)
    held_out = extract_natural_patches(500, 6, random_state=21)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    init = _unit_rows(X[:54])

    def by_fit(passes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return SparseCoding(54, alpha=alpha, dict_init=init, batch_size=100,
                                max_iter=passes, tol=0, random_state=0).fit(X)

    def by_partial_fit(passes):
        sc = SparseCoding(54, alpha=alpha, dict_init=init, random_state=0)
        rng = np.random.RandomState(0)  # fit's batches: one permutation a pass
        for _ in range(passes):
            order = rng.permutation(len(X))
            for lo in range(0, len(X), 100):
                sc.partial_fit(X[order[lo: lo + 100]])
        return sc

    def objective(sc):
        return sparse_coding_objective(held_out, sc.transform(held_out), sc.components_, alpha)

    fit, partial = by_fit(1), by_partial_fit(1)
    np.testing.assert_array_equal(fit.components_, partial.components_)
    np.testing.assert_array_equal(fit.code_gram_, partial.code_gram_)
    np.testing.assert_array_equal(fit.code_data_, partial.code_data_)
    fit, partial = by_fit(10), by_partial_fit(10)
    assert fit.n_steps_ == partial.n_steps_ == 100
    assert objective(fit) < 0.99 * objective(partial)  # measured: 4.093 against 4.148


def test_online_fit_counts_a_short_batch_for_its_rows():
    # The rest of a pass (here 1 row after 99 batches of 10) is not a full
    # batch: its codes enter the statistics with weight 1 / batch_size and
    # the past forgets one sample's worth, not batch_size samples' worth
    # (Mairal's rule at step t = 100: theta = eta^2 + t + 1 - eta = 191).
    X = extract_natural_patches(991, 6, random_state=22)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sc = SparseCoding(54, alpha=alpha, dict_init=_unit_rows(X[:54]), batch_size=10,
                          max_iter=1, random_state=0).fit(X)
    assert sc.n_steps_ == 100
    gram, data = sc.code_gram_.copy(), sc.code_data_.copy()
    D = sc.components_.copy()
    row = X[:1]
    window = (np.stack([np.zeros_like(gram), gram]), np.stack([np.zeros_like(data), data]))
    sc._online_step(row, sc.components_, *window, X.shape[0], 10)
    codes = sparse_encode(row, D, alpha)
    beta = (191 + 1 - 1) / (191 + 1)
    np.testing.assert_allclose(window[0][1], beta * gram + codes.T @ codes / 10,
                               rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(window[1][1], beta * data + codes.T @ row / 10,
                               rtol=1e-10, atol=1e-15)


def test_online_lagrange_dual_step():
    # Rarely used atoms make the dual's Hessian badly scaled: no warning,
    # and the exact dictionary step is at least as good as one BCD sweep.
    X = extract_natural_patches(2000, 6, random_state=15)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    objectives = {}
    for dict_solver in ["bcd", "lagrange_dual"]:
        sc = SparseCoding(54, alpha=alpha, dict_solver=dict_solver, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for lo in range(0, len(X), 250):
                sc.partial_fit(X[lo: lo + 250])
        np.testing.assert_allclose(np.linalg.norm(sc.components_, axis=1), 1, atol=1e-12)
        objectives[dict_solver] = sparse_coding_objective(
            X, sc.transform(X), sc.components_, alpha)
    assert objectives["lagrange_dual"] <= objectives["bcd"] * 1.01


def test_dead_atoms_are_resampled():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((80, 6))
    X[:, 5] = 0  # no data along e_5
    init = np.eye(6)[[0, 1, 2, 3, 4, 5]]
    sc = SparseCoding(6, alpha=0.1, dict_init=init, max_iter=2, tol=0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        sc.fit(X)
    assert sc.n_resampled_ >= 1
    assert abs(sc.components_[5, 5]) < 1e-12  # e_5 was replaced by a data direction
    assert np.count_nonzero(sc.transform(X)[:, 5]) > 0


def test_verbose_prints_the_objective(capsys):
    X = np.random.default_rng(13).standard_normal((40, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseCoding(7, alpha=0.2, max_iter=3, verbose=1, random_state=0).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    pattern = r"\[SparseCoding\] Iteration \d+, objective = [-\d.e+]+, time = [\d.]+s"
    assert all(re.fullmatch(pattern, line) for line in lines)


@pytest.mark.parametrize("solver", ["feature_sign", "cd", "fista", "omp"])
def test_float32_is_preserved_and_close_to_float64(solver):
    X = extract_natural_patches(200, 6, random_state=14)
    alpha = 0.2 * float(np.mean(np.linalg.norm(X, axis=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sc64 = SparseCoding(30, alpha=alpha, solver=solver, n_nonzero_coefs=4, max_iter=3,
                            random_state=0).fit(X)
        sc32 = SparseCoding(30, alpha=alpha, solver=solver, n_nonzero_coefs=4, max_iter=3,
                            random_state=0).fit(X.astype(np.float32))
    assert sc32.components_.dtype == np.float32
    codes32 = sc32.transform(X.astype(np.float32))
    assert codes32.dtype == np.float32
    obj32 = sparse_coding_objective(X, codes32.astype(float), sc32.components_.astype(float),
                                    alpha)
    obj64 = sparse_coding_objective(X, sc64.transform(X), sc64.components_, alpha)
    assert abs(obj32 - obj64) <= 1e-3 * obj64


def test_bad_input_is_explained():
    X, D = _random_problem(n=4)
    with pytest.raises(ValueError, match="positive=True is not available with solver='omp'"):
        sparse_encode(X, D, 0.1, solver="omp", positive=True)
    with pytest.raises(ValueError, match="dictionary has 11 features per atom but X has 12"):
        sparse_encode(X, D[:, :11], 0.1)
    with pytest.raises(ValueError, match=r"init has shape \(4, 3\)"):
        sparse_encode(X, D, 0.1, init=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="alpha"):
        sparse_encode(X, D, -1.0)
    with pytest.raises(ValueError, match=r"dict_init has shape \(3, 12\)"):
        SparseCoding(5, dict_init=np.ones((3, 12))).fit(X)
    # 20 samples: 4 are fitted exactly after one iteration (the objective
    # stops changing, which is convergence even at tol=0)
    sc = SparseCoding(5, max_iter=2, tol=0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        sc.fit(_random_problem(n=20)[0])
    with pytest.raises(ValueError, match="expects codes with 5 columns"):
        sc.inverse_transform(np.zeros((2, 4)))
    with pytest.warns(ConvergenceWarning, match="did not converge within max_iter=1"):
        sparse_encode(X, D, 0.01, solver="fista", max_iter=1)
