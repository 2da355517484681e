"""Exact test log-likelihood of 25-hidden-unit RBMs on MNIST; AIS against it.

``DEEPZOO_DATA=../shared/data python pretrain/rbm_exact_loglik.py [--epochs 100]``

Protocol (Tieleman 2008; Salakhutdinov & Murray 2008, section 5.1):

- data: the 5,000 MNIST training images of ``fetch_mnist("train-5k")``
  (grey levels in [0, 1] used as probabilities), evaluated on the 10,000
  test images binarised at 0.5 (the log-likelihood of a binary model is
  defined on binary vectors);
- models: 784 visible, 25 hidden units, so that ``log Z`` is exact (a sum
  over 2**25 hidden states, each summing out the 784 visible units);
- training: CD-1, PCD (100 persistent chains) and fast PCD, the same
  number of updates (batch 100, learning rate 0.05 decaying linearly to
  zero, momentum 0.5, weight decay 0.0002);
- at checkpoints: the exact average test log-likelihood;
- at the end: AIS (100 runs, the 14,500 temperatures of Salakhutdinov &
  Murray, base-rate model fitted to the training pixels with pseudo-counts)
  against the exact ``log Z``.

Recorded run (2 cores, 2026-11-23; each exact log Z took 12.5 s):

======  =======  ===============  ================  =================
method  updates  test LL, 1 ep.   test LL, 30 ep.   test LL, 100 ep.
======  =======  ===============  ================  =================
CD-1    5000     -199.23          -165.84           -167.93
PCD     5000     -200.89          -159.67           -138.23
FPCD    5000     -200.21          -144.92           -137.26
======  =======  ===============  ================  =================

AIS minus exact log Z at the end: CD-1 +0.026 (exact 210.079), PCD
+0.014 (193.111), FPCD +0.028 (187.605); every exact value inside AIS's
+-3 standard-error interval.
"""

import argparse
import time

import numpy as np

from deepzoo import BernoulliRBM
from deepzoo.datasets import fetch_mnist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--checkpoints", type=int, nargs="*", default=[1, 10, 30, 100])
    parser.add_argument("--methods", nargs="*", default=["cd", "pcd", "fpcd"])
    parser.add_argument("--ais-runs", type=int, default=100)
    args = parser.parse_args(argv)

    X = fetch_mnist(subset="train-5k", download=False).data
    X_test = (fetch_mnist(subset="test", download=False).data > 0.5).astype(np.float32)
    # base-rate model: pixel marginals of the training set with pseudo-counts
    base_rate = (X.sum(axis=0) + 5) / (X.shape[0] + 10)
    print(f"train {X.shape}, test {X_test.shape} (binarised), 784-25 RBMs, "
          f"{args.epochs} epochs of 50 updates")

    final, exact_log_z = {}, {}
    checkpoints = sorted(set(c for c in args.checkpoints if c <= args.epochs) | {args.epochs})
    for method in args.methods:
        # One run per method; the learning rate decays linearly to zero over
        # the run (Tieleman 2008), set before each epoch of partial_fit.
        rbm = BernoulliRBM(n_components=25, batch_size=100, n_iter=0, method=method,
                           n_chains=100, initial_momentum=0.5, final_momentum=0.5,
                           weight_decay=0.0002, random_state=0).fit(X)
        t0 = time.perf_counter()
        for epoch in range(args.epochs):
            rbm.set_params(learning_rate=0.05 * (1 - epoch / args.epochs))
            rbm.partial_fit(X)
            if epoch + 1 not in checkpoints:
                continue
            t1 = time.perf_counter()
            log_z = rbm.log_partition("exact")
            t2 = time.perf_counter()
            # log p(x) = -F(x) - log Z (log_likelihood would recompute log Z)
            ll = -rbm.free_energy(X_test).mean() - log_z
            ll_train = -rbm.free_energy((X > 0.5).astype(np.float32)).mean() - log_z
            print(f"{method:5s} epochs={epoch + 1:4d} updates={(epoch + 1) * 50:6d}  "
                  f"log Z = {log_z:10.4f}  test LL = {ll:9.3f}  train LL = {ll_train:9.3f}  "
                  f"(train {t1 - t0:.1f}s, exact log Z {t2 - t1:.1f}s)", flush=True)
            t0 = time.perf_counter()
        final[method], exact_log_z[method] = rbm, log_z

    print("\nAIS (100 runs, 14,500 temperatures) vs exact log Z")
    for method, model in final.items():
        exact = exact_log_z[method]
        t0 = time.perf_counter()
        est, (low, high) = model.log_partition("ais", n_runs=args.ais_runs, base_rate=base_rate,
                                               random_state=0)
        print(f"{method:5s} exact {exact:.4f}  AIS {est:.4f}  [-3 se {low:.4f}, +3 se {high:.4f}]"
              f"  |AIS - exact| = {abs(est - exact):.4f}  ({time.perf_counter() - t0:.1f}s)",
              flush=True)


if __name__ == "__main__":
    main()
