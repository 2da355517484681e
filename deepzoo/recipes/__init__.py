"""Experiment recipes: a strict TOML protocol, a runner and a report.

A recipe file (``pretrain/<name>.toml`` or ``finetune/<name>.toml``) names
the data, the estimator and its settings, the seed, what to measure and
draw, and the paper's number. The recipes live at the top of the source
tree and are installed with the package; :func:`locate_recipes` says which
folder is used. ``deepzoo pretrain NAME``, ``deepzoo finetune NAME`` and
``deepzoo reproduce NAME`` run them into ``runs/<name>/<kind>/``: the fitted
models as HDF5, ``metrics.json``, ``report.md`` and PNG figures.
"""

from ._lookup import find_recipe, locate_recipes, recipe_files
from ._report import finished_runs, results_table
from ._runner import reproduce, run_folder, run_recipe, validate_recipe
from ._schema import Recipe, RecipeError, load_recipe, parse_recipe

__all__ = [
    "Recipe",
    "RecipeError",
    "find_recipe",
    "finished_runs",
    "load_recipe",
    "locate_recipes",
    "parse_recipe",
    "recipe_files",
    "reproduce",
    "results_table",
    "run_folder",
    "run_recipe",
    "validate_recipe",
]
