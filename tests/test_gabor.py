"""The Gabor-likeness measure: a 2-D Gabor fitted to each filter."""

import numpy as np
import pytest

from deepzoo.utils.gabor import PARAMETERS, fit_gabor, gabor, gabor_share

from . import naive


def _random_gabors(rng, n, size):
    """Gabors of random position, orientation, phase, frequency and
    (anisotropic) envelope that fit well inside a ``size`` filter."""
    params = np.column_stack([
        rng.uniform(0.5, 2, n) * rng.choice([-1, 1], n),
        rng.uniform(0.35, 0.65, n) * (size - 1),
        rng.uniform(0.35, 0.65, n) * (size - 1),
        rng.uniform(-np.pi, np.pi, n),
        rng.uniform(0.08, 0.35, n),
        rng.uniform(0, 2 * np.pi, n),
        rng.uniform(0.12, 0.25, n) * size,
        rng.uniform(0.12, 0.25, n) * size,
        rng.uniform(-0.2, 0.2, n),
    ])
    return params, np.stack([gabor(p, (size, size)) for p in params])


def test_gabor_matches_the_pixel_by_pixel_reference():
    rng = np.random.default_rng(0)
    params, images = _random_gabors(rng, 10, 9)
    for p, image in zip(params, images):
        np.testing.assert_allclose(gabor(p, (9, 11)), naive.gabor_image(p, (9, 11)),
                                   rtol=1e-12, atol=1e-12)


def test_jacobian_matches_finite_differences():
    from deepzoo.utils.gabor import _gabor_and_jacobian

    rng = np.random.default_rng(3)
    params, _ = _random_gabors(rng, 5, 10)
    rows, cols = (g.ravel().astype(float) for g in np.mgrid[0:10, 0:10])
    for p in params:
        value, jac = _gabor_and_jacobian(p, rows, cols)
        np.testing.assert_allclose(value, naive.gabor_image(p, (10, 10)).ravel(), atol=1e-12)
        step = 1e-6 * np.eye(9)
        numeric = np.column_stack([
            (_gabor_and_jacobian(p + e, rows, cols)[0] - _gabor_and_jacobian(p - e, rows, cols)[0])
            / 2e-6 for e in step])
        np.testing.assert_allclose(jac, numeric, atol=1e-7)


@pytest.mark.parametrize("size", [8, 10, 16])
def test_synthetic_gabors_fit_exactly_and_count(size):
    rng = np.random.default_rng(size)
    params, images = _random_gabors(rng, 12, size)
    r2, fitted = fit_gabor(images)
    assert r2.min() > 0.999
    assert gabor_share(images) == 1.0
    assert fitted.shape == (12, len(PARAMETERS))
    for p, f, image, r in zip(params, fitted, images, r2):
        # the reported R^2 is the plain one of the reported parameters
        assert naive.r_squared(image, naive.gabor_image(f, image.shape)) == pytest.approx(r)
        # the carrier is recovered: frequency, and orientation up to a half turn
        assert f[PARAMETERS.index("frequency")] == pytest.approx(p[4], abs=2e-3)
        turn = (f[3] - p[3]) % np.pi
        assert min(turn, np.pi - turn) < 0.02
        assert f[0] > 0 and 0 <= f[5] < 2 * np.pi  # one form of each fit


def test_white_noise_mostly_fails():
    rng = np.random.default_rng(1)
    for size in (8, 12):
        noise = rng.standard_normal((20, size, size))
        r2, _ = fit_gabor(noise)
        assert np.median(r2) < 0.35, size
        assert gabor_share(noise) <= 0.05


def test_fit_beats_the_generating_parameters_on_noisy_gabors():
    # Least squares can only do better than the truth on the noisy filter:
    # a fit stuck in a poor local minimum would fall below it.
    rng = np.random.default_rng(2)
    params, images = _random_gabors(rng, 15, 12)
    noisy = images + 0.15 * rng.standard_normal(images.shape) * np.abs(images).max(
        axis=(1, 2), keepdims=True)
    r2, _ = fit_gabor(noisy.reshape(15, -1), (12, 12))
    truth = np.array([naive.r_squared(x, naive.gabor_image(p, x.shape))
                      for x, p in zip(noisy, params)])
    assert np.all(r2 >= truth - 1e-6)
    assert truth.min() > 0.5  # the noise left each a Gabor to find


def test_constant_filter_and_bad_shapes():
    r2, params = fit_gabor(np.ones((2, 5, 5)))
    np.testing.assert_array_equal(r2, 0.0)
    assert np.isnan(params).all()
    with pytest.raises(ValueError, match="shape must be the"):
        fit_gabor(np.zeros((3, 64)))
    with pytest.raises(ValueError, match="shape must be the"):
        fit_gabor(np.zeros((3, 64)), (7, 9))
    with pytest.raises(ValueError, match="does not match"):
        fit_gabor(np.zeros((3, 8, 8)), (4, 16))
    with pytest.raises(ValueError, match="2-D array"):
        fit_gabor(np.zeros(64), (8, 8))
