"""The cdbn-mnist recipe, scaled down: it parses, trains and writes its report.

The full-size run is recorded in docs/experiments.md; here it runs end to
end on 300 MNIST images with fewer filters and two epochs per layer,
through the same runner, so that a change that breaks it fails in CI.
"""

import json

import pytest

from deepzoo import recipes
from deepzoo.io import load
from deepzoo.recipes import load_recipe, validate_recipe
from deepzoo.recipes._data import load_data

from .test_recipes import ROOT
from .test_recipes_mnist import scaled_down

pytestmark = pytest.mark.slow


def test_cdbn_mnist_recipe_runs_scaled_down(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPZOO_DATA", str(data_dir))
    recipe = scaled_down(load_recipe(ROOT / "pretrain" / "cdbn-mnist.toml"))
    recipe.model["params"]["n_filters"] = [6, 8]
    validate_recipe(recipe)
    runs = tmp_path / "runs"
    summary = recipes.run_recipe(recipe, runs_dir=runs)
    folder = runs / "cdbn-mnist" / "pretrain"
    report = (folder / "report.md").read_text()
    metrics = json.loads((folder / "metrics.json").read_text())["variants"]["main"]
    assert summary["variants"]["main"] == metrics
    # the report names the data and sets the paper's 0.82% beside ours
    assert "full MNIST (60,000 train / 10,000 test); first 300" in report
    assert "0.82" in report
    assert 0 <= metrics["linear_svm_test_error"] <= 1
    assert "raw_logistic_test_error" in json.loads((folder / "metrics.json").read_text())[
        "baselines"]
    assert (folder / "main-filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the saved model recomputes the features the classifier was given
    model = load(folder / "main.h5")
    split = load_data(recipe.data, recipe.seed, data_home=str(data_dir))
    assert model.transform(split.X_test).shape == (200, 6 * 12 * 12 + 8 * 4 * 4)
