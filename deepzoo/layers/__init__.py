"""Single unsupervised layers: RBMs, autoencoders, sparse coding."""

from ._sparse_coding import SparseCoding, sparse_encode

__all__ = []
__all__ += ["SparseCoding", "sparse_encode"]

from ._autoencoder import (  # noqa: E402
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
)

__all__ += ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "ContractiveAutoencoder"]
