"""Denoising-autoencoder filters on MNIST (Vincent et al. 2008, 2010).

Trains a ``DenoisingAutoencoder`` with 500 sigmoid hidden units and 25%
masking noise (cross-entropy, tied weights) on the 5,000 MNIST training
images, writes its filters (rows of ``components_``) as a PNG, and compares
logistic regression on the 500 learned features with logistic regression on
the raw pixels, both scored on the 10,000 MNIST test images.

Run from the project root (``DEEPZOO_DATA`` pointing at the data folder)::

    python pretrain/dae_mnist_filters.py [--epochs 100] [--out dae_mnist_filters.png]

What to look for in the PNG: localised stroke and blob detectors (pieces of
pen strokes, some centre-surround), not the noise-like, global filters of
an ordinary autoencoder trained without corruption.
"""

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepzoo import DenoisingAutoencoder
from deepzoo.datasets import fetch_mnist
from deepzoo.utils.images import save_png, tile_images


def logistic_accuracy(X_train, y_train, X_test, y_test, C):
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    return clf.fit(X_train, y_train).score(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--corruption-level", type=float, default=0.25)
    parser.add_argument("--out", default="dae_mnist_filters.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--C", type=float, default=0.05,
                        help="inverse L2 strength of both logistic regressions")
    args = parser.parse_args(argv)

    train = fetch_mnist(subset="train-5k")
    test = fetch_mnist(subset="test")
    X, y = train.data, train.target
    X_test, y_test = test.data, test.target
    print(f"train {X.shape} {X.dtype}, test {X_test.shape}")

    dae = DenoisingAutoencoder(
        n_components=500, hidden_activation="sigmoid", loss="cross_entropy",
        corruption="masking", corruption_level=args.corruption_level,
        batch_size=20, learning_rate=1e-3, max_iter=args.epochs, tol=0.0,
        n_iter_no_change=args.epochs, random_state=args.seed, verbose=10)
    start = time.perf_counter()
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # the epoch budget is the protocol here, not a convergence criterion
        warnings.simplefilter("ignore", ConvergenceWarning)
        dae.fit(X)
    print(f"DAE: {dae.n_iter_} epochs in {time.perf_counter() - start:.1f}s, "
          f"final training loss {dae.loss_curve_[-1]:.2f}, "
          f"test reconstruction loss {-dae.score(X_test):.2f}")

    grid = tile_images(dae.components_[:100], (28, 28), n_cols=10)
    save_png(grid, args.out)
    print(f"first 100 of 500 filters written to {args.out}")

    raw = logistic_accuracy(X, y, X_test, y_test, args.C)
    learned = logistic_accuracy(dae.transform(X), y, dae.transform(X_test), y_test, args.C)
    print(f"logistic regression test accuracy: raw pixels {raw:.4f}, "
          f"DAE features {learned:.4f}")
    return raw, learned


if __name__ == "__main__":
    main()
