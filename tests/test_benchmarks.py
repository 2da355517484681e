"""Every benchmark suite still runs, so that none can rot unnoticed.

Each suite of ``python -m benchmarks`` runs in its own process with
``--smoke`` (the tiniest data, one repeat: every code path, meaningless
timings), as a user would start it. A peer that is not installed (PyTorch,
SPAMS) must be reported on a line of the output, never crash the suite.
Real data is used where ``DEEPZOO_DATA`` provides it; without it the
suites fall back to synthetic data.
"""

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import SUITES

ROOT = Path(__file__).resolve().parents[1]

# optional peers of each suite, by importable module name
OPTIONAL_PEERS = {"finetune": ["torch"], "sparse_coding": ["spams"], "conv_rbm": ["torch"]}

@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_runs(suite):
    if SUITES[suite] is not None:
        module = importlib.import_module(f"benchmarks.{SUITES[suite]}")
        assert callable(module.run)
    result = subprocess.run([sys.executable, "-m", "benchmarks", suite, "--smoke"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert result.stdout.startswith("cores="), result.stdout[:500]
    for peer in OPTIONAL_PEERS.get(suite, []):
        if importlib.util.find_spec(peer) is None:
            assert f"{peer} not installed" in result.stdout, result.stdout


def test_every_suite_is_tested():
    # a new suite joins SUITES (the command line's choices) and so this test
    on_disk = {path.stem for path in (ROOT / "benchmarks").glob("*.py")
               if not path.stem.startswith("_")}
    assert on_disk == {module for module in SUITES.values() if module}
