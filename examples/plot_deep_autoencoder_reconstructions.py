"""
Deep-autoencoder reconstructions
================================

Hinton and Salakhutdinov (2006) pretrain a stack of RBMs, unroll it into an
encoder and a mirrored decoder, and fine-tune the whole network by
backpropagation. Here a :class:`deepzoo.Stack` of three
:class:`deepzoo.BernoulliRBM` layers (64-100-50-10) is the pretraining, a
:class:`deepzoo.DeepAutoencoder` unrolls and fine-tunes it on
scikit-learn's digits, and the reconstructions of held-out digits from the
10-unit code are compared with those of PCA with 10 components.
"""

import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from deepzoo import BernoulliRBM, DeepAutoencoder, Stack

# DEEPZOO_DOCS_QUICK=1: a few epochs, enough to check that the script runs.
QUICK = os.environ.get("DEEPZOO_DOCS_QUICK", "") not in ("", "0")
# The number of epochs is this example's protocol, not a convergence test.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

rbm_epochs = 1 if QUICK else 30
stack = Stack([
    (f"rbm{i}", BernoulliRBM(n, learning_rate=0.05, batch_size=20, n_iter=rbm_epochs,
                             random_state=i))
    for i, n in enumerate((100, 50, 10), start=1)
])
autoencoder = DeepAutoencoder(
    stack, solver="adam", learning_rate=0.001, batch_size=20,
    max_iter=2 if QUICK else 200, random_state=0,
).fit(X_train)
pca = PCA(n_components=10).fit(X_train)

reconstructions = {
    "original": X_test,
    "deep autoencoder": autoencoder.reconstruct(X_test),
    "PCA": pca.inverse_transform(pca.transform(X_test)),
}
for name in ("deep autoencoder", "PCA"):
    error = np.sum((X_test - reconstructions[name]) ** 2, axis=1).mean()
    print(f"{name}: squared error per held-out digit {error:.3f}")

# %%
# Held-out digits and their reconstructions from 10 numbers
# ---------------------------------------------------------

n_shown = 12
fig, axes = plt.subplots(3, n_shown, figsize=(8, 2.4))
for row, (name, images) in zip(axes, reconstructions.items()):
    for image, ax in zip(images, row):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle(f"Digits reconstructed from a 10-number code: {n_shown} of "
             f"{len(X_test)} held-out digits")
fig.tight_layout()
plt.show()

# %%
# Fine-tuning loss
# ----------------

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(autoencoder.loss_curve_) + 1), autoencoder.loss_curve_)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_title("DeepAutoencoder fine-tuning on digits")
fig.tight_layout()
plt.show()
