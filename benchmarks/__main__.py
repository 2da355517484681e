"""``python -m benchmarks NAME [...]``: run the named benchmark, or ``all``
of them in turn and write one table of every goal (``--out FILE``)."""

import argparse
import dataclasses
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile

from deepzoo.utils._files import write_atomic

from ._runner import Goal, gemm_throughput, machine_summary, setting

SUITES = {
    "rbm": "rbm",
    "finetune": "finetune",
    "sparse_coding": "sparse_coding",
    "autoencoder": "autoencoder",
    "first_use": "first_use",
    "conv_rbm": "conv_rbm",
    "out_of_core": "out_of_core",
    "gemm": None,
}
# ``all``'s order: the machine's GEMM throughput first (the floor the
# others are stated against), the slow out-of-core suite last
ORDER = ["gemm", "rbm", "autoencoder", "finetune", "sparse_coding", "conv_rbm", "first_use",
         "out_of_core"]


def run_gemm(args):
    shapes = [(100, 784, 500), (100, 500, 784), (784, 100, 500),
              (100, 500, 500), (100, 500, 2000), (1000, 784, 1000)]
    print(machine_summary())
    print(f"{'dtype':<8} {'m x k x n':<20} {'GFLOP/s':>8}")
    for dtype, shape, gflops in gemm_throughput(
            shapes, repeats=setting(args, full=5, quick=5, smoke=1),
            flops_per_shape=setting(args, full=2e9, quick=2e9, smoke=0)):
        print(f"{dtype:<8} {' x '.join(map(str, shape)):<20} {gflops:8.1f}", flush=True)
    return []


def _mode(args):
    return "--smoke" if args.smoke else "--quick" if args.quick else "full"


def run_all(args):
    """Every suite in its own process (each sets its own threads and
    caches, as a user's run would); their goals gathered into one table.

    With ``--goals-dir``, each suite's goals are kept there as it finishes
    and a suite whose goals are already there (from a run in the same
    mode) is not run again: an interrupted ``all`` continues where it
    stopped. Each suite times its candidates against its references in
    its own run, so suites measured at different times still give true
    ratios; the table names those kept from earlier.
    """
    if not os.environ.get("DEEPZOO_DATA"):
        print("DEEPZOO_DATA is not set: the rbm, conv_rbm and sparse_coding suites measure on "
              "synthetic data instead of MNIST; point it at the data folder for the table of "
              "record.", flush=True)
    goals, failed, kept = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for suite in ORDER:
            shown = ["-m", "benchmarks", suite] + ([_mode(args)] if _mode(args) != "full" else [])
            done = (os.path.join(args.goals_dir, f"{suite}-{_mode(args).lstrip('-')}.json")
                    if args.goals_dir else None)
            if done and os.path.exists(done):
                stamp = datetime.datetime.fromtimestamp(os.path.getmtime(done))
                print(f"\n######## {suite}: kept from {done} ({stamp:%Y-%m-%d %H:%M}; delete "
                      "it to measure again)", flush=True)
                kept.append(f"{suite} ({stamp:%Y-%m-%d %H:%M})")
                with open(done, "rb") as f:
                    raw = f.read()
            else:
                print(f"\n######## {suite}: python {' '.join(shown)}", flush=True)
                path = os.path.join(tmp, f"{suite}.json")
                if subprocess.run([sys.executable, *shown, "--goals", path]).returncode:
                    failed.append(suite)
                    continue
                with open(path, "rb") as f:
                    raw = f.read()
                if done:
                    # a run stopped while writing must not leave a suite done
                    write_atomic(done, raw)
            goals += [Goal(**g) for g in json.loads(raw)]
    table = summary_table(goals, args, failed, kept)
    print("\n" + table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
        print(f"written to {args.out}")
    if failed:
        raise SystemExit(f"suites that failed: {', '.join(failed)}")
    return goals


def summary_table(goals, args, failed=(), kept=()):
    """The Markdown page of ``all``: how it was run, then one row per goal."""
    met = sum(g.met for g in goals)
    lines = [
        "# Benchmarks: every goal, one run",
        "",
        f"`python -m benchmarks all{'' if _mode(args) == 'full' else ' ' + _mode(args)}`, "
        f"{datetime.date.today().isoformat()}, {platform.processor() or platform.machine()}; "
        f"{machine_summary()}.",
        "Each suite's candidates are timed interleaved in one process; a ratio is a median "
        "time over the median of its reference in the same run. "
        + ("(`--quick`/`--smoke` sizes: the figures are not the goals' measurements.)"
           if _mode(args) != "full" else "")
        + (f" Suites kept from an earlier run (`--goals-dir`): {', '.join(kept)}."
           if kept else ""),
        "",
        f"{met} of {len(goals)} goals met"
        + (f"; suites that failed: {', '.join(failed)}" if failed else "") + ".",
        "",
        "| suite | case | measure | value | goal | |",
        "|---|---|---|---:|---:|---|",
    ]
    for g in goals:
        sign = "<=" if g.at_most else ">="
        lines.append(f"| {g.suite} | {g.case} | {g.measure} | {g.value:.3g} | {sign} {g.target:g} "
                     f"| {'met' if g.met else '**missed**'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", choices=sorted([*SUITES, "all"]), help="which benchmark to run")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller data")
    parser.add_argument("--smoke", action="store_true",
                        help="the tiniest data and one repeat: every code path runs, the "
                             "timings mean nothing (for the test that keeps the suites alive)")
    parser.add_argument("--goals", metavar="FILE", help="write the suite's goals as JSON")
    parser.add_argument("--out", metavar="FILE",
                        help="with all: write the table of goals (Markdown) to FILE")
    parser.add_argument("--goals-dir", metavar="DIR",
                        help="with all: keep each suite's goals in DIR and skip the suites "
                             "whose goals are there already (resume an interrupted run)")
    args = parser.parse_args(argv)
    if args.out and args.suite != "all":
        parser.error("--out is for 'all'; a single suite writes its goals with --goals")
    if args.goals_dir and args.suite != "all":
        parser.error("--goals-dir is for 'all'; a single suite writes its goals with --goals")
    if args.goals_dir:
        os.makedirs(args.goals_dir, exist_ok=True)
    # a suite without sizes of its own for --smoke runs its --quick ones
    args.quick = args.quick or args.smoke
    if args.suite == "all":
        run_all(args)
        return
    if args.suite == "gemm":
        goals = run_gemm(args)
    else:
        goals = importlib.import_module(f"benchmarks.{SUITES[args.suite]}").run(args) or []
    if goals:
        print()
    for goal in goals:
        print(goal.line())
    if args.goals:
        with open(args.goals, "w") as f:
            json.dump([dataclasses.asdict(g) for g in goals], f)


if __name__ == "__main__":
    main()
