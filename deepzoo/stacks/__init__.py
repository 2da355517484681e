"""Greedy layer-wise stacks: a generic stack, DBN, StackedAutoencoder, ConvolutionalDBN."""

from ._cdbn import ConvolutionalDBN
from ._dbn import DBN
from ._stack import EncoderLayer, Stack, decode, encoder_layer
from ._stacked_autoencoder import StackedAutoencoder

__all__ = ["ConvolutionalDBN", "DBN", "EncoderLayer", "Stack", "StackedAutoencoder", "decode",
           "encoder_layer"]
