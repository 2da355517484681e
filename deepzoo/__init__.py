"""deepzoo: classical deep learning as scikit-learn estimators.

Restricted Boltzmann Machines, Deep Belief Networks, stacked and denoising
autoencoders and sparse coding, with greedy layer-wise pretraining and
backprop fine-tuning. Hot loops are compiled with Numba; models persist to
HDF5 through :mod:`deepzoo.io`.
"""

__version__ = "0.1.0"

from .networks import DeepAutoencoder, FineTunedClassifier, FineTunedRegressor
from .stacks import DBN, Stack, StackedAutoencoder
from .layers import SparseCoding, sparse_encode
from .layers import BernoulliRBM, GaussianBernoulliRBM
from .layers import Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder

__all__ = ["__version__", "Stack", "DBN", "StackedAutoencoder", "FineTunedClassifier", "FineTunedRegressor", "DeepAutoencoder"]
__all__ += ["SparseCoding", "sparse_encode"]
__all__ += ["BernoulliRBM", "GaussianBernoulliRBM"]
__all__ += ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "ContractiveAutoencoder"]
