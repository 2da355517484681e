"""Greedy layer-wise stacks: a generic stack, DBN, StackedAutoencoder."""

from ._stack import Stack, decode, encoder_layer

__all__ = ["Stack", "decode", "encoder_layer"]
