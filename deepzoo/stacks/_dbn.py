"""Deep belief network: greedy RBM stack, label units, up-down fine-tuning.

Notation of Hinton, Osindero & Teh (2006), with weights in the layout of
``components_`` (one row per upper unit):

- lower layers ``l = 1..L-1`` are directed after unrolling: recognition
  weights ``R_l`` (up, ``h = sigmoid(v @ R_l.T + r_l)``) and generative
  weights ``G_l`` (down, ``v = sigmoid(h @ G_l + g_l)``), tied (``R = G``)
  after greedy training and untied by the up-down algorithm;
- the top layer is an undirected RBM between the penultimate units (and,
  when trained with labels, a group of softmax label units) and the top
  hidden units.
"""

import time
import warnings
from contextlib import nullcontext
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from .._kernels import rbm as _k
from .._kernels._blas import product as _product_into
from .._nn.activations import activate, encode
from .._nn.divergence import check_divergence, parameter_bound
from ..layers import BernoulliRBM
from ..layers._rbm import check_clamp_mask
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
    validate_params,
)
from ..utils._progress import announces_compilation, report_progress
from ..utils._sparse import column_mean
from ..utils import checkpoints
from ..utils._transaction import transactional
from ..utils.streaming import (
    RowStream,
    is_streamed,
    stream_rows,
    streamed_targets,
    training_stream,
)
from ..utils.validation import (
    check_codes,
    check_not_bool,
    check_unit_interval,
    unit_interval_check,
)
from ._stack import EncoderLayer, Stack, _decode, check_layer_sizes, layer_input

__all__ = ["DBN"]


def _sigmoid_layer(X, W, b):
    """Upward step, ``sigmoid(X @ W.T + b)``: the networks' :func:`encode`."""
    return encode(X, W, b, "sigmoid")


def _product(A, B, trans_b=False):
    """``A @ B`` (``A @ B.T`` with ``trans_b``) by the kernels' BLAS: the
    up-down pass alternates its products with the top RBM's epoch kernel,
    and numpy's ``@`` would run them on a second BLAS library whose threads
    fight the first's (``_kernels._blas.product``)."""
    C = np.empty((A.shape[0], B.shape[0] if trans_b else B.shape[1]), A.dtype)
    _product_into(False, trans_b, 1.0, A, B, 0.0, C)
    return C


def _sigmoid_product(A, W, b, trans_b=False):
    """A step of the up-down pass, ``sigmoid(A @ W + b)`` (downward,
    generative weights) or ``sigmoid(A @ W.T + b)`` with ``trans_b``
    (upward, recognition weights), without copying ``W.T``."""
    Z = _product(A, W, trans_b)
    Z += b
    return activate("sigmoid", Z)


def _sample_layer(Z, bias, key):
    """Binary states of ``sigmoid(Z + bias)``, drawn under ``key`` with the
    counter-based generator of the RBM kernels."""
    P, S = np.empty_like(Z), np.empty_like(Z)
    _k.sigmoid_rows(Z, 1.0, bias, 1.0, key, P, S)
    return S


def _softmax(Z):
    return activate("softmax", Z)


_GAUSSIAN_ALTERNATIVE = "a Stack starting with GaussianBernoulliRBM"


def _unit_interval(caller):
    """The check of a streamed chunk: values in [0, 1]."""
    return unit_interval_check(caller, "DBN", alternative=_GAUSSIAN_ALTERNATIVE)


def _has_labels(dbn):
    """predict, predict_proba and score exist once fitted with labels
    (``fit(X, y)`` joins label units to the top RBM)."""
    return getattr(dbn, "label_components_", None) is not None


def _updown_schedule(updown_k, n_updown_iter):
    """``updown_k`` as a tuple of Gibbs steps, one per equal stage of the
    ``n_updown_iter`` up-down epochs; a clear error for anything else."""
    values = np.asarray(updown_k, dtype=object)
    valid = values.ndim <= 1 and values.size > 0 and all(
        isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and v >= 1
        for v in values.ravel())
    if not valid:
        raise ValueError(
            "updown_k must be an int >= 1 or a non-empty sequence of them (the Gibbs "
            f"steps of equal consecutive stages of up-down, e.g. (3, 6, 10)); got {updown_k!r}.")
    steps = tuple(int(v) for v in values.ravel())
    if n_updown_iter % len(steps):
        multiple = len(steps) * max(1, round(n_updown_iter / len(steps)))
        raise ValueError(
            f"updown_k={updown_k!r} splits the up-down epochs into {len(steps)} equal "
            f"stages, but n_updown_iter={n_updown_iter} is not a multiple of {len(steps)}; "
            f"set n_updown_iter to a multiple of {len(steps)} (e.g. {multiple}) or give "
            "updown_k as many values as stages that divide it.")
    return steps


class _Validation:
    """Held-out samples of ``validation_fraction``: the rows (indices into
    the data given to ``fit``, increasing), their inputs and class indices
    once :meth:`split` has run, the DBN up-down starts from (``start``:
    "greedy", or "fitted" for a warm start) and the learned arrays of the
    best up-down epoch so far (:meth:`DBN._learned_state` names)."""

    def __init__(self, rows, start):
        self.rows = rows
        self.start = start
        self.best = None

    def split(self, X, y):
        """The training rows of ``X`` and ``y``; keeps the held-out ones."""
        held = np.zeros(X.shape[0], bool)
        held[self.rows] = True
        self.X, self.y = X[held], y[held]
        return X[~held], y[~held]

    def error(self, dbn):
        """``dbn``'s classification error on the held-out rows."""
        return float(np.mean(dbn._label_log_odds(self.X).argmax(axis=1) != self.y))


class _TopRBM:
    """The top RBM as the RBM kernels see it: a Bernoulli RBM whose last
    visible columns, with labels, are the label units (weights ``[W | U]``,
    visible biases ``[b | d]``, one softmax group).

    Holds working copies (and their momentum); :meth:`store` writes them
    back to the DBN.
    """

    def __init__(self, W, c, b, U=None, d=None):
        self.n_labels = 0 if U is None else U.shape[1]
        self.W = np.hstack([W, U]) if self.n_labels else W.copy()
        self.b = np.concatenate([b, d]) if self.n_labels else b.copy()
        self.c = c.copy()
        self.velocity = {name: np.zeros_like(a) for name, a in self.params().items()}
        # Hidden states of the persistent chains (PCD), None for CD.
        self.chains = None

    def start_chains(self, X, n_chains, rng, Y=None):
        """Persistent chains from hidden states sampled given ``n_chains``
        random rows of ``X`` (rows of :meth:`visible`; or a
        :class:`RowStream` of the penultimate rows, read by index and
        joined to their rows of the one-hot labels ``Y``), as
        :class:`deepzoo.BernoulliRBM` starts its own."""
        picks = rng.randint(X.shape[0], size=n_chains)
        rows = self.visible(X.take(picks), Y[picks]) if isinstance(X, RowStream) else X[picks]
        self.chains_from(rows, rng)

    def chains_from(self, rows, rng):
        """Persistent chains, one per row of :meth:`visible`, from hidden
        states sampled given the rows."""
        p = expit(rows @ self.W.T + self.c)
        self.chains = (rng.random_sample(p.shape) < p).astype(self.W.dtype)

    def params(self):
        return {"W": self.W, "b": self.b, "c": self.c}

    def store(self, dbn):
        n_visible = self.W.shape[1] - self.n_labels
        dbn.top_components_ = np.ascontiguousarray(self.W[:, :n_visible])
        dbn.top_intercept_visible_ = self.b[:n_visible].copy()
        dbn.top_intercept_hidden_ = self.c.copy()
        if self.n_labels:
            dbn.label_components_ = np.ascontiguousarray(self.W[:, n_visible:])
            dbn.label_intercept_ = self.b[n_visible:].copy()

    def visible(self, V, L):
        """The visible layer's rows: ``[V, L]`` with labels, else ``V``."""
        return np.hstack([V, L]) if self.n_labels else V

    def epoch(self, X, order, keys, *, batch_size, k, learning_rate, momentum=0.0,
              weight_decay=0.0):
        """One epoch of CD-k over the rows of ``X`` (see :meth:`visible`) in
        the RBM epoch kernel; weight decay on ``W`` and ``U``, not the biases.

        The chain samples the hidden and penultimate units, carries the
        label probabilities and ends with sampled visible states and hidden
        probabilities (Hinton's guide, section 3); with :attr:`chains` set
        (:meth:`start_chains`), the negative phase runs those persistent
        chains instead (PCD, Tieleman 2008). Returns the summed squared
        reconstruction error and the last mini-batch's final negative
        visible states.
        """
        settings = _k.Settings(
            visible=_k.BERNOULLI, hidden=_k.BERNOULLI, k=int(k), sample_visible=True,
            learning_rate=float(learning_rate), momentum=float(momentum),
            weight_decay=float(weight_decay), n_labels=self.n_labels)
        vel = self.velocity
        return _k.run_epoch(X, order, keys, settings, batch_size=batch_size, W=self.W,
                            b=self.b, c=self.c, velocity_W=vel["W"], velocity_b=vel["b"],
                            velocity_c=vel["c"], chains=self.chains)

    def label_mask(self):
        """The ``gibbs_chain`` mask that holds the label units."""
        return np.arange(self.W.shape[1]) >= self.W.shape[1] - self.n_labels

    def sample(self, V, L, keys, clamp=None):
        """Gibbs chains from the rows of :meth:`visible`, one step per row
        of ``keys``, the units that the mask ``clamp`` marks held (see
        ``gibbs_chain``). Returns the means and the states of the last
        step, label columns included."""
        return _k.gibbs_chain(self.visible(V, L), self.W, self.b, self.c, keys,
                              n_labels=self.n_labels, clamp=clamp)


class DBN(TransformerMixin, BaseEstimator):
    """Deep belief network: a greedy stack of RBMs with a generative top.

    ``fit(X)`` trains ``len(hidden_layer_sizes)`` Bernoulli RBMs greedily,
    each on the hidden probabilities of the one below (Hinton, Osindero &
    Teh 2006). ``fit(X, y)`` joins softmax label units to the top RBM, which
    is then trained on the pair (penultimate representation, label); then
    ``n_updown_iter`` epochs of the up-down algorithm (contrastive
    wake-sleep) fine-tune the whole generative model: recognition and
    generative weights of the lower layers are untied. Classification is
    by a deterministic up-pass and the label of lowest free energy in the
    top RBM; :meth:`sample` draws fantasies.

    As a pretrained stack, the DBN is unrolled by the networks through
    :meth:`encoder_layers` (recognition weights up, generative weights down).

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(500, 500, 2000)
        Units of each RBM, bottom first.
    learning_rate : float, default=0.1
        Learning rate of the greedy RBM training (weights and biases).
    batch_size : int, default=100
    n_iter : int, default=10
        Epochs of each RBM.
    method : {"cd", "pcd"}, default="cd"
        Training of the lower RBMs (see :class:`deepzoo.BernoulliRBM`), and
        of the top RBM when fitted without labels.
    k : int, default=1
        Gibbs steps of the greedy training.
    initial_momentum, final_momentum : float, default=0.5, 0.9
    momentum_switch : int, default=5
        Epoch at which the momentum switches.
    weight_decay : float, default=0.0002
        L2 weight cost of the greedy training (weights only).
    learning_rate_schedule : {"constant", "linear"}, default="constant"
        ``"linear"`` decays the learning rate of every greedy RBM (the
        labelled top included) linearly to zero over its ``n_iter`` epochs
        (see :class:`deepzoo.BernoulliRBM`); the decay averages the
        updates' noise at the end of training. A PCD top always decays.
    top_method : {"cd", "pcd"}, default="cd"
        Training of the top RBM when fitted with labels. "cd": CD-``k``
        from the data, as Hinton, Osindero & Teh (2006). "pcd": persistent
        chains (Tieleman 2008), ``batch_size`` of them, with the label units
        free; the momentum stays at ``initial_momentum`` (the chains must
        follow the weights) and the learning rate decays linearly to zero
        over the ``n_iter`` epochs. CD-1 learns to reconstruct the label
        from the data's own hidden states, so it never lowers the
        probability of states that pair one class's features with another
        label; with a label clamped, Gibbs chains then wander between
        classes and fantasies rarely show the clamped class. The negative
        phase of PCD visits those states and makes fantasies follow their
        labels (docs/experiments.md, "DBN fantasies").
    top_learning_rate : float, default=None
        Learning rate of the labelled top RBM; None: ``learning_rate``.
    top_n_init : int, default=1
        Labelled top RBMs trained on the same lower layers, each from its
        own draws (initial weights, chains, order), as ``n_init`` in
        :class:`sklearn.cluster.KMeans`: the fit keeps the one with which
        the DBN classifies best, on the held-out samples of
        ``validation_fraction`` when set, else on the training samples.
        On full MNIST one set of lower layers gave 2.2% to 3.5% test error
        with the top's draws alone, and the held-out error ranked the tops
        as the test error did (docs/experiments.md, "where the greedy
        start's error comes from"). Used only by ``fit(X, y)``.
    n_updown_iter : int, default=0
        Epochs of up-down fine-tuning after greedy training.
    updown_learning_rate : float, default=0.01
    updown_learning_rate_schedule : {"constant", "linear"}, default="constant"
        ``"linear"`` decays the up-down learning rate linearly to zero over
        the ``n_updown_iter`` epochs (epoch ``e``, from 0, runs at
        ``updown_learning_rate * (1 - e / n_updown_iter)``), to average
        the updates' noise at the end: at a rate large enough to learn
        fast (0.1 on MNIST) the held-out error of constant-rate up-down
        moves by a tenth of a point from epoch to epoch.
    updown_k : int or sequence of int, default=3
        Gibbs steps in the top RBM during up-down. A sequence splits the
        ``n_updown_iter`` epochs into ``len(updown_k)`` equal consecutive
        stages, stage ``i`` running CD-``updown_k[i]``: Hinton, Osindero &
        Teh's schedule is ``updown_k=(3, 6, 10)`` with ``n_updown_iter=300``
        (CD-3 for epochs 1-100, CD-6 for 101-200, CD-10 for 201-300);
        ``n_updown_iter`` must then be a multiple of ``len(updown_k)``.
    updown_top_method : {"cd", "pcd"}, default="cd"
        The top RBM's negative phase during up-down. "cd": CD-``updown_k``
        from each mini-batch's wake states, as Hinton, Osindero & Teh
        (2006); the sleep pass starts from those chains' states. "pcd":
        ``batch_size`` persistent chains (Tieleman 2008), started from the
        up-pass of random training rows and run ``updown_k`` Gibbs steps
        per mini-batch; the sleep pass starts from them, so the recognition
        weights learn from the model's own fantasies, as wake-sleep asks.
        On full MNIST, from one greedy DBN and 100 epochs at rate 0.1
        decaying, "pcd" with 5 steps gave 1.62% test error and "cd" with
        10 steps 1.78% (docs/experiments.md). A ``warm_start`` fit starts
        new chains.
    validation_fraction : float in (0, 1) or None, default=None
        Model selection during up-down, as scikit-learn's
        ``MLPClassifier(early_stopping=True)`` selects its weights: this
        fraction of the labelled samples (a stratified random split drawn
        from ``random_state``) is held out of the whole fit, greedy layers
        included; after every up-down epoch the DBN's classification error
        on it is recorded in ``validation_error_``, and the fit ends with
        the parameters of the epoch of lowest error (the first such epoch),
        not the last; training runs all ``n_updown_iter`` epochs. The
        greedy DBN competes as epoch 0 (``greedy_validation_error_``): if
        no up-down epoch classifies better, its parameters are kept (with a
        warning to lower ``updown_learning_rate`` if every epoch classified
        worse). The same samples choose among the ``top_n_init`` labelled
        tops. Used only by ``fit(X, y)`` with ``n_updown_iter > 0`` or
        ``top_n_init > 1`` on in-memory data; otherwise nothing is held
        out. None: no validation.
    warm_start : bool, default=False
        When True and the DBN is fitted, ``fit`` keeps its greedy layers
        and labelled top and runs only the ``n_updown_iter`` up-down
        epochs, from the fitted parameters (``n_iter_`` and the up-down
        histories start again), as ``MLPClassifier(warm_start=True)``
        starts from its previous weights: to try several up-down settings
        on one greedy DBN, or to run more up-down epochs. The data must
        have the features and classes of the fit before (or no labels, if
        it had none), and ``hidden_layer_sizes`` its layers. With
        ``validation_fraction``, the rows held out are those a fit from
        scratch holds out: with the same ``random_state`` and data, the
        rows a greedy fit that held rows out (``top_n_init > 1``) never
        trained on. A DBN not fitted yet is fitted from scratch.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw (initialisation, shuffling, the sampling of the
        greedy layers, of the top RBM and of up-down): a seed reproduces a
        fit bit for bit at a given BLAS thread count, whatever numba's
        (docs/ARCHITECTURE.md, "Randomness").
    verbose : bool, default=False

    Attributes
    ----------
    recognition_weights_, recognition_intercepts_ : list of ndarray
        Up weights ``(n_out, n_in)`` and hidden biases of the lower layers.
    generative_weights_, generative_intercepts_ : list of ndarray
        Down weights ``(n_out, n_in)`` and visible biases of the lower layers.
    top_components_ : ndarray of shape (n_top, n_penultimate)
    top_intercept_hidden_, top_intercept_visible_ : ndarray
    label_components_ : ndarray of shape (n_top, n_classes) or None
        Weights of the label units (None when fitted without labels).
    label_intercept_ : ndarray of shape (n_classes,) or None
    classes_ : ndarray or None
    top_init_error_ : ndarray of shape (top_n_init,) or None
        With ``top_n_init > 1``, the classification error of each labelled
        top on the samples that choose among them (see ``top_n_init``);
        the top kept is ``np.argmin(top_init_error_)``. None otherwise.
    reconstruction_error_ : ndarray
        Per greedy epoch of the labelled top RBM (the one kept), the mean over samples of
        ``|x - E[x | h]|**2``, ``x`` its visible units (label units
        included) and ``h`` sampled from ``p(h | x)``, as for
        :class:`deepzoo.BernoulliRBM` (estimated from a tenth of the rows
        with persistent chains); empty when fitted without labels.
    updown_error_ : ndarray
        Per up-down epoch: mean squared error of the generative prediction
        of the data from the wake states.
    validation_error_ : ndarray or None
        Per up-down epoch, the classification error on the held-out samples
        (``validation_fraction``); the parameters kept are those of epoch
        ``np.argmin(validation_error_) + 1``, or the greedy DBN's if it
        classified at least as well. None when nothing was held out.
    greedy_validation_error_ : float or None
        The classification error on the held-out samples of the DBN that
        up-down starts from (the greedy one, or with ``warm_start`` the
        fitted one); None unless ``validation_error_`` is recorded.
    n_iter_ : int
        Up-down epochs run.
    n_features_in_ : int

    See Also
    --------
    Stack, deepzoo.BernoulliRBM, deepzoo.FineTunedClassifier

    References
    ----------
    Hinton, Osindero and Teh, "A fast learning algorithm for deep belief
    nets", Neural Computation 18, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import DBN
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((100, 16)) < 0.3).astype(float)
    >>> dbn = DBN(hidden_layer_sizes=(8, 4), n_iter=2, random_state=0).fit(X)
    >>> dbn.transform(X).shape, dbn.sample(3, n_steps=5, random_state=0).shape
    ((100, 4), (3, 16))
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "method": [StrOptions({"cd", "pcd"})],
        "k": [Interval(Integral, 1, None, closed="left")],
        "initial_momentum": [Interval(Real, 0, 1, closed="left")],
        "final_momentum": [Interval(Real, 0, 1, closed="left")],
        "momentum_switch": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [StrOptions({"constant", "linear"})],
        "top_method": [StrOptions({"cd", "pcd"})],
        "top_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "top_n_init": [Interval(Integral, 1, None, closed="left")],
        "n_updown_iter": [Interval(Integral, 0, None, closed="left")],
        "updown_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "updown_learning_rate_schedule": [StrOptions({"constant", "linear"})],
        "updown_k": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "updown_top_method": [StrOptions({"cd", "pcd"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes=(500, 500, 2000), *, learning_rate=0.1,
                 batch_size=100, n_iter=10, method="cd", k=1, initial_momentum=0.5,
                 final_momentum=0.9, momentum_switch=5, weight_decay=0.0002,
                 learning_rate_schedule="constant", top_method="cd", top_learning_rate=None,
                 top_n_init=1, n_updown_iter=0, updown_learning_rate=0.01,
                 updown_learning_rate_schedule="constant", updown_k=3, updown_top_method="cd",
                 validation_fraction=None, warm_start=False, random_state=None, verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.method = method
        self.k = k
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.momentum_switch = momentum_switch
        self.weight_decay = weight_decay
        self.learning_rate_schedule = learning_rate_schedule
        self.top_method = top_method
        self.top_learning_rate = top_learning_rate
        self.top_n_init = top_n_init
        self.n_updown_iter = n_updown_iter
        self.updown_learning_rate = updown_learning_rate
        self.updown_learning_rate_schedule = updown_learning_rate_schedule
        self.updown_k = updown_k
        self.updown_top_method = updown_top_method
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ building
    def _rbm(self, n_components, seed):
        return BernoulliRBM(
            n_components, learning_rate=self.learning_rate, batch_size=self.batch_size,
            n_iter=self.n_iter, method=self.method, k=self.k,
            initial_momentum=self.initial_momentum, final_momentum=self.final_momentum,
            momentum_switch=self.momentum_switch, weight_decay=self.weight_decay,
            learning_rate_schedule=self.learning_rate_schedule, random_state=seed,
            verbose=self.verbose)

    def _top(self):
        return _TopRBM(W=self.top_components_, c=self.top_intercept_hidden_,
                       b=self.top_intercept_visible_, U=self.label_components_,
                       d=self.label_intercept_)

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Greedy layer-wise training, then up-down fine-tuning if asked.

        All or nothing: if training fails or is interrupted, the DBN is left
        as it was before the call.

        An ``h5py.Dataset``, a ``numpy.memmap`` or another array-like too
        large for memory is streamed a chunk at a time
        (:mod:`deepzoo.utils.streaming`): the greedy RBMs as in
        :class:`Stack`, the labelled top RBM and the up-down epochs over
        chunks in a shuffled order, the penultimate rows computed through
        the fitted lower layers as each chunk is read (never stored). The
        labels stay in memory. Data that fit in one chunk train bit for bit
        as in memory.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values in [0, 1].
        y : array-like of shape (n_samples,), optional
            Labels: joined as softmax units to the top RBM. A column vector
            is raveled with a ``DataConversionWarning``, as scikit-learn's
            classifiers do.

        Returns
        -------
        self : DBN

        Raises
        ------
        ValueError
            If ``X`` is not valid input; for streamed ``X``, the message
            names the chunk (its rows) that holds NaN, inf or values outside
            [0, 1], or says that the file is closed.
        """
        supervised = y is not None
        # read before the data's validation resets n_features_in_
        warm = self._fitted_shape() if self.warm_start else None
        stream = None
        if is_streamed(X):
            # every chunk is checked as it is read, before any update
            stream = training_stream(self, X, "fit", reset=True, batch_size=self.batch_size,
                                     check=_unit_interval("DBN.fit"))
            if supervised:
                y = streamed_targets(y, stream)
            dtype = stream.dtype
        else:
            if supervised:
                X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], order="C")
            else:
                X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
            check_unit_interval(X, "DBN", alternative=_GAUSSIAN_ALTERNATIVE)
            dtype = X.dtype
        sizes = check_layer_sizes(self.hidden_layer_sizes)
        _updown_schedule(self.updown_k, self.n_updown_iter)
        validating = supervised and self.validation_fraction is not None \
            and (self.n_updown_iter > 0 or self.top_n_init > 1)
        if validating and stream is not None:
            raise ValueError(
                "DBN: validation_fraction needs the data in memory (a random split); "
                "for streamed data, hold out validation rows yourself and set "
                "validation_fraction=None, or load X into memory.")
        rng = check_random_state(self.random_state)
        validation = None
        if supervised:
            check_classification_targets(y)
            classes, y = np.unique(y, return_inverse=True)
        if warm is not None:
            self._check_warm_start(warm, sizes, classes if supervised else None)
        if supervised:
            self.classes_ = classes
            if validating:
                validation = _Validation(self._held_out_rows(y, rng),
                                         "greedy" if warm is None else "fitted")
        else:
            self.classes_ = None
        resumed, chains = self._resume_updown(rng, sizes, dtype, X.shape[0], validation) \
            if self.n_updown_iter else (False, None)
        if resumed:
            X, Y = self._training_rows(X, y, validation, dtype)
            self._updown(X if stream is None else stream, Y, rng, validation, chains)
            checkpoints.finish(self)
            return self
        X, Y = self._training_rows(X, y, validation, dtype)
        if warm is None:
            self._fit_greedy(X, Y, sizes, rng, stream, validation, dtype)
        self.n_iter_ = 0
        self.updown_error_ = np.empty(0)
        self.validation_error_ = None
        self.greedy_validation_error_ = None
        if self.n_updown_iter:
            if validation is not None:
                self.validation_error_ = np.empty(0)
                # The greedy DBN is the first candidate: up-down at too large
                # a rate can wreck the classifier in its first epoch (MNIST,
                # rate 0.3: 89% error), and then no epoch should be kept.
                self.greedy_validation_error_ = validation.error(self)
                if self.verbose:
                    print(f"[DBN] {validation.start} DBN: classification error "
                          f"{self.greedy_validation_error_:.4f} on the held-out samples",
                          flush=True)
                validation.best = {name: a.copy() for name, a in self._learned_state().items()}
            data = X if stream is None else stream
            chains = self._start_updown_chains(data, Y, rng)
            checkpoints.save_epoch(self, rng, *self._checkpoint_state(validation, chains))
            self._updown(data, Y, rng, validation, chains)
        checkpoints.finish(self)
        return self

    def _fitted_shape(self):
        """``(n_features, layer sizes, classes)`` of the fitted DBN, None if
        it is not fitted (what ``warm_start`` must match)."""
        if not hasattr(self, "top_components_"):
            return None
        sizes = tuple(W.shape[0] for W in self.recognition_weights_)
        return self.n_features_in_, sizes + (self.top_components_.shape[0],), self.classes_

    def _check_warm_start(self, fitted, sizes, classes):
        """Refuse a warm start on data or layers other than the fitted DBN's."""
        n_features, fitted_sizes, fitted_classes = fitted
        fix = "fit the DBN's own problem, or set warm_start=False to fit from scratch"
        if (classes is None) != (fitted_classes is None):
            how = "with" if fitted_classes is not None else "without"
            raise ValueError(f"DBN(warm_start=True): the DBN was fitted {how} labels, and "
                             f"warm_start continues that fit; {fix}.")
        if self.n_features_in_ != n_features:
            raise ValueError(f"DBN(warm_start=True): X has {self.n_features_in_} features, but "
                             f"the fitted DBN has {n_features}; {fix}.")
        if tuple(sizes) != fitted_sizes:
            raise ValueError(f"DBN(warm_start=True): hidden_layer_sizes={tuple(sizes)}, but the "
                             f"fitted DBN has layers of {fitted_sizes}; {fix}.")
        if classes is not None and not np.array_equal(classes, fitted_classes):
            raise ValueError(f"DBN(warm_start=True): the classes of y {classes.tolist()} differ "
                             f"from the previous fit's {fitted_classes.tolist()}; {fix}.")

    def _fit_greedy(self, X, Y, sizes, rng, stream, validation, dtype):
        """Greedy: the lower layers (and, without labels ``Y``, the top) are
        RBMs trained by the stack, each on the hidden probabilities below;
        with labels, ``top_n_init`` labelled tops on the penultimate rows."""
        supervised = Y is not None
        n_greedy = len(sizes) - 1 if supervised else len(sizes)
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(sizes))
        layers = []
        if n_greedy:
            # with labels, the lower RBMs and the top share one compiled epoch
            with _k.label_variant() if supervised else nullcontext():
                stack = Stack([(f"rbm{i + 1}", self._rbm(s, int(seeds[i])))
                               for i, s in enumerate(sizes[:n_greedy])]).fit(X)
            layers = [rbm for _, rbm in stack.steps_]
        lower = layers if supervised else layers[:-1]
        self.recognition_weights_ = [rbm.components_.copy() for rbm in lower]
        self.recognition_intercepts_ = [rbm.intercept_hidden_.copy() for rbm in lower]
        self.generative_weights_ = [rbm.components_.copy() for rbm in lower]
        self.generative_intercepts_ = [rbm.intercept_visible_.copy() for rbm in lower]
        self.reconstruction_error_ = np.empty(0)
        if supervised:
            # the penultimate rows; streamed, computed chunk by chunk as read
            V = layer_input(X, layers)
            if stream is not None:
                V = RowStream(V, "DBN.fit", dtype, batch_size=self.batch_size,
                              check=_unit_interval("DBN.fit"))
            self._fit_labelled_tops(V, Y, sizes[-1], rng, X if stream is None else stream,
                                    validation)
        else:
            top = layers[-1]
            self.top_components_ = top.components_.copy()
            self.top_intercept_hidden_ = top.intercept_hidden_.copy()
            self.top_intercept_visible_ = top.intercept_visible_.copy()
            self.label_components_ = None
            self.label_intercept_ = None
            self.top_init_error_ = None

    def _held_out_rows(self, y, rng):
        """The rows ``validation_fraction`` holds out of the class indices
        ``y``: a stratified random split (``MLPClassifier``'s), increasing."""
        n = y.shape[0]
        n_val = round(self.validation_fraction * n)
        if not 0 < n_val < n:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {n_val} validation "
                f"and {n - n_val} training samples out of {n}; DBN needs at least 1 of "
                "each. Raise validation_fraction, use more data or set "
                "validation_fraction=None.")
        _, rows = train_test_split(np.arange(n), test_size=n_val, stratify=y,
                                   random_state=rng.randint(np.iinfo(np.int32).max))
        return np.sort(rows)

    def _training_rows(self, X, y, validation, dtype):
        """The rows of ``X`` that train (all but ``validation``'s) and their
        one-hot labels, None without labels."""
        if y is None:
            return X, None
        if validation is not None:
            X, y = validation.split(X, y)
        return X, np.eye(len(self.classes_), dtype=dtype)[y]

    def _checkpoint_state(self, validation, chains=None):
        """``(state, history)`` of an up-down checkpoint: the learned arrays
        and the per-epoch errors; with ``validation``, also its rows and the
        best epoch's arrays; with ``chains``, the top RBM's persistent
        chains (``updown_top_method="pcd"``)."""
        state = self._learned_state()
        if chains is not None:
            state["updown_chains"] = chains
        if self.top_init_error_ is not None:
            state["top_init_error_"] = self.top_init_error_
        history = {"updown_error_": self.updown_error_}
        if validation is not None:
            state["validation_rows"] = validation.rows
            state["greedy_validation_error_"] = np.asarray(self.greedy_validation_error_)
            state.update({f"best_{name}": a for name, a in validation.best.items()})
            history["validation_error_"] = self.validation_error_
        return state, history

    def _set_learned_state(self, state):
        """Set the learned arrays from ``state`` (:meth:`_learned_state`'s names)."""
        n_lower = sum(name.startswith("recognition_weights_") for name in state)
        for name in ("recognition_weights_", "recognition_intercepts_", "generative_weights_",
                     "generative_intercepts_"):
            setattr(self, name, [state[f"{name}{i}"] for i in range(n_lower)])
        for name, value in state.items():
            if not name[-1].isdigit():
                setattr(self, name, value)
        if self.classes_ is None:
            self.label_components_ = self.label_intercept_ = None

    def _learned_state(self, sizes=None, n_features=None, dtype=None):
        """The learned arrays by name: what an up-down checkpoint holds.
        With ``sizes``, zeros of the shapes a fit of those layer sizes on
        ``n_features`` inputs gives (what a checkpoint must match)."""
        names = ("recognition_weights_", "recognition_intercepts_", "generative_weights_",
                 "generative_intercepts_")
        single = ("top_components_", "top_intercept_hidden_", "top_intercept_visible_",
                  "label_components_", "label_intercept_", "reconstruction_error_")
        if sizes is None:
            state = {f"{name}{i}": a for name in names for i, a in enumerate(getattr(self, name))}
            state.update({name: getattr(self, name) for name in single
                          if getattr(self, name) is not None})
            return state
        inputs = [n_features, *sizes[:-1]]
        shapes = {}
        for i, (m, d) in enumerate(zip(sizes[:-1], inputs)):
            shapes.update({f"recognition_weights_{i}": (m, d), f"recognition_intercepts_{i}": (m,),
                           f"generative_weights_{i}": (m, d), f"generative_intercepts_{i}": (d,)})
        shapes.update({"top_components_": (sizes[-1], inputs[-1]),
                       "top_intercept_hidden_": (sizes[-1],),
                       "top_intercept_visible_": (inputs[-1],)})
        if self.classes_ is not None:
            shapes.update({"label_components_": (sizes[-1], len(self.classes_)),
                           "label_intercept_": (len(self.classes_),)})
        state = {name: np.zeros(shape, dtype) for name, shape in shapes.items()}
        # the labelled top's epochs, trained by the DBN itself
        state["reconstruction_error_"] = np.zeros(self.n_iter if self.classes_ is not None
                                                  else 0)
        return state

    def _resume_updown(self, rng, sizes, dtype, n_samples, validation):
        """``(resumed, chains)``: whether an epoch checkpoint restored the
        model in the up-down stage (:mod:`deepzoo.utils.checkpoints`): its
        learned arrays, ``rng``, the up-down epochs done and, with
        ``validation``, the held-out rows (the split of the interrupted fit,
        even unseeded) and the best epoch's arrays; and the top RBM's
        persistent chains it held (None for ``updown_top_method="cd"``)."""
        learned = self._learned_state(sizes, self.n_features_in_, dtype)
        state = dict(learned)
        choosing = self.classes_ is not None and self.top_n_init > 1
        if choosing:
            state["top_init_error_"] = np.zeros(self.top_n_init)
        if self.updown_top_method == "pcd":
            n_train = n_samples - (0 if validation is None else len(validation.rows))
            state["updown_chains"] = np.zeros((min(self.batch_size, n_train), sizes[-1]), dtype)
        names = {"updown_error_": None}
        if validation is not None:
            state["validation_rows"] = np.zeros_like(validation.rows)
            state["greedy_validation_error_"] = np.zeros(())
            state.update({f"best_{name}": np.zeros_like(a) for name, a in learned.items()})
            names["validation_error_"] = None
        before = rng.get_state()
        done, history = checkpoints.resume(self, rng, state, names)
        if history is None:
            return False, None
        if validation is not None:
            rows = state["validation_rows"]
            if rows.size and (rows[0] < 0 or rows[-1] >= n_samples or np.any(np.diff(rows) <= 0)):
                warnings.warn("DBN: the checkpoint's validation rows do not index these "
                              f"{n_samples} samples (other data); training from the start",
                              UserWarning, stacklevel=4)
                rng.set_state(before)
                return False, None
            validation.rows = rows
            validation.best = {name: state[f"best_{name}"] for name in learned}
            self.validation_error_ = history["validation_error_"]
            self.greedy_validation_error_ = float(state["greedy_validation_error_"])
        else:
            self.validation_error_ = self.greedy_validation_error_ = None
        self._set_learned_state({name: state[name] for name in learned})
        self.top_init_error_ = state["top_init_error_"] if choosing else None
        self.updown_error_ = history["updown_error_"]
        self.n_iter_ = done
        if self.verbose:
            print(f"[DBN] resumed after up-down epoch {done} from its checkpoint", flush=True)
        return True, state.get("updown_chains")

    def _fit_labelled_tops(self, V, Y, n_top, rng, X, validation):
        """``top_n_init`` labelled tops on the penultimate rows ``V``, one
        after the other from ``rng``; keeps the one of lowest
        classification error on ``validation``'s rows, else on the training
        rows ``X`` (an array or a :class:`RowStream`) and labels ``Y``."""
        self.top_init_error_ = None
        if self.top_n_init == 1:
            self._fit_labelled_top(V, Y, n_top, rng)
            return
        names = ("top_components_", "top_intercept_hidden_", "top_intercept_visible_",
                 "label_components_", "label_intercept_", "reconstruction_error_")
        errors, best = [], None
        for i in range(self.top_n_init):
            self._fit_labelled_top(V, Y, n_top, rng)
            errors.append(validation.error(self) if validation is not None
                          else self._training_error(X, Y))
            if errors[-1] < min(errors[:-1], default=np.inf):
                best = {name: getattr(self, name) for name in names}
            if self.verbose:
                print(f"[DBN] labelled top {i + 1} of {self.top_n_init}: classification error "
                      f"{errors[-1]:.4f} on the {'held-out' if validation is not None else 'training'} "
                      "samples", flush=True)
        for name, value in best.items():
            setattr(self, name, value)
        self.top_init_error_ = np.asarray(errors)

    def _training_error(self, X, Y):
        """The classification error on the training rows ``X`` (an array or
        a :class:`RowStream`, read chunk by chunk) with one-hot labels ``Y``."""
        parts = X.labelled_chunks(Y) if isinstance(X, RowStream) else [(X, Y)]
        wrong = sum(int(np.sum(self._label_log_odds(Xc).argmax(axis=1) != Yc.argmax(axis=1)))
                    for Xc, Yc in parts)
        return wrong / X.shape[0]

    def _fit_labelled_top(self, V, Y, n_top, rng):
        """CD-k training of the top RBM on (penultimate, softmax label) pairs.

        ``V``: the penultimate rows, an array or a :class:`RowStream`
        (whose mean, read first, checks every chunk before any update).
        """
        streamed = isinstance(V, RowStream)
        dtype = V.dtype
        n, d = V.shape
        n_classes = Y.shape[1]
        # Hinton's guide, section 8: small weights, zero hidden biases,
        # visible biases at the data's log-odds.
        p = np.clip(column_mean(V), 1e-3, 1 - 1e-3)
        self.top_components_ = (0.01 * rng.standard_normal((n_top, d))).astype(dtype)
        self.top_intercept_hidden_ = np.zeros(n_top, dtype)
        self.top_intercept_visible_ = np.log(p / (1 - p)).astype(dtype)
        self.label_components_ = (0.01 * rng.standard_normal((n_top, n_classes))).astype(dtype)
        prior = np.clip(Y.mean(axis=0), 1e-3, None)
        self.label_intercept_ = np.log(prior / prior.sum()).astype(dtype)
        top = self._top()
        X = V if streamed else top.visible(V, Y)
        if self.top_method == "pcd":
            top.start_chains(X, min(self.batch_size, n), rng, Y)
        errors = []
        # a stream's largest magnitude: of every chunk, read by the mean
        bound = partial(parameter_bound, V)
        for epoch in range(self.n_iter):
            t0 = time.perf_counter()
            errors.append(self._top_epoch(top, X, epoch, rng, Y) / n)
            check_divergence(self, list(top.params().values()), errors, bound)
            if self.verbose:
                report_progress(self, epoch + 1, "top RBM reconstruction error", errors[-1],
                                time.perf_counter() - t0)
        top.store(self)
        self.reconstruction_error_ = np.asarray(errors)

    def _top_epoch(self, top, X, epoch, rng, Y=None):
        """Epoch ``epoch`` of the labelled top RBM's CD-k on the rows ``X``
        of ``top.visible``, or on the chunks of a :class:`RowStream` ``X``
        of the penultimate rows (in a shuffled order) joined to their rows
        of the one-hot labels ``Y``; returns the summed reconstruction
        error."""
        learning_rate = self.learning_rate if self.top_learning_rate is None \
            else self.top_learning_rate
        if top.chains is None:
            momentum = self.initial_momentum if epoch < self.momentum_switch \
                else self.final_momentum
        else:
            momentum = self.initial_momentum
        if top.chains is not None or self.learning_rate_schedule == "linear":
            learning_rate *= 1 - epoch / self.n_iter
        parts = (top.visible(V, L) for V, L in X.labelled_chunks(Y, rng, shuffle=True)) \
            if isinstance(X, RowStream) else [X]
        total = 0.0
        for part in parts:
            # each chunk shuffled and keyed as in-memory rows are
            n = part.shape[0]
            bs = min(self.batch_size, n)
            order = rng.permutation(n)
            keys = _k.draw_keys(rng, ((n + bs - 1) // bs, 2 * self.k + 2))
            part_total, _ = top.epoch(part, order, keys, batch_size=bs, k=self.k,
                                      learning_rate=learning_rate, momentum=momentum,
                                      weight_decay=self.weight_decay)
            total += part_total
        return total

    # --------------------------------------------------------------- up-down
    def _start_updown_chains(self, X, Y, rng):
        """The top RBM's persistent chains for ``updown_top_method="pcd"``
        (None for CD): hidden states sampled given the up-pass of
        ``batch_size`` random rows of ``X`` (an array or a
        :class:`RowStream`) and their labels."""
        if self.updown_top_method != "pcd":
            return None
        n = X.shape[0]
        picks = rng.randint(n, size=min(self.batch_size, n))
        rows = X.take(picks) if isinstance(X, RowStream) else X[picks]
        top = self._top()
        top.chains_from(top.visible(self._penultimate(rows), None if Y is None else Y[picks]),
                        rng)
        return top.chains

    def _updown(self, X, Y, rng, validation=None, chains=None):
        """Contrastive wake-sleep (Hinton, Osindero & Teh 2006, appendix B).

        ``X`` is an array or a :class:`RowStream` of the data, whose chunks
        each epoch visits in a shuffled order, paired with their rows of
        the one-hot labels ``Y`` (None without labels). The stage of the
        ``updown_k`` schedule follows from the epoch (``n_iter_``), so a
        resumed fit continues in its stage. With ``validation``
        (:class:`_Validation`), every epoch is scored on the held-out rows
        and the fit ends with the arrays of the best epoch.
        """
        R, r = self.recognition_weights_, self.recognition_intercepts_
        G, g = self.generative_weights_, self.generative_intercepts_
        top = self._top()
        top.chains = chains
        streamed = isinstance(X, RowStream)
        bound = None if streamed else partial(parameter_bound, X)
        n = X.shape[0]
        schedule = _updown_schedule(self.updown_k, self.n_updown_iter)
        for _ in range(self.n_iter_, self.n_updown_iter):
            t0 = time.perf_counter()
            stage = self.n_iter_ * len(schedule) // self.n_updown_iter
            k = schedule[stage]
            if self.verbose and len(schedule) > 1 and \
                    self.n_iter_ * len(schedule) % self.n_updown_iter == 0:
                print(f"[DBN] up-down stage {stage + 1} of {len(schedule)}: CD-{k} in the "
                      f"top RBM from epoch {self.n_iter_ + 1}", flush=True)
            if not streamed:
                parts = [(X, Y)]
            elif Y is None:
                parts = ((chunk, None) for chunk in X.chunks(rng, shuffle=True))
            else:
                parts = X.labelled_chunks(Y, rng, shuffle=True)
            err = sum(self._updown_pass(top, Xc, Yc, rng, k) for Xc, Yc in parts)
            self.n_iter_ += 1
            self.updown_error_ = np.append(self.updown_error_, err / n)
            if streamed:
                # the magnitude of every chunk read so far
                bound = parameter_bound(X)
            check_divergence(self, [*R, *r, *G, *g, *top.params().values()], self.updown_error_,
                             bound, rate_name="updown_learning_rate",
                             stage="up-down fine-tuning")
            if self.verbose:
                report_progress(self, self.n_iter_, "up-down data prediction error",
                                err / n, time.perf_counter() - t0)
            if validation is not None:
                top.store(self)
                error = validation.error(self)
                # the first epoch of lowest error, as MLPClassifier keeps
                if error < np.min(self.validation_error_,
                                  initial=self.greedy_validation_error_):
                    validation.best = {name: a.copy()
                                       for name, a in self._learned_state().items()}
                self.validation_error_ = np.append(self.validation_error_, error)
                if self.verbose:
                    report_progress(self, self.n_iter_, "validation error", error,
                                    time.perf_counter() - t0)
            if self.n_iter_ < self.n_updown_iter and checkpoints.active(self):
                top.store(self)
                checkpoints.save_epoch(self, rng, *self._checkpoint_state(validation, top.chains))
        top.store(self)
        if validation is not None:
            self._set_learned_state(validation.best)
            if self.validation_error_.min() > self.greedy_validation_error_:
                warnings.warn(
                    "DBN: every up-down epoch classified the held-out samples worse than the "
                    f"{validation.start} DBN it started from (error "
                    f"{self.greedy_validation_error_:.4f}; the best epoch "
                    f"{self.validation_error_.min():.4f}), so its parameters are kept. "
                    "Lower updown_learning_rate (it is "
                    f"{self.updown_learning_rate}) for up-down to improve on them.",
                    UserWarning, stacklevel=4)

    def _updown_pass(self, top, X, Y, rng, k):
        """The up-down mini-batches of one in-memory block of rows (the
        whole data, or one chunk of a stream) and their labels, CD-``k`` in
        the top RBM; returns the summed squared error of the generative
        prediction of the data."""
        dtype = X.dtype
        R, r = self.recognition_weights_, self.recognition_intercepts_
        G, g = self.generative_weights_, self.generative_intercepts_
        n_penultimate = self.top_components_.shape[1]
        n = X.shape[0]
        bs = min(self.batch_size, n)
        n_batches = (n + bs - 1) // bs
        rate = self.updown_learning_rate
        if self.updown_learning_rate_schedule == "linear":
            rate *= 1 - self.n_iter_ / self.n_updown_iter
        no_order = np.empty(0, np.int64)
        order = rng.permutation(n)
        # per mini-batch: the sampled wake layers, the sampled sleep
        # layers (all but the bottom one) and the top RBM's CD-k
        layer_keys = _k.draw_keys(rng, (n_batches, max(2 * len(R) - 1, 0)))
        top_keys = _k.draw_keys(rng, (n_batches, 2 * k + 2))
        err = 0.0
        for t in range(n_batches):
            idx = order[t * bs:(t + 1) * bs]
            V0 = X[idx]
            lr = dtype.type(rate / len(idx))
            # Wake (up) pass with sampled states.
            wake = [V0]
            for l, (W, b) in enumerate(zip(R, r)):
                wake.append(_sample_layer(_product(wake[-1], W, trans_b=True), b,
                                          layer_keys[t, l]))
            # Top RBM: one CD-k update from the wake penultimate states
            # and labels; the sleep pass starts from the chain's states.
            _, negative = top.epoch(top.visible(wake[-1], None if Y is None else Y[idx]),
                                    no_order, top_keys[t:t + 1], batch_size=len(idx),
                                    k=k, learning_rate=rate)
            # Sleep (down) pass from the chain's penultimate states.
            sleep = [negative[:, :n_penultimate]]
            for l in range(len(G) - 1, -1, -1):
                if l == 0:
                    sleep.insert(0, _sigmoid_product(sleep[0], G[l], g[l]))
                else:
                    sleep.insert(0, _sample_layer(_product(sleep[0], G[l]), g[l],
                                                  layer_keys[t, len(R) + l - 1]))
            # Generative updates: predict each wake layer from the one above.
            for l in range(len(G)):
                pred = _sigmoid_product(wake[l + 1], G[l], g[l])
                diff = wake[l] - pred
                if l == 0:
                    err += float(np.sum(diff * diff))
                # the step folded into the product (BLAS alpha, beta)
                _product_into(True, False, lr, wake[l + 1], diff, 1.0, G[l])
                g[l] += lr * diff.sum(axis=0)
            # Recognition updates: predict each sleep layer from the one below.
            lr = dtype.type(rate / sleep[0].shape[0])
            for l in range(len(R)):
                pred = _sigmoid_product(sleep[l], R[l], r[l], trans_b=True)
                diff = sleep[l + 1] - pred
                _product_into(True, False, lr, diff, sleep[l], 1.0, R[l])
                r[l] += lr * diff.sum(axis=0)
        return err

    # ------------------------------------------------------------ inference
    def _check_X(self, X):
        """``X`` checked as ``fit`` checks it, in the model's dtype."""
        check_is_fitted(self, "top_components_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False, order="C")
        check_unit_interval(X, "DBN", alternative=_GAUSSIAN_ALTERNATIVE)
        return X.astype(self.top_components_.dtype, copy=False)

    def _rows(self, X, fn, caller):
        """Row-wise ``fn`` of checked input; streamed input a chunk at a
        time (:mod:`deepzoo.utils.streaming`), each chunk checked as
        :meth:`_check_X` checks in-memory input."""
        if not is_streamed(X):
            return fn(self._check_X(X))
        check_is_fitted(self, "top_components_")
        name = f"DBN.{caller}"
        return stream_rows(X, fn, name, self.top_components_.dtype, self.n_features_in_,
                           check=_unit_interval(name))

    def encoder_layers(self):
        """The layers a network unrolls: recognition up, generative down.

        The top RBM's data weights serve both ways (its label units are not
        part of the feed-forward path).

        Returns
        -------
        list of EncoderLayer
            Bottom first.
        """
        check_is_fitted(self, "top_components_")
        layers = [
            EncoderLayer(W, b, "sigmoid", np.ascontiguousarray(Gw.T), gb, "sigmoid")
            for W, b, Gw, gb in zip(self.recognition_weights_, self.recognition_intercepts_,
                                    self.generative_weights_, self.generative_intercepts_)
        ]
        layers.append(EncoderLayer(
            self.top_components_, self.top_intercept_hidden_, "sigmoid",
            np.ascontiguousarray(self.top_components_.T), self.top_intercept_visible_,
            "sigmoid"))
        return layers

    def _penultimate(self, X):
        H = X
        for W, b in zip(self.recognition_weights_, self.recognition_intercepts_):
            H = _sigmoid_layer(H, W, b)
        return H

    def transform(self, X):
        """Deterministic up-pass to the top hidden probabilities.

        Label units, if any, are left out (zero input).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input (``h5py.Dataset``, ``numpy.memmap``) is read a
            chunk at a time.

        Returns
        -------
        ndarray of shape (n_samples, n_top)
        """
        return self._rows(X, self._top_hidden, "transform")

    def _top_hidden(self, X):
        return _sigmoid_layer(self._penultimate(X), self.top_components_,
                              self.top_intercept_hidden_)

    def inverse_transform(self, X):
        """Deterministic down-pass (probabilities) from the top hidden units.

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
        check_is_fitted(self, "top_components_")
        H = check_codes(X, self.top_components_.shape[0], "DBN.inverse_transform",
                        dtype=self.top_components_.dtype)
        for layer in reversed(self.encoder_layers()):
            H = _decode(H, layer)
        return H

    def _label_log_odds(self, X):
        """``-F(x, label)`` for every label, up to a constant per sample,
        of checked ``X``."""
        Z = self._penultimate(X) @ self.top_components_.T
        out = np.empty((Z.shape[0], len(self.classes_)), dtype=Z.dtype)
        column = np.empty(Z.shape[0])
        for j in range(len(self.classes_)):
            # the compiled softplus sum: numpy's logaddexp made scoring the
            # held-out set 5-7 s of every up-down epoch on full MNIST
            _k.softplus_rows(Z, self.top_intercept_hidden_ + self.label_components_[:, j],
                             1.0, column)
            out[:, j] = column
        out += self.label_intercept_
        return out

    @available_if(_has_labels)
    def predict_proba(self, X):
        """``p(label | x)`` of the top RBM given the deterministic up-pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input is read a chunk at a time, as in :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._rows(X, lambda rows: _softmax(self._label_log_odds(rows)),
                          "predict_proba")

    @available_if(_has_labels)
    def predict(self, X):
        """Label of lowest free energy in the top RBM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input is read a chunk at a time, as in :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.classes_[self._rows(X, lambda rows: self._label_log_odds(rows).argmax(axis=1),
                                        "predict")]

    @available_if(_has_labels)
    def score(self, X, y):
        """Accuracy of :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Streamed input is read a chunk at a time, as in :meth:`transform`.
        y : array-like of shape (n_samples,)
            True labels.

        Returns
        -------
        float
        """
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        return float(accuracy_score(y, self.predict(X)))

    @validate_params(
        {
            "n_samples": [Interval(Integral, 1, None, closed="left")],
            "n_steps": [Interval(Integral, 1, None, closed="left")],
            "labels": ["array-like", None],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def sample(self, n_samples=1, n_steps=1000, *, labels=None, random_state=None):
        """Fantasies: Gibbs sampling in the top RBM, then a down-pass.

        Chains start from penultimate states drawn from the top RBM's
        visible biases; with ``labels`` the label units are clamped (the
        model "imagines" that class).

        Parameters
        ----------
        n_samples : int >= 1, default=1
        n_steps : int >= 1, default=1000
            Gibbs steps in the top RBM.
        labels : array-like of shape (n_samples,), optional
            Class of each fantasy (needs a DBN fitted with labels).
        random_state : int, RandomState instance or None

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Visible probabilities of the deterministic down-pass.
        """
        check_is_fitted(self, "top_components_")
        check_not_bool("DBN.sample", n_samples=n_samples, n_steps=n_steps)
        rng = check_random_state(random_state)
        dtype = self.top_components_.dtype
        L = self._label_units(labels, n_samples)
        b = self.top_intercept_visible_
        V = (rng.random_sample((n_samples, b.size)) < expit(b)).astype(dtype)
        top = self._top()
        H, _ = top.sample(V, L, _k.draw_keys(rng, (n_steps, 2)),
                          clamp=top.label_mask() if labels is not None else None)
        H = H[:, :b.size]
        for layer in reversed(self.encoder_layers()[:-1]):
            H = _decode(H, layer)
        return H

    def _label_units(self, labels, n_samples):
        """The label units' starting values: one-hot rows of ``labels``,
        uniform probabilities without labels, None for a DBN without label
        units."""
        dtype = self.top_components_.dtype
        if labels is None:
            if self.label_components_ is None:
                return None
            return np.full((n_samples, len(self.classes_)), 1 / len(self.classes_), dtype)
        if self.label_components_ is None:
            raise ValueError("labels need a DBN fitted with labels (fit(X, y)).")
        labels = np.asarray(labels)
        unknown = np.setdiff1d(labels, self.classes_)
        if unknown.size or labels.shape != (n_samples,):
            raise ValueError(
                f"labels must be {n_samples} values from classes_="
                f"{self.classes_.tolist()}; got {labels.tolist()}."
            )
        return (labels[:, None] == self.classes_[None, :]).astype(dtype)

    @validate_params(
        {
            "X": ["array-like"],
            "mask": ["array-like"],
            "n_steps": [Interval(Integral, 1, None, closed="left")],
            "labels": ["array-like", None],
            "mean": ["boolean"],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def complete(self, X, mask, n_steps=1000, *, labels=None, mean=False, random_state=None):
        """In-painting: sample the visible units that ``mask`` leaves free
        given the values of those it marks.

        Each step runs a sampled up-pass from the current visible states to
        the penultimate layer, one Gibbs step of the top RBM (label units
        clamped to ``labels`` if given, else free), a sampled down-pass,
        and resets the marked units to their values in ``X``. For a DBN of
        one RBM this is exact Gibbs sampling of ``p(v_free | v_marked)``;
        above, the recognition up-pass stands in for the intractable
        posterior of the directed layers, so the chain approximates it.
        The free units start from the bottom layer's visible biases; their
        values in ``X`` are ignored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The known values (where ``mask`` is True), in [0, 1].
        mask : array-like of bool, shape (n_features,) or (n_samples, n_features)
            True for the known (clamped) units.
        n_steps : int >= 1, default=1000
            Up-down steps.
        labels : array-like of shape (n_samples,), optional
            Class of each sample, clamped on the label units (a DBN fitted
            with labels).
        mean : bool, default=False
            The free units' probabilities of the last down-pass instead of
            sampled states.
        random_state : int, RandomState instance or None

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``X`` where ``mask`` is True (exactly), the samples elsewhere.

        Raises
        ------
        ValueError
            If ``mask`` is not boolean or not of one of the two shapes,
            ``X`` is not valid input of :meth:`transform`, or ``labels`` are
            not classes of the DBN.
        """
        check_not_bool("DBN.complete", n_steps=n_steps)
        X = self._check_X(X)
        mask = check_clamp_mask(mask, X.shape, "DBN.complete", "mask")
        rng = check_random_state(random_state)
        n = X.shape[0]
        L = self._label_units(labels, n)
        R, r = self.recognition_weights_, self.recognition_intercepts_
        G, g = self.generative_weights_, self.generative_intercepts_
        bottom_bias = g[0] if G else self.top_intercept_visible_
        V = (rng.random_sample(X.shape) < expit(bottom_bias)).astype(X.dtype)
        np.copyto(V, X, where=mask)
        Vm = V.copy()
        top = self._top()
        n_pen = self.top_components_.shape[1]
        # per step: the sampled up-pass, the top RBM's two draws, the
        # sampled down-pass
        keys = _k.draw_keys(rng, (n_steps, 2 * len(R) + 2))
        clamp = top.label_mask() if labels is not None else None
        for t in range(n_steps):
            H = V
            for l, (W, b) in enumerate(zip(R, r)):
                H = _sample_layer(H @ W.T, b, keys[t, l])
            means, states = top.sample(H, L, keys[t:t + 1, len(R):len(R) + 2], clamp=clamp)
            if L is not None:
                L = states[:, n_pen:]
            Vm, V = means[:, :n_pen], states[:, :n_pen]
            for l in range(len(G) - 1, -1, -1):
                Z = V @ G[l]
                Vm, V = np.empty_like(Z), np.empty_like(Z)
                _k.sigmoid_rows(Z, 1.0, g[l], 1.0, keys[t, len(R) + 2 + l], Vm, V)
            np.copyto(V, X, where=mask)
        np.copyto(Vm, X, where=mask)
        return Vm if mean else V
