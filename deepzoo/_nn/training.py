"""The mini-batch training loop of every backprop-trained estimator.

The autoencoder layers (``deepzoo.layers``) and the fine-tuned networks
(``deepzoo.networks``) train through these functions, so they share one
optimizer factory, one set of learning-rate schedules, one validation rule
and one early-stopping rule:

- An epoch *improves* when the validation score (with early stopping) rises
  above the best so far by more than ``tol``, or else when the training loss
  falls below the best so far by more than ``tol``.
- Training stops after ``n_iter_no_change`` epochs in a row without
  improvement (never during epochs the estimator marks as unstoppable, such
  as the networks' top-only epochs), and warns with a
  ``ConvergenceWarning`` when ``max_iter`` runs out first.
- With early stopping the weights kept are those of the best validation
  score, whether or not that score beat the previous best by ``tol``
  (scikit-learn's ``MLPClassifier`` rule).

An estimator that trains through :func:`train_epochs` provides:

``_params(key=None)``
    The arrays being trained, in the order of the optimizer's gradients;
    ``key`` names a subset (the networks' ``1``: only the output layer).
``_replace_params(arrays)``
    Store ``arrays`` in place of ``_params()`` (the same order).
``_optimizers``
    A dict ``key -> optimizer`` (the optimizers' state between calls).
and the attributes ``loss_curve_``, ``n_iter_``, ``best_loss_``,
``validation_scores_``, ``best_validation_score_`` and the parameters named
in :data:`OPTIMIZER_CONSTRAINTS`, ``tol``, ``n_iter_no_change``,
``max_iter``, ``verbose``.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..utils._compat import Interval, StrOptions
from ..utils._progress import report_progress
from .divergence import check_divergence
from .optimizers import OPTIMIZERS, ExponentialDecay, InverseTimeDecay, StepDecay, updatable

__all__ = [
    "SCHEDULES",
    "OPTIMIZER_CONSTRAINTS",
    "SCHEDULE_PARAMETERS_DOC",
    "make_optimizer",
    "optimizer_for",
    "make_params_updatable",
    "minibatches",
    "n_minibatches",
    "train_epochs",
]

#: Learning-rate schedules by parameter value.
SCHEDULES = ("constant", "step", "exponential", "inverse_time")

#: ``_parameter_constraints`` of the optimizer settings every trainer shares.
OPTIMIZER_CONSTRAINTS = {
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "learning_rate_schedule": [StrOptions(set(SCHEDULES))],
    "lr_decay": [Interval(Real, 0, 1, closed="right")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
}

# The docstring entries of the schedule and Adam settings, shared by the
# autoencoder layers and the networks.
SCHEDULE_PARAMETERS_DOC = """\
    learning_rate_schedule : {"constant", "step", "exponential", "inverse_time"}, \
default="constant"
        After ``e`` epochs the rate is ``learning_rate``
        times ``lr_decay ** floor(e)`` (step), ``lr_decay ** e``
        (exponential, updated every mini-batch) or
        ``1 / (1 + (1 / lr_decay - 1) e)`` (inverse time), so that all three
        have shrunk by ``lr_decay`` after one epoch.
    lr_decay : float in (0, 1], default=0.5
        Shrink factor of the schedule over one epoch.
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
        Moment decays of Adam.
    epsilon : float, default=1e-8
        Numerical stabiliser of Adam, AdaGrad and RMSprop."""


def _schedule(name, lr_decay, n_batches):
    if name == "constant":
        return None
    if name == "step":
        return StepDecay(n_batches, lr_decay)
    if name == "exponential":
        return ExponentialDecay(lr_decay ** (1.0 / n_batches))
    return InverseTimeDecay((1.0 / lr_decay - 1.0) / n_batches)


def make_optimizer(estimator, params, n_batches):
    """The optimizer ``estimator``'s settings ask for, over ``params``.

    Parameters
    ----------
    estimator : estimator
        Read for ``solver``, ``learning_rate``, ``learning_rate_schedule``,
        ``lr_decay``, ``momentum``, ``beta_1``, ``beta_2`` and ``epsilon``.
    params : list of ndarray
        The arrays to update in place.
    n_batches : int
        Mini-batches per epoch: the schedules decay by ``lr_decay`` per
        epoch.

    Returns
    -------
    deepzoo._nn.optimizers.Optimizer
    """
    solver = estimator.solver
    kwargs = {"learning_rate": estimator.learning_rate,
              "schedule": _schedule(estimator.learning_rate_schedule, estimator.lr_decay,
                                    n_batches)}
    if solver in ("momentum", "nesterov"):
        kwargs["momentum"] = estimator.momentum
    elif solver == "adam":
        kwargs.update(beta1=estimator.beta_1, beta2=estimator.beta_2, eps=estimator.epsilon)
    elif solver in ("adagrad", "rmsprop"):
        kwargs["eps"] = estimator.epsilon
    return OPTIMIZERS[solver](params, **kwargs)


def optimizer_for(estimator, n_batches, key=None):
    """The estimator's optimizer of ``key``'s parameters, made on first use.

    The optimizer (and its moments and update count) is kept in
    ``estimator._optimizers`` across epochs and ``partial_fit`` calls; its
    base rate follows ``estimator.learning_rate``, so that
    ``set_params(learning_rate=...)`` between calls takes effect.
    """
    optimizers = estimator._optimizers
    if optimizers.get(key) is None:
        optimizers[key] = make_optimizer(estimator, estimator._params(key), n_batches)
    optimizer = optimizers[key]
    optimizer.learning_rate = float(estimator.learning_rate)
    return optimizer


def make_params_updatable(estimator):
    """Copy read-only or non-contiguous parameters before training.

    Fitted arrays may be read-only (a model loaded from a memory map) or
    views set by hand; training copies them instead of failing or writing
    through a view, and points the kept optimizers at the copies.
    """
    before = estimator._params()
    after = [updatable(p) for p in before]
    if any(p is not q for p, q in zip(before, after)):
        estimator._replace_params(after)
        for key, optimizer in estimator._optimizers.items():
            if optimizer is not None:
                optimizer.rebind(estimator._params(key))


def minibatches(n_samples, batch_size, rng, shuffle):
    """Row selectors of one epoch's mini-batches, each usable as ``X[rows]``.

    With ``shuffle`` one ``rng.permutation`` orders the epoch; without, the
    batches are slices (no copy of dense input).
    """
    batch_size = min(batch_size, n_samples)
    order = rng.permutation(n_samples) if shuffle else None
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        yield order[start:stop] if order is not None else slice(start, stop)


def n_minibatches(n_samples, batch_size):
    """Mini-batches per epoch of :func:`minibatches`."""
    return -(-n_samples // min(batch_size, n_samples))


def train_epochs(estimator, run_epoch, *, n_epochs, incremental, bound, validation_score=None,
                 unstoppable_epochs=0):
    """Train up to ``n_epochs`` epochs under the module's stopping rule.

    Parameters
    ----------
    estimator : estimator
        Its training attributes are updated (see the module docstring).
    run_epoch : callable
        ``run_epoch() -> float``: one pass over the training data, updating
        the parameters; returns the epoch's mean training loss.
    n_epochs : int
    incremental : bool
        ``partial_fit``: record the epoch, never stop early nor warn.
    bound : float or callable
        :func:`deepzoo._nn.divergence.parameter_bound` of the data, or a
        callable returning it when needed (see ``check_divergence``).
    validation_score : callable or None
        ``validation_score() -> float`` (higher is better) of the held-out
        set; with it the best-scoring weights are kept.
    unstoppable_epochs : int
        Epochs, counted over the model's life (``n_iter_``), that never end
        training (the networks' top-only phase).

    Returns
    -------
    stopped : bool
        Whether the stopping rule ended training before ``n_epochs``.
    """
    est = estimator
    best_params, no_improvement, stopped, start = None, 0, False, time.perf_counter()
    for _ in range(n_epochs):
        loss = run_epoch()
        est.n_iter_ += 1
        est.loss_curve_.append(loss)
        check_divergence(est, est._params(), est.loss_curve_, bound)
        best_loss = np.inf if est.best_loss_ is None else est.best_loss_
        improved = loss < best_loss - est.tol
        est.best_loss_ = min(best_loss, loss)
        if est.verbose:
            report_progress(est, est.n_iter_, "loss", loss, time.perf_counter() - start)
        if validation_score is not None:
            score = float(validation_score())
            est.validation_scores_.append(score)
            best = -np.inf if est.best_validation_score_ is None else est.best_validation_score_
            improved = score > best + est.tol
            if score > best:
                est.best_validation_score_ = score
                best_params = [p.copy() for p in est._params()]
            if est.verbose:
                report_progress(est, est.n_iter_, "validation score", score,
                                time.perf_counter() - start)
        if incremental:
            continue
        no_improvement = 0 if improved else no_improvement + 1
        if no_improvement >= est.n_iter_no_change and est.n_iter_ > unstoppable_epochs:
            stopped = True
            break
    if best_params is not None:
        for p, best in zip(est._params(), best_params):
            p[...] = best
    if not (incremental or stopped) and n_epochs > 0:
        watched = "validation score" if validation_score is not None else "training loss"
        warnings.warn(
            f"{type(est).__name__}: max_iter={est.max_iter} reached before the {watched} "
            f"stopped improving by tol={est.tol}; increase max_iter"
            + ("." if validation_score is not None else " or use early_stopping."),
            ConvergenceWarning,
        )
    return stopped
