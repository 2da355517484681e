"""
RBM filters on handwritten digits
=================================

A :class:`deepzoo.BernoulliRBM` with 100 hidden units learns on
scikit-learn's 8x8 digits, scaled to [0, 1]. Each hidden unit's weights
(a row of ``components_``) are drawn as an 8x8 image: the units become
stroke and blob detectors, the features a classifier can use (see
:ref:`sphx_glr_auto_examples_plot_pipeline_grid_search.py`).
"""

import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from deepzoo import BernoulliRBM

# DEEPZOO_DOCS_QUICK=1: a few epochs, enough to check that the script runs.
QUICK = os.environ.get("DEEPZOO_DOCS_QUICK", "") not in ("", "0")

X = load_digits().data / 16.0

rbm = BernoulliRBM(
    n_components=100,
    learning_rate=0.05,
    batch_size=10,
    n_iter=2 if QUICK else 40,
    random_state=0,
).fit(X)

# %%
# The filters
# -----------
# Grey is a zero weight, white excites the unit, black inhibits it; each
# filter has its own colour scale.

fig, axes = plt.subplots(10, 10, figsize=(7, 7.4))
for unit, ax in zip(rbm.components_, axes.ravel()):
    ax.imshow(unit.reshape(8, 8), cmap="gray", interpolation="nearest")
    ax.set_axis_off()
fig.suptitle(f"BernoulliRBM filters on digits: 100 of {rbm.n_components} hidden units")
plt.show()

# %%
# The reconstruction error of every epoch
# ---------------------------------------

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(rbm.reconstruction_error_) + 1), rbm.reconstruction_error_, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared reconstruction error")
ax.set_title("BernoulliRBM training on digits")
fig.tight_layout()
plt.show()
