"""The fixed form of ``verbose`` progress lines, and the first-use notice."""

import functools
import logging
import sys
import threading

logger = logging.getLogger("deepzoo")

# CPU seconds of Numba compilation of one estimator's first fit in one dtype,
# cache cold (``python -m benchmarks first_use``, 2-core x86-64 machine under
# load: 14 s for the RBM family and the DBN, whose whole training epoch is
# one kernel; 8 s for SparseCoding; 4-5 s for the convolutional RBMs; 1-2 s
# for the autoencoders). Only the order of magnitude matters.
FIRST_USE_SECONDS = {
    "BernoulliRBM": 12,
    "GaussianBernoulliRBM": 12,
    "DBN": 12,
    "SparseCoding": 8,
    "ConvolutionalRBM": 5,
    "ConvolutionalDBN": 5,
    "Autoencoder": 2,
    "DenoisingAutoencoder": 2,
    "SparseAutoencoder": 2,
    "ContractiveAutoencoder": 2,
}


def report_progress(estimator, iteration, metric, value, elapsed, file=None):
    """Print ``[ClassName] Iteration k, <metric> = <value>, time = <s>s``."""
    print(
        f"[{type(estimator).__name__}] Iteration {iteration}, "
        f"{metric} = {value:.6g}, time = {elapsed:.2f}s",
        file=file or sys.stdout,
        flush=True,
    )


def compile_message(estimator):
    """The one line that says a call is compiling deepzoo's kernels."""
    name = type(estimator).__name__
    seconds = FIRST_USE_SECONDS.get(name)
    about = f", about {seconds} s" if seconds else ""
    return (f"deepzoo: compiling Numba kernels for {name} (first use{about}; "
            "cached afterwards)")


@functools.lru_cache(maxsize=None)
def _listener_class():
    # numba is imported on first use only: ``deepzoo --help`` must not pay
    # for it
    from numba.core import event

    class Notice(event.Listener):
        """Listener for numba's ``numba:compile`` event, which numba fires
        only when it compiles (a kernel loaded from the on-disk cache fires
        nothing)."""

        def __init__(self, estimator):
            self.estimator = estimator
            self.said = False

        def on_start(self, event):
            if self.said or not event.data["dispatcher"].py_func.__module__.startswith(
                    "deepzoo."):
                return
            self.said = True
            message = compile_message(self.estimator)
            logger.info(message)
            if getattr(self.estimator, "verbose", 0):
                print(message, file=sys.stdout, flush=True)

        def on_end(self, event):
            pass

    return Notice


_active = threading.local()


def announces_compilation(method):
    """Decorate ``fit``/``partial_fit``: if the call compiles kernels (first
    use, cache cold), say so once, before compiling starts.

    The line goes to the ``"deepzoo"`` logger at INFO level and, when the
    estimator's ``verbose`` is positive, to stdout with its progress lines.
    Nested calls (``fit`` of a layer inside a stack's ``fit``) say it once,
    naming the outermost estimator.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if getattr(_active, "on", False):
            return method(self, *args, **kwargs)
        from numba.core import event

        _active.on = True
        try:
            with event.install_listener("numba:compile", _listener_class()(self)):
                return method(self, *args, **kwargs)
        finally:
            _active.on = False

    return wrapper
