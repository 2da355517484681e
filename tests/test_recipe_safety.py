"""A recipe never writes or deletes outside its runs folder, resume never
reuses a model that another recipe produced, and damaged run files or bad
recipe values give one clear error, never a traceback."""

import json
import re

import pytest

from deepzoo import recipes
from deepzoo.cli import main as cli
from deepzoo.recipes import RecipeError, parse_recipe

# Small enough to run in about a second.
RECIPE = '''
name = "tiny-safe"
title = "Tiny"
kind = "pretrain"
seed = 3
[paper]
source = "nobody"
metric = "logistic_test_accuracy"
[data]
dataset = "digits-shifted"
n_train = 300
n_test = 100
[model]
estimator = "BernoulliRBM"
params = { n_components = 8, n_iter = 1, batch_size = 20 }
[evaluate]
metrics = ["logistic_accuracy"]
figures = ["filters"]
'''


def _victim(tmp_path):
    """A folder outside the runs folder whose files must survive."""
    victim = tmp_path / "victim"
    (victim / "pretrain").mkdir(parents=True)
    (victim / "pretrain" / "metrics.json").write_text('{"precious": true}')
    (victim / "keep.txt").write_text("precious")
    return victim


def _assert_untouched(victim):
    assert (victim / "keep.txt").read_text() == "precious"
    assert json.loads((victim / "pretrain" / "metrics.json").read_text()) == {"precious": True}
    assert sorted(p.name for p in victim.rglob("*")) == ["keep.txt", "metrics.json", "pretrain"]


def _write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- names are plain slugs -------------------------------------------------

@pytest.mark.parametrize("bad", [
    "../../../x", "/tmp/x", "a/b", "a\\b", "..", ".hidden", "", "a..b", "x" * 101, "a b",
])
def test_recipe_name_must_be_a_slug(bad):
    with pytest.raises(RecipeError, match=r"recipe\.name must be a plain name.*got " +
                       re.escape(repr(bad))):
        parse_recipe(RECIPE.replace('name = "tiny-safe"', f'name = {json.dumps(bad)}'))


@pytest.mark.parametrize("bad", ["../v", "/abs", "v/w", ".."])
def test_variant_name_must_be_a_slug(bad):
    text = RECIPE + f'[[variants]]\nname = {json.dumps(bad)}\n'
    with pytest.raises(RecipeError, match=r"variants\[0\]\.name must be a plain name"):
        parse_recipe(text)


@pytest.mark.parametrize("bad", ["../x", "/x", "x:../v", "x:", ":v", "x:v:w"])
def test_starts_from_must_name_a_run_and_variant(bad):
    text = RECIPE.replace('kind = "pretrain"',
                          f'kind = "finetune"\nstarts_from = {json.dumps(bad)}')
    with pytest.raises(RecipeError, match=r"recipe\.starts_from must be 'NAME' or "
                                          r"'NAME:VARIANT', each a plain name"):
        parse_recipe(text)


def test_good_names_pass():
    text = RECIPE.replace('kind = "pretrain"', 'kind = "finetune"\nstarts_from = "dbn-1.0:un_sup"')
    recipe = parse_recipe(text + '[[variants]]\nname = "A_1.b-c"\n')
    assert recipe.starts_from == "dbn-1.0:un_sup" and recipe.variants[0]["name"] == "A_1.b-c"


# -- nothing is written or deleted outside the runs folder -----------------

def test_dot_dot_name_writes_nothing_outside(tmp_path):
    victim = _victim(tmp_path)
    runs = tmp_path / "a" / "runs"
    path = _write(tmp_path, RECIPE.replace('name = "tiny-safe"', 'name = "../../victim"'))
    with pytest.raises(RecipeError, match="recipe.name must be a plain name"):
        recipes.run_recipe(path, runs_dir=runs, overwrite=True)
    _assert_untouched(victim)
    assert not (tmp_path / "a").exists()


def test_absolute_name_writes_nothing(tmp_path):
    target = tmp_path / "abs"
    path = _write(tmp_path, RECIPE.replace('name = "tiny-safe"', f'name = "{target}"'))
    with pytest.raises(RecipeError, match="recipe.name must be a plain name"):
        recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    assert not target.exists() and not (tmp_path / "runs").exists()


def test_dot_dot_variant_writes_nothing_outside(tmp_path):
    runs = tmp_path / "runs"
    path = _write(tmp_path, RECIPE + '[[variants]]\nname = "../../../escaped"\n')
    with pytest.raises(RecipeError, match=r"variants\[0\]\.name must be a plain name"):
        recipes.run_recipe(path, runs_dir=runs)
    assert not list(tmp_path.glob("escaped*"))
    assert not runs.exists()


def test_unvalidated_recipe_object_is_still_confined(tmp_path):
    # A Recipe built in code skips the parser; the runner checks its paths too.
    victim = _victim(tmp_path)
    recipe = parse_recipe(RECIPE)
    recipe.name = "../victim"
    with pytest.raises(RecipeError, match="outside the runs folder"):
        recipes.run_recipe(recipe, runs_dir=tmp_path / "runs", overwrite=True)
    _assert_untouched(victim)
    recipe = parse_recipe(RECIPE + '[[variants]]\nname = "v"\n')
    recipe.variants[0]["name"] = "../../../escaped"
    with pytest.raises(RecipeError, match="outside the runs folder"):
        recipes.run_recipe(recipe, runs_dir=tmp_path / "runs")
    assert not list(tmp_path.glob("escaped*"))


def test_overwrite_through_a_symlink_deletes_nothing_outside(tmp_path):
    victim = _victim(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "tiny-safe").symlink_to(victim, target_is_directory=True)
    path = _write(tmp_path, RECIPE)
    with pytest.raises(RecipeError, match="outside the runs folder"):
        recipes.run_recipe(path, runs_dir=runs, overwrite=True)
    _assert_untouched(victim)
    # without --overwrite, an unfinished run through the link writes nothing either
    (victim / "pretrain" / "metrics.json").rename(victim / "pretrain" / "metrics.json.bak")
    with pytest.raises(RecipeError, match="outside the runs folder"):
        recipes.run_recipe(path, runs_dir=runs)
    (victim / "pretrain" / "metrics.json.bak").rename(victim / "pretrain" / "metrics.json")
    _assert_untouched(victim)


def test_symlinked_output_file_is_refused_before_training(tmp_path, capsys):
    outside = tmp_path / "outside.md"
    outside.write_text("precious")
    out = tmp_path / "runs" / "tiny-safe" / "pretrain"
    out.mkdir(parents=True)
    (out / "report.md").symlink_to(outside)
    with pytest.raises(RecipeError, match="report.md.*outside the runs folder"):
        recipes.run_recipe(_write(tmp_path, RECIPE), runs_dir=tmp_path / "runs")
    assert outside.read_text() == "precious"
    assert not (out / "main.h5").exists()  # refused before anything trained


def test_runs_folder_itself_may_be_a_symlink(tmp_path):
    real = tmp_path / "disk" / "runs"
    real.mkdir(parents=True)
    (tmp_path / "runs").symlink_to(real, target_is_directory=True)
    recipes.run_recipe(_write(tmp_path, RECIPE), runs_dir=tmp_path / "runs")
    assert (real / "tiny-safe" / "pretrain" / "metrics.json").is_file()


def test_reproduce_name_must_be_a_slug(tmp_path):
    (tmp_path / "pretrain").mkdir()
    _write(tmp_path, RECIPE, "x.toml")
    with pytest.raises(RecipeError, match="must be a plain name"):
        recipes.reproduce("../x", recipes_dir=tmp_path / "pretrain", runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


# -- resume checks the recipe that produced a model ------------------------

def test_resume_retrains_when_the_recipe_changed(tmp_path, capsys):
    from deepzoo.io import load

    runs = tmp_path / "runs"
    path = _write(tmp_path, RECIPE)
    recipes.run_recipe(path, runs_dir=runs)
    out = runs / "tiny-safe" / "pretrain"
    (out / "metrics.json").unlink()  # as if interrupted
    path.write_text(RECIPE.replace("n_components = 8", "n_components = 32"))
    capsys.readouterr()
    recipes.run_recipe(path, runs_dir=runs)
    printed = capsys.readouterr().out
    assert ("recipe changed since main.h5 was written (params.n_components 8 -> 32); "
            "retraining") in printed
    assert "resumed from" not in printed
    assert load(out / "main.h5").components_.shape[0] == 32
    # and the unchanged recipe resumes again
    (out / "metrics.json").unlink()
    capsys.readouterr()
    recipes.run_recipe(path, runs_dir=runs)
    assert "resumed from" in capsys.readouterr().out


def test_resume_retrains_a_model_with_no_recipe_record(tmp_path, capsys):
    runs = tmp_path / "runs"
    path = _write(tmp_path, RECIPE)
    recipes.run_recipe(path, runs_dir=runs)
    out = runs / "tiny-safe" / "pretrain"
    (out / "metrics.json").unlink()
    (out / "main.fit.json").write_text(json.dumps({"fit_seconds": 1.0}))  # an older run
    capsys.readouterr()
    recipes.run_recipe(path, runs_dir=runs)
    printed = capsys.readouterr().out
    assert "main.h5 has no record of the recipe that produced it; retraining" in printed


@pytest.mark.parametrize("content", ['{"fit_sec', "", "[1, 2]", '{"fit_seconds": "x"}'])
def test_damaged_fit_json_is_retrained_not_a_traceback(tmp_path, capsys, content):
    runs = tmp_path / "runs"
    path = _write(tmp_path, RECIPE)
    recipes.run_recipe(path, runs_dir=runs)
    out = runs / "tiny-safe" / "pretrain"
    (out / "metrics.json").unlink()
    (out / "main.fit.json").write_text(content)
    capsys.readouterr()
    summary = recipes.run_recipe(path, runs_dir=runs)
    assert "main.fit.json is unreadable" in capsys.readouterr().out
    assert summary["variants"]["main"]["fit_seconds"] >= 0
    assert "recipe_hash" in json.loads((out / "main.fit.json").read_text())


def test_damaged_model_file_is_retrained(tmp_path, capsys):
    runs = tmp_path / "runs"
    path = _write(tmp_path, RECIPE)
    recipes.run_recipe(path, runs_dir=runs)
    out = runs / "tiny-safe" / "pretrain"
    (out / "metrics.json").unlink()
    (out / "main.h5").write_bytes((out / "main.h5").read_bytes()[:100])
    capsys.readouterr()
    recipes.run_recipe(path, runs_dir=runs)
    assert "main.h5 is unreadable" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["", '{"recipe": "tiny-safe", "vari', "null"])
def test_damaged_metrics_json_is_an_unfinished_run(tmp_path, capsys, content):
    runs = tmp_path / "runs"
    path = _write(tmp_path, RECIPE)
    first = recipes.run_recipe(path, runs_dir=runs)
    metrics = runs / "tiny-safe" / "pretrain" / "metrics.json"
    metrics.write_text(content)
    capsys.readouterr()
    second = recipes.run_recipe(path, runs_dir=runs)
    printed = capsys.readouterr().out
    assert "metrics.json is unreadable" in printed and "resumed from" in printed
    assert second["variants"]["main"]["logistic_test_accuracy"] == \
        first["variants"]["main"]["logistic_test_accuracy"]
    assert json.loads(metrics.read_text())["recipe"] == "tiny-safe"
    # reproduce and results treat it as unfinished too
    metrics.write_text(content)
    (tmp_path / "pretrain").mkdir()
    _write(tmp_path / "pretrain", RECIPE, "tiny-safe.toml")
    assert "tiny-safe" not in recipes.results_table(runs)
    capsys.readouterr()
    assert recipes.reproduce("tiny-safe", recipes_dir=tmp_path, runs_dir=runs) == 0
    assert "finished run found" not in capsys.readouterr().out
    assert "tiny-safe" in recipes.results_table(runs)


def test_finished_run_of_a_changed_recipe_is_not_reused_by_reproduce(tmp_path):
    runs = tmp_path / "runs"
    (tmp_path / "pretrain").mkdir()
    path = _write(tmp_path / "pretrain", RECIPE, "tiny-safe.toml")
    recipes.reproduce("tiny-safe", recipes_dir=tmp_path, runs_dir=runs)
    path.write_text(RECIPE.replace("n_components = 8", "n_components = 32"))
    with pytest.raises(RecipeError, match="recipe changed since.*--overwrite"):
        recipes.reproduce("tiny-safe", recipes_dir=tmp_path, runs_dir=runs)


# -- values the schema rejects ----------------------------------------------

@pytest.mark.parametrize("key", ["n_train", "n_test"])
def test_negative_counts_are_rejected(key):
    text = RECIPE.replace("n_train = 300", "").replace("n_test = 100", "")
    text = text.replace("[data]\n", f"[data]\n{key} = -5\n")
    with pytest.raises(RecipeError, match=f"data.{key} must be >= 0 .*; got -5"):
        parse_recipe(text)


def test_negative_seed_is_rejected():
    with pytest.raises(RecipeError, match="recipe.seed must be between 0 and 4294967295; got -1"):
        parse_recipe(RECIPE.replace("seed = 3", "seed = -1"))


def test_unused_validation_key_is_unknown():
    # data.validation was accepted and never used: a protocol that is not run.
    with pytest.raises(RecipeError, match="unknown key data.validation"):
        parse_recipe(RECIPE.replace("[data]\n", "[data]\nvalidation = 1000\n"))


@pytest.mark.parametrize("where", ["model", "layer"])
def test_function_is_not_an_estimator(tmp_path, where):
    if where == "model":
        text = RECIPE.replace('estimator = "BernoulliRBM"', 'estimator = "sparse_encode"')
    else:
        text = RECIPE.replace('estimator = "BernoulliRBM"', 'estimator = "Stack"') + (
            '[[model.layers]]\nname = "a"\nestimator = "sparse_encode"\n')
        text = text.replace("params = { n_components = 8, n_iter = 1, batch_size = 20 }", "")
    with pytest.raises(RecipeError, match="'sparse_encode' is not a deepzoo estimator; "
                                          "known: Autoencoder, BernoulliRBM"):
        recipes.validate_recipe(parse_recipe(text))


def test_layers_on_a_single_estimator_are_an_error():
    text = RECIPE + '[[model.layers]]\nname = "a"\nestimator = "BernoulliRBM"\n'
    with pytest.raises(RecipeError, match=r"model\.layers.*BernoulliRBM.*Stack"):
        recipes.validate_recipe(parse_recipe(text))


# -- the command line reports these errors in one line ---------------------

@pytest.mark.parametrize("old, new, message", [
    ('name = "tiny-safe"', 'name = "../../x"', "recipe.name must be a plain name"),
    ("[data]\n", "[data]\nn_train = -5\n", "data.n_train must be >= 0"),
    ('"BernoulliRBM"', '"sparse_encode"', "'sparse_encode' is not a deepzoo estimator"),
    ("[evaluate]", '[[model.layers]]\nname = "a"\nestimator = "BernoulliRBM"\n[evaluate]',
     "model.layers"),
])
def test_cli_one_line_error(tmp_path, capsys, old, new, message):
    text = RECIPE.replace(old, new, 1)
    if "n_train = -5" in text:
        text = text.replace("n_train = 300\n", "")
    path = _write(tmp_path, text, "bad.toml")
    assert cli(["pretrain", str(path), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepzoo: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_cli_symlink_escape_is_one_line(tmp_path, capsys):
    victim = _victim(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "tiny-safe").symlink_to(victim, target_is_directory=True)
    path = _write(tmp_path, RECIPE)
    assert cli(["pretrain", str(path), "--runs-dir", str(runs), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepzoo: error:") and "outside the runs folder" in err
    _assert_untouched(victim)



FINETUNE = '''
name = "tiny-safe"
title = "Tiny, fine-tuned"
kind = "finetune"
starts_from = "tiny-safe"
[paper]
source = "nobody"
metric = "test_accuracy"
[data]
dataset = "digits-shifted"
n_train = 300
n_test = 100
[model]
estimator = "FineTunedClassifier"
params = { max_iter = 1 }
[evaluate]
metrics = ["accuracy"]
'''


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_resume_retrains_a_finetuned_model_whose_pretraining_changed(tmp_path, capsys):
    from deepzoo.io import load

    runs = tmp_path / "runs"
    pre, fine = _write(tmp_path, RECIPE, "p.toml"), _write(tmp_path, FINETUNE, "f.toml")
    recipes.run_recipe(pre, runs_dir=runs)
    recipes.run_recipe(fine, runs_dir=runs)
    (runs / "tiny-safe" / "finetune" / "metrics.json").unlink()
    pre.write_text(RECIPE.replace("n_components = 8", "n_components = 16"))
    recipes.run_recipe(pre, runs_dir=runs, overwrite=True)
    capsys.readouterr()
    recipes.run_recipe(fine, runs_dir=runs)
    printed = capsys.readouterr().out
    assert "recipe changed since main.h5 was written (pretrained_recipe_hash" in printed
    assert load(runs / "tiny-safe" / "finetune" / "main.h5").coefs_[0].shape[0] == 16


PATCHES = RECIPE.replace('dataset = "digits-shifted"', 'dataset = "natural-patches"')


@pytest.mark.parametrize("params, message", [
    ("n_patches = -5", "data.params.n_patches must be >= 1; got -5"),
    ("n_test_patches = 0", "data.params.n_test_patches must be >= 1; got 0"),
    ("patch_size = 0", "data.params.patch_size must be >= 1; got 0"),
    ('patch_size = "8"', "data.params.patch_size must be int; got str '8'"),
    ("whiten = 1", "data.params.whiten must be bool; got int 1"),
    ("n_patch = 5", "unknown key data.params.n_patch; allowed keys in data.params: "
                    "images, n_patches, n_test_patches, patch_size, whiten."),
    ('images = "kodak"', "data.params.images must be one of ('scikit-learn', "
                         "'scikit-image', 'all'); got 'kodak'"),
])
def test_data_params_are_checked(params, message):
    text = PATCHES.replace("n_test = 100\n", f"n_test = 100\nparams = {{ {params} }}\n")
    with pytest.raises(RecipeError, match=re.escape(message)):
        recipes.validate_recipe(parse_recipe(text))


def test_data_params_of_a_data_set_without_any():
    text = RECIPE.replace("n_test = 100\n", "n_test = 100\nparams = { n_patches = 5 }\n")
    with pytest.raises(RecipeError, match="unknown key data.params.n_patches; "
                                          "data.params takes no keys here"):
        recipes.validate_recipe(parse_recipe(text))
