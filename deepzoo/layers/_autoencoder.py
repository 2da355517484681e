"""One-hidden-layer autoencoders: basic, denoising, sparse, contractive.

The four estimators share one objective, :func:`autoencoder_objective`, for
a mini-batch::

    H = f(X_in @ W.T + b_h)                 encoder (X_in: corrupted input)
    R = g(H @ W_dec + b_v)                  decoder (W_dec = W when tied)
    J = mean_i l(x_i, r_i)                  reconstruction of the clean x
        + alpha / 2 (|W|^2 + |W_dec|^2)     L2 weight decay
        + beta sum_j KL(rho || mean_i h_ij) KL sparsity (sigmoid units)
        + lambda_1 mean_i sum_j |h_ij|      L1 code penalty
        + lambda_c mean_i |dh_i/dx_i|_F^2   contractive penalty

and its gradient by backprop, with the matrix products in BLAS and the
element-wise work in the fused kernels of ``deepzoo._kernels.nn``; the
estimators differ in which terms and which corruption they switch on.
"""

from collections import namedtuple
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_array, check_random_state

from .._kernels import nn as _k
from .._nn.activations import (
    ACTIVATIONS,
    activate,
    backprop_activation,
    derivative_from_output,
    encode,
)
from .._nn.divergence import parameter_bound
from .._nn.init import INITIALIZERS, init_weights
from .._nn.losses import binary_cross_entropy_logits, loss_samples, output_delta
from .._nn.optimizers import OPTIMIZERS
from .._nn.regularization import add_l2_gradient, l2_penalty
from .._nn.training import (
    OPTIMIZER_CONSTRAINTS,
    SCHEDULE_PARAMETERS_DOC,
    make_params_updatable,
    minibatches,
    n_minibatches,
    optimizer_for,
    train_epochs,
)
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
    validate_params,
)
from ..utils._docstrings import fill_docstring
from ..utils._progress import announces_compilation
from ..utils._sparse import by_rows
from ..utils._transaction import transactional
from ..utils.streaming import (
    RowStream,
    blockwise,
    is_streamed,
    stream_rows,
    training_stream,
)
from ..utils.validation import (
    check_float_array,
    check_unit_interval,
    unit_interval_check,
)

__all__ = [
    "Autoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "ContractiveAutoencoder",
    "AutoencoderSpec",
    "autoencoder_objective",
    "corrupt",
]

_UNIT_ACTIVATIONS = sorted(set(ACTIVATIONS) - {"softmax"})

#: estimator loss name -> core loss name
_LOSSES = {"squared_error": "squared_error", "cross_entropy": "binary_cross_entropy"}

#: everything the objective needs besides parameters and data
AutoencoderSpec = namedtuple(
    "AutoencoderSpec",
    ["hidden_activation", "visible_activation", "loss", "alpha",
     "sparsity_target", "sparsity_weight", "code_l1", "contraction"],
    defaults=[0.0, 0.05, 0.0, 0.0, 0.0],
)


# --------------------------------------------------------------- objective


def _second_derivative(name, A, D1):
    """``f''(z)`` through the output ``A`` and first derivative ``D1``."""
    if name == "sigmoid":  # f' = a (1 - a), f'' = f' (1 - 2 a)
        return D1 * (1 - 2 * A)
    if name == "tanh":  # f' = 1 - a^2, f'' = -2 a f'
        return -2 * A * D1
    return np.zeros_like(A)  # relu, linear: f'' = 0 almost everywhere


def _reconstruct_delta(Z, b_v, Y, spec, scale):
    """Overwrite ``Z = H @ W_dec`` with ``scale * dl/dz``; return per-sample losses."""
    visible, loss = spec.visible_activation, _LOSSES[spec.loss]
    dtype = Z.dtype.type
    fused = {("binary_cross_entropy", "sigmoid"): _k.sigmoid_cross_entropy_delta,
             ("squared_error", "linear"): _k.squared_error_delta}.get((loss, visible))
    if fused is not None and Y.dtype == Z.dtype and Y.flags.c_contiguous:
        rows = np.zeros(Z.shape[0], dtype=Z.dtype)
        _k.pick(fused, Z.size)(Z, b_v, Y, dtype(scale), dtype(1), rows)
        return rows
    Z += b_v
    A = activate(visible, Z)
    rows = loss_samples(loss, Y, A)
    output_delta(loss, visible, Y, A, scale=scale, out=A)
    return rows


def autoencoder_objective(params, grads, X_in, X_target, spec):
    """Objective of a mini-batch and its gradient, written into ``grads``.

    Parameters
    ----------
    params : list of ndarray
        ``[W, b_h, b_v]`` (tied weights) or ``[W, b_h, b_v, W_dec]``, with
        ``W`` and ``W_dec`` of shape (n_components, n_features).
    grads : list of ndarray
        Same shapes and dtype as ``params``; overwritten with the gradient.
    X_in : ndarray of shape (n_samples, n_features)
        The encoder's input (the corrupted batch for a denoising model).
    X_target : ndarray of shape (n_samples, n_features)
        The reconstruction target (the clean batch).
    spec : AutoencoderSpec
        Activations, loss name (``"squared_error"`` or ``"cross_entropy"``)
        and penalty weights.

    Returns
    -------
    objective : float
        Mean reconstruction loss plus the penalties (see module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> params = [rng.normal(size=(2, 3)), np.zeros(2), np.zeros(3)]
    >>> grads = [np.empty_like(p) for p in params]
    >>> X = rng.random((4, 3))
    >>> spec = AutoencoderSpec("sigmoid", "linear", "squared_error")
    >>> autoencoder_objective(params, grads, X, X, spec) > 0
    True
    """
    W, b_h, b_v = params[:3]
    untied = len(params) == 4
    W_dec = params[3] if untied else W
    gW, gb_h, gb_v = grads[:3]
    gW_dec = grads[3] if untied else gW
    n = X_in.shape[0]
    scale = 1.0 / n
    hidden = spec.hidden_activation

    H = encode(X_in, W, b_h, hidden)
    delta = H @ W_dec
    value = float(_reconstruct_delta(delta, b_v, X_target, spec, scale).sum(dtype=np.float64)) / n
    np.sum(delta, axis=0, out=gb_v)
    if untied:
        np.matmul(H.T, delta, out=gW_dec)
    dH = delta @ W_dec.T

    if spec.sparsity_weight:
        rho, beta = spec.sparsity_target, spec.sparsity_weight
        # A saturated unit has a mean activation of exactly 0 or 1, where the
        # KL divergence is infinite; the clip keeps it finite (and exact
        # everywhere a float of H's precision can tell from 0 and 1).
        eps = np.finfo(H.dtype).eps
        rho_hat = np.clip(H.mean(axis=0, dtype=np.float64), eps, 1 - eps)
        value += beta * float(np.sum(rho * np.log(rho / rho_hat)
                                     + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))))
        dH += (beta * scale * ((1 - rho) / (1 - rho_hat) - rho / rho_hat)).astype(dH.dtype)
    if spec.code_l1:
        value += spec.code_l1 * float(np.abs(H).sum(dtype=np.float64)) / n
        dH += (spec.code_l1 * scale) * np.sign(H)
    if spec.contraction:
        # |J|_F^2 = sum_j f'(z_j)^2 |W_j|^2 for J = diag(f'(z)) W
        D1 = derivative_from_output(hidden, H)
        row_norms = np.einsum("ij,ij->i", W, W)
        value += spec.contraction * float(np.sum((D1 * D1) @ row_norms, dtype=np.float64)) / n

    backprop_activation(hidden, dH, H)
    if spec.contraction:
        lam = spec.contraction * scale
        dH += (2 * lam) * D1 * _second_derivative(hidden, H, D1) * row_norms
    np.sum(dH, axis=0, out=gb_h)
    if untied:
        np.matmul(dH.T, X_in, out=gW)
    else:
        # tied: gW = H.T @ delta + dH.T @ X_in, as one product over stacked
        # rows (no weight-sized temporary, no second pass over gW)
        np.matmul(np.concatenate((H, dH)).T, np.concatenate((delta, X_in)), out=gW)
    if spec.contraction:
        gW += ((2 * lam) * (D1 * D1).sum(axis=0))[:, None] * W
    if spec.alpha:
        value += l2_penalty(W, spec.alpha)
        add_l2_gradient(gW, W, spec.alpha)
        if untied:
            value += l2_penalty(W_dec, spec.alpha)
            add_l2_gradient(gW_dec, W_dec, spec.alpha)
    return value


@validate_params(
    {
        "X": ["array-like"],
        "kind": [StrOptions({"masking", "gaussian", "salt_and_pepper"})],
        "level": [Interval(Real, 0, None, closed="left")],
        "key": [Interval(Integral, 0, np.iinfo(np.uint64).max, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def corrupt(X, kind, level, key):
    """Corrupted copy of ``X`` for a denoising autoencoder.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite; float32 stays float32, anything else becomes float64.
    kind : {"masking", "gaussian", "salt_and_pepper"}
        ``"masking"``: each entry set to 0 with probability ``level``;
        ``"gaussian"``: N(0, level^2) added to each entry;
        ``"salt_and_pepper"``: each entry, with probability ``level``, set
        to 0 or 1 by a fair coin (Vincent et al. 2010, section 4.1).
    level : float >= 0
        A probability in [0, 1] for ``"masking"`` and
        ``"salt_and_pepper"``, a standard deviation for ``"gaussian"``.
    key : int in [0, 2**64 - 1]
        Seed of the counter-based generator: the same key gives the same
        noise, whatever the number of threads.

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Raises
    ------
    ValueError, TypeError
        Naming the argument: ``X`` not a finite real 2-D array (sparse
        included), ``kind`` unknown, ``level`` negative, NaN or inf (or
        above 1 for a probability), ``key`` not an int in range.

    Examples
    --------
    >>> import numpy as np
    >>> Xc = corrupt(np.ones((100, 100)), "masking", 0.25, key=0)
    >>> bool(abs((Xc == 0).mean() - 0.25) < 0.02)
    True
    """
    if kind != "gaussian" and level > 1:
        raise ValueError(f"corrupt: level is a probability for kind={kind!r} and must lie "
                         f"in [0, 1]; got {level}.")
    return _corrupt_batch(check_float_array(X, "corrupt"), kind, level, key)


def _corrupt_batch(X, kind, level, key):
    """:func:`corrupt` without validation, for the training loop's mini-batches.

    ``X`` is a C-contiguous float array and the other arguments are valid.
    """
    out = np.empty_like(X)
    t = X.dtype.type
    key = np.uint64(key)
    if kind == "masking":
        _k.pick(_k.mask_noise, X.size)(X, key, t(level), t(0), out)
    elif kind == "gaussian":
        _k.pick(_k.gaussian_noise, X.size)(X, key, t(level), out)
    else:
        _k.pick(_k.salt_and_pepper_noise, X.size)(X, key, t(level), t(0), t(1), out)
    return out


# -------------------------------------------------------------- estimators

_COMMON_PARAMS_DOC = """\
    n_components : int, default=256
        Number of hidden units.
    hidden_activation : {"sigmoid", "tanh", "relu", "linear"}, default="sigmoid"
        Activation of the code units.
    visible_activation : {"auto", "sigmoid", "tanh", "relu", "linear"}, default="auto"
        Activation of the reconstruction; ``"auto"`` is ``"sigmoid"`` for
        the cross-entropy loss and ``"linear"`` for the squared error.
    loss : {"squared_error", "cross_entropy"}, default="squared_error"
        Reconstruction loss per sample: ``1/2 |r - x|^2`` or the binary
        cross-entropy ``-sum x log r + (1 - x) log(1 - r)`` (needs a
        sigmoid reconstruction and data in [0, 1]).
    tied_weights : bool, default=True
        Decode with the transpose of the encoder weights; if False, learn a
        separate ``decoder_components_``.
    init : {"glorot", "xavier", "he", "small", "sparse"}, default="glorot"
        Weight initialisation (see ``deepzoo.networks.init_weights``).
    solver : {"adam", "sgd", "momentum", "nesterov", "adagrad", "rmsprop"}, default="adam"
        Optimizer (the classes of ``deepzoo.networks``).
    learning_rate : float, default=0.001
        (Initial) learning rate of the solver.
    momentum : float in [0, 1), default=0.9
        For the ``"momentum"`` and ``"nesterov"`` solvers.
""" + SCHEDULE_PARAMETERS_DOC + """
    alpha : float, default=0.0
        L2 weight decay ``alpha / 2 |W|^2`` (on weights, not biases).
    batch_size : int, default=100
        Mini-batch size (clipped to the number of samples).
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    tol : float, default=1e-4
        Training stops when the training loss (or, with early stopping, the
        validation score) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop on its
        reconstruction score and keep the best parameters.
    validation_fraction : float in (0, 1), default=0.1
        Held-out share for early stopping.
    verbose : int, default=0
        Print one progress line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling, the validation split and
        the corruption."""

_COMMON_ATTRIBUTES_DOC = """\
    components_ : ndarray of shape (n_components, n_features)
        Encoder weights (also the decoder's, transposed, when tied).
    decoder_components_ : ndarray of shape (n_components, n_features)
        Decoder weights; only when ``tied_weights=False``.
    intercept_hidden_ : ndarray of shape (n_components,)
    intercept_visible_ : ndarray of shape (n_features,)
    hidden_activation_ : str
    visible_activation_ : str
        Activations, as keys of ``deepzoo._nn.activations.ACTIVATIONS``
        (the encoder-layer contract that stacks unroll).
    loss_curve_ : list of float
        Mean training objective of each epoch.
    best_loss_ : float
        Lowest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation score (negative mean reconstruction loss) of each epoch,
        with early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_iter_ : int
        Epochs run.
    t_ : int
        Parameter updates (mini-batches) run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string feature names."""


_doc = fill_docstring(common_params=_COMMON_PARAMS_DOC,
                      common_attributes=_COMMON_ATTRIBUTES_DOC)


class _BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Training loop and encoder-layer contract shared by the autoencoders."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_activation": [StrOptions(set(_UNIT_ACTIVATIONS))],
        "visible_activation": [StrOptions({"auto", *_UNIT_ACTIVATIONS})],
        "loss": [StrOptions(set(_LOSSES))],
        "tied_weights": ["boolean"],
        "init": [StrOptions(set(INITIALIZERS))],
        "solver": [StrOptions(set(OPTIMIZERS))],
        **OPTIMIZER_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components, *, hidden_activation, visible_activation, loss,
                 tied_weights, init, solver, learning_rate, learning_rate_schedule, lr_decay,
                 momentum, beta_1, beta_2, epsilon, alpha, batch_size, max_iter, shuffle,
                 tol, n_iter_no_change, early_stopping, validation_fraction, verbose,
                 random_state):
        self.n_components = n_components
        self.hidden_activation = hidden_activation
        self.visible_activation = visible_activation
        self.loss = loss
        self.tied_weights = tied_weights
        self.init = init
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.lr_decay = lr_decay
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.verbose = verbose
        self.random_state = random_state

    # -- hooks the subclasses fill in

    def _spec(self):
        return AutoencoderSpec(self.hidden_activation, self._visible_activation(),
                               self.loss, self.alpha)

    def _corrupt(self, X, rng):
        return X

    def _check_params(self):
        """Domain checks that the constraints cannot express."""

    # -- helpers

    def _visible_activation(self):
        if self.visible_activation != "auto":
            return self.visible_activation
        return "sigmoid" if self.loss == "cross_entropy" else "linear"

    def _check_data(self, X):
        if self.loss == "cross_entropy" and not isinstance(X, RowStream):
            # a stream checks each chunk as it reads it (_stream)
            check_unit_interval(X, type(self).__name__)
        if self.loss == "cross_entropy" and self._visible_activation() != "sigmoid":
            raise ValueError(
                f"loss='cross_entropy' needs visible_activation='sigmoid' (or 'auto'); "
                f"got {self.visible_activation!r}. Use loss='squared_error' for other "
                "reconstructions."
            )

    def _parameter_names(self):
        names = ["components_", "intercept_hidden_", "intercept_visible_"]
        if not self.tied_weights:
            names.append("decoder_components_")
        return names

    def _params(self, key=None):
        # one parameter group: every optimizer key names all parameters
        return [getattr(self, name) for name in self._parameter_names()]

    def _replace_params(self, arrays):
        for name, array in zip(self._parameter_names(), arrays):
            setattr(self, name, array)

    def _decoder_weights(self):
        return self.components_ if self.tied_weights else self.decoder_components_

    def _stream(self, X, reset, caller):
        """Streamed ``X`` (utils/streaming.py), every chunk read once and
        checked before training (the bound of the divergence check, and bad
        data refused before any update)."""
        check = None
        if self.loss == "cross_entropy":
            check = unit_interval_check(f"{type(self).__name__}.{caller}", type(self).__name__)
        stream = training_stream(self, X, caller, reset=reset, batch_size=self.batch_size,
                                 check=check, **({} if reset else {
                                     "dtype": self.components_.dtype,
                                     "n_features": self.n_features_in_}))
        for _ in stream.chunks():
            pass
        return stream

    def _rows(self, X, fn, caller):
        """Row-wise ``fn`` of checked input: streamed input a chunk at a
        time, sparse a block at a time."""
        check_is_fitted(self)
        if is_streamed(X):
            return stream_rows(X, fn, f"{type(self).__name__}.{caller}",
                               self.components_.dtype, self.n_features_in_)
        return by_rows(self._check_input(X), fn)

    def _check_input(self, X):
        """Inference input, converted to the model's dtype."""
        check_is_fitted(self)
        return validate_data(self, X, dtype=self.components_.dtype, reset=False,
                             accept_sparse="csr")

    def _initialize(self, X, rng):
        n_features = X.shape[1]
        dtype = X.dtype
        self.components_ = init_weights(self.init, n_features, self.n_components, rng, dtype)
        self.intercept_hidden_ = np.zeros(self.n_components, dtype=dtype)
        self.intercept_visible_ = np.zeros(n_features, dtype=dtype)
        if not self.tied_weights:
            self.decoder_components_ = init_weights(
                self.init, self.n_components, n_features, rng, dtype).T.copy()
        self.hidden_activation_ = self.hidden_activation
        self.visible_activation_ = self._visible_activation()
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.n_iter_ = 0
        self.t_ = 0
        self._optimizers = {}

    def _epoch(self, X, rng, spec):
        """One pass over ``X`` in mini-batches; returns the mean objective."""
        n = X.shape[0]
        n_batches = n_minibatches(n, self.batch_size)
        optimizer = optimizer_for(self, n_batches)
        params = self._params()
        grads = [np.empty_like(p) for p in params]
        total = 0.0
        for rows in minibatches(n, self.batch_size, rng, self.shuffle):
            batch = X[rows]
            if sp.issparse(batch):
                # one mini-batch made dense at a time: the same values, rows
                # and products as dense input
                batch = batch.toarray()
            value = autoencoder_objective(params, grads, self._corrupt(batch, rng), batch, spec)
            optimizer.step(grads)
            total += value * batch.shape[0]
        self.t_ += n_batches
        return total / n

    def _stream_epoch(self, X, rng, spec):
        """:meth:`_epoch` over the chunks of a stream, in a shuffled order;
        the optimizer's schedule counts the whole epoch's mini-batches."""
        optimizer_for(self, X.n_minibatches(self.batch_size))
        total = 0.0
        for chunk in X.chunks(rng, self.shuffle):
            total += self._epoch(chunk, rng, spec) * chunk.shape[0]
        return total / X.shape[0]

    def _run(self, X, rng, max_epochs, incremental):
        spec = self._spec()
        make_params_updatable(self)
        streamed = isinstance(X, RowStream)
        bound = partial(parameter_bound, X)
        epoch = self._stream_epoch if streamed else self._epoch
        validation_score = None
        if self.early_stopping and not incremental and streamed:
            # the last rows of the file: no random split without reading it whole
            n_val = int(round(self.validation_fraction * X.shape[0]))
            self._check_validation_size(n_val, X.shape[0])
            X, X_val = X.split(n_val)

            def validation_score():
                return float(np.mean(np.concatenate(
                    [self._score_samples(chunk) for chunk in X_val.chunks()])))
        elif self.early_stopping and not incremental:
            n_val = int(round(self.validation_fraction * X.shape[0]))
            self._check_validation_size(n_val, X.shape[0])
            order = rng.permutation(X.shape[0])
            X_val, X = X[order[:n_val]], X[order[n_val:]]
            validation_score = partial(self.score, X_val)
        train_epochs(self, partial(epoch, X, rng, spec), n_epochs=max_epochs,
                     incremental=incremental, bound=bound, validation_score=validation_score)
        return self

    def _check_validation_size(self, n_val, n):
        if n_val < 1 or n_val >= n:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"leaves {n_val} of {n} samples for validation; use more "
                "samples, another validation_fraction or early_stopping=False."
            )

    # -- public API

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on ``X`` from a fresh initialisation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input (CSR; other formats are converted to CSR) is
            made dense one mini-batch at a time and trains exactly as
            its dense equivalent.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        FloatingPointError
            If training diverges (see :mod:`deepzoo._nn.divergence`): a
            parameter or the loss is NaN or inf, a parameter exceeds 1e6
            times the data's largest magnitude, or the loss grows 1e4-fold.
            Like any failed call, it leaves the estimator as it was before
            the call.
        """
        X = self._stream(X, True, "fit") if is_streamed(X) else validate_data(
            self, X, dtype=[np.float64, np.float32], order="C", accept_sparse="csr")
        self._check_params()
        self._check_data(X)
        rng = check_random_state(self.random_state)
        self._initialize(X, rng)
        self._rng = rng
        return self._run(X, rng, self.max_iter, incremental=False)

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over ``X``, starting from the current parameters.

        The first call initialises the model and fixes its dtype (float32 or
        float64); later input is converted to it. The optimizer state
        (moments, update count) carries over between calls; the current
        ``learning_rate`` is used (``set_params`` lowers it). Read-only
        fitted arrays are copied, never written.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input (CSR; other formats are converted to CSR) is
            made dense one mini-batch at a time and trains exactly as
            its dense equivalent.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        FloatingPointError
            If the epoch diverges, as in :meth:`fit`; the estimator is left
            as it was before the call.
        """
        first = not hasattr(self, "components_")
        streamed = is_streamed(X)
        X = self._stream(X, first, "partial_fit") if streamed else validate_data(
            self, X, dtype=[np.float64, np.float32], order="C", reset=first,
            accept_sparse="csr")
        self._check_params()
        self._check_data(X)
        if first:
            self._rng = check_random_state(self.random_state)
            self._initialize(X, self._rng)
        elif not hasattr(self, "_rng"):  # loaded from a file: no scratch state
            self._rng = check_random_state(self.random_state)
            self._optimizers = {}
        if not streamed:
            X = (X.astype(self.components_.dtype) if sp.issparse(X)
                 else np.ascontiguousarray(X, dtype=self.components_.dtype))
        return self._run(X, self._rng, 1, incremental=True)

    @blockwise(width=lambda self: self.components_.shape[0],
               dtype=lambda self: self.components_.dtype)
    def transform(self, X):
        """The code ``f(X @ components_.T + intercept_hidden_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
        """
        return self._rows(X, lambda A: encode(A, self.components_, self.intercept_hidden_,
                                               self.hidden_activation_), "transform")

    def inverse_transform(self, X):
        """The reconstruction ``g(H @ W_dec + intercept_visible_)`` of codes ``H``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        R : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        H = self._check_codes(X)
        return activate(self.visible_activation_, self._decoder_input(H))

    def _decoder_input(self, H):
        """The reconstruction's pre-activation ``H @ W_dec + intercept_visible_``."""
        Z = H @ self._decoder_weights()
        Z += self.intercept_visible_
        return Z

    def _check_codes(self, H):
        H = check_array(H, dtype=self.components_.dtype)
        if H.shape[1] != self.components_.shape[0]:
            raise ValueError(
                f"inverse_transform expects codes with {self.components_.shape[0]} "
                f"columns (n_components); got {H.shape[1]}."
            )
        return H

    @blockwise(width=lambda self: None, dtype=lambda self: np.float64)
    def score_samples(self, X):
        """Negative reconstruction loss of each sample (higher is better).

        The input is not corrupted and no penalty is included: this is
        ``-l(x, inverse_transform(transform(x)))`` with the model's loss.
        The cross-entropy is computed in log space from the reconstruction's
        logits (:func:`deepzoo._nn.losses.binary_cross_entropy_logits`):
        exact however confident the model, with no clipped probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._rows(X, self._score_samples, "score_samples")

    def _score_samples(self, X):
        H = encode(X, self.components_, self.intercept_hidden_, self.hidden_activation_)
        Z = self._decoder_input(H)
        if self.loss == "cross_entropy":
            return -binary_cross_entropy_logits(X, Z)
        return -loss_samples(_LOSSES[self.loss], X, activate(self.visible_activation_, Z))

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: minus the mean reconstruction loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time.
        y : ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags


@_doc
class Autoencoder(_BaseAutoencoder):
    """Autoencoder with one hidden layer, trained by mini-batch backprop.

    Learns ``h = f(x W^T + b_h)`` and ``r = g(h W_dec + b_v)`` to minimise
    the reconstruction loss plus an optional L2 weight decay (Bengio et al.
    2007). With linear units, tied weights and the squared loss on centred
    data it spans the principal subspace of PCA.

    Parameters
    ----------
%(common_params)s

    Attributes
    ----------
%(common_attributes)s

    See Also
    --------
    DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder
    sklearn.neural_network.MLPRegressor : the same network fitted as ``fit(X, X)``.

    References
    ----------
    Bengio, Lamblin, Popovici & Larochelle (2007). Greedy layer-wise training
    of deep networks. NIPS 19.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import Autoencoder
    >>> X = np.random.default_rng(0).random((200, 16))
    >>> ae = Autoencoder(n_components=4, max_iter=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (200, 4)
    """

    def __init__(self, n_components=256, *, hidden_activation="sigmoid",
                 visible_activation="auto", loss="squared_error", tied_weights=True,
                 init="glorot", solver="adam", learning_rate=0.001,
                 learning_rate_schedule="constant", lr_decay=0.5, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, alpha=0.0, batch_size=100, max_iter=200,
                 shuffle=True, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, verbose=0, random_state=None):
        super().__init__(
            n_components, hidden_activation=hidden_activation,
            visible_activation=visible_activation, loss=loss, tied_weights=tied_weights,
            init=init, solver=solver, learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule, lr_decay=lr_decay, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, alpha=alpha,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, tol=tol,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, verbose=verbose,
            random_state=random_state)


@_doc
class DenoisingAutoencoder(_BaseAutoencoder):
    """Denoising autoencoder: reconstruct the clean input from a corrupted copy.

    Each mini-batch is corrupted afresh (masking, additive Gaussian or
    salt-and-pepper noise); the loss compares the reconstruction with the
    clean input (Vincent et al. 2008, 2010). :meth:`transform` encodes the
    clean input.

    Parameters
    ----------
%(common_params)s
    corruption : {"masking", "gaussian", "salt_and_pepper"}, default="masking"
        Noise process (see ``deepzoo.layers._autoencoder.corrupt``).
    corruption_level : float, default=0.25
        Fraction of corrupted entries (masking, salt-and-pepper; below 1) or
        standard deviation of the Gaussian noise.

    Attributes
    ----------
%(common_attributes)s

    See Also
    --------
    Autoencoder, SparseAutoencoder, ContractiveAutoencoder

    References
    ----------
    Vincent, Larochelle, Bengio & Manzagol (2008). Extracting and composing
    robust features with denoising autoencoders. ICML.
    Vincent, Larochelle, Lajoie, Bengio & Manzagol (2010). Stacked denoising
    autoencoders. JMLR 11, 3371-3408.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import DenoisingAutoencoder
    >>> X = np.random.default_rng(0).random((200, 16))
    >>> dae = DenoisingAutoencoder(n_components=8, loss="cross_entropy",
    ...                            max_iter=5, random_state=0).fit(X)
    >>> dae.transform(X).shape
    (200, 8)
    """

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        "corruption": [StrOptions({"masking", "gaussian", "salt_and_pepper"})],
        "corruption_level": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=256, *, hidden_activation="sigmoid",
                 visible_activation="auto", loss="squared_error", tied_weights=True,
                 init="glorot", solver="adam", learning_rate=0.001,
                 learning_rate_schedule="constant", lr_decay=0.5, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, alpha=0.0, batch_size=100, max_iter=200,
                 shuffle=True, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, verbose=0, random_state=None,
                 corruption="masking", corruption_level=0.25):
        super().__init__(
            n_components, hidden_activation=hidden_activation,
            visible_activation=visible_activation, loss=loss, tied_weights=tied_weights,
            init=init, solver=solver, learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule, lr_decay=lr_decay, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, alpha=alpha,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, tol=tol,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, verbose=verbose,
            random_state=random_state)
        self.corruption = corruption
        self.corruption_level = corruption_level

    def _check_params(self):
        if self.corruption != "gaussian" and self.corruption_level >= 1:
            raise ValueError(
                f"corruption={self.corruption!r} needs corruption_level in [0, 1); got "
                f"{self.corruption_level}."
            )

    def _corrupt(self, X, rng):
        if self.corruption_level == 0:
            return X
        key = rng.randint(np.iinfo(np.int64).max, dtype=np.int64)
        return _corrupt_batch(X, self.corruption, self.corruption_level, key)


@_doc
class SparseAutoencoder(_BaseAutoencoder):
    """Autoencoder with sparse codes: KL-divergence sparsity and an L1 code penalty.

    Adds ``sparsity_weight * sum_j KL(rho || rho_hat_j)``, where ``rho_hat_j``
    is the mean activation of hidden unit ``j`` over the mini-batch (the
    UFLDL sparse autoencoder; sigmoid hidden units), and
    ``code_l1 * mean_i |h_i|_1``.

    Parameters
    ----------
%(common_params)s
    sparsity_target : float in (0, 1), default=0.05
        Target mean activation ``rho`` of each hidden unit.
    sparsity_weight : float, default=3.0
        Weight ``beta`` of the KL penalty (0 switches it off).
    code_l1 : float, default=0.0
        Weight of the L1 penalty on the codes.

    Attributes
    ----------
%(common_attributes)s

    See Also
    --------
    Autoencoder, DenoisingAutoencoder, ContractiveAutoencoder
    SparseCoding : codes by optimisation instead of an encoder.

    References
    ----------
    Ng (2011). Sparse autoencoder. CS294A lecture notes (UFLDL).

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import SparseAutoencoder
    >>> X = np.random.default_rng(0).random((200, 16))
    >>> sae = SparseAutoencoder(n_components=32, max_iter=20, random_state=0).fit(X)
    >>> bool(sae.transform(X).mean() < 0.5)
    True
    """

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "code_l1": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=256, *, hidden_activation="sigmoid",
                 visible_activation="auto", loss="squared_error", tied_weights=True,
                 init="glorot", solver="adam", learning_rate=0.001,
                 learning_rate_schedule="constant", lr_decay=0.5, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, alpha=0.0, batch_size=100, max_iter=200,
                 shuffle=True, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, verbose=0, random_state=None,
                 sparsity_target=0.05, sparsity_weight=3.0, code_l1=0.0):
        super().__init__(
            n_components, hidden_activation=hidden_activation,
            visible_activation=visible_activation, loss=loss, tied_weights=tied_weights,
            init=init, solver=solver, learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule, lr_decay=lr_decay, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, alpha=alpha,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, tol=tol,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, verbose=verbose,
            random_state=random_state)
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.code_l1 = code_l1

    def _check_params(self):
        if self.sparsity_weight and self.hidden_activation != "sigmoid":
            raise ValueError(
                "The KL sparsity penalty needs mean activations in (0, 1), so "
                f"hidden_activation='sigmoid'; got {self.hidden_activation!r}. "
                "Use sparsity_weight=0 with code_l1 > 0 for other activations."
            )

    def _spec(self):
        return super()._spec()._replace(
            sparsity_target=self.sparsity_target, sparsity_weight=self.sparsity_weight,
            code_l1=self.code_l1)


@_doc
class ContractiveAutoencoder(_BaseAutoencoder):
    """Contractive autoencoder: penalise the Jacobian of the encoder.

    Adds ``contraction * mean_i |dh(x_i)/dx_i|_F^2``; for ``h = f(W x + b)``
    this is ``sum_j f'(z_j)^2 |W_j|^2`` (Rifai et al. 2011, eq. 6 for
    sigmoid units).

    Parameters
    ----------
%(common_params)s
    contraction : float, default=0.1
        Weight ``lambda`` of the Jacobian penalty.

    Attributes
    ----------
%(common_attributes)s

    See Also
    --------
    Autoencoder, DenoisingAutoencoder, SparseAutoencoder

    References
    ----------
    Rifai, Vincent, Muller, Glorot & Bengio (2011). Contractive
    auto-encoders: explicit invariance during feature extraction. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import ContractiveAutoencoder
    >>> X = np.random.default_rng(0).random((200, 16))
    >>> cae = ContractiveAutoencoder(n_components=8, max_iter=5, random_state=0).fit(X)
    >>> cae.transform(X).shape
    (200, 8)
    """

    _parameter_constraints = {
        **_BaseAutoencoder._parameter_constraints,
        "contraction": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=256, *, hidden_activation="sigmoid",
                 visible_activation="auto", loss="squared_error", tied_weights=True,
                 init="glorot", solver="adam", learning_rate=0.001,
                 learning_rate_schedule="constant", lr_decay=0.5, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, alpha=0.0, batch_size=100, max_iter=200,
                 shuffle=True, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, verbose=0, random_state=None,
                 contraction=0.1):
        super().__init__(
            n_components, hidden_activation=hidden_activation,
            visible_activation=visible_activation, loss=loss, tied_weights=tied_weights,
            init=init, solver=solver, learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule, lr_decay=lr_decay, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, alpha=alpha,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, tol=tol,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, verbose=verbose,
            random_state=random_state)
        self.contraction = contraction

    def _spec(self):
        return super()._spec()._replace(contraction=self.contraction)
