"""Activation registry: forward functions and derivatives.

Every encoder layer computes ``transform`` through :func:`encode`, and the
unrolled networks call the same function, so a stack and the network made
from it give bit-identical hidden representations.
"""

import numpy as np
from scipy.special import expit

__all__ = ["ACTIVATIONS", "activate", "derivative_from_output", "encode"]


def _sigmoid(Z):
    return expit(Z, out=Z)


def _tanh(Z):
    return np.tanh(Z, out=Z)


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


def _linear(Z):
    return Z


def _softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def _d_sigmoid(A):
    return A * (1 - A)


def _d_tanh(A):
    return 1 - A * A


def _d_relu(A):
    return (A > 0).astype(A.dtype)


def _d_linear(A):
    return np.ones_like(A)


#: name -> (forward applied in place, derivative expressed through the output)
ACTIVATIONS = {
    "sigmoid": (_sigmoid, _d_sigmoid),
    "tanh": (_tanh, _d_tanh),
    "relu": (_relu, _d_relu),
    "linear": (_linear, _d_linear),
    "softmax": (_softmax, None),
}


def activate(name, Z):
    """Apply activation ``name`` to ``Z`` in place and return it."""
    try:
        forward = ACTIVATIONS[name][0]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None
    return forward(Z)


def derivative_from_output(name, A):
    """Derivative ``f'(z)`` of activation ``name`` written through ``a = f(z)``."""
    derivative = ACTIVATIONS[name][1]
    if derivative is None:
        raise ValueError(f"{name!r} has no element-wise derivative.")
    return derivative(A)


def encode(X, components, intercept, activation):
    """``activation(X @ components.T + intercept)``: the shared encoder step.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    components : ndarray of shape (n_components, n_features)
    intercept : ndarray of shape (n_components,)
    activation : str
        A key of :data:`ACTIVATIONS`.

    Returns
    -------
    H : ndarray of shape (n_samples, n_components)

    Examples
    --------
    >>> import numpy as np
    >>> encode(np.ones((1, 2)), np.eye(2), np.zeros(2), "linear")
    array([[1., 1.]])
    """
    Z = X @ components.T
    Z += intercept
    return activate(activation, Z)
