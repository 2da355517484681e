"""Backprop networks: fine-tuned classifier, regressor, deep autoencoder."""

__all__ = []
