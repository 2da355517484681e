"""Backprop networks: fine-tuned classifier, regressor, deep autoencoder."""

# The public backprop core (implemented in deepzoo._nn, below the layers).
from .._nn import (
    ACTIVATIONS,
    INITIALIZERS,
    LOSSES,
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
    check_gradient,
    dropout,
    init_weights,
    max_norm,
    numerical_gradient,
    relative_error,
)
from ._deep_autoencoder import DeepAutoencoder
from ._finetuned import FineTunedClassifier, FineTunedRegressor

__all__ = [
    "ACTIVATIONS", "INITIALIZERS", "LOSSES", "OPTIMIZERS",
    "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam",
    "ConstantSchedule", "StepDecay", "ExponentialDecay", "InverseTimeDecay",
    "check_gradient", "numerical_gradient", "relative_error",
    "init_weights", "dropout", "max_norm",
    "FineTunedClassifier", "FineTunedRegressor", "DeepAutoencoder",
]
