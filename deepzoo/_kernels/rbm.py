"""Kernels of the restricted Boltzmann machines.

Pure functions on arrays: fused bias + activation + sampling steps (label
units included), the whole training epoch (``train_epoch``), free-energy
sums, the exact partition function by enumeration, annealed importance
sampling forward and in reverse (``anneal``, with Neal's tempered
transitions along its path: ``tempered_transition``), the tempered steps
and swaps of parallel tempering; and their Python entry points (``run_epoch``,
``gibbs_chain``, ``tempered_chain``, ``draw_keys``), which allocate the
buffers and draw the keys. Matrix products go to BLAS: in the callers, and
inside ``train_epoch`` and ``anneal`` through ``_blas``
(docs/ARCHITECTURE.md gives the reasons).
Row loops run in parallel; every random draw is ``uniform(key, row * n_cols
+ col)`` (see ``_fastmath``), so a key reproduces a step bit for bit
whatever the number of threads.

An output argument with zero rows means "not wanted": the kernel skips it.

The per-mini-batch kernels are serial: they take tens of microseconds, less
than waking a thread team costs, and the numba threads then spin on the
cores that the next GEMM's BLAS threads need (measured: a parallel weight
update made a CD-1 epoch several times slower and far more variable). The
evaluation kernels (free energies, pseudo-likelihood, enumeration of states)
that do O(n_features * n_components) or more work per parallel task run in
parallel. Sums of softplus terms run in the data type (see
``softplus_rows``).
"""

import contextlib
import contextvars
import math
from collections import namedtuple

import numpy as np
from numba import prange, types
from numba.extending import overload

from ..utils._threads import run_blocks
from . import _fastmath as fm
from ._blas import axpy, gemm, gemv, scal
from ._config import kernel, parallel_kernel, unfused_kernel, when_given


@kernel
def sigmoid_rows(Z, z_scale, bias, out_scale, key, P, S, first=0):
    """``P = out_scale * sigmoid(z_scale * Z + bias)``; ``S ~ Bernoulli(sigmoid(.))``.

    ``S`` with zero rows: no sample drawn. Outputs should not overlap ``Z``:
    LLVM's run-time alias check would fall back to scalar code (4x slower).
    ``first``: the rows are rows ``first, first + 1, ...`` of a larger
    array, and draw what that array's rows would (blocks of rows on
    threads draw what one call on all rows draws).
    """
    n, m = Z.shape
    sample = S.shape[0] > 0
    z_scale = fm.cast_like(z_scale, bias[0])
    out_scale = fm.cast_like(out_scale, bias[0])
    for i in prange(n):
        base = (first + i) * m
        for j in range(m):
            p = fm.sigmoid(z_scale * Z[i, j] + bias[j])
            if sample:
                S[i, j] = 1.0 if fm.uniform(key, base + j, p) < p else 0.0
            P[i, j] = out_scale * p


@kernel
def sigmoid_sqerr_rows(Z, bias, X, P, err):
    """``P = sigmoid(Z + bias)`` and ``err[i] = sum_j (X[i, j] - P[i, j])**2``."""
    n, m = Z.shape
    for i in prange(n):
        # monitoring only: accumulate in the data type (vectorises wider)
        acc = fm.cast_like(0.0, bias[0])
        for j in range(m):
            p = fm.sigmoid(Z[i, j] + bias[j])
            P[i, j] = p
            d = X[i, j] - p
            acc += d * d
        err[i] = acc


# (found with a persistent Gaussian RBM that learns its variances)
@unfused_kernel
def gaussian_rows(Z, bias, scale, std, key, M, S, first=0):
    """``M = bias + scale * Z``; ``S = M + std * N(0, 1)``.

    Linear (Gaussian) hidden units use ``scale = std = 1``; Gaussian visible
    units with variances ``s**2`` use ``scale = s**2`` and ``std = s``.
    ``first``: as in :func:`sigmoid_rows`.
    """
    n, m = Z.shape
    sample = S.shape[0] > 0
    for i in prange(n):
        base = (first + i) * m
        for j in range(m):
            mean = bias[j] + scale[j] * Z[i, j]
            if sample:
                S[i, j] = mean + std[j] * fm.normal(key, base + j, mean)
            M[i, j] = mean


# (found with a CD-1 RBM of these units; without either flag alone it
# fitted alike too)
@unfused_kernel
def nrelu_rows(Z, bias, key, M, S):
    """Noisy rectified linear units (Nair & Hinton 2010).

    ``M = max(0, x)`` with ``x = Z + bias``; ``S = max(0, x + N(0, sigmoid(x)))``.
    """
    n, m = Z.shape
    sample = S.shape[0] > 0
    for i in prange(n):
        base = i * m
        for j in range(m):
            x = Z[i, j] + bias[j]
            if sample:
                noise = fm.normal(key, base + j, x) * math.sqrt(fm.sigmoid(x))
                S[i, j] = max(x + noise, 0.0)
            M[i, j] = max(x, 0.0)


@kernel
def sqerr_rows(X, V, err):
    """``err[i] = sum_j (X[i, j] - V[i, j])**2``."""
    n, m = X.shape
    for i in prange(n):
        acc = fm.cast_like(0.0, V[0, 0])
        for j in range(m):
            d = X[i, j] - V[i, j]
            acc += d * d
        err[i] = acc


@kernel
def softplus_rows(Z, bias, beta, out):
    """``out[i] = sum_j softplus(beta * (Z[i, j] + bias[j]))``.

    Summed in the data type: the vectorised loop keeps 32 partial sums, so
    the rounding error stays near that of a pairwise sum, while mixing
    float32 terms into a float64 sum would stop the vectorisation (2.5x
    slower, measured).
    """
    n, m = Z.shape
    beta = fm.cast_like(beta, bias[0])
    for i in prange(n):
        acc = fm.cast_like(0.0, bias[0])
        for j in range(m):
            acc += fm.softplus(beta * (Z[i, j] + bias[j]))
        out[i] = acc


def rows_shape(X):
    """``(n_samples, n_features)`` of a dense ``X`` or of a CSR matrix given
    as ``(data, indices, indptr, n_features)``."""
    if isinstance(X, tuple):
        return X[2].shape[0] - 1, X[3]
    return X.shape


def load_rows(X, order, start, nb, V):
    """``V[i] = X[order[start + i]]`` (``X[start + i]`` if ``order`` is
    empty) for ``i < nb``; ``X`` dense or a CSR tuple (see ``rows_shape``).

    Sparse input reads each mini-batch's rows straight from the CSR arrays
    (duplicate entries add up, as in ``toarray``): a separate compiled
    variant of the epoch, so dense input runs the very same loop as before.
    """
    d = V.shape[1]
    for i in range(nb):
        src = order[start + i] if order.shape[0] > 0 else start + i
        if isinstance(X, tuple):
            data, indices, indptr = X[0], X[1], X[2]
            V[i, :d] = 0
            for p in range(indptr[src], indptr[src + 1]):
                V[i, indices[p]] += data[p]
        else:
            V[i, :d] = X[src]


@overload(rows_shape, inline="always")
def _rows_shape_compiled(X):
    if isinstance(X, types.BaseTuple):
        return lambda X: (X[2].shape[0] - 1, X[3])
    return lambda X: X.shape


@overload(load_rows, inline="always")
def _load_rows_compiled(X, order, start, nb, V):
    if isinstance(X, types.BaseTuple):
        def load_csr(X, order, start, nb, V):
            data, indices, indptr = X[0], X[1], X[2]
            d = V.shape[1]
            for i in range(nb):
                src = order[start + i] if order.shape[0] > 0 else start + i
                for j in range(d):
                    V[i, j] = 0.0
                for p in range(indptr[src], indptr[src + 1]):
                    V[i, indices[p]] += data[p]
        return load_csr

    def load_dense(X, order, start, nb, V):
        d = X.shape[1]
        for i in range(nb):
            src = order[start + i] if order.shape[0] > 0 else start + i
            for j in range(d):  # (a row slice assignment ran 2x slower)
                V[i, j] = X[src, j]
    return load_dense


# Unit codes of ``hidden_rows`` / ``visible_rows`` / ``Settings``.
BERNOULLI, GAUSSIAN, NRELU = 0, 1, 2

# The same kinds as values of a type each (``unit_kind``), for the epoch
# kernel: compiled code dispatches on their types (``hidden_step``,
# ``visible_step``), so an RBM's epoch compiles the kernels of its own units
# only, where an int code compiles every kind's branch.
BernoulliUnits = namedtuple("BernoulliUnits", ["code"])
GaussianUnits = namedtuple("GaussianUnits", ["code"])
NReLUUnits = namedtuple("NReLUUnits", ["code"])
_KINDS = (BernoulliUnits(BERNOULLI), GaussianUnits(GAUSSIAN), NReLUUnits(NRELU))


def unit_kind(code):
    """The unit code ``code`` (``BERNOULLI``, ``GAUSSIAN``, ``NRELU``) as a
    value of a type of its own, with the code in its field ``code``."""
    return _KINDS[code]


@kernel
def hidden_rows(unit, Z, c, out_scale, key, M, S):
    """Hidden means ``out_scale * E[h | v]`` into ``M`` (samples into ``S``)
    from the inputs ``Z = v @ W.T``, for hidden units of type ``unit``."""
    if unit == BERNOULLI:
        sigmoid_rows(Z, 1.0, c, out_scale, key, M, S)
        return
    if unit == GAUSSIAN:
        ones = np.ones_like(c)
        gaussian_rows(Z, c, ones, ones, key, M, S)
    else:
        nrelu_rows(Z, c, key, M, S)
    _scale_rows(M, out_scale)


@kernel
def _scale_rows(M, out_scale):
    """``M *= out_scale`` (nothing to do for 1)."""
    if out_scale != 1.0:
        scale = fm.cast_like(out_scale, M[0, 0])
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                M[i, j] *= scale


@kernel
def visible_rows(unit, Z, b, var, std, n_labels, key, M, S):
    """Visible means into ``M`` (samples into ``S``) from ``Z = h @ W``:
    Bernoulli, or Gaussian with variances ``var = std**2``; the last
    ``n_labels`` columns are label units (``softmax_rows``) beside Bernoulli
    units."""
    if unit == BERNOULLI:
        sigmoid_rows(Z, 1.0, b, 1.0, key, M, S)
    else:
        gaussian_rows(Z, b, var, std, key, M, S)
    if n_labels > 0:
        softmax_rows(Z, b, Z.shape[1] - n_labels, M, S)


def hidden_step(unit, Z, c, out_scale, key, M, S):
    """``hidden_rows`` for the unit kind ``unit`` (``unit_kind``)."""
    hidden_rows(unit.code, Z, c, out_scale, key, M, S)


def visible_step(unit, Z, b, var, std, n_labels, key, M, S):
    """``visible_rows`` for the unit kind ``unit`` (``unit_kind``); no label
    units when ``n_labels`` is None."""
    visible_rows(unit.code, Z, b, var, std, n_labels or 0, key, M, S)


# Compiled, the two dispatch on the type of the unit kind: only that kind's
# kernel is typed (the Python twins above run with the JIT off). The epoch of
# a Bernoulli RBM thus never compiles the Gaussian and NReLU units, nor,
# given ``n_labels=None``, the label units.
@overload(hidden_step, inline="always")
def _hidden_step_compiled(unit, Z, c, out_scale, key, M, S):
    if unit.instance_class is BernoulliUnits:
        def bernoulli(unit, Z, c, out_scale, key, M, S):
            sigmoid_rows(Z, 1.0, c, out_scale, key, M, S)
        return bernoulli
    if unit.instance_class is GaussianUnits:
        def gaussian(unit, Z, c, out_scale, key, M, S):
            ones = np.ones_like(c)
            gaussian_rows(Z, c, ones, ones, key, M, S)
            _scale_rows(M, out_scale)
        return gaussian

    def nrelu(unit, Z, c, out_scale, key, M, S):
        nrelu_rows(Z, c, key, M, S)
        _scale_rows(M, out_scale)
    return nrelu


def no_labels(n_labels):
    """Whether there are no label units: ``n_labels`` None or 0."""
    return not n_labels


@overload(no_labels, inline="always")
def _no_labels_compiled(n_labels):
    if isinstance(n_labels, types.NoneType):
        return lambda n_labels: True
    return lambda n_labels: n_labels == 0


@overload(visible_step, inline="always")
def _visible_step_compiled(unit, Z, b, var, std, n_labels, key, M, S):
    bernoulli = unit.instance_class is BernoulliUnits
    if isinstance(n_labels, types.NoneType):
        if bernoulli:
            def bernoulli_units(unit, Z, b, var, std, n_labels, key, M, S):
                sigmoid_rows(Z, 1.0, b, 1.0, key, M, S)
            return bernoulli_units

        def gaussian_units(unit, Z, b, var, std, n_labels, key, M, S):
            gaussian_rows(Z, b, var, std, key, M, S)
        return gaussian_units
    if bernoulli:
        def bernoulli_labelled(unit, Z, b, var, std, n_labels, key, M, S):
            sigmoid_rows(Z, 1.0, b, 1.0, key, M, S)
            if n_labels > 0:
                softmax_rows(Z, b, Z.shape[1] - n_labels, M, S)
        return bernoulli_labelled

    def gaussian_labelled(unit, Z, b, var, std, n_labels, key, M, S):
        gaussian_rows(Z, b, var, std, key, M, S)
        if n_labels > 0:
            softmax_rows(Z, b, Z.shape[1] - n_labels, M, S)
    return gaussian_labelled


@kernel
def softmax_rows(Z, bias, start, M, S):
    """Label units (Hinton, Osindero & Teh 2006): columns ``start:`` form
    one softmax group, ``M[i, start:] = softmax(Z[i, start:] + bias[start:])``.
    ``S`` (when it has rows) takes the same probabilities: a chain carries
    the label probabilities, not sampled labels."""
    n, d = Z.shape
    sample = S.shape[0] > 0
    for i in prange(n):
        top = Z[i, start] + bias[start]
        for j in range(start + 1, d):
            top = max(top, Z[i, j] + bias[j])
        total = fm.cast_like(0.0, bias[0])
        for j in range(start, d):
            p = fm.exp(Z[i, j] + bias[j] - top)
            M[i, j] = p
            total += p
        for j in range(start, d):
            M[i, j] /= total
            if sample:
                S[i, j] = M[i, j]


def draw_keys(rng, shape):
    """Keys of the counter-based generator (see ``_fastmath``) drawn from a
    ``numpy.random.RandomState``: how the RBM family seeds its kernels."""
    return rng.randint(np.iinfo(np.int64).max, size=shape, dtype=np.int64).astype(np.uint64)


def gibbs_chain(v, W, b, c, keys, *, visible=BERNOULLI, hidden=BERNOULLI, sigma=None,
                n_labels=0, clamp=None):
    """Block Gibbs sampling from the visible states ``v``: per row of
    ``keys`` (shape (n_steps, 2)), ``h ~ p(h | v)``, then ``v ~ p(v | h)``.

    ``sigma``: the standard deviations of Gaussian visible units;
    ``n_labels``: the last visible columns are one softmax group. ``clamp``:
    a boolean mask broadcastable to ``v``; the units it marks keep their
    values in ``v``, in the states and in the means (sampling from the
    conditional distribution of the others: in-painting, or a DBN's label
    units held at a class). Returns the means and the states of the last
    visible step.
    """
    n = v.shape[0]
    m, d = W.shape
    M, H = np.empty((n, m), W.dtype), np.empty((n, m), W.dtype)
    Vm, V = np.empty((n, d), W.dtype), np.empty((n, d), W.dtype)
    std = np.empty(0, W.dtype) if sigma is None else sigma
    var = std * std
    held = v
    for key_h, key_v in keys:
        hidden_rows(hidden, v @ W.T, c, 1.0, key_h, M, H)
        visible_rows(visible, H @ W, b, var, std, n_labels, key_v, Vm, V)
        if clamp is not None:
            np.copyto(V, held, where=clamp)
            np.copyto(Vm, held, where=clamp)
        v = V
    return Vm, V


def tempered_chain(v, W, b, c, keys, betas, *, visible=BERNOULLI, sigma=None):
    """Parallel tempering (Swendsen & Wang 1986; for RBMs Desjardins et al.
    2010): chains at the inverse temperatures ``betas`` (decreasing from
    ``betas[0] = 1``, the model) of ``p_beta(v, h) ~ exp(-beta E(v, h))``
    (Gaussian visible units: the quadratic term untempered, see
    ``tempered_visible_rows``). Bernoulli hidden units.

    ``v``: the starting visible states, ``len(betas)`` blocks of ``n``
    rows, block ``t`` at ``betas[t]``. Per row of ``keys`` (shape
    (n_steps, 3)): ``h ~ p_beta(h | v)``, one round of swaps between
    neighbouring temperatures (``pt_swap``), then ``v ~ p_beta(v | h)``.
    Returns the means and states of the last visible step (all blocks; the
    first is the model's) and the accepted swaps of each neighbouring pair.
    """
    n_rows = v.shape[0]
    m, d = W.shape
    n = n_rows // betas.shape[0]
    H = np.empty((n_rows, m), W.dtype)
    Vm, V = np.empty((n_rows, d), W.dtype), np.empty((n_rows, d), W.dtype)
    coupling = np.empty(n_rows)
    accepted = np.zeros(betas.shape[0] - 1)
    std = np.empty(0, W.dtype) if sigma is None else sigma
    var = std * std
    tempered_b = b if visible == BERNOULLI else b[:0]
    for key_h, key_swap, key_v in keys:
        tempered_hidden_rows(v @ W.T, c, v, tempered_b, betas, n, 1.0, key_h, H[:0], H,
                             coupling)
        pt_swap(coupling, betas, n, key_swap, H, accepted)
        tempered_visible_rows(visible, H @ W, b, var, std, betas, n, key_v, Vm, V)
        v = V
    return Vm, V, accepted


# The arguments of ``train_epoch``, grouped and named; ``run_epoch`` builds
# them by keyword, so that moving a field cannot silently swap two arrays.
# numba types a namedtuple by its fields (one compiled variant per set of
# field types, as for separate arguments). Arrays with zero rows mean
# "absent"; the arrays of an optional feature whose code is large are None
# instead when it is off, so that the epoch's variants without it never
# compile that code (``when_given``, ``n_blocks``).

#: The learned arrays, updated in place: weights (m, d), visible and hidden
#: biases, the Gaussian visible units' standard deviations (kept equal to
#: ``exp(log_variance / 2)`` when the variance is learned; ``log_variance``
#: and its velocity are None when it is not).
Parameters = namedtuple("Parameters", ["W", "b", "c", "sigma", "log_variance"])

#: What the optimiser carries from one update to the next, updated in
#: place: the momentum of each parameter, the persistent hidden chains
#: (n_chains, m) of PCD/FPCD, the fast weights of FPCD (None for the other
#: methods) and the running mean
#: of the positive hidden probabilities that the sparsity penalty follows.
#: Parallel tempering: ``betas`` (n_temperatures,), decreasing from 1, and
#: ``chains`` of n_temperatures blocks of chains, block ``t`` at
#: ``betas[t]`` (the first is the model's, whose states give the negative
#: statistics); ``swaps`` (n_temperatures - 1,) counts the accepted swaps
#: between neighbouring temperatures. Both are None without parallel
#: tempering (not empty arrays): the epoch's variant for the other methods
#: then never compiles the tempered steps (``pt_visible_step``,
#: ``pt_hidden_step``; 2-3 s of a first fit, measured).
State = namedtuple("State", ["velocity_W", "velocity_b", "velocity_c", "velocity_log_variance",
                             "chains", "fast_W", "fast_b", "fast_c", "mean_hidden", "betas",
                             "swaps"])

#: Scalars of the epoch: unit codes (``BERNOULLI``, ``GAUSSIAN``,
#: ``NRELU``; ``run_epoch`` hands them to the kernel as ``unit_kind``
#: values, so that it compiles only the units it runs), Gibbs steps,
#: whether CD's final visible states are sampled, the rates and costs of the update (weight decay on ``W`` only), the
#: number of label units (the last visible columns, see ``visible_rows``);
#: the features a caller leaves out (labels, fast weights, sparsity) are
#: off. Rates are floats: an int would compile another variant.
Settings = namedtuple("Settings", [
    "visible", "hidden", "k", "sample_visible", "learning_rate", "momentum", "weight_decay",
    "n_labels", "fast_learning_rate", "fast_decay", "sparsity_target", "sparsity_cost",
    "sparsity_decay"], defaults=[0, 0.0, 0.0, 0.0, 0.0, 0.0])

#: Work buffers: ``buffers_v`` (3, rows, d) and ``buffers_h`` (3, rows, m)
#: with ``rows >= batch + max(batch, chains)`` (every chain of every
#: temperature), ``G`` (m, d) for the raw weight gradient (FPCD only),
#: ``err`` (batch,), whose length is the mini-batch size.
Scratch = namedtuple("Scratch", ["buffers_v", "buffers_h", "G", "err"])


_LABEL_VARIANT = contextvars.ContextVar("deepzoo_rbm_label_variant", default=False)


@contextlib.contextmanager
def label_variant():
    """Within the block, every epoch runs the kernel's variant with label
    units, with or without labels (a run-time branch on their number).

    A DBN fitted with labels trains its lower RBMs and its labelled top
    RBM in this one compiled variant; without the block they would compile
    two (the unlabelled one for the lower RBMs): 12.7 against 8.9 cpu s of
    a first supervised fit, measured.
    """
    token = _LABEL_VARIANT.set(True)
    try:
        yield
    finally:
        _LABEL_VARIANT.reset(token)


def run_epoch(X, order, keys, settings, *, batch_size, W, b, c, velocity_W, velocity_b,
              velocity_c, sigma=None, log_variance=None, velocity_log_variance=None,
              chains=None, fast_W=None, fast_b=None, fast_c=None, mean_hidden=None,
              betas=None, swaps=None, scratch_cache=None):
    """``train_epoch`` called by keyword; arrays left out (None) are absent.

    Parameters
    ----------
    X, order, keys : as in ``train_epoch``.
    settings : Settings
    batch_size : int
        Rows per mini-batch (at most ``X``'s rows).
    W, b, c, velocity_W, velocity_b, velocity_c : ndarray
        The parameters and their momentum, updated in place.
    sigma, log_variance, velocity_log_variance, chains, fast_W, fast_b, fast_c, mean_hidden
        Optional: see ``Parameters`` and ``State``.
    betas, swaps : ndarray, optional
        Parallel tempering (see ``State``): the inverse temperatures and
        the swap counters, with ``chains`` holding every temperature's.
    scratch_cache : dict, optional
        The kernel's scratch buffers, kept by shape for the next call (the
        epochs of one fit). Each call otherwise maps its own, and a large
        scratch mapped afresh costs the kernel a first touch of every page
        (4% of an epoch at 784-2000, batch 1000). No epoch reads what an
        earlier one left there.

    Returns
    -------
    total : float
        Summed squared reconstruction error of the epoch (with persistent
        chains, estimated from a tenth of each mini-batch's rows).
    negative : ndarray of shape (n_negative, d)
        The final negative visible states of the epoch's last mini-batch
        (the chains' states for PCD, the model's chains for parallel
        tempering; what the statistics used): a view into the scratch,
        overwritten by the next call that shares ``scratch_cache``.
    """
    dtype = W.dtype
    m, d = W.shape
    absent1, absent2 = np.empty(0, dtype), np.empty((0, m), dtype)

    def given(a, absent):
        return absent if a is None else a

    chains = given(chains, absent2)
    if log_variance is None:
        velocity_log_variance = None
    settings = settings._replace(visible=unit_kind(settings.visible),
                                 hidden=unit_kind(settings.hidden),
                                 n_labels=settings.n_labels if _LABEL_VARIANT.get()
                                 else settings.n_labels or None)
    fpcd = fast_W is not None
    rows = batch_size + max(batch_size, chains.shape[0])
    key = (rows, m, d, fpcd, batch_size, dtype)
    scratch = None if scratch_cache is None else scratch_cache.get(key)
    if scratch is None:
        scratch = Scratch(buffers_v=np.empty((3, rows, d), dtype),
                          buffers_h=np.empty((3, rows, m), dtype),
                          G=np.empty((m, d) if fpcd else (0, d), dtype),
                          err=np.empty(batch_size, dtype))
        if scratch_cache is not None:
            scratch_cache[key] = scratch
    total = train_epoch(
        X, order,
        Parameters(W=W, b=b, c=c, sigma=given(sigma, absent1), log_variance=log_variance),
        State(velocity_W=velocity_W, velocity_b=velocity_b, velocity_c=velocity_c,
              velocity_log_variance=velocity_log_variance, chains=chains, fast_W=fast_W,
              fast_b=fast_b, fast_c=fast_c, mean_hidden=given(mean_hidden, absent1),
              betas=betas, swaps=swaps),
        settings, keys, scratch)
    n = rows_shape(X)[0]
    last = n - (n - 1) // batch_size * batch_size  # rows of the last mini-batch
    n_negative = chains.shape[0] // n_blocks(betas) if chains.shape[0] else last
    return total, scratch.buffers_v[0, last:last + n_negative]


@kernel
def train_epoch(X, order, params, state, settings, keys, scratch):
    """One epoch of CD-k, PCD, fast PCD or parallel tempering in
    mini-batches of ``scratch.err.shape[0]`` rows; updates ``params`` and
    ``state`` in place and returns the summed squared reconstruction error
    (persistent chains: estimated from a tenth of each mini-batch's rows).

    The algorithm, stated plainly, is ``tests/naive.py: rbm_train_epoch``
    (``tests/test_rbm_epoch.py`` holds the two together over every
    training option); this is its fast form. The whole loop is compiled:
    per mini-batch, Python would cost more than the element-wise work
    (measured: 170 us per batch against 150 us of kernels for a 784-500
    RBM). Matrix products go to BLAS (``_blas.gemm``).

    Parameters
    ----------
    X : (n, d) data, dense or a CSR matrix as ``(data, indices, indptr, d)``
        (see ``load_rows``).
    order : (n,) row order, or empty for ``X``'s order.
    params : Parameters
    state : State
    settings : Settings
    keys : (n_batches, 2 k + 2) keys of the random draws: ``[0]`` positive
        hidden samples, ``[1 + 2 s]`` visible and ``[2 + 2 s]`` hidden states
        of Gibbs step ``s``; with parallel tempering (n_batches, 3 k + 2),
        ``[2 k + 2 + s]`` the swaps after step ``s``.
    scratch : Scratch
    """
    # by name, never by position: the groups' fields may move
    W, b, c = params.W, params.b, params.c
    sigma, log_variance = params.sigma, params.log_variance
    velocity_W, velocity_b, velocity_c = state.velocity_W, state.velocity_b, state.velocity_c
    chains, mean_hidden = state.chains, state.mean_hidden
    betas, swaps = state.betas, state.swaps
    fast_W, fast_b, fast_c = state.fast_W, state.fast_b, state.fast_c
    # unit kinds (``unit_kind``): the unit steps dispatch on their types
    visible, hidden, k = settings.visible, settings.hidden, settings.k
    n_labels = settings.n_labels
    lr, momentum = settings.learning_rate, settings.momentum
    buffers_v, buffers_h, G, err = scratch.buffers_v, scratch.buffers_h, scratch.G, scratch.err
    n, d = rows_shape(X)
    m = W.shape[0]
    bs = err.shape[0]
    persistent = chains.shape[0] > 0
    fpcd = fast_W is not None
    tempered = betas is not None
    # chains per temperature (the model's chains are the first block)
    n_cold = chains.shape[0] // n_blocks(betas)
    # tempered part of each chain's negative energy, for the swaps
    coupling = np.empty(chains.shape[0] if tempered else 0)
    gaussian_visible = visible.code == GAUSSIAN
    learn_variance = log_variance is not None
    # The stacked statistics: V = [v_data; v_model], H = [h_data; -h_model
    # scaled by nb / n_neg], so that one product H.T @ V is the gradient.
    V, Av, Vm = buffers_v[0], buffers_v[1], buffers_v[2]
    H, Ah, Hs = buffers_h[0], buffers_h[1], buffers_h[2]
    var = sigma * sigma
    no_key = np.uint64(0)
    # negative-phase parameters: the weights, or with FPCD the sum of the
    # regular and fast weights
    W_n, b_n, c_n = W, b, c
    if fpcd:
        W_n, b_n, c_n = np.empty_like(W), np.empty_like(b), np.empty_like(c)
    # (then kept up to date by each update, _fast_pcd_step)
    _fast_sum(fast_W, W, W_n)
    _fast_sum(fast_c, c, c_n)
    _fast_sum(fast_b, b, b_n)
    # Every pass over the weights costs about as much as the element-wise
    # work of a whole batch (784-500 RBM: ~100 us, the weights having left
    # the cache during the products), so the weight step avoids them: the
    # weights are kept scaled, W = s_cur A (Bottou's trick), and with
    # momentum the step is a heavy-ball recurrence on two buffers A, B
    # (see _heavy_ball_step, _scaled_decay_step, _plain_step).
    # Measured (CD-1 epoch of a 784-500 RBM, 20,000 samples): 455 -> 434 ms,
    # the four products alone taking 330-365 ms.
    heavy_ball = momentum > 0 and not fpcd
    A, B = W, W
    s_cur, s_prev = 1.0, 1.0
    if heavy_ball:
        B = W - velocity_W
    swapped = False
    sums_h = np.empty(m, V.dtype)
    grad_b = np.empty(d, V.dtype)
    # weights of the rows in the bias gradients, as matrix-vector products
    # (BLAS's gemv, which reads the statistics once; a one-row gemm packed
    # them first and took 1.2 against 0.33 ms per batch at 784-2000, batch
    # 1000): positive rows 1 / nb, negative rows -1 / n_neg.
    u = np.empty(buffers_v.shape[1], V.dtype)
    grad_lv = np.empty(d if learn_variance else 0)
    total = 0.0
    for t in range((n + bs - 1) // bs):
        start = t * bs
        nb = min(bs, n - start)
        # n_neg negative rows enter the statistics; n_run chains are run
        # (every temperature's with parallel tempering, the model's first)
        n_neg = n_cold if persistent else nb
        n_run = chains.shape[0] if persistent else nb
        rows = nb + n_neg
        load_rows(X, order, start, nb, V)
        Vpos, Vneg, Hpos, Hneg = V[:nb], V[nb:rows], H[:nb], H[nb:rows]
        Vrun = V[nb:nb + n_run]  # the chains' visible states, Vneg first
        e = err[:nb]
        # Positive phase: hidden probabilities for the statistics, binary
        # samples to drive the reconstruction (guide, sections 3.1-3.2).
        s_n = 1.0
        if not fpcd:
            W_n, s_n = A, s_cur
        gemm(False, True, s_cur, Vpos, A, 0.0, Ah[:nb])
        hidden_step(hidden, Ah[:nb], c, 1.0, keys[t, 0], Hpos, Hs[:nb])
        if settings.sparsity_cost > 0:
            u[:nb] = 1.0 / nb
            gemv(True, 1.0, Hpos, u[:nb], 0.0, sums_h)
            for j in range(m):
                mean_hidden[j] = (settings.sparsity_decay * mean_hidden[j]
                                  + (1 - settings.sparsity_decay) * sums_h[j])
        h = Hs[:nb]
        # without fast weights, the chains' first product is stacked under
        # the monitoring product below (same weights): one product of nb +
        # n_run rows costs less than two (784-500, one BLAS thread: 44% less
        # at batch 10, 6.5% at batch 100, measured)
        stacked = persistent and not fpcd
        n_mon = nb  # rows whose reconstruction error is measured
        if persistent:
            # Reconstruction error of the data: monitoring only (the negative
            # phase runs on the persistent chains), so measured on a share of
            # the rows (the batch is a random draw) and scaled to the batch:
            # all of them would make the stacked product nb rows longer,
            # a fifth more product work per batch.
            n_mon = (nb + _MONITOR_SHARE - 1) // _MONITOR_SHARE
            n_first = n_mon
            if stacked:
                # (the positive samples past n_mon are not needed any more)
                _copy(chains, Hs[n_mon:n_mon + n_run])
                n_first = n_mon + n_run
            gemm(False, False, s_cur, Hs[:n_first], A, 0.0, Av[:n_first])
            visible_step(visible, Av[:n_mon], b, var, sigma, n_labels, no_key, Vm[:n_mon],
                         Vm[:0])
            sqerr_rows(Vpos[:n_mon], Vm[:n_mon], e[:n_mon])
            h = chains
        neg_means = False
        for step in range(k):
            last = step == k - 1
            Z = Av[:n_run]  # the chains' visible inputs
            if step == 0 and stacked:
                Z = Av[n_mon:n_mon + n_run]
            else:
                gemm(False, False, s_n, h, W_n, 0.0, Z)
            if tempered:
                pt_visible_step(visible.code, Z, b_n, var, sigma, betas, n_cold,
                                keys[t, 1 + 2 * step], Vm[:n_run], Vrun)
            elif not last or settings.sample_visible or persistent:
                # a Markov chain needs sampled states; their means go to Vm
                visible_step(visible, Z, b_n, var, sigma, n_labels,
                             keys[t, 1 + 2 * step], Vm[:n_run], Vrun)
                if step == 0 and not persistent:
                    sqerr_rows(Vpos, Vm[:n_neg], e)
            else:
                # the final reconstruction uses the means (section 3.2)
                neg_means = True
                if visible.code == BERNOULLI and step == 0 and no_labels(n_labels):
                    # CD-1 fast path: the error in the same pass
                    sigmoid_sqerr_rows(Z, b_n, Vpos, Vneg, e)
                else:
                    visible_step(visible, Z, b_n, var, sigma, n_labels, no_key, Vneg, Vneg[:0])
                    if step == 0:
                        sqerr_rows(Vpos, Vneg, e)
            gemm(False, True, s_n, Vrun, W_n, 0.0, Ah[:n_run])
            if tempered:
                # the model's hidden probabilities for the statistics (last
                # step), every chain's sampled state, then the swaps
                states = chains if last else Hs[:n_run]
                # (Gaussian visible units: the tempered energy has no b.v)
                b_coupling = b_n if visible.code == BERNOULLI else b_n[:0]
                pt_hidden_step(Ah[:n_run], c_n, Vrun, b_coupling, betas, n_cold, -nb / n_neg,
                               keys[t, 2 + 2 * step], Hneg if last else Hneg[:0], states,
                               coupling, keys[t, 2 * k + 2 + step], swaps)
                h = states
            elif last:
                # The final hidden update uses probabilities (section 3.3);
                # persistent chains also keep a sampled state.
                hidden_step(hidden, Ah[:n_neg], c_n, -nb / n_neg, keys[t, 2 + 2 * step], Hneg,
                            chains if persistent else chains[:0])
            else:
                hidden_step(hidden, Ah[:n_neg], c_n, 1.0, keys[t, 2 + 2 * step], Hneg,
                            Hs[:n_neg])
                h = Hs[:n_neg]
        batch_err = 0.0
        for i in range(n_mon):
            batch_err += e[i]
        total += batch_err * nb / n_mon

        # Weights: velocity = momentum * velocity + lr * (G / nb - wd * W);
        # W += velocity, with the step folded into the product (BLAS alpha
        # and beta) where the update allows.
        scale = 1.0 / nb
        step_scale = lr * scale
        decay = lr * settings.weight_decay
        if fpcd:
            gemm(True, False, 1.0, H[:rows], V[:rows], 0.0, G)
            _fast_pcd_step(fast_W, W, G, velocity_W, W_n, lr, momentum, scale,
                           settings.weight_decay, settings.fast_decay,
                           settings.fast_learning_rate * scale)
        elif heavy_ball:
            s_new = _heavy_ball_step(A, B, s_cur, s_prev, H[:rows], V[:rows], step_scale,
                                     momentum, decay)
            A, B = B, A
            s_cur, s_prev = s_new, s_cur
            swapped = not swapped
        elif start + nb < n and (1.0 - decay) * s_cur >= _MIN_SCALE:
            s_cur = _scaled_decay_step(A, s_cur, H[:rows], V[:rows], step_scale, decay)
        else:
            s_cur = _plain_step(A, s_cur, H[:rows], V[:rows], step_scale, decay,
                                start + nb == n, velocity_W)

        # Biases (no weight decay), from the same statistics.
        # (the negative hidden rows are already scaled by -nb / n_neg)
        u[:rows] = 1.0 / nb
        gemv(True, 1.0, H[:rows], u[:rows], 0.0, sums_h)
        if settings.sparsity_cost > 0:
            # Lee et al. (2008): the penalty moves the hidden biases only.
            for j in range(m):
                sums_h[j] += settings.sparsity_cost * (settings.sparsity_target
                                                       - mean_hidden[j])
        u[nb:rows] = -1.0 / n_neg
        gemv(True, 1.0, V[:rows], u[:rows], 0.0, grad_b)
        if gaussian_visible:
            for i in range(d):
                grad_b[i] /= var[i]
        # (the variance's gradient is taken before b moves)
        _variance_step(log_variance, state.velocity_log_variance, Vpos, Vneg, b, sigma, var,
                       1.0 if neg_means else 0.0, grad_lv, lr, momentum)
        if fpcd:
            _fast_pcd_step(fast_c, c, sums_h, velocity_c, c_n, lr, momentum, 1.0, 0.0,
                           settings.fast_decay, settings.fast_learning_rate)
            _fast_pcd_step(fast_b, b, grad_b, velocity_b, b_n, lr, momentum, 1.0, 0.0,
                           settings.fast_decay, settings.fast_learning_rate)
        else:
            decay_momentum_step(c, sums_h, velocity_c, lr, momentum, 1.0, 0.0)
            decay_momentum_step(b, grad_b, velocity_b, lr, momentum, 1.0, 0.0)
    _unscale(s_cur, A)
    if heavy_ball:
        _difference(A, B, s_prev, velocity_W)
        if swapped:
            _copy(A, W)
    return total


_MIN_SCALE = 1e-6

# The persistent methods measure the reconstruction error on the first
# 1 / _MONITOR_SHARE of each mini-batch's rows (at least one).
_MONITOR_SHARE = 10

# The three forms of the weight step without fast weights. The weights are
# held as W = s A: weight decay is then a change of the scale s, and the
# products take s as BLAS's alpha. H and V are the stacked statistics (their
# product is nb times the gradient), ``step_scale = lr / nb`` and
# ``decay = lr * weight_decay``.


@kernel
def _heavy_ball_step(A, B, s_cur, s_prev, H, V, step_scale, momentum, decay):
    """The step with momentum, as the heavy-ball recurrence
    ``W' = (1 + momentum - decay) W - momentum W_prev + step_scale H.T V``
    (the momentum update with velocity ``W - W_prev``), for ``W = s_cur A``
    and ``W_prev = s_prev B``: ``W'`` is written into ``B`` with the scale
    ``-momentum s_prev``, one axpy and a product accumulated into ``B``
    (beta = 1). Returns the scale of ``B``; the caller swaps ``A`` and ``B``.
    """
    s_new = -momentum * s_prev
    if abs(s_new) < _MIN_SCALE:
        # |s| shrinks by the momentum every step: before the stored weights
        # grow out of range, B takes -momentum W_prev itself
        scal(s_new, B.reshape(-1))
        s_new = 1.0
    axpy((1.0 + momentum - decay) * s_cur / s_new, A.reshape(-1), B.reshape(-1))
    gemm(True, False, step_scale / s_new, H, V, 1.0, B)
    return s_new


@kernel
def _scaled_decay_step(A, s_cur, H, V, step_scale, decay):
    """The step without momentum, weight decay folded into the scale:
    ``W' = (1 - decay) W + step_scale H.T V`` with ``W = s_cur A``, one
    product accumulated into ``A``. Returns the new scale."""
    s_cur *= 1.0 - decay
    gemm(True, False, step_scale / s_cur, H, V, 1.0, A)
    return s_cur


@kernel
def _plain_step(A, s_cur, H, V, step_scale, decay, last, velocity_W):
    """The step without momentum on unscaled weights (the epoch's last
    update, or a scale about to fall below ``_MIN_SCALE``): ``A`` takes its
    scale ``s_cur`` first. The velocity only matters after the epoch's last
    update (the next epoch may use momentum): there it is ``W' - W``.
    Returns the new scale, 1."""
    _unscale(s_cur, A)
    if last:
        _copy(A, velocity_W)
    gemm(True, False, step_scale, H, V, 1.0 - decay, A)
    if last:
        _difference(A, velocity_W, 1.0, velocity_W)
    return 1.0



@kernel
def _unscale(s, A):
    """``A *= s`` (``A`` holds weights scaled by ``1 / s``); returns the new
    scale, 1."""
    if s != 1.0:
        scal(s, A.reshape(-1))
    return 1.0


@kernel
def _copy(A, out):
    """``out[:] = A`` for arrays of the same shape. (Slice assignment would
    compile numba's shape-mismatch message, its string formatting included:
    seconds of first use for a copy at the end of an epoch.)"""
    a, o = A.reshape(-1), out.reshape(-1)
    for i in range(o.shape[0]):
        o[i] = a[i]


@kernel
def _difference(A, B, scale, out):
    """``out = A - scale * B`` (``out`` may be ``B``)."""
    a, b, o = A.reshape(-1), B.reshape(-1), out.reshape(-1)
    scale = fm.cast_like(scale, o[0])
    for i in range(o.shape[0]):
        o[i] = a[i] - scale * b[i]


# Fast weights and a learned variance are None when off (see ``State``):
# their steps are then no-ops that are not even compiled (``when_given``).


@when_given
def _fast_pcd_step(fast, param, grad, velocity, out, learning_rate, momentum, grad_scale,
                   weight_decay, fast_decay, fast_step):
    """The update of fast PCD (Tieleman & Hinton 2009) in one pass over the
    parameters: the momentum step of ``param`` (``decay_momentum_step``);
    the fast parameters' step, ``fast = fast_decay * fast + fast_step *
    grad`` (the same gradient, a large rate, a decay towards zero); and
    ``out = param + fast``, the next negative phase's parameters.

    All five arrays contiguous, of one shape. Separate loops made four
    passes over the weights per mini-batch, each about as costly as a
    batch's element-wise work (see ``train_epoch``).
    """
    p, g, v = param.reshape(-1), grad.reshape(-1), velocity.reshape(-1)
    f, o = fast.reshape(-1), out.reshape(-1)
    learning_rate = fm.cast_like(learning_rate, p[0])
    momentum = fm.cast_like(momentum, p[0])
    step = learning_rate * fm.cast_like(grad_scale, p[0])
    decay = learning_rate * fm.cast_like(weight_decay, p[0])
    fast_decay = fm.cast_like(fast_decay, p[0])
    fast_step = fm.cast_like(fast_step, p[0])
    for k in range(p.shape[0]):
        vk = momentum * v[k] + step * g[k] - decay * p[k]
        v[k] = vk
        pk = p[k] + vk
        p[k] = pk
        fk = fast_decay * f[k] + fast_step * g[k]
        f[k] = fk
        o[k] = pk + fk


@when_given
def _fast_sum(fast, slow, out):
    """``out = slow + fast`` (contiguous arrays of one shape): the negative
    phase's parameters of fast PCD."""
    f, s, o = fast.reshape(-1), slow.reshape(-1), out.reshape(-1)
    for i in range(o.shape[0]):
        o[i] = s[i] + f[i]


@when_given
def _variance_step(log_variance, velocity, Vpos, Vneg, b, sigma, var, neg_means, grad,
                   learning_rate, momentum):
    """The momentum step of the log-variances of Gaussian visible units
    (``_variance_gradient`` into ``grad``), then ``sigma`` and ``var`` from
    them."""
    _variance_gradient(Vpos, Vneg, b, var, neg_means, grad)
    decay_momentum_step(log_variance, grad, velocity, learning_rate, momentum, 1.0, 0.0)
    for i in range(log_variance.shape[0]):
        sigma[i] = math.sqrt(math.exp(log_variance[i]))
        var[i] = sigma[i] * sigma[i]


@kernel
def _variance_gradient(Vpos, Vneg, b, var, neg_means, out):
    """``d(-E)/d log s**2 = (v - b)**2 / (2 s**2)``, data minus model; for
    negative states that are means of p(v | h) (``neg_means = 1.0``, else
    0.0), ``E[(v - b)**2 | h] = (mean - b)**2 + s**2``.

    ``neg_means`` is a float: a bool would be compiled twice, once for the
    literal ``False`` the epoch starts from and once for a run-time bool.
    """
    d = b.shape[0]
    pos = np.zeros(d)
    neg = np.zeros(d)
    for r in range(Vpos.shape[0]):
        for i in range(d):
            pos[i] += (Vpos[r, i] - b[i]) ** 2
    for r in range(Vneg.shape[0]):
        for i in range(d):
            neg[i] += (Vneg[r, i] - b[i]) ** 2
    for i in range(d):
        model = neg[i] / Vneg.shape[0] + neg_means * var[i]
        out[i] = (pos[i] / Vpos.shape[0] - model) / (2 * var[i])


@kernel
def decay_momentum_step(param, grad, velocity, learning_rate, momentum, grad_scale, weight_decay):
    """``velocity = momentum * velocity + lr * (grad_scale * grad - wd * param)``; ``param += velocity``.

    The RBM update of Hinton's recipe in one pass: gradient scaling (1 / batch)
    and L2 weight decay fused into the momentum step, so the raw statistics
    of the single weight-gradient GEMM are used as they are.

    All three arrays are 1-D views (``ravel`` of contiguous arrays).
    """
    learning_rate = fm.cast_like(learning_rate, param[0])
    momentum = fm.cast_like(momentum, param[0])
    step = learning_rate * fm.cast_like(grad_scale, param[0])
    decay = learning_rate * fm.cast_like(weight_decay, param[0])
    # one flat loop: a blocked loop with a min() bound ran 2.5x slower
    for k in range(param.shape[0]):
        v = momentum * velocity[k] + step * grad[k] - decay * param[k]
        velocity[k] = v
        param[k] += v



@kernel
def ais_hidden_rows(X, bias, beta_prev, beta, key, log_w, H, first=0):
    """One AIS step on the hidden side, for every chain (row).

    ``x = X + bias`` is the hidden input of the current visible state.
    Adds ``sum_j softplus(beta x_j) - softplus(beta_prev x_j)`` to
    ``log_w[i]`` (the change of the unnormalised log-probability from one
    temperature to the next) and samples ``H ~ Bernoulli(sigmoid(beta x))``,
    the hidden half of the transition that leaves ``p_beta`` invariant.
    ``first``: as in :func:`sigmoid_rows`.
    """
    n, m = X.shape
    beta_prev = fm.cast_like(beta_prev, bias[0])
    beta = fm.cast_like(beta, bias[0])
    zero, one = fm.cast_like(0.0, bias[0]), fm.cast_like(1.0, bias[0])
    step = beta - beta_prev  # exact for close temperatures (Sterbenz)
    for i in prange(n):
        base = (first + i) * m
        acc = zero
        for j in range(m):
            x = X[i, j] + bias[j]
            # With e = exp(-|y|): softplus(y) = max(y, 0) + log(1 + e) and
            # sigmoid(y) = (1 or e) / (1 + e), so one exp per temperature
            # serves both, and the softplus difference is
            # step max(x, 0) + log1p((e - e_prev) / (1 + e_prev)), whose
            # small argument keeps its digits where 1 + e would round them
            # (betas are not negative). Three exps and two logs as separate
            # functions were most of an annealing step's element-wise work.
            y = beta * x
            e, e_prev = fm.exp(-abs(y)), fm.exp(-abs(beta_prev * x))
            one_e = one + e
            acc += step * max(x, zero) + fm.log1p((e - e_prev) / (one + e_prev))
            p = (one if y >= zero else e) / one_e
            H[i, j] = 1.0 if fm.uniform(key, base + j, p) < p else 0.0
        log_w[i] += acc


@kernel
def _path_increment(bernoulli, V, W, b, base_b, c, beta_prev, beta, key, log_w, X, H, first):
    """``log_w += log f_beta(V) - log f_beta_prev(V)`` on the path of
    ``anneal``, and ``H ~ p_beta(h | V)`` (the hidden half of a sweep at
    ``beta``); ``X`` receives the hidden input ``V W^T``; ``first`` as in
    :func:`sigmoid_rows`."""
    n, d = V.shape
    gemm(False, True, 1.0, V, W, 0.0, X)
    ais_hidden_rows(X, c, beta_prev, beta, key, log_w, H, first)
    if bernoulli and beta != beta_prev:
        # the visible biases move from base_b to b along the path
        for i in range(n):
            acc = 0.0
            for j in range(d):
                acc += V[i, j] * (b[j] - base_b[j])
            log_w[i] += (beta - beta_prev) * acc


@kernel
def _visible_draw(bernoulli, H, W, b, base_b, sigma, beta, key, Y, Vm, V, bias, var_scale,
                  first):
    """``V ~ p_beta(v | H)`` on the path of ``anneal``, the visible half of
    a sweep (``Y``, ``Vm``, ``bias``, ``var_scale``: work buffers; ``first``
    as in :func:`sigmoid_rows`)."""
    d = V.shape[1]
    gemm(False, False, 1.0, H, W, 0.0, Y)
    if bernoulli:
        for j in range(d):
            bias[j] = (1.0 - beta) * base_b[j] + beta * b[j]
        sigmoid_rows(Y, beta, bias, 1.0, key, Vm, V, first)
    else:
        for j in range(d):
            var_scale[j] = beta * sigma[j] * sigma[j]
        gaussian_rows(Y, b, var_scale, sigma, key, Vm, V, first)


@kernel
def tempered_transition(bernoulli, V, W, b, base_b, c, sigma, beta, ladder, keys, S, r, X, H,
                        Y, Vm, bias, var_scale, first=0):
    """One tempered transition (Neal 1996) of every chain (row of ``V``,
    updated in place) at ``beta`` on the path of ``anneal``; returns the
    number of accepted proposals.

    The proposal anneals a copy ``S`` of the chains through the levels
    ``beta, beta * ladder[0], ..., beta * ladder[L - 1], ..., beta *
    ladder[0], beta`` (``ladder`` decreasing in (0, 1): down to a hotter
    distribution, where the chains cross between modes, and back), one
    Gibbs sweep at each of the ``2L - 1`` inner levels, adding up ``r =
    sum log f_next(S) - log f_level(S)`` at each change of level; a chain
    takes its proposal when ``log u < r``. The levels are a palindrome and
    every sweep is reversible, so the transition satisfies detailed balance
    with respect to ``p_beta``: it leaves ``p_beta`` invariant and is its
    own reversal, which RAISE's reverse chain needs. ``keys`` (2L, 2):
    the hidden and visible draws of each level, in order; the visible key
    of the last row (a level with no sweep) draws the acceptances.
    ``first``: as in :func:`sigmoid_rows`.
    """
    n = V.shape[0]
    top = 2 * ladder.shape[0]
    S[:, :] = V
    r[:] = 0.0
    level = beta
    for j in range(1, top + 1):
        nxt = beta if j == top else beta * ladder[min(j, top - j) - 1]
        _path_increment(bernoulli, S, W, b, base_b, c, level, nxt, keys[j - 1, 0], r, X, H,
                        first)
        if j < top:
            _visible_draw(bernoulli, H, W, b, base_b, sigma, nxt, keys[j - 1, 1], Y, Vm, S,
                          bias, var_scale, first)
        level = nxt
    key = keys[top - 1, 1]
    accepted = 0
    for i in range(n):
        if r[i] >= 0.0 or fm.uniform(key, first + i, r[i]) < math.exp(r[i]):
            V[i, :] = S[i, :]
            accepted += 1
    return accepted


@kernel
def anneal(visible, V, W, b, base_b, c, sigma, betas, keys, log_w, ladder, moves,
           tempered_keys, reverse, first=0):
    """Annealed importance sampling of the chains ``V`` (rows, updated in
    place) through the distributions of ``betas``, forward or in reverse;
    returns the tempered transitions' accepted proposals.

    The path (Salakhutdinov & Murray 2008; Bernoulli hidden units):
    ``f_beta(v) = sum_h exp(beta (c.h + h W v)) base(v)`` with ``base(v) =
    exp(((1 - beta) base_b + beta b).v)`` for Bernoulli visible units and
    ``exp(-sum (v - b)**2 / (2 s**2))`` for Gaussian ones (``sigma`` = s).
    Per step ``t = 1, 2, ...``: ``log_w += log f_t(V) - log f_(t-1)(V)``
    (the hidden part through ``ais_hidden_rows``, which also samples
    ``h ~ p_t(h | V)``); then, except after the last step, the transition
    ``T_t`` at ``betas[t]``: ``V ~ p_t(v | h)`` and ``n_sweeps - 1`` more
    Gibbs sweeps, where ``keys`` has shape (len(betas), n_sweeps, 2): the
    hidden and visible draws of each sweep of each step (row 0 unused);
    and the tempered transitions ``tempered_keys[moves[t]:moves[t + 1]]``
    (``tempered_transition`` with ``ladder``; ``moves`` (len(betas) + 1,)
    nondecreasing, all zero and ``ladder`` empty for none), after the
    sweeps, or before them when ``reverse`` (RAISE's reverse chain must run
    the reversal of each forward ``T_t``: the same moves in the opposite
    order; the sweeps' first hidden draw is then redone, under the same
    key, from the states the tempered transitions leave). Every move
    leaves ``p_t`` invariant, so the estimates stay unbiased; more sweeps,
    and tempered transitions that cross between modes where Gibbs sweeps
    cannot, bring the chains closer to ``p_t`` (one sweep is Salakhutdinov
    & Murray's protocol).

    Forward AIS runs ``betas`` from 0 to 1 from samples of the base model;
    ``log Z_0 + log mean exp(log_w)`` estimates ``log Z``. RAISE (Burda,
    Grosse & Salakhutdinov 2015) runs ``[1, 1, ..., 0]`` (the transition
    at ``beta = 1``, then the schedule backwards) from the data with
    ``reverse``: its ``log_w`` is minus the increments along the reverse
    chain, and ``-F(v) - log Z_0 + log_w`` estimates ``log q(v)`` from
    below, ``q`` the annealing model (the distribution of forward AIS's
    chains after the same transitions, that at ``beta = 1`` included).

    The chains are independent: ``first`` (as in :func:`sigmoid_rows`)
    lets blocks of them run apart and draw what one call on all of them
    draws (:func:`anneal_blocks`).
    """
    n, d = V.shape
    m = W.shape[0]
    X, H = np.empty((n, m), V.dtype), np.empty((n, m), V.dtype)
    Y, Vm = np.empty((n, d), V.dtype), np.empty((n, d), V.dtype)
    bias = np.empty(d, V.dtype)
    var_scale = np.empty(d, V.dtype)
    hidden_bias, Hm = np.empty(m, V.dtype), np.empty((n, m), V.dtype)
    tempered_rows = n if ladder.shape[0] > 0 else 0
    S, r = np.empty((tempered_rows, d), V.dtype), np.empty(tempered_rows)
    bernoulli = visible == BERNOULLI
    accepted = 0
    last = betas.shape[0] - 1
    for t in range(1, last + 1):
        beta = betas[t]
        _path_increment(bernoulli, V, W, b, base_b, c, betas[t - 1], beta, keys[t, 0, 0],
                        log_w, X, H, first)
        if t == last:
            break
        for j in range(m):
            hidden_bias[j] = beta * c[j]
        if reverse and moves[t + 1] > moves[t]:
            for k in range(moves[t], moves[t + 1]):
                accepted += tempered_transition(bernoulli, V, W, b, base_b, c, sigma, beta,
                                                ladder, tempered_keys[k], S, r, X, H, Y, Vm,
                                                bias, var_scale, first)
            gemm(False, True, 1.0, V, W, 0.0, X)
            sigmoid_rows(X, beta, hidden_bias, 1.0, keys[t, 0, 0], Hm, H, first)
        for s in range(keys.shape[1]):
            if s > 0:
                # a further sweep: h ~ p_t(h | V) without a weight update
                gemm(False, True, 1.0, V, W, 0.0, X)
                sigmoid_rows(X, beta, hidden_bias, 1.0, keys[t, s, 0], Hm, H, first)
            _visible_draw(bernoulli, H, W, b, base_b, sigma, beta, keys[t, s, 1], Y, Vm, V,
                          bias, var_scale, first)
        if not reverse:
            for k in range(moves[t], moves[t + 1]):
                accepted += tempered_transition(bernoulli, V, W, b, base_b, c, sigma, beta,
                                                ladder, tempered_keys[k], S, r, X, H, Y, Vm,
                                                bias, var_scale, first)
    return accepted


#: Chains per block of ``anneal_blocks``: blocks of 64 rows keep a 784-500
#: RBM's products near one thread's full speed, and 100 chains make two
#: blocks, one per core of a 2-core machine.
ANNEAL_BLOCK = 64


def anneal_blocks(visible, V, W, b, base_b, c, sigma, betas, keys, log_w, ladder, moves,
                  tempered_keys, reverse):
    """:func:`anneal` on blocks of about ``ANNEAL_BLOCK`` chains, run from
    Python threads (``utils._threads.run_blocks``), each block's products
    on its own thread's BLAS (the caller holds BLAS at one thread); returns
    the accepted proposals of all blocks.

    Every block draws what one call on all the chains draws (``first``),
    and the blocks do not depend on the number of threads, so neither do
    the results. Why blocks and not BLAS threads: an annealing step's two
    products are small and strictly sequential, and between them the
    element-wise steps (softplus, sigmoid, draws) ran on one thread while
    BLAS's others spun; a block carries its own element-wise work.
    """
    n = V.shape[0]
    n_blocks = max(1, -(-n // ANNEAL_BLOCK))
    accepted = np.zeros(n_blocks, np.int64)

    def work(k):
        lo, hi = k * n // n_blocks, (k + 1) * n // n_blocks
        accepted[k] = anneal(visible, V[lo:hi], W, b, base_b, c, sigma, betas, keys,
                             log_w[lo:hi], ladder, moves, tempered_keys, reverse, lo)

    run_blocks(work, n_blocks)
    return int(accepted.sum())


# (found with Gaussian parallel tempering that learns the variances; without
# ``contract`` alone it still differed)
@unfused_kernel
def tempered_visible_rows(unit, Z, b, var, std, betas, n_block, key, M, S):
    """The visible step of parallel tempering, for rows in blocks of
    ``n_block`` at the inverse temperatures ``betas``, from ``Z = h @ W``.

    Row ``i``, block ``t = i // n_block``, ``beta = betas[t]``: Bernoulli
    units, ``p_beta(v, h) ~ exp(-beta E(v, h))``: means ``sigmoid(beta (Z +
    b))``; Gaussian units, whose energy's quadratic term stays untempered
    (``beta -> 0`` would make the variance infinite): means ``b + beta
    var Z``. Samples into ``S``. Draws as ``visible_rows``: block 0 at
    ``beta = 1`` draws what ``visible_rows`` would.
    """
    n, d = Z.shape
    for i in prange(n):
        beta = fm.cast_like(betas[i // n_block], b[0])
        base = i * d
        for j in range(d):
            if unit == BERNOULLI:
                p = fm.sigmoid(beta * (Z[i, j] + b[j]))
                S[i, j] = 1.0 if fm.uniform(key, base + j, p) < p else 0.0
                M[i, j] = p
            else:
                mean = b[j] + beta * var[j] * Z[i, j]
                S[i, j] = mean + std[j] * fm.normal(key, base + j, mean)
                M[i, j] = mean


@kernel
def tempered_hidden_rows(Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling):
    """The hidden step of parallel tempering, for rows in blocks of
    ``n_block`` at the inverse temperatures ``betas``.

    Row ``i`` (block ``t = i // n_block``), with ``x = Z[i] + c`` its
    hidden input (``Z = V @ W.T``): ``S[i] ~ Bernoulli(sigmoid(betas[t]
    x))``, and ``coupling[i] = b . V[i] + S[i] . x``, the part of the
    state's negative energy that the temperature scales (float64; ``b``
    empty for Gaussian visible units, whose energy is tempered without
    it). The first ``P.shape[0]`` rows also get the probabilities times
    ``out_scale`` (the model's statistics). Draws as ``sigmoid_rows``:
    block 0 at ``beta = 1`` draws what ``hidden_rows`` would.
    """
    n, m = Z.shape
    d = b.shape[0]
    out_scale = fm.cast_like(out_scale, c[0])
    for i in prange(n):
        beta = fm.cast_like(betas[i // n_block], c[0])
        base = i * m
        with_p = i < P.shape[0]
        acc = 0.0
        for j in range(d):
            acc += b[j] * V[i, j]
        for j in range(m):
            x = Z[i, j] + c[j]
            p = fm.sigmoid(beta * x)
            on = fm.uniform(key, base + j, p) < p
            S[i, j] = 1.0 if on else 0.0
            if with_p:
                P[i, j] = out_scale * p
            if on:
                acc += x
        coupling[i] = acc


@kernel
def pt_swap(coupling, betas, n_block, key, S, accepted):
    """One round of replica exchange between neighbouring temperatures.

    Rows come in blocks of ``n_block`` chains, block ``t`` at
    ``betas[t]`` of ``p_t ~ exp(betas[t] coupling) base``; ``coupling``
    holds each chain's tempered negative energy (see
    ``tempered_hidden_rows``). For the pairs of blocks ``(t, t + 1)``, the
    hottest pair first, chain ``r`` of block ``t`` trades its state (its
    row of ``S`` and its coupling) with chain ``r`` of block ``t + 1`` with
    the Metropolis probability ``min(1, exp((betas[t] - betas[t + 1])
    (coupling_(t+1) - coupling_t)))``, decided by draw ``t * n_block + r``
    (float64) under ``key``; ``accepted[t]`` counts the trades. A state can
    move down several temperatures in one round.
    """
    m = S.shape[1]
    for t in range(betas.shape[0] - 2, -1, -1):
        gap = betas[t] - betas[t + 1]
        for r in range(n_block):
            lo = t * n_block + r
            hi = lo + n_block
            log_ratio = gap * (coupling[hi] - coupling[lo])
            if log_ratio < 0.0 and fm.uniform(key, lo, log_ratio) >= math.exp(log_ratio):
                continue
            accepted[t] += 1.0
            coupling[lo], coupling[hi] = coupling[hi], coupling[lo]
            for j in range(m):
                S[lo, j], S[hi, j] = S[hi, j], S[lo, j]


def n_blocks(betas):
    """Blocks of persistent chains: one per temperature, one without
    parallel tempering (``betas`` None)."""
    return 1 if betas is None else betas.shape[0]


def pt_visible_step(unit, Z, b, var, std, betas, n_block, key, M, S):
    """``tempered_visible_rows``; nothing when ``betas`` is None."""
    if betas is not None:
        tempered_visible_rows(unit, Z, b, var, std, betas, n_block, key, M, S)


def pt_hidden_step(Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling, swap_key,
                   swaps):
    """``tempered_hidden_rows``, then a round of ``pt_swap`` of the sampled
    states; nothing when ``betas`` is None."""
    if betas is not None:
        tempered_hidden_rows(Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling)
        pt_swap(coupling, betas, n_block, swap_key, S, swaps)


# Compiled, the three dispatch on the type of ``betas``: with None, the
# tempered kernels are not even typed (the Python twins above run with the
# JIT off).
@overload(n_blocks, inline="always")
def _n_blocks_compiled(betas):
    if isinstance(betas, types.NoneType):
        return lambda betas: 1
    return lambda betas: betas.shape[0]


@overload(pt_visible_step, inline="always")
def _pt_visible_step_compiled(unit, Z, b, var, std, betas, n_block, key, M, S):
    if isinstance(betas, types.NoneType):
        return lambda unit, Z, b, var, std, betas, n_block, key, M, S: None

    def impl(unit, Z, b, var, std, betas, n_block, key, M, S):
        tempered_visible_rows(unit, Z, b, var, std, betas, n_block, key, M, S)
    return impl


@overload(pt_hidden_step, inline="always")
def _pt_hidden_step_compiled(Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling,
                             swap_key, swaps):
    if isinstance(betas, types.NoneType):
        return lambda Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling, swap_key, \
            swaps: None

    def impl(Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling, swap_key, swaps):
        tempered_hidden_rows(Z, c, V, b, betas, n_block, out_scale, key, P, S, coupling)
        pt_swap(coupling, betas, n_block, swap_key, S, swaps)
    return impl


@parallel_kernel
def logsumexp_states(M, offset, linear, kind, weights, chunk_bits):
    """``log sum_s exp(linear . s + sum_o f_o(offset_o + (s M)_o))`` over ``s`` in {0, 1}**r.

    ``M`` has shape (r, n_other): the layer being enumerated has ``r``
    binary units, the other layer is summed out analytically through ``f``:
    ``kind == 0``: ``f_o(a) = softplus(a)`` (Bernoulli units);
    ``kind == 1``: ``f_o(a) = weights_o * a**2`` (Gaussian units).

    The states are visited in Gray-code order, so each step adds or removes
    one row of ``M`` (``n_other`` additions instead of a matrix product).
    Blocks of ``2**chunk_bits`` states run in parallel, each with its own
    running log-sum-exp in float64.
    """
    r, n_other = M.shape
    n_chunks = 1 << max(r - chunk_bits, 0)
    size = (1 << r) // n_chunks
    maxes = np.empty(n_chunks)
    sums = np.empty(n_chunks)
    zero = fm.cast_like(0.0, M[0, 0])
    for c in prange(n_chunks):
        # float64 running sums (2**chunk_bits updates must not drift) and
        # their copy in the data type for the vectorised softplus.
        a = np.empty(n_other)
        a_low = np.empty(n_other, dtype=M.dtype)
        start = c * size
        gray = start ^ (start >> 1)
        lin = 0.0
        for o in range(n_other):
            a[o] = offset[o]
        for u in range(r):
            if (gray >> u) & 1:
                lin += linear[u]
                for o in range(n_other):
                    a[o] += M[u, o]
        for o in range(n_other):
            a_low[o] = a[o]
        best = -np.inf
        total = 0.0
        for t in range(size):
            if t > 0:
                k = start + t
                # the bit that changes between gray(k - 1) and gray(k)
                u = 0
                while not (k >> u) & 1:
                    u += 1
                sign = -1.0 if (gray >> u) & 1 else 1.0
                lin += sign * linear[u]
                for o in range(n_other):
                    ao = a[o] + sign * M[u, o]
                    a[o] = ao
                    a_low[o] = ao
                gray ^= 1 << u
            value = 0.0
            if kind == 0:
                part = zero
                for o in range(n_other):
                    part += fm.softplus(a_low[o])
                value = np.float64(part)
            else:
                for o in range(n_other):
                    value += weights[o] * a[o] * a[o]
            value += lin
            if value > best:
                total = total * math.exp(best - value) + 1.0
                best = value
            else:
                total += math.exp(value - best)
        maxes[c] = best
        sums[c] = total
    top = maxes.max()
    return top + math.log(np.sum(sums * np.exp(maxes - top)))


@parallel_kernel
def pseudo_loglik_rows(X, Hin, WT, bias_visible, out):
    """Mean over features of ``log p(v_f | v_-f)`` for binary visible units.

    ``Hin = X @ W.T + c`` (hidden inputs), ``WT`` the weights transposed
    (n_features, n_components). Flipping feature ``f`` (``v_f -> 1 - v_f``)
    changes the free energy by ``dF = -b_f d - sum_j [softplus(x_j + d W_jf)
    - softplus(x_j)]`` with ``d = 1 - 2 v_f``, and
    ``log p(v_f | v_-f) = log sigmoid(dF)``. Exact: every feature is flipped,
    O(n_features * n_components) per sample.
    """
    n, d = X.shape
    m = Hin.shape[1]
    for i in prange(n):
        total = 0.0
        for f in range(d):
            delta = fm.cast_like(1.0 - 2.0 * X[i, f], Hin[0, 0])
            change = fm.cast_like(0.0, Hin[0, 0])
            for j in range(m):
                x = Hin[i, j]
                change += fm.softplus(x + delta * WT[f, j]) - fm.softplus(x)
            dF = -bias_visible[f] * delta - change
            # log sigmoid(dF) = -softplus(-dF), in float64
            total -= max(-dF, 0.0) + math.log1p(math.exp(-abs(dF)))
        out[i] = total / d
