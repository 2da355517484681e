"""Experiment recipes: a strict TOML protocol, a runner and a report.

A recipe file (``pretrain/<name>.toml`` or ``finetune/<name>.toml`` in the
source tree) names the data, the estimator and its settings, the seed, what
to measure and draw, and the paper's number. ``deepzoo pretrain FILE``,
``deepzoo finetune FILE`` and ``deepzoo reproduce NAME`` run them into
``runs/<name>/<kind>/``: the fitted models as HDF5, ``metrics.json``,
``report.md`` and PNG figures.
"""

from ._runner import list_recipes, reproduce, run_folder, run_recipe, validate_recipe
from ._report import results_table
from ._schema import Recipe, RecipeError, load_recipe, parse_recipe

__all__ = [
    "Recipe",
    "RecipeError",
    "list_recipes",
    "load_recipe",
    "parse_recipe",
    "reproduce",
    "results_table",
    "run_folder",
    "run_recipe",
    "validate_recipe",
]
