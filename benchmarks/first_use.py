"""Numba compilation paid by the first ``fit`` of each estimator.

``python -m benchmarks first_use [--quick]``

For every public estimator and dtype (float32, float64), a fresh process
with an empty Numba cache (``NUMBA_CACHE_DIR`` set to a new folder) fits the
estimator twice on the same small data (200 x 30 values in [0, 1], one
epoch or iteration); the compilation time is the first fit's time minus the
second's. A second process then fits once more with that cache, now warm:
what a user pays from the second session on. Last, one process fits every
estimator in turn with one empty cache (kernels shared between estimators
compile once): the cost of first use "in all".

CPU seconds (``time.process_time``: compilation is single-threaded) are the
figure to read on a shared machine; wall seconds follow. Each figure is the
median of 3 repeats (1 with ``--quick``). ``--smoke`` runs every step for
one estimator (Autoencoder, the quickest to compile) in float32.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, sys, time
import numpy as np
import deepzoo

names, dtypes, repeat_fit = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3] == "1"
rng = np.random.default_rng(0)
out = []
for name in names:
    for dtype in dtypes:
        X = rng.random((200, 30)).astype(dtype)
        y = None
        if "Classifier" in name:
            y = (X[:, 0] > 0.5).astype(int)
        elif "Regressor" in name:
            y = X[:, 0] + X[:, 1]

        def make():
            cls = getattr(deepzoo, name)
            if name == "Stack":
                return cls([("rbm", deepzoo.BernoulliRBM(n_iter=1, random_state=0))])
            est = cls()
            small = {"random_state": 0, "n_iter": 1, "max_iter": 1, "n_updown_iter": 1}
            return est.set_params(**{k: v for k, v in small.items() if k in est.get_params()})

        times = []
        for _ in range(2 if repeat_fit else 1):
            est = make()
            c0, w0 = time.process_time(), time.perf_counter()
            est.fit(X, y)
            times.append((time.process_time() - c0, time.perf_counter() - w0))
        out.append({"name": name, "dtype": dtype, "times": times})
print(json.dumps(out))
"""


def _child(names, dtypes, cache, repeat_fit):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, ",".join(names), ",".join(dtypes),
         "1" if repeat_fit else "0"],
        env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _compile_seconds(record):
    (cpu1, wall1), (cpu2, wall2) = record["times"]
    return cpu1 - cpu2, wall1 - wall2


def run(args):
    from deepzoo.utils import all_estimators

    from ._runner import machine_summary, setting

    repeats = setting(args, full=3, quick=1, smoke=1)
    names = setting(args, full=None, quick=None, smoke=["Autoencoder"]) or [
        name for name, _ in all_estimators()]
    dtypes = setting(args, full=None, quick=None, smoke=["float32"]) or ["float32", "float64"]
    print(machine_summary())
    print(f"median of {repeats} run(s); compile = first fit - second fit (same process)")
    print(f"{'estimator':<24} {'dtype':<8} {'cold cpu s':>10} {'cold wall s':>11} "
          f"{'warm-cache cpu s':>16}", flush=True)
    for name in names:
        for dtype in dtypes:
            cold, warm = [], []
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as cache:
                    cold.append(_compile_seconds(_child([name], [dtype], cache, True)[0]))
                    warm.append(_child([name], [dtype], cache, False)[0]["times"][0][0])
            print(f"{name:<24} {dtype:<8} {statistics.median(c for c, _ in cold):10.1f} "
                  f"{statistics.median(w for _, w in cold):11.1f} "
                  f"{statistics.median(warm):16.2f}", flush=True)
    for dtype_set in [[dtype] for dtype in dtypes] + ([dtypes] if len(dtypes) > 1 else []):
        totals = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as cache:
                records = _child(names, dtype_set, cache, True)
            totals.append([sum(_compile_seconds(r)[i] for r in records) for i in (0, 1)])
        print(f"all estimators, one process, {'+'.join(dtype_set)}: "
              f"{statistics.median(t[0] for t in totals):.1f} cpu s, "
              f"{statistics.median(t[1] for t in totals):.1f} wall s", flush=True)
