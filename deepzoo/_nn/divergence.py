"""The divergence check every training loop runs after each epoch.

A learning rate far too large does not always end in NaN: parameters can
grow to 1e180 and stay finite, and a model returned in that state produces
garbage features without any warning. After every epoch the RBMs, the
autoencoders, the fine-tuned networks, the DBN's up-down stage (naming
``updown_learning_rate``) and sparse coding (which has no learning rate)
therefore call :func:`check_divergence`, which raises ``FloatingPointError``
when

- a parameter or the epoch's loss is NaN or infinite;
- a parameter's magnitude exceeds ``bound``: :data:`PARAMETER_BOUND` times
  the largest absolute value of the training data (inputs and targets),
  and never less than :data:`PARAMETER_BOUND` (see :func:`parameter_bound`);
- the epoch's loss exceeds :data:`LOSS_GROWTH` times the first epoch's.

The training methods are transactional
(:func:`deepzoo.utils._transaction.transactional`), so the error leaves the
model as it was before the failing call.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["PARAMETER_BOUND", "LOSS_GROWTH", "parameter_bound", "check_divergence"]

#: Largest parameter magnitude, per unit of data scale, a trained model may
#: have. Healthy models stay far below it: across every fit in the test
#: suite (MNIST RBMs, DBNs and networks included, data in [0, 1] or
#: standardised) the largest parameter is about 7; 1e6 leaves five orders of
#: magnitude of headroom while catching runaway growth long before
#: float32's range ends (3e38).
PARAMETER_BOUND = 1e6

#: A loss (or RBM reconstruction error) this many times the first epoch's is
#: divergence: training lowers the loss, and noise in a healthy run moves it
#: by a few percent (at most 1.3% above the first epoch's across the test
#: suite), not four orders of magnitude.
LOSS_GROWTH = 1e4


def parameter_bound(*data):
    """The magnitude bound for a model trained on ``data`` (inputs, targets).

    ``PARAMETER_BOUND * max(1, max |data|)``: output biases of a regressor
    or a Gaussian RBM must reach the scale of unscaled data, which is no
    divergence.

    Parameters
    ----------
    *data : ndarray, scipy sparse matrix or RowStream
        The validated training arrays (a sparse matrix's implicit zeros
        do not change the scale), or streamed data
        (:class:`deepzoo.utils.streaming.RowStream`): the largest magnitude
        of the chunks it has read so far (its ``max_abs``).

    Returns
    -------
    bound : float
    """
    values = [np.array([a.max_abs]) if hasattr(a, "max_abs")
              else a.data if sp.issparse(a) else a for a in data if a is not None]
    scale = max([1.0] + [_peak(a) for a in values if a.size])
    return PARAMETER_BOUND * scale


def _peak(a):
    """``max |a|`` of a non-empty array without ``abs``'s temporary copy:
    the bound reads the whole training set (when a parameter exceeds
    PARAMETER_BOUND), and a copy of 60,000 MNIST rows would cost a few
    percent of an epoch. NaN propagates
    (numpy's ``max`` and ``min`` return it, and so does Python's ``max``)."""
    return max(float(a.max()), -float(a.min()))


def check_divergence(estimator, parameters, losses, bound, *, rate_name="learning_rate",
                     stage=None):
    """Raise ``FloatingPointError`` if the epoch just run diverged.

    One pass over each parameter array: call it once per epoch, not per
    mini-batch.

    Parameters
    ----------
    estimator : estimator
        Named in the message, with its learning rate.
    parameters : iterable of ndarray
        Every learned array.
    losses : sequence of float
        The loss (or reconstruction error) of every epoch so far, the
        current one last; the first is the reference for growth.
    bound : float or callable
        Largest allowed parameter magnitude, from :func:`parameter_bound`;
        or a callable returning it (e.g. ``partial(parameter_bound, X)``),
        called only when a parameter's magnitude exceeds
        :data:`PARAMETER_BOUND`, the least bound there is: a healthy epoch
        then makes no pass over the data (3% of a ``partial_fit`` CD-1
        epoch on 20,000 MNIST rows).
    rate_name : str or None, default="learning_rate"
        The estimator's parameter that sets the step size, named in the
        message with its value and the advice to lower it (e.g.
        ``"updown_learning_rate"`` for a DBN's up-down stage); None for an
        estimator without one (sparse coding), whose message then advises
        only on the input scale and the hyperparameters.
    stage : str, optional
        The training stage that diverged, named after the estimator (e.g.
        ``"up-down fine-tuning"``).

    Raises
    ------
    FloatingPointError
        Naming the estimator, the epoch, the learning rate, what went wrong
        and the fix.
    """
    loss, first = float(losses[-1]), float(losses[0])
    reason = None
    if not np.isfinite(loss):
        reason = f"its loss is {loss}, so its parameters contain NaN or inf"
    else:
        for p in parameters:
            peak = _peak(p) if p.size else 0.0
            if not np.isfinite(peak):
                reason = "its parameters contain NaN or inf"
                break
            if callable(bound):
                if peak <= PARAMETER_BOUND:
                    continue
                bound = bound()
            if peak > bound:
                reason = (f"a parameter reached {peak:.3g}, beyond the bound {bound:.3g} "
                          f"({PARAMETER_BOUND:g} times the largest absolute value of the "
                          "data, at least 1)")
                break
    if reason is None and first > 0 and loss > LOSS_GROWTH * first:
        reason = (f"the loss grew from {first:.4g} at epoch 1 to {loss:.4g}, more than "
                  f"{LOSS_GROWTH:g} times")
    if reason is None:
        return
    what = type(estimator).__name__ + (f" {stage}" if stage else "")
    keep = "the model is left as it was before this call."
    if rate_name is None:
        raise FloatingPointError(
            f"{what} diverged at epoch {len(losses)}: {reason}. Check the input scale "
            f"(standardise it) and the hyperparameters; {keep}"
        )
    lr = getattr(estimator, rate_name)
    raise FloatingPointError(
        f"{what} diverged at epoch {len(losses)} ({rate_name}={lr:g}): {reason}. Lower "
        f"{rate_name} (e.g. to {lr / 10:g}) and check the input scale (standardise it); "
        f"{keep}"
    )
