"""Deep autoencoder: a stack unrolled into encoder + mirrored decoder."""

import numpy as np
from sklearn.base import TransformerMixin

from .._nn.losses import binary_cross_entropy_logits, loss_samples
from ..stacks._stack import check_layer_sizes
from ..utils._compat import StrOptions, _fit_context, check_is_fitted, validate_data
from ..utils.streaming import RowStream, blockwise, is_streamed
from ..utils._docstrings import fill_docstring
from ..utils._progress import announces_compilation
from ..utils._transaction import transactional
from ..utils.validation import check_codes, check_unit_interval
from ._base import BaseNetwork
from ._finetuned import (
    FIT_RAISES_DOC,
    SHARED_ATTRIBUTES_DOC,
    SHARED_PARAMETERS_DOC,
    X_STREAMED_DOC,
)

__all__ = ["DeepAutoencoder"]


@fill_docstring(params=SHARED_PARAMETERS_DOC, attrs=SHARED_ATTRIBUTES_DOC)
class DeepAutoencoder(TransformerMixin, BaseNetwork):
    """Deep autoencoder: unrolled stack, fine-tuned on reconstruction.

    The stack's encoders form the encoder; the decoder mirrors them, each
    layer initialised with its layer's decoder weights (the transposed
    encoder weights for tied layers: Hinton & Salakhutdinov 2006, Fig. 1)
    and visible biases; after unrolling the weights are untied and all are
    fine-tuned on the reconstruction loss. Before fine-tuning the network's
    reconstruction equals the stack's down-pass ``stack.inverse_transform(
    stack.transform(X))`` bit for bit. With ``pretrained=None`` it is a
    randomly initialised deep autoencoder of the same shape.

    Parameters
    ----------
%(params)s
    code_activation : {"linear", "sigmoid", "tanh", "relu"}, default="linear"
        Activation of the code layer when ``pretrained`` is None (the paper's
        code units are linear).
    output_activation : {"sigmoid", "linear"}, default="sigmoid"
        Output units when ``pretrained`` is None.
    loss : {"auto", "binary_cross_entropy", "squared_error"}, default="auto"
        ``"auto"``: cross-entropy for sigmoid outputs (inputs must lie in
        [0, 1]), squared error otherwise.

    Attributes
    ----------
    n_encoder_layers_ : int
        Layers up to the code (the first half of ``coefs_``).
    loss_ : str
        The loss that was trained.
%(attrs)s

    See Also
    --------
    FineTunedClassifier, Stack, StackedAutoencoder

    References
    ----------
    Hinton and Salakhutdinov, "Reducing the dimensionality of data with
    neural networks", Science 313, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import DeepAutoencoder
    >>> X = np.random.default_rng(0).random((200, 20))
    >>> ae = DeepAutoencoder(hidden_layer_sizes=(16, 4), max_iter=5,
    ...                      random_state=0).fit(X)
    >>> ae.transform(X).shape, ae.inverse_transform(ae.transform(X)).shape
    ((200, 4), (200, 20))
    """

    _parameter_constraints = {
        **BaseNetwork._parameter_constraints,
        "code_activation": [StrOptions({"linear", "sigmoid", "tanh", "relu"})],
        "output_activation": [StrOptions({"sigmoid", "linear"})],
        "loss": [StrOptions({"auto", "binary_cross_entropy", "squared_error"})],
    }

    def __init__(self, pretrained=None, *, hidden_layer_sizes=(100,), activation="sigmoid",
                 init="glorot", solver="adam", learning_rate=0.001,
                 learning_rate_schedule="constant", lr_decay=0.5, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, batch_size=100, max_iter=200, cg_maxiter=3, alpha=0.0, dropout=0.0,
                 max_norm=None, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-4, shuffle=True, random_state=None,
                 verbose=False, code_activation="linear", output_activation="sigmoid",
                 loss="auto"):
        self.pretrained = pretrained
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.lr_decay = lr_decay
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.cg_maxiter = cg_maxiter
        self.alpha = alpha
        self.dropout = dropout
        self.max_norm = max_norm
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.loss = loss

    def _build(self, X, n_outputs, rng):
        dtype = X.dtype
        layers = self._pretrained_layers(X)
        if layers:
            enc = [(lay.weights, lay.intercept, lay.activation) for lay in layers]
            dec = [(lay.decoder_weights, lay.decoder_intercept, lay.decoder_activation)
                   for lay in reversed(layers)]
        else:
            sizes = [X.shape[1]] + check_layer_sizes(self.hidden_layer_sizes)
            n = len(sizes) - 1
            acts = [self.activation] * (n - 1) + [self.code_activation]
            enc = [(*self._new_layer(sizes[i], sizes[i + 1], rng, dtype, acts[i]), acts[i])
                   for i in range(n)]
            dec_acts = [self.activation] * (n - 1) + [self.output_activation]
            dec = [(*self._new_layer(sizes[n - i], sizes[n - i - 1], rng, dtype,
                                     dec_acts[i]), dec_acts[i]) for i in range(n)]
        layers = enc + dec
        self._set_layers([np.asarray(W, dtype=dtype) for W, _, _ in layers],
                         [np.asarray(b, dtype=dtype) for _, b, _ in layers],
                         [a for _, _, a in layers])
        self.n_encoder_layers_ = len(enc)
        out = self.activations_[-1]
        if self.loss == "auto":
            self.loss_ = "binary_cross_entropy" if out == "sigmoid" else "squared_error"
        else:
            self.loss_ = self.loss
        if self.loss_ == "binary_cross_entropy" and out != "sigmoid":
            raise ValueError(
                f"loss='binary_cross_entropy' needs sigmoid output units; the "
                f"network's output activation is {out!r}. Use loss='squared_error'."
            )

    @property
    def _loss(self):
        return self.loss_

    def _validation_rows(self, X, Y):
        return -loss_samples(self._loss, Y, self._output(X))

    def _prepare(self, X, reset, caller):
        """Validated ``X``, or a stream of it whose every chunk read is
        checked as :meth:`_check_targets` checks in-memory data (the loss
        is known once the network is built, before the first read)."""
        if not is_streamed(X):
            return validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)
        name = f"DeepAutoencoder.{caller}"

        def check(chunk, where):
            try:
                self._check_targets(chunk)
            except ValueError as e:
                raise ValueError(f"{name}: {where} of X: {e}") from None

        return self._stream(X, reset, caller, check=check)

    def _check_targets(self, X):
        if self._loss == "binary_cross_entropy":
            check_unit_interval(X, "DeepAutoencoder with cross-entropy loss")

    def _train(self, X, incremental):
        """Check the targets of in-memory ``X`` (a stream checks each chunk)
        and train on reconstructing it."""
        if isinstance(X, RowStream):
            self._fit(X, None, incremental=incremental)
        else:
            self._check_targets(X)
            self._fit(X, X, incremental=incremental)

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_docstring(fit_raises=FIT_RAISES_DOC, x_streamed=X_STREAMED_DOC)
    def fit(self, X, y=None):
        """Unroll the stack (fitting it first if needed) and fine-tune.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
%(x_streamed)s
        y : ignored

        Returns
        -------
        self : DeepAutoencoder

%(fit_raises)s
        """
        X = self._prepare(X, reset=True, caller="fit")
        self._start(X, X.shape[1], reset=True)
        self._train(X, incremental=False)
        return self

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None):
        """One epoch over ``X``; the first call builds the network.

        An unfitted ``pretrained`` stack is fitted on the first call's data.
        No validation split is made (``early_stopping`` applies to ``fit``).
        The first call fixes the network's dtype; later input is converted to
        it, the current ``learning_rate`` is used (``set_params`` lowers it)
        and read-only fitted arrays are copied, never written.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed as in :meth:`fit`.
        y : ignored

        Returns
        -------
        self : DeepAutoencoder

        Raises
        ------
        FloatingPointError
            If the epoch diverges, as in :meth:`fit`; the estimator is left
            as it was before the call.
        """
        first = not hasattr(self, "coefs_")
        X = self._prepare(X, reset=first, caller="partial_fit")
        if not first:
            X = self._check_dtype(X)
        self._start(X, X.shape[1], reset=first)
        self._train(X, incremental=True)
        return self

    @blockwise(width=lambda self: self.coefs_[self.n_encoder_layers_ - 1].shape[0], dtype=lambda self: self.coefs_[0].dtype)
    def transform(self, X):
        """The code: output of the encoder half.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_code)
        """
        acts, _ = self._forward(self._input(X), n_layers=self.n_encoder_layers_)
        return acts[-1]

    def inverse_transform(self, X):
        """Decode codes back to the input space (the decoder half).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_code)

        Returns
        -------
        ndarray of shape (n_samples, n_features)

        Raises
        ------
        ValueError
            If ``X`` is not a finite 2-D array with ``n_code`` columns.
        """
        check_is_fitted(self, "coefs_")
        H = check_codes(X, self.coefs_[self.n_encoder_layers_].shape[1],
                        "DeepAutoencoder.inverse_transform", dtype=self.coefs_[0].dtype)
        acts, _ = self._forward(H, start=self.n_encoder_layers_)
        return acts[-1]

    def reconstruct(self, X):
        """``inverse_transform(transform(X))`` in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        return self._output(self._input(X))

    def score_samples(self, X):
        """Negative reconstruction loss of each sample.

        The cross-entropy is computed in log space from the output logits
        (:func:`deepzoo._nn.losses.binary_cross_entropy_logits`): exact
        however confident the network, with no clipped probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)

        Raises
        ------
        ValueError
            If the loss is the cross-entropy and ``X`` lies outside [0, 1],
            which ``fit`` refuses too.
        """
        X = self._input(X)
        # the cross-entropy of data outside [0, 1] is no likelihood: refused, as by fit
        self._check_targets(X)
        if self._loss == "binary_cross_entropy":
            return -binary_cross_entropy_logits(X, self._output_logits(X))
        return -loss_samples(self._loss, X, self._output(X))

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` (higher is better)."""
        return float(np.mean(self.score_samples(X)))
