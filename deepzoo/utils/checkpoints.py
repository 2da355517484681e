"""Epoch checkpoints: a long ``fit`` that resumes where it was stopped.

Within :func:`epoch_checkpoints`, an estimator that supports checkpoints
writes its whole training state to one file after every epoch: learned
arrays, optimiser state (momentum, persistent chains, fast weights, the
sparsity estimate) and its random generator. The RBMs
(:class:`deepzoo.BernoulliRBM`, :class:`deepzoo.GaussianBernoulliRBM`)
checkpoint every epoch; :class:`deepzoo.DBN` its long last stage: the
state after the greedy layers and the top RBM, then every up-down epoch (a
fit interrupted before the up-down stage starts again). If ``fit`` is interrupted (an
exception, Ctrl-C, a killed process), calling ``fit`` again in the same
block with the same settings and data continues after the last finished
epoch, and ends bit for bit where an uninterrupted ``fit`` would have at
the same BLAS thread count. A ``fit`` that completes removes the file.

The file is untrusted input: it is a ``.npz`` of plain arrays read with
``allow_pickle=False`` (loading it runs no code), written whole or not at
all, and used only if it was written by the same estimator class with the
same parameters and every array has the shape and dtype of the model being
fitted; otherwise training starts afresh with a warning that says why. The data are not
recorded: resuming with other data is the caller's mistake to avoid.

Only the estimator passed to :func:`epoch_checkpoints` uses the file: the
clones a meta-estimator fits inside the block (the layers of a stack, the
fits of a grid search) are other objects and train as usual.
"""

import contextlib
import contextvars
import io
import json
import os
import warnings
import zipfile

import numpy as np

from ._files import write_atomic

__all__ = ["epoch_checkpoints"]

_ACTIVE = contextvars.ContextVar("deepzoo_epoch_checkpoints", default=None)
_FORMAT = "deepzoo-epoch-checkpoint-1"


@contextlib.contextmanager
def epoch_checkpoints(estimator, path):
    """Checkpoint ``estimator``'s ``fit`` to ``path`` after every epoch.

    Parameters
    ----------
    estimator : estimator
        The estimator whose ``fit`` is checkpointed (an RBM; other
        estimators train as usual, without checkpoints).
    path : str or os.PathLike
        The checkpoint file (``.npz``).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from deepzoo import BernoulliRBM
    >>> from deepzoo.utils.checkpoints import epoch_checkpoints
    >>> X = (np.random.RandomState(0).rand(50, 6) > 0.5).astype(float)
    >>> rbm = BernoulliRBM(n_components=3, n_iter=4, random_state=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "rbm.npz")
    >>> with epoch_checkpoints(rbm, path):
    ...     rbm = rbm.fit(X)   # interrupted, the same call resumes
    >>> os.path.exists(path)  # removed once fit completes
    False
    """
    token = _ACTIVE.set((estimator, os.fspath(path)))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _path_for(estimator):
    active = _ACTIVE.get()
    if active is None or active[0] is not estimator:
        return None
    return active[1]


def active(estimator):
    """Whether a checkpoint is being kept for ``estimator``: callers skip
    the work of gathering a state nobody will write."""
    return _path_for(estimator) is not None


def _signature(estimator):
    """What a checkpoint must have been written by: the class and the
    parameters that shape training (``verbose`` aside)."""
    params = {key: value for key, value in estimator.get_params(deep=False).items()
              if key != "verbose"}
    return json.dumps({"class": type(estimator).__qualname__, "params": params},
                      sort_keys=True, default=repr)


def save_epoch(estimator, rng, state, history):
    """If a checkpoint is active for ``estimator``, write its ``state``
    (name -> array of a fixed shape) and ``history`` (name -> array with one
    entry per finished epoch) with the state of its generator ``rng`` (a
    ``numpy.random.RandomState``)."""
    path = _path_for(estimator)
    if path is None:
        return
    kind, keys, pos, has_gauss, cached = rng.get_state()
    arrays = {f"state/{name}": np.asarray(value) for name, value in state.items()}
    arrays.update({f"history/{name}": np.asarray(value) for name, value in history.items()})
    epochs = {len(value) for value in history.values()}
    arrays.update({
        "meta": np.array(json.dumps({"format": _FORMAT, "signature": _signature(estimator),
                                     "epochs": epochs.pop(), "rng": kind})),
        "rng/keys": keys, "rng/scalars": np.array([pos, has_gauss]),
        "rng/cached": np.array(cached),
    })
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getbuffer())


def resume(estimator, rng, state, history):
    """``(epochs, history)`` of a usable checkpoint of ``estimator``: its
    fixed-shape arrays are copied into ``state`` (name -> array of the
    freshly initialised model, or of zeros of the expected shapes), its
    generator state into ``rng``,
    and ``history`` maps each of the given names to the stored per-epoch
    array. ``(0, None)`` when there is none; a file that cannot be used
    is left alone with a warning that says why."""
    path = _path_for(estimator)
    if path is None or not os.path.exists(path):
        return 0, None
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = {name: f[name] for name in f.files}
        meta = json.loads(str(stored.pop("meta")))
        if meta.get("format") != _FORMAT or meta.get("signature") != _signature(estimator):
            raise ValueError("written by another estimator or other parameters")
        epochs = int(meta["epochs"])
        keys, scalars = stored.pop("rng/keys"), stored.pop("rng/scalars")
        cached = float(stored.pop("rng/cached"))
        if keys.shape != (624,) or keys.dtype != np.uint32 or scalars.shape != (2,):
            raise ValueError("its random generator state is malformed")
        names = {f"state/{name}" for name in state} | {f"history/{name}" for name in history}
        if set(stored) != names:
            raise ValueError(f"it holds {sorted(stored)}, not {sorted(names)}")
        for name, target in state.items():
            value = stored[f"state/{name}"]
            if value.shape != np.shape(target) or value.dtype != np.asarray(target).dtype:
                raise ValueError(f"{name} has shape {value.shape} and dtype {value.dtype}, "
                                 f"not {np.shape(target)} and {np.asarray(target).dtype}")
            if value.dtype.kind == "f" and not np.isfinite(value).all():
                raise ValueError(f"{name} holds NaN or inf")
        for name in history:
            value = stored[f"history/{name}"]
            if value.shape != (epochs,) or value.dtype.kind != "f":
                raise ValueError(f"{name} is not one number per epoch")
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
            json.JSONDecodeError) as exc:
        warnings.warn(f"checkpoint {path} not used ({exc}); training from the start",
                      UserWarning, stacklevel=3)
        return 0, None
    for name, target in state.items():
        np.copyto(target, stored[f"state/{name}"])
    rng.set_state((meta["rng"], keys, int(scalars[0]), int(scalars[1]), cached))
    return epochs, {name: stored[f"history/{name}"] for name in history}


def finish(estimator):
    """Remove ``estimator``'s checkpoint: its ``fit`` has completed."""
    path = _path_for(estimator)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
