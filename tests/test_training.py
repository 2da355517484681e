"""The shared training loop (deepzoo._nn.training): one rule for every family."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from deepzoo import Autoencoder, DeepAutoencoder, FineTunedClassifier, FineTunedRegressor
from deepzoo._nn.training import minibatches, n_minibatches, train_epochs


class _Scripted:
    """An estimator whose epochs return scripted losses and validation scores.

    Its one parameter holds the number of the last epoch run, so the kept
    weights tell which epoch they came from.
    """

    def __init__(self, losses, scores=None, tol=0.0, n_iter_no_change=2, max_iter=100):
        self.losses, self.scores = list(losses), scores
        self.tol, self.n_iter_no_change, self.max_iter, self.verbose = (
            tol, n_iter_no_change, max_iter, False)
        self.w = np.zeros(1)
        self.loss_curve_, self.validation_scores_ = [], []
        self.n_iter_, self.best_loss_, self.best_validation_score_ = 0, np.inf, None
        self._optimizers = {}

    def _params(self, key=None):
        return [self.w]

    def epoch(self):
        self.w[0] = self.n_iter_ + 1
        return self.losses[self.n_iter_]

    def score(self):
        return self.scores[self.n_iter_ - 1]

    def run(self, n_epochs, incremental=False, unstoppable_epochs=0):
        return train_epochs(self, self.epoch, n_epochs=n_epochs, incremental=incremental,
                            bound=1e6, unstoppable_epochs=unstoppable_epochs,
                            validation_score=None if self.scores is None else self.score)


def test_stops_after_n_iter_no_change_epochs_without_a_loss_gain_above_tol():
    est = _Scripted([5.0, 4.0, 3.95, 3.99, 1.0], tol=0.1)
    assert est.run(5)
    # epoch 3 gains only 0.05 < tol, epoch 4 nothing: two epochs without improvement
    assert est.n_iter_ == 4 and est.best_loss_ == 3.95


def test_keeps_the_best_validation_weights_even_for_a_gain_below_tol():
    est = _Scripted([1.0] * 6, scores=[0.5, 0.8, 0.81, 0.7, 0.6, 0.9], tol=0.05)
    assert est.run(6)
    assert est.n_iter_ == 4  # 0.81 does not beat 0.8 by tol, 0.7 does not either
    assert est.best_validation_score_ == 0.81
    assert est.w[0] == 3  # the weights of epoch 3, the best score


def test_unstoppable_epochs_never_end_training():
    est = _Scripted([1.0] * 5)
    assert est.run(5, unstoppable_epochs=4)
    assert est.n_iter_ == 5


def test_warns_when_max_iter_runs_out_and_not_when_incremental():
    est = _Scripted([3.0, 2.0, 1.0], max_iter=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3 reached before the training loss"):
        assert not est.run(3)
    est = _Scripted([3.0, 3.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            assert not est.run(1, incremental=True)
    assert est.loss_curve_ == [3.0, 3.0, 3.0]


def test_minibatches_cover_every_row_once():
    rng = np.random.RandomState(0)
    rows = list(minibatches(10, 4, rng, shuffle=True))
    assert [len(r) for r in rows] == [4, 4, 2] and n_minibatches(10, 4) == 3
    assert sorted(np.concatenate(rows)) == list(range(10))
    assert list(minibatches(5, 8, rng, shuffle=False)) == [slice(0, 5)]


def _digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16)[:300], y[:300]


@pytest.mark.parametrize("make", [
    lambda **kw: FineTunedClassifier(hidden_layer_sizes=(8,), **kw),
    lambda **kw: FineTunedRegressor(hidden_layer_sizes=(8,), **kw),
    lambda **kw: DeepAutoencoder(hidden_layer_sizes=(8,), **kw),
    lambda **kw: Autoencoder(n_components=8, **kw),
])
def test_every_family_takes_schedules_and_adam_settings(make):
    X, y = _digits()
    est = make(solver="adam", learning_rate=0.01, learning_rate_schedule="step", lr_decay=0.5,
               beta_1=0.8, beta_2=0.99, epsilon=1e-6, max_iter=2, batch_size=50,
               random_state=0)
    target = None if isinstance(est, (DeepAutoencoder, Autoencoder)) else (
        y if isinstance(est, FineTunedClassifier) else X[:, :2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, target)
    (optimizer,) = est._optimizers.values()
    assert (optimizer.beta1, optimizer.beta2, optimizer.eps) == (0.8, 0.99, 1e-6)
    # two epochs of the step schedule: halved twice
    assert optimizer.current_learning_rate() == pytest.approx(0.01 * 0.25)


def test_network_schedule_changes_training():
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, learning_rate=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        constant = FineTunedClassifier(**kw).fit(X, y)
        decayed = FineTunedClassifier(learning_rate_schedule="exponential", lr_decay=0.1,
                                      **kw).fit(X, y)
    assert constant.loss_curve_[0] != decayed.loss_curve_[0]
    assert not np.allclose(constant.coefs_[0], decayed.coefs_[0])
