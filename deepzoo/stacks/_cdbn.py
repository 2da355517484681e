"""Convolutional deep belief network: a greedy stack of convolutional RBMs."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from .._kernels.conv import detection_shape, pooled_shape
from ..layers import ConvolutionalRBM
from ..layers._conv_rbm import IMAGES_DOC, _images_as_rows, _pair, image_geometry
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from ..utils._docstrings import fill_docstring
from ..utils._progress import announces_compilation
from ..utils._transaction import transactional
from ._stack import Stack

__all__ = ["ConvolutionalDBN"]


def _per_layer(value, n_layers, name, check):
    """One value per layer from a scalar or a sequence of ``n_layers``
    values, each passed through ``check``."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n_layers
    if len(values) != n_layers:
        raise ValueError(f"{name} must be one value for every layer or one per layer "
                         f"({n_layers}); got {value!r}.")
    return [check(v) for v in values]


def _positive_rate(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"learning_rate values must be finite numbers > 0; got {value!r}.")
    return float(value)


def _positive_int(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"n_filters must be ints >= 1 (one per layer); got {value!r}.")
    return int(value)


class ConvolutionalDBN(TransformerMixin, BaseEstimator):
    """Convolutional deep belief network, trained greedily layer by layer.

    Layer ``l`` is a :class:`deepzoo.ConvolutionalRBM` trained on the pooled
    maps of layer ``l - 1`` (Lee, Grosse, Ranganath & Ng 2009): its images
    have one channel per filter below. The bottom layer's visible units are
    binary or Gaussian; the layers above are binary (pooling probabilities
    lie in [0, 1]).

    Parameters
    ----------
    n_filters : sequence of int, default=(24, 40)
        Filters of each layer, bottom first; its length is the number of
        layers.
    filter_shape : int, (int, int) per layer, or sequence, default=10
        Filter ``(height, width)`` of each layer: one int for every layer,
        or one entry (an int or a pair) per layer.
    pool_shape : int or sequence, default=2
        Pooling blocks of each layer, given as ``filter_shape``.
    image_shape : tuple of int, default=None
        Shape of the input images, as for :class:`deepzoo.ConvolutionalRBM`.
    visible_unit : {"bernoulli", "gaussian"}, default="bernoulli"
        Visible units of the bottom layer.
    output : {"top", "concat"}, default="top"
        What :meth:`transform` returns: the top layer's pooled maps, or the
        pooled maps of every layer side by side (bottom first).
    learning_rate : float or sequence of float, default=0.1
        One rate for every layer or one per layer (a Gaussian bottom layer
        needs a smaller one than the binary layers above it).
    batch_size : int, default=10
    n_iter : int, default=10
        Epochs of each layer.
    k : int, default=1
    initial_momentum, final_momentum : float, default=0.5, 0.9
    momentum_switch : int, default=5
    weight_decay : float, default=0.0002
    sparsity_target : float, default=0.02
    sparsity_cost : float, default=0.5
        Training settings of every layer (see
        :class:`deepzoo.ConvolutionalRBM`).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    steps_ : list of (str, ConvolutionalRBM)
        The fitted layers, bottom first, named ``crbm1``, ``crbm2``, ...
    n_features_in_ : int

    See Also
    --------
    deepzoo.ConvolutionalRBM, deepzoo.DBN, deepzoo.Stack

    References
    ----------
    Lee, H., Grosse, R., Ranganath, R. & Ng, A. Y. (2009). Convolutional deep
    belief networks for scalable unsupervised learning of hierarchical
    representations. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import ConvolutionalDBN
    >>> X = (np.random.default_rng(0).random((20, 12, 12)) < 0.3).astype(float)
    >>> cdbn = ConvolutionalDBN(n_filters=(4, 6), filter_shape=3, pool_shape=2,
    ...                         n_iter=2, random_state=0).fit(X)
    >>> cdbn.transform(X).shape
    (20, 24)
    >>> cdbn.set_params(output="concat").transform(X).shape
    (20, 124)
    """

    _parameter_constraints = {
        "n_filters": ["array-like"],
        "filter_shape": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "pool_shape": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "image_shape": [tuple, list, None],
        "visible_unit": [StrOptions({"bernoulli", "gaussian"})],
        "output": [StrOptions({"top", "concat"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), tuple, list],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "initial_momentum": [Interval(Real, 0, 1, closed="left")],
        "final_momentum": [Interval(Real, 0, 1, closed="left")],
        "momentum_switch": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_cost": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_filters=(24, 40), *, filter_shape=10, pool_shape=2, image_shape=None,
                 visible_unit="bernoulli", output="top", learning_rate=0.1, batch_size=10,
                 n_iter=10, k=1, initial_momentum=0.5, final_momentum=0.9, momentum_switch=5,
                 weight_decay=0.0002, sparsity_target=0.02, sparsity_cost=0.5,
                 random_state=None, verbose=0):
        self.n_filters = n_filters
        self.filter_shape = filter_shape
        self.pool_shape = pool_shape
        self.image_shape = image_shape
        self.visible_unit = visible_unit
        self.output = output
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.momentum_switch = momentum_switch
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.random_state = random_state
        self.verbose = verbose

    def _layers(self, shape, rng):
        """The unfitted layers for images of ``shape`` ``(H, W, C)``, each
        given the image shape of the pooled maps below it."""
        if not isinstance(self.n_filters, (list, tuple, np.ndarray)) \
                or np.ndim(self.n_filters) != 1 or len(self.n_filters) == 0:
            raise ValueError("n_filters must be a non-empty sequence of ints >= 1, one per "
                             f"layer; got {self.n_filters!r}.")
        n_filters = [_positive_int(v) for v in self.n_filters]
        n_layers = len(n_filters)
        filters = _per_layer(self.filter_shape, n_layers, "filter_shape",
                             lambda v: _pair(v, "filter_shape"))
        pools = _per_layer(self.pool_shape, n_layers, "pool_shape",
                           lambda v: _pair(v, "pool_shape"))
        rates = _per_layer(self.learning_rate, n_layers, "learning_rate", _positive_rate)
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_layers)
        steps = []
        for i in range(n_layers):
            if filters[i][0] > shape[0] or filters[i][1] > shape[1]:
                below = "the images" if i == 0 else f"the pooled maps of layer {i}"
                raise ValueError(
                    f"layer {i + 1}: filter_shape {filters[i]} does not fit in {below}, of "
                    f"(height, width) {shape[:2]}; use smaller filters or pools, or fewer "
                    "layers.")
            steps.append((f"crbm{i + 1}", ConvolutionalRBM(
                n_filters[i], filter_shape=filters[i], pool_shape=pools[i], image_shape=shape,
                visible_unit=self.visible_unit if i == 0 else "bernoulli", output="pooled",
                learning_rate=rates[i], batch_size=self.batch_size, n_iter=self.n_iter,
                k=self.k, initial_momentum=self.initial_momentum,
                final_momentum=self.final_momentum, momentum_switch=self.momentum_switch,
                weight_decay=self.weight_decay, sparsity_target=self.sparsity_target,
                sparsity_cost=self.sparsity_cost, verbose=self.verbose,
                random_state=int(seeds[i]))))
            shape = (*pooled_shape(detection_shape(shape, filters[i]), pools[i]), n_filters[i])
        return steps

    def _rows(self, X, reset):
        """2-D rows of ``X`` and the shape of its images (3-D/4-D input), or
        None for 2-D input."""
        X, shape = _images_as_rows(X)
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32], order="C")
        if reset and shape is not None and self.image_shape is not None \
                and image_geometry(self.image_shape, X.shape[1]) != shape:
            raise ValueError(
                f"X holds images of shape {shape}, but image_shape={self.image_shape!r}; "
                "leave image_shape None for 3-D or 4-D input, or pass 2-D rows.")
        return X, shape

    @fill_docstring(images=IMAGES_DOC)
    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train each layer on the pooled maps of the one below.

        All or nothing: if a layer fails, the network is left as it was.

        Parameters
        ----------
%(images)s
        y : Ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If a layer's filters do not fit in its input maps, a per-layer
            setting has the wrong length, or binary visible units get
            values outside [0, 1].
        """
        X, shape = self._rows(X, reset=True)
        shape = shape or image_geometry(self.image_shape, X.shape[1])
        steps = self._layers(shape, check_random_state(self.random_state))
        self.steps_ = Stack(steps).fit(X).steps_
        return self

    @fill_docstring(images=IMAGES_DOC)
    def transform(self, X):
        """Pooled maps of the top layer, or of every layer side by side.

        Parameters
        ----------
%(images)s

        Returns
        -------
        ndarray of shape (n_samples, n_out)
            Each layer's pooling probabilities, flattened channels-last
            (see :meth:`deepzoo.ConvolutionalRBM.transform`).
        """
        check_is_fitted(self)
        X, shape = self._rows(X, reset=False)
        fitted = self.steps_[0][1].image_shape_
        if shape is not None and shape != fitted:
            raise ValueError(f"X holds images of shape {shape}; this {type(self).__name__} "
                             f"was fitted on images of shape {fitted}.")
        outputs = []
        H = X
        for _, layer in self.steps_:
            H = layer.transform(H)
            outputs.append(H)
        return np.hstack(outputs) if self.output == "concat" else H

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
