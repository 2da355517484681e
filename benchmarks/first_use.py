"""Numba compilation paid by the first ``fit`` of each estimator.

``python -m benchmarks first_use [--quick]``, or for some estimators and
the compile time of each kernel:
``python -m benchmarks.first_use [--quick] [--kernels] [NAME ...]``

The goal (issue 15): the first fit of each public estimator in a fresh
environment costs at most ``GOAL_SECONDS`` of compilation, and says so in
one line exactly when it compiles.

For every public estimator and dtype (float64, numpy's default, then
float32), a fresh process with an empty Numba cache (``NUMBA_CACHE_DIR`` set
to a new folder) fits the estimator twice on the same small data (200 rows
of values in [0, 1]: 30 features, or 29 x 29 images for the convolutional
models; one epoch or iteration); the compilation time is the first fit's
time minus the second's. A second process then fits once more with that
cache, now warm: what a user pays from the second session on. Last, one
process fits every estimator in turn with one empty cache (kernels shared
between estimators compile once): the cost of first use of the whole zoo.

Each child also counts the compile events of deepzoo's kernels (numba's
``numba:compile`` event) and the compilation notices logged by each fit:
the ``notice`` column reads ``cold/second/warm`` and must be ``1/0/0``
(announced once when compiling, silent otherwise). ``--kernels`` prints,
per estimator, the CPU seconds of each compiled kernel (exclusive of the
kernels it calls), largest first.

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

GOAL_SECONDS = 10.0

_CHILD = r"""
import collections, json, logging, sys, time
import numpy as np
from numba.core import event
import deepzoo

names, dtypes, repeat_fit = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3] == "1"
IMAGE = 29  # the smallest square images on which ConvolutionalDBN's defaults fit


class Kernels(event.Listener):
    # CPU seconds of each deepzoo kernel's compilation, exclusive of the
    # kernels it calls (compile events nest)
    def __init__(self):
        self.stack, self.seconds = [], collections.Counter()

    def on_start(self, ev):
        self.stack.append([time.process_time(), 0.0])

    def on_end(self, ev):
        start, inner = self.stack.pop()
        spent = time.process_time() - start
        if self.stack:
            self.stack[-1][1] += spent
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("deepzoo."):
            self.seconds[func.__qualname__] += spent - inner
        else:
            self.seconds["(numba's own)"] += spent - inner


class Notices(logging.Handler):
    def __init__(self):
        super().__init__()
        self.count = 0

    def emit(self, record):
        self.count += record.getMessage().startswith("deepzoo: compiling")


notices = Notices()
logger = logging.getLogger("deepzoo")
logger.addHandler(notices)
logger.setLevel(logging.INFO)
rng = np.random.default_rng(0)
out = []
for name in names:
    for dtype in dtypes:
        cls = getattr(deepzoo, name)
        image = name.startswith("Convolutional")
        X = rng.random((200, IMAGE * IMAGE if image else 30)).astype(dtype)
        y = None
        if "Classifier" in name:
            y = (X[:, 0] > 0.5).astype(int)
        elif "Regressor" in name:
            y = X[:, 0] + X[:, 1]

        def make():
            if name == "Stack":
                return cls([("rbm", deepzoo.BernoulliRBM(n_iter=1, random_state=0))])
            est = cls()
            small = {"random_state": 0, "n_iter": 1, "max_iter": 1, "n_updown_iter": 1,
                     "image_shape": (IMAGE, IMAGE)}
            return est.set_params(**{k: v for k, v in small.items() if k in est.get_params()})

        times, said, kernels = [], [], None
        for _ in range(2 if repeat_fit else 1):
            est = make()
            notices.count = 0
            listener = Kernels()
            c0, w0 = time.process_time(), time.perf_counter()
            with event.install_listener("numba:compile", listener):
                est.fit(X, y)
            times.append((time.process_time() - c0, time.perf_counter() - w0))
            said.append(notices.count)
            kernels = kernels or dict(listener.seconds)
        out.append({"name": name, "dtype": dtype, "times": times, "notices": said,
                    "kernels": kernels})
print(json.dumps(out))
"""


def _child(names, dtypes, cache, repeat_fit):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    env.pop("NUMBA_DISABLE_JIT", None)
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _CHILD, ",".join(names), ",".join(dtypes),
         "1" if repeat_fit else "0"],
        env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"the child fitting {names} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _compile_seconds(record):
    (cpu1, wall1), (cpu2, wall2) = record["times"]
    return cpu1 - cpu2, wall1 - wall2


def _print_kernels(record):
    seconds = sorted(record["kernels"].items(), key=lambda kv: -kv[1])
    print("    " + ", ".join(f"{name} {s:.2f}" for name, s in seconds if s >= 0.05)
          + f"  (sum {sum(s for _, s in seconds):.1f} cpu s)", flush=True)


def run(args):
    from deepzoo.utils import all_estimators

    from ._runner import Goal, machine_summary, setting

    repeats = setting(args, full=3, quick=1, smoke=1)
    chosen = [name for name in getattr(args, "names", None) or []]
    names = setting(args, full=None, quick=None, smoke=["Autoencoder"]) or chosen or [
        name for name, _ in all_estimators()]
    dtypes = setting(args, full=None, quick=None, smoke=["float32"]) or ["float64", "float32"]
    kernels = getattr(args, "kernels", False)
    print(machine_summary())
    print(f"median of {repeats} run(s); compile = first fit - second fit (same process, "
          f"empty cache); goal: <= {GOAL_SECONDS:.0f} cpu s per estimator; notice = "
          "compilation notices of the cold/second/warm-cache fits (want 1/0/0)")
    print(f"{'estimator':<24} {'dtype':<8} {'cold cpu s':>10} {'cold wall s':>11} "
          f"{'warm-cache cpu s':>16} {'notice':>7} {'goal':>5}", flush=True)
    worst, goals = 0.0, []
    for name in names:
        for dtype in dtypes:
            cold, warm, said = [], [], set()
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as cache:
                    record = _child([name], [dtype], cache, True)[0]
                    cold.append(_compile_seconds(record))
                    again = _child([name], [dtype], cache, False)[0]
                    warm.append(again["times"][0][0])
                    said.add("/".join(map(str, record["notices"] + again["notices"])))
            cpu = statistics.median(c for c, _ in cold)
            worst = max(worst, cpu)
            print(f"{name:<24} {dtype:<8} {cpu:10.1f} "
                  f"{statistics.median(w for _, w in cold):11.1f} "
                  f"{statistics.median(warm):16.2f} {','.join(sorted(said)):>7} "
                  f"{'ok' if cpu <= GOAL_SECONDS else 'MISS':>5}", flush=True)
            goals.append(Goal("first_use", f"{name}, {dtype}", "first fit's compilation, cpu s",
                              cpu, GOAL_SECONDS))
            if kernels:
                _print_kernels(record)
    print(f"slowest first fit: {worst:.1f} cpu s of compilation (goal <= {GOAL_SECONDS:.0f})",
          flush=True)
    for dtype_set in [[dtype] for dtype in dtypes] + ([dtypes] if len(dtypes) > 1 else []):
        totals = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as cache:
                records = _child(names, dtype_set, cache, True)
            totals.append([sum(_compile_seconds(r)[i] for r in records) for i in (0, 1)])
        print(f"all {len(names)} estimators, one process, {'+'.join(dtype_set)}: "
              f"{statistics.median(t[0] for t in totals):.1f} cpu s, "
              f"{statistics.median(t[1] for t in totals):.1f} wall s", flush=True)
    return goals


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_use",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="estimators (default: all)")
    parser.add_argument("--quick", action="store_true", help="one repeat")
    parser.add_argument("--kernels", action="store_true",
                        help="CPU seconds of each compiled kernel")
    args = parser.parse_args(argv)
    args.smoke = False
    run(args)


if __name__ == "__main__":
    main()
