"""``python -m benchmarks NAME [...]``: run the named benchmarks."""

import argparse
import importlib

from ._runner import gemm_throughput, machine_summary, setting

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


def run_gemm(args):
    shapes = [(100, 784, 500), (100, 500, 784), (784, 100, 500),
              (100, 500, 500), (100, 500, 2000), (1000, 784, 1000)]
    print(machine_summary())
    print(f"{'dtype':<8} {'m x k x n':<20} {'GFLOP/s':>8}")
    for dtype, shape, gflops in gemm_throughput(
            shapes, repeats=setting(args, full=5, quick=5, smoke=1),
            flops_per_shape=setting(args, full=2e9, quick=2e9, smoke=0)):
        print(f"{dtype:<8} {' x '.join(map(str, shape)):<20} {gflops:8.1f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", choices=sorted(SUITES), help="which benchmark to run")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller data")
    parser.add_argument("--smoke", action="store_true",
                        help="the tiniest data and one repeat: every code path runs, the "
                             "timings mean nothing (for the test that keeps the suites alive)")
    args = parser.parse_args(argv)
    # a suite without sizes of its own for --smoke runs its --quick ones
    args.quick = args.quick or args.smoke
    if args.suite == "gemm":
        run_gemm(args)
    else:
        importlib.import_module(f"benchmarks.{SUITES[args.suite]}").run(args)


if __name__ == "__main__":
    main()
