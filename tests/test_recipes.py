from pathlib import Path

import pytest

from deepzoo import recipes
from deepzoo.recipes import RecipeError, load_recipe, parse_recipe

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = '''
name = "tiny"
title = "Tiny"
kind = "pretrain"
[paper]
source = "nobody"
metric = "logistic_test_accuracy"
[data]
dataset = "digits-shifted"
[model]
estimator = "BernoulliRBM"
'''


def test_minimal_recipe_gets_defaults():
    r = parse_recipe(MINIMAL)
    assert r.seed == 0 and r.variants == [] and r.evaluate["metrics"] == []
    assert r.data["preprocessing"] == [] and r.model["params"] == {}


@pytest.mark.parametrize("extra, key", [
    ("colour = 3", "recipe.colour"),
    ("[data.foo]\nx = 1", "data.foo"),
])
def test_unknown_key_is_named(extra, key):
    text = MINIMAL + extra if extra.startswith("[") else extra + "\n" + MINIMAL
    with pytest.raises(RecipeError, match=f"unknown key {key}"):
        parse_recipe(text)


def test_unknown_paper_key_is_named():
    with pytest.raises(RecipeError, match="unknown key paper.valu;"):
        parse_recipe(MINIMAL.replace('source = "nobody"', 'source = "nobody"\nvalu = 1'))


@pytest.mark.parametrize("old, new, message", [
    ("[data]\n", "[data]\nn_train = \"many\"\n", "data.n_train must be int; got str 'many'"),
    ("[data]\n", "[data]\nn_train = true\n", "data.n_train must be int; got bool"),
    ('kind = "pretrain"', 'kind = "pretrain"\nseed = 1.5', "recipe.seed must be int; got float"),
    ('metric = "logistic_test_accuracy"', 'metric = 3', "paper.metric must be str"),
])
def test_wrong_type_is_named(old, new, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(MINIMAL.replace(old, new, 1))


def test_missing_key_and_bad_kind():
    with pytest.raises(RecipeError, match="missing required key model.estimator"):
        parse_recipe(MINIMAL.replace('estimator = "BernoulliRBM"', ""))
    with pytest.raises(RecipeError, match="recipe.kind must be one of"):
        parse_recipe(MINIMAL.replace('kind = "pretrain"', 'kind = "train"'))


def test_finetune_needs_its_pretraining_run():
    with pytest.raises(RecipeError, match="recipe.starts_from"):
        parse_recipe(MINIMAL.replace('kind = "pretrain"', 'kind = "finetune"'))


def test_variants_are_checked():
    text = MINIMAL + '[[variants]]\nname = "a"\n[[variants]]\nname = "a"\n'
    with pytest.raises(RecipeError, match="variant names must be unique"):
        parse_recipe(text)
    with pytest.raises(RecipeError, match="unknown key variants\\[0\\].k"):
        parse_recipe(MINIMAL + '[[variants]]\nname = "a"\nk = 3\n')


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="not valid TOML"):
        parse_recipe("name = ")
    with pytest.raises(RecipeError, match="no recipe file"):
        load_recipe(tmp_path / "nope.toml")


def test_every_shipped_recipe_parses():
    files = sorted((ROOT / "pretrain").glob("*.toml")) + sorted((ROOT / "finetune").glob("*.toml"))
    for path in files:
        recipe = load_recipe(path)
        assert recipe.name == path.stem, f"{path}: name must match the file name"
        assert recipe.kind == path.parent.name, f"{path}: kind must match its folder"


def test_cli_names_the_bad_key(tmp_path, capsys):
    from deepzoo.cli import main

    path = tmp_path / "bad.toml"
    path.write_text("typo = 1\n" + MINIMAL)
    assert main(["pretrain", str(path)]) == 2
    assert "unknown key recipe.typo" in capsys.readouterr().err


def test_reproduce_unknown_name(tmp_path):
    with pytest.raises(RecipeError, match="no recipe named 'nope'"):
        recipes.reproduce("nope", recipes_dir=tmp_path)
