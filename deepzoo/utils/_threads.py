"""BLAS thread limits around the numba kernels.

On a machine with few cores, OpenBLAS's thread pool and numba's keep
stealing the cores from each other between small matrix products and the
kernels of every step (measured on 2 cores: one online sparse-coding step
took 70 ms with both pools and 11 ms with BLAS on one thread; an AIS step of
a 784-500 RBM 47 ms against 2 ms). scikit-learn's KMeans limits BLAS the
same way around its OpenMP loops.
"""

_CONTROLLER = []


def blas_single_thread():
    """Context manager: BLAS on one thread inside the ``with`` block.

    The threadpoolctl controller is built once (building one inspects every
    loaded library, which costs milliseconds).
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
