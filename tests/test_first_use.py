"""First use: a fit that compiles kernels says so, once; a warm cache says
nothing. Each case runs in a fresh process with its own Numba cache folder,
as a new installation would."""

import os
import subprocess
import sys

import pytest

_FIT = """
import logging, sys
import numpy as np
from deepzoo import BernoulliRBM
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="LOG %(message)s")
X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(np.float64)
BernoulliRBM(n_components=3, n_iter=2, verbose=1, random_state=0).fit(X)
"""

_MESSAGE = "deepzoo: compiling Numba kernels for BernoulliRBM (first use"


def _fit_in_fresh_process(cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    return subprocess.run([sys.executable, "-c", _FIT], env=env, capture_output=True,
                          text=True, check=True, timeout=600)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing compiles")
def test_compilation_is_announced_once_and_only_when_the_cache_is_cold(tmp_path):
    cold = _fit_in_fresh_process(tmp_path)
    printed = [line for line in cold.stdout.splitlines() if line.startswith("deepzoo:")]
    assert len(printed) == 1, cold.stdout
    assert printed[0].startswith(_MESSAGE)
    assert printed[0].endswith("cached afterwards)")
    # printed before the first progress line: it explains the wait
    assert cold.stdout.splitlines()[0] == printed[0]
    assert f"LOG {printed[0]}" in cold.stderr.splitlines()

    warm = _fit_in_fresh_process(tmp_path)
    assert "deepzoo:" not in warm.stdout
    assert "deepzoo:" not in warm.stderr
    assert "[BernoulliRBM] Iteration 2" in warm.stdout


def test_verbose_zero_prints_nothing_but_logs(monkeypatch, capsys):
    # the announcement itself, without compiling: a listener fed one event
    import logging

    from deepzoo import BernoulliRBM
    from deepzoo.utils._progress import _listener_class, compile_message

    class Event:
        data = {"dispatcher": type("D", (), {"py_func": compile_message})()}

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("deepzoo")
    logger.addHandler(handler)
    # setLevel, not assigning .level: a logger caches isEnabledFor answers,
    # and earlier notices in this process (at the default WARNING) cached "no".
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        notice = _listener_class()(BernoulliRBM(verbose=0))
        notice.on_start(Event())
        notice.on_start(Event())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert [r.getMessage() for r in records] == [compile_message(BernoulliRBM())]
    assert capsys.readouterr().out == ""


_FIT_NETWORK = """
import numpy as np
from deepzoo import FineTunedClassifier
X = np.random.default_rng(0).random((40, 6))
FineTunedClassifier(hidden_layer_sizes=(3,), max_iter=1, verbose=1,
                    random_state=0).fit(X, X[:, 0] > 0.5)
"""


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing compiles")
def test_networks_announce_their_compilation_under_their_own_name(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_DISABLE_JIT", None)
    out = subprocess.run([sys.executable, "-c", _FIT_NETWORK], env=env, capture_output=True,
                         text=True, check=True, timeout=600).stdout
    printed = [line for line in out.splitlines() if line.startswith("deepzoo:")]
    assert len(printed) == 1, out
    assert printed[0].startswith("deepzoo: compiling Numba kernels for FineTunedClassifier")


_VARIANTS = """
import numpy as np
from deepzoo import DBN, BernoulliRBM
from deepzoo._kernels import rbm
X = np.random.default_rng(0).random((60, 8))
y = (X[:, 0] > 0.5).astype(int)
{fit}
print(len(rbm.train_epoch.signatures))
"""


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing compiles")
@pytest.mark.parametrize("fit, variants", [
    # a plain RBM compiles the epoch without label units
    ("BernoulliRBM(n_components=4, n_iter=1).fit(X)", 1),
    # a DBN with labels trains its lower RBMs in the labelled top's variant
    ("DBN(hidden_layer_sizes=(5, 6), n_iter=1, n_updown_iter=1).fit(X, y)", 1),
    ("DBN(hidden_layer_sizes=(5, 6), n_iter=1).fit(X)", 1),
    # both in one process: the two variants
    ("BernoulliRBM(n_components=4, n_iter=1).fit(X)\n"
     "DBN(hidden_layer_sizes=(5, 6), n_iter=1).fit(X, y)", 2),
], ids=["rbm", "dbn-labels", "dbn-no-labels", "rbm-then-dbn-labels"])
def test_rbm_epoch_variants_compiled(tmp_path, fit, variants):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_DISABLE_JIT", None)
    out = subprocess.run([sys.executable, "-c", _VARIANTS.format(fit=fit)], env=env,
                         capture_output=True, text=True, check=True, timeout=600).stdout
    assert int(out.split()[-1]) == variants


_TWIN = """
import sys
import numba
import numpy as np
from deepzoo._kernels import nn
serial, parallel = nn.sigmoid_inplace
{{"serial": serial, "parallel": parallel}}["{twin}"](np.zeros((4, 3), np.float32))
try:
    numba.threading_layer()
    print("threads started")
except ValueError:  # raised until a parallel region has run
    print("no threads")
"""


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing compiles")
@pytest.mark.parametrize("first, second", [("parallel", "serial"), ("serial", "parallel")])
def test_serial_and_parallel_twins_keep_their_own_cached_code(tmp_path, first, second):
    # Numba's cache index ignores target options (numba issue 6845): twins of
    # one function would share a cache entry, and whichever compiled first
    # would run for both in every later process: a serial kernel on threads
    # (5.8 ms instead of 0.05 for a 100 x 784 sigmoid, fighting BLAS's
    # threads for the cores) or a parallel one on one core.
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_DISABLE_JIT", None)
    ran = {}
    for twin in (first, second):  # one fresh process each, sharing the cache
        out = subprocess.run([sys.executable, "-c", _TWIN.format(twin=twin)], env=env,
                             capture_output=True, text=True, check=True, timeout=600).stdout
        ran[twin] = out.split("\n")[-2]
    assert ran == {"serial": "no threads", "parallel": "threads started"}
