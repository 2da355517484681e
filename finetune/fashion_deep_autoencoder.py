"""Deep autoencoder 784-1000-500-250-30 on Fashion-MNIST vs PCA with 30 components.

Issue 6, item 4 (Hinton & Salakhutdinov 2006, Science, Fig. 2): RBM
pretraining with a linear 30-unit code layer, unrolled into encoder and
mirrored decoder, fine-tuned on the cross-entropy of the logistic outputs.
The test metric is the paper's: sum over pixels of the squared error,
averaged over test images. PCA-30 is fitted on the same training images in
the same run. Goal: autoencoder error <= 0.5 x PCA error.

Run: ``python -m finetune.fashion_deep_autoencoder [out_dir]``.
"""

import sys

import numpy as np

from finetune._common import load, quiet, timed, write_metrics

SETTINGS = {
    "seed": 0,
    "hidden_layer_sizes": (1000, 500, 250, 30),
    # Paper: batches of 100, lr 0.1 (0.001 for the linear code layer),
    # momentum 0.5 -> 0.9, weight cost 0.0002; 50 epochs per layer there,
    # fewer here for a shared 2-core machine.
    "rbm": {"learning_rate": 0.1, "batch_size": 100, "n_iter": 10},
    "code_rbm": {"learning_rate": 0.001, "hidden_unit": "gaussian"},
    # The paper fine-tunes with conjugate gradient on 1000-case batches
    # (solver="cg", batch_size=1000); Adam reaches a lower error per second.
    "finetune": {"solver": "adam", "learning_rate": 0.001, "batch_size": 100,
                 "max_iter": 25},
    "pca_components": 30,
}


def squared_error_per_image(X, X_hat):
    """Sum over pixels of the squared error, averaged over images."""
    D = np.asarray(X, dtype=np.float64) - X_hat
    return float(np.mean(np.einsum("ij,ij->i", D, D)))


def run(settings, out_dir):
    """Fit PCA and the pretrained deep autoencoder; return test errors."""
    from sklearn.decomposition import PCA

    from deepzoo import BernoulliRBM, DeepAutoencoder, Stack

    s = settings
    X, _ = load("fashion-mnist", "train")
    X_test, _ = load("fashion-mnist", "test")
    metrics = {"n_train": len(X), "n_test": len(X_test)}

    pca = PCA(n_components=s["pca_components"], random_state=s["seed"]).fit(X)
    metrics["pca_test_error"] = round(
        squared_error_per_image(X_test, pca.inverse_transform(pca.transform(X_test))), 3)
    print(f"PCA-{s['pca_components']} test error {metrics['pca_test_error']}", flush=True)

    sizes = s["hidden_layer_sizes"]
    steps = []
    for i, size in enumerate(sizes):
        params = {**s["rbm"], **(s["code_rbm"] if i == len(sizes) - 1 else {})}
        steps.append((f"rbm{i + 1}", BernoulliRBM(size, random_state=s["seed"] + i,
                                                  verbose=True, **params)))
    stack = Stack(steps)
    print("RBM pretraining", flush=True)
    with timed(metrics, "pretraining_seconds"):
        stack.fit(X)
    metrics["unrolled_test_error"] = round(squared_error_per_image(
        X_test, stack.inverse_transform(stack.transform(X_test))), 3)
    print(f"unrolled, before fine-tuning: {metrics['unrolled_test_error']}", flush=True)

    ae = DeepAutoencoder(stack, random_state=s["seed"], verbose=True, **s["finetune"])
    print("fine-tuning", flush=True)
    with timed(metrics, "finetuning_seconds"), quiet():
        ae.fit(X)
    metrics["autoencoder_test_error"] = round(
        squared_error_per_image(X_test, ae.reconstruct(X_test)), 3)
    metrics["autoencoder_over_pca"] = round(
        metrics["autoencoder_test_error"] / metrics["pca_test_error"], 3)
    return write_metrics(metrics, out_dir, "fashion_deep_autoencoder")


if __name__ == "__main__":
    run(SETTINGS, sys.argv[1] if len(sys.argv) > 1 else "runs/fashion_deep_autoencoder")
