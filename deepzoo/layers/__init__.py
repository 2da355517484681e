"""Single unsupervised layers: RBMs, autoencoders, sparse coding."""

__all__ = []
