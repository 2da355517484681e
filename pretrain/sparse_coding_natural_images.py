"""Olshausen & Field (1996): sparse coding of whitened natural images.

An overcomplete dictionary is learned on whitened 16x16 patches of natural
images (the two photographs shipped with scikit-learn, whitened with
Olshausen and Field's filter ``R(f) = f exp(-(f/f0)^4)``) with LASSO codes
(feature-sign search) and Mairal's online dictionary updates. The paper's
outcome: localized, oriented, bandpass bases; coefficient kurtosis about 20
after learning against about 7 before; reconstruction error about 10% of
the image variance.

``run(settings, out_dir)`` returns the metrics and writes the bases as
``sparse_coding_bases.png``; ``python -m pretrain.sparse_coding_natural_images
[out_dir]`` runs it with the default settings.
"""

import json
import os
import sys
import time
import warnings

import numpy as np
from scipy.stats import kurtosis
from sklearn.exceptions import ConvergenceWarning

from deepzoo import SparseCoding, sparse_encode
from deepzoo.datasets import extract_natural_patches
from deepzoo.utils.images import save_png, tile_images

DEFAULTS = {
    "n_patches": 50000,     # training patches (the paper: ~400,000 over its run)
    "n_test": 5000,         # held-out patches for the metrics
    "patch_size": 16,
    "n_components": 384,    # 1.5x overcomplete
    "alpha_factor": 0.08,   # alpha = alpha_factor * mean patch norm (~10% error)
    "batch_size": 256,
    "n_passes": 8,          # 400,000 patch presentations, as in the paper
    "random_state": 0,
}

PAPER = {"kurtosis_before": 7.0, "kurtosis_after": 20.0, "reconstruction_mse_rel": 0.10}


def _kurtosis(codes):
    """Pearson kurtosis E[a^4] / E[a^2]^2 of all coefficients (3: Gaussian)."""
    return float(kurtosis(codes.ravel(), fisher=False))


def basis_statistics(components, patch_size):
    """Medians over atoms of three shape measures of the bases.

    - ``spread``: energy-weighted spatial standard deviation, in pixels (a
      basis spread uniformly over the patch has ``patch_size / sqrt(12)``
      per axis, so about ``0.41 * patch_size`` in 2-D);
    - ``peak_frequency``: radial frequency (cycles/pixel) of the spectral
      peak: bandpass bases peak away from 0 (DC) and below 0.5 (Nyquist);
    - ``orientation_concentration``: share of the spectral energy within
      +-22.5 degrees of the peak orientation (0.25 for an isotropic basis).
    """
    n = patch_size
    yy, xx = np.mgrid[0:n, 0:n]
    f = np.fft.fftfreq(n)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    radius = np.hypot(fx, fy)
    angle = np.arctan2(fy, fx) % np.pi
    spread, peak, concentration = [], [], []
    for atom in components:
        img = atom.reshape(n, n)
        w = img**2 / np.sum(img**2)
        cy, cx = np.sum(w * yy), np.sum(w * xx)
        spread.append(np.sqrt(np.sum(w * ((yy - cy) ** 2 + (xx - cx) ** 2))))
        power = np.abs(np.fft.fft2(img)) ** 2
        power[0, 0] = 0.0
        k = np.unravel_index(np.argmax(power), power.shape)
        peak.append(radius[k])
        diff = np.abs(angle - angle[k])
        diff = np.minimum(diff, np.pi - diff)
        concentration.append(power[diff <= np.pi / 8].sum() / power.sum())
    return {"spread": float(np.median(spread)),
            "peak_frequency": float(np.median(peak)),
            "orientation_concentration": float(np.median(concentration))}


def run(settings, out_dir):
    """Learn the dictionary, save the bases PNG, return the metrics.

    Parameters
    ----------
    settings : dict
        Overrides of :data:`DEFAULTS`.
    out_dir : str or os.PathLike
        Folder for ``sparse_coding_bases.png``.

    Returns
    -------
    metrics : dict
        ``kurtosis_before`` / ``kurtosis_after`` (codes of held-out patches
        with random Gaussian bases and with the learned ones, same alpha), ``reconstruction_mse_rel`` (held-out squared error over the
        patch variance), ``nonzeros_per_code``, ``objective``, the basis
        shape statistics, ``fit_seconds`` and the paper's figures.
    """
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    s = {**DEFAULTS, **settings}
    p = s["patch_size"]
    X = extract_natural_patches(s["n_patches"], p, random_state=s["random_state"])
    test = extract_natural_patches(s["n_test"], p, random_state=s["random_state"] + 1)
    alpha = s["alpha_factor"] * float(np.mean(np.linalg.norm(X, axis=1)))
    rng = np.random.default_rng(s["random_state"])
    # "Before learning" is the paper's random initial condition: Gaussian
    # bases. Learning itself starts from training patches (Mairal et al.):
    # a random start leaves its white noise in the directions of low image
    # variance, where the data never pulls the bases.
    random_bases = rng.standard_normal((s["n_components"], p * p))
    random_bases /= np.linalg.norm(random_bases, axis=1, keepdims=True)
    sc = SparseCoding(s["n_components"], alpha=alpha, batch_size=s["batch_size"],
                      max_iter=s["n_passes"], tol=0, random_state=s["random_state"])
    before = sparse_encode(test, random_bases, alpha)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # A fixed number of passes is the protocol, not a failure to converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        sc.fit(X)
    fit_seconds = time.perf_counter() - t0
    after = sc.transform(test)
    residual = test - sc.inverse_transform(after)
    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(os.fspath(out_dir), "sparse_coding_bases.png")
    grid = tile_images(sc.components_, (p, p), padding=1)
    # Each pixel drawn as a 3x3 block: 16x16 bases are too small to judge
    # at one screen pixel per image pixel.
    save_png(np.kron(grid, np.ones((3, 3))), png)
    metrics = {
        "kurtosis_before": _kurtosis(before),
        "kurtosis_after": _kurtosis(after),
        "reconstruction_mse_rel": float(np.mean(residual**2) / np.var(test)),
        "nonzeros_per_code": float(np.count_nonzero(after, axis=1).mean()),
        "nonzeros_per_code_before": float(np.count_nonzero(before, axis=1).mean()),
        "objective": float(sc.loss_curve_[-1]),
        "alpha": alpha,
        "n_resampled": int(sc.n_resampled_),
        "fit_seconds": fit_seconds,
        "bases_png": png,
        **{f"bases_{k}": v for k, v in basis_statistics(sc.components_, p).items()},
        **{f"random_{k}": v for k, v in basis_statistics(random_bases, p).items()},
        **{f"paper_{k}": v for k, v in PAPER.items()},
    }
    return metrics


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "sparse_coding_natural_images"
    print(json.dumps(run({}, out), indent=2))
