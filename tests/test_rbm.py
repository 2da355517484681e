"""RBMs: kernels against tests/naive.py, exact partition functions and
gradients, learning, sampling, the encoder contract and bad input."""

import copy
import inspect
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from deepzoo import BernoulliRBM, GaussianBernoulliRBM
from deepzoo.layers import ais_schedule
from deepzoo._kernels import rbm as K
from deepzoo._nn.activations import encode

from . import naive

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
DTYPES = [np.float32, np.float64]
NO = np.empty((0, 0))


def _with_params(rbm, W, b, c, X):
    """A fitted-looking ``rbm`` whose parameters are exactly W, b, c."""
    rbm.set_params(n_components=W.shape[0], n_iter=0)
    rbm.fit(X)
    rbm.components_ = W.astype(X.dtype)
    rbm.intercept_visible_ = b.astype(X.dtype)
    rbm.intercept_hidden_ = c.astype(X.dtype)
    return rbm


def _tiny(rng, n_hidden=6, n_visible=8, scale=1.0):
    W = scale * rng.standard_normal((n_hidden, n_visible))
    b = 0.5 * rng.standard_normal(n_visible)
    c = 0.5 * rng.standard_normal(n_hidden)
    return W, b, c


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_rows_matches_naive(dtype, rng):
    Z = rng.normal(scale=4, size=(7, 33)).astype(dtype)
    bias = rng.normal(size=33).astype(dtype)
    P = np.empty_like(Z)
    S = np.empty_like(Z)
    key = np.uint64(123456789)
    K.sigmoid_rows(Z, 0.7, bias, -2.0, key, P, S)
    p = naive.sigmoid(0.7 * Z.astype(np.float64) + bias)
    assert P.dtype == dtype
    assert_allclose(P, -2.0 * p, **TOL[dtype])
    u = naive.splitmix_uniform(key, Z.size, dtype).reshape(Z.shape)
    decided = np.abs(u - p) > 1e-5  # away from ties at float32 precision
    assert_array_equal(S[decided], (u < p)[decided])
    K.sigmoid_rows(Z, 1.0, bias, 1.0, key, P, NO)  # no sample wanted
    assert_allclose(P, naive.sigmoid(Z.astype(np.float64) + bias), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_visible_rows_with_label_units_match_naive(dtype, rng):
    # the last 4 columns are one softmax group beside Bernoulli units
    Z = rng.normal(scale=4, size=(7, 13)).astype(dtype)
    bias = rng.normal(size=13).astype(dtype)
    M, S = np.empty_like(Z), np.empty_like(Z)
    key = np.uint64(2024)
    K.visible_rows(K.BERNOULLI, Z, bias, bias[:0], bias[:0], 4, key, M, S)
    x = Z.astype(np.float64) + bias
    p, q = naive.sigmoid(x[:, :9]), naive.softmax(x[:, 9:])
    assert_allclose(M, np.hstack([p, q]), **TOL[dtype])
    # labels carry their probabilities; the draws count over whole rows
    u = naive.splitmix_uniform(key, Z.size, dtype).reshape(Z.shape)[:, :9]
    decided = np.abs(u - p) > 1e-5
    assert_array_equal(S[:, :9][decided], (u < p)[decided])
    assert_array_equal(S[:, 9:], M[:, 9:])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sqerr_kernels_match_naive(dtype, rng):
    Z = rng.normal(size=(5, 40)).astype(dtype)
    bias = rng.normal(size=40).astype(dtype)
    X = rng.random((5, 40)).astype(dtype)
    P = np.empty_like(Z)
    err = np.empty(5, dtype)
    K.sigmoid_sqerr_rows(Z, bias, X, P, err)
    p = naive.sigmoid(Z.astype(np.float64) + bias)
    assert_allclose(P, p, **TOL[dtype])
    assert_allclose(err, ((X - p) ** 2).sum(axis=1), rtol=1e-5 if dtype == np.float32 else 1e-12)
    K.sqerr_rows(X, P, err)
    assert_allclose(err, ((X - P.astype(np.float64)) ** 2).sum(axis=1),
                    rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_and_nrelu_rows_match_naive(dtype, rng):
    Z = rng.normal(size=(4, 9)).astype(dtype)
    bias = rng.normal(size=9).astype(dtype)
    scale = rng.random(9).astype(dtype) + 0.5
    std = np.sqrt(scale)
    M, S = np.empty_like(Z), np.empty_like(Z)
    key = np.uint64(99)
    noise = naive.splitmix_normal(key, Z.size, dtype).reshape(Z.shape)
    K.gaussian_rows(Z, bias, scale, std, key, M, S)
    mean = bias + scale * Z.astype(np.float64)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert_allclose(M, mean, **tol)
    assert_allclose(S, mean + std * noise, **tol)
    K.nrelu_rows(Z, bias, key, M, S)
    x = Z.astype(np.float64) + bias
    assert_allclose(M, np.maximum(x, 0), **tol)
    assert_allclose(S, np.maximum(x + np.sqrt(naive.sigmoid(x)) * noise, 0), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_and_momentum_match_naive(dtype, rng):
    Z = rng.normal(scale=30, size=(6, 50)).astype(dtype)
    bias = rng.normal(size=50).astype(dtype)
    out = np.empty(6)
    K.softplus_rows(Z, bias, 0.3, out)
    expect = naive.softplus(0.3 * (Z.astype(np.float64) + bias)).sum(axis=1)
    assert_allclose(out, expect, rtol=1e-6 if dtype == np.float32 else 1e-12)
    p, g, v = (rng.normal(size=100).astype(dtype) for _ in range(3))
    p0, v0 = p.copy(), v.copy()
    K.decay_momentum_step(p, g, v, 0.1, 0.9, 0.5, 0.01)
    v_ref = 0.9 * v0 + 0.1 * (0.5 * g - 0.01 * p0)
    assert_allclose(v, v_ref, **TOL[dtype])
    assert_allclose(p, p0 + v_ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_pcd_step_matches_naive(dtype, rng):
    # a weight matrix's shape: the step runs on flat views of 2-D arrays
    p, g, v, f = (rng.normal(size=(7, 13)).astype(dtype) for _ in range(4))
    out = np.full_like(p, np.nan)
    expect = naive.fast_pcd_step(*(a.astype(np.float64) for a in (p, g, v, f)), 0.1, 0.9, 0.5,
                                 0.01, 0.95, 0.2)
    K._fast_pcd_step(f, p, g, v, out, 0.1, 0.9, 0.5, 0.01, 0.95, 0.2)
    for got, want in zip((p, v, f, out), expect):
        assert_allclose(got, want, **TOL[dtype])
    K._fast_pcd_step(None, p, g, v, out, 0.1, 0.9, 0.5, 0.01, 0.95, 0.2)  # off: no-op
    assert_allclose(p, expect[0], **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ais_hidden_rows_matches_naive(dtype, rng):
    X = rng.normal(size=(3, 11)).astype(dtype)
    c = rng.normal(size=11).astype(dtype)
    log_w = np.zeros(3)
    H = np.empty_like(X)
    key = np.uint64(7)
    K.ais_hidden_rows(X, c, 0.25, 0.5, key, log_w, H)
    x = X.astype(np.float64) + c
    expect = (naive.softplus(0.5 * x) - naive.softplus(0.25 * x)).sum(axis=1)
    assert_allclose(log_w, expect, rtol=1e-5 if dtype == np.float32 else 1e-12)
    u = naive.splitmix_uniform(key, X.size, dtype).reshape(X.shape)
    assert_array_equal(H, u < naive.sigmoid(0.5 * x))


@pytest.mark.parametrize("beta_prev, beta", [(0.5, 0.5 + 1 / 14500), (0.999, 1.0), (0.0, 1e-4)])
def test_ais_increments_keep_their_digits_between_close_temperatures(beta_prev, beta, rng):
    """Between temperatures of Salakhutdinov & Murray's schedule the
    increment of a float32 step (500 hidden units) is within 2e-6 nat of its
    float64 value at the same float32 temperatures (measured: 9e-7; as the
    difference of two softplus sums it was off by up to 8e-6, which over
    14,500 steps can add up to a tenth of a nat)."""
    X = (3 * rng.normal(size=(200, 500))).astype(np.float32)
    c = rng.normal(size=500).astype(np.float32)
    log_w = np.zeros(200)
    K.ais_hidden_rows(X, c, beta_prev, beta, np.uint64(7), log_w, np.empty_like(X))
    x = X.astype(np.float64) + c
    b, b_prev = float(np.float32(beta)), float(np.float32(beta_prev))
    expect = (naive.softplus(b * x) - naive.softplus(b_prev * x)).sum(axis=1)
    assert np.abs(log_w - expect).max() < 2e-6


@pytest.mark.parametrize("dtype", DTYPES)
def test_tempered_rows_match_naive(dtype, rng):
    # 3 temperatures of 4 chains; the first 4 rows also give probabilities
    betas = np.array([1.0, 0.4, 0.0])
    beta_rows = np.repeat(betas, 4)[:, None]
    key = np.uint64(31)
    Z = rng.normal(scale=2, size=(12, 9)).astype(dtype)
    c = rng.normal(size=9).astype(dtype)
    V = (rng.random((12, 5)) < 0.5).astype(dtype)
    b = rng.normal(size=5).astype(dtype)
    P, S, U = np.empty((4, 9), dtype), np.empty_like(Z), np.empty(12)
    K.tempered_hidden_rows(Z, c, V, b, betas, 4, -0.5, key, P, S, U)
    x = (Z + c).astype(np.float64)  # the input in the data type, as the kernel forms it
    p = naive.sigmoid(beta_rows * x)
    u = naive.splitmix_uniform(key, Z.size, dtype).reshape(Z.shape)
    decided = np.abs(u - p) > 1e-5
    assert_array_equal(S[decided], (u < p)[decided])
    assert_allclose(P, -0.5 * p[:4], **TOL[dtype])
    # the tempered negative energy b.v + c.h + h W v (W folded into Z)
    assert_allclose(U, V @ b.astype(np.float64) + (S * x).sum(axis=1), rtol=1e-6)
    K.tempered_hidden_rows(Z, c, V, b[:0], betas, 4, -0.5, key, P, S, U)
    assert_allclose(U, (S * x).sum(axis=1), rtol=1e-12)
    # the model's block draws what hidden_rows draws
    M, H = np.empty((4, 9), dtype), np.empty((4, 9), dtype)
    K.hidden_rows(K.BERNOULLI, Z[:4], c, -0.5, key, M, H)
    assert_array_equal(H, S[:4])
    assert_array_equal(M, P)

    # the visible step: Bernoulli units tempered whole, Gaussian without
    # their quadratic term
    Zv = rng.normal(scale=2, size=(12, 5)).astype(dtype)
    var = (rng.random(5) + 0.5).astype(dtype)
    Mv, Sv = np.empty_like(Zv), np.empty_like(Zv)
    K.tempered_visible_rows(K.BERNOULLI, Zv, b, var[:0], var[:0], betas, 4, key, Mv, Sv)
    p = naive.sigmoid(beta_rows * (Zv.astype(np.float64) + b))
    u = naive.splitmix_uniform(key, Zv.size, dtype).reshape(Zv.shape)
    assert_allclose(Mv, p, **TOL[dtype])
    decided = np.abs(u - p) > 1e-5
    assert_array_equal(Sv[decided], (u < p)[decided])
    K.tempered_visible_rows(K.GAUSSIAN, Zv, b, var, np.sqrt(var), betas, 4, key, Mv, Sv)
    mean = b + beta_rows * var * Zv.astype(np.float64)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    assert_allclose(Mv, mean, **tol)
    assert_allclose(Sv, mean + np.sqrt(var.astype(np.float64))
                    * naive.splitmix_normal(key, Zv.size, dtype).reshape(Zv.shape), **tol)
    # the model's block draws what visible_rows draws (up to the rounding
    # of a fused multiply-add)
    M1, S1 = np.empty((4, 5), dtype), np.empty((4, 5), dtype)
    K.visible_rows(K.GAUSSIAN, Zv[:4], b, var, np.sqrt(var), 0, key, M1, S1)
    assert_allclose(S1, Sv[:4], **TOL[dtype])


@pytest.mark.parametrize("n_block", [1, 5])
def test_pt_swap_matches_naive(n_block, rng):
    """Same keys, same swaps: the states, couplings and counts of a round of
    replica exchange equal the plain-numpy reference's, over rounds whose
    couplings make every kind of decision (certain, likely, unlikely)."""
    betas = np.linspace(1, 0, 4) ** 2
    S = rng.random((4 * n_block, 6))
    total = np.zeros(3)
    for round_ in range(20):
        coupling = rng.normal(scale=3.0, size=4 * n_block)
        key = np.uint64(1000 + round_)
        S_ref, U_ref, acc_ref = naive.pt_swap(coupling, betas, n_block, key, S)
        accepted = np.zeros(3)
        U = coupling.copy()
        K.pt_swap(U, betas, n_block, key, S, accepted)
        assert_array_equal(S, S_ref)
        assert_array_equal(U, U_ref)
        assert_array_equal(accepted, acc_ref)
        total += accepted
    # rows only move between blocks, chain index kept
    assert 0 < total.sum() < 20 * 3 * n_block


@pytest.mark.parametrize("n_sweeps, n_tempered", [(1, 0), (3, 0), (1, 1), (2, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_raise_runs_match_naive(dtype, n_sweeps, n_tempered, rng):
    """The RAISE estimate of every run, from the compiled reverse anneal,
    equals the plain-numpy reference written from Burda et al.'s
    algorithm (f_k ratios along the reverse chain), same keys; with
    ``n_sweeps`` Gibbs sweeps per temperature too, and with tempered
    transitions (run before the sweeps in the reverse chain)."""
    W, b, c = _tiny(rng, 5, 7)
    X = (rng.random((30, 7)) < 0.5).astype(dtype)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    betas = np.linspace(0, 1, 30)
    base_rate = 0.8 * X.mean(axis=0) + 0.1
    ladder = np.array([0.8, 0.5, 0.2])
    tempered = dict(n_tempered=n_tempered, tempered_every=7, tempered_ladder=ladder)
    runs = rbm._raise(X[:3], 4, betas, base_rate, random_state=5, n_sweeps=n_sweeps,
                      tempering=(n_tempered, 7, ladder) if n_tempered else None)
    # the keys RAISE draws: one (len(betas) + 1, n_sweeps, 2) block, then
    # those of the tempered transitions, at forward steps 29, 22, 15, 8, 1
    draw = np.random.RandomState(5)
    keys = draw.randint(np.iinfo(np.int64).max, size=(31, n_sweeps, 2),
                        dtype=np.int64).astype(np.uint64)
    counts = np.zeros(30, int)
    counts[[29, 22, 15, 8, 1]] = n_tempered
    tempered_keys = draw.randint(np.iinfo(np.int64).max, size=(counts.sum(), 6, 2),
                                 dtype=np.int64).astype(np.uint64)
    base_b = np.log(base_rate / (1 - base_rate))
    ref = naive.rbm_raise_runs(X[:3], *(a.astype(np.float64) for a in (
        rbm.components_, rbm.intercept_visible_)), base_b, rbm.intercept_hidden_.astype(float),
        betas, 4, keys, dtype, tempering=(ladder, counts, tempered_keys))
    assert runs.shape == (3, 4)
    assert_allclose(runs, ref, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert_allclose(rbm.log_likelihood(X[:3], "raise", n_runs=4, n_sweeps=n_sweeps, betas=betas,
                                       base_rate=base_rate, random_state=5, **tempered),
                    np.log(np.mean(np.exp(ref), axis=1)), rtol=1e-5 if dtype == np.float32
                    else 1e-12)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("visible", [K.BERNOULLI, K.GAUSSIAN])
def test_annealing_blocks_draw_what_one_call_draws(visible, reverse, rng):
    """AIS and RAISE run their chains in blocks on threads
    (``anneal_blocks``); each block draws what its rows draw in one call on
    every chain, so states, log weights and acceptances are bit for bit
    those of that call, at one numba thread or two. A block that drew
    from row 0 again would repeat the first block's draws."""
    import numba

    W, b, c = (a.astype(np.float32) for a in _tiny(rng, 5, 7, scale=2.0))
    base_b = 0.3 * rng.standard_normal(7) if visible == K.BERNOULLI else np.empty(0)
    sigma = np.full(7, 0.8, np.float32) if visible == K.GAUSSIAN else np.empty(0, np.float32)
    n = 3 * K.ANNEAL_BLOCK + 5  # four blocks, the last one short
    # every block starts from the same states: only their draws tell them apart
    V0 = np.resize((rng.random((K.ANNEAL_BLOCK, 7)) < 0.5).astype(np.float32), (n, 7))
    betas = np.linspace(0, 1, 20)
    keys = K.draw_keys(np.random.RandomState(1), (21 if reverse else 20, 2, 2))
    ladder = np.array([0.7, 0.3])
    counts = np.zeros(keys.shape[0], np.int64)
    counts[[3, 11]] = 2
    moves = np.concatenate([[0], np.cumsum(counts)])
    tempered_keys = K.draw_keys(np.random.RandomState(2), (moves[-1], 4, 2))
    schedule = np.concatenate([[1.0], betas[::-1]]) if reverse else betas

    def run(blocks):
        V, log_w = V0.copy(), np.zeros(n)
        args = (visible, V, W, b, base_b, c, sigma, schedule, keys, log_w, ladder, moves,
                tempered_keys, reverse)
        accepted = K.anneal_blocks(*args) if blocks else K.anneal(*args)
        return V, log_w, accepted

    V_one, w_one, acc_one = run(False)
    default = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            V, log_w, accepted = run(True)
            assert_array_equal(V, V_one)
            assert_array_equal(log_w, w_one)
            assert accepted == acc_one
    finally:
        numba.set_num_threads(default)
    assert 0 < acc_one < moves[-1] * n
    # the blocks' draws differ: equal starts, different ends
    B = K.ANNEAL_BLOCK
    assert not np.array_equal(V_one[:B], V_one[B:2 * B])


@pytest.mark.parametrize("dtype", DTYPES)
def test_tempered_transition_matches_naive(dtype, rng):
    """Same keys, same moves: the compiled tempered transition takes the
    proposals the plain-numpy reference takes, over chains where some are
    accepted and some not."""
    W, b, c = _tiny(rng, 3, 5, scale=2.0)
    base_b = 0.3 * rng.standard_normal(5)
    ladder = np.array([0.6, 0.2])
    V0 = (rng.random((60, 5)) < 0.5).astype(dtype)
    Wd, bd, cd = W.astype(dtype), b.astype(dtype), c.astype(dtype)
    n, m = 60, 3
    V = V0.copy()
    keys = K.draw_keys(np.random.RandomState(3), (4, 2))
    accepted = K.tempered_transition(
        True, V, Wd, bd, base_b, cd, np.empty(0, dtype), 0.9, ladder, keys, np.empty_like(V),
        np.empty(n), np.empty((n, m), dtype), np.empty((n, m), dtype), np.empty_like(V),
        np.empty_like(V), np.empty(5, dtype), np.empty(5, dtype))
    ref, take = naive.rbm_tempered_transition(V0, *(a.astype(np.float64) for a in (Wd, bd)),
                                              base_b, cd.astype(np.float64), 0.9, ladder,
                                              keys, dtype)
    assert 0 < accepted == take.sum() < n
    assert_array_equal(V, ref)


def test_tempered_transition_leaves_its_distribution_invariant(rng):
    """Exactly: the tempered transition's matrix (every proposal path
    enumerated) is stochastic and in detailed balance with p_beta, so it
    leaves p_beta invariant and is its own reversal; and the compiled
    kernel's moves from two states follow the matrix's rows (chi-square
    over 100,000 moves each). A palindrome broken (the ladder's way back
    one level short) fails the exact check: the test can see the defect."""
    from scipy.stats import chisquare

    W, b, c = _tiny(rng, 3, 5, scale=2.0)
    base_b = 0.3 * rng.standard_normal(5)
    ladder = np.array([0.6, 0.2])
    beta = 0.9
    V = naive.all_binary_states(5)
    log_f = naive.rbm_path_log_f(V, W, b, base_b, c, beta)
    p = np.exp(log_f - log_f.max())
    p /= p.sum()
    T = naive.rbm_tempered_transition_matrix(W, b, base_b, c, beta, ladder)
    assert_allclose(T.sum(axis=1), 1.0, rtol=1e-12)
    flow = p[:, None] * T
    assert_allclose(flow, flow.T, atol=1e-15)
    assert_allclose(p @ T, p, atol=1e-15)
    assert np.min(np.diag(T)) < 0.99  # it moves
    # the defect the check catches: down 0.6, 0.2, back up only to 0.2
    G = [naive.rbm_gibbs_sweep_matrix(W, b, base_b, c, beta * g) for g in (0.6, 0.2)]
    broken = G[0] @ G[1] @ G[1]
    assert np.abs(p @ broken - p).max() > 1e-3
    n = 100_000
    for x in (3, 22):
        moved = np.repeat(V[x:x + 1], n, axis=0)
        K.tempered_transition(True, moved, W, b, base_b, c, np.empty(0), beta, ladder,
                              K.draw_keys(np.random.RandomState(x), (4, 2)), np.empty_like(moved),
                              np.empty(n), np.empty((n, 3)), np.empty((n, 3)),
                              np.empty_like(moved), np.empty_like(moved), np.empty(5),
                              np.empty(5))
        counts = np.bincount((moved @ (1 << np.arange(5))).astype(int), minlength=32)
        seen = T[x] > 0
        assert counts[~seen].sum() == 0
        assert chisquare(counts[seen], n * T[x, seen]).pvalue > 1e-3


@pytest.mark.parametrize("n_sweeps", [1, 2])
def test_raise_and_ais_are_unbiased_for_the_annealing_model(n_sweeps, rng):
    """What the estimators estimate, exactly: on a 10-visible RBM with
    strong weights and 11 temperatures, the annealing model q (the chains'
    distribution after the path, ``naive.rbm_annealing_model``) differs
    from the RBM by tenths of a nat, and RAISE's mean weight is q(x), not
    p(x), within 4 standard errors of 20,000 runs; AIS's mean weight is Z.
    (So RAISE bounds log q(x) from below, and sits above log p(x) where q
    puts more mass on x than the RBM: poorly mixing sweeps.)"""
    W, b, c = _tiny(rng, 4, 10, scale=2.0)
    X = (rng.random((20, 10)) < 0.5).astype(float)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    betas = np.linspace(0, 1, 11)
    base_rate = 0.8 * X.mean(axis=0) + 0.1
    base_b = np.log(base_rate / (1 - base_rate))
    q = naive.rbm_annealing_model(W, b, base_b, c, betas, n_sweeps)
    assert_allclose(q.sum(), 1.0, rtol=1e-12)
    index = (X[:5] @ (1 << np.arange(10))).astype(int)
    log_p = rbm.log_likelihood(X[:5])
    log_q = np.log(q[index])
    assert np.abs(log_q - log_p).max() > 0.1  # the two models differ
    runs = rbm._raise(X[:5], 20000, betas, base_rate, random_state=0, n_sweeps=n_sweeps)
    w = np.exp(runs - log_q[:, None])  # mean 1 if unbiased for q
    se = w.std(axis=1, ddof=1) / np.sqrt(20000)
    assert np.all(np.abs(w.mean(axis=1) - 1) < 4 * se)
    log_z = rbm.log_partition()
    _, (low, high) = rbm.log_partition("ais", n_runs=20000, n_sweeps=n_sweeps, betas=betas,
                                       base_rate=base_rate, random_state=0)
    assert low <= log_z <= high


def test_tempered_raise_is_unbiased_for_its_annealing_model(rng):
    """With tempered transitions, exactly: on a 5-visible RBM with strong
    weights and 7 temperatures, the annealing model q (sweeps, then the
    tempered transitions' enumerated matrices at beta = 1 and every other
    temperature below it) lies closer to the RBM than the sweeps' alone,
    RAISE's mean weight is this q(x) within 4 standard errors of 20,000
    runs (its reverse chain runs the reversal of each forward transition),
    and AIS's mean weight is Z."""
    W, b, c = _tiny(rng, 3, 5, scale=3.0)
    X = naive.all_binary_states(5)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    betas = np.linspace(0, 1, 7)
    base_rate = np.full(5, 0.4)
    base_b = np.log(base_rate / (1 - base_rate))
    ladder = np.array([0.6, 0.25])
    counts = np.zeros(7, int)
    counts[[6, 4, 2]] = 1
    q0 = naive.rbm_annealing_model(W, b, base_b, c, betas, 1)
    q = naive.rbm_annealing_model(W, b, base_b, c, betas, 1, tempering=(ladder, counts))
    assert_allclose(q.sum(), 1.0, rtol=1e-12)
    log_p = rbm.log_likelihood(X)
    assert np.abs(np.log(q) - log_p).max() < 0.5 * np.abs(np.log(q0) - log_p).max()
    tempered = dict(n_tempered=1, tempered_every=2, tempered_ladder=ladder)
    picked = np.argsort(log_p)[[0, 10, 31]]  # the least, a middle and the most likely
    runs = rbm._raise(X[picked], 20000, betas, base_rate, random_state=0,
                      tempering=(1, 2, ladder))
    w = np.exp(runs - np.log(q[picked])[:, None])  # mean 1 if unbiased for q
    se = w.std(axis=1, ddof=1) / np.sqrt(20000)
    assert np.all(np.abs(w.mean(axis=1) - 1) < 4 * se)
    log_z = rbm.log_partition()
    _, (low, high) = rbm.log_partition("ais", n_runs=20000, betas=betas, base_rate=base_rate,
                                       random_state=0, **tempered)
    assert low <= log_z <= high


@pytest.mark.parametrize("dtype", DTYPES)
def test_pseudo_loglik_rows_matches_naive(dtype, rng):
    W, b, c = _tiny(rng, 5, 9)
    X = (rng.random((4, 9)) < 0.4).astype(dtype)
    out = np.empty(4)
    Hin = (X @ W.T.astype(dtype) + c.astype(dtype)).astype(dtype)
    K.pseudo_loglik_rows(X, Hin, np.ascontiguousarray(W.T, dtype=dtype), b.astype(dtype), out)
    assert_allclose(out, naive.rbm_pseudo_loglik(X.astype(float), W, b, c),
                    rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk_bits", [0, 2, 16])
def test_logsumexp_states_is_the_enumeration(dtype, chunk_bits, rng):
    M = rng.normal(size=(7, 5)).astype(dtype)
    offset = rng.normal(size=5).astype(dtype)
    linear = rng.normal(size=7)
    weights = rng.random(5)
    S = naive.all_binary_states(7)
    A = offset.astype(np.float64) + S @ M.astype(np.float64)
    for kind, f in [(0, naive.softplus(A).sum(axis=1)), (1, (weights * A * A).sum(axis=1))]:
        expect = S @ linear + f
        expect = expect.max() + np.log(np.exp(expect - expect.max()).sum())
        got = K.logsumexp_states(M, offset, linear, kind, weights.astype(dtype), chunk_bits)
        assert_allclose(got, expect, rtol=1e-6 if dtype == np.float32 else 1e-12)


# -------------------------------------------------------- exact log Z, AIS
@pytest.mark.parametrize("shape", [(6, 8), (8, 6)])
def test_exact_log_partition_is_brute_force(shape, rng):
    W, b, c = _tiny(rng, *shape)
    X = (rng.random((20, shape[1])) < 0.5).astype(float)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    assert_allclose(rbm.log_partition(), naive.rbm_log_partition_brute(W, b, c), rtol=1e-12)
    # and the probabilities of all 2**n visible states sum to one
    V = naive.all_binary_states(shape[1])
    assert_allclose(np.exp(rbm.log_likelihood(V)).sum(), 1.0, rtol=1e-10)


def test_exact_log_partition_float32(rng):
    W, b, c = _tiny(rng, 6, 8)
    X = (rng.random((20, 8)) < 0.5).astype(np.float32)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    assert_allclose(rbm.log_partition(), naive.rbm_log_partition_brute(
        rbm.components_.astype(float), rbm.intercept_visible_.astype(float),
        rbm.intercept_hidden_.astype(float)), rtol=1e-6)


def test_gaussian_visible_log_partition_by_quadrature(rng):
    W, b, c = _tiny(rng, 3, 2, scale=0.5)
    X = rng.normal(size=(20, 2))
    rbm = _with_params(GaussianBernoulliRBM(learn_variance=True), W, b, c, X)
    rbm.sigma_ = np.array([0.7, 1.3])
    expect = naive.gaussian_rbm_log_partition_quadrature(W, b, c, rbm.sigma_)
    assert_allclose(rbm.log_partition(), expect, rtol=1e-9)


def test_gaussian_hidden_log_partition_integrates_to_one(rng):
    W, b, c = _tiny(rng, 3, 5, scale=0.5)
    X = (rng.random((20, 5)) < 0.5).astype(float)
    rbm = _with_params(BernoulliRBM(hidden_unit="gaussian"), W, b, c, X)
    V = naive.all_binary_states(5)
    assert_allclose(np.exp(rbm.log_likelihood(V)).sum(), 1.0, rtol=1e-10)


def test_ais_matches_exact_on_small_models(rng):
    W, b, c = _tiny(rng, 6, 12, scale=1.0)
    X = (rng.random((50, 12)) < 0.5).astype(float)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    exact = rbm.log_partition()
    betas = np.linspace(0, 1, 2001)
    est, (low, high) = rbm.log_partition("ais", n_runs=100, betas=betas, random_state=0)
    assert abs(est - exact) < 0.05
    assert low <= est <= high
    est_base, _ = rbm.log_partition("ais", n_runs=100, betas=betas, base_rate=X.mean(axis=0),
                                    random_state=1)
    assert abs(est_base - exact) < 0.05
    # Gaussian visible units
    g = _with_params(GaussianBernoulliRBM(), 0.3 * W, b, c, rng.normal(size=(50, 12)))
    est, _ = g.log_partition("ais", n_runs=100, betas=betas, random_state=0)
    assert abs(est - g.log_partition()) < 0.05


def test_ais_is_reproducible_and_log_likelihood_uses_it(rng):
    W, b, c = _tiny(rng, 4, 6)
    X = (rng.random((10, 6)) < 0.5).astype(float)
    rbm = _with_params(BernoulliRBM(), W, b, c, X)
    kw = dict(n_runs=20, betas=np.linspace(0, 1, 300), random_state=3)
    assert rbm.log_partition("ais", **kw) == rbm.log_partition("ais", **kw)
    est, _ = rbm.log_partition("ais", **kw)
    assert_allclose(rbm.log_likelihood(X, method="ais", **kw), -rbm.free_energy(X) - est)


# ---------------------------------------------------------------- gradients
def _update(rbm, X, **params):
    """(dW, db, dc) / learning_rate of one partial_fit on the whole of X."""
    W0, b0, c0 = rbm.components_.copy(), rbm.intercept_visible_.copy(), \
        rbm.intercept_hidden_.copy()
    rbm.set_params(batch_size=len(X), **params)
    rbm.partial_fit(X)
    lr = rbm.learning_rate
    return ((rbm.components_ - W0) / lr, (rbm.intercept_visible_ - b0) / lr,
            (rbm.intercept_hidden_ - c0) / lr)


def test_cd_k_approaches_the_exact_gradient(rng):
    W, b, c = _tiny(rng, 4, 6, scale=1.5)
    data = (rng.random((8, 6)) < 0.5).astype(float)
    X = np.repeat(data, 5000, axis=0)  # 40,000 chains
    exact = naive.rbm_exact_gradient(data, W, b, c)
    errors = []
    for k in (1, 3, 30):
        rbm = _with_params(BernoulliRBM(learning_rate=1e-3, initial_momentum=0, weight_decay=0,
                                        sample_visible=True, k=k, random_state=0,
                                        shuffle=False), W, b, c, X)
        got = _update(rbm, X)
        errors.append(max(np.abs(g - e).max() for g, e in zip(got, exact)))
    assert errors[0] > 0.05          # CD-1 is visibly biased for these weights
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02          # sampling noise ~ 0.5 / sqrt(40000)


def test_pcd_with_many_chains_approaches_the_exact_gradient(rng):
    W, b, c = _tiny(rng, 4, 6, scale=1.5)
    data = (rng.random((8, 6)) < 0.5).astype(float)
    X = np.repeat(data, 5000, axis=0)
    exact = naive.rbm_exact_gradient(data, W, b, c)
    rbm = _with_params(BernoulliRBM(method="pcd", n_chains=40000, learning_rate=1e-6,
                                    initial_momentum=0, final_momentum=0, weight_decay=0,
                                    random_state=0,
                                    shuffle=False), W, b, c, X)
    rbm._initialize_state(X)  # chains for the model's parameters
    for _ in range(30):       # the chains mix; the model barely moves
        got = _update(rbm, X)
    assert max(np.abs(g - e).max() for g, e in zip(got, exact)) < 0.02


# ----------------------------------------------------------------- learning
def _bars(rng, n=600, side=4):
    """Bars and stripes: a tiny data set an RBM should learn well."""
    X = np.zeros((n, side, side))
    on = rng.random((n, side)) < 0.5
    horizontal = rng.random(n) < 0.5
    X[horizontal] = on[horizontal][:, :, None]
    X[~horizontal] = on[~horizontal][:, None, :]
    return X.reshape(n, -1)


@pytest.mark.parametrize("method", ["cd", "pcd", "fpcd"])
def test_learning_improves_exact_log_likelihood(method, rng):
    X = _bars(rng)
    # momentum 0.9 makes persistent chains oscillate at this learning rate
    params = dict(n_components=12, learning_rate=0.05, batch_size=20, random_state=0,
                  method=method, n_chains=50, final_momentum=0.5)
    before = BernoulliRBM(n_iter=1, **params).fit(X).log_likelihood(X).mean()
    rbm = BernoulliRBM(n_iter=60, **params).fit(X)
    after = rbm.log_likelihood(X).mean()
    assert after > before + 4.0   # about -11 -> -5.6 (30 equiprobable patterns: -3.4)
    assert rbm.n_iter_ == 60 and rbm.reconstruction_error_.shape == (60,)


def test_sampling_matches_the_model_marginals(rng):
    W, b, c = _tiny(rng, 4, 6)
    rbm = _with_params(BernoulliRBM(), W, b, c, (rng.random((5, 6)) < 0.5).astype(float))
    V = rbm.sample(20000, n_steps=30, random_state=0)
    assert set(np.unique(V)) <= {0.0, 1.0}
    assert_allclose(V.mean(axis=0), naive.rbm_model_marginals(W, b, c), atol=0.015)
    assert_array_equal(V, rbm.sample(20000, n_steps=30, random_state=0))
    step = rbm.gibbs(V[:10])
    assert step.shape == (10, 6) and set(np.unique(step)) <= {0.0, 1.0}


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_parallel_tempering_samples_the_model(cls, rng):
    """Each sample is the model's chain of a ladder: its marginals are the
    model's (Bernoulli visible units: by enumeration; Gaussian: the mean of
    v is b + s**2 E[h] W, with E[h] by enumerating the hidden states)."""
    W, b, c = _tiny(rng, 4, 6)
    if cls is BernoulliRBM:
        rbm = _with_params(cls(), W, b, c, (rng.random((5, 6)) < 0.5).astype(float))
        expect = naive.rbm_model_marginals(W, b, c)
    else:
        rbm = _with_params(cls(), 0.3 * W, b, c, rng.normal(size=(5, 6)))
        H = naive.all_binary_states(4)
        Y = H @ (0.3 * W)
        # p(h) ~ exp(c.h + b.y + |y|**2 / 2) with unit variances
        log_p = H @ c + Y @ b + 0.5 * (Y * Y).sum(axis=1)
        p = np.exp(log_p - log_p.max())
        expect = b + (p / p.sum()) @ Y
    V = rbm.sample(20000, n_steps=20, method="pt", n_temperatures=4, random_state=0)
    assert_allclose(V.mean(axis=0), expect, atol=0.02 if cls is BernoulliRBM else 0.03)
    assert_array_equal(V, rbm.sample(20000, n_steps=20, method="pt", n_temperatures=4,
                                     random_state=0))


def test_raise_on_gaussian_visible_units_approaches_the_exact_density(rng):
    W, b, c = _tiny(rng, 4, 5)
    X = rng.normal(size=(50, 5))
    rbm = _with_params(GaussianBernoulliRBM(), 0.3 * W, b, c, X)
    exact = rbm.log_likelihood(X[:10])
    got = rbm.log_likelihood(X[:10], "raise", n_runs=50, betas=np.linspace(0, 1, 500),
                             random_state=0)
    assert np.abs(got.mean() - exact.mean()) < 0.01
    assert np.abs(got - exact).max() < 0.05


def test_tempering_and_raise_need_binary_hidden_units(rng):
    X = rng.random((20, 4))
    with pytest.raises(ValueError, match="method='pt' tempers binary hidden units only.*"
                                         "hidden_unit='bernoulli' or method='pcd'"):
        BernoulliRBM(n_components=2, method="pt", hidden_unit="gaussian").fit(X)
    rbm = BernoulliRBM(n_components=2, n_iter=1, hidden_unit="gaussian",
                       learning_rate=0.01).fit(X)
    before = copy.deepcopy(vars(rbm))
    with pytest.raises(ValueError, match="method='pt' tempers binary hidden units"):
        rbm.set_params(method="pt").partial_fit(X)
    assert_array_equal(rbm.components_, before["components_"])
    with pytest.raises(ValueError, match="method='pt' tempers binary hidden units.*"
                                         "hidden_unit='bernoulli' or method='gibbs'"):
        rbm.sample(2, method="pt")
    with pytest.raises(ValueError, match="hidden_unit='bernoulli' only"):
        rbm.log_likelihood(X, "raise", n_runs=2)


@pytest.mark.parametrize("mask, message", [
    (np.ones(3, bool), r"shape \(4,\) or \(5, 4\).*got dtype bool, shape \(3,\)"),
    (np.ones((2, 4), bool), r"shape \(4,\) or \(5, 4\).*shape \(2, 4\)"),
    (np.ones(4), "got dtype float64"),
    ([1, 0, 1, 0], "got dtype int64"),
])
def test_clamp_masks_are_checked(mask, message, rng):
    X = rng.random((5, 4))
    rbm = BernoulliRBM(n_components=2, n_iter=1).fit(X)
    with pytest.raises(ValueError, match="complete: mask must be a boolean array of .*"
                                         + message):
        rbm.complete(X, mask)
    with pytest.raises(ValueError, match="gibbs: clamp must be a boolean array of .*" + message):
        rbm.gibbs(X, clamp=mask)


def test_score_samples_is_the_exact_pseudo_likelihood(rng):
    X = _bars(rng, 50)
    rbm = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(X)
    got = rbm.score_samples(X)
    expect = naive.rbm_pseudo_loglik(X, rbm.components_, rbm.intercept_visible_,
                                     rbm.intercept_hidden_)
    assert_allclose(got, expect, rtol=1e-10)
    g = BernoulliRBM(n_components=5, n_iter=3, hidden_unit="gaussian", learning_rate=0.01,
                     random_state=0).fit(X)
    F = g.free_energy(X)
    flipped = []
    for f in range(X.shape[1]):
        Xf = X.copy()
        Xf[:, f] = 1 - Xf[:, f]
        flipped.append(-naive.softplus(-(g.free_energy(Xf) - F)))
    assert_allclose(g.score_samples(X), np.mean(flipped, axis=0), rtol=1e-10)


# ------------------------------------------------ contract, API, bad input
@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
@pytest.mark.parametrize("unit, act", [("bernoulli", "sigmoid"), ("gaussian", "linear"),
                                       ("nrelu", "relu")])
@pytest.mark.parametrize("dtype", DTYPES)
def test_encoder_contract_and_dtypes(cls, unit, act, dtype, rng):
    X = rng.random((40, 7)).astype(dtype)
    rbm = cls(n_components=3, n_iter=2, hidden_unit=unit, learning_rate=0.01,
              random_state=0).fit(X)
    assert rbm.hidden_activation_ == act
    assert rbm.visible_activation_ == ("sigmoid" if cls is BernoulliRBM else "linear")
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        assert getattr(rbm, name).dtype == dtype
    H = rbm.transform(X)
    assert H.dtype == dtype
    assert_array_equal(H, encode(X, rbm.components_, rbm.intercept_hidden_, act))


def test_gaussian_decoder_components_give_the_mean_reconstruction(rng):
    X = rng.normal(size=(60, 5))
    rbm = GaussianBernoulliRBM(n_components=4, n_iter=5, learn_variance=True,
                               random_state=0).fit(X)
    assert not np.allclose(rbm.sigma_, 1.0)
    assert_allclose(rbm.decoder_components_, rbm.components_ * rbm.sigma_ ** 2)
    # learned variances stay near the data's (unit) variance
    assert np.all((rbm.sigma_ > 0.6) & (rbm.sigma_ < 1.6))


def test_partial_fit_is_fit_epoch_by_epoch(rng):
    X = _bars(rng, 100)
    params = dict(n_components=4, batch_size=10, random_state=0)
    fitted = BernoulliRBM(n_iter=1, **params).fit(X)
    partial = BernoulliRBM(**params).partial_fit(X)
    assert_array_equal(partial.components_, fitted.components_)
    partial.partial_fit(X)
    assert partial.n_iter_ == 2 and partial.reconstruction_error_.shape == (2,)


def test_fit_is_reproducible(rng):
    X = _bars(rng, 200)
    a = BernoulliRBM(n_components=6, n_iter=3, random_state=1).fit(X)
    b = BernoulliRBM(n_components=6, n_iter=3, random_state=1).fit(X)
    assert_array_equal(a.components_, b.components_)
    assert_array_equal(a.reconstruction_error_, b.reconstruction_error_)


def test_verbose_line(rng, capsys):
    BernoulliRBM(n_components=2, n_iter=2, verbose=1, random_state=0).fit(_bars(rng, 30))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[BernoulliRBM\] Iteration 2, reconstruction error = [0-9.e+-]+, "
                        r"time = [0-9.]+s", lines[1])


def test_bad_input_messages(rng):
    with pytest.raises(ValueError, match="MinMaxScaler or use GaussianBernoulliRBM"):
        BernoulliRBM().fit(rng.normal(size=(10, 3)))
    X = rng.random((10, 3))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        BernoulliRBM().fit(X)
    rbm = BernoulliRBM(n_components=2, n_iter=1).fit(rng.random((10, 3)))
    with pytest.raises(ValueError, match="3 features"):
        rbm.transform(rng.random((4, 5)))
    with pytest.raises(ValueError, match="nrelu"):
        BernoulliRBM(n_components=2, n_iter=1, hidden_unit="nrelu").fit(X[1:]).free_energy(X[1:])
    with pytest.raises(ValueError, match="method='ais'"):
        BernoulliRBM(n_components=31, n_iter=0).fit(rng.random((5, 40))).log_partition()
    with pytest.raises(FloatingPointError, match="learning_rate"):
        BernoulliRBM(n_components=3, learning_rate=1e30, n_iter=3, random_state=0).fit(
            _bars(rng, 40))


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_constructor_stores_every_argument_under_its_name(cls):
    # a distinct object per argument: two arguments swapped on the way to
    # _BaseRBM.__init__ would show, even where their defaults are equal
    values = {name: object() for name in inspect.signature(cls).parameters}
    params = cls(**values).get_params()
    assert set(params) == set(values)
    for name, value in values.items():
        assert params[name] is value, name


@pytest.fixture(scope="module")
def small_fitted():
    X = np.random.default_rng(0).random((20, 5))
    return [cls(n_components=3, n_iter=1, random_state=0).fit(X)
            for cls in (BernoulliRBM, GaussianBernoulliRBM)]


@pytest.mark.parametrize("method, kwargs, name", [
    ("log_partition", {"method": "importance"}, "method"),
    ("log_partition", {"method": None}, "method"),
    ("log_partition", {"method": "ais", "n_runs": 0}, "n_runs"),
    ("log_partition", {"n_runs": 0}, "n_runs"),  # refused whatever the method
    ("log_partition", {"method": "ais", "n_runs": 2.5}, "n_runs"),
    ("log_partition", {"method": "ais", "n_sweeps": 0}, "n_sweeps"),
    ("log_partition", {"method": "ais", "n_sweeps": 1.5}, "n_sweeps"),
    ("log_partition", {"method": "ais", "n_tempered": -1}, "n_tempered"),
    ("log_partition", {"method": "ais", "n_tempered": 1.5}, "n_tempered"),
    ("log_partition", {"method": "ais", "tempered_every": 0}, "tempered_every"),
    ("log_partition", {"method": "ais", "tempered_ladder": "geometric"}, "tempered_ladder"),
    ("log_partition", {"method": "ais", "betas": "linear"}, "betas"),
    ("log_partition", {"method": "ais", "base_rate": 0.5}, "base_rate"),
    ("log_partition", {"method": "ais", "random_state": "seed"}, "random_state"),
    ("sample", {"n_samples": 0}, "n_samples"),
    ("sample", {"n_samples": "3"}, "n_samples"),
    ("sample", {"n_steps": 0}, "n_steps"),
    ("sample", {"n_steps": 1.5}, "n_steps"),
    ("sample", {"mean": "yes"}, "mean"),
    ("sample", {"random_state": "seed"}, "random_state"),
    ("gibbs", {"v": None}, "v"),
    ("gibbs", {"v": "visible"}, "v"),
    ("gibbs", {"v": np.zeros((2, 5)), "clamp": "first"}, "clamp"),
    ("sample", {"method": "metropolis"}, "method"),
    ("sample", {"method": "pt", "n_temperatures": 1}, "n_temperatures"),
    ("sample", {"n_temperatures": 2.5}, "n_temperatures"),
    ("log_likelihood", {"X": np.zeros((2, 5)), "method": "rais"}, "method"),
    ("log_likelihood", {"X": np.zeros((2, 5)), "method": "raise", "n_runs": 0}, "n_runs"),
    ("log_likelihood", {"X": np.zeros((2, 5)), "n_runs": 0}, "n_runs"),
    ("log_likelihood", {"X": np.zeros((2, 5)), "method": "raise", "n_sweeps": 0}, "n_sweeps"),
    ("log_likelihood", {"X": np.zeros((2, 5)), "method": "raise", "betas": "fine"}, "betas"),
    ("log_likelihood", {"X": np.zeros((2, 5)), "method": "raise", "n_tempered": -1},
     "n_tempered"),
    ("log_likelihood", {"X": None}, "X"),
    ("complete", {"X": np.zeros((2, 5)), "mask": np.ones(5, bool), "n_steps": 0}, "n_steps"),
    ("complete", {"X": np.zeros((2, 5)), "mask": None}, "mask"),
    ("complete", {"X": np.zeros((2, 5)), "mask": np.ones(5, bool), "mean": "no"}, "mean"),
])
@pytest.mark.parametrize("i", [0, 1], ids=["bernoulli", "gaussian"])
def test_public_methods_name_the_bad_argument(small_fitted, i, method, kwargs, name):
    rbm = small_fitted[i]
    before = copy.deepcopy(vars(rbm))
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of .*{method} must be"):
        getattr(rbm, method)(**kwargs)
    assert vars(rbm).keys() == before.keys()
    assert_array_equal(rbm.components_, before["components_"])


@pytest.mark.parametrize("ladder", [[0.5, 0.8], [1.0, 0.5], [0.5, 0.0], [0.9, np.nan], [],
                                    [[0.9, 0.5]]])
def test_tempered_ladder_must_decrease_within_the_unit_interval(small_fitted, ladder):
    rbm = small_fitted[0]
    with pytest.raises(ValueError, match="tempered_ladder must be a non-empty 1-D array"):
        rbm.log_partition("ais", n_runs=2, n_tempered=1, tempered_ladder=ladder,
                          betas=np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="tempered_ladder must be a non-empty 1-D array"):
        rbm.log_likelihood(np.zeros((1, 5)), "raise", n_runs=2, n_tempered=1,
                           tempered_ladder=ladder, betas=np.linspace(0, 1, 5))


def test_tempering_counts_are_bools_refused(small_fitted):
    with pytest.raises(TypeError, match="n_tempered"):
        small_fitted[0].log_partition("ais", n_tempered=True)


@pytest.mark.parametrize("dtype", [np.int64, bool, np.float16, np.complex128, object, "int32",
                                   "no such type"])
def test_ais_schedule_refuses_all_but_float32_and_float64(dtype):
    with pytest.raises(ValueError, match="ais_schedule: dtype must be float32 or float64"):
        ais_schedule(dtype)


def test_ais_schedule_takes_any_spelling_of_its_dtypes():
    for dtype in (np.float32, "float32", np.dtype(np.float32)):
        assert ais_schedule(dtype).dtype == np.float32
    betas = ais_schedule()
    assert betas.dtype == np.float64 and betas.shape == (14501,)
    assert np.all(np.diff(ais_schedule(np.float32)) > 0)


@pytest.mark.parametrize("method", ["cd", "pcd", "fpcd", "pt"])
def test_partial_fit_resumes_after_hdf5_round_trip(method, rng, tmp_path):
    from deepzoo.io import load, save

    X = rng.normal(size=(50, 6))
    rbm = GaussianBernoulliRBM(n_components=3, n_iter=2, method=method, learn_variance=True,
                               random_state=0).fit(X)
    save(rbm, tmp_path / "rbm.h5")
    loaded = load(tmp_path / "rbm.h5")
    assert_array_equal(loaded.transform(X), rbm.transform(X))
    assert_array_equal(loaded.decoder_components_, rbm.decoder_components_)
    if method == "pt":
        assert_array_equal(loaded.swap_rate_, rbm.swap_rate_)
    loaded.partial_fit(X)
    assert loaded.n_iter_ == 3 and np.all(np.isfinite(loaded.components_))
    V = loaded.sample(5, n_steps=3, random_state=0)
    assert V.shape == (5, 6) and V.dtype == X.dtype
    assert loaded.gibbs(X[:4]).shape == (4, 6)


@pytest.mark.parametrize("learn_variance", [False, True])
def test_gaussian_rbm_learns_a_mixture(learn_variance, rng):
    centres = np.array([[-2.0, -2.0], [2.0, 2.0], [-2.0, 2.0], [2.0, -2.0]])
    X = centres[rng.integers(4, size=2000)] + 0.5 * rng.normal(size=(2000, 2))
    params = dict(n_components=6, learning_rate=0.01, batch_size=20, random_state=0,
                  learn_variance=learn_variance)
    before = GaussianBernoulliRBM(n_iter=1, **params).fit(X).log_likelihood(X).mean()
    rbm = GaussianBernoulliRBM(n_iter=30, **params).fit(X)
    after = rbm.log_likelihood(X).mean()
    assert after > before + 0.3
    # one Gaussian fitted to X: -4.28; the true mixture: -2.84
    assert after > (-3.3 if learn_variance else -3.8)
    if learn_variance:
        assert_allclose(rbm.sigma_, 0.5, atol=0.05)  # the clusters' spread


def test_no_momentum_path_keeps_the_last_velocity(rng):
    """Epochs without momentum skip the velocity array except for their last
    update, so that a later epoch with momentum starts from the same state."""
    X = _bars(rng, 100)
    params = dict(n_components=4, batch_size=10, initial_momentum=0.0, final_momentum=0.9,
                  momentum_switch=1, random_state=0)
    rbm = BernoulliRBM(n_iter=2, **params).fit(X)
    ref = BernoulliRBM(n_iter=0, **params).fit(X)
    ref.set_params(initial_momentum=1e-300)  # same arithmetic, velocity always kept
    ref.partial_fit(X).partial_fit(X)
    assert_allclose(rbm.components_, ref.components_, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("before, after", [("cd", "pcd"), ("cd", "fpcd"), ("pcd", "cd"),
                                           ("pcd", "fpcd"), ("fpcd", "pcd"), ("pcd", "pt"),
                                           ("pt", "pcd"), ("pt", "cd")])
def test_partial_fit_after_changing_the_method(before, after, rng):
    """set_params between partial_fit calls: the optimiser state follows the
    new method (new chains where they are missing or of another number)."""
    X = _bars(rng, 60)
    rbm = BernoulliRBM(n_components=4, batch_size=10, n_iter=2, method=before,
                       random_state=0).fit(X)
    rbm.set_params(method=after, n_chains=7, n_temperatures=3)
    twin = copy.deepcopy(rbm)
    rbm.partial_fit(X)
    assert np.isfinite(rbm.components_).all()
    # the swap rates describe the last epoch's parallel tempering only
    assert hasattr(rbm, "swap_rate_") == (after == "pt")
    if after == "cd":
        # CD ignores the chains left by PCD: the same epoch without them
        twin._chain_h = None
        twin.partial_fit(X)
        assert_allclose(rbm.components_, twin.components_, rtol=1e-12)
    else:
        assert rbm._chain_h.shape == (7 * (3 if after == "pt" else 1), 4)


# ---------------------------------------------------------------- sparse input
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, method", [(BernoulliRBM, "cd"), (BernoulliRBM, "pcd"),
                                         (GaussianBernoulliRBM, "cd")])
def test_sparse_input_trains_as_dense(cls, method, fmt, dtype):
    # scikit-learn's BernoulliRBM accepts scipy.sparse input; the same seed
    # must give the very same model and outputs as the dense equivalent
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = (rng.random((57, 13)) < 0.3) * rng.random((57, 13))
    X = X.astype(dtype)
    Xs = sp.csr_matrix(X).asformat(fmt)
    params = dict(n_components=5, n_iter=3, batch_size=10, method=method, random_state=0)
    if cls is GaussianBernoulliRBM:
        params["learn_variance"] = True
    dense = cls(**params).fit(X)
    sparse = cls(**params).fit(Xs)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        np.testing.assert_array_equal(getattr(sparse, name), getattr(dense, name))
    np.testing.assert_array_equal(sparse.reconstruction_error_, dense.reconstruction_error_)
    dense.partial_fit(X)
    sparse.partial_fit(Xs)
    np.testing.assert_array_equal(sparse.components_, dense.components_)
    np.testing.assert_array_equal(sparse.transform(Xs), dense.transform(X))
    assert sparse.transform(Xs).dtype == dtype
    np.testing.assert_array_equal(sparse.free_energy(Xs), dense.free_energy(X))
    if hasattr(dense, "score_samples"):
        np.testing.assert_array_equal(sparse.score_samples(Xs), dense.score_samples(X))
    state = np.random.RandomState(3)
    sparse._rng, dense._rng = state, np.random.RandomState(3)
    np.testing.assert_array_equal(sparse.gibbs(Xs), dense.gibbs(X))


def test_sparse_input_is_checked_like_dense():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[0.0, 2.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        BernoulliRBM(n_components=2).fit(X)


def test_load_rows_python_twin_reads_csr_as_dense():
    # the plain-Python twin runs with NUMBA_DISABLE_JIT=1
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    X = (rng.random((9, 5)) < 0.4) * rng.random((9, 5))
    S = sp.csr_matrix(X)
    order = rng.permutation(9)
    csr = (S.data, S.indices, S.indptr, 5)
    assert K.rows_shape(csr) == X.shape == K.rows_shape(X)
    for o in (order, np.empty(0, np.int64)):
        V_dense, V_sparse = np.full((4, 5), 7.0), np.full((4, 5), 7.0)
        K.load_rows(X, o, 3, 4, V_dense)
        K.load_rows(csr, o, 3, 4, V_sparse)
        assert_array_equal(V_sparse, V_dense)
        assert_array_equal(V_dense, X[o[3:7]] if o.size else X[3:7])
    # duplicate entries add up, as scipy's toarray adds them
    dup = sp.csr_matrix((np.array([0.25, 0.5]), np.array([1, 1]), np.array([0, 2])), shape=(1, 3))
    V = np.full((1, 3), 7.0)
    K.load_rows((dup.data, dup.indices, dup.indptr, 3), np.empty(0, np.int64), 0, 1, V)
    assert_array_equal(V, dup.toarray())
