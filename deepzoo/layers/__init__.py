"""Single unsupervised layers: RBMs, autoencoders, sparse coding."""

from ._sparse_coding import SparseCoding, sparse_encode

__all__ = []
__all__ += ["SparseCoding", "sparse_encode"]

from ._rbm import BernoulliRBM, GaussianBernoulliRBM, ais_schedule  # noqa: E402

__all__ += ["BernoulliRBM", "GaussianBernoulliRBM", "ais_schedule"]

from ._autoencoder import (  # noqa: E402
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
)

__all__ += ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "ContractiveAutoencoder"]

from ._conv_rbm import ConvolutionalRBM  # noqa: E402

__all__ += ["ConvolutionalRBM"]
