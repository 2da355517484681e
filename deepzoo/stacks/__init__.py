"""Greedy layer-wise stacks: a generic stack, DBN, StackedAutoencoder."""

__all__ = []
