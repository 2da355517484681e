"""Restricted Boltzmann machines: Bernoulli and Gaussian visible units.

Energies (``W`` = ``components_`` of shape (n_components, n_features),
``b`` = ``intercept_visible_``, ``c`` = ``intercept_hidden_``):

- Bernoulli visible: ``E(v, h) = -b.v - c.h - h W v + E_h(h)``;
- Gaussian visible with standard deviations ``s`` (``sigma_``):
  ``E(v, h) = sum_i (v_i - b_i)**2 / (2 s_i**2) - c.h - h W v + E_h(h)``,

with ``E_h = 0`` for Bernoulli hidden units and ``E_h(h) = |h|**2 / 2`` for
Gaussian (linear) hidden units. In this parametrisation ``p(h | v)`` does not
involve ``s``: the hidden input is ``c + v W.T`` for both visible types, so
``transform`` is :func:`deepzoo._nn.activations.encode` of ``components_``
exactly as the stack unrolls it, and ``p(v | h) = N(b + s**2 (h W), s**2)``.
"""

import time
from contextlib import nullcontext
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state

from .._kernels import rbm as _k
from .._nn.activations import encode
from .._nn.divergence import check_divergence, parameter_bound
from .._nn.optimizers import updatable
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
    validate_params,
)
from ..utils._docstrings import fill_docstring
from ..utils._progress import announces_compilation, report_progress
from ..utils._sparse import by_rows, column_mean
from ..utils._threads import blas_single_thread
from ..utils._transaction import transactional
from ..utils import checkpoints
from ..utils.streaming import RowStream, blockwise, is_streamed, training_stream
from ..utils.validation import check_not_bool, check_unit_interval, unit_interval_check

__all__ = ["BernoulliRBM", "GaussianBernoulliRBM", "ais_schedule"]

_HIDDEN_ACTIVATION = {"bernoulli": "sigmoid", "gaussian": "linear", "nrelu": "relu"}
_MAX_EXACT_UNITS = 30
_LOG_2PI = np.log(2 * np.pi)
# The running estimate of the mean hidden activation that the sparsity
# penalty drives towards ``sparsity_target`` (Hinton's guide, section 11).
_SPARSITY_DECAY = 0.9
_UNIT = {"bernoulli": _k.BERNOULLI, "gaussian": _k.GAUSSIAN, "nrelu": _k.NRELU}
_PARAMETER_ATTRIBUTES = ("components_", "intercept_visible_", "intercept_hidden_")


def ais_schedule(dtype=np.float64):
    """The inverse temperatures of Salakhutdinov & Murray (2008).

    ``0 : 1/1000 : 0.5``, ``0.5 : 1/10000 : 0.9``, ``0.9 : 1/100000 : 1``:
    14,501 values from 0 to 1, dense where the distributions change fastest.

    Parameters
    ----------
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Any spelling of the two (``"float32"``, ``np.dtype("float32")``);
        a coarser float cannot hold steps of 1e-5 below 1.

    Returns
    -------
    betas : ndarray of shape (14501,)

    Raises
    ------
    ValueError
        If ``dtype`` is not float32 or float64.

    Examples
    --------
    >>> betas = ais_schedule()
    >>> betas.shape, float(betas[0]), float(betas[-1])
    ((14501,), 0.0, 1.0)
    """
    try:
        float_dtype = np.dtype(dtype)
    except TypeError:
        float_dtype = None
    if float_dtype not in (np.float32, np.float64):
        raise ValueError("ais_schedule: dtype must be float32 or float64 (the schedule steps "
                         f"by 1e-5 up to 1); got {dtype!r}.")
    return np.concatenate([
        np.linspace(0.0, 0.5, 501),
        np.linspace(0.5, 0.9, 4001)[1:],
        np.linspace(0.9, 1.0, 10001)[1:],
    ]).astype(float_dtype)


def _temperatures(n_temperatures):
    """The inverse temperatures of parallel tempering, from 1 (the model)
    down to 0 (uniform units; Gaussian visible units ``N(b, s**2)``):
    ``(1 - t / (n - 1))**2``.

    Denser near 0, where the distribution changes fastest (from uniform
    to the model's): with 10 temperatures, the lowest swap rate between
    neighbours rose from 0.12 (an even ladder) to 0.25 on a 64-25 RBM
    trained on binarised digits, and from 0.04 to 0.15 on a 64-100 one.
    """
    return np.linspace(1.0, 0.0, n_temperatures) ** 2


# Rows of one compiled RAISE run (test images times runs): large enough for
# efficient products, small enough that its buffers stay modest (a 784-500
# RBM in float32: 55 MB).
_RAISE_ROWS = 4096

# Below this many multiply-adds per matrix product, BLAS runs on one thread:
# waking the thread team costs more than it saves (784-25 RBM, batch 100:
# 0.8 ms per update on one thread, 2-3 ms on two, measured on a busy
# 2-core machine).
_SMALL_GEMM = 1 << 22
# Sampling chains (Gibbs, parallel tempering, clamped) run thousands of
# strictly sequential steps of two products each; on a machine with other
# work, a descheduled BLAS thread stalls each product for a scheduler
# quantum (a Gibbs step of 100 chains of a 784-500 RBM took 59 ms on two
# threads and 1.5 ms on one, under load; an AIS step 47 ms against 2 ms), so
# they stay on one thread up to much larger products. AIS and RAISE always
# keep BLAS on one thread and run blocks of chains on threads instead
# (``_kernels.rbm.anneal_blocks``).
_SMALL_CHAIN_GEMM = 1 << 27


def _blas_threads(n_rows, n_components, n_features, limit=_SMALL_GEMM):
    """Single-threaded BLAS for products below ``limit`` multiply-adds."""
    if n_rows * n_components * n_features < limit:
        return blas_single_thread()
    return nullcontext()


class _BaseRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Training, inference and evaluation shared by both visible types."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "method": [StrOptions({"cd", "pcd", "fpcd", "pt"})],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left"), None],
        "n_temperatures": [Interval(Integral, 2, None, closed="left")],
        "hidden_unit": [StrOptions({"bernoulli", "gaussian", "nrelu"})],
        "sample_visible": ["boolean"],
        "initial_momentum": [Interval(Real, 0, 1, closed="left")],
        "final_momentum": [Interval(Real, 0, 1, closed="left")],
        "momentum_switch": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_cost": [Interval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [StrOptions({"constant", "linear"})],
        "k_schedule": [StrOptions({"constant", "linear"})],
        "fast_learning_rate": [Interval(Real, 0, None, closed="left"), None],
        "fast_decay": [Interval(Real, 0, 1, closed="both")],
        "shuffle": ["boolean"],
    }

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10,
                 verbose=0, random_state=None, method="cd", k=1, n_chains=None,
                 n_temperatures=10, hidden_unit="bernoulli", sample_visible=False,
                 initial_momentum=0.5, final_momentum=0.9, momentum_switch=5,
                 weight_decay=0.0002, sparsity_target=0.1, sparsity_cost=0.0,
                 learning_rate_schedule="constant", k_schedule="constant",
                 fast_learning_rate=None, fast_decay=0.95, shuffle=True):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.method = method
        self.k = k
        self.n_chains = n_chains
        self.n_temperatures = n_temperatures
        self.hidden_unit = hidden_unit
        self.sample_visible = sample_visible
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.momentum_switch = momentum_switch
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.learning_rate_schedule = learning_rate_schedule
        self.k_schedule = k_schedule
        self.fast_learning_rate = fast_learning_rate
        self.fast_decay = fast_decay
        self.shuffle = shuffle

    # -------------------------------------------------------------- helpers
    def _check_X(self, X, reset):
        # The first fit fixes the model's dtype; later input (partial_fit,
        # inference) is converted to it, as scikit-learn's estimators do.
        # Mixed dtypes would make the kernels compile slow mixed-type
        # variants (or fail to type at all).
        dtype = (np.float64, np.float32) if reset else self.components_.dtype
        # CSR rows feed the training kernel directly (CSC is converted once)
        X = validate_data(self, X, reset=reset, dtype=dtype, order="C",
                          accept_sparse="csr")
        if self._visible == "bernoulli":
            check_unit_interval(X, type(self).__name__, alternative="GaussianBernoulliRBM")
        return X

    def _stream(self, X, reset, caller):
        """A streamed ``X`` (utils/streaming.py) checked as :meth:`_check_X`
        checks in-memory data, chunk by chunk."""
        name = type(self).__name__
        check = None
        if self._visible == "bernoulli":
            check = unit_interval_check(f"{name}.{caller}", name,
                                        alternative="GaussianBernoulliRBM")
        return training_stream(self, X, caller, reset=reset, batch_size=self.batch_size,
                               check=check, **({} if reset else {
                                   "dtype": self.components_.dtype,
                                   "n_features": self.n_features_in_}))

    def _get_rng(self):
        if getattr(self, "_rng", None) is None:
            self._rng = check_random_state(self.random_state)
        return self._rng

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags

    def _hidden(self, Z, c, key, M, S):
        """Hidden means ``E[h | v]`` into ``M`` (samples into ``S``) from the
        inputs ``Z = v @ W.T`` (``c`` added here)."""
        _k.hidden_rows(_UNIT[self.hidden_unit], Z, c, 1.0, key, M, S)

    # ------------------------------------------------------------- training
    def _initialize(self, X, rng):
        n_features = X.shape[1]
        dtype = X.dtype
        m = self.n_components
        # Hinton's guide, section 8: small random weights, hidden biases 0,
        # visible biases at the log-odds (Bernoulli) or the mean (Gaussian)
        # of the data, so that the first reconstructions are not wasted on
        # learning the marginals.
        self.components_ = (0.01 * rng.standard_normal((m, n_features))).astype(dtype)
        self.intercept_hidden_ = np.zeros(m, dtype=dtype)
        mean = column_mean(X)
        if self._visible == "bernoulli":
            p = np.clip(mean, 1e-3, 1 - 1e-3)
            self.intercept_visible_ = np.log(p / (1 - p)).astype(dtype)
        else:
            self.intercept_visible_ = mean.astype(dtype)
            if self.learn_variance and X.shape[0] > 1:
                var = column_mean(X, lambda A: np.square(A - mean))
                self.sigma_ = np.sqrt(np.maximum(var, 1e-4)).astype(dtype)
            else:
                self.sigma_ = np.ones(n_features, dtype=dtype)
        self.hidden_activation_ = _HIDDEN_ACTIVATION[self.hidden_unit]
        self.visible_activation_ = "sigmoid" if self._visible == "bernoulli" else "linear"
        self.n_iter_ = 0
        self.reconstruction_error_ = np.empty(0)
        self._rng = rng
        self._initialize_state(X)

    def _initialize_state(self, X=None):
        """Optimiser state and persistent chains (scratch, not saved)."""
        rng = self._get_rng()
        self._log_variance = None
        self._velocity = {name: np.zeros(a.shape, a.dtype) for name, a in self._params().items()}
        self._mean_hidden = np.full(self.n_components, self.sparsity_target,
                                    dtype=self.components_.dtype)
        self._chain_h = None
        if self.method != "cd":
            # Persistent chains start from hidden states driven by data
            # (random states when resuming a loaded model); with parallel
            # tempering, every temperature's chains.
            n_chains = self._n_chain_rows()
            if X is None:
                self._chain_h = (rng.random_sample((n_chains, self.n_components)) < 0.5
                                 ).astype(self.components_.dtype)
            else:
                picks = rng.randint(X.shape[0], size=n_chains)
                rows = X.take(picks) if isinstance(X, RowStream) else X[picks]
                H = (rows.toarray() if sp.issparse(rows) else rows) @ self.components_.T
                self._chain_h = np.empty_like(H)
                self._hidden(H, self.intercept_hidden_, _k.draw_keys(rng, ())[()], H, self._chain_h)
        if self.method == "fpcd":
            self._fast = {name: np.zeros(a.shape, a.dtype) for name, a in self._params().items()
                          if name != "log_variance"}

    def _state_fits_settings(self):
        """Whether the optimiser state has what the current method needs."""
        if self.method != "cd":
            chains = self._chain_h
            if chains is None or chains.shape != (self._n_chain_rows(), self.n_components):
                return False
        return self.method != "fpcd" or getattr(self, "_fast", None) is not None

    def _params(self):
        params = {"W": self.components_, "c": self.intercept_hidden_, "b": self.intercept_visible_}
        if self._visible == "gaussian" and self.learn_variance:
            # sigma_ is updated through its logarithm (kept in sync below).
            if getattr(self, "_log_variance", None) is None:
                self._log_variance = 2 * np.log(self.sigma_)
            params["log_variance"] = self._log_variance
        return params

    def _n_neg(self, batch):
        if self.method == "cd":
            return batch
        return self.n_chains or self.batch_size

    def _n_chain_rows(self):
        """Persistent chains of every temperature."""
        n_temperatures = self.n_temperatures if self.method == "pt" else 1
        return self._n_neg(self.batch_size) * n_temperatures

    def _check_tempering(self, alternative):
        if self.hidden_unit != "bernoulli":
            raise ValueError(
                "method='pt' tempers binary hidden units only; got hidden_unit="
                f"{self.hidden_unit!r}. Use hidden_unit='bernoulli' or {alternative}."
            )

    def _epoch(self, X, epoch, schedule, scratch_cache):
        """One pass over ``X`` (an array or a :class:`RowStream`, its chunks
        in a shuffled order) in mini-batches; returns the mean squared
        reconstruction error per sample. ``scratch_cache``: the kernel's
        buffers shared by the call's epochs (``run_epoch``)."""
        n = X.shape[0]
        tempered = self.method == "pt"
        settings = self._settings(epoch, schedule)
        swaps = np.zeros(self.n_temperatures - 1) if tempered else None
        if isinstance(X, RowStream):
            total = sum(self._pass(chunk, settings, swaps, scratch_cache)
                        for chunk in X.chunks(self._rng, self.shuffle))
            n_batches = X.n_minibatches(self.batch_size)
        else:
            total = self._pass(X, settings, swaps, scratch_cache)
            n_batches = -(-n // min(self.batch_size, n))
        if tempered:
            self.swap_rate_ = swaps / (n_batches * settings.k * self._n_neg(
                min(self.batch_size, n)))
        else:
            # a diagnostic of parallel tempering only
            self.__dict__.pop("swap_rate_", None)
        return total / n

    def _gibbs_steps(self, epoch):
        """Gibbs steps of ``fit``'s epoch ``epoch`` (counting from 0)."""
        if self.k_schedule == "constant":
            return int(self.k)
        # Salakhutdinov & Murray (2008): CD's chain lengthens as the weights
        # grow and the chain mixes more slowly.
        return 1 + round((self.k - 1) * epoch / max(self.n_iter - 1, 1))

    def _settings(self, epoch, schedule):
        """The kernel's settings of one epoch."""
        lr = self.learning_rate
        if schedule and self.learning_rate_schedule == "linear":
            # Tieleman (2008): decay linearly to zero over the run.
            lr *= 1.0 - epoch / max(self.n_iter, 1)
        k = self._gibbs_steps(epoch) if schedule else int(self.k)
        momentum = self.initial_momentum if epoch < self.momentum_switch else self.final_momentum
        fast_lr = self.learning_rate if self.fast_learning_rate is None \
            else self.fast_learning_rate
        return _k.Settings(
            visible=_UNIT[self._visible], hidden=_UNIT[self.hidden_unit], k=k,
            sample_visible=bool(self.sample_visible), learning_rate=float(lr),
            momentum=float(momentum), weight_decay=float(self.weight_decay),
            fast_learning_rate=float(fast_lr), fast_decay=float(self.fast_decay),
            sparsity_target=float(self.sparsity_target), sparsity_cost=float(self.sparsity_cost),
            sparsity_decay=_SPARSITY_DECAY)

    def _pass(self, X, settings, swaps, scratch_cache):
        """The mini-batch updates of one in-memory block of rows (the whole
        data, or one chunk of a stream); returns the summed reconstruction
        error and adds the accepted swaps of parallel tempering to ``swaps``."""
        rng = self._rng
        n, d = X.shape
        bs = min(self.batch_size, n)
        order = rng.permutation(n) if self.shuffle else np.empty(0, np.int64)
        tempered = self.method == "pt"
        n_batches = (n + bs - 1) // bs
        # parallel tempering: one more key per Gibbs step, for its swaps
        keys = _k.draw_keys(rng, (n_batches, (3 if tempered else 2) * settings.k + 2))
        params = self._params()
        vel = self._velocity
        fast = self._fast if self.method == "fpcd" else {}
        if sp.issparse(X):
            X = (X.data, X.indices, X.indptr, d)
        total, _ = _k.run_epoch(
            X, order, keys, settings, batch_size=bs, W=params["W"], b=params["b"],
            c=params["c"], velocity_W=vel["W"], velocity_b=vel["b"], velocity_c=vel["c"],
            sigma=getattr(self, "sigma_", None), log_variance=params.get("log_variance"),
            velocity_log_variance=vel.get("log_variance"),
            chains=self._chain_h if self.method != "cd" else None,
            fast_W=fast.get("W"), fast_b=fast.get("b"), fast_c=fast.get("c"),
            mean_hidden=self._mean_hidden,
            betas=_temperatures(self.n_temperatures) if tempered else None, swaps=swaps,
            scratch_cache=scratch_cache)
        return total

    def _learned_names(self):
        return _PARAMETER_ATTRIBUTES + (("sigma_",) if self._visible == "gaussian" else ())

    def _training_state(self):
        """Every array an epoch updates (learned, optimiser and chain state):
        what an epoch checkpoint must hold to resume bit for bit."""
        state = {name: getattr(self, name) for name in self._learned_names()}
        state.update({f"velocity_{name}": v for name, v in self._velocity.items()})
        state["mean_hidden"] = self._mean_hidden
        if self._chain_h is not None:
            state["chains"] = self._chain_h
        if self._log_variance is not None:
            state["log_variance"] = self._log_variance
        if self.method == "fpcd":
            state.update({f"fast_{name}": v for name, v in self._fast.items()})
        return state

    def _run(self, X, n_epochs, first_epoch, schedule):
        for attr in self._learned_names():
            # The kernel updates them in place as flat arrays: a transposed
            # array set by hand, or a read-only one (np.load with
            # mmap_mode="r", setflags(write=False)), is copied first.
            setattr(self, attr, updatable(getattr(self, attr)))
        with _blas_threads(min(self.batch_size, X.shape[0]), *self.components_.shape):
            self._run_epochs(X, n_epochs, first_epoch, schedule)
        if self._visible == "gaussian":
            self.decoder_components_ = self.components_ * (self.sigma_ ** 2)[None, :]

    def _run_epochs(self, X, n_epochs, first_epoch, schedule):
        streamed = isinstance(X, RowStream)
        bound = None if streamed else partial(parameter_bound, X)
        # the kernel's buffers, mapped once for this call's epochs and
        # released with it
        scratch_cache = {}
        for epoch in range(first_epoch, first_epoch + n_epochs):
            t0 = time.perf_counter()
            err = self._epoch(X, epoch, schedule, scratch_cache)
            self.reconstruction_error_ = np.append(self.reconstruction_error_, err)
            self.n_iter_ += 1
            if streamed:
                # the magnitude of every chunk read so far
                bound = parameter_bound(X)
            check_divergence(self, [getattr(self, name) for name in self._learned_names()],
                             self.reconstruction_error_, bound)
            if schedule:  # fit (partial_fit's single epochs are not checkpointed)
                checkpoints.save_epoch(self, self._rng, self._training_state(),
                                       {"reconstruction_error_": self.reconstruction_error_})
            if self.verbose:
                report_progress(self, self.n_iter_, "reconstruction error", err,
                                time.perf_counter() - t0)

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on ``X`` for ``n_iter`` epochs of mini-batch updates.

        Inside :func:`deepzoo.utils.checkpoints.epoch_checkpoints`, the
        training state is saved after every epoch and an interrupted fit
        resumes after the last finished one.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, numpy.memmap} of shape \
(n_samples, n_features)
            Sparse input (CSR; CSC and others are converted to CSR) trains
            exactly as its dense equivalent, without being densified. An
            ``h5py.Dataset``, a ``numpy.memmap``, a dask array or another
            array-like too large for memory is streamed a chunk at a time,
            chunks in a shuffled order (:mod:`deepzoo.utils.streaming`).
        y : Ignored

        Returns
        -------
        self

        Raises
        ------
        FloatingPointError
            If training diverges (see :mod:`deepzoo._nn.divergence`): a
            parameter or the reconstruction error is NaN or inf, a
            parameter exceeds 1e6 times the data's largest magnitude, or the
            reconstruction error grows 1e4-fold. Like any failed call, it
            leaves the estimator as it was before the call.
        ValueError
            If ``X`` is not valid input; for streamed ``X``, the message names
            the chunk (its rows) that holds NaN, inf or values outside the
            visible units' range, or says that the file is closed.
        """
        X = self._stream(X, True, "fit") if is_streamed(X) else self._check_X(X, reset=True)
        if self.method == "pt":
            self._check_tempering("method='pcd'")
        self._initialize(X, check_random_state(self.random_state))
        done, history = checkpoints.resume(self, self._rng, self._training_state(),
                                           {"reconstruction_error_": self.reconstruction_error_})
        if done:
            self.reconstruction_error_ = history["reconstruction_error_"]
            self.n_iter_ = done
            if self.verbose:
                print(f"[{type(self).__name__}] resumed after epoch {done} from its checkpoint",
                      flush=True)
        self._run(X, self.n_iter - done, done, schedule=True)
        checkpoints.finish(self)
        return self

    @announces_compilation
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over ``X`` in mini-batches of ``batch_size``.

        The momentum schedule follows the number of calls (``n_iter_``); the
        learning rate stays constant (``learning_rate_schedule`` needs the
        run's length, which only ``fit`` knows). The first call fixes the
        model's dtype (float32 or float64); later input is converted to it.
        Read-only fitted arrays (a read-only memory map, ``setflags(
        write=False)``) are copied, never written.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, numpy.memmap} of shape \
(n_samples, n_features)
            Sparse and streamed input are used as in :meth:`fit`.
        y : Ignored

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
        X = self._stream(X, first, "partial_fit") if is_streamed(X) \
            else self._check_X(X, reset=first)
        if self.method == "pt":
            self._check_tempering("method='pcd'")
        if first:
            self._initialize(X, check_random_state(self.random_state))
        elif getattr(self, "_velocity", None) is None:
            # A loaded model: the optimiser state is not saved.
            self._initialize_state()
        elif not self._state_fits_settings():
            # set_params changed the method or the number of chains
            self._initialize_state(X)
        self._run(X, 1, self.n_iter_, schedule=False)
        return self

    # ------------------------------------------------------------ inference
    def _rows(self, X, fn, caller):
        """Row-wise ``fn`` of checked input: streamed input a chunk at a
        time (:mod:`deepzoo.utils.streaming`), sparse a block at a time."""
        if is_streamed(X):
            stream = self._stream(X, False, caller)
            return np.concatenate([fn(chunk) for chunk in stream.chunks()])
        return by_rows(self._check_X(X, reset=False), fn)

    @blockwise(width=lambda self: self.components_.shape[0],
               dtype=lambda self: self.components_.dtype)
    def transform(self, X):
        """Hidden means ``E[h | v]``: probabilities (Bernoulli hidden units),
        the linear input (Gaussian) or ``max(0, input)`` (NReLU).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time. Streamed input
            (``h5py.Dataset``, ``numpy.memmap``) is read a chunk at a time
            (:func:`deepzoo.io.transform_to_hdf5` writes the result to a
            file chunk by chunk); a dask array gives a dask array, computed
            block by block.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        return self._rows(X, lambda A: encode(A, self.components_, self.intercept_hidden_,
                                               self.hidden_activation_), "transform")

    @validate_params({"v": ["array-like", "sparse matrix"], "clamp": ["array-like", None]},
                     prefer_skip_nested_validation=True)
    def gibbs(self, v, *, clamp=None):
        """One Gibbs step: ``h ~ p(h | v)``, then ``v' ~ p(v | h)``.

        Parameters
        ----------
        v : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input is made dense (the result is dense and as large).
        clamp : array-like of bool, shape (n_features,) or (n_samples, n_features), default=None
            Visible units held at their values in ``v`` (the step samples
            the others from their distribution given the held ones).

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            Sampled visible states.

        Raises
        ------
        ValueError
            If ``clamp`` is not boolean or not of one of the two shapes.
        """
        check_is_fitted(self)
        v = self._check_X(v, reset=False)
        # the result is dense and as large: densifying the input costs no more
        v = v.toarray() if sp.issparse(v) else v
        clamp = None if clamp is None else check_clamp_mask(clamp, v.shape, "gibbs", "clamp")
        return self._gibbs(v, self._get_rng(), 1, clamp=clamp)

    def _gibbs(self, v, rng, n_steps, mean=False, clamp=None):
        keys = _k.draw_keys(rng, (n_steps, 2))
        with _blas_threads(v.shape[0], *self.components_.shape, limit=_SMALL_CHAIN_GEMM):
            Vm, V = _k.gibbs_chain(v, self.components_, self.intercept_visible_,
                                   self.intercept_hidden_, keys, visible=_UNIT[self._visible],
                                   hidden=_UNIT[self.hidden_unit],
                                   sigma=getattr(self, "sigma_", None), clamp=clamp)
        return Vm if mean else V

    def _base_visible(self, rng, n_samples, base_b=None):
        """Visible states of the base model: ``Bernoulli(sigmoid(base_b))``
        (``base_b`` None: the visible biases) or ``N(b, s**2)``."""
        b = self.intercept_visible_
        if self._visible == "bernoulli":
            p = expit(b if base_b is None else base_b)
            return (rng.random_sample((n_samples, b.size)) < p).astype(b.dtype)
        return (b + self.sigma_ * rng.standard_normal((n_samples, b.size))).astype(b.dtype)

    @validate_params(
        {
            "n_samples": [Interval(Integral, 1, None, closed="left")],
            "n_steps": [Interval(Integral, 1, None, closed="left")],
            "mean": ["boolean"],
            "random_state": ["random_state"],
            "method": [StrOptions({"gibbs", "pt"})],
            "n_temperatures": [Interval(Integral, 2, None, closed="left")],
        },
        prefer_skip_nested_validation=True,
    )
    def sample(self, n_samples=1, n_steps=1000, *, mean=False, random_state=None,
               method="gibbs", n_temperatures=10):
        """Draw from the model by Gibbs sampling or parallel tempering from
        fresh chains.

        Chains start from the visible biases' own distribution
        (``Bernoulli(sigmoid(b))`` or ``N(b, s**2)``) and run ``n_steps``
        steps.

        Parameters
        ----------
        n_samples : int >= 1, default=1
        n_steps : int >= 1, default=1000
            Gibbs steps; with ``method="pt"``, sweeps (a Gibbs step at every
            temperature, then swaps).
        mean : bool, default=False
            Return the means of ``p(v | h)`` of the last step instead of the
            sampled states (smoother images).
        random_state : int, RandomState instance or None, default=None
        method : {"gibbs", "pt"}, default="gibbs"
            ``"gibbs"``: block Gibbs sampling. ``"pt"``: parallel tempering
            (Swendsen & Wang 1986; Desjardins et al. 2010), Bernoulli
            hidden units: each sample is the model's chain of a ladder of
            ``n_temperatures`` chains at the inverse temperatures of
            ``method="pt"`` in training (see the class), neighbours
            swapping states after every step; a sweep costs
            ``n_temperatures`` Gibbs steps, and the chains cross between
            modes that trap Gibbs chains.
        n_temperatures : int >= 2, default=10
            Temperatures of ``method="pt"``.

        Returns
        -------
        V : ndarray of shape (n_samples, n_features)

        Raises
        ------
        InvalidParameterError
            scikit-learn's (a ``ValueError`` and a ``TypeError``), if an
            argument is outside its range or of the wrong type.
        TypeError
            If ``n_samples``, ``n_steps`` or ``n_temperatures`` is a bool.
        ValueError
            If ``method="pt"`` and the hidden units are not binary.
        """
        check_is_fitted(self)
        # bool is an Integral: the interval would take True for 1
        check_not_bool(f"{type(self).__name__}.sample", n_samples=n_samples, n_steps=n_steps,
                       n_temperatures=n_temperatures)
        rng = check_random_state(random_state)
        if method == "gibbs":
            return self._gibbs(self._base_visible(rng, n_samples), rng, n_steps, mean=mean)
        self._check_tempering("method='gibbs'")
        v = self._base_visible(rng, n_samples * n_temperatures)
        keys = _k.draw_keys(rng, (n_steps, 3))
        with _blas_threads(v.shape[0], *self.components_.shape, limit=_SMALL_CHAIN_GEMM):
            Vm, V, _ = _k.tempered_chain(v, self.components_, self.intercept_visible_,
                                         self.intercept_hidden_, keys,
                                         _temperatures(n_temperatures),
                                         visible=_UNIT[self._visible],
                                         sigma=getattr(self, "sigma_", None))
        return (Vm if mean else V)[:n_samples]

    @validate_params(
        {
            "X": ["array-like", "sparse matrix"],
            "mask": ["array-like"],
            "n_steps": [Interval(Integral, 1, None, closed="left")],
            "mean": ["boolean"],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def complete(self, X, mask, n_steps=1000, *, mean=False, random_state=None):
        """In-painting: sample the visible units that ``mask`` leaves free
        given the values of those it marks.

        Gibbs sampling with the marked units clamped (held at their values
        in ``X``): the chains sample ``p(v_free | v_marked)`` exactly, as
        the RBM's conditionals factorise. The free units start from the
        visible biases' own distribution, as in :meth:`sample`; their
        values in ``X`` are ignored.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The known values (where ``mask`` is True).
        mask : array-like of bool, shape (n_features,) or (n_samples, n_features)
            True for the known (clamped) units.
        n_steps : int >= 1, default=1000
            Gibbs steps.
        mean : bool, default=False
            The free units' means of ``p(v | h)`` at the last step instead of
            sampled states.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        V : ndarray of shape (n_samples, n_features)
            ``X`` where ``mask`` is True (exactly), the samples elsewhere.

        Raises
        ------
        InvalidParameterError
            scikit-learn's, if an argument is outside its range or of the
            wrong type.
        ValueError
            If ``mask`` is not boolean or not of one of the two shapes, or
            ``X`` is not valid input of :meth:`transform`.

        Examples
        --------
        >>> import numpy as np
        >>> from deepzoo import BernoulliRBM
        >>> X = np.array([[1, 1, 0, 0], [0, 0, 1, 1]] * 20, dtype=float)
        >>> rbm = BernoulliRBM(n_components=4, n_iter=300, random_state=0).fit(X)
        >>> known = [True, False, False, False]  # the first unit only
        >>> rbm.complete([[1, 0, 0, 0], [0, 0, 0, 0]], known, n_steps=50, mean=True,
        ...              random_state=0).round(1)
        array([[1., 1., 0., 0.],
               [0., 0., 1., 1.]])
        """
        check_is_fitted(self)
        check_not_bool(f"{type(self).__name__}.complete", n_steps=n_steps)
        X = self._check_X(X, reset=False)
        X = X.toarray() if sp.issparse(X) else X
        mask = check_clamp_mask(mask, X.shape, "complete", "mask")
        rng = check_random_state(random_state)
        v = self._base_visible(rng, X.shape[0])
        np.copyto(v, X, where=mask)
        return self._gibbs(v, rng, n_steps, mean=mean, clamp=mask)

    # ------------------------------------------------------------ likelihood
    def _energy_input(self, X, what):
        """Validated ``X`` for a method that needs the energy function."""
        check_is_fitted(self)
        self._check_energy(what)
        return self._check_X(X, reset=False)

    def _check_energy(self, what):
        if self.hidden_unit == "nrelu":
            raise ValueError(
                f"{what} is not defined for hidden_unit='nrelu': noisy rectified "
                "linear units approximate infinitely many binary units and have "
                "no closed-form energy. Use hidden_unit='bernoulli' or 'gaussian'."
            )

    def _hidden_free_energy(self, X):
        """``-log sum_h exp(c.h + h W v - E_h(h))`` per sample (float64)."""
        Z = X @ self.components_.T
        out = np.empty(X.shape[0])
        if self.hidden_unit == "bernoulli":
            _k.softplus_rows(Z, self.intercept_hidden_, 1.0, out)
            return -out
        Z += self.intercept_hidden_
        return -(0.5 * np.einsum("ij,ij->i", Z, Z, dtype=np.float64)
                 + 0.5 * _LOG_2PI * Z.shape[1])

    def _free_energy(self, X):
        b = self.intercept_visible_
        if self._visible == "bernoulli":
            return self._hidden_free_energy(X) - X @ b.astype(np.float64)
        R = (X - b) / self.sigma_
        return self._hidden_free_energy(X) + 0.5 * np.einsum("ij,ij->i", R, R, dtype=np.float64)

    def free_energy(self, X):
        """Free energy ``F(v) = -log sum_h exp(-E(v, h))`` of each sample.

        ``p(v) = exp(-F(v)) / Z``; lower is more probable.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time.

        Returns
        -------
        F : ndarray of shape (n_samples,), float64
        """
        X = self._energy_input(X, "free_energy")
        return by_rows(X, self._free_energy)

    @validate_params(
        {
            "method": [StrOptions({"exact", "ais"})],
            "n_runs": [Interval(Integral, 1, None, closed="left")],
            "n_sweeps": [Interval(Integral, 1, None, closed="left")],
            "n_tempered": [Interval(Integral, 0, None, closed="left")],
            "tempered_every": [Interval(Integral, 1, None, closed="left")],
            "tempered_ladder": ["array-like", None],
            "betas": ["array-like", None],
            "base_rate": ["array-like", None],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def log_partition(self, method="exact", *, n_runs=100, n_sweeps=1, n_tempered=0,
                      tempered_every=100, tempered_ladder=None, betas=None, base_rate=None,
                      random_state=None):
        """Log partition function ``log Z``, exact or by AIS.

        Parameters
        ----------
        method : {"exact", "ais"}, default="exact"
            ``"exact"`` sums over every state of the smaller layer that can
            be enumerated (at most 30 binary units; 2**n terms, each
            summing out the other layer in closed form); it is the ground
            truth for small models. ``"ais"``: annealed importance sampling
            (Salakhutdinov & Murray 2008) from a base-rate model (``W = 0``,
            ``c = 0``) to the RBM, Bernoulli hidden units only.
        n_runs : int >= 1, default=100
            AIS runs (independent chains).
        n_sweeps : int >= 1, default=1
            Gibbs sweeps at each intermediate temperature (AIS): 1 is
            Salakhutdinov & Murray's protocol; the cost grows in
            proportion. Every sweep leaves its distribution invariant, so
            the estimate of ``Z`` stays unbiased; more sweeps let the
            chains follow the path on models whose Gibbs chains mix
            slowly, where one sweep misses modes and underestimates
            ``log Z`` by nats (a 784-25 RBM trained by PCD with momentum
            0.9: 6.95 nats low with 1 sweep, 0.43 with 10).
        n_tempered : int >= 0, default=0
            Tempered transitions (Neal 1996) at ``beta = 1`` and at every
            ``tempered_every``-th temperature below it, after the Gibbs
            sweeps (AIS, RAISE; 0: none). Each anneals a copy of the chain
            from the current inverse temperature ``beta`` down the ladder
            ``beta * tempered_ladder`` and back up, one Gibbs sweep per
            level, and the chain takes the copy by a Metropolis test; it
            leaves the intermediate distribution invariant (so the
            estimates stay unbiased) and can cross between modes that
            Gibbs sweeps at ``beta`` cannot. Cost: ``2 * len(tempered_ladder)``
            sweeps each.
        tempered_every : int >= 1, default=100
            Spacing of the tempered temperatures, in steps of ``betas``
            counted from ``beta = 1``.
        tempered_ladder : array-like, default=None
            The ladder of each tempered transition, as fractions of the
            current inverse temperature, decreasing strictly within (0, 1);
            None: 100 evenly spaced from 0.995 down to 0.5.
        betas : array-like, default=None
            Increasing inverse temperatures from 0 to 1; None:
            :func:`ais_schedule` (14,500 intermediate distributions).
        base_rate : array-like of shape (n_features,), default=None
            Bernoulli visible units: the base model's visible marginals,
            ideally the training data's pixel means (with a few
            pseudo-counts); None: ``sigmoid(intercept_visible_)``. Gaussian
            visible units always use ``N(b, s**2)``.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        log_z : float
            For ``method="exact"``.
        (log_z, (low, high)) : tuple
            For ``method="ais"``: the estimate ``log mean(w)`` and
            ``log(mean(w) -+ 3 standard errors)`` over the runs, the
            spread reported by Salakhutdinov & Murray (``low`` is ``-inf``
            when the interval reaches zero).

        Raises
        ------
        InvalidParameterError
            scikit-learn's (a ``ValueError`` and a ``TypeError``), if
            ``method`` is neither ``"exact"`` nor ``"ais"``, ``n_runs`` is not
            an integer >= 1 (whatever the method) or an argument has the
            wrong type.
        TypeError
            If ``n_runs`` is a bool.
        ValueError
            If ``betas`` does not increase strictly from 0 to 1,
            ``base_rate`` is not a vector of probabilities or
            ``tempered_ladder`` does not decrease strictly within (0, 1)
            (AIS).
        """
        check_is_fitted(self)
        check_not_bool(f"{type(self).__name__}.log_partition", n_runs=n_runs, n_sweeps=n_sweeps,
                       n_tempered=n_tempered, tempered_every=tempered_every)
        self._check_energy("log_partition")
        if method == "exact":
            return self._exact_log_partition()
        return self._ais(n_runs, betas, base_rate, random_state, n_sweeps=n_sweeps,
                         tempering=_check_tempering(n_tempered, tempered_every, tempered_ladder))

    @validate_params(
        {
            "X": ["array-like", "sparse matrix"],
            "method": [StrOptions({"exact", "ais", "raise"})],
            "n_runs": [Interval(Integral, 1, None, closed="left")],
            "n_sweeps": [Interval(Integral, 1, None, closed="left")],
            "n_tempered": [Interval(Integral, 0, None, closed="left")],
            "tempered_every": [Interval(Integral, 1, None, closed="left")],
            "tempered_ladder": ["array-like", None],
            "betas": ["array-like", None],
            "base_rate": ["array-like", None],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def log_likelihood(self, X, method="exact", *, n_runs=100, n_sweeps=1, n_tempered=0,
                       tempered_every=100, tempered_ladder=None, betas=None, base_rate=None,
                       random_state=None):
        """Log-likelihood ``log p(x) = -F(x) - log Z`` of each sample.

        For Gaussian visible units this is a log-density.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time.
        method : {"exact", "ais", "raise"}, default="exact"
            ``"exact"`` and ``"ais"``: ``log Z`` as :meth:`log_partition`
            computes it. Forward AIS underestimates ``log Z`` in
            expectation, so its log-likelihoods tend to be too high.
            ``"raise"``: reverse annealed importance sampling (Burda,
            Grosse & Salakhutdinov 2015), per sample, Bernoulli hidden
            units: ``n_runs`` chains start at ``x`` and anneal back from
            the model to the base model along the AIS path; the log of the
            mean of their weights is a stochastic lower bound on the
            log-likelihood of the annealing model (the model that AIS's
            chains sample), which tends to ``log p(x)`` as the schedule
            grows finer. AIS and RAISE together bracket the truth; a wide
            gap between them says that neither is to be trusted. It costs
            ``n_runs`` AIS runs per sample (a 784-500 RBM, 14,500
            temperatures: seconds per run).
        n_runs : int >= 1, default=100
            AIS runs, or RAISE runs per sample.
        n_sweeps : int >= 1, default=1
            Gibbs sweeps at each temperature of the path (AIS, RAISE; see
            :meth:`log_partition`): the cost grows in proportion. The
            annealing model that RAISE bounds approaches the RBM only
            when these sweeps mix; where they do not, RAISE's estimate can
            lie nats *above* ``log p(x)`` and AIS's as well, and their
            agreement does not certify either (a 784-25 RBM trained by PCD
            with momentum 0.9 on MNIST: RAISE 7.6 nats above the exact
            value with 1 sweep, 7.1 with 10; docs/experiments.md).
        n_tempered : int >= 0, default=0
            Tempered transitions per tempered temperature (AIS, RAISE; see
            :meth:`log_partition`), which let the annealing model approach
            the RBM where Gibbs sweeps alone do not mix. RAISE's reverse
            chain runs them before its sweeps (the reversal of the forward
            transition).
        tempered_every : int >= 1, default=100
            See :meth:`log_partition`.
        tempered_ladder : array-like, default=None
            See :meth:`log_partition`.
        betas : array-like, default=None
            Increasing inverse temperatures from 0 to 1 (AIS, RAISE); None:
            :func:`ais_schedule`.
        base_rate : array-like of shape (n_features,), default=None
            Bernoulli visible units: the base model's visible marginals
            (AIS, RAISE), see :meth:`log_partition`.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        log_p : ndarray of shape (n_samples,)

        Raises
        ------
        InvalidParameterError
            scikit-learn's, if an argument is outside its range or of the
            wrong type (``n_runs`` is checked whatever the method).
        ValueError
            As :meth:`log_partition`; RAISE needs Bernoulli hidden units.
        """
        check_not_bool(f"{type(self).__name__}.log_likelihood", n_runs=n_runs, n_sweeps=n_sweeps,
                       n_tempered=n_tempered, tempered_every=tempered_every)
        X = self._energy_input(X, "log_likelihood")
        if method == "raise":
            runs = self._raise(X, n_runs, betas, base_rate, random_state, n_sweeps=n_sweeps,
                               tempering=_check_tempering(n_tempered, tempered_every,
                                                          tempered_ladder))
            top = runs.max(axis=1)
            return top + np.log(np.mean(np.exp(runs - top[:, None]), axis=1))
        log_z = self.log_partition(method, n_runs=n_runs, n_sweeps=n_sweeps,
                                   n_tempered=n_tempered, tempered_every=tempered_every,
                                   tempered_ladder=tempered_ladder, betas=betas,
                                   base_rate=base_rate, random_state=random_state)
        if method == "ais":
            log_z = log_z[0]
        return -by_rows(X, self._free_energy) - log_z

    def _exact_log_partition(self):
        W = self.components_
        b, c = self.intercept_visible_, self.intercept_hidden_
        m, d = W.shape
        gaussian_hidden = self.hidden_unit == "gaussian"
        can_sum_hidden = not gaussian_hidden
        can_sum_visible = self._visible == "bernoulli"
        options = []
        if can_sum_hidden:
            options.append(m)
        if can_sum_visible:
            options.append(d)
        if not options:
            raise ValueError("The exact partition function needs a layer of binary "
                             "units to enumerate; this model has none.")
        n_units = min(options)
        if n_units > _MAX_EXACT_UNITS:
            raise ValueError(
                f"The exact partition function enumerates 2**{n_units} states; "
                f"at most {_MAX_EXACT_UNITS} binary units are supported. Use "
                "method='ais'."
            )
        chunk_bits = max(0, n_units - 10)
        if can_sum_hidden and m == n_units:
            # enumerate h; visible layer summed out
            if self._visible == "bernoulli":
                return _k.logsumexp_states(W, b, c.astype(np.float64), 0, b, min(chunk_bits, 16))
            var = (self.sigma_ ** 2).astype(np.float64)
            b64 = b.astype(np.float64)
            # b.y + s**2 y**2 / 2 = s**2 / 2 (y + b / s**2)**2 - b**2 / (2 s**2)
            const = np.sum(0.5 * np.log(2 * np.pi * var) - b64 ** 2 / (2 * var))
            return const + _k.logsumexp_states(
                W, (b64 / var).astype(W.dtype), c.astype(np.float64), 1, 0.5 * var,
                min(chunk_bits, 16))
        # enumerate v; hidden layer summed out
        WT = np.ascontiguousarray(W.T)
        if gaussian_hidden:
            return 0.5 * _LOG_2PI * m + _k.logsumexp_states(
                WT, c, b.astype(np.float64), 1, np.full(m, 0.5), min(chunk_bits, 16))
        return _k.logsumexp_states(WT, c, b.astype(np.float64), 0, c, min(chunk_bits, 16))

    def _annealing_path(self, betas, base_rate):
        """The checked AIS schedule, the base model's visible biases
        (float64; empty for Gaussian visible units, whose base is
        ``N(b, s**2)``) and its ``log Z_0``."""
        if self.hidden_unit != "bernoulli":
            raise ValueError("AIS and RAISE are implemented for hidden_unit='bernoulli' only.")
        b = self.intercept_visible_
        m, d = self.components_.shape
        betas = ais_schedule() if betas is None else np.asarray(betas, dtype=np.float64)
        # `not all(diff > 0)` rather than `any(diff <= 0)`: NaN compares false
        if betas.ndim != 1 or betas.size < 2 or betas[0] != 0 or betas[-1] != 1 \
                or not np.all(np.diff(betas) > 0):
            raise ValueError(
                "betas must be a 1-D array increasing strictly from 0 to 1 (no NaN); got "
                f"shape {betas.shape}, first {betas.ravel()[:1]}, last {betas.ravel()[-1:]}."
            )
        if self._visible == "gaussian":
            s = self.sigma_.astype(np.float64)
            log_z0 = m * np.log(2) + np.sum(0.5 * np.log(2 * np.pi * s ** 2))
            return betas, np.empty(0), log_z0
        if base_rate is None:
            base_b = b.astype(np.float64)
        else:
            p = np.asarray(base_rate, dtype=np.float64)
            if p.shape != (d,):
                raise ValueError(f"base_rate must have shape ({d},); got {p.shape}.")
            # the base model's visible marginals: probabilities, no NaN
            if not np.all((p >= 0) & (p <= 1)):
                raise ValueError(
                    "base_rate holds probabilities and must lie in [0, 1] (no NaN); "
                    f"got min={np.min(p):.4g}, max={np.max(p):.4g}. Use the training "
                    "data's pixel means."
                )
            p = np.clip(p, 1e-6, 1 - 1e-6)
            base_b = np.log(p / (1 - p))
        return betas, base_b, m * np.log(2) + np.sum(np.logaddexp(0, base_b))

    def _anneal(self, V, base_b, betas, keys, log_w, tempering=None, rng=None, reverse=False):
        """``_kernels.rbm.anneal`` on this model's parameters; ``tempering``
        (ladder, moves) from ``_tempering``, its keys drawn from ``rng``
        after ``keys``. Returns the tempered transitions' acceptance rate
        (NaN without them)."""
        if tempering is None:
            ladder, moves = np.empty(0), np.zeros(betas.size + 1, np.int64)
        else:
            ladder, moves = tempering
        tempered_keys = _k.draw_keys(rng, (moves[-1], 2 * ladder.size, 2)) if moves[-1] \
            else np.empty((0, 2 * max(ladder.size, 1), 2), np.uint64)
        with blas_single_thread():
            accepted = _k.anneal_blocks(_UNIT[self._visible], V, self.components_,
                                        self.intercept_visible_, base_b, self.intercept_hidden_,
                                        getattr(self, "sigma_", np.empty(0, V.dtype)), betas,
                                        keys, log_w, ladder, moves, tempered_keys, reverse)
        return accepted / (moves[-1] * V.shape[0]) if moves[-1] else np.nan

    def _ais(self, n_runs, betas, base_rate, random_state, *, n_sweeps=1, tempering=None):
        betas, base_b, log_z0 = self._annealing_path(betas, base_rate)
        rng = check_random_state(random_state)
        V = self._base_visible(rng, n_runs, base_b)
        log_w = np.zeros(n_runs)
        keys = _k.draw_keys(rng, (betas.size, n_sweeps, 2))
        self._anneal(V, base_b, betas, keys, log_w,
                     _tempering(betas.size, False, *tempering) if tempering else None, rng)
        top = log_w.max()
        w = np.exp(log_w - top)
        mean = w.mean()
        se = w.std(ddof=1) / np.sqrt(n_runs) if n_runs > 1 else 0.0
        log_z = log_z0 + top + np.log(mean)
        low = log_z0 + top + np.log(mean - 3 * se) if mean > 3 * se else -np.inf
        high = log_z0 + top + np.log(mean + 3 * se)
        return float(log_z), (float(low), float(high))

    def _raise(self, X, n_runs, betas, base_rate, random_state, *, n_sweeps=1, tempering=None):
        """RAISE's estimate of ``log p(x)`` per sample and run, shape
        (n_samples, n_runs): ``-F(x) - log Z_0`` plus the log weight of a
        reverse chain from ``x`` (``_kernels.rbm.anneal``). Samples are
        processed in blocks of at most ``_RAISE_ROWS`` chains, each block
        with its own keys drawn in order."""
        betas, base_b, log_z0 = self._annealing_path(betas, base_rate)
        rng = check_random_state(random_state)
        # the transition at beta = 1, then the schedule backwards
        schedule = np.concatenate([[1.0], betas[::-1]])
        plan = _tempering(betas.size, True, *tempering) if tempering else None
        n = X.shape[0]
        out = np.empty((n, n_runs))
        block = max(1, _RAISE_ROWS // n_runs)
        for start in range(0, n, block):
            rows = X[start:start + block]
            rows = rows.toarray() if sp.issparse(rows) else rows
            V = np.repeat(rows, n_runs, axis=0)
            log_w = np.zeros(V.shape[0])
            self._anneal(V, base_b, schedule, _k.draw_keys(rng, (schedule.size, n_sweeps, 2)),
                         log_w, plan, rng, reverse=True)
            out[start:start + block] = log_w.reshape(-1, n_runs)
        out += (-by_rows(X, self._free_energy) - log_z0)[:, None]
        return out


def _check_tempering(n_tempered, every, ladder):
    """(n_tempered, every, ladder as float64) for ``_tempering``, or None
    without tempered transitions; the ladder checked."""
    if n_tempered == 0:
        return None
    ladder = np.linspace(1.0, 0.5, 101)[1:] if ladder is None \
        else np.asarray(ladder, dtype=np.float64)
    # `not all(...)` rather than `any(...)`: NaN compares false
    if ladder.ndim != 1 or ladder.size == 0 or not np.all((ladder > 0) & (ladder < 1)) \
            or not np.all(np.diff(ladder) < 0):
        raise ValueError(
            "tempered_ladder must be a non-empty 1-D array of fractions of the inverse "
            "temperature decreasing strictly within (0, 1), e.g. np.linspace(1, 0.5, 101)[1:]; "
            f"got {ladder!r}."
        )
    return n_tempered, every, ladder


def _tempering(n_betas, reverse, n_tempered, every, ladder):
    """The tempered transitions of an annealing run over ``n_betas``
    inverse temperatures ``beta_0 = 0 < ... < beta_K = 1``, as
    (``ladder``, ``moves``) for ``_kernels.rbm.anneal``: ``n_tempered``
    transitions at ``beta_K`` and at every ``every``-th inverse temperature
    below it (``beta_(K - every)``, ``beta_(K - 2 every)``, ...). Forward
    AIS runs them at the steps of those temperatures (none at ``beta_K``,
    after which nothing moves); RAISE's reverse schedule ``[1, beta_K, ...,
    beta_0]`` runs forward step ``k``'s at its step ``K + 1 - k``, so both
    sample the same annealing model."""
    K = n_betas - 1
    counts = np.zeros(n_betas + (1 if reverse else 0), np.int64)
    forward_steps = np.arange(K, 0, -every)
    if reverse:
        counts[K + 1 - forward_steps] = n_tempered
    else:
        counts[forward_steps[forward_steps < K]] = n_tempered
    return ladder, np.concatenate([[0], np.cumsum(counts)])


def check_clamp_mask(mask, shape, what, name):
    """``mask`` as a boolean array of shape ``shape[1:]`` or ``shape``."""
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape not in (tuple(shape[1:]), tuple(shape)):
        raise ValueError(
            f"{what}: {name} must be a boolean array of shape ({shape[1]},) or "
            f"{tuple(shape)} (True: the units held at their values); got dtype "
            f"{mask.dtype}, shape {mask.shape}."
        )
    return mask


# Docstring blocks of both RBMs (utils/_docstrings.py: fill_docstring).
_PARAMETERS_DOC = """\
    batch_size : int, default=10
        Examples per mini-batch.
    n_iter : int, default=10
        Epochs (passes over the training data) run by ``fit``.
    verbose : int, default=0
        Print the reconstruction error after each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and every sampling step: a seed
        reproduces a run bit for bit at a given BLAS thread count, whatever
        numba's (docs/ARCHITECTURE.md, "Randomness").
    method : {"cd", "pcd", "fpcd", "pt"}, default="cd"
        Negative phase: contrastive divergence from the data (Hinton 2002),
        persistent chains (Tieleman 2008), persistent chains run on the
        regular plus decaying "fast" weights (Tieleman & Hinton 2009), or
        persistent parallel tempering (Desjardins et al. 2010; Cho, Raiko &
        Ilin 2010; Bernoulli hidden units): chains at the
        ``n_temperatures`` inverse temperatures ``linspace(1, 0,
        n_temperatures)**2`` of ``p_beta(v, h) ~ exp(-beta E(v, h))``
        (uniform at ``beta = 0``; for Gaussian visible units the quadratic
        term of ``E`` stays untempered, making ``beta = 0`` the
        independent ``N(b, s**2)``), neighbours proposing to swap states
        after every Gibbs step; the chains at ``beta = 1`` give the
        negative statistics. An update costs ``n_temperatures`` times
        PCD's Gibbs steps.
    k : int, default=1
        Gibbs steps per update (CD-k; PCD-k; with ``"pt"``, steps of every
        temperature, each followed by swaps).
    n_chains : int, default=None
        Persistent chains for ``"pcd"``/``"fpcd"``, chains per temperature
        for ``"pt"``; None: ``batch_size``.
    n_temperatures : int >= 2, default=10
        Temperatures of ``method="pt"`` (1 and 0 included); ignored by the
        other methods. Enough for small inputs (64 binary pixels: swap
        rates of 0.15 and above); a 784-500 RBM on MNIST needed about 30
        (lowest rate between neighbours 0.13 with 30 temperatures, 0.00
        with 10). ``swap_rate_`` tells.
    hidden_unit : {"bernoulli", "gaussian", "nrelu"}, default="bernoulli"
        Binary stochastic units; linear units with unit-variance Gaussian
        noise (the code layer of Hinton & Salakhutdinov 2006); noisy
        rectified linear units (Nair & Hinton 2010). ``transform`` returns
        their means: sigmoid, linear and ``max(0, x)`` of the input.
    sample_visible : bool, default=False
        Sample the final visible states of CD-k instead of using their
        means (the guide's recommendation, section 3.2, is the means: less
        sampling noise). True gives the textbook, unbiased CD-k chain.
    initial_momentum, final_momentum : float, default=0.5, 0.9
        Momentum before and from epoch ``momentum_switch`` on (guide,
        section 9).
    momentum_switch : int, default=5
        First epoch (counting from 0) that uses ``final_momentum``.
    weight_decay : float, default=0.0002
        L2 penalty on the weights (not the biases), guide section 10.
    sparsity_target : float, default=0.1
        Desired mean activation of the hidden units.
    sparsity_cost : float, default=0.0
        Strength of the sparsity penalty; 0 disables it. The penalty
        ``cost * (target - q)``, with ``q`` an exponentially decaying
        average (0.9) of the mean hidden activation, is added to the hidden
        biases' gradient (Lee, Ekanadham & Ng 2008; guide, section 11).
    learning_rate_schedule : {"constant", "linear"}, default="constant"
        ``"linear"`` decays the learning rate to zero over ``n_iter`` epochs
        (Tieleman 2008). ``partial_fit`` always uses the constant rate.
    k_schedule : {"constant", "linear"}, default="constant"
        ``"linear"`` lengthens the chain from 1 Gibbs step in the first
        epoch to ``k`` in the last of ``n_iter`` (rounded; Salakhutdinov &
        Murray 2008 grew CD's steps from 1 to 25 as learning progressed).
        ``partial_fit`` always runs ``k`` steps.
    fast_learning_rate : float, default=None
        Learning rate of the fast weights (``"fpcd"``); None: the same as
        ``learning_rate``.
    fast_decay : float, default=0.95
        Factor applied to the fast weights after each update (19/20 in
        Tieleman & Hinton 2009).
    shuffle : bool, default=True
        Shuffle the samples before each epoch."""

_ATTRIBUTES_DOC = """\
    components_ : ndarray of shape (n_components, n_features)
        Weights ``W``; ``transform(X) = act(X @ W.T + intercept_hidden_)``.
    intercept_hidden_ : ndarray of shape (n_components,)
    intercept_visible_ : ndarray of shape (n_features,)
    hidden_activation_ : str
        ``"sigmoid"``, ``"linear"`` or ``"relu"`` (Bernoulli, Gaussian, NReLU
        hidden units): the activation of :func:`deepzoo._nn.activations.encode`.
    visible_activation_ : str
        Activation of the reconstruction ``H @ W + intercept_visible_``.
    n_iter_ : int
        Epochs run (``partial_fit`` calls count one each).
    reconstruction_error_ : ndarray of shape (`n_iter_`,)
        Per epoch, the mean over samples of ``|x - E[v | h]|**2`` with ``h``
        sampled from ``p(h | x)`` at the time of the update. The persistent
        methods (``"pcd"``, ``"fpcd"``, ``"pt"``), whose negative phase
        needs no reconstruction of the data, measure it on a tenth of each
        mini-batch's rows (at least one): an estimate, at a tenth of the
        cost of a product that would otherwise add a fifth to the epoch.
    swap_rate_ : ndarray of shape (n_temperatures - 1,)
        ``method="pt"`` only: over the last epoch, the share of proposed
        swaps accepted between the temperatures ``t`` and ``t + 1``
        (``t = 0``: the model and its neighbour). Rates near 0 cut the
        ladder (more temperatures needed); rates near 1 waste them.
    n_features_in_ : int"""

_NOTES_DOC = """\
    Training follows Hinton's "A Practical Guide to Training Restricted
    Boltzmann Machines" (2010): the positive statistics use the hidden
    probabilities given the data; the hidden states that drive the
    reconstruction are sampled; intermediate Gibbs steps sample every
    layer; the last visible states of CD use their means (unless
    ``sample_visible``) and the last hidden update uses probabilities (no
    sampling noise in the statistics). Persistent chains always sample the
    visible states and keep sampled hidden states between updates. The
    weight gradient is one matrix product over the stacked positive and
    negative statistics.

    Sampling, the fused activation/sampling/error passes and the parameter
    updates run in Numba kernels (``deepzoo._kernels.rbm``) with an
    explicit, counter-based random state (a seed reproduces a run bit for
    bit); matrix products run in BLAS, on one thread when they are small
    (a 784-25 RBM, AIS) and BLAS's threads would cost more than they
    save."""


@fill_docstring(params=_PARAMETERS_DOC, attrs=_ATTRIBUTES_DOC, notes=_NOTES_DOC)
class BernoulliRBM(_BaseRBM):
    """Restricted Boltzmann machine with binary visible units.

    Visible values in [0, 1] (grey levels are used as probabilities); binary,
    Gaussian (linear) or noisy rectified linear hidden units. Trained by
    CD-k, persistent CD, fast persistent CD or parallel tempering with
    momentum, weight decay, sparsity and a learning-rate schedule.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    learning_rate : float, default=0.1
        Learning rate of the weights and biases (gradients are averaged
        over the mini-batch).
%(params)s

    Attributes
    ----------
%(attrs)s

    See Also
    --------
    GaussianBernoulliRBM : real-valued visible units.
    sklearn.neural_network.BernoulliRBM : PCD-1, no momentum.

    Notes
    -----
%(notes)s

    ``score_samples`` is the pseudo-log-likelihood per feature, averaged
    exactly over every feature; scikit-learn's ``BernoulliRBM`` flips one
    random feature and multiplies by ``n_features``, which makes the number
    grow with the dimension (scikit-learn issue 23179).

    References
    ----------
    Hinton, G. E. (2010). A practical guide to training restricted Boltzmann
    machines. UTML TR 2010-003.
    Tieleman, T. (2008). Training restricted Boltzmann machines using
    approximations to the likelihood gradient. ICML.
    Tieleman, T. & Hinton, G. E. (2009). Using fast weights to improve
    persistent contrastive divergence. ICML.
    Salakhutdinov, R. & Murray, I. (2008). On the quantitative analysis of
    deep belief networks. ICML.
    Desjardins, G., Courville, A., Bengio, Y., Vincent, P. & Delalleau, O.
    (2010). Tempered Markov chain Monte Carlo for training of restricted
    Boltzmann machines. AISTATS.
    Cho, K., Raiko, T. & Ilin, A. (2010). Parallel tempering is efficient
    for learning restricted Boltzmann machines. IJCNN.
    Burda, Y., Grosse, R. B. & Salakhutdinov, R. (2015). Accurate and
    conservative estimates of MRF log-likelihood using reverse annealing.
    AISTATS.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    >>> rbm = BernoulliRBM(n_components=2, n_iter=5, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (4, 2)
    >>> round(float(rbm.log_likelihood(X).mean()), 2) < 0
    True
    """

    _visible = "bernoulli"

    @blockwise(width=lambda self: None, dtype=lambda self: np.float64)
    def score_samples(self, X):
        """Pseudo-log-likelihood per feature of each sample.

        ``mean_f log p(x_f | x_-f)``, every feature flipped in turn (exact,
        deterministic). This is scikit-learn's ``BernoulliRBM.score_samples``
        divided by ``n_features`` (which scikit-learn estimates by flipping
        one random feature): not multiplied by the number of features, so
        models of different input sizes compare (scikit-learn issue 23179).
        It costs ``n_features`` free energies per sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input gives the same result as its dense equivalent;
            it is made dense a block of rows at a time. Streamed input is
            read a chunk at a time; a dask array gives a dask array.

        Returns
        -------
        pll : ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        self._check_energy("score_samples")
        return self._rows(X, self._pseudo_loglik, "score_samples")

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: the pseudo-log-likelihood per
        feature (higher is better), what model selection maximises.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def _pseudo_loglik(self, X):
        W, b = self.components_, self.intercept_visible_
        Hin = X @ W.T
        Hin += self.intercept_hidden_
        out = np.empty(X.shape[0])
        if self.hidden_unit == "bernoulli":
            _k.pseudo_loglik_rows(X, Hin, np.ascontiguousarray(W.T), b, out)
            return out
        # Gaussian hidden units: F changes by -b_f d - (d (Hin W)_f + d**2 |W_f|**2 / 2)
        delta = 1.0 - 2.0 * X
        dF = -(b * delta) - delta * (Hin @ W) - 0.5 * delta ** 2 * (W * W).sum(axis=0)
        return -np.logaddexp(0, -dF.astype(np.float64)).mean(axis=1)


@fill_docstring(params=_PARAMETERS_DOC, attrs=_ATTRIBUTES_DOC, notes=_NOTES_DOC)
class GaussianBernoulliRBM(_BaseRBM):
    """Restricted Boltzmann machine with Gaussian visible units.

    Real-valued visible units with unit variance (standardise the data) or
    learned per-feature variances; binary, Gaussian (linear) or noisy
    rectified linear hidden units.

    Energy ``E(v, h) = sum_i (v_i - b_i)**2 / (2 s_i**2) - c.h - h W v``:
    ``p(h | v) = sigmoid(c + v W.T)`` (no division by ``s``, so
    ``transform`` is the plain encoder of ``components_``) and
    ``p(v | h) = N(b + s**2 (h W), s**2)``. The decoder of the encoder
    contract is ``decoder_components_ = W * s**2``.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    learning_rate : float, default=0.01
        Learning rate of the weights, biases and learned log-variances
        (gradients are averaged over the mini-batch); see the Notes on its
        size.
%(params)s
    learn_variance : bool, default=False
        Learn ``log s**2`` per feature (initialised from the data variance)
        instead of fixing ``s = 1``.

    Attributes
    ----------
%(attrs)s
    sigma_ : ndarray of shape (n_features,)
        Standard deviations ``s`` of the visible units.
    decoder_components_ : ndarray of shape (n_components, n_features)
        ``components_ * sigma_**2``: the mean reconstruction is
        ``H @ decoder_components_ + intercept_visible_``.

    See Also
    --------
    BernoulliRBM : binary visible units.

    Notes
    -----
%(notes)s

    Gaussian visible units need a learning rate one or two orders of
    magnitude below that of binary units (guide, section 13.2). There is
    no ``score_samples``: the pseudo-likelihood of a Gaussian unit given
    the others is a mixture over every hidden configuration, not
    tractable; :meth:`log_likelihood` gives the log-density.

    References
    ----------
    Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the dimensionality
    of data with neural networks. Science 313.
    Cho, K., Ilin, A. & Raiko, T. (2011). Improved learning of Gaussian-
    Bernoulli restricted Boltzmann machines. ICANN.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import GaussianBernoulliRBM
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> rbm = GaussianBernoulliRBM(n_components=2, n_iter=3, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (50, 2)
    """

    _visible = "gaussian"

    def score(self, X, y=None):
        """Minus the mean squared error of the mean-field reconstruction
        ``E[v | h = E[h | x]]`` per sample (higher is better).

        The pseudo-likelihood of Gaussian visible units is not tractable
        (see the Notes), so model selection scores the reconstruction.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        return -float(np.mean(self._rows(X, self._squared_error, "score")))

    def _squared_error(self, X):
        H = encode(X, self.components_, self.intercept_hidden_, self.hidden_activation_)
        R = H @ self.decoder_components_
        R += self.intercept_visible_
        R -= X
        return np.einsum("ij,ij->i", R, R, dtype=np.float64)

    _parameter_constraints = {**_BaseRBM._parameter_constraints,
                              "learn_variance": ["boolean"]}

    def __init__(self, n_components=256, *, learning_rate=0.01, batch_size=10, n_iter=10,
                 verbose=0, random_state=None, method="cd", k=1, n_chains=None,
                 n_temperatures=10, hidden_unit="bernoulli", sample_visible=False,
                 initial_momentum=0.5, final_momentum=0.9, momentum_switch=5,
                 weight_decay=0.0002, sparsity_target=0.1, sparsity_cost=0.0,
                 learning_rate_schedule="constant", k_schedule="constant",
                 fast_learning_rate=None, fast_decay=0.95, shuffle=True, learn_variance=False):
        # only the default learning rate differs from _BaseRBM's
        super().__init__(
            n_components, learning_rate=learning_rate, batch_size=batch_size, n_iter=n_iter,
            verbose=verbose, random_state=random_state, method=method, k=k, n_chains=n_chains,
            n_temperatures=n_temperatures, hidden_unit=hidden_unit, sample_visible=sample_visible,
            initial_momentum=initial_momentum, final_momentum=final_momentum,
            momentum_switch=momentum_switch, weight_decay=weight_decay,
            sparsity_target=sparsity_target, sparsity_cost=sparsity_cost,
            learning_rate_schedule=learning_rate_schedule, k_schedule=k_schedule,
            fast_learning_rate=fast_learning_rate, fast_decay=fast_decay, shuffle=shuffle)
        self.learn_variance = learn_variance
