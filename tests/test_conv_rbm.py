"""ConvolutionalRBM and ConvolutionalDBN (issue 17).

The kernels and the estimator against the plain-numpy references of
``tests/naive.py`` (correlations, probabilistic max-pooling, its samples,
the free energy in closed form and by enumerating the hidden states, a
CD-k epoch); a CRBM with 1x1 filters and no pooling against the RBMs; the
pooling layer's log-partition against finite differences. The epoch tests
rely on the private optimiser state (``_velocity`` keyed by the parameter
attributes, ``_mean_hidden``) and on the order of an epoch's draws from
``_rng``: the permutation (``shuffle=True``), then ``randint(int64 max,
(n_batches, 2k + 1), dtype=int64)`` as the kernels' keys.
"""

import copy

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from deepzoo import (
    BernoulliRBM,
    ConvolutionalDBN,
    ConvolutionalRBM,
    GaussianBernoulliRBM,
)
from deepzoo._kernels import conv as _conv
from deepzoo.layers import _conv_rbm as crbm_module

from . import naive


def _images(rng, n, shape, visible="bernoulli"):
    if visible == "bernoulli":
        return rng.random((n, *shape))
    return rng.standard_normal((n, *shape))


def _crbm(rng, image_shape, n_filters, filter_shape, pool_shape, visible="bernoulli",
          dtype=np.float64, **params):
    """A fitted CRBM with random parameters of a useful size (not the tiny
    initial weights), so that every block's probabilities differ."""
    X = _images(rng, 3, image_shape, visible).astype(dtype)
    model = ConvolutionalRBM(n_filters, filter_shape=filter_shape, pool_shape=pool_shape,
                             visible_unit=visible, n_iter=0, random_state=0, **params).fit(X)
    model.filters_ = (0.5 * rng.standard_normal(model.filters_.shape)).astype(dtype)
    model.intercept_hidden_ = rng.standard_normal(n_filters).astype(dtype)
    model.intercept_visible_ = (0.5 * rng.standard_normal(image_shape[2])).astype(dtype)
    return model


# ------------------------------------------------------------------ kernels

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("image, filters", [((7, 6, 1), (3, 2)), ((5, 8, 3), (2, 4)),
                                            ((4, 4, 2), (4, 4)), ((1, 9, 1), (1, 3))])
def test_patch_products_are_the_valid_and_full_convolutions(image, filters, dtype):
    rng = np.random.default_rng(0)
    n, K = 3, 4
    height, width, C = image
    fh, fw = filters
    V = rng.random((n, *image)).astype(dtype)
    W = rng.standard_normal((K, fh, fw, C)).astype(dtype)
    hd, wd = _conv.detection_shape(image, filters)
    P = np.empty((n * hd * wd, fh * fw * C), dtype)
    _conv.im2col(V.reshape(n, height, width * C), fh, fw, C, P)
    I = P @ W.reshape(K, -1).T
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(I.reshape(n, hd, wd, K), naive.crbm_detection_input(V, W, 0.0),
                    rtol=tol, atol=tol)
    H = rng.random((n, hd, wd, K)).astype(dtype)
    Z = np.zeros((n, height, width * C), dtype)
    _conv.col2im(H.reshape(-1, K) @ W.reshape(K, -1), fh, fw, C, Z)
    assert_allclose(Z.reshape(n, *image), naive.crbm_visible_input(H, W), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("detection, pool", [((4, 6), (2, 2)), ((5, 7), (2, 3)),
                                             ((3, 3), (1, 1)), ((2, 3), (4, 4))])
def test_pool_matches_naive(detection, pool, dtype):
    rng = np.random.default_rng(1)
    n, K = 3, 5
    I = (3 * rng.standard_normal((n, *detection, K))).astype(dtype)
    I[0, 0, 0, 0] = 80.0  # far beyond exp's float32 range once summed
    I[1, 0, 0, 1] = -80.0
    bias = rng.standard_normal(K).astype(dtype)
    D = np.empty_like(I)
    hp, wp = _conv.pooled_shape(detection, pool)
    pooled = np.empty((n, hp, wp, K), dtype)
    log_z, totals = np.empty(n), np.empty(K)
    _conv.pool(I, bias, *pool, np.uint64(7), D, np.empty((0, 0, 0, 0), dtype), pooled, log_z,
               totals)
    D_ref, P_ref, log_z_ref = naive.crbm_pool(I.astype(np.float64) + bias, *pool)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert_allclose(D, D_ref, rtol=tol, atol=tol)
    assert_allclose(pooled, P_ref, rtol=tol, atol=tol)
    assert_allclose(log_z, log_z_ref, rtol=tol)
    assert_allclose(totals, D_ref.sum(axis=(0, 1, 2)), rtol=tol * 10)


@pytest.mark.parametrize("detection, pool", [((4, 6), (2, 2)), ((5, 7), (2, 3)),
                                             ((3, 3), (1, 1))])
def test_pool_samples_match_naive_and_keep_one_unit_per_block(detection, pool):
    rng = np.random.default_rng(2)
    n, K = 40, 3
    I = rng.standard_normal((n, *detection, K))
    bias = np.array([-1.0, 0.0, 1.5])
    D = np.empty_like(I)
    S = np.empty_like(I)
    none = np.empty((0, 0, 0, 0))
    key = np.uint64(12345)
    _conv.pool(I, bias, *pool, key, D, S, none, np.empty(0), np.empty(0))
    assert_array_equal(S, naive.crbm_pool_sample(D, *pool, key, np.float64))
    for _, rows, cols in naive.crbm_blocks(*detection, *pool):
        assert S[:, rows, cols, :].sum(axis=(1, 2)).max() <= 1
    # a unit is on about as often as its probability says (40 x 3 x blocks draws)
    assert abs(S.mean() - D.mean()) < 0.02


def test_pool_sample_frequencies():
    # one block of 4 units, many samples: the empirical frequencies of the
    # five states match the softmax
    n = 20000
    I = np.tile(np.array([0.5, -1.0, 2.0, 0.0]).reshape(1, 2, 2, 1), (n, 1, 1, 1))
    D, S = np.empty_like(I), np.empty_like(I)
    _conv.pool(I, np.zeros(1), 2, 2, np.uint64(3), D, S, np.empty((0, 0, 0, 0)), np.empty(0),
               np.empty(0))
    e = np.exp([0.5, -1.0, 2.0, 0.0])
    expected = e / (1 + e.sum())
    assert_allclose(S.reshape(n, 4).mean(axis=0), expected, atol=0.01)
    assert_allclose(1 - S.reshape(n, 4).sum(axis=1).mean(), 1 / (1 + e.sum()), atol=0.01)


def test_pooling_log_partition_gradient_is_the_detection_probability():
    # d/dx_u log(1 + sum_B exp(x)) = P(h_u = 1): the kernel's log-partition
    # and its probabilities agree, by central differences
    rng = np.random.default_rng(3)
    I = rng.standard_normal((2, 3, 5, 2))
    bias = np.array([0.3, -0.7])
    pool = (2, 2)
    D = np.empty_like(I)
    none = np.empty((0, 0, 0, 0))

    def log_z(J):
        out = np.empty(2)
        _conv.pool(J, bias, *pool, np.uint64(0), np.empty_like(J), none, none, out,
                   np.empty(0))
        return out.sum()

    _conv.pool(I, bias, *pool, np.uint64(0), D, none, none, np.empty(2), np.empty(0))
    numeric = np.zeros_like(I)
    eps = 1e-6
    for idx in np.ndindex(I.shape):
        up, down = I.copy(), I.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (log_z(up) - log_z(down)) / (2 * eps)
    assert_allclose(numeric, D, rtol=1e-6, atol=1e-8)


# ------------------------------------------ blocks of images on threads

def _threaded_kernels(V, W, bias, pool, key, block, H, alpha):
    """Every output of ``detect`` (sampling, pooled maps, log-partitions and
    totals wanted), ``reconstruct`` of the maps ``H`` and
    ``weight_gradient`` of ``H`` with ``detect``'s patches, in blocks of
    ``block`` images; outputs start as NaN, so a value left unwritten shows."""
    n, height, width, C = V.shape
    K, fh, fw, _ = W.shape
    hd, wd = _conv.detection_shape((height, width), (fh, fw))
    hp, wp = _conv.pooled_shape((hd, wd), pool)
    dtype = V.dtype
    nan = lambda *shape: np.full(shape, np.nan, dtype)  # noqa: E731
    out = {"P": nan(n * hd * wd, fh * fw * C), "I": nan(n * hd * wd, K), "D": nan(n, hd, wd, K),
           "S": nan(n, hd, wd, K), "pooled": nan(n, hp, wp, K), "log_z": np.full(n, np.nan),
           "totals": np.full(K, np.nan), "R": nan(n * hd * wd, fh * fw * C),
           "Z": nan(n, height, width * C), "G": nan(K, fh * fw * C)}
    F = W.reshape(K, -1)
    _conv.detect(V.reshape(n, height, width * C), F, fh, fw, bias, *pool, key, block,
                 *(out[name] for name in ("P", "I", "D", "S", "pooled", "log_z", "totals")))
    _conv.reconstruct(H.reshape(-1, K), F, fh, fw, block, out["R"], out["Z"])
    _conv.weight_gradient(H.reshape(-1, K), out["P"], hd * wd, block, alpha, out["G"])
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("block", [1, 2, 3, 7, 10])
def test_threaded_kernels_match_naive_and_draw_as_the_whole_batch(block, dtype):
    rng = np.random.default_rng(3)
    n, image, K, fh, fw, pool = 7, (6, 7, 2), 3, 3, 2, (2, 3)
    V = rng.random((n, *image)).astype(dtype)
    W = rng.standard_normal((K, fh, fw, image[2])).astype(dtype)
    bias = rng.standard_normal(K).astype(dtype)
    H = rng.random((n, *_conv.detection_shape(image, (fh, fw)), K)).astype(dtype)
    key = np.uint64(99)
    out = _threaded_kernels(V, W, bias, pool, key, block, H, 0.25)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    D_ref, pooled_ref, log_z_ref = naive.crbm_pool(naive.crbm_detection_input(V, W, bias), *pool)
    assert_allclose(out["D"], D_ref, rtol=tol, atol=tol)
    assert_allclose(out["pooled"], pooled_ref, rtol=tol, atol=tol)
    assert_allclose(out["log_z"], log_z_ref, rtol=tol)
    assert_allclose(out["totals"], D_ref.sum(axis=(0, 1, 2)), rtol=tol * 10)
    assert_allclose(out["Z"].reshape(n, *image), naive.crbm_visible_input(H, W), rtol=tol,
                    atol=tol)
    assert_allclose(out["G"].reshape(W.shape), 0.25 * naive.crbm_weight_statistic(H, V, fh, fw),
                    rtol=tol, atol=tol * 10)
    # a block draws what the whole mini-batch draws for its images: the
    # serial pool on every image at once, bit for bit
    S = np.empty_like(out["S"])
    _conv.pool(out["I"].reshape(out["D"].shape), bias, *pool, key, np.empty_like(S), S,
               np.empty((0, 0, 0, 0), dtype), np.empty(0), np.empty(0))
    assert_array_equal(out["S"], S)
    if dtype == np.float64:
        assert_array_equal(out["S"], naive.crbm_pool_sample(out["D"], *pool, key, dtype))


def test_threaded_kernels_give_the_same_bits_on_any_number_of_threads():
    rng = np.random.default_rng(4)
    n, image, K, fh, fw = 9, (6, 7, 2), 3, 3, 2
    V = rng.random((n, *image)).astype(np.float32)
    W = rng.standard_normal((K, fh, fw, image[2])).astype(np.float32)
    bias = rng.standard_normal(K).astype(np.float32)
    H = rng.random((n, *_conv.detection_shape(image, (fh, fw)), K)).astype(np.float32)
    default = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append(_threaded_kernels(V, W, bias, (2, 2), np.uint64(5), 2, H, 0.5))
    finally:
        numba.set_num_threads(default)
    for name, value in results[0].items():
        assert_array_equal(results[-1][name], value, err_msg=name)


# ---------------------------------------------------- the model's equations

@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("image, filters, pool", [((3, 3, 1), (2, 2), (2, 2)),
                                                  ((3, 4, 2), (2, 2), (1, 2)),
                                                  ((2, 4, 1), (1, 2), (2, 2))])
def test_free_energy_matches_closed_form_and_enumeration(visible, image, filters, pool):
    rng = np.random.default_rng(4)
    model = _crbm(rng, image, 2, filters, pool, visible)
    V = _images(rng, 4, image, visible)
    args = (V, model.filters_, model.intercept_hidden_, model.intercept_visible_, *pool,
            visible)
    F = model.free_energy(V.reshape(4, -1))
    assert F.dtype == np.float64
    assert_allclose(F, naive.crbm_free_energy(*args), rtol=1e-12)
    assert_allclose(F, naive.crbm_free_energy_brute(*args), rtol=1e-10)


@pytest.mark.parametrize("output", ["pooled", "detection"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hidden_conditionals_match_naive(output, dtype):
    rng = np.random.default_rng(5)
    image = (9, 8, 2)
    model = _crbm(rng, image, 3, (3, 2), (2, 3), dtype=dtype, output=output)
    V = _images(rng, 5, image).astype(dtype)
    D, P, _ = naive.crbm_pool(naive.crbm_detection_input(V, model.filters_,
                                                         model.intercept_hidden_), 2, 3)
    expected = (P if output == "pooled" else D).reshape(5, -1)
    out = model.transform(V)
    assert out.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(out, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_visible_conditional_matches_naive(visible):
    rng = np.random.default_rng(6)
    image = (6, 5, 2)
    model = _crbm(rng, image, 3, (2, 3), (2, 2), visible)
    H = (rng.random((4, 5, 3, 3)) < 0.3).astype(float)
    Z = model._visible_input(H.reshape(-1, 3), np.empty((60, 12)), np.empty((4, 6, 10)))
    M = np.empty((4, 60))
    model._visible(Z, np.uint64(0), M, M[:0])
    expected = naive.crbm_visible_input(H, model.filters_) + model.intercept_visible_
    if visible == "bernoulli":
        expected = naive.sigmoid(expected)
    assert_allclose(M, expected.reshape(4, -1), rtol=1e-12, atol=1e-12)


def _one_by_one(rng, rbm_class, image, n_filters):
    """A fitted RBM on pixel vectors and the CRBM with the same weights as
    1x1 filters and no pooling."""
    C = image[2]
    pixels = rng.random((20, C))
    rbm = rbm_class(n_components=n_filters, n_iter=1, random_state=0).fit(pixels)
    rbm.components_ = rng.standard_normal((n_filters, C))
    rbm.intercept_hidden_ = rng.standard_normal(n_filters)
    rbm.intercept_visible_ = rng.standard_normal(C)
    visible = "bernoulli" if rbm_class is BernoulliRBM else "gaussian"
    crbm = ConvolutionalRBM(n_filters, filter_shape=1, pool_shape=1, visible_unit=visible,
                            output="detection", n_iter=0).fit(rng.random((2, *image)))
    crbm.filters_ = rbm.components_.reshape(n_filters, 1, 1, C).copy()
    crbm.intercept_hidden_ = rbm.intercept_hidden_.copy()
    crbm.intercept_visible_ = rbm.intercept_visible_.copy()
    return rbm, crbm


@pytest.mark.parametrize("rbm_class", [BernoulliRBM, GaussianBernoulliRBM])
@pytest.mark.parametrize("image", [(1, 1, 5), (4, 3, 5)])
def test_one_by_one_filters_without_pooling_are_an_rbm_per_pixel(rbm_class, image):
    rng = np.random.default_rng(7)
    n, K = 6, 4
    rbm, crbm = _one_by_one(rng, rbm_class, image, K)
    V = rng.random((n, *image))
    pixels = V.reshape(-1, image[2])
    # p(h | v): the RBM's hidden probabilities at every pixel
    assert_allclose(crbm.transform(V).reshape(-1, K), rbm.transform(pixels), rtol=1e-12)
    # free energy: the sum of the RBM's over the pixels (1x1 images: equal)
    assert_allclose(crbm.free_energy(V),
                    rbm.free_energy(pixels).reshape(n, -1).sum(axis=1), rtol=1e-12)
    # p(v | h): the RBM's visible means at every pixel
    H = (rng.random((n * image[0] * image[1], K)) < 0.5).astype(float)
    Z = crbm._visible_input(H, np.empty((H.shape[0], image[2])),
                            np.empty((n, image[0], image[1] * image[2])))
    M = np.empty_like(Z)
    crbm._visible(Z, np.uint64(0), M, M[:0])
    act = naive.sigmoid if rbm_class is BernoulliRBM else (lambda z: z)
    assert_allclose(M.reshape(-1, image[2]),
                    act(H @ rbm.components_ + rbm.intercept_visible_), rtol=1e-12)


@pytest.mark.parametrize("image, filters, pool", [((5, 4, 1), (2, 3), (2, 2)),
                                                  ((4, 4, 2), (2, 2), (3, 1))])
def test_score_samples_is_the_pseudo_likelihood_per_pixel(image, filters, pool):
    rng = np.random.default_rng(11)
    model = _crbm(rng, image, 3, filters, pool)
    for V in (_images(rng, 4, image), (rng.random((4, *image)) < 0.4).astype(float)):
        expected = naive.crbm_pseudo_loglik(V, model.filters_, model.intercept_hidden_,
                                            model.intercept_visible_, *pool)
        pll = model.score_samples(V.reshape(4, -1))
        assert pll.dtype == np.float64 and np.all(pll < 0)
        assert_allclose(pll, expected, rtol=1e-10)
        assert model.score(V) == pytest.approx(expected.mean(), rel=1e-10)


@pytest.mark.parametrize("image", [(1, 1, 5), (3, 2, 5)])
def test_score_samples_of_one_by_one_filters_is_the_rbms(image):
    # BernoulliRBM.score_samples is the pseudo-log-likelihood per feature;
    # with 1x1 filters and no pooling the image is independent RBMs, one per
    # pixel, so the CRBM's is the mean of the RBM's over the pixels.
    rng = np.random.default_rng(12)
    rbm, crbm = _one_by_one(rng, BernoulliRBM, image, 4)
    V = (rng.random((6, *image)) < 0.5).astype(float)
    per_pixel = rbm.score_samples(V.reshape(-1, image[2])).reshape(6, -1)
    assert_allclose(crbm.score_samples(V), per_pixel.mean(axis=1), rtol=1e-12)


def test_gaussian_visible_units_have_no_score_samples():
    model = ConvolutionalRBM(2, filter_shape=2, visible_unit="gaussian", n_iter=1,
                             random_state=0).fit(np.random.default_rng(0).random((3, 4, 4)))
    assert not hasattr(model, "score_samples") and not hasattr(model, "score")
    assert hasattr(ConvolutionalRBM(), "score_samples")


def test_free_energy_gradient_is_the_positive_statistic():
    # -dF/dW^k = sum over positions of P(h = 1 | v) times the patch: the data
    # term of the weight gradient that training uses, by central differences
    rng = np.random.default_rng(8)
    image, pool = (5, 4, 2), (2, 2)
    model = _crbm(rng, image, 2, (2, 3), pool)
    V = _images(rng, 3, image)
    D = model.set_params(output="detection").transform(V).reshape(3, 4, 2, 2)
    fh, fw = 2, 3
    analytic = np.zeros(model.filters_.shape)
    for i in range(4):
        for j in range(2):
            analytic += np.einsum("nk,nrqc->krqc", D[:, i, j], V[:, i:i + fh, j:j + fw])
    W = model.filters_.copy()
    numeric = np.zeros_like(W)
    eps = 1e-6
    for idx in np.ndindex(W.shape):
        values = []
        for sign in (1, -1):
            model.filters_ = W.copy()
            model.filters_[idx] += sign * eps
            values.append(-model.free_energy(V).sum())
        numeric[idx] = (values[0] - values[1]) / (2 * eps)
    assert_allclose(numeric, analytic, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------- training

EPOCH_CASES = [
    ("cd1", "bernoulli", {}),
    ("cd2", "bernoulli", {"k": 2}),
    ("cd2-sample", "bernoulli", {"k": 2, "sample_visible": True}),
    ("cd1-no-momentum-no-decay", "bernoulli", {"initial_momentum": 0.0, "weight_decay": 0.0}),
    ("cd1-momentum-switch", "bernoulli", {"momentum_switch": 1, "weight_decay": 0.05}),
    ("cd1-no-sparsity", "bernoulli", {"sparsity_cost": 0.0}),
    ("cd1-no-shuffle-pool3", "bernoulli", {"shuffle": False, "pool_shape": (3, 1)}),
    ("g-cd1", "gaussian", {"learning_rate": 0.01}),
    ("g-cd2-sample", "gaussian", {"k": 2, "sample_visible": True, "learning_rate": 0.01}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case, visible, params", EPOCH_CASES, ids=[c[0] for c in EPOCH_CASES])
def test_epoch_matches_naive(case, visible, params, dtype):
    _check_epoch(visible, params, dtype)


@pytest.mark.parametrize("images_per_block", [1, 2])
@pytest.mark.parametrize("case, visible, params",
                         [c for c in EPOCH_CASES if c[0] in ("cd1", "cd2-sample", "g-cd2-sample")],
                         ids=["cd1", "cd2-sample", "g-cd2-sample"])
def test_epoch_in_blocks_of_images_matches_naive(case, visible, params, images_per_block,
                                                 monkeypatch):
    # the epoch's images have 4 x 6 detection positions: blocks of one or
    # two images (the mini-batches of 3 end in a short block)
    monkeypatch.setattr(crbm_module, "_BLOCK_ROWS", 24 * images_per_block)
    _check_epoch(visible, params, np.float64)


def _check_epoch(visible, params, dtype):
    """A CD-k epoch of ``partial_fit`` against ``naive.crbm_train_epoch``."""
    rng = np.random.default_rng(9)
    image = (6, 7, 2)
    settings = dict(batch_size=3, learning_rate=0.1, pool_shape=2, sparsity_cost=0.5,
                    sparsity_target=0.05)
    settings.update(params)
    X = _images(rng, 7, image, visible).astype(dtype)  # batches of 3, 3, 1
    model = ConvolutionalRBM(3, filter_shape=(3, 2), visible_unit=visible, n_iter=0,
                             random_state=0, **settings).fit(X)
    model.filters_ = (0.3 * rng.standard_normal(model.filters_.shape)).astype(dtype)
    model.partial_fit(X)  # momentum and the sparsity average away from zero
    state = {"W": model.filters_, "b": model.intercept_hidden_, "c": model.intercept_visible_,
             "velocity": {"W": model._velocity["filters_"],
                          "b": model._velocity["intercept_hidden_"],
                          "c": model._velocity["intercept_visible_"]},
             "mean_hidden": model._mean_hidden}
    state = copy.deepcopy(state)
    rng_copy = copy.deepcopy(model._rng)
    order = rng_copy.permutation(7) if model.shuffle else None
    keys = rng_copy.randint(np.iinfo(np.int64).max, size=(3, 2 * model.k + 1),
                            dtype=np.int64).astype(np.uint64)
    full = {**model.get_params(), "pool_shape": naive_pair(model.pool_shape), "epoch": 1}
    expected, error = naive.crbm_train_epoch(X, state, full, order, keys)
    model.partial_fit(X)
    tol = 1e-9 if dtype == np.float64 else 2e-4
    assert_allclose(model.filters_, expected["W"], rtol=tol, atol=tol)
    assert_allclose(model.intercept_hidden_, expected["b"], rtol=tol, atol=tol)
    assert_allclose(model.intercept_visible_, expected["c"], rtol=tol, atol=tol)
    assert_allclose(model._velocity["filters_"], expected["velocity"]["W"], rtol=tol, atol=tol)
    assert_allclose(model._mean_hidden, expected["mean_hidden"], rtol=tol, atol=tol)
    assert_allclose(model.reconstruction_error_[-1], error / 7, rtol=tol)


def naive_pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def test_training_learns_the_bars():
    # images of one horizontal or vertical bar: a few epochs reduce the
    # reconstruction error well below its first value
    rng = np.random.default_rng(10)
    X = np.zeros((200, 8, 8))
    for x, where in zip(X, rng.integers(0, 8, 200)):
        if rng.random() < 0.5:
            x[where, :] = 1
        else:
            x[:, where] = 1
    # (3x3 filters see few pixels: averaged over positions, their gradients
    # are small, hence a larger rate than the default)
    model = ConvolutionalRBM(8, filter_shape=3, pool_shape=2, n_iter=15, learning_rate=1.0,
                             random_state=0).fit(X)
    errors = model.reconstruction_error_
    assert errors[-1] < 0.5 * errors[0], errors


def test_a_seed_reproduces_a_fit():
    rng = np.random.default_rng(11)
    X = _images(rng, 12, (6, 6, 1))
    fits = [ConvolutionalRBM(3, filter_shape=3, batch_size=4, n_iter=2, random_state=5).fit(X)
            for _ in range(2)]
    assert_array_equal(fits[0].filters_, fits[1].filters_)
    assert_array_equal(fits[0].transform(X), fits[1].transform(X))


# ------------------------------------------------------------------- input

def test_images_as_2d_rows_3d_and_4d_arrays_agree():
    rng = np.random.default_rng(12)
    X = _images(rng, 10, (6, 5, 1))
    params = dict(n_filters=2, filter_shape=3, n_iter=2, random_state=0)
    rows = ConvolutionalRBM(image_shape=(6, 5), **params).fit(X.reshape(10, -1))
    three = ConvolutionalRBM(**params).fit(X[..., 0])
    four = ConvolutionalRBM(**params).fit(X)
    assert rows.image_shape_ == three.image_shape_ == four.image_shape_ == (6, 5, 1)
    assert_array_equal(rows.filters_, three.filters_)
    assert_array_equal(rows.filters_, four.filters_)
    assert_array_equal(four.transform(X), four.transform(X.reshape(10, -1)))
    assert four.n_features_in_ == 30


def test_2d_rows_without_image_shape_are_signals():
    X = np.random.default_rng(13).random((8, 12))
    model = ConvolutionalRBM(2, filter_shape=(1, 3), pool_shape=(1, 2), n_iter=1,
                             random_state=0).fit(X)
    assert model.image_shape_ == (1, 12, 1)
    assert model.transform(X).shape == (8, 5 * 2)


@pytest.mark.parametrize("fit_input, params, message", [
    ("rows", {"image_shape": (5, 5)}, "36 features"),
    ("rows", {"image_shape": (6, 6, 0)}, "image_shape must be"),
    ("rows", {"image_shape": "6x6"}, "image_shape"),
    ("images", {"image_shape": (6, 3, 2)}, "leave image_shape None"),
    ("rows", {}, "height 1"),
    ("images", {"filter_shape": (7, 2)}, "does not fit"),
    ("images", {"filter_shape": (2, 0)}, "filter_shape"),
    ("images", {"pool_shape": (1, 2, 3)}, "pool_shape"),
])
def test_bad_geometry_is_refused_clearly(fit_input, params, message):
    X = np.random.default_rng(14).random((4, 6, 6))
    X = X.reshape(4, -1) if fit_input == "rows" else X
    with pytest.raises(ValueError, match=message):
        ConvolutionalRBM(**{"filter_shape": 3, **params}).fit(X)


def test_binary_units_refuse_values_outside_the_unit_interval():
    X = np.random.default_rng(15).standard_normal((4, 6, 6))
    with pytest.raises(ValueError, match=r"\[0, 1\].*visible_unit='gaussian'"):
        ConvolutionalRBM(2, filter_shape=3).fit(X)
    ConvolutionalRBM(2, filter_shape=3, visible_unit="gaussian", learning_rate=0.01,
                     n_iter=1).fit(X)


def test_other_image_shapes_are_refused_after_fit():
    rng = np.random.default_rng(16)
    model = ConvolutionalRBM(2, filter_shape=3, n_iter=1, random_state=0).fit(rng.random((4, 6, 6)))
    with pytest.raises(ValueError, match=r"fitted on images of shape \(6, 6, 1\)"):
        model.transform(rng.random((2, 4, 9)))
    with pytest.raises(ValueError, match="36 features"):
        model.partial_fit(rng.random((2, 35)))


def test_partial_fit_continues_and_counts_epochs():
    rng = np.random.default_rng(17)
    X = rng.random((6, 5, 5))
    model = ConvolutionalRBM(2, filter_shape=2, n_iter=1, random_state=0)
    model.partial_fit(X).partial_fit(X.reshape(6, -1).astype(np.float32))
    assert model.n_iter_ == 2 and model.reconstruction_error_.shape == (2,)
    assert model.filters_.dtype == np.float64


# -------------------------------------------------------------------- CDBN

def test_cdbn_layers_chain_on_pooled_maps():
    rng = np.random.default_rng(18)
    X = (rng.random((12, 14, 13)) < 0.3).astype(float)
    cdbn = ConvolutionalDBN(n_filters=(3, 4), filter_shape=[3, (2, 3)], pool_shape=[2, 1],
                            learning_rate=[0.1, 0.05], n_iter=2, random_state=0).fit(X)
    first, second = (layer for _, layer in cdbn.steps_)
    assert first.image_shape_ == (14, 13, 1)
    # 12 x 11 detection maps in 2 x 2 blocks: 6 x 6 pooled maps of 3 filters
    assert second.image_shape_ == (6, 6, 3)
    assert second.filters_.shape == (4, 2, 3, 3) and second.learning_rate == 0.05
    top = second.transform(first.transform(X))
    assert_array_equal(cdbn.transform(X), top)
    both = cdbn.set_params(output="concat").transform(X.reshape(12, -1))
    assert_array_equal(both, np.hstack([first.transform(X), top]))
    assert both.shape == (12, 6 * 6 * 3 + 5 * 4 * 4)


@pytest.mark.parametrize("params, message", [
    ({"n_filters": (3, 2), "filter_shape": 5}, "layer 2: filter_shape"),
    ({"n_filters": (3, 2), "pool_shape": [2, 2, 2]}, "pool_shape must be one value"),
    ({"n_filters": (3, 0)}, "n_filters"),
    ({"n_filters": ()}, "n_filters"),
    ({"n_filters": (3,), "learning_rate": [0.1, 0.2]}, "learning_rate"),
])
def test_cdbn_bad_layer_settings_are_refused_clearly(params, message):
    X = np.random.default_rng(19).random((4, 10, 10))
    with pytest.raises(ValueError, match=message):
        ConvolutionalDBN(**{"filter_shape": 3, **params}).fit(X)


def test_read_only_images_are_read_not_written():
    # the patch kernel only reads the images: read-only input (a memory map
    # opened read-only) trains and transforms
    X = np.random.default_rng(20).random((6, 5, 5))
    X.setflags(write=False)
    model = ConvolutionalRBM(2, filter_shape=2, n_iter=1, random_state=0).fit(X)
    assert model.transform(X).shape == (6, 2 * 2 * 2)
