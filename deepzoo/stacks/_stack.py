"""The generic greedy layer-wise stack and the encoder-layer contract reader."""

import time
from collections import namedtuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if

from .._nn.activations import encode
from ..utils._compat import _fit_context, check_is_fitted, validate_params
from ..utils._progress import announces_compilation, report_progress
from ..utils._transaction import transactional
from ..utils.streaming import TransformedRows, blockwise, is_streamed
from ..utils.validation import check_codes

__all__ = ["Stack", "EncoderLayer", "FittedStackMixin", "check_layer_sizes", "encoder_layer",
           "decode", "fit_greedily", "partial_fit_layers"]

#: What a network needs from one pretrained encoder layer. ``weights`` has the
#: layout of ``components_`` (n_out, n_in); ``decoder_weights`` is laid out the
#: same way for the decoding direction, (n_in, n_out) of the layer, C-contiguous.
EncoderLayer = namedtuple(
    "EncoderLayer",
    ["weights", "intercept", "activation",
     "decoder_weights", "decoder_intercept", "decoder_activation"],
)

_CONTRACT = ("components_", "intercept_hidden_", "intercept_visible_",
             "hidden_activation_", "visible_activation_")


def check_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a list of positive ints, or a clear error."""
    arr = np.atleast_1d(np.asarray(sizes))
    # numpy turns (True, 3) into integers: look at the elements for bools.
    has_bool = any(isinstance(s, (bool, np.bool_))
                   for s in np.asarray(sizes, dtype=object).ravel())
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) \
            or np.any(arr < 1) or has_bool:
        raise ValueError(
            "hidden_layer_sizes must be a non-empty sequence of positive "
            f"integers; got {sizes!r}."
        )
    return [int(s) for s in arr]


def encoder_layer(layer):
    """Read a fitted layer through the encoder-layer contract.

    Only the contract's names are used (``components_``,
    ``intercept_hidden_``, ``intercept_visible_``, ``hidden_activation_``,
    ``visible_activation_`` and, for untied layers, ``decoder_components_``),
    never the layer's class.

    Parameters
    ----------
    layer : estimator
        A fitted feed-forward encoder layer.

    Returns
    -------
    EncoderLayer
        The decoder weights are a C-contiguous ``(n_features, n_components)``
        array, so the decoding step is ``encode(H, decoder_weights, ...)``
        with the same memory layout as every other layer of a network.

    Raises
    ------
    TypeError
        If ``layer`` does not expose the contract.
    """
    missing = [name for name in _CONTRACT if not hasattr(layer, name)]
    if missing:
        raise TypeError(
            f"{type(layer).__name__} cannot be unrolled into a network: it does "
            f"not expose {', '.join(missing)} (the encoder-layer contract of "
            "docs/ARCHITECTURE.md). Only feed-forward encoders (RBMs, "
            "autoencoders) can be unrolled; put other transformers in a "
            "Pipeline before the network."
        )
    W_dec = getattr(layer, "decoder_components_", None)
    if W_dec is None:
        W_dec = layer.components_
    return EncoderLayer(
        layer.components_, layer.intercept_hidden_, layer.hidden_activation_,
        np.ascontiguousarray(W_dec.T), layer.intercept_visible_,
        layer.visible_activation_,
    )


@validate_params({"H": ["array-like"], "layer": [EncoderLayer]},
                 prefer_skip_nested_validation=True)
def decode(H, layer):
    """Reconstruction of the input of ``layer`` from its code ``H``.

    Parameters
    ----------
    H : array-like of shape (n_samples, n_components)
        Finite codes.
    layer : EncoderLayer
        As returned by :func:`encoder_layer`.

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        If ``H`` is not 2-D, has the wrong number of columns or contains
        NaN or inf.
    """
    return _decode(check_codes(H, layer.decoder_weights.shape[1], "decode"), layer)


def layer_input(X, below):
    """What a layer above ``below`` (fitted steps, bottom first) trains on.

    In-memory ``X`` is transformed through them; streamed ``X``
    (:mod:`deepzoo.utils.streaming`: an ``h5py.Dataset``, a
    ``numpy.memmap``...) becomes a :class:`TransformedRows`, which runs each
    chunk it reads through the steps, so the intermediate representation
    is never held whole.
    """
    if not below:
        return X
    if is_streamed(X):
        return TransformedRows(X, below)
    for step in below:
        X = step.transform(X)
    return X


def fit_greedily(steps, X, y=None, on_fitted=None):
    """Fit clones of ``steps`` bottom-up, each on the output of those below.

    The one greedy loop of the stacks; a DBN whose layers are
    ``BernoulliRBM`` steps trains from streamed data through it unchanged.

    Parameters
    ----------
    steps : list of (str, estimator)
        Unfitted; cloned, never modified.
    X : array-like, streamed array-like (h5py, memmap) or sparse matrix
        Streamed input stays on disk: each layer reads its input through
        the fitted layers below, a chunk at a time.
    y : passed to every step's ``fit``.
    on_fitted : callable, optional
        ``on_fitted(k, name, width)`` after step ``k`` (from 1).

    Returns
    -------
    list of (str, estimator)
        The fitted clones, bottom first.
    """
    fitted = []
    Xt = X
    streamed = is_streamed(X)
    for k, (name, step) in enumerate(steps, start=1):
        est = clone(step)
        if streamed:
            Xt = layer_input(X, [e for _, e in fitted])
            est.fit(Xt, y)
            width = est.transform(Xt[0:1]).shape[1]
        else:
            Xt = est.fit_transform(Xt, y) if hasattr(est, "fit_transform") \
                else est.fit(Xt, y).transform(Xt)
            width = np.shape(Xt)[1]
        fitted.append((name, est))
        if on_fitted is not None:
            on_fitted(k, name, width)
    return fitted


def partial_fit_layers(fitted, X, y=None):
    """One ``partial_fit`` of every fitted step, bottom-up.

    Each step sees the output of the steps below as this call has just
    updated them (streamed ``X`` through :class:`TransformedRows`).

    Parameters
    ----------
    fitted : list of (str, estimator)
        Steps with ``partial_fit``; updated in place.
    X : array-like, streamed array-like or sparse matrix
    y : passed to every step's ``partial_fit``.
    """
    below = []
    for _, step in fitted:
        step.partial_fit(layer_input(X, below), y)
        below.append(step)


def _decode(H, layer):
    """:func:`decode` of codes the caller has checked (the down-passes)."""
    return encode(H, layer.decoder_weights, layer.decoder_intercept,
                  layer.decoder_activation)


def _top_width(stack):
    return stack.transform(np.zeros((1, stack.n_features_in_))).shape[1]


def _top_dtype(stack):
    return stack.transform(np.zeros((1, stack.n_features_in_))).dtype


class FittedStackMixin:
    """Up-pass, down-pass and unrolling of the fitted layers in ``steps_``."""

    @blockwise(width=_top_width, dtype=_top_dtype)
    def transform(self, X):
        """Up-pass: the representation at the top of the stack.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input (``h5py.Dataset``, ``numpy.memmap``) is read a
            chunk at a time by the bottom step; a dask array gives a dask
            array, computed block by block.

        Returns
        -------
        ndarray of shape (n_samples, n_top)
        """
        check_is_fitted(self, "steps_")
        Xt = X
        for _, step in self.steps_:
            Xt = step.transform(Xt)
        return Xt

    def _top_score(self, X, y=None):
        """The top step's ``score`` of the output of the steps below it."""
        check_is_fitted(self, "steps_")
        Xt = X
        for _, step in self.steps_[:-1]:
            Xt = step.transform(Xt)
        return self.steps_[-1][1].score(Xt, y)

    def inverse_transform(self, X):
        """Down-pass: map top representations back to the input space.

        Contract layers decode with :func:`decode` (the same step a
        :class:`deepzoo.DeepAutoencoder` takes before fine-tuning); other
        steps use their own ``inverse_transform``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_top)

        Returns
        -------
        ndarray of shape (n_samples, n_features)

        Raises
        ------
        ValueError
            If the codes are not 2-D, have the wrong number of columns or
            contain NaN or inf.
        """
        check_is_fitted(self, "steps_")
        Xt = X
        for name, step in reversed(self.steps_):
            if all(hasattr(step, a) for a in _CONTRACT):
                Xt = check_codes(Xt, step.components_.shape[0],
                                 f"{type(self).__name__}.inverse_transform")
                Xt = _decode(Xt, encoder_layer(step))
            elif hasattr(step, "inverse_transform"):
                Xt = step.inverse_transform(Xt)
            else:
                raise TypeError(
                    f"Stack step {name!r} ({type(step).__name__}) has no "
                    "inverse_transform and no decoder weights; the stack cannot "
                    "be run downwards."
                )
        return Xt

    def encoder_layers(self):
        """The fitted steps read through the encoder-layer contract.

        Returns
        -------
        list of EncoderLayer
            Bottom first; what the networks unroll.
        """
        check_is_fitted(self, "steps_")
        return [encoder_layer(step) for _, step in self.steps_]


class Stack(FittedStackMixin, TransformerMixin, BaseEstimator):
    """Greedy layer-wise stack of unsupervised layers, with Pipeline semantics.

    Each step is cloned and fitted on the ``transform`` of the step before
    it (Bengio et al. 2007; Hinton, Osindero & Teh 2006). Steps may be any
    deepzoo layer or any scikit-learn transformer; steps that expose the
    encoder-layer contract can later be unrolled into a network by
    :class:`deepzoo.FineTunedClassifier`, :class:`deepzoo.FineTunedRegressor`
    or :class:`deepzoo.DeepAutoencoder`.

    Parameters
    ----------
    steps : list of (str, estimator)
        Named transformers, bottom layer first. They are never modified:
        ``fit`` trains clones, kept in ``steps_``. Nested parameters are set
        as ``<step>__<parameter>``, as in :class:`sklearn.pipeline.Pipeline`.
        Data too large for memory (an ``h5py.Dataset``, a ``numpy.memmap``)
        are streamed: each layer trains on its input read through the
        fitted layers below, a chunk at a time, never materialised
        (:mod:`deepzoo.utils.streaming`; steps that do not stream, such as
        scikit-learn's, receive their whole input in memory).
    verbose : bool, default=False
        Print one line per fitted step.

    Attributes
    ----------
    steps_ : list of (str, estimator)
        The fitted clones, bottom first.
    n_features_in_ : int
        Number of input features.

    See Also
    --------
    DBN : a stack of Bernoulli RBMs with generative fine-tuning.
    StackedAutoencoder : a stack of (denoising) autoencoders.

    References
    ----------
    Bengio, Lamblin, Popovici and Larochelle, "Greedy layer-wise training of
    deep networks", NIPS 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.preprocessing import StandardScaler
    >>> from deepzoo import Stack
    >>> X = np.random.default_rng(0).random((20, 6))
    >>> stack = Stack([("scale", StandardScaler()), ("pca", PCA(n_components=2))])
    >>> stack.fit(X).transform(X).shape
    (20, 2)
    >>> stack.set_params(pca__n_components=3).fit(X).transform(X).shape
    (20, 3)
    """

    _parameter_constraints = {"steps": [list], "verbose": ["boolean"]}

    def __init__(self, steps, *, verbose=False):
        self.steps = steps
        self.verbose = verbose

    # -- Pipeline-style nested parameters ---------------------------------
    def get_params(self, deep=True):
        out = super().get_params(deep=False)
        if not deep:
            return out
        steps = self.steps
        if not _is_named_list(steps):
            return out
        for name, step in steps:
            out[name] = step
            if hasattr(step, "get_params"):
                for key, value in step.get_params(deep=True).items():
                    out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        # Order as in Pipeline: the whole list, then whole steps, then nested.
        if "steps" in params:
            self.steps = params.pop("steps")
        if _is_named_list(self.steps):
            names = [name for name, _ in self.steps]
            for key in [k for k in params if k in names]:
                i = names.index(key)
                self.steps = list(self.steps)
                self.steps[i] = (key, params.pop(key))
        if params:
            super().set_params(**params)
        return self

    def _validate_steps(self):
        if not _is_named_list(self.steps) or not self.steps:
            raise ValueError(
                "Stack expects steps as a non-empty list of (name, estimator) "
                f"pairs; got {self.steps!r}."
            )
        names = [name for name, _ in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"Stack step names must be unique; got {names}.")
        for name in names:
            if "__" in name:
                raise ValueError(
                    f"Stack step name {name!r} contains '__', which is reserved "
                    "for nested parameters; rename the step."
                )
        for name, step in self.steps:
            if not (hasattr(step, "fit") and hasattr(step, "transform")):
                raise TypeError(
                    f"Stack step {name!r} ({type(step).__name__}) must implement "
                    "fit and transform."
                )

    # Nested validation stays on: the steps are user-given estimators whose
    # own parameters must be checked when they are fitted (as in Pipeline).
    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit each step, in turn, on the transform of the steps below it.

        All or nothing: if any step fails, the stack keeps its previous
        fitted steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored by unsupervised steps, passed to every step's ``fit``.

        Returns
        -------
        self : Stack
        """
        self._validate_steps()
        t0 = time.perf_counter()

        def on_fitted(k, name, width):
            if self.verbose:
                report_progress(self, k, f"{name} output width", width,
                                time.perf_counter() - t0)

        self.steps_ = fit_greedily(self.steps, X, y, on_fitted)
        self._set_n_features()
        return self

    def _set_n_features(self):
        first = self.steps_[0][1]
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_

    def _steps_learn_incrementally(self):
        return _is_named_list(self.steps) and bool(self.steps) and all(
            hasattr(step, "partial_fit") for _, step in self.steps)

    @available_if(_steps_learn_incrementally)
    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None):
        """One ``partial_fit`` of every step, bottom-up (steps with ``partial_fit`` only).

        The first call clones the steps. Each step then trains one call on
        the output of the steps below as this call has just updated them:
        unlike :meth:`fit`, which trains each layer to the end before the
        next starts, the layers learn together, the upper ones on a moving
        representation (the online form of greedy training, what
        ``dask_ml.wrappers.Incremental`` calls block by block). For greedy
        training from data too large for memory, pass the ``h5py.Dataset``
        or ``numpy.memmap`` to :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input is read a chunk at a time, as in :meth:`fit`.
        y : passed to every step's ``partial_fit``.

        Returns
        -------
        self : Stack
        """
        if not hasattr(self, "steps_"):
            self._validate_steps()
            self.steps_ = [(name, clone(step)) for name, step in self.steps]
        partial_fit_layers(self.steps_, X, y)
        self._set_n_features()
        return self

    def _top_scores(self):
        return _is_named_list(self.steps) and bool(self.steps) \
            and hasattr(self.steps[-1][1], "score")

    @available_if(_top_scores)
    def score(self, X, y=None):
        """The top step's ``score`` of the output of the steps below it.

        For a stack of RBMs, the top RBM's pseudo-log-likelihood of the
        codes it was trained on; what model selection (``GridSearchCV``,
        ``dask_ml``) maximises when no scoring is given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : passed to the top step's ``score``.

        Returns
        -------
        score : float
        """
        return self._top_score(X, y)

    @property
    def named_steps(self):
        """Unfitted steps by name."""
        return dict(self.steps)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if _is_named_list(self.steps) and self.steps:
            step_tags = [get_tags(step) for _, step in self.steps]
            tags.input_tags.sparse = step_tags[0].input_tags.sparse
            # NaN passes through only if every step lets it through.
            tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in step_tags)
        return tags


def _is_named_list(steps):
    return isinstance(steps, (list, tuple)) and all(
        isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], str) for s in steps
    )
