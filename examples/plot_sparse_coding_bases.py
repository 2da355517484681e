"""
Sparse-coding bases of natural images
=====================================

Olshausen and Field (1996) found that a sparse code of whitened
natural-image patches learns localized, oriented, bandpass bases, like the
receptive fields of simple cells in the visual cortex. Here
:class:`deepzoo.SparseCoding` learns 144 bases of 12x12 patches cut from
the two photographs that ship with scikit-learn
(:func:`deepzoo.datasets.extract_natural_patches`), alternating LASSO
codes (feature-sign search) with online dictionary steps.
"""

import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from deepzoo import SparseCoding
from deepzoo.datasets import extract_natural_patches

# DEEPZOO_DOCS_QUICK=1: a few epochs, enough to check that the script runs.
QUICK = os.environ.get("DEEPZOO_DOCS_QUICK", "") not in ("", "0")
# The number of passes is this example's protocol, not a convergence test.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

side = 12
X = extract_natural_patches(2000 if QUICK else 20000, patch_size=side, whiten=True,
                            random_state=0)
# The L1 weight as a fixed share of the typical patch norm (the
# sparse-coding-natural-images recipe uses the same rule).
alpha = 0.08 * np.linalg.norm(X, axis=1).mean()

coder = SparseCoding(
    n_components=side * side,
    alpha=alpha,
    solver="feature_sign",
    batch_size=256,
    max_iter=1 if QUICK else 5,
    tol=0.0,
    random_state=0,
).fit(X)

codes = coder.transform(X[:1000])
print(f"alpha = {alpha:.3f}; share of zero coefficients: {np.mean(codes == 0):.1%}")

# %%
# The bases
# ---------
# Each basis on its own symmetric grey scale (grey is zero).

fig, axes = plt.subplots(12, 12, figsize=(7, 7.4))
for atom, ax in zip(coder.components_, axes.ravel()):
    limit = np.abs(atom).max()
    ax.imshow(atom.reshape(side, side), cmap="gray", vmin=-limit, vmax=limit,
              interpolation="nearest")
    ax.set_axis_off()
fig.suptitle(f"Sparse-coding bases of whitened {side}x{side} patches: "
             f"{coder.n_components} of {coder.n_components}")
plt.show()

# %%
# The objective during learning
# -----------------------------

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(coder.loss_curve_) + 1), coder.loss_curve_, "o-")
ax.set_xlabel("pass over the patches")
ax.set_ylabel("mean LASSO objective")
ax.set_title("SparseCoding on natural-image patches")
fig.tight_layout()
plt.show()
