"""Numba kernels: pure functions on arrays.

Nothing here imports from deepzoo outside ``_kernels``; matrix products are
left to BLAS: numpy's in the callers, or scipy's through ``_blas`` in a
kernel that loops over mini-batches (``rbm.train_epoch``). Randomness comes in as pre-drawn
uniforms or an explicit state array, never numba's global RNG, so a seed
reproduces a run bit for bit whether or not the JIT is enabled.
"""
