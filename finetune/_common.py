"""Shared plumbing of the fine-tuning experiments: data, timing, output."""

import json
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = ["load", "timed", "write_metrics", "quiet"]


def load(name, subset):
    """``(X, y)`` as float32 in [0, 1] from the deepzoo loaders."""
    from deepzoo.datasets import fetch_fashion_mnist, fetch_mnist

    fetch = {"mnist": fetch_mnist, "fashion-mnist": fetch_fashion_mnist}[name]
    bunch = fetch(subset=subset)
    return bunch.data.astype(np.float32, copy=False), bunch.target


@contextmanager
def timed(metrics, key):
    """Record the wall time of the block in ``metrics[key]`` (seconds)."""
    t0 = time.perf_counter()
    yield
    metrics[key] = round(time.perf_counter() - t0, 1)
    print(f"  {key} = {metrics[key]} s", flush=True)


@contextmanager
def quiet():
    """Fixed epoch budgets end at max_iter on purpose: no warning for that."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def write_metrics(metrics, out_dir, name):
    """Print the metrics and write them to ``out_dir/name.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    for key, value in metrics.items():
        print(f"{key:40s} {value}")
    return metrics
