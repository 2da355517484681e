"""The ``deepzoo`` command.

``deepzoo info`` describes the installation; ``deepzoo pretrain FILE``,
``deepzoo finetune FILE`` and ``deepzoo reproduce NAME`` run experiment
recipes (see ``pretrain/`` and ``finetune/`` in the source tree).
"""

import argparse
import sys

__all__ = ["main"]


def _info(args):
    import numba
    import numpy
    import sklearn
    from threadpoolctl import threadpool_info

    import deepzoo
    from deepzoo.utils import all_estimators

    print(f"deepzoo {deepzoo.__version__}")
    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, "
          f"scikit-learn {sklearn.__version__}, numba {numba.__version__}")
    for pool in threadpool_info():
        print(f"{pool['user_api']}: {pool['internal_api']} {pool.get('version')}, "
              f"{pool['num_threads']} threads")
    names = [name for name, _ in all_estimators()]
    print(f"{len(names)} estimators: {', '.join(names)}")
    return 0


def _add_run_options(p):
    p.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a finished run instead of refusing")
    p.add_argument("--data-home", default=None,
                   help="folder with mnist/ and fashion-mnist/ (default: $DEEPZOO_DATA, cache)")
    p.add_argument("--download", action="store_true",
                   help="download missing data sets (needs internet)")


def main(argv=None):
    """Entry point of the ``deepzoo`` console script."""
    parser = argparse.ArgumentParser(prog="deepzoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, BLAS threads and the estimators")
    for kind in ("pretrain", "finetune"):
        p = sub.add_parser(kind, help=f"run a {kind} recipe file ({kind}/NAME.toml)")
        p.add_argument("recipe", help="path of the recipe file")
        _add_run_options(p)
    p = sub.add_parser("reproduce", help="run pretrain/NAME.toml then finetune/NAME.toml")
    p.add_argument("name", help="recipe name, e.g. rbm-logistic-digits")
    p.add_argument("--recipes-dir", default=".",
                   help="folder holding pretrain/ and finetune/ (default: .)")
    _add_run_options(p)
    sub.add_parser("list", help="list the recipes under ./pretrain and ./finetune")
    p = sub.add_parser("results", help="markdown table of every finished run")
    p.add_argument("--runs-dir", default="runs", help="where run folders are (default: runs)")
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info(args)
    from deepzoo import recipes

    try:
        if args.command == "list":
            return recipes.list_recipes(".")
        if args.command == "results":
            print(recipes.results_table(args.runs_dir), end="")
            return 0
        if args.command == "reproduce":
            return recipes.reproduce(args.name, recipes_dir=args.recipes_dir,
                                     **_run_kwargs(args))
        recipe = recipes.load_recipe(args.recipe)
        if recipe.kind != args.command:
            raise recipes.RecipeError(
                f"{args.recipe} is a {recipe.kind} recipe; run it with "
                f"'deepzoo {recipe.kind} {args.recipe}'.")
        recipes.run_recipe(recipe, **_run_kwargs(args))
        return 0
    except (recipes.RecipeError, FileNotFoundError) as exc:
        # Both messages say what is wrong and how to fix it (a missing data
        # set lists where it was looked for); a traceback adds nothing.
        print(f"deepzoo: error: {exc}", file=sys.stderr)
        return 2


def _run_kwargs(args):
    return dict(runs_dir=args.runs_dir, overwrite=args.overwrite,
                data_home=args.data_home, download=args.download)


if __name__ == "__main__":
    sys.exit(main())
