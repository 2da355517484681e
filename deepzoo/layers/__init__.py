"""Single unsupervised layers: RBMs, autoencoders, sparse coding."""

from ._sparse_coding import SparseCoding, sparse_encode

__all__ = []
__all__ += ["SparseCoding", "sparse_encode"]
