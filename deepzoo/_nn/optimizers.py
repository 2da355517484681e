"""First-order optimizers and learning-rate schedules.

An optimizer holds references to a list of parameter arrays and updates them
**in place** from a list of gradients of the same shapes, so one class serves
a one-layer autoencoder (``[W, b_hidden, b_visible]``) and a deep network
(every layer's weights and biases) alike::

    opt = Adam([W, b], learning_rate=1e-3)
    for batch in batches:
        gW, gb = gradient(batch)
        opt.step([gW, gb])

Each update is one fused numba pass per array (``deepzoo._kernels.nn``);
state arrays take the parameters' dtype, so float32 training stays float32.

A schedule maps ``(learning_rate, t)`` to the rate used at update ``t``
(``t = 0, 1, ...`` counts :meth:`Optimizer.step` calls).
"""

import math

import numpy as np

from .._kernels import nn as _k

__all__ = [
    "updatable",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "Adam",
    "OPTIMIZERS",
    "ConstantSchedule",
    "StepDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
]


# ---------------------------------------------------------------- schedules


class ConstantSchedule:
    """``learning_rate`` at every update."""

    def __call__(self, learning_rate, t):
        return learning_rate

    def __repr__(self):
        return "ConstantSchedule()"


class StepDecay:
    """``learning_rate * gamma ** (t // step_size)``: drop by ``gamma`` every ``step_size`` updates.

    Examples
    --------
    >>> [StepDecay(2, 0.5)(1.0, t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, step_size, gamma=0.1):
        if step_size < 1 or not 0 < gamma <= 1:
            raise ValueError(
                f"StepDecay needs step_size >= 1 and 0 < gamma <= 1; got "
                f"step_size={step_size}, gamma={gamma}."
            )
        self.step_size = int(step_size)
        self.gamma = float(gamma)

    def __call__(self, learning_rate, t):
        return learning_rate * self.gamma ** (t // self.step_size)

    def __repr__(self):
        return f"StepDecay(step_size={self.step_size}, gamma={self.gamma})"


class ExponentialDecay:
    """``learning_rate * gamma ** t``.

    Examples
    --------
    >>> ExponentialDecay(0.5)(1.0, 3)
    0.125
    """

    def __init__(self, gamma):
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialDecay needs 0 < gamma <= 1; got gamma={gamma}.")
        self.gamma = float(gamma)

    def __call__(self, learning_rate, t):
        return learning_rate * self.gamma**t

    def __repr__(self):
        return f"ExponentialDecay(gamma={self.gamma})"


class InverseTimeDecay:
    """``learning_rate / (1 + decay * t) ** power``: the 1/t schedule of stochastic approximation.

    Examples
    --------
    >>> InverseTimeDecay(0.5)(1.0, 2)
    0.5
    """

    def __init__(self, decay, power=1.0):
        if decay < 0 or power < 0:
            raise ValueError(
                f"InverseTimeDecay needs decay >= 0 and power >= 0; got "
                f"decay={decay}, power={power}."
            )
        self.decay = float(decay)
        self.power = float(power)

    def __call__(self, learning_rate, t):
        return learning_rate / (1.0 + self.decay * t) ** self.power

    def __repr__(self):
        return f"InverseTimeDecay(decay={self.decay}, power={self.power})"


# --------------------------------------------------------------- optimizers


def updatable(array):
    """``array`` if it can be updated in place (C-contiguous, writeable), else a copy.

    Fitted parameters may be read-only (a model loaded from a read-only
    memory map, ``setflags(write=False)``) or views set by hand; training
    copies them instead of failing or writing through a view.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros(3)
    >>> updatable(a) is a
    True
    >>> a.setflags(write=False)
    >>> updatable(a).flags.writeable
    True
    """
    return np.require(array, requirements="CW")


class Optimizer:
    """Base class: keeps the parameters, the schedule and the update count.

    Parameters
    ----------
    params : list of ndarray
        C-contiguous float arrays, updated in place by :meth:`step`.
    learning_rate : float
        Base learning rate, passed through ``schedule``.
    schedule : callable, optional
        ``schedule(learning_rate, t) -> float``; default constant.

    Attributes
    ----------
    t : int
        Number of :meth:`step` calls so far.
    """

    #: names of the per-parameter state arrays (zeros like the parameters)
    _state_names = ()

    def __init__(self, params, learning_rate=0.01, schedule=None):
        params = self._check_params(params)
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {learning_rate}.")
        self.params = params
        self.learning_rate = float(learning_rate)
        self.schedule = schedule if schedule is not None else ConstantSchedule()
        self.t = 0
        self.state = {name: [np.zeros_like(p) for p in params] for name in self._state_names}

    def _check_params(self, params):
        params = list(params)
        for i, p in enumerate(params):
            if not (isinstance(p, np.ndarray) and p.dtype.kind == "f" and p.flags.c_contiguous):
                raise ValueError(
                    f"{type(self).__name__} updates parameters in place: parameter {i} "
                    "must be a C-contiguous float ndarray (use np.ascontiguousarray)."
                )
            if not p.flags.writeable:
                raise ValueError(f"{type(self).__name__}: parameter {i} is read-only.")
        return params

    def rebind(self, params):
        """Update ``params`` from now on, keeping the optimizer's state.

        For an estimator that replaced its parameter arrays by copies of the
        same shapes and dtypes (e.g. writeable copies of read-only arrays).

        Examples
        --------
        >>> import numpy as np
        >>> opt = SGD([np.ones(2)], learning_rate=0.5)
        >>> w = np.ones(2)
        >>> opt.rebind([w])
        >>> opt.step([np.ones(2)])
        >>> w
        array([0.5, 0.5])
        """
        params = self._check_params(params)
        if [(p.shape, p.dtype) for p in params] != [(p.shape, p.dtype) for p in self.params]:
            raise ValueError(
                f"{type(self).__name__}.rebind needs parameters of the same shapes and "
                "dtypes as before."
            )
        self.params = params

    def current_learning_rate(self):
        """The rate the next :meth:`step` will use."""
        return self.schedule(self.learning_rate, self.t)

    def step(self, grads):
        """Update every parameter in place from ``grads`` (same order and shapes)."""
        if len(grads) != len(self.params):
            raise ValueError(
                f"{type(self).__name__}.step got {len(grads)} gradients for "
                f"{len(self.params)} parameters."
            )
        lr = self.current_learning_rate()
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g.shape != p.shape:
                raise ValueError(
                    f"gradient {i} has shape {g.shape}, parameter {i} has {p.shape}."
                )
            dtype = p.dtype
            g = np.ravel(np.asarray(g, dtype=dtype))
            states = [self.state[name][i].reshape(-1) for name in self._state_names]
            self._update(p.reshape(-1), g, states, lr, dtype)

    def _update(self, p, g, states, lr, dtype):
        raise NotImplementedError


def _scalars(dtype, *values):
    return [_k.as_scalar(v, dtype) for v in values]


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p -= lr * g``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, -2.0])
    >>> SGD([w], learning_rate=0.5).step([w.copy()])
    >>> w
    array([ 0.5, -1. ])
    """

    def _update(self, p, g, states, lr, dtype):
        _k.pick(_k.sgd_step, p.size)(p, g, *_scalars(dtype, lr))


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu * v - lr * g; p += v`` (Polyak 1964).

    Parameters
    ----------
    params, learning_rate, schedule
        See :class:`SGD`.
    momentum : float in [0, 1)
    """

    _state_names = ("velocity",)

    def __init__(self, params, learning_rate=0.01, momentum=0.9, schedule=None):
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}.")
        super().__init__(params, learning_rate, schedule)
        self.momentum = float(momentum)

    def _update(self, p, g, states, lr, dtype):
        _k.pick(_k.momentum_step, p.size)(p, g, states[0], *_scalars(dtype, lr, self.momentum))


class Nesterov(Momentum):
    """Nesterov's accelerated gradient in the form of Sutskever et al. (2013).

    ``v = mu * v - lr * g; p += mu * v - lr * g``, with ``g`` taken at the
    current parameters (the look-ahead is folded into the update).
    """

    def _update(self, p, g, states, lr, dtype):
        _k.pick(_k.nesterov_step, p.size)(p, g, states[0], *_scalars(dtype, lr, self.momentum))


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): ``s += g^2; p -= lr * g / (sqrt(s) + eps)``."""

    _state_names = ("sum_squares",)

    def __init__(self, params, learning_rate=0.01, eps=1e-8, schedule=None):
        super().__init__(params, learning_rate, schedule)
        self.eps = float(eps)

    def _update(self, p, g, states, lr, dtype):
        _k.pick(_k.adagrad_step, p.size)(p, g, states[0], *_scalars(dtype, lr, self.eps))


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012): ``s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps)``."""

    _state_names = ("mean_square",)

    def __init__(self, params, learning_rate=0.001, rho=0.9, eps=1e-8, schedule=None):
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1); got {rho}.")
        super().__init__(params, learning_rate, schedule)
        self.rho = float(rho)
        self.eps = float(eps)

    def _update(self, p, g, states, lr, dtype):
        _k.pick(_k.rmsprop_step, p.size)(
            p, g, states[0], *_scalars(dtype, lr, self.rho, 1 - self.rho, self.eps)
        )


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias-corrected moments.

    Parameters
    ----------
    params, learning_rate, schedule
        See :class:`SGD`.
    beta1, beta2 : float in [0, 1)
        Decay of the first and second moment estimates.
    eps : float
        Added to the root of the (bias-corrected) second moment.
    """

    _state_names = ("first_moment", "second_moment")

    def __init__(self, params, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                 schedule=None):
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1); got {beta1}, {beta2}.")
        super().__init__(params, learning_rate, schedule)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.eps = float(eps)

    def _update(self, p, g, states, lr, dtype):
        # self.t was already advanced: this is update number t (1-based).
        c1 = 1 - self.beta1**self.t
        c2 = math.sqrt(1 - self.beta2**self.t)
        # lr * (m / c1) / (sqrt(v) / c2 + eps) == (lr c2 / c1) m / (sqrt(v) + eps c2)
        _k.pick(_k.adam_step, p.size)(
            p, g, states[0], states[1],
            *_scalars(dtype, lr * c2 / c1, self.beta1, 1 - self.beta1, self.beta2,
                      1 - self.beta2, self.eps * c2),
        )


#: solver name -> optimizer class (the names the estimators accept)
OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}
