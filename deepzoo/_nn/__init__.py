"""The backprop core shared by the autoencoder layers and the networks.

It sits below ``layers`` in the import order (``_kernels -> _nn -> layers ->
stacks -> networks``) because single-layer autoencoders need the same
activations, losses, initialisers and optimizers as the fine-tuned networks;
``deepzoo.networks`` re-exports the public parts.

Conventions: weights have shape ``(fan_out, fan_in)`` (one row per unit, the
layout of ``components_``); a layer computes ``f(X @ W.T + b)``; losses are
sums over outputs averaged over samples; float32 stays float32.

API
---
activations  ``ACTIVATIONS`` (name -> forward, derivative through the
             output), ``activate(name, Z)`` (in place),
             ``derivative_from_output(name, A)``, ``encode(X, W, b, name)``,
             ``backprop_activation(name, D, A)`` (``D *= f'(z)`` in place).
losses       ``LOSSES``, ``loss_value(loss, Y, A)``, ``loss_samples``,
             ``output_delta(loss, activation, Y, A, scale)`` (``dl/dz`` at the
             output pre-activation), ``check_loss_activation``; exact
             log-space scores from logits: ``binary_cross_entropy_logits``,
             ``log_softmax``.
divergence   ``check_divergence(estimator, parameters, losses, bound,
             rate_name="learning_rate", stage=None)`` (run after every
             epoch), ``parameter_bound``, ``PARAMETER_BOUND``,
             ``LOSS_GROWTH``.
init         ``init_weights(method, fan_in, fan_out, rng, dtype, scale)``,
             methods ``small``, ``glorot``/``xavier``, ``he``, ``sparse``.
optimizers   ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``, ``RMSprop``,
             ``Adam`` (``opt = Adam(params, learning_rate, schedule=...)``;
             ``opt.step(grads)`` updates ``params`` in place), ``OPTIMIZERS``
             (solver name -> class); schedules ``ConstantSchedule``,
             ``StepDecay``, ``ExponentialDecay``, ``InverseTimeDecay``
             (``schedule(learning_rate, t)``).
regularization  ``l2_penalty``/``add_l2_gradient``, ``l1_penalty``/
             ``add_l1_gradient``, ``max_norm(W, c)`` (in place),
             ``dropout(X, rate, rng) -> (X * mask, mask)`` (inverted).
gradcheck    ``check_gradient(loss_and_grad, params, eps)`` (max relative
             error, float64), ``numerical_gradient``, ``relative_error``.
training     the one mini-batch training loop of the autoencoder layers and
             the networks: ``train_epochs`` (early stopping, best weights,
             convergence warning), ``optimizer_for``/``make_optimizer``
             (solver and schedule from an estimator's parameters),
             ``minibatches``, ``make_params_updatable``.
"""

from .activations import ACTIVATIONS, activate, backprop_activation, derivative_from_output, encode
from .gradcheck import check_gradient, numerical_gradient, relative_error
from .init import INITIALIZERS, init_weights
from .losses import (
    LOSSES,
    binary_cross_entropy_logits,
    check_loss_activation,
    log_softmax,
    loss_samples,
    loss_value,
    output_delta,
)
from .optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    ConstantSchedule,
    ExponentialDecay,
    InverseTimeDecay,
    Momentum,
    Nesterov,
    RMSprop,
    StepDecay,
)
from .regularization import (
    add_l1_gradient,
    add_l2_gradient,
    dropout,
    l1_penalty,
    l2_penalty,
    max_norm,
)

__all__ = [
    "ACTIVATIONS", "activate", "backprop_activation", "derivative_from_output", "encode",
    "check_gradient", "numerical_gradient", "relative_error",
    "INITIALIZERS", "init_weights",
    "LOSSES", "check_loss_activation", "loss_samples", "loss_value", "output_delta",
    "binary_cross_entropy_logits", "log_softmax",
    "OPTIMIZERS", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam",
    "ConstantSchedule", "StepDecay", "ExponentialDecay", "InverseTimeDecay",
    "l2_penalty", "add_l2_gradient", "l1_penalty", "add_l1_gradient", "max_norm", "dropout",
]
