"""The shipped MNIST recipes, scaled down: they parse, train and write their reports.

The full-size runs take tens of minutes each and are recorded in
docs/experiments.md; here every MNIST recipe (pretraining, then the
fine-tuning that starts from it) runs end to end on a few hundred images
with narrow layers and two epochs, through the same runner, so that a
change that breaks a recipe fails in CI.
"""

import copy
import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from deepzoo import recipes
from deepzoo.io import load
from deepzoo.recipes import load_recipe, validate_recipe
from deepzoo.recipes._data import load_data

from .test_recipes import ROOT

pytestmark = pytest.mark.slow

_EPOCHS = ("n_iter", "max_iter", "n_updown_iter")


def _shrink_params(params):
    params = dict(params)
    for key in _EPOCHS:
        if key in params:
            params[key] = min(params[key], 2)
    if isinstance(params.get("updown_k"), list):
        # a CD schedule of equal stages: one epoch each
        params["n_updown_iter"] = len(params["updown_k"])
    if "top_only_iter" in params:
        params["top_only_iter"] = min(params["top_only_iter"], 1)
    if "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = [max(4, n // 25) for n in params["hidden_layer_sizes"]]
    if "n_components" in params:
        params["n_components"] = max(2, params["n_components"] // 25)
    if params.get("batch_size", 0) < 10 and "batch_size" in params:
        params["batch_size"] = 50  # the SGD protocol's batches of 10 are slow in Python
    return params


def scaled_down(recipe):
    """``recipe`` on 300 training / 200 test images, 1/25 of the units, 2 epochs."""
    recipe = copy.deepcopy(recipe)
    recipe.data.update(n_train=300, n_test=200)
    recipe.model["params"] = _shrink_params(recipe.model.get("params", {}))
    for layer in recipe.model.get("layers", []):
        layer["params"] = _shrink_params(layer["params"])
    for variant in recipe.variants:
        variant["params"] = _shrink_params(variant["params"])
    recipe.evaluate["params"] = {
        key: (min(value, 10) if key in ("n_samples", "n_fantasies", "n_gibbs") else value)
        for key, value in recipe.evaluate.get("params", {}).items()}
    validate_recipe(recipe)
    return recipe


@pytest.mark.parametrize("name", ["dbn-mnist", "deep-autoencoder-mnist", "sda-mnist"])
def test_mnist_recipe_runs_scaled_down(name, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPZOO_DATA", str(data_dir))
    runs = tmp_path / "runs"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for kind in ("pretrain", "finetune"):
            recipe = scaled_down(load_recipe(ROOT / kind / f"{name}.toml"))
            # every variant, those a default run leaves out included
            summary = recipes.run_recipe(
                recipe, runs_dir=runs, variants=[v["name"] for v in recipe.variants] or None)
            folder = runs / name / kind
            report = (folder / "report.md").read_text()
            metrics = json.loads((folder / "metrics.json").read_text())
            assert set(metrics["variants"]) == {v["name"] for v in recipe.variants} | (
                set() if recipe.variants else {"main"})
            # the report names the data used and sets the paper's number beside ours
            assert "full MNIST (60,000 train / 10,000 test); first 300" in report
            if recipe.paper.get("value") is not None:
                assert f"{100 * recipe.paper['value']:.2f}" in report or (
                    f"{recipe.paper['value']:g}" in report)
            assert summary["variants"] == metrics["variants"]

    # The fine-tuned model file recomputes its reported number.
    recipe = scaled_down(load_recipe(ROOT / "finetune" / f"{name}.toml"))
    split = load_data(recipe.data, recipe.seed, data_home=str(data_dir))
    variant = recipe.variants[0]["name"]
    model = load(runs / name / "finetune" / f"{variant}.h5")
    reported = json.loads((runs / name / "finetune" / "metrics.json").read_text())[
        "variants"][variant]
    if recipe.paper["metric"] == "test_error":
        assert 1 - model.score(split.X_test, split.y_test) == pytest.approx(
            reported["test_error"], abs=1e-12)
    else:
        error = np.mean(np.sum((model.inverse_transform(model.transform(split.X_test))
                                - split.X_test) ** 2, axis=1))
        assert error == pytest.approx(reported[recipe.paper["metric"]], rel=1e-6)
