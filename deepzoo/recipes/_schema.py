"""Recipe files: a strict TOML schema.

A recipe states an experiment's whole protocol: data and split,
preprocessing, model and training settings, fine-tuning settings, seed, what
to measure and draw, and the paper's number with its source. Unknown keys and
wrong types are errors that name the key, because a silently ignored typo in
a protocol produces a wrong experiment that looks right.
"""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Recipe", "RecipeError", "check_name", "load_recipe", "parse_recipe"]


class RecipeError(ValueError):
    """A recipe file that does not follow the schema."""


# key -> (type or tuple of types, required, default)
_TOP = {
    "name": (str, True, None),
    "title": (str, True, None),
    "kind": (str, True, None),
    "seed": (int, False, 0),
    "starts_from": (str, False, None),
    "paper": (dict, True, None),
    "data": (dict, True, None),
    "model": (dict, True, None),
    "variants": (list, False, []),
    "evaluate": (dict, False, {}),
}
_PAPER = {
    "source": (str, True, None),
    "metric": (str, True, None),
    "value": ((int, float), False, None),
    "setting": (str, False, ""),
    "note": (str, False, ""),
}
_DATA = {
    "dataset": (str, True, None),
    "n_train": (int, False, 0),
    "n_test": (int, False, 0),
    "preprocessing": (list, False, []),
    "params": (dict, False, {}),
}
_MODEL = {
    "estimator": (str, True, None),
    "params": (dict, False, {}),
    "fit": (dict, False, {}),
    "layers": (list, False, []),
}
_LAYER = {
    "name": (str, True, None),
    "estimator": (str, True, None),
    "params": (dict, False, {}),
}
_VARIANT = {
    "name": (str, True, None),
    "params": (dict, False, {}),
    "fit": (dict, False, {}),
    "paper_value": ((int, float), False, None),
    # false: run only when named (``--variant NAME``), e.g. a paper's own
    # protocol that is too slow for the default run
    "default": (bool, False, True),
    # an earlier variant whose fitted model this one continues
    # (``warm_start=True``): a DBN's up-down stage from the greedy variant
    "warm_start_from": (str, False, None),
}
_FIT = {
    "y": (bool, False, None),
}
_EVALUATE = {
    "metrics": (list, False, []),
    "figures": (list, False, []),
    "params": (dict, False, {}),
}

KINDS = ("pretrain", "finetune")

# Recipe and variant names become folder and file names under the runs
# folder, so they are plain names: nothing that a path resolves (separators,
# "..", a leading "." or "/") and nothing a shell quotes.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NAME_MAX = 100
_NAME_RULE = (f"a plain name (letters, digits, '.', '_' and '-', starting with a letter or "
              f"digit, no '..', at most {_NAME_MAX} characters)")
# The seeds numpy's RandomState accepts.
_SEED_MAX = 2**32 - 1


@dataclass
class Recipe:
    """A parsed, validated recipe. ``path`` is where it was read from."""

    name: str
    title: str
    kind: str
    seed: int
    starts_from: str | None
    paper: dict
    data: dict
    model: dict
    variants: list = field(default_factory=list)
    evaluate: dict = field(default_factory=dict)
    path: Path | None = None


def _check_table(table, schema, where):
    if not isinstance(table, dict):
        raise RecipeError(f"{where} must be a table; got {type(table).__name__}.")
    unknown = sorted(set(table) - set(schema))
    if unknown:
        allowed = (f"allowed keys in {where}: {', '.join(sorted(schema))}" if schema
                   else f"{where} takes no keys here")
        raise RecipeError(f"unknown key {where}.{unknown[0]}; {allowed}.")
    out = {}
    for key, (types, required, default) in schema.items():
        if key not in table:
            if required:
                raise RecipeError(f"missing required key {where}.{key}.")
            out[key] = default.copy() if isinstance(default, (list, dict)) else default
            continue
        value = table[key]
        # bool is an int in Python; a protocol never means True for a count.
        if isinstance(value, bool) and bool not in _as_tuple(types):
            raise RecipeError(_type_message(where, key, types, value))
        if not isinstance(value, types):
            raise RecipeError(_type_message(where, key, types, value))
        out[key] = value
    return out


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _type_message(where, key, types, value):
    names = " or ".join(t.__name__ for t in _as_tuple(types))
    return (
        f"{where}.{key} must be {names}; got {type(value).__name__} {value!r}."
    )


def _is_name(value):
    return (isinstance(value, str) and len(value) <= _NAME_MAX
            and _NAME.fullmatch(value) is not None and ".." not in value)


def check_name(value, where):
    """Raise ``RecipeError`` unless ``value`` is a plain name that can be a
    file name in the runs folder; ``where`` names the key in the message."""
    if not _is_name(value):
        raise RecipeError(f"{where} must be {_NAME_RULE}; got {value!r}.")
    return value


def _check_starts_from(value):
    name, colon, variant = value.partition(":")
    if not _is_name(name) or (colon and not _is_name(variant)):
        raise RecipeError(f"recipe.starts_from must be 'NAME' or 'NAME:VARIANT', each "
                          f"{_NAME_RULE}; got {value!r}.")


def _check_counts(table, keys, where):
    for key in keys:
        if table[key] < 0:
            raise RecipeError(f"{where}.{key} must be >= 0 (0: all); got {table[key]}.")


def parse_recipe(text, path=None):
    """Validate the TOML ``text`` of a recipe and return a :class:`Recipe`.

    Examples
    --------
    >>> r = parse_recipe('''
    ... name = "demo"
    ... title = "A demo"
    ... kind = "pretrain"
    ... [paper]
    ... source = "nobody"
    ... metric = "accuracy"
    ... [data]
    ... dataset = "digits-shifted"
    ... [model]
    ... estimator = "BernoulliRBM"
    ... ''')
    >>> r.name, r.data["dataset"], r.seed
    ('demo', 'digits-shifted', 0)
    """
    where = str(path) if path else "recipe"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{where} is not valid TOML: {exc}") from None
    top = _check_table(raw, _TOP, "recipe")
    check_name(top["name"], "recipe.name")
    if not 0 <= top["seed"] <= _SEED_MAX:
        raise RecipeError(f"recipe.seed must be between 0 and {_SEED_MAX}; got {top['seed']}.")
    if top["kind"] not in KINDS:
        raise RecipeError(f"recipe.kind must be one of {KINDS}; got {top['kind']!r}.")
    if top["kind"] == "finetune" and not top["starts_from"]:
        raise RecipeError(
            "a finetune recipe must name the pretraining run it starts from "
            "(recipe.starts_from)."
        )
    if top["starts_from"] is not None:
        _check_starts_from(top["starts_from"])
    top["paper"] = _check_table(top["paper"], _PAPER, "paper")
    top["data"] = _check_table(top["data"], _DATA, "data")
    _check_counts(top["data"], ("n_train", "n_test"), "data")
    top["model"] = _check_table(top["model"], _MODEL, "model")
    top["model"]["layers"] = [
        _check_table(layer, _LAYER, f"model.layers[{i}]")
        for i, layer in enumerate(top["model"]["layers"])
    ]
    top["evaluate"] = _check_table(top["evaluate"], _EVALUATE, "evaluate")
    top["model"]["fit"] = _check_table(top["model"]["fit"], _FIT, "model.fit")
    top["variants"] = [
        _check_table(v, _VARIANT, f"variants[{i}]") for i, v in enumerate(top["variants"])
    ]
    for i, v in enumerate(top["variants"]):
        check_name(v["name"], f"variants[{i}].name")
        v["fit"] = _check_table(v["fit"], _FIT, f"variants[{i}].fit")
    names = [v["name"] for v in top["variants"]]
    if len(set(names)) != len(names):
        raise RecipeError(f"variant names must be unique; got {names}.")
    for i, v in enumerate(top["variants"]):
        if v["warm_start_from"] is not None and v["warm_start_from"] not in names[:i]:
            raise RecipeError(
                f"variants[{i}].warm_start_from names no earlier variant: "
                f"{v['warm_start_from']!r}; name one of the variants listed before "
                f"{v['name']!r} (its model is fitted first).")
    for key in ("metrics", "figures"):
        for item in top["evaluate"][key]:
            if not isinstance(item, str):
                raise RecipeError(f"evaluate.{key} must list names (strings); got {item!r}.")
    return Recipe(path=Path(path) if path else None, **top)


def load_recipe(path):
    """Read and validate the recipe file ``path``."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"no recipe file at {str(path)!r}.")
    return parse_recipe(path.read_text(), path=path)
