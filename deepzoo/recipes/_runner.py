"""Run a recipe: load data, build and fit each variant, measure, draw, report."""

import glob
import hashlib
import inspect
import json
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

from ._data import load_data
from ._files import inside, read_summary, write_text
from ._lookup import find_recipe
from ._report import write_report
from ._schema import RecipeError, load_recipe

__all__ = ["run_recipe", "reproduce", "run_folder", "validate_recipe"]

_MAIN = {"name": "main", "params": {}, "fit": {"y": None}, "paper_value": None,
         "warm_start_from": None}


def run_folder(runs_dir, name, kind):
    """The folder a recipe's run writes to: ``<runs_dir>/<name>/<kind>``.

    An experiment's pretraining and fine-tuning recipes share its name, so
    both runs live under ``<runs_dir>/<name>``. Raises ``RecipeError`` when
    the folder resolves outside ``runs_dir`` (a name holding a path, or a
    symbolic link in the runs folder that points elsewhere).
    """
    return inside(runs_dir, Path(runs_dir) / name / kind)


def _estimator_class(name, where):
    from deepzoo.utils import all_estimators

    # Estimators only: deepzoo also exports functions (sparse_encode).
    estimators = dict(all_estimators())
    if name not in estimators:
        raise RecipeError(f"{where} {name!r} is not a deepzoo estimator; known: "
                          f"{', '.join(estimators)}.")
    return estimators[name]


def _pretrained_path(recipe, runs_dir):
    name, _, variant = recipe.starts_from.partition(":")
    path = inside(runs_dir, run_folder(runs_dir, name, "pretrain") / f"{variant or 'main'}.h5")
    if not path.is_file():
        raise RecipeError(
            f"{recipe.name} starts from the pretraining run {recipe.starts_from!r}, but "
            f"{path} does not exist; run 'deepzoo pretrain {name}' first.")
    return path


def _variant(recipe, name):
    return next(v for v in recipe.variants if v["name"] == name)


def _warm_start_path(recipe, variant, runs_dir):
    """The saved model of the variant that ``variant`` continues; a
    ``RecipeError`` that says what to run when it is missing or was fitted
    by another version of that variant's recipe section."""
    source = variant["warm_start_from"]
    path = inside(runs_dir, run_folder(runs_dir, recipe.name, recipe.kind) / f"{source}.h5")
    expected = _digest(_recipe_section(recipe, _variant(recipe, source), runs_dir))
    if not path.is_file() or _recorded_hash(path.with_name(f"{source}.fit.json")) != expected:
        raise RecipeError(
            f"variant {variant['name']!r} starts from variant {source!r}, whose model {path} "
            "does not exist or was fitted by another version of the recipe; run both: "
            f"'deepzoo {recipe.kind} {recipe.name} --variant {source} --variant "
            f"{variant['name']}'.")
    return path


def _build(recipe, variant, runs_dir, load_pretrained=True):
    from deepzoo.io import load

    cls = _estimator_class(recipe.model["estimator"], "model.estimator")
    if recipe.model["layers"] and "steps" not in inspect.signature(cls).parameters:
        raise RecipeError(
            f"model.layers lists the steps of a Stack, but {cls.__name__} has no steps; "
            'remove the [[model.layers]] tables or set model.estimator = "Stack".')
    if recipe.model["layers"]:
        # A stack's steps, one estimator per [[model.layers]] table.
        model = cls([(layer["name"], _layer(layer, i, recipe.seed + i))
                     for i, layer in enumerate(recipe.model["layers"])])
    else:
        model = cls()
    params = {**recipe.model["params"], **variant["params"]}
    allowed = model.get_params(deep=True)
    for key in params:
        if key not in allowed:
            raise RecipeError(f"unknown key model.params.{key} for {cls.__name__}; "
                              f"its parameters are: {', '.join(sorted(allowed))}.")
    if variant["warm_start_from"] is not None:
        if "warm_start" not in allowed:
            raise RecipeError(f"variant {variant['name']!r}: warm_start_from needs an estimator "
                              f"that continues a fit, but {cls.__name__} has no warm_start "
                              "parameter; remove warm_start_from.")
        params["warm_start"] = True
        if load_pretrained:
            path = _warm_start_path(recipe, variant, runs_dir)
            try:
                fitted = load(path)
            except (ValueError, OSError) as exc:
                raise RecipeError(f"cannot read the model {path}: {exc}") from None
            if type(fitted) is not cls:
                raise RecipeError(f"{path} holds a {type(fitted).__name__}, not the recipe's "
                                  f"{cls.__name__}; run variant {variant['warm_start_from']!r} "
                                  "again (--overwrite).")
            # The variant runs as its text reads: a parameter the recipe does
            # not name takes its default, not the source model's value (a
            # variant meant for all the training rows would otherwise hold
            # out the rows its source held out). The source gives the
            # learned state only; a stack's fitted steps are that state.
            fresh = {key: value for key, value in model.get_params(deep=False).items()
                     if key != "steps"}
            model = fitted.set_params(**fresh)
    if recipe.kind == "finetune" and "pretrained" in allowed:
        # pretrained = false in a variant: the same network without pretraining.
        if params.get("pretrained", True) is False or not load_pretrained:
            params["pretrained"] = None
        else:
            path = _pretrained_path(recipe, runs_dir)
            try:
                params["pretrained"] = load(path)
            except (ValueError, OSError) as exc:
                raise RecipeError(f"cannot read the pretrained model {path}: {exc}") from None
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


def _layer(layer, i, seed):
    cls = _estimator_class(layer["estimator"], f"model.layers[{i}].estimator")
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
    _RESUMED = re.compile(r"^\[(\w+)\] resumed after (?:[\w-]+ )?epoch (\d+)")

    def __init__(self, stream, total_iterations, clock=time.perf_counter, epoch_costs=None,
                 stage_budgets=()):
        self.stream = stream
        self.default_total = self.total = total_iterations
        # (text, epochs): a stage whose lines contain text runs that many
        # epochs instead (a DBN's up-down stage)
        self.stage_budgets = stage_budgets
        # relative cost of each epoch (all equal unless given)
        self.epoch_costs = epoch_costs
        self.clock = clock
        self.start = self.last = clock()
        self.block = self.k = None
        self.block_start = self.first_done = None
        # epochs a stage had done before this process (a resumed checkpoint)
        self.resumed = (None, 0)
        self.k_before = self.k_first = 0
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
        now = self.clock()
        match = self._LINE.match(line)
        if not match:
            resumed = self._RESUMED.match(line)
            if resumed:
                self.resumed = (resumed.group(1), int(resumed.group(2)))
            self.last = now
            return line
        name, k = match.group(1), int(match.group(2))
        if name == self.block and k == self.k:
            # another line of the same epoch (a validation score after the
            # loss): the estimate of the first line stands
            return line + self.suffix
        if name != self.block or k < self.k:
            # A stage (one layer, or fine-tuning) starts where the previous
            # line left off: its first epoch is timed from there. Layers of
            # one class (a stack of denoising autoencoders) print the same
            # name: their stages part where the epoch count starts again.
            self.block, self.block_start, self.first_done = name, self.last, None
            self.total = next((epochs for text, epochs in self.stage_budgets if text in line),
                              self.default_total)
            # A stage resumed from its checkpoint after epoch n counts on
            # from n + 1: only the epochs of this process took this time.
            self.k_before = self.resumed[1] if self.resumed[0] == name else 0
            self.resumed = (None, 0)
        self.k, self.last = k, now
        suffix = f"  [elapsed {now - self.start:.0f}s"
        if self.total and k <= self.total:
            costs = [1.0] * self.total if self.epoch_costs is None else self.epoch_costs
            if self.first_done is None:
                self.first_done, self.k_first = now, k
                per_cost = (now - self.block_start) / sum(costs[self.k_before:k])
            else:
                # From the second epoch on, the rate leaves out the first
                # epoch, which carries one-off costs (Numba compilation).
                per_cost = (now - self.first_done) / sum(costs[self.k_first:k])
            suffix += f", ~{per_cost * sum(costs[k:]):.0f}s left in this stage"
        self.suffix = suffix + "]"
        return line + self.suffix


def _total_iterations(model):
    """Epochs of each stage of ``model``'s fit (but those of
    :func:`_stage_budgets`), or None when they differ or are unknown."""
    params = model.get_params(deep=False)
    for key in ("n_iter", "max_iter"):
        if isinstance(params.get(key), int):
            return params[key]
    if isinstance(params.get("steps"), list):  # a Stack: its layers' own budgets
        totals = {_total_iterations(step) for _, step in params["steps"]}
        if len(totals) == 1:
            return totals.pop()
    return None


def _stage_budgets(model):
    """``(text, epochs)`` of the stages of ``model``'s fit that have their
    own epoch budget, told apart by the text of their progress lines: a
    DBN's up-down stage."""
    n_updown = model.get_params(deep=False).get("n_updown_iter")
    return (("up-down", n_updown),) if n_updown else ()


def _epoch_costs(model):
    """Relative cost of each epoch of an RBM whose chain grows over the
    epochs (three products per update and two per Gibbs step), else None."""
    if getattr(model, "k_schedule", "constant") == "constant":
        return None
    return [3 + 2 * model._gibbs_steps(epoch) for epoch in range(model.n_iter)]


def _fit_y(recipe, variant):
    """Whether labels go to fit as the recipe states it: the variant's
    setting, else the model's; None leaves it to the estimator's kind."""
    y = variant["fit"]["y"]
    return recipe.model["fit"]["y"] if y is None else y


def _fit(model, recipe, variant, split):
    # scikit-learn takes seconds to import: 'deepzoo list' and 'deepzoo
    # results' import this module and never train.
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import ConvergenceWarning

    # By default labels go to classifiers and regressors only.
    supervised = _fit_y(recipe, variant)
    if supervised is None:
        supervised = is_classifier(model) or is_regressor(model)
    progress = _Progress(sys.stdout, _total_iterations(model), epoch_costs=_epoch_costs(model),
                         stage_budgets=_stage_budgets(model))
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


def _recipe_section(recipe, variant, runs_dir):
    """What a variant's model is made from: its recipe settings and, for a
    network that starts from a pretrained model, the recipe hash recorded
    beside that model. A saved model is reused only if this is unchanged; it
    goes through JSON once, so that a section read back from a run folder
    compares equal to a fresh one."""
    params = {**recipe.model["params"], **variant["params"]}
    section = {
        "kind": recipe.kind,
        "seed": recipe.seed,
        "starts_from": recipe.starts_from,
        "data": recipe.data,
        "estimator": recipe.model["estimator"],
        "layers": recipe.model["layers"],
        "params": params,
        "fit_y": _fit_y(recipe, variant),
    }
    if variant["warm_start_from"] is not None:
        # the model it continues: a changed source retrains this variant too
        section["warm_start_from"] = _recipe_section(
            recipe, _variant(recipe, variant["warm_start_from"]), runs_dir)
    if recipe.starts_from and params.get("pretrained", True) is not False:
        model_path = _pretrained_path(recipe, runs_dir)
        section["pretrained_recipe_hash"] = _recorded_hash(
            model_path.with_name(f"{model_path.stem}.fit.json"))
    return json.loads(json.dumps(section, sort_keys=True, default=str))


def _recorded_hash(state_path):
    """The recipe hash in a model's ``.fit.json``, or None if there is none."""
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return None
    return state.get("recipe_hash") if isinstance(state, dict) else None


def _digest(section):
    """SHA-256 of the canonical JSON of a recipe section."""
    text = json.dumps(section, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _changes(old, new, prefix=""):
    """``key old -> new`` for every leaf that differs between two sections."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "(absent)"), new.get(key, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changes(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} {json.dumps(a)} -> {json.dumps(b)}")
    return out


def _outputs(recipe, runs_dir):
    """The run folder and every file the run writes, each checked to lie
    inside the runs folder before anything is written or deleted."""
    out = run_folder(runs_dir, recipe.name, recipe.kind)

    def file(name):
        return inside(runs_dir, out / name)

    files = {key: file(name) for key, name in
             (("recipe", "recipe.toml"), ("report", "report.md"), ("metrics", "metrics.json"))}
    variants = {
        v["name"]: {
            "model": file(f"{v['name']}.h5"),
            "state": file(f"{v['name']}.fit.json"),
            "figures": {fig: file(f"{v['name']}-{fig}.png") for fig in recipe.evaluate["figures"]},
        }
        for v in recipe.variants or [_MAIN]
    }
    return out, files, variants


def _resume(label, paths, section):
    """``(model, fit_seconds)`` saved by an earlier run of the same recipe
    section, or None (saying why) when there is none to reuse."""
    from deepzoo.io import load

    model_path, state_path = paths["model"], paths["state"]
    if not (model_path.exists() and state_path.exists()):
        return None
    try:
        state = json.loads(state_path.read_text())
        fit_seconds = float(state["fit_seconds"])
    except (ValueError, TypeError, KeyError) as exc:
        print(f"{label}: {state_path.name} is unreadable ({type(exc).__name__}: {exc}); "
              "retraining", flush=True)
        return None
    if "recipe_hash" not in state:
        print(f"{label}: {model_path.name} has no record of the recipe that produced it; "
              "retraining", flush=True)
        return None
    if state["recipe_hash"] != _digest(section):
        old = state.get("recipe_section")
        changes = _changes(old, section) if isinstance(old, dict) else []
        detail = f" ({'; '.join(changes)})" if changes else ""
        print(f"{label}: recipe changed since {model_path.name} was written{detail}; "
              "retraining", flush=True)
        return None
    try:
        model = load(model_path)
    except (ValueError, OSError) as exc:
        print(f"{label}: {model_path.name} is unreadable ({exc}); retraining", flush=True)
        return None
    print(f"{label}: resumed from {model_path}", flush=True)
    return model, fit_seconds


def _checkpoint(out, runs_dir, name, digest):
    """The epoch checkpoint of variant ``name`` (estimators that support
    them, see :mod:`deepzoo.utils.checkpoints`): named by the recipe section
    it trains, so that a changed recipe never resumes from it; those of
    earlier versions of the section are removed."""
    path = inside(runs_dir, out / f"{name}.{digest[:16]}.checkpoint.npz")
    for old in out.glob(f"{glob.escape(name)}.*.checkpoint.npz"):
        if old.name != path.name:
            inside(runs_dir, old).unlink(missing_ok=True)
    return path


def selected_variants(recipe, variants=None):
    """The variants a run trains: those named in ``variants``, else the defaults.

    A variant with ``default = false`` (say, a paper's own, slower protocol)
    runs only when named.
    """
    if not recipe.variants:
        if variants:
            raise RecipeError(f"{recipe.name} ({recipe.kind}) has no variants; run it without "
                              "--variant.")
        return [_MAIN]
    if not variants:
        return [v for v in recipe.variants if v["default"]]
    names = [v["name"] for v in recipe.variants]
    unknown = [name for name in variants if name not in names]
    if unknown:
        raise RecipeError(f"{recipe.name} ({recipe.kind}) has no variant "
                          f"{', '.join(map(repr, unknown))}; its variants are "
                          f"{', '.join(names)}.")
    return [v for v in recipe.variants if v["name"] in variants]


def run_recipe(recipe, runs_dir="runs", overwrite=False, data_home=None, download=False,
               variants=None):
    """Run ``recipe`` and write its run folder; return the metrics.

    A finished run (a readable ``metrics.json``) is never overwritten unless
    ``overwrite``; an unfinished one resumes, reusing every variant whose
    model file was written by the same recipe section (data, seed, model,
    parameters), and training the others, from the last finished epoch
    where the estimator keeps epoch checkpoints (the RBMs). Every file written or deleted is
    checked first to lie inside ``runs_dir``.

    ``variants`` names the variants to run (default: those not marked
    ``default = false``). Variants a finished run lacks are added to it,
    keeping its other results where the recipe has not changed since; with
    ``overwrite`` and named variants, only those are trained again.
    """
    from deepzoo.io import save
    from deepzoo.utils.checkpoints import epoch_checkpoints

    from ._figures import FIGURES_SKIPPED, can_draw, draw_figures
    from ._metrics import measure, measure_baselines

    if isinstance(recipe, (str, Path)):
        recipe = load_recipe(recipe)
    validate_recipe(recipe)
    # Before anything is written or loaded: a fine-tuning's pretraining run
    # must exist.
    chosen = selected_variants(recipe, variants)
    sections = {v["name"]: _recipe_section(recipe, v, runs_dir)
                for v in recipe.variants or [_MAIN]}
    out, files, outputs = _outputs(recipe, runs_dir)
    requested = [v["name"] for v in chosen]
    for v in chosen:
        if v["warm_start_from"] is not None and v["warm_start_from"] not in requested:
            _warm_start_path(recipe, v, runs_dir)
    kept = {}  # results of a finished run's other variants, still valid
    previous = read_summary(files["metrics"]) if files["metrics"].exists() else None
    if overwrite and not variants and files["metrics"].exists():
        shutil.rmtree(out)
    elif previous is not None:
        finished = [name for name in requested if name in previous["variants"]]
        if finished and not overwrite:
            raise RecipeError(
                f"{out} holds a finished run of {recipe.name} (variants "
                f"{', '.join(finished)}); pass --overwrite to run them again (or choose "
                "another --runs-dir).")
        for name in finished:  # overwrite: retrain these, keep the others
            for key in ("model", "state"):
                outputs[name][key].unlink(missing_ok=True)
        old_hashes = previous.get("recipe_hashes", {})
        kept = {name: metrics for name, metrics in previous["variants"].items()
                if name in sections and name not in requested
                and old_hashes.get(name) == _digest(sections[name])}
    elif files["metrics"].exists():
        print(f"[{recipe.name}] {files['metrics']} is unreadable; treating the run as "
              "unfinished", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    if recipe.path is not None:
        shutil.copyfile(recipe.path, files["recipe"])
    figures_skipped = bool(recipe.evaluate["figures"]) and not can_draw()
    if figures_skipped:
        # Figures are an extra: a plain 'pip install deepzoo' still runs every
        # recipe, says so at the start, and writes models, numbers and report.
        print(f"[{recipe.name}] {FIGURES_SKIPPED}", flush=True)
    print(f"[{recipe.name}] {recipe.title}: loading {recipe.data['dataset']}", flush=True)
    t_start = time.perf_counter()
    split = load_data(recipe.data, recipe.seed, data_home=data_home, download=download)
    print(f"[{recipe.name}] data: {split.description}", flush=True)
    baselines = measure_baselines(split, recipe.evaluate)
    for key, value in baselines.items():
        print(f"[{recipe.name}] baseline: {key} = {value}", flush=True)
    results = dict(kept)
    hashes = {name: _digest(sections[name]) for name in kept}
    for variant in chosen:
        name, paths = variant["name"], outputs[variant["name"]]
        label = f"[{recipe.name}] {name}"
        section = sections[name]
        hashes[name] = _digest(section)
        resumed = _resume(label, paths, section)
        if resumed:
            model, fit_seconds = resumed
        else:
            model = _build(recipe, variant, runs_dir)
            print(f"{label}: fitting {type(model).__name__}", flush=True)
            with epoch_checkpoints(model, _checkpoint(out, runs_dir, name, hashes[name])):
                fit_seconds = _fit(model, recipe, variant, split)
            save(model, paths["model"])
            write_text(paths["state"], json.dumps({
                "fit_seconds": fit_seconds, "recipe_hash": hashes[name],
                "recipe_section": section}, indent=2))
        print(f"{label}: fitted in {fit_seconds:.1f}s; measuring", flush=True)
        t0 = time.perf_counter()
        metrics = measure(model, split, recipe.evaluate, baselines)
        if variant["warm_start_from"] is not None:
            metrics["warm_start_from"] = variant["warm_start_from"]
        metrics["fit_seconds"] = round(fit_seconds, 2)
        metrics["measure_seconds"] = round(time.perf_counter() - t0, 2)
        metrics["figures"] = [] if figures_skipped else draw_figures(
            model, split, recipe.evaluate, paths["figures"], title=f"{recipe.name} / {name}")
        for key, value in metrics.items():
            if key != "figures":
                print(f"{label}: {key} = {value}", flush=True)
        results[name] = metrics
    summary = {
        "recipe": recipe.name,
        "title": recipe.title,
        "kind": recipe.kind,
        "seed": recipe.seed,
        "starts_from": recipe.starts_from,
        "data": split.description,
        "paper": recipe.paper,
        "paper_values": {v["name"]: v["paper_value"] for v in recipe.variants or [_MAIN]},
        "baselines": baselines,
        "variants": {v["name"]: results[v["name"]] for v in recipe.variants or [_MAIN]
                     if v["name"] in results},
        "recipe_hashes": hashes,
        "wall_seconds": round(time.perf_counter() - t_start, 1),
        "figures_skipped": figures_skipped,
    }
    write_report(summary, files["report"])
    write_text(files["metrics"], json.dumps(summary, indent=2, default=float))
    print(f"[{recipe.name}] done in {summary['wall_seconds']}s: {files['report']}", flush=True)
    return summary


def reproduce(name, recipes_dir=None, **kwargs):
    """Run ``pretrain/<name>.toml`` and then ``finetune/<name>.toml``, those
    that exist, in ``recipes_dir`` or where :func:`locate_recipes` finds them.

    A finished run is reused, unless ``overwrite``; a finished run of a
    recipe that has changed since is an error.
    """
    files = find_recipe(name, recipes_dir=recipes_dir)
    runs_dir = kwargs.get("runs_dir", "runs")
    for path in files:
        recipe = load_recipe(path)
        out = run_folder(runs_dir, recipe.name, recipe.kind)
        summary = read_summary(out / "metrics.json")
        if summary is not None and not kwargs.get("overwrite"):
            hashes = {v["name"]: _digest(_recipe_section(recipe, v, runs_dir))
                      for v in selected_variants(recipe)}
            done = summary.get("recipe_hashes", {})
            if "recipe_hashes" not in summary or any(
                    done.get(name) != digest for name, digest in hashes.items()):
                why = ("recipe changed since" if "recipe_hashes" in summary
                       else "no record of the recipe (an older run) in")
                raise RecipeError(f"{path}: {why} the finished run in {out}; pass "
                                  "--overwrite to run it again.")
            print(f"[{recipe.name}] finished run found in {out}; reusing it "
                  "(--overwrite to run again)", flush=True)
            continue
        run_recipe(recipe, **kwargs)
    return 0
