"""deepzoo: classical deep learning as scikit-learn estimators.

Restricted Boltzmann Machines, Deep Belief Networks, stacked and denoising
autoencoders and sparse coding, with greedy layer-wise pretraining and
backprop fine-tuning. Hot loops are compiled with Numba; models persist to
HDF5 through :mod:`deepzoo.io`.
"""

import importlib

__version__ = "0.1.0"

# Public name -> the sub-package that defines it. Names are imported on
# first use (PEP 562): ``import deepzoo``, and with it ``deepzoo --help``,
# then costs no numba, scikit-learn or numpy import.
_EXPORTS = {
    "Stack": "stacks",
    "DBN": "stacks",
    "StackedAutoencoder": "stacks",
    "FineTunedClassifier": "networks",
    "FineTunedRegressor": "networks",
    "DeepAutoencoder": "networks",
    "SparseCoding": "layers",
    "sparse_encode": "layers",
    "BernoulliRBM": "layers",
    "GaussianBernoulliRBM": "layers",
    "Autoencoder": "layers",
    "DenoisingAutoencoder": "layers",
    "SparseAutoencoder": "layers",
    "ContractiveAutoencoder": "layers",
    "ConvolutionalRBM": "layers",
    "ConvolutionalDBN": "stacks",
}
# Reachable as attributes after ``import deepzoo``, as they were when the
# package imported its estimators eagerly.
_SUBPACKAGES = ("datasets", "io", "layers", "networks", "recipes", "stacks", "utils")

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__, *_SUBPACKAGES})
