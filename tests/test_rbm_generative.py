"""The RBMs as generative models, on small real data and exact answers:
AIS and RAISE bracket the exact test log-likelihood of 25-hidden models,
parallel tempering trains at least as well as PCD and crosses between
modes that trap Gibbs chains, and clamped sampling completes half-seen
digits (RBM and DBN). The kernels themselves are checked against
tests/naive.py in tests/test_rbm.py and tests/test_rbm_epoch.py.

The data: scikit-learn's 8x8 digits, binarised at half the grey range
(1,500 training and 297 test images), where a 25-hidden RBM's exact log Z
is a sum over 2**25 hidden states (about 3 s); MNIST where
``DEEPZOO_DATA`` provides it.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from deepzoo import DBN, BernoulliRBM, io
from deepzoo.utils._threads import blas_single_thread

FILES = Path(__file__).parent / "files"


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X > 7).astype(np.float32)  # grey levels 0..16
    order = np.random.RandomState(0).permutation(len(X))
    X, y = X[order], y[order]
    return X[:1500], y[:1500], X[1500:], y[1500:]


def _classifier(X, y):
    from sklearn.linear_model import LogisticRegression

    # small products: two BLAS threads on a busy machine cost 10x (see
    # deepzoo/recipes/_metrics.py)
    with blas_single_thread():
        return LogisticRegression(C=0.1, max_iter=1000).fit(X, y)


def _score(clf, X, y):
    with blas_single_thread():
        return float(np.mean(clf.predict(X) == y))


# ------------------------------------------------------ AIS, RAISE, exact
@pytest.mark.parametrize("method, params", [
    ("cd", dict(learning_rate=0.05)),
    ("pcd", dict(learning_rate=0.1, n_chains=100, learning_rate_schedule="linear",
                 final_momentum=0.5)),
])
def test_ais_and_raise_bracket_the_exact_log_likelihood(method, params, digits):
    """Salakhutdinov & Murray's AIS (100 runs, 14,500 temperatures) and
    RAISE (10 runs per image on the same path) on 50 test images, against
    the exact average: both within 0.1 nat, and in their order up to three
    standard errors of the runs. AIS estimates log Z from below in
    expectation (so the log-likelihood from above); RAISE bounds the
    annealing model's log-likelihood from below."""
    X, _, X_test, _ = digits
    X_test = X_test[:50]
    rbm = BernoulliRBM(n_components=25, n_iter=30, batch_size=20, method=method,
                       random_state=0, **params).fit(X)
    base_rate = (X.sum(axis=0) + 2.5) / (len(X) + 5)
    log_z = rbm.log_partition()
    free = rbm.free_energy(X_test)
    exact = float(np.mean(-free - log_z))

    ais_log_z, (low, _) = rbm.log_partition("ais", n_runs=100, base_rate=base_rate,
                                            random_state=0)
    ais = float(np.mean(-free - ais_log_z))
    assert abs(ais - exact) < 0.1
    # the AIS estimate of log Z lies below log Z up to 3 standard errors
    assert low <= log_z

    runs = rbm._raise(X_test, 10, None, base_rate, random_state=0)
    top = runs.max(axis=1, keepdims=True)
    w = np.exp(runs - top)
    per_image = (top[:, 0] + np.log(w.mean(axis=1)))
    assert_allclose(per_image, rbm.log_likelihood(X_test, "raise", n_runs=10,
                                                  base_rate=base_rate, random_state=0))
    raise_ = float(per_image.mean())
    # delta method: the standard error of log mean(w) per image, averaged
    se = np.sqrt(np.sum((w.std(axis=1, ddof=1) / w.mean(axis=1)) ** 2 / 10)) / len(X_test)
    assert abs(raise_ - exact) < 0.1
    assert raise_ <= exact + 3 * se
    print(f"\n{method}: exact {exact:.4f}, AIS {ais:.4f} (log Z {ais_log_z - log_z:+.4f}), "
          f"RAISE {raise_:.4f} +- {se:.4f}")


def test_sweeps_restore_the_sandwich_on_a_poorly_mixing_model(digits):
    """A deliberately poorly mixing RBM: a 16-hidden PCD model with its
    parameters tripled (three times colder: largest weight 12.1). With
    Salakhutdinov & Murray's one Gibbs sweep per temperature, RAISE's
    estimate lies above the exact test log-likelihood by more than three
    standard errors (measured: +0.41 nat): it bounds the annealing model,
    which puts more mass on the digits than the RBM does. With 10 sweeps
    (10x the cost), AIS and RAISE are within 0.1 nat of the exact value and
    RAISE below it up to three standard errors (measured: +0.04 nat).

    The model is read from a file, not trained here: how badly a tripled
    model mixes depends on its training run to the last rounding. Trained
    afresh (``BernoulliRBM(n_components=16, n_iter=30, batch_size=20,
    method="pcd", learning_rate=0.1, n_chains=100,
    learning_rate_schedule="linear", random_state=seed).fit(X)`` on the
    digits below, parameters tripled), one sweep's excess over the exact
    value ranged from +0.01 to +0.55 nat over seeds 0-3, and a change of
    summation order in the bias gradients moved seed 0's from +0.41 to
    +0.03. The file holds seed 0's model from before that change."""
    X, _, X_test, _ = digits
    X_test = X_test[:50]
    rbm = io.load(FILES / "poorly_mixing_rbm.h5")
    base_rate = (X.sum(axis=0) + 2.5) / (len(X) + 5)
    free = rbm.free_energy(X_test)
    exact = float(np.mean(-free - rbm.log_partition()))

    def raise_estimate(n_sweeps):
        runs = rbm._raise(X_test, 10, None, base_rate, random_state=0, n_sweeps=n_sweeps)
        top = runs.max(axis=1, keepdims=True)
        w = np.exp(runs - top)
        se = np.sqrt(np.sum((w.std(axis=1, ddof=1) / w.mean(axis=1)) ** 2 / 10)) / len(X_test)
        return float(np.mean(top[:, 0] + np.log(w.mean(axis=1)))), se

    one, se_one = raise_estimate(1)
    assert one > exact + 3 * se_one
    raise_, se = raise_estimate(10)
    ais_log_z, _ = rbm.log_partition("ais", n_runs=100, n_sweeps=10, base_rate=base_rate,
                                     random_state=0)
    ais = float(np.mean(-free - ais_log_z))
    print(f"\nexact {exact:.4f}, RAISE 1 sweep {one:.4f} +- {se_one:.4f}, 10 sweeps "
          f"{raise_:.4f} +- {se:.4f}, AIS 10 sweeps {ais:.4f}")
    assert abs(ais - exact) < 0.1
    assert abs(raise_ - exact) < 0.1
    assert raise_ <= exact + 3 * se


# ------------------------------------------------------ parallel tempering
def test_pt_trains_at_least_as_well_as_pcd(digits):
    """Equal updates (30 epochs of batch 20), 20 chains per temperature,
    Tieleman's linearly decaying rate: over three seeds the exact test
    log-likelihood of parallel tempering (10 temperatures) is at least
    PCD's on average (measured: -18.11 against -18.24, PT ahead for each
    of 6 seeds), and every neighbouring pair of temperatures swaps."""
    X, _, X_test, _ = digits
    params = dict(n_components=25, n_iter=30, batch_size=20, learning_rate=0.2, n_chains=20,
                  final_momentum=0.5, learning_rate_schedule="linear")
    scores = {"pcd": [], "pt": []}
    for seed in range(3):
        for method in scores:
            rbm = BernoulliRBM(method=method, random_state=seed, **params).fit(X)
            scores[method].append(float(np.mean(rbm.log_likelihood(X_test))))
        assert rbm.swap_rate_.shape == (9,) and rbm.swap_rate_.min() > 0.1
    print(f"\nexact test log-likelihood, PCD {scores['pcd']}, PT {scores['pt']}")
    assert np.mean(scores["pt"]) >= np.mean(scores["pcd"])


def _two_modes(share=0.3, d=16, a=3.0):
    """One hidden unit choosing between two product distributions: all
    visible units off (hidden off) or on (hidden on, probability
    ``share``). A Gibbs chain in one mode leaves it with probability about
    ``exp(-d a)`` per step."""
    rbm = BernoulliRBM(n_components=1, n_iter=0).fit(np.zeros((2, d)))
    rbm.components_ = np.full((1, d), 2 * a)
    rbm.intercept_visible_ = np.full(d, -a)
    rbm.intercept_hidden_ = np.array([-d * a + np.log(share / (1 - share))])
    return rbm


def test_pt_chains_cross_between_modes_that_trap_gibbs():
    """Fresh chains start in the 'off' mode. After the same number of Gibbs
    steps (200 sweeps of 10 temperatures, 2,000 steps), no Gibbs chain has
    found the 'on' mode, while parallel tempering samples it in its exact
    share (0.3; 400 chains, sampling error about 0.02)."""
    rbm = _two_modes()
    d = rbm.n_features_in_
    # the exact share of the 'on' mode (hidden unit on)
    on = rbm.intercept_hidden_[0] + d * np.logaddexp(0, 3.0) - rbm.log_partition()
    assert_allclose(np.exp(on), 0.3)
    gibbs = rbm.sample(400, n_steps=2000, random_state=0)
    tempered = rbm.sample(400, n_steps=200, method="pt", n_temperatures=10, random_state=0)
    assert np.mean(gibbs.sum(axis=1) > d / 2) == 0
    assert abs(np.mean(tempered.sum(axis=1) > d / 2) - 0.3) < 0.08


# ------------------------------------------------------ clamped sampling
def _lower_half_baselines(clf, X, y, X_train):
    """Accuracy with the lower half drawn from the training pixels'
    marginals: what the upper half alone tells the classifier."""
    rng = np.random.default_rng(0)
    lower = slice(X.shape[1] // 2, None)
    filled = X.copy()
    filled[:, lower] = rng.random(filled[:, lower].shape) < X_train[:, lower].mean(axis=0)
    return _score(clf, filled, y)


@pytest.mark.parametrize("model", ["rbm", "dbn"])
def test_completing_the_lower_half_of_digits(model, digits):
    """The upper half of each test digit clamped, the lower half sampled:
    a classifier trained on whole digits (93% on whole test digits) labels
    the completions far above chance (10%) and above the lower half filled
    from the pixel marginals (46%); measured 62% (RBM) and 55% (DBN). The
    clamped pixels never change."""
    X, y, X_test, y_test = digits
    mask = np.arange(64) < 32
    if model == "rbm":
        est = BernoulliRBM(n_components=100, n_iter=30, batch_size=20, learning_rate=0.1,
                           method="pcd", n_chains=20, final_momentum=0.5,
                           learning_rate_schedule="linear", random_state=0).fit(X)
    else:
        est = DBN(hidden_layer_sizes=(100, 100), n_iter=30, learning_rate=0.1, batch_size=20,
                  random_state=0).fit(X)
    samples = est.complete(X_test, mask, n_steps=20, random_state=0)
    means = est.complete(X_test, mask, n_steps=20, mean=True, random_state=0)
    assert_array_equal(samples[:, mask], X_test[:, mask])
    assert_array_equal(means[:, mask], X_test[:, mask])
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert np.all((means >= 0) & (means <= 1))
    clf = _classifier(X, y)
    baseline = _lower_half_baselines(clf, X_test, y_test, X)
    accuracy = _score(clf, samples, y_test)
    print(f"\n{model}: completions {accuracy:.3f}, marginals {baseline:.3f}, "
          f"whole digits {_score(clf, X_test, y_test):.3f}")
    assert accuracy > 0.5 and accuracy > baseline + 0.05


@pytest.mark.slow
def test_completing_the_lower_half_of_mnist_digits(data_dir, monkeypatch):
    """MNIST (binarised at 0.5): a 784-200 RBM (PCD) and a 784-200-200 DBN
    trained on the 5,000-image subset complete the lower half of 1,000
    test digits from the upper half; a logistic regression trained on the
    same 5,000 whole digits (87% on whole test digits, 42% with the lower
    half blank) labels the completions correctly 71% (RBM) and 65% (DBN,
    100 up-down steps) of the time (measured)."""
    from deepzoo.datasets import fetch_mnist

    monkeypatch.setenv("DEEPZOO_DATA", str(data_dir))
    train = fetch_mnist(subset="train-5k", download=False)
    test = fetch_mnist(subset="test", download=False)
    X, y = (train.data > 0.5).astype(np.float32), train.target
    X_test, y_test = (test.data[:1000] > 0.5).astype(np.float32), test.target[:1000]
    mask = np.repeat(np.arange(28) < 14, 28)
    clf = _classifier(X, y)
    blank = X_test.copy()
    blank[:, ~mask] = 0
    assert _score(clf, blank, y_test) < 0.5
    rbm = BernoulliRBM(n_components=200, n_iter=10, batch_size=20, learning_rate=0.05,
                       method="pcd", n_chains=20, final_momentum=0.5,
                       learning_rate_schedule="linear", random_state=0).fit(X)
    dbn = DBN(hidden_layer_sizes=(200, 200), n_iter=10, learning_rate=0.05, batch_size=20,
              random_state=0).fit(X)
    for est, steps, least in ((rbm, 200, 0.65), (dbn, 100, 0.6)):
        samples = est.complete(X_test, mask, n_steps=steps, random_state=0)
        assert_array_equal(samples[:, mask], X_test[:, mask])
        accuracy = _score(clf, samples, y_test)
        print(f"\n{type(est).__name__}: completions of MNIST test digits {accuracy:.3f}")
        assert accuracy > least


def test_one_clamped_gibbs_step_keeps_the_clamped_units(digits):
    X, _, X_test, _ = digits
    rbm = BernoulliRBM(n_components=20, n_iter=2, random_state=0).fit(X)
    # a mask per row
    mask = np.random.default_rng(1).random(X_test.shape) < 0.3
    step = rbm.gibbs(X_test, clamp=mask)
    assert_array_equal(step[mask], X_test[mask])
    assert not np.array_equal(step[~mask], X_test[~mask])


# ------------------------------------------------------ JIT off
_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.test_rbm_generative import _generative_outputs
np.savez({path!r}, **_generative_outputs())
"""


def _generative_outputs():
    """Parallel tempering (training and sampling), RAISE and clamped
    sampling on a tiny model, from fixed seeds."""
    rng = np.random.default_rng(0)
    X = (rng.random((30, 6)) < 0.4).astype(np.float64)
    rbm = BernoulliRBM(n_components=3, n_iter=2, batch_size=10, method="pt", n_temperatures=3,
                       random_state=0).fit(X)
    return {
        "W": rbm.components_, "swap_rate": rbm.swap_rate_,
        "pt_sample": rbm.sample(5, n_steps=4, method="pt", n_temperatures=3, random_state=0),
        "raise": rbm.log_likelihood(X[:3], "raise", n_runs=2, betas=np.linspace(0, 1, 8),
                                    random_state=0),
        "ais": np.array(rbm.log_partition("ais", n_runs=3, betas=np.linspace(0, 1, 8),
                                          random_state=0)[0]),
        "complete": rbm.complete(X[:4], np.arange(6) < 3, n_steps=3, random_state=0),
    }


def test_pt_raise_and_clamping_give_the_same_results_with_the_jit_off(tmp_path):
    """Design rule 5 (tests/test_jit_off.py) for the paths that the common
    estimator runs there do not take."""
    path = str(tmp_path / "nojit.npz")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run([sys.executable, "-c", _SCRIPT.format(root=root, path=path)], env=env,
                   check=True, timeout=600)
    interpreted = np.load(path)
    for name, got in _generative_outputs().items():
        assert_allclose(got, interpreted[name], rtol=1e-10, atol=1e-12, err_msg=name)
