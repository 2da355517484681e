"""Stacked (denoising) autoencoders, trained greedily layer by layer."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from .._nn.optimizers import OPTIMIZERS
from ..layers import Autoencoder, DenoisingAutoencoder
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from ..utils._progress import announces_compilation
from ..utils._transaction import transactional
from ..utils.streaming import is_streamed
from ..utils.validation import check_unit_interval
from ._stack import FittedStackMixin, Stack, check_layer_sizes, partial_fit_layers

__all__ = ["StackedAutoencoder"]


class StackedAutoencoder(FittedStackMixin, TransformerMixin, BaseEstimator):
    """Greedy stack of autoencoders, plain or denoising.

    Layer ``l`` is an :class:`deepzoo.Autoencoder` (``corruption_level=0``)
    or a :class:`deepzoo.DenoisingAutoencoder` trained to reconstruct the
    code of layer ``l - 1`` (Bengio et al. 2007; Vincent et al. 2010). The
    fitted layers sit in ``steps_`` like a :class:`Stack`'s, so the
    networks unroll it the same way. For per-layer settings beyond these,
    build a :class:`Stack` of autoencoders directly.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(500, 500)
    corruption_level : float or sequence of float, default=0.0
        Corruption of each layer's input during its training (one value for
        all layers, or one per layer); 0 gives plain autoencoders.
    corruption : {"masking", "gaussian", "salt_and_pepper"}, default="masking"
    hidden_activation : {"sigmoid", "tanh", "relu", "linear"}, default="sigmoid"
    loss : {"cross_entropy", "squared_error"}, default="cross_entropy"
        Reconstruction loss of every layer (cross-entropy needs inputs and
        sigmoid codes in [0, 1]).
    tied_weights : bool, default=True
    solver : str, default="adam"
        Optimizer of the layers (see :class:`deepzoo.Autoencoder`).
    learning_rate : float, default=0.001
        Initial learning rate of every layer.
    batch_size : int, default=100
    max_iter : int, default=20
        Epochs of each layer.
    random_state : int, RandomState instance or None, default=None
    verbose : bool, default=False

    Notes
    -----
    Data too large for memory (an ``h5py.Dataset``, a ``numpy.memmap``)
    train greedily as in memory, each layer reading its input through the
    layers below a chunk at a time (:mod:`deepzoo.utils.streaming`).
    :meth:`partial_fit` trains the layers together, one epoch each per
    call, bottom-up.

    Attributes
    ----------
    steps_ : list of (str, estimator)
        The fitted autoencoders, bottom first.
    n_iter_ : int
        Epochs of the longest-trained layer (early stopping may end some
        layers sooner).
    n_features_in_ : int

    See Also
    --------
    Stack, DBN, deepzoo.FineTunedClassifier

    References
    ----------
    Vincent, Larochelle, Lajoie, Bengio and Manzagol, "Stacked denoising
    autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import StackedAutoencoder
    >>> X = np.random.default_rng(0).random((100, 12))
    >>> sae = StackedAutoencoder(hidden_layer_sizes=(8, 4), corruption_level=0.25,
    ...                          max_iter=2, random_state=0).fit(X)
    >>> sae.transform(X).shape
    (100, 4)
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "corruption_level": [Interval(Real, 0, None, closed="left"), "array-like"],
        "corruption": [StrOptions({"masking", "gaussian", "salt_and_pepper"})],
        "hidden_activation": [StrOptions({"sigmoid", "tanh", "relu", "linear"})],
        "loss": [StrOptions({"cross_entropy", "squared_error"})],
        "tied_weights": ["boolean"],
        "solver": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes=(500, 500), *, corruption_level=0.0,
                 corruption="masking", hidden_activation="sigmoid", loss="cross_entropy",
                 tied_weights=True, solver="adam", learning_rate=0.001, batch_size=100,
                 max_iter=20, random_state=None, verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.corruption_level = corruption_level
        self.corruption = corruption
        self.hidden_activation = hidden_activation
        self.loss = loss
        self.tied_weights = tied_weights
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose

    def _layers(self, rng):
        sizes = np.asarray(check_layer_sizes(self.hidden_layer_sizes))
        try:
            levels = np.atleast_1d(np.asarray(self.corruption_level, dtype=float))
        except (TypeError, ValueError):
            levels = np.array([np.nan])  # not numbers: refused below
        if levels.ndim != 1 or levels.size not in (1, sizes.size) \
                or not np.all((levels >= 0) & np.isfinite(levels)):
            raise ValueError(
                f"corruption_level must be one finite value >= 0 or a flat sequence "
                f"of one per layer ({sizes.size}); got {self.corruption_level!r}."
            )
        if self.loss == "cross_entropy" and self.hidden_activation != "sigmoid" \
                and sizes.size > 1:
            # Each layer above the first reconstructs the codes below it,
            # which cross-entropy needs in [0, 1]: only sigmoid codes are.
            raise ValueError(
                f"loss='cross_entropy' needs hidden_activation='sigmoid' in a stack of "
                f"{sizes.size} layers (the codes of one layer are the next one's "
                f"targets, and {self.hidden_activation!r} codes leave [0, 1]); use "
                "hidden_activation='sigmoid' or loss='squared_error'."
            )
        levels = np.broadcast_to(levels, sizes.shape)
        seeds = rng.randint(np.iinfo(np.int32).max, size=sizes.size)
        common = dict(hidden_activation=self.hidden_activation, loss=self.loss,
                      tied_weights=self.tied_weights, solver=self.solver,
                      learning_rate=self.learning_rate, batch_size=self.batch_size,
                      max_iter=self.max_iter, verbose=self.verbose)
        steps = []
        for i, (size, level, seed) in enumerate(zip(sizes, levels, seeds)):
            if level > 0:
                layer = DenoisingAutoencoder(int(size), corruption=self.corruption,
                                             corruption_level=float(level),
                                             random_state=int(seed), **common)
            else:
                layer = Autoencoder(int(size), random_state=int(seed), **common)
            steps.append((f"ae{i + 1}", layer))
        return steps

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train each autoencoder on the code of the one below.

        All or nothing: if a layer fails, the stack is left as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input (``h5py.Dataset``, ``numpy.memmap``) stays on
            disk (see the Notes).
        y : ignored

        Returns
        -------
        self : StackedAutoencoder
        """
        if not is_streamed(X):
            X = validate_data(self, X, dtype=[np.float64, np.float32])
        rng = check_random_state(self.random_state)
        self.steps_ = Stack(self._layers(rng)).fit(X).steps_
        return self._finish()

    def _finish(self):
        self.n_iter_ = max(int(layer.n_iter_) for _, layer in self.steps_)
        self.n_features_in_ = self.steps_[0][1].n_features_in_
        return self

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def score(self, X, y=None):
        """The top autoencoder's score of the codes below it: minus its
        mean reconstruction loss of its own input (higher is better), what
        model selection (``GridSearchCV``, ``dask_ml``) maximises when no
        scoring is given, as :meth:`deepzoo.Stack.score`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float

        Raises
        ------
        ValueError
            With the cross-entropy loss, for values outside [0, 1], which
            :meth:`fit` refuses too.
        """
        check_is_fitted(self, "steps_")
        if not is_streamed(X) and self.steps_[0][1].loss == "cross_entropy":
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
            check_unit_interval(X, type(self).__name__)
        return self._top_score(X)

    def partial_fit(self, X, y=None):
        """One epoch of every layer on ``X``, bottom-up.

        The first call builds the layers. Each layer trains on the codes
        of the layers below as this call has just updated them: the layers
        learn together (online), not one after the other as in :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input is read a chunk at a time.
        y : ignored

        Returns
        -------
        self : StackedAutoencoder
        """
        if not hasattr(self, "steps_"):
            self.steps_ = self._layers(check_random_state(self.random_state))
        partial_fit_layers(self.steps_, X)
        return self._finish()
