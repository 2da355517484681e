"""BLAS thread limits around the numba kernels, and serial kernels run on
blocks of work from Python threads.

On a machine with few cores, OpenBLAS's thread pool and numba's keep
stealing the cores from each other between small matrix products and the
kernels of every step (measured on 2 cores: one online sparse-coding step
took 70 ms with both pools and 11 ms with BLAS on one thread; an AIS step of
a 784-500 RBM 47 ms against 2 ms). scikit-learn's KMeans limits BLAS the
same way around its OpenMP loops.

Where the work splits into independent blocks, :func:`run_blocks` runs a
serial kernel (which releases the GIL) on them from Python threads that
take the next block when they finish one, the calling thread among them.
A thread that waits sleeps instead of spinning, and a thread that the
machine's other work keeps off a core only delays the block it holds: the
others take the rest (parallel regions of numba's OpenMP layer, which spin
at their barrier, made a convolutional RBM's epoch 4-8x slower on two
threads than on one on the busy 2-core machine, measured).
"""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

_CONTROLLER = []
_OPEN = threading.local()  # whether this thread is inside a block
_EXECUTOR = []
_EXECUTOR_LOCK = threading.Lock()


def run_blocks(work, n_blocks):
    """Call ``work(b)`` for ``b`` in ``range(n_blocks)`` on numba's number of
    threads (``numba.get_num_threads``), each thread taking the next block
    when it finishes one; returns when every call has returned (and raises
    what one raised).

    ``work`` must release the GIL for the blocks to run at once (a compiled
    kernel with ``nogil``), and blocks must not write to the same memory.
    """
    import numba

    blocks = itertools.count()  # next() is atomic: a shared work queue

    def worker():
        while (b := next(blocks)) < n_blocks:
            work(b)

    n_helpers = min(numba.get_num_threads(), n_blocks) - 1
    helpers = []
    if n_helpers > 0:
        with _EXECUTOR_LOCK:
            if not _EXECUTOR:
                _EXECUTOR.append(ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS,
                                                    thread_name_prefix="deepzoo-blocks"))
        helpers = [_EXECUTOR[0].submit(worker) for _ in range(n_helpers)]
    try:
        worker()
    finally:
        # the blocks write the caller's arrays: no thread may outlive the call
        wait(helpers)
    for helper in helpers:
        helper.result()


@contextmanager
def blas_single_thread():
    """Context manager: BLAS on one thread inside the ``with`` block.

    The threadpoolctl controller is built once (building one inspects every
    loaded library, which costs milliseconds). Only a thread's outermost
    block sets and restores the limit: the library's own calls nest inside
    a caller's (each online sparse-coding step inside ``fit``), where
    setting the limit again and restoring it would cost 2% of a step for
    nothing.
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    if getattr(_OPEN, "limited", False):
        yield
        return
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        _OPEN.limited = True
        try:
            yield
        finally:
            _OPEN.limited = False
