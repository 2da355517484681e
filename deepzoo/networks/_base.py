"""Feed-forward networks fine-tuned by backprop, optionally unrolled from a stack.

The network is a list of layers ``A_{l+1} = f_l(A_l @ W_l.T + b_l)`` with
``W_l`` of shape (n_out, n_in), the layout of ``components_``. Every forward
step is :func:`deepzoo._nn.activations.encode`, the very function the layers'
``transform`` calls, so before fine-tuning an unrolled network reproduces its
stack bit for bit.
"""

from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from .._nn.activations import backprop_activation, encode
from .._nn.divergence import parameter_bound
from .._nn.init import INITIALIZERS, init_weights
from .._nn.losses import loss_value, output_delta
from .._nn.optimizers import OPTIMIZERS
from .._nn.regularization import _dropout, _max_norm, add_l2_gradient, l2_penalty
from .._nn.training import (
    OPTIMIZER_CONSTRAINTS,
    make_params_updatable,
    minibatches,
    n_minibatches,
    optimizer_for,
    train_epochs,
)
from ..stacks._stack import encoder_layer
from ..utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    check_is_fitted,
    validate_data,
)
from ..utils.streaming import RowStream, training_stream

__all__ = ["BaseNetwork", "unroll"]

_SOLVERS = sorted(OPTIMIZERS) + ["cg"]


def unroll(pretrained):
    """The encoder layers of a fitted stack or single layer, bottom first.

    Parameters
    ----------
    pretrained : fitted estimator
        A :class:`deepzoo.Stack`, :class:`deepzoo.DBN`,
        :class:`deepzoo.StackedAutoencoder` (anything with an
        ``encoder_layers()`` method), or one layer exposing the
        encoder-layer contract.

    Returns
    -------
    list of deepzoo.stacks.EncoderLayer
    """
    if hasattr(pretrained, "encoder_layers"):
        return pretrained.encoder_layers()
    return [encoder_layer(pretrained)]


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


class BaseNetwork(BaseEstimator):
    """Shared machinery: unrolling, forward/backward passes and training loops.

    Subclasses set ``_output_activation``/``_loss`` through ``_build`` and
    implement ``_targets`` (the training targets as a 2-D array) and
    ``_validation_rows`` (a value per held-out row, reduced to the
    validation score by ``_reduce_validation``: their mean by default).

    Streamed ``X`` (:mod:`deepzoo.utils.streaming`) trains as a
    :class:`~deepzoo.utils.streaming.RowStream`: its chunks in a shuffled
    order, the targets (in memory) sliced by each chunk's rows; early
    stopping holds out the last rows.
    """

    _parameter_constraints = {
        "pretrained": [HasMethods(["fit", "transform"]), None],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"sigmoid", "tanh", "relu", "linear"})],
        "init": [StrOptions(set(INITIALIZERS))],
        "solver": [StrOptions(set(_SOLVERS))],
        **OPTIMIZER_CONSTRAINTS,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "cg_maxiter": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Smallest validation set ``early_stopping`` can score.
    _min_validation_samples = 1

    # ------------------------------------------------------------ building
    def _pretrained_layers(self, X):
        """Fit (a clone of) ``pretrained`` if needed; return its encoder layers."""
        if self.pretrained is None:
            self.pretrained_ = None
            return []
        if _is_fitted(self.pretrained):
            self.pretrained_ = self.pretrained
        else:
            # a stream's source: the stack streams it too
            self.pretrained_ = clone(self.pretrained).fit(
                X.X if isinstance(X, RowStream) else X)
        layers = unroll(self.pretrained_)
        if layers and layers[0].weights.shape[1] != X.shape[1]:
            raise ValueError(
                f"{type(self).__name__}: the pretrained stack expects "
                f"{layers[0].weights.shape[1]} features; X has {X.shape[1]}."
            )
        return layers

    def _new_layer(self, fan_in, fan_out, rng, dtype, activation):
        # Glorot & Bengio (2010) scale sigmoid weights by 4: the sigmoid's
        # slope at 0 is 1/4 of tanh's.
        scale = 4.0 if (self.init in ("glorot", "xavier") and activation == "sigmoid") else 1.0
        W = init_weights(self.init, fan_in, fan_out, rng, dtype=dtype, scale=scale)
        return W, np.zeros(fan_out, dtype=dtype)

    def _set_layers(self, weights, intercepts, activations):
        self.coefs_ = [np.array(W, order="C", copy=True) for W in weights]
        self.intercepts_ = [np.array(b, copy=True) for b in intercepts]
        self.activations_ = list(activations)
        self.n_layers_ = len(self.coefs_) + 1

    # ------------------------------------------------------------- forward
    def _forward(self, X, n_layers=None, train_rng=None, start=0):
        """Activations of layers ``start`` to ``n_layers`` (``[X, A_1, ..., A_L]``).

        With ``train_rng`` and ``dropout > 0``, hidden activations are
        dropped (inverted dropout); the masks are returned alongside.
        """
        acts = [X]
        masks = []
        n = len(self.coefs_) if n_layers is None else n_layers
        for i in range(start, n):
            A = encode(acts[-1], self.coefs_[i], self.intercepts_[i], self.activations_[i])
            is_hidden = i < len(self.coefs_) - 1
            if train_rng is not None and self.dropout > 0 and is_hidden:
                dropped, mask = _dropout(A, self.dropout, train_rng)
                masks.append((A, mask))
                A = dropped
            else:
                masks.append(None)
            acts.append(A)
        return acts, masks

    def _loss_grad(self, X, Y, train_rng=None, n_trainable=None):
        """Mean loss (+ L2 penalty) and gradients ``[gW_0, gb_0, gW_1, ...]``.

        ``n_trainable`` limits backprop to the last layers (the others get
        no gradient and are not returned).
        """
        acts, masks = self._forward(X, train_rng=train_rng)
        L = len(self.coefs_)
        first = L - (L if n_trainable is None else n_trainable)
        out = acts[-1]
        loss = loss_value(self._loss, Y, out)
        delta = output_delta(self._loss, self.activations_[-1], Y, out,
                             scale=1.0 / X.shape[0])
        grads = [None] * (2 * (L - first))
        for i in range(L - 1, first - 1, -1):
            W = self.coefs_[i]
            gW = delta.T @ acts[i]
            if self.alpha:
                add_l2_gradient(gW, W, self.alpha)
                loss += l2_penalty(W, self.alpha)
            grads[2 * (i - first)] = gW
            grads[2 * (i - first) + 1] = delta.sum(axis=0)
            if i > first:
                delta = delta @ W
                if masks[i - 1] is not None:
                    raw, mask = masks[i - 1]
                    delta *= mask
                    backprop_activation(self.activations_[i - 1], delta, raw)
                else:
                    backprop_activation(self.activations_[i - 1], delta, acts[i])
        if self.alpha and first > 0:
            # Frozen layers still carry their penalty, so the loss curve is
            # comparable across the top-only and the full phase.
            loss += sum(l2_penalty(W, self.alpha) for W in self.coefs_[:first])
        return loss, grads

    def _params(self, n_trainable=None):
        L = len(self.coefs_)
        first = L - (L if n_trainable is None else n_trainable)
        out = []
        for W, b in zip(self.coefs_[first:], self.intercepts_[first:]):
            out += [W, b]
        return out

    # ------------------------------------------------------------ training
    def _replace_params(self, arrays):
        self.coefs_ = list(arrays[0::2])
        self.intercepts_ = list(arrays[1::2])

    def _stream(self, X, reset, caller, check=None):
        """Streamed ``X`` in the network's dtype (chosen by the data on
        ``reset``); ``check(chunk, where)`` runs on every chunk read."""
        dtype, n_features = (None, None) if reset else (self.coefs_[0].dtype,
                                                        self.n_features_in_)
        return training_stream(self, X, caller, reset=reset, dtype=dtype, n_features=n_features,
                               batch_size=self.batch_size, check=check)

    def _fit(self, X, Y, incremental=False):
        """Train through the shared loop (:mod:`deepzoo._nn.training`).

        ``X`` is an array or a :class:`RowStream`; ``Y`` the targets of its
        rows, in memory, or None for a stream that is its own target.
        """
        make_params_updatable(self)
        streamed = isinstance(X, RowStream)
        if streamed:
            # every chunk read and checked before any update, so the bound
            # takes the largest magnitude of them all
            X.scan()
        bound = partial(parameter_bound, X, Y)
        validation_score = None
        if self.early_stopping and not incremental and streamed:
            # the last rows: a random split would need every row in memory
            X, X_val = X.split(self._n_validation(X.shape[0]))
            validation_score = partial(self._stream_validation_score, X_val, Y)
        elif self.early_stopping and not incremental:
            X, X_val, Y, Y_val = self._split_validation(X, Y, self._rng)
            validation_score = partial(self._validation_score, X_val, Y_val)
        train_epochs(self, partial(self._run_epoch, X, Y, self._rng),
                     n_epochs=1 if incremental else self.max_iter, incremental=incremental,
                     bound=bound, validation_score=validation_score,
                     unstoppable_epochs=self._top_only_iter())

    def _top_only_iter(self):
        """Epochs at the start that train only the output layer."""
        return 0

    def _n_validation(self, n):
        """Held-out rows of ``n`` samples, refused if too few to score or train."""
        n_val = int(round(self.validation_fraction * n))
        if n_val < self._min_validation_samples or n_val >= n:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {n_val} validation "
                f"and {n - n_val} training samples out of {n}; "
                f"{type(self).__name__} needs at least {self._min_validation_samples} "
                "validation sample(s) and 1 training sample. Raise validation_fraction, "
                "use more data or set early_stopping=False."
            )
        return n_val

    def _split_validation(self, X, Y, rng):
        n_val = self._n_validation(X.shape[0])
        stratify = self._stratify(Y)
        X, X_val, Y, Y_val = train_test_split(
            X, Y, test_size=n_val, random_state=rng.randint(np.iinfo(np.int32).max),
            stratify=stratify)
        return X, X_val, Y, Y_val

    def _stratify(self, Y):
        return None

    def _validation_score(self, X, Y):
        return self._reduce_validation(self._validation_rows(X, Y), Y)

    def _stream_validation_score(self, X, Y):
        """:meth:`_validation_score` of a held-out stream, a chunk at a time."""
        rows = np.concatenate([self._validation_rows(chunk, target)
                               for chunk, target in X.labelled_chunks(Y)])
        return self._reduce_validation(rows, None if Y is None else Y[X.start:X.stop])

    def _reduce_validation(self, rows, Y):
        return float(np.mean(rows))

    def _run_epoch(self, X, Y, rng):
        """One pass over the data; the first ``top_only_iter`` train only the output layer.

        A stream's chunks come in a shuffled order, each shuffled as the
        in-memory data; the schedule counts the whole epoch's mini-batches.
        """
        n_trainable = 1 if self.n_iter_ < self._top_only_iter() else None
        if isinstance(X, RowStream):
            n_batches = X.n_minibatches(self.batch_size)
            parts = X.labelled_chunks(Y, rng, self.shuffle)
        else:
            n_batches, parts = n_minibatches(X.shape[0], self.batch_size), [(X, Y)]
        optimizer = (None if self.solver == "cg"
                     else optimizer_for(self, n_batches, n_trainable))
        total = 0.0
        for Xc, Yc in parts:
            for rows in minibatches(Xc.shape[0], self.batch_size, rng, self.shuffle):
                Xb, Yb = Xc[rows], Yc[rows]
                if optimizer is None:
                    loss = self._cg_batch(Xb, Yb, n_trainable)
                else:
                    loss, grads = self._loss_grad(Xb, Yb, rng if self.dropout else None,
                                                  n_trainable)
                    optimizer.step(grads)
                if self.max_norm is not None:
                    for W in self.coefs_[:-1]:
                        _max_norm(W, self.max_norm)
                total += loss * Xb.shape[0]
        return total / X.shape[0]

    def _cg_batch(self, Xb, Yb, n_trainable):
        """A few conjugate-gradient iterations on one large batch (Hinton's code)."""
        params = self._params(n_trainable)
        sizes = [p.size for p in params]
        splits = np.cumsum(sizes)[:-1]
        rng = self._rng if self.dropout else None

        def set_theta(theta):
            for p, piece in zip(params, np.split(theta, splits)):
                p[...] = piece.reshape(p.shape)

        def fun(theta):
            set_theta(theta)
            # Fix the dropout masks within one line search: the objective
            # must be a deterministic function of theta.
            state = rng.get_state() if rng is not None else None
            loss, grads = self._loss_grad(Xb, Yb, rng, n_trainable)
            if state is not None:
                rng.set_state(state)
            return loss, np.concatenate([g.ravel() for g in grads]).astype(np.float64)

        theta0 = np.concatenate([p.ravel() for p in params]).astype(np.float64)
        res = minimize(fun, theta0, jac=True, method="CG",
                       options={"maxiter": self.cg_maxiter})
        set_theta(res.x)
        if rng is not None:
            rng.random_sample()  # new masks for the next batch
        return float(res.fun)

    def _start(self, X, n_outputs, reset):
        """Build the network (unroll or draw) unless resuming."""
        if reset or not hasattr(self, "coefs_"):
            self._rng = check_random_state(self.random_state)
            self._build(X, n_outputs, self._rng)
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.best_loss_ = None
            self.validation_scores_ = []
            self.best_validation_score_ = None
            self._optimizers = {}
        elif not hasattr(self, "_rng"):
            # Resumed after clone/load: scratch state is rebuilt.
            self._rng = check_random_state(self.random_state)
            self._optimizers = {}
            # files written before best_loss_ existed
            if not hasattr(self, "best_loss_"):
                self.best_loss_ = min(self.loss_curve_, default=None)

    def _check_dtype(self, X):
        if hasattr(self, "coefs_") and X.dtype != self.coefs_[0].dtype:
            X = X.astype(self.coefs_[0].dtype)
        return X

    def _input(self, X):
        """Validated prediction input in the network's dtype."""
        check_is_fitted(self, "coefs_")
        return self._check_dtype(validate_data(self, X, dtype=[np.float64, np.float32],
                                               reset=False))

    def _hidden(self, X):
        """Top hidden representation (input of the output layer)."""
        acts, _ = self._forward(X, n_layers=len(self.coefs_) - 1)
        return acts[-1]

    def _output(self, X):
        acts, _ = self._forward(X)
        return acts[-1]

    def _output_logits(self, X):
        """Pre-activation of the output layer, for exact log-space scores."""
        return encode(self._hidden(X), self.coefs_[-1], self.intercepts_[-1], "linear")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

