"""
Fantasies of a deep belief net
==============================

A :class:`deepzoo.DBN` is trained greedily, one RBM at a time, with the
labels joined to its top RBM (Hinton, Osindero and Teh, 2006). Its
"fantasies" are what it generates: Gibbs sampling in the top RBM with a
label clamped, then one deterministic pass down to the pixels
(:meth:`deepzoo.DBN.sample`).

The data are the 5,000-image MNIST training subset when it is on disk
(found through ``DEEPZOO_DATA`` or the cache of
:func:`deepzoo.datasets.fetch_mnist`; nothing is downloaded), else
scikit-learn's 8x8 digits.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from deepzoo import DBN
from deepzoo.datasets import fetch_mnist

# DEEPZOO_DOCS_QUICK=1: a few epochs, enough to check that the script runs.
QUICK = os.environ.get("DEEPZOO_DOCS_QUICK", "") not in ("", "0")

try:
    X, y = fetch_mnist("train-5k", download=False, return_X_y=True)
    data_name, side, sizes = "MNIST (5,000 images)", 28, (500, 500, 1000)
except FileNotFoundError:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    data_name, side, sizes = "scikit-learn digits", 8, (100, 100, 400)

dbn = DBN(
    hidden_layer_sizes=sizes,
    learning_rate=0.1,
    batch_size=100 if side == 28 else 20,
    n_iter=1 if QUICK else 15,
    random_state=0,
).fit(X, y)
print(f"{data_name}: training accuracy of the DBN's own classifier "
      f"{dbn.score(X, y):.3f}")

# %%
# Ten fantasies per clamped digit
# -------------------------------
# Each row is one clamped label, each image the end of its own Gibbs chain.

n_per_class = 10
labels = np.repeat(dbn.classes_, n_per_class)
fantasies = dbn.sample(len(labels), n_steps=20 if QUICK else 500, labels=labels,
                       random_state=0)

fig, axes = plt.subplots(len(dbn.classes_), n_per_class, figsize=(6, 6.6))
for image, ax in zip(fantasies, axes.ravel()):
    ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
for label, ax in zip(dbn.classes_, axes[:, 0]):
    ax.set_ylabel(str(label), rotation=0, labelpad=10)
fig.suptitle(f"DBN fantasies on {data_name}, one row per clamped label")
plt.show()

# %%
# How strongly the clamped label steers a fantasy
# -----------------------------------------------
# The share of fantasies that the DBN itself classifies as their clamped
# label. Clamping steers the chains only weakly: the strokes are
# digit-like, but often not of the clamped class. ``docs/experiments.md``
# reports what was tried (up-down fine-tuning with ``n_updown_iter``, more
# epochs, PCD) and why: contrastive divergence learns the label weights
# discriminatively rather than generatively.

agreement = np.mean(dbn.predict(fantasies) == labels)
print(f"fantasies classified as their clamped label: {agreement:.0%}")
