"""The fixed form of ``verbose`` progress lines."""

import sys


def report_progress(estimator, iteration, metric, value, elapsed, file=None):
    """Print ``[ClassName] Iteration k, <metric> = <value>, time = <s>s``."""
    print(
        f"[{type(estimator).__name__}] Iteration {iteration}, "
        f"{metric} = {value:.6g}, time = {elapsed:.2f}s",
        file=file or sys.stdout,
        flush=True,
    )
