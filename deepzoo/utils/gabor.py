"""How Gabor-like a set of filters is: a 2-D Gabor fitted to each.

Simple cells of the visual cortex, sparse codes of natural images
(Olshausen & Field 1996) and the first layer of convolutional DBNs (Lee et
al. 2009) have localized, oriented, bandpass receptive fields, which a 2-D
Gabor function describes well (Jones & Palmer 1987). The measure here fits
one to each filter by least squares and reports the share of filters it
explains, ``R^2 >= 0.8``.
"""

import numpy as np
from scipy.optimize import least_squares

__all__ = ["PARAMETERS", "fit_gabor", "gabor", "gabor_share"]

#: Names of the parameters that :func:`fit_gabor` returns, in order.
PARAMETERS = ("amplitude", "row", "col", "orientation", "frequency", "phase",
              "sigma_along", "sigma_across", "offset")

# Zero-padding of the spectrum that starts the frequency and orientation:
# a 10x10 filter's own grid resolves only 0.1 cycles/pixel.
_PAD = 4


def gabor(params, shape):
    """A 2-D Gabor function sampled on a ``shape`` pixel grid.

    ``amplitude * exp(-u**2 / (2 sigma_along**2) - w**2 / (2 sigma_across**2))
    * cos(2 pi frequency u + phase) + offset``, with ``(u, w)`` the pixel's
    offset from ``(row, col)`` rotated by ``orientation`` (radians; ``u``
    runs along the carrier's wave vector, ``(cos, sin)`` of the orientation
    in (col, row) order).

    Parameters
    ----------
    params : array-like of shape (9,)
        The values of :data:`PARAMETERS`, in that order; frequency in
        cycles/pixel, row and col in pixels from the top-left pixel.
    shape : (int, int)
        ``(height, width)`` of the grid.

    Returns
    -------
    ndarray of shape ``shape``

    Examples
    --------
    >>> from deepzoo.utils.gabor import gabor
    >>> g = gabor([1, 4, 4, 0, 0.25, 0, 2, 2, 0], (9, 9))
    >>> float(g[4, 4]), round(float(g[4, 6]), 4)
    (1.0, -0.6065)
    """
    amp, row, col, theta, freq, phase, s_along, s_across, offset = params
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    dr, dc = rows - row, cols - col
    u = dc * np.cos(theta) + dr * np.sin(theta)
    w = -dc * np.sin(theta) + dr * np.cos(theta)
    envelope = np.exp(-0.5 * ((u / s_along) ** 2 + (w / s_across) ** 2))
    return amp * envelope * np.cos(2 * np.pi * freq * u + phase) + offset


def _gabor_and_jacobian(params, rows, cols):
    """The Gabor on the pixels ``(rows, cols)`` (flat arrays) and its
    derivatives in the parameters, ``(n_pixels, 9)``: an analytic Jacobian
    makes a fit about ten times faster than finite differences."""
    amp, row, col, theta, freq, phase, s_along, s_across, offset = params
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    dr, dc = rows - row, cols - col
    u = dc * cos_t + dr * sin_t
    w = -dc * sin_t + dr * cos_t
    envelope = np.exp(-0.5 * ((u / s_along) ** 2 + (w / s_across) ** 2))
    carrier = 2 * np.pi * freq * u + phase
    c, s = np.cos(carrier), np.sin(carrier)
    ec, es = envelope * c, amp * envelope * s
    d_u = -amp * ec * u / s_along ** 2 - 2 * np.pi * freq * es
    d_w = -amp * ec * w / s_across ** 2
    jac = np.empty((u.size, 9))
    jac[:, 0] = ec
    jac[:, 1] = -d_u * sin_t - d_w * cos_t
    jac[:, 2] = -d_u * cos_t + d_w * sin_t
    jac[:, 3] = d_u * w - d_w * u
    jac[:, 4] = -es * 2 * np.pi * u
    jac[:, 5] = -es
    jac[:, 6] = amp * ec * u ** 2 / s_along ** 3
    jac[:, 7] = amp * ec * w ** 2 / s_across ** 3
    jac[:, 8] = 1.0
    return amp * ec + offset, jac


def _starts(image):
    """Initial parameters: the carrier from the spectral peak (zero-padded),
    the centre at the energy centroid or the largest pixel, the width from
    the energy's spread, four phases."""
    h, w = image.shape
    centred = image - image.mean()
    spectrum = np.abs(np.fft.rfft2(centred, s=(_PAD * h, _PAD * w)))
    spectrum[0, 0] = 0.0
    i, j = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    fy = np.fft.fftfreq(_PAD * h)[i]
    fx = np.fft.rfftfreq(_PAD * w)[j]
    freq, theta = np.hypot(fx, fy), np.arctan2(fy, fx)
    energy = centred ** 2
    total = energy.sum()
    rows, cols = np.mgrid[0:h, 0:w]
    centroid = (float((energy * rows).sum() / total), float((energy * cols).sum() / total))
    peak = np.unravel_index(np.argmax(np.abs(centred)), image.shape)
    spread = np.sqrt((energy * ((rows - centroid[0]) ** 2 + (cols - centroid[1]) ** 2)
                      ).sum() / total / 2)
    sigma = float(np.clip(spread, 1.0, max(h, w) / 2))
    amp = float(np.abs(centred).max())
    starts = []
    for row, col in (centroid, peak):
        for phase in (0.0, np.pi / 2, np.pi, 3 * np.pi / 2):
            starts.append([amp, row, col, theta, freq, phase, sigma, sigma, image.mean()])
    return starts


def _fit_one(image):
    """Best least-squares Gabor over the starts: ``(R^2, parameters)``."""
    h, w = image.shape
    target = image.ravel()
    total = float(np.sum((target - target.mean()) ** 2))
    if total == 0.0:
        return 0.0, np.full(len(PARAMETERS), np.nan)
    # The centre may leave the filter by a pixel; the widths stay between
    # a quarter pixel and twice the filter (wider is a plane wave, which
    # the R^2 then judges); the frequency stays below Nyquist.
    big = 2.0 * max(h, w)
    lower = [-np.inf, -1.0, -1.0, -np.inf, 0.0, -np.inf, 0.25, 0.25, -np.inf]
    upper = [np.inf, h, w, np.inf, 0.5, np.inf, big, big, np.inf]

    rows, cols = (grid.ravel().astype(np.float64) for grid in np.mgrid[0:h, 0:w])
    cache = {}

    def evaluate(p):
        key = p.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = _gabor_and_jacobian(p, rows, cols)
        return cache[key]

    def residual(p):
        return evaluate(p)[0] - target

    def jacobian(p):
        return evaluate(p)[1]

    best = (-np.inf, None)
    for start in _starts(image):
        start = np.clip(start, lower, upper)
        fit = least_squares(residual, start, jac=jacobian, bounds=(lower, upper),
                            x_scale="jac", max_nfev=200)
        r2 = 1.0 - 2.0 * fit.cost / total
        if r2 > best[0]:
            best = (r2, fit.x)
    r2, params = best
    params = params.copy()
    # One form of each fit: a positive amplitude, the phase in [0, 2 pi)
    if params[0] < 0:
        params[0], params[5] = -params[0], params[5] + np.pi
    params[5] %= 2 * np.pi
    return float(r2), params


def _as_images(filters, shape):
    filters = np.asarray(filters, dtype=np.float64)
    if filters.ndim == 3:
        if shape is not None and tuple(shape) != filters.shape[1:]:
            raise ValueError(f"shape={shape!r} does not match the filters' own shape "
                             f"{filters.shape[1:]}; leave shape None for 3-D filters.")
        return filters
    if filters.ndim != 2:
        raise ValueError(f"filters must be a 2-D array (one filter per row, with shape) or "
                         f"a 3-D array (n, height, width); got {filters.ndim} dimensions.")
    if shape is None or len(shape) != 2 or int(np.prod(shape)) != filters.shape[1]:
        raise ValueError(f"shape must be the (height, width) of the filters in the rows, "
                         f"{filters.shape[1]} values each; got {shape!r}.")
    return filters.reshape(len(filters), *shape)


def fit_gabor(filters, shape=None):
    """Fit a 2-D Gabor function to each filter by least squares.

    Each fit starts from eight points: the carrier's frequency and
    orientation at the peak of the filter's zero-padded spectrum, the
    centre at the energy centroid or at the largest pixel, the envelope as
    wide as the energy's spread, and four carrier phases; the best of the
    eight (``scipy.optimize.least_squares``, trust region with bounds)
    is kept.

    Parameters
    ----------
    filters : array-like of shape (n_filters, height, width) or (n_filters, height * width)
        The filters, one per row (row-major) or as images.
    shape : (int, int), default=None
        ``(height, width)`` of the rows of 2-D ``filters``.

    Returns
    -------
    r2 : ndarray of shape (n_filters,)
        Share of each filter's variance (about its mean) that its Gabor
        explains: ``1 - sum (filter - fit)**2 / sum (filter - mean)**2``
        (0 for a constant filter).
    params : ndarray of shape (n_filters, 9)
        The fitted parameters, in the order of :data:`PARAMETERS` (see
        :func:`gabor`; NaN for a constant filter).

    Raises
    ------
    ValueError
        If ``filters`` is not 2-D or 3-D, or ``shape`` does not match it.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.utils.gabor import fit_gabor, gabor
    >>> g = gabor([1.0, 4.2, 5.1, 0.6, 0.2, 1.0, 1.8, 2.5, 0.0], (10, 10))
    >>> noise = np.random.default_rng(0).standard_normal((10, 10))
    >>> r2, params = fit_gabor(np.stack([g, noise]))
    >>> bool(r2[0] > 0.999), bool(r2[1] < 0.5)
    (True, True)
    """
    images = _as_images(filters, shape)
    out = [_fit_one(image) for image in images]
    r2 = np.array([r for r, _ in out])
    params = np.array([p for _, p in out]).reshape(len(images), len(PARAMETERS))
    return r2, params


def gabor_share(filters, shape=None, threshold=0.8):
    """Share of the filters that a 2-D Gabor fits with ``R^2 >= threshold``.

    Parameters
    ----------
    filters, shape
        As for :func:`fit_gabor`.
    threshold : float, default=0.8

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.utils.gabor import gabor_share
    >>> noise = np.random.default_rng(0).standard_normal((5, 64))
    >>> gabor_share(noise, (8, 8))
    0.0
    """
    r2, _ = fit_gabor(filters, shape)
    return float(np.mean(r2 >= threshold))
