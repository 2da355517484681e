"""Run a recipe: load data, build and fit each variant, measure, draw, report."""

import json
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

from sklearn.base import is_classifier, is_regressor
from sklearn.exceptions import ConvergenceWarning

from ._data import load_data
from ._report import write_report
from ._schema import RecipeError, load_recipe

__all__ = ["run_recipe", "reproduce", "list_recipes", "run_folder", "validate_recipe"]

_MAIN = {"name": "main", "params": {}, "fit": {"y": None}, "paper_value": None}


def run_folder(runs_dir, name, kind):
    """The folder a recipe's run writes to: ``<runs_dir>/<name>/<kind>``.

    An experiment's pretraining and fine-tuning recipes share its name, so
    both runs live under ``<runs_dir>/<name>``.
    """
    return Path(runs_dir) / name / kind


def _estimator_class(name):
    import deepzoo

    if name not in deepzoo.__all__:
        raise RecipeError(f"model.estimator {name!r} is not a deepzoo estimator; known: "
                          f"{', '.join(n for n, _ in _estimators())}.")
    return getattr(deepzoo, name)


def _estimators():
    from deepzoo.utils import all_estimators

    return all_estimators()


def _pretrained_path(recipe, runs_dir):
    name, _, variant = recipe.starts_from.partition(":")
    path = run_folder(runs_dir, name, "pretrain") / f"{variant or 'main'}.h5"
    if not path.is_file():
        raise RecipeError(
            f"{recipe.name} starts from the pretraining run {recipe.starts_from!r}, but "
            f"{path} does not exist; run 'deepzoo pretrain pretrain/{name}.toml' first.")
    return path


def _build(recipe, variant, runs_dir, load_pretrained=True):
    from deepzoo.io import load

    cls = _estimator_class(recipe.model["estimator"])
    if recipe.model["layers"]:
        # A stack's steps, one estimator per [[model.layers]] table.
        model = cls([(layer["name"], _layer(layer, recipe.seed + i))
                     for i, layer in enumerate(recipe.model["layers"])])
    else:
        model = cls()
    params = {**recipe.model["params"], **variant["params"]}
    allowed = model.get_params(deep=True)
    for key in params:
        if key not in allowed:
            raise RecipeError(f"unknown key model.params.{key} for {cls.__name__}; "
                              f"its parameters are: {', '.join(sorted(allowed))}.")
    if recipe.kind == "finetune" and "pretrained" in allowed:
        # pretrained = false in a variant: the same network without pretraining.
        if params.get("pretrained", True) is False or not load_pretrained:
            params["pretrained"] = None
        else:
            params["pretrained"] = load(_pretrained_path(recipe, runs_dir))
    return model.set_params(**_defaults(allowed, params, recipe.seed))


def validate_recipe(recipe):
    """Build every variant's estimator and validate its parameters, so that a
    typo in the last variant fails before the first one trains for an hour."""
    from ._data import check_data_spec
    from ._figures import FIGURES
    from ._metrics import BASELINES, MEASURES

    check_data_spec(recipe.data)
    for name in recipe.evaluate["metrics"]:
        if name not in MEASURES and name not in BASELINES:
            raise RecipeError(f"evaluate.metrics: unknown measure {name!r}; known: "
                              f"{', '.join(sorted({**MEASURES, **BASELINES}))}.")
    for name in recipe.evaluate["figures"]:
        if name not in FIGURES:
            raise RecipeError(f"evaluate.figures: unknown figure {name!r}; known: "
                              f"{', '.join(sorted(FIGURES))}.")
    for variant in recipe.variants or [_MAIN]:
        model = _build(recipe, variant, None, load_pretrained=False)
        try:
            model._validate_params()
        except ValueError as exc:
            raise RecipeError(f"variant {variant['name']!r}: {exc}") from None


def _defaults(allowed, params, seed):
    """The recipe's seed and verbose progress, unless the recipe says otherwise."""
    if "random_state" in allowed and "random_state" not in params:
        params["random_state"] = seed
    if "verbose" in allowed and "verbose" not in params:
        params["verbose"] = True
    return params


def _layer(layer, seed):
    cls = _estimator_class(layer["estimator"])
    allowed = cls().get_params()
    for key in layer["params"]:
        if key not in allowed:
            raise RecipeError(f"unknown key model.layers.{layer['name']}.params.{key} for "
                              f"{cls.__name__}; its parameters are: {', '.join(sorted(allowed))}.")
    return cls(**_defaults(allowed, dict(layer["params"]), seed))


class _Progress:
    """Adds elapsed and estimated remaining time to the estimators' fixed-form
    ``[Name] Iteration k, ...`` lines."""

    _LINE = re.compile(r"^\[(\w+)\] Iteration (\d+),")

    def __init__(self, stream, total_iterations):
        self.stream = stream
        self.total = total_iterations
        self.start = time.perf_counter()
        self.block_start = self.start
        self.block = None
        self.buffer = ""

    def write(self, text):
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.stream.write(self._decorate(line) + "\n")
        return len(text)

    def flush(self):
        self.stream.flush()

    def _decorate(self, line):
        match = self._LINE.match(line)
        if not match:
            return line
        now = time.perf_counter()
        name, k = match.group(1), int(match.group(2))
        if name != self.block:
            self.block, self.block_start = name, now if k <= 1 else self.block_start
        suffix = f"  [elapsed {now - self.start:.0f}s"
        if self.total and k <= self.total:
            left = (now - self.block_start) / k * (self.total - k)
            suffix += f", ~{left:.0f}s left in this stage"
        return line + suffix + "]"


def _total_iterations(model):
    params = model.get_params(deep=False)
    for key in ("n_iter", "max_iter"):
        if isinstance(params.get(key), int):
            return params[key]
    return None


def _fit(model, recipe, variant, split):
    # Labels go to fit when the variant, else the recipe, says so; by default
    # to classifiers and regressors only.
    supervised = variant["fit"]["y"]
    if supervised is None:
        supervised = recipe.model["fit"]["y"]
    if supervised is None:
        supervised = is_classifier(model) or is_regressor(model)
    progress = _Progress(sys.stdout, _total_iterations(model))
    saved, sys.stdout = sys.stdout, progress
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            if supervised:
                model.fit(split.X_train, split.y_train)
            else:
                model.fit(split.X_train)
    finally:
        sys.stdout = saved
    # A recipe's epoch budget is its protocol: reaching it is reported once,
    # not as a warning per layer.
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            print(f"[{recipe.name}] {variant['name']}: fixed budget reached ({w.message})",
                  flush=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return time.perf_counter() - t0


def run_recipe(recipe, runs_dir="runs", overwrite=False, data_home=None, download=False):
    """Run ``recipe`` and write its run folder; return the metrics.

    A finished run (``metrics.json`` present) is never overwritten unless
    ``overwrite``; an unfinished one resumes, reusing every variant whose
    model file was already written.
    """
    from deepzoo.io import load, save

    from ._figures import draw_figures
    from ._metrics import measure, measure_baselines

    if isinstance(recipe, (str, Path)):
        recipe = load_recipe(recipe)
    validate_recipe(recipe)
    out = run_folder(runs_dir, recipe.name, recipe.kind)
    if (out / "metrics.json").exists():
        if not overwrite:
            raise RecipeError(
                f"{out} holds a finished run of {recipe.name}; pass --overwrite to "
                "replace it (or choose another --runs-dir).")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    if recipe.path is not None:
        shutil.copyfile(recipe.path, out / "recipe.toml")
    print(f"[{recipe.name}] {recipe.title}: loading {recipe.data['dataset']}", flush=True)
    t_start = time.perf_counter()
    split = load_data(recipe.data, recipe.seed, data_home=data_home, download=download)
    print(f"[{recipe.name}] data: {split.description}", flush=True)
    baselines = measure_baselines(split, recipe.evaluate)
    for key, value in baselines.items():
        print(f"[{recipe.name}] baseline: {key} = {value}", flush=True)
    results = {}
    for variant in recipe.variants or [_MAIN]:
        name = variant["name"]
        model_path, state_path = out / f"{name}.h5", out / f"{name}.fit.json"
        if model_path.exists() and state_path.exists():
            model = load(model_path)
            fit_seconds = json.loads(state_path.read_text())["fit_seconds"]
            print(f"[{recipe.name}] {name}: resumed from {model_path}", flush=True)
        else:
            model = _build(recipe, variant, runs_dir)
            print(f"[{recipe.name}] {name}: fitting {type(model).__name__}", flush=True)
            fit_seconds = _fit(model, recipe, variant, split)
            save(model, model_path)
            state_path.write_text(json.dumps({"fit_seconds": fit_seconds}))
        print(f"[{recipe.name}] {name}: fitted in {fit_seconds:.1f}s; measuring", flush=True)
        t0 = time.perf_counter()
        metrics = measure(model, split, recipe.evaluate, baselines)
        metrics["fit_seconds"] = round(fit_seconds, 2)
        metrics["measure_seconds"] = round(time.perf_counter() - t0, 2)
        metrics["figures"] = draw_figures(model, split, recipe.evaluate, out, name)
        for key, value in metrics.items():
            if key != "figures":
                print(f"[{recipe.name}] {name}: {key} = {value}", flush=True)
        results[name] = metrics
    summary = {
        "recipe": recipe.name,
        "title": recipe.title,
        "kind": recipe.kind,
        "seed": recipe.seed,
        "starts_from": recipe.starts_from,
        "data": split.description,
        "paper": recipe.paper,
        "paper_values": {v["name"]: v["paper_value"] for v in recipe.variants},
        "baselines": baselines,
        "variants": results,
        "wall_seconds": round(time.perf_counter() - t_start, 1),
    }
    write_report(summary, out / "report.md")
    (out / "metrics.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"[{recipe.name}] done in {summary['wall_seconds']}s: {out / 'report.md'}", flush=True)
    return summary


def _recipe_files(recipes_dir, name):
    root = Path(recipes_dir)
    return [p for p in (root / "pretrain" / f"{name}.toml", root / "finetune" / f"{name}.toml")
            if p.is_file()]


def reproduce(name, recipes_dir=".", **kwargs):
    """Run ``pretrain/<name>.toml`` and then ``finetune/<name>.toml``, those that exist."""
    files = _recipe_files(recipes_dir, name)
    if not files:
        raise RecipeError(
            f"no recipe named {name!r} under {Path(recipes_dir).resolve()}/pretrain or "
            "/finetune; 'deepzoo list' shows the recipes (run it from the source tree).")
    for path in files:
        recipe = load_recipe(path)
        out = run_folder(kwargs.get("runs_dir", "runs"), recipe.name, recipe.kind)
        if (out / "metrics.json").exists() and not kwargs.get("overwrite"):
            print(f"[{recipe.name}] finished run found in {out}; reusing it "
                  "(--overwrite to run again)", flush=True)
            continue
        run_recipe(recipe, **kwargs)
    return 0


def list_recipes(recipes_dir="."):
    """Print every recipe under ``pretrain/`` and ``finetune/``."""
    root = Path(recipes_dir)
    for kind in ("pretrain", "finetune"):
        for path in sorted((root / kind).glob("*.toml")):
            recipe = load_recipe(path)
            print(f"{kind:<9} {recipe.name:<32} {recipe.title}")
    return 0
