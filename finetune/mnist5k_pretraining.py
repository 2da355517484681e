"""Does pretraining help? 5,000 MNIST training images -> the MNIST test set.

Four comparisons at one budget (issue 6, item 5):

1. 784-500-500-2000-10 fine-tuned by backprop from a DBN (greedy RBMs) vs
   the same network from a Glorot initialisation, same optimizer and epochs;
2. the same network from a stack of denoising autoencoders (25% masking);
3. a labelled DBN (softmax label units joined to the top RBM, free-energy
   classification) after greedy training only vs after up-down fine-tuning.

Run: ``python -m finetune.mnist5k_pretraining [out_dir]``.
"""

import sys

from finetune._common import load, quiet, timed, write_metrics

SETTINGS = {
    "seed": 0,
    "hidden_layer_sizes": (500, 500, 2000),
    # Hinton's released code: CD-1, lr 0.1, momentum 0.5 -> 0.9, weight cost
    # 0.0002, batch 100; more epochs than its 50 since 5k images give 50
    # updates per epoch instead of 600.
    "rbm": {"learning_rate": 0.1, "batch_size": 100, "n_iter": 50, "k": 1},
    "sda": {"corruption_level": 0.25, "learning_rate": 0.001, "batch_size": 100,
            "max_iter": 30},
    # One fine-tuning protocol for every starting point (lr 0.1 diverges
    # from the random start of this 3.3M-weight sigmoid net).
    "finetune": {"solver": "momentum", "learning_rate": 0.02, "momentum": 0.9,
                 "batch_size": 100, "max_iter": 50},
    "top_only_iter": 5,
    "updown": {"n_updown_iter": 100, "updown_learning_rate": 0.01, "updown_k": 3},
}


def run(settings, out_dir):
    """Train every model of the comparison; return the test accuracies."""
    from deepzoo import DBN, FineTunedClassifier, StackedAutoencoder

    s = settings
    X, y = load("mnist", "train-5k")
    X_test, y_test = load("mnist", "test")
    metrics = {"n_train": len(X), "n_test": len(X_test)}
    sizes = s["hidden_layer_sizes"]

    def finetune(pretrained, name):
        top = s["top_only_iter"] if pretrained is not None else 0
        clf = FineTunedClassifier(pretrained, hidden_layer_sizes=sizes, top_only_iter=top,
                                  random_state=s["seed"], **s["finetune"])
        with timed(metrics, f"{name}_seconds"), quiet():
            clf.fit(X, y)
        metrics[f"{name}_test_accuracy"] = round(float(clf.score(X_test, y_test)), 4)
        print(f"  {name}: {metrics[f'{name}_test_accuracy']}", flush=True)

    print("DBN pretraining", flush=True)
    dbn = DBN(sizes, random_state=s["seed"], **s["rbm"])
    with timed(metrics, "dbn_pretraining_seconds"):
        dbn.fit(X)
    finetune(dbn, "dbn_pretrained")
    finetune(None, "no_pretraining")

    print("stacked denoising autoencoder pretraining", flush=True)
    sda = StackedAutoencoder(sizes, random_state=s["seed"], **s["sda"])
    with timed(metrics, "sda_pretraining_seconds"), quiet():
        sda.fit(X)
    finetune(sda, "sda_pretrained")

    print("labelled DBN: greedy only, then with up-down", flush=True)
    greedy = DBN(sizes, random_state=s["seed"], **s["rbm"])
    with timed(metrics, "labelled_dbn_greedy_seconds"):
        greedy.fit(X, y)
    metrics["greedy_dbn_test_accuracy"] = round(greedy.score(X_test, y_test), 4)
    print(f"  greedy DBN: {metrics['greedy_dbn_test_accuracy']}", flush=True)
    updown = DBN(sizes, random_state=s["seed"], **s["rbm"], **s["updown"])
    with timed(metrics, "labelled_dbn_updown_seconds"):
        updown.fit(X, y)
    metrics["updown_dbn_test_accuracy"] = round(updown.score(X_test, y_test), 4)
    print(f"  up-down DBN: {metrics['updown_dbn_test_accuracy']}", flush=True)
    return write_metrics(metrics, out_dir, "mnist5k_pretraining")


if __name__ == "__main__":
    run(SETTINGS, sys.argv[1] if len(sys.argv) > 1 else "runs/mnist5k_pretraining")
