"""Fetch and check the data sets that deepzoo's recipes use.

    python datasets/fetch.py {mnist,fashion-mnist,natural-images,all}
                             [--data-home DIR] [--no-download]

Everything goes through ``deepzoo.datasets``: files already present (in
``--data-home``, ``$DEEPZOO_DATA``, the user cache or, for Fashion-MNIST,
Debian's folder) are used as they are; missing ones are downloaded to
``--data-home`` (default: the user cache) and verified against the sha256
listed in the data set's card. Each split is loaded once and summarised
(shape and samples per class). The exit status is 1 if any split failed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import deepzoo
except ModuleNotFoundError:
    # Run from a source checkout where deepzoo is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import deepzoo

from deepzoo import datasets

SPLITS = {
    "mnist": (datasets.fetch_mnist, ("train", "test", "train-5k")),
    "fashion-mnist": (datasets.fetch_fashion_mnist, ("train", "test")),
}


def _summary(X, y):
    counts = " ".join(str(c) for c in np.bincount(y, minlength=10))
    return f"{X.shape[0]} x {X.shape[1]} {X.dtype}, per class [{counts}]"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python datasets/fetch.py",
        description=f"Fetch and check deepzoo's data sets (deepzoo {deepzoo.__version__}).",
    )
    parser.add_argument("dataset", choices=[*SPLITS, "natural-images", "all"])
    parser.add_argument(
        "--data-home",
        help="folder searched first and written to (default: the user cache, "
        "$XDG_CACHE_HOME/deepzoo or ~/.cache/deepzoo)",
    )
    parser.add_argument(
        "--no-download", action="store_true", help="only check the local files"
    )
    args = parser.parse_args(argv)
    names = [*SPLITS, "natural-images"] if args.dataset == "all" else [args.dataset]
    print(f"download folder: {datasets.get_data_home(args.data_home)}")
    failed = False
    for name in names:
        if name == "natural-images":
            # Ships with scikit-learn: nothing to download, only to check.
            patches = datasets.extract_natural_patches(1000, 16, random_state=0)
            print(f"natural-images: {patches.shape[0]} x {patches.shape[1]} whitened patches")
            continue
        fetch, subsets = SPLITS[name]
        for subset in subsets:
            try:
                X, y = fetch(
                    subset,
                    data_home=args.data_home,
                    download=not args.no_download,
                    return_X_y=True,
                )
            except (OSError, ValueError) as exc:
                failed = True
                print(f"{name} {subset}: FAILED\n{exc}\n")
                continue
            print(f"{name} {subset}: {_summary(X, y)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
