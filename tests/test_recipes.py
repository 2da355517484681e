import json
from pathlib import Path

import numpy as np
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
        recipes.validate_recipe(recipe)
    assert len(files) >= 6


@pytest.mark.parametrize("old, new, message", [
    ("n_iter = 2", "n_iter = -2", "variant 'main': The 'n_iter' parameter of BernoulliRBM"),
    ('"logistic_accuracy"', '"logistic_acc"', "unknown measure 'logistic_acc'"),
    ('"filters"', '"filterz"', "unknown figure 'filterz'"),
    ('dataset = "digits-shifted"', 'dataset = "cifar"', "data.dataset must be one of"),
])
def test_validation_before_training(tmp_path, old, new, message):
    path = tmp_path / "bad.toml"
    path.write_text(PRETRAIN.replace(old, new))
    with pytest.raises(RecipeError, match=message):
        recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_without_matplotlib_a_run_says_so_and_writes_everything_but_figures(
        tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    path = tmp_path / "p.toml"
    path.write_text(PRETRAIN)
    summary = recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    out = capsys.readouterr().out
    assert out.index("matplotlib is not installed") < out.index("fitting BernoulliRBM")
    assert "pip install 'deepzoo[figures]'" in out
    folder = tmp_path / "runs" / "tiny-e2e" / "pretrain"
    assert summary["variants"]["main"]["figures"] == [] and summary["figures_skipped"]
    assert not list(folder.glob("*.png"))
    assert (folder / "main.h5").is_file() and (folder / "metrics.json").is_file()
    assert "No figures: matplotlib was not installed" in (folder / "report.md").read_text()


def test_cli_names_the_bad_key(tmp_path, capsys):
    from deepzoo.cli import main

    path = tmp_path / "bad.toml"
    path.write_text("typo = 1\n" + MINIMAL)
    assert main(["pretrain", str(path)]) == 2
    assert "unknown key recipe.typo" in capsys.readouterr().err


def test_reproduce_unknown_name(tmp_path):
    with pytest.raises(RecipeError, match="no recipe named 'nope'"):
        recipes.reproduce("nope", recipes_dir=tmp_path)


PRETRAIN = '''
name = "tiny-e2e"
title = "Tiny end-to-end"
kind = "pretrain"
seed = 3
[paper]
source = "nobody"
metric = "logistic_test_accuracy"
value = 0.5
[data]
dataset = "digits-shifted"
n_train = 400
n_test = 200
[model]
estimator = "BernoulliRBM"
params = { n_components = 16, n_iter = 2, batch_size = 20 }
[evaluate]
metrics = ["logistic_accuracy", "raw_logistic_accuracy"]
figures = ["filters", "samples", "learning_curve"]
params = { n_samples = 4 }
'''

FINETUNE = '''
name = "tiny-e2e"
title = "Tiny end-to-end, fine-tuned"
kind = "finetune"
starts_from = "tiny-e2e"
[paper]
source = "nobody"
metric = "test_accuracy"
[data]
dataset = "digits-shifted"
n_train = 400
n_test = 200
[model]
estimator = "FineTunedClassifier"
params = { max_iter = 3, learning_rate = 0.01 }
[[variants]]
name = "pretrained"
[[variants]]
name = "no-pretraining"
params = { pretrained = false, hidden_layer_sizes = [16] }
[evaluate]
metrics = ["accuracy"]
'''


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_tiny_end_to_end_run(tmp_path, capsys):
    from deepzoo.io import load

    (tmp_path / "pretrain").mkdir()
    (tmp_path / "finetune").mkdir()
    (tmp_path / "pretrain" / "tiny-e2e.toml").write_text(PRETRAIN)
    (tmp_path / "finetune" / "tiny-e2e.toml").write_text(FINETUNE)
    runs = tmp_path / "runs"
    assert recipes.reproduce("tiny-e2e", recipes_dir=tmp_path, runs_dir=runs) == 0
    out = capsys.readouterr().out
    assert "[BernoulliRBM] Iteration 2," in out and "left in this stage" in out

    pre = runs / "tiny-e2e" / "pretrain"
    summary = json.loads((pre / "metrics.json").read_text())
    main = summary["variants"]["main"]
    assert 0 <= main["logistic_test_accuracy"] <= 1
    assert set(main["figures"]) == {"main-filters.png", "main-samples.png",
                                    "main-learning_curve.png"}
    for name in main["figures"]:
        assert (pre / name).read_bytes()[:4] == b"\x89PNG"
    report = (pre / "report.md").read_text()
    assert "| main | 50.00% |" in report and "raw_logistic_test_accuracy" in report

    # The saved model is the one measured: its features give the same accuracy.
    from sklearn.linear_model import LogisticRegression

    from deepzoo.recipes._data import load_data
    model = load(pre / "main.h5")
    split = load_data(load_recipe(tmp_path / "pretrain" / "tiny-e2e.toml").data, 3)
    clf = LogisticRegression(max_iter=1000).fit(model.transform(split.X_train), split.y_train)
    assert clf.score(model.transform(split.X_test), split.y_test) == main["logistic_test_accuracy"]

    fine = json.loads((runs / "tiny-e2e" / "finetune" / "metrics.json").read_text())
    assert set(fine["variants"]) == {"pretrained", "no-pretraining"}
    tuned = load(runs / "tiny-e2e" / "finetune" / "pretrained.h5")
    assert tuned.pretrained is not None
    assert load(runs / "tiny-e2e" / "finetune" / "no-pretraining.h5").pretrained is None

    from deepzoo.cli import main as cli

    capsys.readouterr()
    assert cli(["results", "--runs-dir", str(runs)]) == 0
    table = capsys.readouterr().out
    assert "| tiny-e2e (pretrain) | main | logistic_test_accuracy | 50.00% |" in table
    assert "| tiny-e2e (finetune) | no-pretraining | test_accuracy |" in table

    # A finished run is never overwritten silently.
    with pytest.raises(RecipeError, match="pass --overwrite"):
        recipes.run_recipe(tmp_path / "pretrain" / "tiny-e2e.toml", runs_dir=runs)


def test_unfinished_run_resumes(tmp_path, capsys):
    path = tmp_path / "tiny-e2e.toml"
    path.write_text(PRETRAIN)
    runs = tmp_path / "runs"
    first = recipes.run_recipe(path, runs_dir=runs)
    (runs / "tiny-e2e" / "pretrain" / "metrics.json").unlink()  # as if interrupted
    capsys.readouterr()
    second = recipes.run_recipe(path, runs_dir=runs)
    assert "resumed from" in capsys.readouterr().out
    assert second["variants"]["main"]["logistic_test_accuracy"] == \
        first["variants"]["main"]["logistic_test_accuracy"]


def _run_interrupted(path, runs, monkeypatch, after_epoch):
    """Run the recipe at ``path`` and stop it (KeyboardInterrupt) once its
    fit has saved the epoch checkpoint of epoch ``after_epoch``."""
    from deepzoo.utils import checkpoints

    save = checkpoints.save_epoch

    def save_then_stop(estimator, rng, state, history):
        save(estimator, rng, state, history)
        if len(history["reconstruction_error_"]) == after_epoch:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save_epoch", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            recipes.run_recipe(path, runs_dir=runs)


def test_interrupted_fit_resumes_from_its_epoch_checkpoint(tmp_path, capsys, monkeypatch):
    from deepzoo.io import load

    path = tmp_path / "tiny-e2e.toml"
    path.write_text(PRETRAIN.replace("n_iter = 2", "n_iter = 3, verbose = 1"))
    whole = recipes.run_recipe(path, runs_dir=tmp_path / "whole")
    runs = tmp_path / "runs"
    _run_interrupted(path, runs, monkeypatch, 2)
    folder = runs / "tiny-e2e" / "pretrain"
    assert len(list(folder.glob("main.*.checkpoint.npz"))) == 1
    capsys.readouterr()
    resumed = recipes.run_recipe(path, runs_dir=runs)
    assert "resumed after epoch 2 from its checkpoint" in capsys.readouterr().out
    assert not list(folder.glob("*.checkpoint.npz"))
    np.testing.assert_array_equal(
        load(folder / "main.h5").components_,
        load(tmp_path / "whole" / "tiny-e2e" / "pretrain" / "main.h5").components_)
    assert resumed["variants"]["main"]["logistic_test_accuracy"] == \
        whole["variants"]["main"]["logistic_test_accuracy"]


def test_changed_recipe_never_resumes_from_an_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "tiny-e2e.toml"
    path.write_text(PRETRAIN)
    runs = tmp_path / "runs"
    _run_interrupted(path, runs, monkeypatch, 1)
    folder = runs / "tiny-e2e" / "pretrain"
    (old,) = folder.glob("main.*.checkpoint.npz")
    # the data change, the estimator's settings do not: the checkpoint,
    # whose parameters match, must not be resumed from
    path.write_text(PRETRAIN.replace("n_train = 400", "n_train = 300"))
    _run_interrupted(path, runs, monkeypatch, 1)
    (new,) = folder.glob("main.*.checkpoint.npz")
    assert new.name != old.name  # the old one was removed, not resumed from


def test_finetune_without_its_pretraining_run(tmp_path):
    path = tmp_path / "f.toml"
    path.write_text(FINETUNE)
    with pytest.raises(RecipeError, match="deepzoo pretrain tiny-e2e' first"):
        recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    # Refused before anything is written or any data is loaded.
    assert not (tmp_path / "runs").exists()


def test_unknown_estimator_parameter_is_named(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PRETRAIN.replace("n_iter = 2", "n_iterations = 2"))
    with pytest.raises(RecipeError, match="unknown key model.params.n_iterations"):
        recipes.run_recipe(path, runs_dir=tmp_path / "runs")


def test_stack_layers_are_built_in_order(tmp_path):
    text = PRETRAIN.replace('''[model]
estimator = "BernoulliRBM"
params = { n_components = 16, n_iter = 2, batch_size = 20 }''', '''[model]
estimator = "Stack"
params = { top__learning_rate = 0.01 }
[[model.layers]]
name = "bottom"
estimator = "BernoulliRBM"
params = { n_components = 12, n_iter = 1 }
[[model.layers]]
name = "top"
estimator = "BernoulliRBM"
params = { n_components = 3, n_iter = 1, hidden_unit = "gaussian" }''').replace(
        'figures = ["filters", "samples", "learning_curve"]', 'figures = ["filters"]')
    path = tmp_path / "s.toml"
    path.write_text(text)
    recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    from deepzoo.io import load

    stack = load(tmp_path / "runs" / "tiny-e2e" / "pretrain" / "main.h5")
    assert [name for name, _ in stack.steps_] == ["bottom", "top"]
    top = stack.steps_[1][1]
    assert top.hidden_unit == "gaussian" and top.learning_rate == 0.01
    assert stack.transform(np.zeros((1, 64))).shape == (1, 3)
    with pytest.raises(RecipeError, match="unknown key model.layers.top.params.colour"):
        bad = tmp_path / "bad.toml"
        bad.write_text(text.replace('hidden_unit = "gaussian"', 'colour = 1'))
        recipes.run_recipe(bad, runs_dir=tmp_path / "runs2")


def test_log_likelihood_measure_matches_exact_on_a_small_rbm():
    from deepzoo import BernoulliRBM
    from deepzoo.recipes._data import Split
    from deepzoo.recipes._metrics import MEASURES

    rng = np.random.default_rng(0)
    X = (rng.random((300, 12)) < rng.random(12)).astype(np.float64)
    rbm = BernoulliRBM(n_components=6, n_iter=5, random_state=0).fit(X)
    split = Split(X[:200], None, X[200:], None, "toy", (3, 4))
    out = MEASURES["log_likelihood"](rbm, split, {"ais_runs": 50})
    exact = rbm.log_likelihood(X[200:], method="exact").mean()
    assert out["exact_test_log_likelihood"] == pytest.approx(exact, abs=1e-9)
    assert abs(out["ais_minus_exact_log_z"]) < 0.05
    assert out["ais_log_z_low"] <= out["ais_log_z"] <= out["ais_log_z_high"]


class _Imagines:
    """A stand-in generative classifier: its fantasy of class c is the image
    c (repeated), and its classifier reads the image back, or always says 0."""

    classes_ = np.array([3, 5, 7])

    def __init__(self, reads_back):
        self.reads_back = reads_back

    def sample(self, n, n_steps=1000, labels=None, random_state=None):
        return np.repeat(labels[:, None].astype(float), 4, axis=1)

    def predict(self, X):
        return X[:, 0].astype(int) if self.reads_back else np.full(len(X), 3)


def test_fantasy_agreement_measure():
    from deepzoo import DBN
    from deepzoo.recipes._metrics import MEASURES

    measure = MEASURES["fantasy_agreement"]
    out = measure(_Imagines(True), None, {"n_samples": 9})
    assert out == {"fantasy_label_agreement": 1.0, "fantasy_worst_class_agreement": 1.0}
    out = measure(_Imagines(False), None, {"n_samples": 9})
    assert out["fantasy_label_agreement"] == pytest.approx(1 / 3)
    assert out["fantasy_worst_class_agreement"] == 0.0
    # n_fantasies sets the measure's count apart from the figure's n_samples
    seen = []
    model = _Imagines(True)
    model.sample = lambda n, **kw: seen.append(n) or _Imagines.sample(model, n, **kw)
    measure(model, None, {"n_samples": 9, "n_fantasies": 30})
    assert seen == [30]
    # a real DBN with label units gives a share; without labels, nothing
    rng = np.random.default_rng(0)
    X = (rng.random((60, 8)) < 0.5).astype(float)
    y = (X[:, 0] > 0).astype(int)
    dbn = DBN(hidden_layer_sizes=(5, 4), n_iter=2, random_state=0)
    out = measure(dbn.fit(X, y), None, {"n_samples": 10, "n_gibbs_steps": 5})
    assert 0.0 <= out["fantasy_label_agreement"] <= 1.0
    assert measure(DBN(hidden_layer_sizes=(5, 4), n_iter=2).fit(X), None, {}) == {}


def test_fit_y_must_be_boolean():
    with pytest.raises(RecipeError, match="variants\\[0\\].fit.y must be bool"):
        parse_recipe(MINIMAL + '[[variants]]\nname = "a"\nfit = { y = 1 }\n')
    with pytest.raises(RecipeError, match="unknown key model.fit.labels"):
        parse_recipe(MINIMAL.replace('estimator = "BernoulliRBM"',
                                     'estimator = "BernoulliRBM"\nfit = { labels = true }'))


def test_cli_missing_data_is_a_clean_error(tmp_path, capsys, monkeypatch):
    from deepzoo.cli import main

    monkeypatch.setenv("DEEPZOO_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "m.toml"
    path.write_text(PRETRAIN.replace('dataset = "digits-shifted"', 'dataset = "mnist-5k"'))
    assert main(["pretrain", str(path), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepzoo: error:") and "Looked in" in err


def test_basis_statistics_tell_gabors_from_noise():
    from deepzoo.recipes._metrics import basis_statistics

    n = 16
    yy, xx = np.mgrid[0:n, 0:n] - (n - 1) / 2
    gabor = np.exp(-(xx**2 + yy**2) / (2 * 2.0**2)) * np.cos(2 * np.pi * 0.25 * xx)
    noise = np.random.default_rng(0).standard_normal((50, n * n))
    g = basis_statistics(np.tile(gabor.ravel(), (3, 1)), n)
    r = basis_statistics(noise, n)
    assert g["spread"] < 3.5 < r["spread"]             # localized
    assert g["peak_frequency"] == pytest.approx(0.25)  # bandpass at its carrier
    assert g["orientation_concentration"] > 0.8 > 0.4 > r["orientation_concentration"]


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_fixed_budget_is_reported_once_not_warned(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(PRETRAIN.replace('estimator = "BernoulliRBM"\nparams = { n_components = 16, n_iter = 2, batch_size = 20 }',
                                     'estimator = "Autoencoder"\nparams = { n_components = 8, max_iter = 1 }')
                    .replace('"filters", "samples", "learning_curve"', '"filters"'))
    recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    assert "main: fixed budget reached" in capsys.readouterr().out


def test_olshausen_field_recipe_runs_scaled_down(tmp_path):
    text = (ROOT / "pretrain" / "sparse-coding-natural-images.toml").read_text()
    text = (text.replace("patch_size = 16, n_patches = 50000, n_test_patches = 5000",
                         "patch_size = 8, n_patches = 1500, n_test_patches = 300")
            .replace("n_components = 192", "n_components = 96").replace("max_iter = 24", "max_iter = 2")
            .replace("alpha = 0.9441", "alpha = 0.4"))
    path = tmp_path / "sc.toml"
    path.write_text(text)
    summary = recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    metrics = summary["variants"]["main"]
    out = tmp_path / "runs" / "sparse-coding-natural-images" / "pretrain"
    assert (out / "main-filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Learning makes the codes sparser and the reconstruction is usable.
    assert metrics["kurtosis_after"] > metrics["kurtosis_before"]
    assert 0 < metrics["reconstruction_mse_rel"] < 0.5
    # Learned bases are more localized and oriented than random ones.
    assert metrics["bases_orientation_concentration"] > metrics["random_orientation_concentration"]


def test_mnist_recipes_fall_back_to_the_subset_and_say_so(data_dir, tmp_path, monkeypatch):
    from deepzoo.recipes._data import load_data

    # A data home with MNIST's test set and 5k training subset, as here.
    home = tmp_path / "data"
    (home / "mnist").mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-5k.csv.gz"):
        (home / "mnist" / f).symlink_to(data_dir / "mnist" / f)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DEEPZOO_DATA")  # only the home above, whatever the machine holds
    spec = {"dataset": "mnist", "params": {}, "n_train": 0, "n_test": 0, "preprocessing": []}
    split = load_data(spec, 0, data_home=str(home), download=False)
    assert split.X_train.shape == (5000, 784) and split.X_test.shape == (10000, 784)
    assert "only the 5,000-image training subset" in split.description


def test_sample_binary_is_one_fixed_draw_at_the_grey_levels(data_dir):
    from deepzoo.recipes._data import Split, _sample_binary, load_data
    from deepzoo.recipes._schema import RecipeError

    spec = {"dataset": "mnist", "params": {}, "n_train": 2000, "n_test": 1000,
            "preprocessing": []}
    grey = load_data(spec, 0, data_home=str(data_dir))
    binary = load_data(dict(spec, preprocessing=["sample_binary"]), 0, data_home=str(data_dir))
    again = load_data(dict(spec, preprocessing=["sample_binary"]), 0, data_home=str(data_dir))
    other = load_data(dict(spec, preprocessing=["sample_binary"]), 1, data_home=str(data_dir))
    for X, G in ((binary.X_train, grey.X_train), (binary.X_test, grey.X_test)):
        assert set(np.unique(X)) == {0.0, 1.0}
        # black stays black, white stays white, grey is drawn at its level
        assert np.all(X[G == 0] == 0) and np.all(X[G == 1] == 1)
        mid = (G > 0.25) & (G < 0.75)
        expected, n = G[mid].mean(), mid.sum()
        assert abs(X[mid].mean() - expected) < 4 * np.sqrt(0.25 / n)
        # not a threshold: some pixels above 0.5 are 0 and some below are 1
        assert np.any(X[(G > 0.5) & (G < 1)] == 0) and np.any(X[(G > 0) & (G < 0.5)] == 1)
    np.testing.assert_array_equal(binary.X_train, again.X_train)
    np.testing.assert_array_equal(binary.X_test, again.X_test)
    assert not np.array_equal(binary.X_test, other.X_test)
    assert "binarized stochastically" in binary.description

    counts = Split(np.full((2, 3), 16.0), None, np.zeros((1, 3)), None, "digits", (1, 3))
    with pytest.raises(RecipeError, match=r"grey levels in \[0, 1\].*'binarize'"):
        _sample_binary(counts, 0)
    assert np.all(counts.X_train == 16.0)


def test_progress_time_left_is_honest_from_the_first_epoch():
    import io

    from deepzoo.recipes._runner import _Progress

    # Epoch 1 takes 30 s (compilation included), later epochs 2 s each.
    times = iter([0.0, 30.0, 32.0, 34.0, 40.0, 41.0])
    out = io.StringIO()
    progress = _Progress(out, 10, clock=lambda: next(times))
    for k in (1, 2, 3):
        progress.write(f"[BernoulliRBM] Iteration {k}, pseudo-likelihood = -1.0\n")
    progress.write("[Autoencoder] Iteration 1, loss = 1.0\n")  # a new stage: 6 s
    progress.write("[Autoencoder] Iteration 2, loss = 1.0\n")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("~270s left in this stage]")  # 30 s a epoch, 9 to go: never ~0s
    assert lines[1].endswith("~16s left in this stage]")   # 2 s a epoch, 8 to go
    assert lines[2].endswith("~14s left in this stage]")
    assert lines[3].endswith("~54s left in this stage]")   # timed from the last line
    assert lines[4].endswith("~8s left in this stage]")

    # The next layer of the same class: a new stage although the name is the same.
    times = iter([0.0, 5.0, 6.0, 7.0, 51.0, 53.0])
    out = io.StringIO()
    progress = _Progress(out, 3, clock=lambda: next(times))
    for k in (1, 2, 3, 1, 2):
        progress.write(f"[DenoisingAutoencoder] Iteration {k}, loss = 1.0\n")
    lines = out.getvalue().splitlines()
    assert lines[3].endswith("~88s left in this stage]")  # 44 s from the stage's start, 2 to go
    assert lines[4].endswith("~2s left in this stage]")

    # A second line of the same epoch (the validation score) keeps the estimate.
    times = iter([0.0, 10.0, 11.0, 20.0, 21.0])
    out = io.StringIO()
    progress = _Progress(out, 5, clock=lambda: next(times))
    for k, what in ((1, "loss"), (1, "validation score"), (2, "loss"), (2, "validation score")):
        progress.write(f"[FineTunedClassifier] Iteration {k}, {what} = 1.0\n")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("~40s left in this stage]") and lines[1].endswith(
        "[elapsed 10s, ~40s left in this stage]")
    assert lines[2].endswith("~30s left in this stage]")
    assert lines[3].endswith("[elapsed 20s, ~30s left in this stage]")

    # A stage resumed from its checkpoint after epoch 67 of 100: the time
    # left follows this process's epochs (30 s each), not 67 epochs' worth.
    times = iter([0.0, 5.0, 35.0, 65.0, 95.0])
    out = io.StringIO()
    progress = _Progress(out, 100, clock=lambda: next(times))
    progress.write("[BernoulliRBM] resumed after epoch 67 from its checkpoint\n")
    for k in (68, 69, 70):
        progress.write(f"[BernoulliRBM] Iteration {k}, reconstruction error = 8.0\n")
    lines = out.getvalue().splitlines()
    assert lines[1].endswith("~960s left in this stage]")  # 30 s from the resume, 32 to go
    assert lines[2].endswith("~930s left in this stage]")
    assert lines[3].endswith("[elapsed 95s, ~900s left in this stage]")


def test_progress_time_left_weighs_epochs_of_a_growing_chain():
    """An RBM whose CD chain grows (k_schedule="linear") has epochs of
    unequal cost: the estimate weighs the epochs left by their Gibbs steps."""
    import io

    from deepzoo import BernoulliRBM
    from deepzoo.recipes._runner import _epoch_costs, _Progress

    rbm = BernoulliRBM(k=9, n_iter=5, k_schedule="linear")
    assert [rbm._gibbs_steps(e) for e in range(5)] == [1, 3, 5, 7, 9]
    costs = _epoch_costs(rbm)
    assert costs == [5, 9, 13, 17, 21]  # 3 products + 2 per Gibbs step
    assert _epoch_costs(BernoulliRBM(k=9, n_iter=5)) is None
    # epochs 1 and 2 take 5 s and 9 s: 1 s per unit of cost
    times = iter([0.0, 5.0, 14.0])
    out = io.StringIO()
    progress = _Progress(out, 5, clock=lambda: next(times), epoch_costs=costs)
    for k in (1, 2):
        progress.write(f"[BernoulliRBM] Iteration {k}, reconstruction error = 8.0\n")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("~60s left in this stage]")  # 9 + 13 + 17 + 21 units
    assert lines[1].endswith("~51s left in this stage]")  # 13 + 17 + 21


def test_optional_variant_runs_only_when_named_and_joins_the_finished_run(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(PRETRAIN.replace('estimator = "BernoulliRBM"\nparams = { n_components = 16, n_iter = 2, batch_size = 20 }',
                                     'estimator = "Autoencoder"\nparams = { n_components = 8, max_iter = 1 }')
                    .replace('"filters", "samples", "learning_curve"', '"filters"')
                    + '\n[[variants]]\nname = "a"\n\n[[variants]]\nname = "slow"\ndefault = false\n'
                    'params = { max_iter = 2 }\n')
    runs = tmp_path / "runs"
    assert set(recipes.run_recipe(path, runs_dir=runs)["variants"]) == {"a"}
    folder = runs / "tiny-e2e" / "pretrain"
    assert not (folder / "slow.h5").exists()
    first = json.loads((folder / "metrics.json").read_text())["variants"]["a"]
    # Naming the optional variant adds it, keeping the finished one's results.
    summary = recipes.run_recipe(path, runs_dir=runs, variants=["slow"])
    assert list(summary["variants"]) == ["a", "slow"] and summary["variants"]["a"] == first
    assert (folder / "slow.h5").exists() and "| slow |" in (folder / "report.md").read_text()
    # A finished variant is not run again without --overwrite, named or not.
    for variants in (None, ["slow"]):
        with pytest.raises(RecipeError, match="pass --overwrite"):
            recipes.run_recipe(path, runs_dir=runs, variants=variants)
    with pytest.raises(RecipeError, match="no variant 'fast'; its variants are a, slow"):
        recipes.run_recipe(path, runs_dir=runs, variants=["fast"])


def test_stack_stages_get_their_layers_epoch_budget():
    from deepzoo import Autoencoder, BernoulliRBM, Stack
    from deepzoo.recipes._runner import _total_iterations

    same = Stack([("a", BernoulliRBM(n_iter=7)), ("b", BernoulliRBM(n_iter=7))])
    assert _total_iterations(same) == 7
    mixed = Stack([("a", BernoulliRBM(n_iter=7)), ("b", Autoencoder(max_iter=3))])
    assert _total_iterations(mixed) is None


def test_dbn_updown_stage_gets_its_own_epoch_budget():
    import io

    from deepzoo import DBN
    from deepzoo.recipes._runner import _Progress, _stage_budgets, _total_iterations

    assert _total_iterations(DBN(n_iter=50)) == 50
    assert _stage_budgets(DBN(n_iter=50)) == ()
    dbn = DBN(n_iter=3, n_updown_iter=10)
    assert _total_iterations(dbn) == 3
    assert _stage_budgets(dbn) == (("up-down", 10),)
    # the labelled top's 3 epochs (2 s each), then up-down epochs of 5 s
    # with their validation line: the up-down estimate counts 10 epochs
    times = iter([0.0, 2.0, 4.0, 6.0, 11.0, 11.5, 16.0, 16.5])
    out = io.StringIO()
    progress = _Progress(out, _total_iterations(dbn), clock=lambda: next(times),
                         stage_budgets=_stage_budgets(dbn))
    for k in (1, 2, 3):
        progress.write(f"[DBN] Iteration {k}, top RBM reconstruction error = 6.0\n")
    for k in (1, 2):
        progress.write(f"[DBN] Iteration {k}, up-down data prediction error = 5.0\n")
        progress.write(f"[DBN] Iteration {k}, validation error = 0.02\n")
    lines = out.getvalue().splitlines()
    assert lines[2].endswith("[elapsed 6s, ~0s left in this stage]")
    assert lines[3].endswith("[elapsed 11s, ~45s left in this stage]")  # 5 s, 9 to go
    assert lines[4].endswith("[elapsed 11s, ~45s left in this stage]")
    assert lines[5].endswith("[elapsed 16s, ~40s left in this stage]")
    # a resumed up-down stage counts on from its checkpoint's epoch
    times = iter([0.0, 1.0, 6.0])
    out = io.StringIO()
    progress = _Progress(out, 3, clock=lambda: next(times), stage_budgets=(("up-down", 10),))
    progress.write("[DBN] resumed after up-down epoch 7 from its checkpoint\n")
    progress.write("[DBN] Iteration 8, up-down data prediction error = 5.0\n")
    assert out.getvalue().splitlines()[1].endswith("~10s left in this stage]")


def test_linear_svm_measure_is_liblinear_on_the_features():
    from sklearn.svm import LinearSVC

    from deepzoo.recipes._data import Split
    from deepzoo.recipes._metrics import MEASURES

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + 2 * (X[:, 2] > 0.8)
    split = Split(X[:300], y[:300], X[300:], y[300:], "toy", None)

    class Doubled:  # features the measure must use, not the raw inputs
        def transform(self, X):
            return 2 * X

    for C in (1e-3, 1.0):
        out = MEASURES["linear_svm_accuracy"](Doubled(), split, {"linear_svm_C": C})
        direct = LinearSVC(C=C, dual=True, tol=1e-4, max_iter=3000,
                           random_state=0).fit(2 * X[:300], y[:300])
        expected = np.mean(direct.predict(2 * X[300:]) == y[300:])
        assert out == {"linear_svm_test_accuracy": expected,
                       "linear_svm_test_error": 1 - expected}
    assert MEASURES["linear_svm_accuracy"](Doubled(), split, {"linear_svm_C": 1e-3}) != out


def test_raw_logistic_baseline_and_fantasy_judge_share_one_fit(monkeypatch):
    # a recipe measuring both fits the raw-pixel logistic regression once
    from sklearn.linear_model import LogisticRegression

    from deepzoo.recipes import _metrics
    from deepzoo.recipes._data import Split

    rng = np.random.default_rng(0)
    y = rng.choice([3, 5, 7], size=200)
    X = y[:, None] + rng.normal(scale=2.0, size=(200, 4))
    split = Split(X[:150], y[:150], X[150:], y[150:], "toy", None)
    fits = []
    fit = _metrics._fit_logistic
    monkeypatch.setattr(_metrics, "_fit_logistic", lambda *a: fits.append(1) or fit(*a))
    monkeypatch.setattr(_metrics, "_JUDGES", {})
    raw = _metrics.BASELINES["raw_logistic_accuracy"](split, {})
    fantasies = _metrics.MEASURES["fantasy_agreement"](_Imagines(True), split, {"n_samples": 9})
    assert len(fits) == 1
    direct = LogisticRegression(max_iter=1000).fit(X[:150], y[:150])
    expected = np.mean(direct.predict(X[150:]) == y[150:])
    assert raw == {"raw_logistic_test_accuracy": expected,
                   "raw_logistic_test_error": 1 - expected}
    assert fantasies["fantasy_independent_judge_test_accuracy"] == expected


WARM = '''
name = "tiny-warm"
title = "Tiny DBN, up-down from the greedy variant"
kind = "pretrain"
seed = 2
[paper]
source = "nobody"
metric = "test_error"
[data]
dataset = "digits-shifted"
n_train = 300
n_test = 100
[model]
estimator = "DBN"
params = { hidden_layer_sizes = [16, 32], n_iter = 2, batch_size = 20 }
[[variants]]
name = "greedy"
fit = { y = true }
params = { top_n_init = 2, validation_fraction = 0.2 }
[[variants]]
name = "up-down"
fit = { y = true }
warm_start_from = "greedy"
params = { n_updown_iter = 2, updown_learning_rate = 0.05 }
[evaluate]
metrics = ["accuracy"]
'''


def test_variant_warm_starts_from_an_earlier_variant(tmp_path, monkeypatch):
    from deepzoo import DBN
    from deepzoo.io import load
    from deepzoo.stacks import _dbn

    path = tmp_path / "warm.toml"
    path.write_text(WARM)
    runs = tmp_path / "runs"
    fits = []
    fit = DBN.fit

    def recording(self, X, y=None):
        fits.append((self.warm_start, hasattr(self, "top_components_"), self.n_updown_iter))
        return fit(self, X, y)

    monkeypatch.setattr(DBN, "fit", recording)
    summary = recipes.run_recipe(path, runs_dir=runs)
    # the greedy variant from scratch, then up-down from its fitted model
    assert fits == [(False, False, 0), (True, True, 2)]
    folder = runs / "tiny-warm" / "pretrain"
    greedy, updown = load(folder / "greedy.h5"), load(folder / "up-down.h5")
    assert updown.warm_start and updown.n_iter_ == 2 and greedy.n_iter_ == 0
    # the greedy layers were kept: the tops' held-out errors are the greedy fit's
    np.testing.assert_array_equal(updown.top_init_error_, greedy.top_init_error_)
    assert summary["variants"]["up-down"]["warm_start_from"] == "greedy"
    assert "(after greedy's fit)" in (folder / "report.md").read_text()
    # up-down names no validation_fraction: it trains on every row, as its
    # text reads, instead of holding out the rows greedy held out
    assert greedy.validation_fraction == 0.2
    assert updown.validation_fraction is None and updown.validation_error_ is None
    # a changed greedy variant invalidates the up-down model built on it
    monkeypatch.setattr(DBN, "fit", fit)
    changed = WARM.replace("top_n_init = 2", "top_n_init = 3")
    path.write_text(changed)
    out = recipes.run_recipe(path, runs_dir=runs, overwrite=True, variants=["greedy"])
    section = recipes._runner._recipe_section
    recipe = recipes.load_recipe(path)
    old = json.loads((folder / "up-down.fit.json").read_text())["recipe_hash"]
    assert old != recipes._runner._digest(section(recipe, recipe.variants[1], runs))
    assert "greedy" in out["variants"]


def test_warm_start_variant_needs_its_source_run_first(tmp_path):
    path = tmp_path / "warm.toml"
    path.write_text(WARM)
    with pytest.raises(RecipeError, match=r"variant 'up-down' starts from variant 'greedy', "
                                          r"whose model .* does not exist.*--variant greedy"):
        recipes.run_recipe(path, runs_dir=tmp_path / "runs", variants=["up-down"])


def test_warm_start_from_must_name_an_earlier_variant():
    bad = WARM.replace('warm_start_from = "greedy"', 'warm_start_from = "nothing"')
    with pytest.raises(RecipeError, match=r"variants\[1\].warm_start_from names no earlier "
                                          r"variant: 'nothing'"):
        recipes.parse_recipe(bad)
    # a later variant cannot be the source either (it has not run yet)
    swapped = WARM.replace('name = "greedy"', 'name = "a"').replace(
        'warm_start_from = "greedy"', 'warm_start_from = "up-down"')
    with pytest.raises(RecipeError, match="names no earlier variant: 'up-down'"):
        recipes.parse_recipe(swapped)
    no_warm = WARM.replace('estimator = "DBN"', 'estimator = "BernoulliRBM"').replace(
        "hidden_layer_sizes = [16, 32], ", "").replace(
        "top_n_init = 2, validation_fraction = 0.2", "").replace(
        "n_updown_iter = 2, updown_learning_rate = 0.05", "").replace("fit = { y = true }\n", "")
    with pytest.raises(RecipeError, match="BernoulliRBM has no warm_start"):
        recipes.validate_recipe(recipes.parse_recipe(no_warm))
