"""The ``deepzoo`` command.

Only the standard library is imported at the top: numpy, scikit-learn and
numba load inside the subcommands that need them, so that ``deepzoo --help``
and ``deepzoo --version`` answer at once.
"""

import argparse
import os
import sys
from pathlib import Path

from deepzoo import __version__

__all__ = ["main"]

_DESCRIPTION = """\
Classical deep learning as scikit-learn estimators: run the experiment
recipes (pretrain/NAME.toml, finetune/NAME.toml) and report their results."""

_EPILOG = """\
where recipes are found:
  A recipe NAME is looked up in --recipes-dir when given, else in
  ./pretrain and ./finetune when they hold recipes (a source checkout),
  else among the recipes installed with deepzoo. 'deepzoo list' says which
  folder it read. Runs go to ./runs unless --runs-dir says otherwise.

exit status:
  0  done
  1  nothing found: no recipe to list, no finished run to report
  2  bad input: unknown command or option, no recipe of that name (the
     closest names are suggested), an invalid recipe, missing data, a
     finished run in the way (--overwrite)

examples:
  deepzoo list
  deepzoo reproduce rbm-logistic-digits
  deepzoo pretrain dbn-mnist --runs-dir /data/runs
  deepzoo finetune my-recipes/finetune/dbn-mnist.toml
  deepzoo results --runs-dir /data/runs"""

# Exit codes, as the epilog documents them.
_DONE, _NOTHING_FOUND, _BAD_INPUT = 0, 1, 2
# What a shell reports for a process ended by SIGPIPE.
_BROKEN_PIPE = 141


def _error(message):
    print(f"deepzoo: error: {message}", file=sys.stderr)


def _info(args):
    import numba
    import numpy
    import sklearn
    from threadpoolctl import threadpool_info

    from deepzoo import recipes
    from deepzoo.utils import all_estimators

    print(f"deepzoo {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, "
          f"scikit-learn {sklearn.__version__}, numba {numba.__version__}")
    for pool in threadpool_info():
        print(f"{pool['user_api']}: {pool['internal_api']} {pool.get('version')}, "
              f"{pool['num_threads']} threads")
    names = [name for name, _ in all_estimators()]
    print(f"{len(names)} estimators: {', '.join(names)}")
    root, where = recipes.locate_recipes(args.recipes_dir)
    print(f"recipes: {root} ({where}), {len(recipes.recipe_files(root))} files")
    return _DONE


def _list(args):
    from deepzoo import recipes

    root, where = recipes.locate_recipes(args.recipes_dir)
    files = recipes.recipe_files(root)
    if not files:
        _error(f"no recipe in {root}/pretrain or {root}/finetune ({where}); pass "
               "--recipes-dir with the folder that holds them.")
        return _NOTHING_FOUND
    print(f"recipes in {root} ({where}):")
    for path in files:
        recipe = recipes.load_recipe(path)
        print(f"{recipe.kind:<9} {recipe.name:<32} {recipe.title}")
    return _DONE


def _results(args):
    from deepzoo import recipes

    if not recipes.finished_runs(args.runs_dir):
        runs = Path(args.runs_dir).absolute()
        missing = "" if runs.is_dir() else " (no such folder)"
        _error(f"no finished run in {runs}{missing}; 'deepzoo reproduce NAME' writes "
               "runs there, or pass --runs-dir with the folder that holds them.")
        return _NOTHING_FOUND
    print(recipes.results_table(args.runs_dir), end="")
    return _DONE


def _run(args):
    """``pretrain``, ``finetune``: a recipe by name or by path."""
    from deepzoo import recipes

    if args.recipe.endswith(".toml") or "/" in args.recipe or "\\" in args.recipe:
        path = Path(args.recipe)
    else:
        (path,) = recipes.find_recipe(args.recipe, (args.command,), args.recipes_dir)
    recipe = recipes.load_recipe(path)
    if recipe.kind != args.command:
        raise recipes.RecipeError(
            f"{path} is a {recipe.kind} recipe; run it with 'deepzoo {recipe.kind} {path}'.")
    recipes.run_recipe(recipe, variants=args.variant, **_run_kwargs(args))
    return _DONE


def _reproduce(args):
    from deepzoo import recipes

    return recipes.reproduce(args.name, recipes_dir=args.recipes_dir, **_run_kwargs(args))


def _run_kwargs(args):
    return dict(runs_dir=args.runs_dir, overwrite=args.overwrite,
                data_home=args.data_home, download=args.download)


def _add_recipes_dir(p):
    p.add_argument("--recipes-dir", metavar="DIR", default=None,
                   help="folder holding pretrain/ and finetune/ (default: ./ if it holds "
                        "recipes, else the recipes installed with deepzoo)")


def _add_runs_dir(p):
    p.add_argument("--runs-dir", metavar="DIR", default="runs",
                   help="folder of the run folders (default: ./runs)")


def _add_run_options(p):
    _add_recipes_dir(p)
    _add_runs_dir(p)
    p.add_argument("--overwrite", action="store_true",
                   help="replace a finished run instead of refusing")
    p.add_argument("--data-home", metavar="DIR", default=None,
                   help="folder with mnist/ and fashion-mnist/ (default: $DEEPZOO_DATA, cache)")
    p.add_argument("--download", action="store_true",
                   help="download missing data sets (needs internet)")


def _parser():
    parser = argparse.ArgumentParser(prog="deepzoo", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"deepzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help, handler):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    _add_recipes_dir(command("info", "versions, BLAS threads, the estimators and where the "
                             "recipes are", _info))
    _add_recipes_dir(command("list", "list the recipes", _list))
    for kind in ("pretrain", "finetune"):
        p = command(kind, f"run one {kind} recipe", _run)
        p.add_argument("recipe", metavar="RECIPE",
                       help=f"a recipe name (its {kind}/NAME.toml is looked up) or the path of "
                            "a .toml file")
        p.add_argument("--variant", metavar="NAME", action="append", default=None,
                       help="run only this variant (repeatable); variants marked "
                            "'default = false', such as a paper's own slower protocol, run "
                            "only when named; a finished run gains the variants it lacks")
        _add_run_options(p)
    p = command("reproduce", "run the pretrain recipe NAME, then the finetune recipe NAME "
                "(those that exist)", _reproduce)
    p.add_argument("name", metavar="NAME", help="recipe name, e.g. rbm-logistic-digits")
    _add_run_options(p)
    _add_runs_dir(command("results", "markdown table of every finished run", _results))
    return parser


def main(argv=None):
    """Entry point of the ``deepzoo`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from deepzoo.recipes import RecipeError

    try:
        status = args.handler(args)
        sys.stdout.flush()
    except (RecipeError, FileNotFoundError) as exc:
        # Both messages say what is wrong and how to fix it (a missing data
        # set lists where it was looked for); a traceback adds nothing.
        _error(exc)
        return _BAD_INPUT
    except BrokenPipeError:
        # The reader left ('deepzoo list | head'): stop quietly, and keep
        # Python's own flush at exit from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _BROKEN_PIPE
    return status


if __name__ == "__main__":
    sys.exit(main())
