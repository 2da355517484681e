"""Convolutional RBM with probabilistic max-pooling (Lee et al. 2009).

Images are channels-last: a row of ``X`` is an image of shape
``(height, width, n_channels)`` flattened in C order, and so is a row of
``transform(X)`` (maps of shape ``(rows, cols, n_filters)``), which is
therefore the input of the next layer of a convolutional DBN as it is.

Energy, with filters ``W^k`` (``filters_[k]``, shape ``(fh, fw, C)``),
hidden biases ``b_k`` (``intercept_hidden_``), visible biases ``c`` per
channel (``intercept_visible_``) and ``(W^k * v)`` the valid correlation:

- binary visible units: ``E(v, h) = -sum_k h^k . (W^k * v + b_k) - c . v``;
- Gaussian visible units (unit variance):
  ``E(v, h) = |v - c|**2 / 2 - sum_k h^k . (W^k * v + b_k)``,

subject to at most one detection unit being on in each ``C x C`` pooling
block of each filter. Then ``p(h | v)`` is a softmax per block (with an
"all off" state), the pooling unit of a block is on when one of its units
is, and ``p(v | h)`` takes the full convolution ``sum_k W^k (*) h^k``:
``sigmoid(. + c)`` or ``N(. + c, 1)``. The free energy sums
``log(1 + sum_block exp(W^k * v + b_k))`` over blocks.
"""

import time
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if

from .._kernels import conv as _conv
from .._kernels import rbm as _k
from .._nn.divergence import check_divergence, parameter_bound
from .._nn.optimizers import updatable
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from ..utils._docstrings import fill_docstring
from ..utils._progress import announces_compilation, report_progress
from ..utils._threads import blas_single_thread
from ..utils._transaction import transactional
from ..utils.validation import check_unit_interval

__all__ = ["ConvolutionalRBM", "IMAGES_DOC"]

# As for the RBMs: the running mean of the hidden activation that the
# sparsity penalty drives towards ``sparsity_target``.
_SPARSITY_DECAY = 0.9
# Patches are built for this many bytes at most when the model is applied
# (transform, free_energy); training builds those of one mini-batch.
_CHUNK_BYTES = 1 << 25
_PARAMETER_ATTRIBUTES = ("filters_", "intercept_hidden_", "intercept_visible_")
# The kernels split a mini-batch (and the images of transform) into blocks
# of about this many patches, which numba's threads share, each running
# single-threaded BLAS products on its own blocks.
_BLOCK_ROWS = 4096

#: The ``X`` of every method of the convolutional models.
IMAGES_DOC = """    X : array-like of shape (n_samples, n_features), or ndarray of shape \
(n_samples, height, width) or (n_samples, height, width, n_channels)
        Images, channels last; a 2-D row is an image flattened in C order
        (``image_shape`` gives its shape; without it, a row is an image of
        height 1: a 1-D signal)."""


def _pair(value, name):
    """``(height, width)`` from an int or a pair of ints >= 1, or a clear error."""
    pair = (value, value) if isinstance(value, Integral) else value
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and v >= 1
                    for v in pair)):
        raise ValueError(f"{name} must be an int >= 1 or a pair (height, width) of them; "
                         f"got {value!r}.")
    return int(pair[0]), int(pair[1])


def image_geometry(image_shape, n_features, name="image_shape"):
    """``(height, width, n_channels)`` of the rows of a 2-D input.

    Parameters
    ----------
    image_shape : tuple or None
        ``(height, width)`` or ``(height, width, n_channels)``; None: one
        row of ``n_features`` values, one channel.
    n_features : int
        Width of the 2-D input.
    name : str, default="image_shape"
        The parameter named in errors.

    Returns
    -------
    tuple of 3 int

    Raises
    ------
    ValueError
        If ``image_shape`` is not 2 or 3 positive ints, or its size is not
        ``n_features``.
    """
    if image_shape is None:
        return 1, n_features, 1
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if shape is None or len(shape) not in (2, 3) or not all(
            isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and v >= 1
            for v in shape):
        raise ValueError(f"{name} must be (height, width) or (height, width, n_channels) "
                         f"with ints >= 1; got {image_shape!r}.")
    shape = tuple(int(v) for v in shape) + ((1,) if len(shape) == 2 else ())
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"{name}={image_shape!r} holds {int(np.prod(shape))} values per image, but X has "
            f"{n_features} features; give the shape of one image (height, width[, n_channels])."
        )
    return shape


def _images_as_rows(X):
    """``(X as 2-D rows, (height, width, n_channels) or None)``: 3-D and 4-D
    arrays are flattened, other input is left to the 2-D validation."""
    ndim = getattr(X, "ndim", None)
    if ndim not in (3, 4):
        return X, None
    X = np.asarray(X)
    shape = X.shape[1:] + ((1,) if ndim == 3 else ())
    return X.reshape(X.shape[0], int(np.prod(shape))), tuple(int(v) for v in shape)


class ConvolutionalRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Convolutional RBM with probabilistic max-pooling.

    ``n_filters`` filters of ``filter_shape`` are shared across the image
    positions (Lee, Grosse, Ranganath & Ng 2009; Norouzi, Ranjbar & Mori
    2009); each filter's detection map is divided into ``pool_shape``
    blocks, of which at most one unit is on, and a block's pooling unit is
    on when one is. Binary or unit-variance Gaussian visible units (for
    whitened images), single- or multi-channel. Trained by CD-k with
    momentum, weight decay and a sparsity target on the detection units.

    Parameters
    ----------
    n_filters : int, default=24
        Number of filters (feature maps).
    filter_shape : int or (int, int), default=10
        ``(height, width)`` of the filters; an int gives square filters.
    pool_shape : int or (int, int), default=2
        ``(height, width)`` of the pooling blocks; 1 is no pooling. Blocks
        at the bottom and right edges are smaller when the pool does not
        divide the detection map.
    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, n_channels)`` of the images
        in the rows of 2-D input (C order, channels last). None: 3-D and
        4-D input give their own shape, and a 2-D row is an image of
        height 1 (a 1-D signal).
    visible_unit : {"bernoulli", "gaussian"}, default="bernoulli"
        Binary visible units (values in [0, 1], used as probabilities) or
        Gaussian units of unit variance (standardise or whiten the images).
    output : {"pooled", "detection"}, default="pooled"
        What :meth:`transform` returns: the pooling units' or the
        detection units' probabilities.
    learning_rate : float, default=0.1
        Learning rate of the filters and biases. The gradients are averaged
        over the mini-batch and over the positions (pixels for the visible
        biases), so the rates of an RBM carry over; Gaussian visible units
        need one or two orders of magnitude less.
    batch_size : int, default=10
        Images per mini-batch.
    n_iter : int, default=10
        Epochs run by ``fit``.
    k : int, default=1
        Gibbs steps per update (CD-k).
    sample_visible : bool, default=False
        Sample the last visible states of CD-k instead of using their means.
    initial_momentum, final_momentum : float, default=0.5, 0.9
        Momentum before and from epoch ``momentum_switch`` on.
    momentum_switch : int, default=5
        First epoch (counting from 0) that uses ``final_momentum``.
    weight_decay : float, default=0.0002
        L2 penalty on the filters (not the biases).
    sparsity_target : float, default=0.02
        Desired mean activation of the detection units.
    sparsity_cost : float, default=0.5
        Strength of the sparsity penalty ``cost * (target - q)`` added to
        the hidden biases' gradient, ``q`` an exponentially decaying average
        (0.9) of each filter's mean detection probability (Lee, Ekanadham &
        Ng 2008); 0 disables it.
    shuffle : bool, default=True
        Shuffle the images before each epoch.
    verbose : int, default=0
        Print the reconstruction error after each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and every sampling step.

    Attributes
    ----------
    filters_ : ndarray of shape (n_filters, filter_height, filter_width, n_channels)
        The filters ``W^k``.
    intercept_hidden_ : ndarray of shape (n_filters,)
        Bias shared by the detection units of each filter.
    intercept_visible_ : ndarray of shape (n_channels,)
        Bias shared by the visible units of each channel.
    image_shape_ : tuple of int
        ``(height, width, n_channels)`` of the training images.
    n_iter_ : int
        Epochs run (``partial_fit`` calls count one each).
    reconstruction_error_ : ndarray of shape (`n_iter_`,)
        Per epoch, the mean over images of ``|x - E[v | h]|**2`` with ``h``
        sampled from ``p(h | x)`` at the time of the update.
    n_features_in_ : int
        Values per image, ``height * width * n_channels``.

    See Also
    --------
    deepzoo.ConvolutionalDBN : a greedy stack of convolutional RBMs.
    deepzoo.BernoulliRBM : the fully connected RBM (a convolutional RBM
        with 1x1 filters and no pooling is one per pixel).

    Notes
    -----
    The correlations are matrix products on image patches (im2col, then
    BLAS; ``deepzoo._kernels.conv``); pooling, sampling and patch
    building are compiled kernels with the counter-based random state of
    the RBMs, so a seed reproduces a run. Training follows the RBM's
    conventions (Hinton's guide): statistics from probabilities, sampled
    hidden states drive the reconstruction, the last visible states are
    means unless ``sample_visible``.

    References
    ----------
    Lee, H., Grosse, R., Ranganath, R. & Ng, A. Y. (2009). Convolutional deep
    belief networks for scalable unsupervised learning of hierarchical
    representations. ICML.
    Norouzi, M., Ranjbar, M. & Mori, G. (2009). Stacks of convolutional
    restricted Boltzmann machines for shift-invariant feature learning. CVPR.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import ConvolutionalRBM
    >>> X = (np.random.default_rng(0).random((20, 64)) < 0.3).astype(float)
    >>> crbm = ConvolutionalRBM(n_filters=4, filter_shape=3, pool_shape=2,
    ...                         image_shape=(8, 8), n_iter=2, random_state=0).fit(X)
    >>> crbm.filters_.shape, crbm.transform(X).shape
    ((4, 3, 3, 1), (20, 36))
    """

    _parameter_constraints = {
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "filter_shape": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "pool_shape": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "image_shape": [tuple, list, None],
        "visible_unit": [StrOptions({"bernoulli", "gaussian"})],
        "output": [StrOptions({"pooled", "detection"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "sample_visible": ["boolean"],
        "initial_momentum": [Interval(Real, 0, 1, closed="left")],
        "final_momentum": [Interval(Real, 0, 1, closed="left")],
        "momentum_switch": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_cost": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_filters=24, *, filter_shape=10, pool_shape=2, image_shape=None,
                 visible_unit="bernoulli", output="pooled", learning_rate=0.1, batch_size=10,
                 n_iter=10, k=1, sample_visible=False, initial_momentum=0.5,
                 final_momentum=0.9, momentum_switch=5, weight_decay=0.0002,
                 sparsity_target=0.02, sparsity_cost=0.5, shuffle=True, verbose=0,
                 random_state=None):
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
        self.sample_visible = sample_visible
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.momentum_switch = momentum_switch
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.shuffle = shuffle
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------ geometry
    def _check_X(self, X, reset):
        """2-D rows in the model's dtype (float64 or float32 on the first
        fit), and the image shape of a first fit."""
        X, shape = _images_as_rows(X)
        dtype = (np.float64, np.float32) if reset else self.filters_.dtype
        X = validate_data(self, X, reset=reset, dtype=dtype, order="C")
        if reset:
            if shape is not None and self.image_shape is not None \
                    and image_geometry(self.image_shape, X.shape[1]) != shape:
                raise ValueError(
                    f"X holds images of shape {shape}, but image_shape={self.image_shape!r}; "
                    "leave image_shape None for 3-D or 4-D input, or pass 2-D rows.")
            shape = shape or image_geometry(self.image_shape, X.shape[1])
            fh, fw = _pair(self.filter_shape, "filter_shape")
            if fh > shape[0] or fw > shape[1]:
                raise ValueError(
                    f"filter_shape {(fh, fw)} does not fit in images of {shape[:2]} "
                    "(height, width); use smaller filters, or give image_shape for 2-D rows "
                    "(without it a row is an image of height 1).")
        elif shape is not None and shape != self.image_shape_:
            raise ValueError(f"X holds images of shape {shape}; this {type(self).__name__} "
                             f"was fitted on images of shape {self.image_shape_}.")
        if self.visible_unit == "bernoulli":
            check_unit_interval(X, type(self).__name__,
                                alternative="visible_unit='gaussian' on standardised images")
        return (X, shape) if reset else X

    def _geometry(self):
        """Image, filter, detection and pooling shapes of the fitted model."""
        height, width, n_channels = self.image_shape_
        n_filters, fh, fw, _ = self.filters_.shape
        detection = _conv.detection_shape((height, width), (fh, fw))
        pool = _pair(self.pool_shape, "pool_shape")
        return dict(image=(height, width, n_channels), filter=(fh, fw), n_filters=n_filters,
                    detection=detection, pool=pool,
                    pooled=_conv.pooled_shape(detection, pool))

    @property
    def _n_features_out(self):
        g = self._geometry()
        maps = g["pooled"] if self.output == "pooled" else g["detection"]
        return maps[0] * maps[1] * g["n_filters"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ---------------------------------------------------------- the layers
    def _block(self):
        """Images per block of the threaded kernels: about ``_BLOCK_ROWS``
        patches, whatever the number of threads (so are the results)."""
        hd, wd = self._geometry()["detection"]
        return max(1, _BLOCK_ROWS // (hd * wd))

    def _hidden_layer(self, V, P, I, key, D, S, pooled, log_z, totals):
        """Detection probabilities ``D`` ``(n, Hd, Wd, K)`` of the images
        ``V`` ``(n, H, W * C)`` through the patches ``P`` and the inputs
        ``I`` (and what ``_conv.pool`` gives into ``S``, ``pooled``,
        ``log_z``, ``totals``)."""
        g = self._geometry()
        fh, fw = g["filter"]
        _conv.detect(V, self._flat_filters(), fh, fw, self.intercept_hidden_, *g["pool"], key,
                     self._block(), P, I, D, S, pooled, log_z, totals)

    def _visible_input(self, S, R, Z):
        """Full convolution ``sum_k W^k (*) h^k`` of the maps ``S`` (rows of
        patches' positions, ``(n * Hd * Wd, K)``) into ``Z`` ``(n, H, W * C)``."""
        fh, fw = self._geometry()["filter"]
        _conv.reconstruct(S, self._flat_filters(), fh, fw, self._block(), R, Z)
        return Z.reshape(Z.shape[0], -1)

    def _flat_filters(self):
        return self.filters_.reshape(self.filters_.shape[0], -1)

    def _visible(self, Z, key, M, S):
        """Means of ``p(v | h)`` into ``M`` (samples into ``S``) from the
        full convolution ``Z`` (visible biases added here)."""
        bias = np.tile(self.intercept_visible_, Z.shape[1] // self.intercept_visible_.size)
        if self.visible_unit == "bernoulli":
            _k.sigmoid_rows(Z, 1.0, bias, 1.0, key, M, S)
        else:
            ones = np.ones_like(bias)
            _k.gaussian_rows(Z, bias, ones, ones, key, M, S)

    def _buffers(self, n):
        """Work arrays of one mini-batch of ``n`` images, positive and
        negative halves stacked so that the weight gradient is one product per
        block of images."""
        g = self._geometry()
        dtype = self.filters_.dtype
        height, width, n_channels = g["image"]
        positions = n * g["detection"][0] * g["detection"][1]
        n_patch = g["filter"][0] * g["filter"][1] * n_channels
        return dict(
            P=np.empty((2 * positions, n_patch), dtype), D=np.empty((2 * positions, g[
                "n_filters"]), dtype), I=np.empty((positions, g["n_filters"]), dtype),
            S=np.empty((positions, g["n_filters"]), dtype),
            R=np.empty((positions, n_patch), dtype),
            Z=np.empty((n, height, width * n_channels), dtype),
            M=np.empty((n, height * width * n_channels), dtype),
            V=np.empty((n, height * width * n_channels), dtype),
            err=np.empty(n, dtype), totals=np.empty((2, g["n_filters"])))

    # ------------------------------------------------------------ training
    def _initialize(self, X, shape, rng):
        dtype = X.dtype
        fh, fw = _pair(self.filter_shape, "filter_shape")
        n_channels = shape[2]
        self.image_shape_ = shape
        # Small random filters, hidden biases 0, visible biases at the
        # log-odds (binary) or the mean (Gaussian) of each channel.
        self.filters_ = (0.01 * rng.standard_normal((self.n_filters, fh, fw, n_channels))
                         ).astype(dtype)
        self.intercept_hidden_ = np.zeros(self.n_filters, dtype=dtype)
        mean = X.reshape(-1, n_channels).mean(axis=0) if X.size else np.zeros(n_channels)
        if self.visible_unit == "bernoulli":
            p = np.clip(mean, 1e-3, 1 - 1e-3)
            self.intercept_visible_ = np.log(p / (1 - p)).astype(dtype)
        else:
            self.intercept_visible_ = mean.astype(dtype)
        self.n_iter_ = 0
        self.reconstruction_error_ = np.empty(0)
        self._rng = rng
        self._initialize_state()

    def _initialize_state(self):
        """Optimiser state (scratch, not saved)."""
        self._velocity = {name: np.zeros_like(getattr(self, name))
                          for name in _PARAMETER_ATTRIBUTES}
        self._mean_hidden = np.full(self.filters_.shape[0], self.sparsity_target,
                                    dtype=self.filters_.dtype)

    def _get_rng(self):
        if getattr(self, "_rng", None) is None:
            self._rng = check_random_state(self.random_state)
        return self._rng

    def _epoch(self, X, epoch):
        """One pass over ``X`` in mini-batches; returns the mean
        reconstruction error per image."""
        rng = self._get_rng()
        n = X.shape[0]
        bs = min(self.batch_size, n)
        momentum = self.initial_momentum if epoch < self.momentum_switch \
            else self.final_momentum
        order = rng.permutation(n) if self.shuffle else None
        keys = _k.draw_keys(rng, (-(-n // bs), 2 * self.k + 1))
        return self._train_batches(X, order, keys, momentum) / n

    def _train_batches(self, X, order, keys, momentum):
        """CD-k over the mini-batches of ``X`` (rows in ``order``, or as
        they are), one row of ``keys`` per mini-batch; returns the summed
        reconstruction error."""
        g = self._geometry()
        height, width, n_channels = g["image"]
        n = X.shape[0]
        bs = min(self.batch_size, n)
        buffers = {}
        total = 0.0
        empty, no_log_z = np.empty((0, 0, 0, 0), X.dtype), np.empty(0)
        for t, start in enumerate(range(0, n, bs)):
            rows = slice(start, start + bs) if order is None else order[start:start + bs]
            v0 = X[rows]
            nb = v0.shape[0]
            if nb not in buffers:
                buffers[nb] = self._buffers(nb)
            b = buffers[nb]
            half = b["I"].shape[0]
            P0, Pn = b["P"][:half], b["P"][half:]
            D0, Dn = b["D"][:half], b["D"][half:]
            shape4 = (nb, *g["detection"], g["n_filters"])
            key = keys[t]
            # positive phase: probabilities for the statistics, samples go on
            self._hidden_layer(v0.reshape(nb, height, width * n_channels), P0, b["I"], key[0],
                               D0.reshape(shape4), b["S"].reshape(shape4), empty, no_log_z,
                               b["totals"][0])
            if self.sparsity_cost > 0:
                self._mean_hidden *= _SPARSITY_DECAY
                self._mean_hidden += (1 - _SPARSITY_DECAY) * b["totals"][0] / half
            for step in range(self.k):
                last = step == self.k - 1
                sample_v = not last or self.sample_visible
                Z = self._visible_input(b["S"], b["R"], b["Z"])
                self._visible(Z, key[1 + 2 * step], b["M"], b["V"] if sample_v else b["V"][:0])
                vn = b["V"] if sample_v else b["M"]
                if step == 0:
                    # data vs E[v | h0]
                    _k.sqerr_rows(v0, b["M"], b["err"])
                    total += float(b["err"].sum(dtype=np.float64))
                self._hidden_layer(vn.reshape(nb, height, width * n_channels), Pn, b["I"],
                                   key[2 + 2 * step], Dn.reshape(shape4),
                                   empty if last else b["S"].reshape(shape4), empty, no_log_z,
                                   b["totals"][1])
            self._step(v0, vn, b, half, momentum)
        return total

    def _step(self, v0, vn, b, positions, momentum):
        """Gradient step with momentum and weight decay from the statistics
        of one mini-batch."""
        n_channels = self.image_shape_[2]
        Dn = b["D"][positions:]
        grad_c = (b["totals"][0] - b["totals"][1]) / positions
        if self.sparsity_cost > 0:
            grad_c += self.sparsity_cost * (self.sparsity_target - self._mean_hidden)
        grad_b = v0.reshape(-1, n_channels).mean(axis=0) - vn.reshape(-1, n_channels).mean(axis=0)
        # [D0; -Dn].T @ [P0; Pn]: the positive minus the negative statistics
        np.negative(Dn, out=Dn)
        hd, wd = self._geometry()["detection"]
        grad_W = np.empty_like(self._flat_filters())
        _conv.weight_gradient(b["D"], b["P"], hd * wd, self._block(), 1.0 / positions, grad_W)
        grad_W -= self.weight_decay * self._flat_filters()
        lr = self.learning_rate
        for name, grad in (("filters_", grad_W), ("intercept_hidden_", grad_c),
                           ("intercept_visible_", grad_b)):
            velocity = self._velocity[name]
            velocity *= momentum
            velocity += lr * grad.reshape(velocity.shape)
            getattr(self, name)[...] += velocity

    def _run(self, X, n_epochs):
        for name in _PARAMETER_ATTRIBUTES:
            # updated in place: a read-only array (loaded from a read-only
            # memory map) is copied first
            setattr(self, name, updatable(getattr(self, name)))
        bound = partial(parameter_bound, X)
        with blas_single_thread():
            self._run_epochs(X, n_epochs, bound)

    def _run_epochs(self, X, n_epochs, bound):
        for _ in range(n_epochs):
            t0 = time.perf_counter()
            err = self._epoch(X, self.n_iter_)
            self.reconstruction_error_ = np.append(self.reconstruction_error_, err)
            self.n_iter_ += 1
            check_divergence(self, [getattr(self, name) for name in _PARAMETER_ATTRIBUTES],
                             self.reconstruction_error_, bound)
            if self.verbose:
                report_progress(self, self.n_iter_, "reconstruction error", err,
                                time.perf_counter() - t0)

    @fill_docstring(images=IMAGES_DOC)
    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on ``X`` for ``n_iter`` epochs of CD-k.

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
            If the filters do not fit in the images, ``image_shape`` does
            not match ``X``, or binary visible units get values outside
            [0, 1].
        FloatingPointError
            If training diverges (see :mod:`deepzoo._nn.divergence`); the
            estimator is left as it was before the call.
        """
        X, shape = self._check_X(X, reset=True)
        self._initialize(X, shape, check_random_state(self.random_state))
        self._run(X, self.n_iter)
        return self

    @fill_docstring(images=IMAGES_DOC)
    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch of CD-k over ``X`` in mini-batches of ``batch_size``.

        The first call fixes the image shape and the dtype; the momentum
        schedule follows the number of calls (``n_iter_``).

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
            As :meth:`fit`, and if later images differ in shape from the
            first ones.
        FloatingPointError
            If the epoch diverges; the estimator is left as it was.
        """
        if not hasattr(self, "filters_"):
            X, shape = self._check_X(X, reset=True)
            self._initialize(X, shape, check_random_state(self.random_state))
        else:
            X = self._check_X(X, reset=False)
            if getattr(self, "_velocity", None) is None:
                # a loaded model: the optimiser state is not saved
                self._initialize_state()
        self._run(X, 1)
        return self

    # ------------------------------------------------------------ inference
    def _in_chunks(self, X, fn):
        """``fn(V)`` over chunks of the images ``V`` ``(n, H, W * C)`` of
        ``X``, concatenated; the chunks bound the patches' memory."""
        g = self._geometry()
        height, width, n_channels = g["image"]
        per_image = (g["detection"][0] * g["detection"][1] * g["filter"][0] * g["filter"][1]
                     * n_channels * X.itemsize)
        step = max(1, _CHUNK_BYTES // per_image)
        V = X.reshape(X.shape[0], height, width * n_channels)
        # One BLAS thread, as in training: the kernels' threads share the
        # blocks of a chunk (BLAS's own threads, on the chain of mid-sized
        # products: transform of 10,000 MNIST images by 40 filters of 6x6,
        # busy 2-core machine, 1.6-2.2 s on one thread, 4.4-6.5 s on two).
        with blas_single_thread():
            parts = [fn(V[start:start + step]) for start in range(0, X.shape[0], step)]
            return np.concatenate(parts) if parts else fn(V)

    def _hidden(self, V, want_pooled, want_log_z):
        """Detection probabilities ``(n, Hd, Wd, K)``, pooled probabilities
        and the hidden part of the free energy of the images ``V``."""
        g = self._geometry()
        n, n_filters = V.shape[0], g["n_filters"]
        positions = n * g["detection"][0] * g["detection"][1]
        n_patch = g["filter"][0] * g["filter"][1] * g["image"][2]
        dtype = self.filters_.dtype
        D = np.empty((n, *g["detection"], n_filters), dtype)
        pooled = np.empty((n if want_pooled else 0, *g["pooled"], n_filters), dtype)
        log_z = np.empty(n if want_log_z else 0)
        # no sample drawn: the key is not used
        self._hidden_layer(V, np.empty((positions, n_patch), dtype),
                           np.empty((positions, n_filters), dtype), np.uint64(0), D,
                           np.empty((0, 0, 0, 0), dtype), pooled, log_z, np.empty(0))
        return D, pooled, log_z

    @fill_docstring(images=IMAGES_DOC)
    def transform(self, X):
        """Pooling (or detection) probabilities, flattened channels-last.

        Parameters
        ----------
%(images)s

        Returns
        -------
        H : ndarray of shape (n_samples, rows * cols * n_filters)
            ``P(p = 1 | v)`` of the pooling units (``output="pooled"``) or
            ``P(h = 1 | v)`` of the detection units, maps of shape
            ``(rows, cols, n_filters)`` flattened in C order.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        pooled = self.output == "pooled"

        def maps(V):
            D, P, _ = self._hidden(V, pooled, False)
            return (P if pooled else D).reshape(V.shape[0], -1)

        return self._in_chunks(X, maps)

    @fill_docstring(images=IMAGES_DOC)
    def free_energy(self, X):
        """Free energy ``F(v) = -log sum_h exp(-E(v, h))`` of each image.

        The sum runs over the hidden states that probabilistic max-pooling
        allows (at most one unit on per block): ``p(v) = exp(-F(v)) / Z``.

        Parameters
        ----------
%(images)s

        Returns
        -------
        F : ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        return self._free_energy(self._check_X(X, reset=False))

    def _free_energy(self, X):
        """:meth:`free_energy` of validated rows."""
        n_channels = self.image_shape_[2]
        c = self.intercept_visible_.astype(np.float64)

        def energy(V):
            hidden = self._hidden(V, False, True)[2]
            pixels = V.reshape(V.shape[0], -1, n_channels).astype(np.float64)
            if self.visible_unit == "bernoulli":
                return -hidden - (pixels @ c).sum(axis=1)
            return -hidden + 0.5 * ((pixels - c) ** 2).sum(axis=(1, 2))

        return self._in_chunks(X, energy)

    def _binary_visible(self):
        return self.visible_unit == "bernoulli"

    @available_if(_binary_visible)
    @fill_docstring(images=IMAGES_DOC)
    def score_samples(self, X):
        """Pseudo-log-likelihood per pixel of each image (binary visible units).

        ``mean_i log p(x_i | x_-i)``, every pixel (and channel) flipped in
        turn to ``1 - x_i`` (exact, deterministic), with
        ``log p(x_i | x_-i) = -log(1 + exp(F(x) - F(x with x_i flipped)))``
        from :meth:`free_energy`: the meaning of
        :meth:`deepzoo.BernoulliRBM.score_samples`, which a convolutional
        RBM with 1x1 filters and no pooling reproduces. It costs
        ``n_features`` free energies per image. Only binary visible units
        have it: the pseudo-likelihood of a Gaussian unit is not tractable
        (as for :class:`deepzoo.GaussianBernoulliRBM`).

        Parameters
        ----------
%(images)s

        Returns
        -------
        pll : ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        n, d = X.shape
        pll = np.empty(n)
        free = self._free_energy(X)
        diagonal = np.arange(d)
        for i in range(n):
            # the d copies of image i, pixel j flipped in copy j
            flipped = np.repeat(X[i:i + 1], d, axis=0)
            flipped[diagonal, diagonal] = 1 - X[i]
            pll[i] = -np.logaddexp(0.0, free[i] - self._free_energy(flipped)).mean()
        return pll

    @available_if(_binary_visible)
    @fill_docstring(images=IMAGES_DOC)
    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: the pseudo-log-likelihood per pixel
        (higher is better).

        Parameters
        ----------
%(images)s
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))
