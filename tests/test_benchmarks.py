"""Every benchmark suite still runs, so that none can rot unnoticed.

``python -m benchmarks all --smoke`` runs each suite in its own process
(the tiniest data, one repeat: every code path, meaningless timings), as a
user would start it, and gathers their goals into one table. A peer that is not installed (PyTorch,
SPAMS) must be reported on a line of the output, never crash the suite.
Real data is used where ``DEEPZOO_DATA`` provides it; without it the
suites fall back to synthetic data.
"""

import dataclasses
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import ORDER, SUITES
from benchmarks._runner import Goal

ROOT = Path(__file__).resolve().parents[1]

# optional peers of each suite, by importable module name
OPTIONAL_PEERS = {"finetune": ["torch"], "sparse_coding": ["spams"], "conv_rbm": ["torch"]}

def test_all_runs_every_suite_and_writes_one_table(tmp_path):
    out = tmp_path / "benchmarks.md"
    result = subprocess.run([sys.executable, "-m", "benchmarks", "all", "--smoke", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    # each suite's own output, as a user running it alone would see it
    sections = result.stdout.split("\n######## ")[1:]
    assert [section.split(":")[0] for section in sections] == ORDER
    for section in sections:
        assert section.splitlines()[1].startswith("cores="), section[:500]
        suite = section.split(":")[0]
        for peer in OPTIONAL_PEERS.get(suite, []):
            if importlib.util.find_spec(peer) is None:
                assert f"{peer} not installed" in section, section
    # one table: a row per goal that the suites printed, each with its verdict
    table = out.read_text()
    printed = [line for line in result.stdout.splitlines() if line.startswith("GOAL ")]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) - 1 == len(printed) > 0
    assert f"of {len(printed)} goals met" in table
    assert {row.split("|")[1].strip() for row in rows[1:]} == set(ORDER) - {"gemm"}
    assert all(row.rstrip(" |").endswith(("met", "**missed**")) for row in rows[1:])


def test_goal_verdicts():
    assert Goal("s", "c", "x floor", 1.1, 1.15).met
    assert not Goal("s", "c", "x floor", 1.2, 1.15).met
    assert Goal("s", "c", "speedup", 1.9, 1.8, at_most=False).met
    assert not Goal("s", "c", "speedup", 1.7, 1.8, at_most=False).met


def test_every_suite_is_tested():
    # a new suite joins SUITES (the command line's choices) and so this test
    on_disk = {path.stem for path in (ROOT / "benchmarks").glob("*.py")
               if not path.stem.startswith("_")}
    assert on_disk == {module for module in SUITES.values() if module}
    assert sorted(ORDER) == sorted(SUITES)


def test_all_with_goals_dir_runs_only_the_suites_not_done_yet(tmp_path):
    # an interrupted 'all' left the goals of every suite but gemm (which
    # has no goals and runs in a second); a run of another mode left some too
    done = tmp_path / "goals"
    done.mkdir()
    for suite in ORDER:
        if suite != "gemm":
            goal = Goal(suite, f"kept {suite}", "x floor", 1.0, 1.2)
            (done / f"{suite}-smoke.json").write_text(json.dumps([dataclasses.asdict(goal)]))
    (done / "gemm-full.json").write_text("[]")
    out = tmp_path / "benchmarks.md"
    env = {k: v for k, v in os.environ.items() if k != "DEEPZOO_DATA"}
    result = subprocess.run([sys.executable, "-m", "benchmarks", "all", "--smoke", "--out", str(out),
                             "--goals-dir", str(done)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-4000:]
    # a run of record needs the data: its absence is said before anything runs
    assert result.stdout.startswith("DEEPZOO_DATA is not set: ")
    sections = result.stdout.split("\n######## ")[1:]
    ran = [s.split(":")[0] for s in sections if ": python -m benchmarks" in s.splitlines()[0]]
    assert ran == ["gemm"]
    assert (done / "gemm-smoke.json").read_text() == "[]"
    table = out.read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.split("|")[2].strip() for row in rows[1:]] == [
        f"kept {suite}" for suite in ORDER if suite != "gemm"]
    assert "Suites kept from an earlier run (`--goals-dir`): rbm (" in table
    assert "gemm (" not in table


def test_goals_dir_is_only_for_all():
    result = subprocess.run([sys.executable, "-m", "benchmarks", "gemm", "--goals-dir", "x"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--goals-dir is for 'all'" in result.stderr
