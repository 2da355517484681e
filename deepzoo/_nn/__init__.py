"""The backprop core shared by the autoencoder layers and the networks.

It sits below ``layers`` in the import order (``_kernels -> _nn -> layers ->
stacks -> networks``) because single-layer autoencoders need the same
activations, losses, initialisers and optimizers as the fine-tuned networks;
``deepzoo.networks`` re-exports the public parts.
"""
