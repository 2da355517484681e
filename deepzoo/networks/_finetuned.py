"""Fine-tuned classifier and regressor: a pretrained stack plus an output layer."""

from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.metrics import r2_score
from sklearn.utils.multiclass import check_classification_targets

from .._nn.losses import log_softmax
from .._nn.training import SCHEDULE_PARAMETERS_DOC
from ..stacks._stack import check_layer_sizes
from ..utils._compat import Interval, _fit_context, validate_data
from ..utils._docstrings import fill_docstring
from ..utils._progress import announces_compilation
from ..utils._transaction import transactional
from ..utils.streaming import blockwise, is_streamed, streamed_targets
from ._base import BaseNetwork

__all__ = ["FineTunedClassifier", "FineTunedRegressor", "SHARED_PARAMETERS_DOC",
           "SHARED_ATTRIBUTES_DOC", "FIT_RAISES_DOC", "X_STREAMED_DOC"]

SHARED_PARAMETERS_DOC = """\
    pretrained : estimator or None, default=None
        A :class:`deepzoo.Stack`, :class:`deepzoo.DBN`,
        :class:`deepzoo.StackedAutoencoder` or single encoder layer, fitted
        or not (an unfitted one is cloned and fitted on ``X`` first; the
        argument itself is never modified). Every layer is unrolled through
        the encoder-layer contract. ``None`` gives a plain network drawn
        with ``init``: the no-pretraining baseline.
    hidden_layer_sizes : sequence of int, default=(100,)
        Hidden layers when ``pretrained`` is None (ignored otherwise).
    activation : {"sigmoid", "tanh", "relu", "linear"}, default="sigmoid"
        Hidden activation when ``pretrained`` is None.
    init : {"glorot", "xavier", "small", "he", "sparse"}, default="glorot"
        Initialisation of every layer that is not pretrained (Glorot
        weights of sigmoid units are scaled by 4, as Glorot & Bengio
        advise).
    solver : {"adam", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "cg"}, \
default="adam"
        An optimizer of :mod:`deepzoo._nn.optimizers`, or ``"cg"``: a few
        iterations of scipy's conjugate gradient per mini-batch (Hinton &
        Salakhutdinov 2006 used 3 line searches on batches of 1000).
    learning_rate : float, default=0.001
        Step size of the first-order solvers.
    momentum : float, default=0.9
        For ``"momentum"`` and ``"nesterov"``.
""" + SCHEDULE_PARAMETERS_DOC + """
    batch_size : int, default=100
    max_iter : int, default=200
        Epochs (passes over the training data); 0 unrolls without training.
    cg_maxiter : int, default=3
        Conjugate-gradient iterations per mini-batch with ``solver="cg"``.
    alpha : float, default=0.0
        L2 penalty on the weights (not the biases).
    dropout : float, default=0.0
        Inverted-dropout rate of the hidden units during training.
    max_norm : float or None, default=None
        Cap on the L2 norm of each hidden unit's incoming weights.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, score it every epoch,
        stop after ``n_iter_no_change`` epochs without improvement by
        ``tol`` and keep the weights of the best score.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Without early stopping, the training loss must improve by ``tol``.
    tol : float, default=1e-4
    shuffle : bool, default=True
        Reshuffle the training data every epoch.
    random_state : int, RandomState instance or None, default=None
        Draws the initial weights, the shuffling, the validation split and
        the dropout masks.
    verbose : bool, default=False
        Print the training loss after every epoch."""

SHARED_ATTRIBUTES_DOC = """\
    coefs_ : list of ndarray
        Weights of each layer, shape (n_out, n_in) (the layout of
        ``components_``).
    intercepts_ : list of ndarray
        Biases of each layer.
    activations_ : list of str
        Activation of each layer.
    n_layers_ : int
        Number of layers including the input.
    pretrained_ : estimator or None
        The fitted stack the network was unrolled from.
    loss_curve_ : list of float
        Mean training loss of every epoch.
    best_loss_ : float or None
        Smallest mean training loss of an epoch so far (None before the
        first epoch).
    validation_scores_ : list of float
        Validation score of every epoch (with ``early_stopping``).
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs run.
    n_features_in_ : int"""


class _SupervisedNetwork(TransformerMixin, BaseNetwork):
    _parameter_constraints = {
        **BaseNetwork._parameter_constraints,
        "top_only_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, pretrained=None, *, hidden_layer_sizes=(100,), activation="sigmoid",
                 init="glorot", solver="adam", learning_rate=0.001,
                 learning_rate_schedule="constant", lr_decay=0.5, momentum=0.9, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, batch_size=100, max_iter=200, top_only_iter=0, cg_maxiter=3, alpha=0.0,
                 dropout=0.0, max_norm=None, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-4, shuffle=True, random_state=None,
                 verbose=False):
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
        self.top_only_iter = top_only_iter
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

    def _top_only_iter(self):
        return self.top_only_iter if self.pretrained_ is not None else 0

    def _build(self, X, n_outputs, rng):
        dtype = X.dtype
        layers = self._pretrained_layers(X)
        if layers:
            weights = [layer.weights.astype(dtype) for layer in layers]
            intercepts = [layer.intercept.astype(dtype) for layer in layers]
            activations = [layer.activation for layer in layers]
        else:
            weights, intercepts = [], []
            fan_in = X.shape[1]
            for size in check_layer_sizes(self.hidden_layer_sizes):
                W, b = self._new_layer(fan_in, size, rng, dtype, self.activation)
                weights.append(W)
                intercepts.append(b)
                fan_in = size
            activations = [self.activation] * len(weights)
        fan_in = weights[-1].shape[0] if weights else X.shape[1]
        W, b = self._new_layer(fan_in, n_outputs, rng, dtype, self._output_activation)
        self._set_layers(weights + [W], intercepts + [b], activations + [self._output_activation])

    @blockwise(width=lambda self: self.coefs_[-1].shape[1], dtype=lambda self: self.coefs_[0].dtype)
    def transform(self, X):
        """Top hidden representation: the input of the output layer.

        Before fine-tuning (``max_iter=0`` or only ``top_only_iter``
        epochs) it equals the pretrained stack's ``transform`` bit for bit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_hidden_top)
        """
        return self._hidden(self._input(X))


# The X of every network's fit: data too large for memory.
X_STREAMED_DOC = """\
            An ``h5py.Dataset``, a ``numpy.memmap`` or another array-like
            too large for memory is read a chunk at a time, the chunks in a
            shuffled order every epoch (:mod:`deepzoo.utils.streaming`); the
            labels ``y`` stay in memory and early stopping holds out the last
            rows. An unfitted ``pretrained`` stack is fitted on it, greedily
            and a chunk at a time where its layers stream."""

# The Raises section of every network's fit.
FIT_RAISES_DOC = """\
        Raises
        ------
        FloatingPointError
            If training diverges (see :mod:`deepzoo._nn.divergence`): a
            parameter or the loss is NaN or inf, a parameter exceeds 1e6
            times the largest magnitude of ``X`` and ``y``, or the loss grows
            1e4-fold. Like any failed call, it leaves the estimator as it
            was before the call."""


@fill_docstring(params=SHARED_PARAMETERS_DOC, attrs=SHARED_ATTRIBUTES_DOC)
class FineTunedClassifier(ClassifierMixin, _SupervisedNetwork):
    """Classifier unrolled from a pretrained stack, fine-tuned by backprop.

    The stack's layers become the hidden layers; a softmax output layer is
    added and all weights are trained on the softmax cross-entropy
    (Hinton & Salakhutdinov 2006; Bengio et al. 2007). With
    ``pretrained=None`` it is a plain multilayer perceptron, the honest
    baseline for the benefit of pretraining.

    Parameters
    ----------
%(params)s
    top_only_iter : int, default=0
        With a pretrained stack, the first epochs train only the new output
        layer (Hinton's code: 5 epochs) so that large random gradients do
        not wreck the pretrained features.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
%(attrs)s

    See Also
    --------
    FineTunedRegressor, DeepAutoencoder, DBN

    References
    ----------
    Hinton and Salakhutdinov, "Reducing the dimensionality of data with
    neural networks", Science 313, 2006.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import FineTunedClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> clf = FineTunedClassifier(hidden_layer_sizes=(32,), max_iter=30, learning_rate=0.01,
    ...                           random_state=0).fit(X[:1000], y[:1000])
    >>> clf.score(X[1000:], y[1000:]) > 0.9
    True
    """

    _output_activation = "softmax"
    _loss = "softmax_cross_entropy"

    def _targets(self, y, dtype):
        return (y[:, None] == self.classes_[None, :]).astype(dtype)

    def _stratify(self, Y):
        counts = Y.sum(axis=0)
        return Y.argmax(axis=1) if counts.min() >= 2 else None

    def _validation_rows(self, X, Y):
        return self._output(X).argmax(axis=1) == Y.argmax(axis=1)

    def _prepare(self, X, y, reset, caller):
        if is_streamed(X):
            X = self._stream(X, reset, caller)
            y = streamed_targets(y, X)
        else:
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=reset)
        check_classification_targets(y)
        return X, y

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_docstring(fit_raises=FIT_RAISES_DOC, x_streamed=X_STREAMED_DOC)
    def fit(self, X, y):
        """Unroll the stack (fitting it first if needed) and fine-tune.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
%(x_streamed)s
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : FineTunedClassifier

%(fit_raises)s
        """
        X, y = self._prepare(X, y, reset=True, caller="fit")
        self.classes_ = np.unique(y)
        self._start(X, len(self.classes_), reset=True)
        self._fit(X, self._targets(y, X.dtype))
        return self

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)``; the first call builds the network.

        An unfitted ``pretrained`` stack is fitted on the first call's data.
        No validation split is made (``early_stopping`` applies to ``fit``).
        The first call fixes the network's dtype; later input is converted to
        it, the current ``learning_rate`` is used (``set_params`` lowers it)
        and read-only fitted arrays are copied, never written.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed as in :meth:`fit`.
        y : array-like of shape (n_samples,)
        classes : array-like, required on the first call
            Every class that will ever appear.

        Returns
        -------
        self : FineTunedClassifier

        Raises
        ------
        FloatingPointError
            If the epoch diverges, as in :meth:`fit`; the estimator is left
            as it was before the call.
        """
        first = not hasattr(self, "coefs_")
        X, y = self._prepare(X, y, reset=first, caller="partial_fit")
        if first:
            if classes is None:
                raise ValueError(
                    "FineTunedClassifier.partial_fit needs classes=... on the first "
                    "call (every class that will appear)."
                )
            self.classes_ = np.unique(classes)
        else:
            X = self._check_dtype(X)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"partial_fit got labels {unknown.tolist()} not in classes_="
                f"{self.classes_.tolist()}."
            )
        self._start(X, len(self.classes_), reset=first)
        self._fit(X, self._targets(y, X.dtype), incremental=True)
        return self

    @blockwise(width=lambda self: self.coefs_[-1].shape[0], dtype=lambda self: self.coefs_[0].dtype)
    def predict_proba(self, X):
        """Class probabilities of the softmax output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._output(self._input(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed in log space.

        ``log_softmax`` of the output layer's logits: exact and finite
        however confident the network (``log`` of a probability that
        rounds to 0 would be ``-inf``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._output_logits(self._input(X)))

    @blockwise(width=lambda self: None, dtype=lambda self: self.classes_.dtype)
    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


@fill_docstring(params=SHARED_PARAMETERS_DOC, attrs=SHARED_ATTRIBUTES_DOC)
class FineTunedRegressor(RegressorMixin, _SupervisedNetwork):
    """Regressor unrolled from a pretrained stack, fine-tuned by backprop.

    The stack's layers become the hidden layers; a linear output layer is
    added and all weights are trained on the squared error
    ``1/2 sum_j (y_j - f_j(x))^2`` averaged over samples. With
    ``pretrained=None`` it is a plain multilayer perceptron.

    Parameters
    ----------
%(params)s
    top_only_iter : int, default=0
        With a pretrained stack, the first epochs train only the new output
        layer.

    Attributes
    ----------
%(attrs)s

    See Also
    --------
    FineTunedClassifier, DeepAutoencoder

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import FineTunedRegressor
    >>> X = np.random.default_rng(0).random((300, 3))
    >>> y = X.sum(axis=1)
    >>> reg = FineTunedRegressor(hidden_layer_sizes=(16,), max_iter=200,
    ...                          learning_rate=0.01, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    """

    _output_activation = "linear"
    _loss = "squared_error"
    # the validation score, R^2, is undefined on a single sample
    _min_validation_samples = 2

    def _prepare(self, X, y, reset, caller):
        if is_streamed(X):
            X = self._stream(X, reset, caller)
            y = streamed_targets(y, X, multi_output=True, y_numeric=True)
        else:
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=reset,
                                 multi_output=True, y_numeric=True)
        # y_numeric converts object arrays only; strings would fail as a bare numpy cast
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"FineTunedRegressor needs numeric targets y; got dtype {y.dtype}. "
                "For class labels use FineTunedClassifier."
            )
        if reset:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        else:
            # the network's dtype, before the targets take it: float64
            # targets must not pass through a float32 batch's dtype
            X = self._check_dtype(X)
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        return X, Y

    def _validation_rows(self, X, Y):
        return self._output(X)

    def _reduce_validation(self, rows, Y):
        return float(r2_score(Y, rows))

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_docstring(fit_raises=FIT_RAISES_DOC, x_streamed=X_STREAMED_DOC)
    def fit(self, X, y):
        """Unroll the stack (fitting it first if needed) and fine-tune.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
%(x_streamed)s
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : FineTunedRegressor

%(fit_raises)s
        """
        X, Y = self._prepare(X, y, reset=True, caller="fit")
        self._start(X, Y.shape[1], reset=True)
        self._fit(X, Y)
        return self

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y):
        """One epoch over ``(X, y)``; the first call builds the network.

        An unfitted ``pretrained`` stack is fitted on the first call's data.
        No validation split is made (``early_stopping`` applies to ``fit``).
        The first call fixes the network's dtype; later input is converted to
        it, the current ``learning_rate`` is used (``set_params`` lowers it)
        and read-only fitted arrays are copied, never written.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed as in :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : FineTunedRegressor

        Raises
        ------
        FloatingPointError
            If the epoch diverges, as in :meth:`fit`; the estimator is left
            as it was before the call.
        """
        first = not hasattr(self, "coefs_")
        X, Y = self._prepare(X, y, reset=first, caller="partial_fit")
        self._start(X, Y.shape[1], reset=first)
        self._fit(X, Y, incremental=True)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @blockwise(width=lambda self: None if self.n_outputs_ == 1 else self.n_outputs_, dtype=lambda self: self.coefs_[0].dtype)
    def predict(self, X):
        """Network output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        out = self._output(self._input(X))
        return out.ravel() if self.n_outputs_ == 1 else out
