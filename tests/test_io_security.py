"""Malicious files: loading one must refuse it without running anything.

Each file is crafted with h5py directly, in the current layout (with a
valid checksum, as a forger would write it) and in the version-1 layout
(no header), the payload at the root, as a parameter, as a learned
attribute and deep inside a pipeline's steps.
"""

import sys

import h5py
import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler

from deepzoo import io

from .io_helpers import estimator_group, nested_group, open_crafted, seal


class _Targets:
    """Files a payload would create or destroy."""

    def __init__(self, folder):
        self.marker = folder / "pwned"
        self.victim = folder / "victim.txt"
        self.victim.write_text("keep")
        self.victim_dir = folder / "victim_dir"
        self.victim_dir.mkdir()
        (self.victim_dir / "f.txt").write_text("keep")

    def untouched(self):
        return (
            not self.marker.exists()
            and self.victim.read_text() == "keep"
            and (self.victim_dir / "f.txt").read_text() == "keep"
        )


def _payload(name, targets):
    marker = str(targets.marker)
    return {
        # subprocess.check_output, imported by scikit-learn's test helpers.
        "command": (
            "sklearn.utils._testing.check_output",
            {"args": ["sh", "-c", f"touch {marker}"]},
        ),
        "command-via-module": (
            "sklearn.utils._testing.os.system",
            {"command": f"touch {marker}"},
        ),
        # os.remove, imported by a dataset loader.
        "delete-file": (
            "sklearn.datasets._species_distributions.remove",
            {"path": str(targets.victim)},
        ),
        "delete-tree": (
            "sklearn.utils._testing.shutil.rmtree",
            {"path": str(targets.victim_dir)},
        ),
        # A public scikit-learn function that writes a file.
        "write-file": (
            "sklearn.datasets.dump_svmlight_file",
            {"X": [[1.0]], "y": [1.0], "f": marker},
        ),
        "make-folder": ("sklearn.datasets._base.makedirs", {"name": marker}),
        "eval": ("builtins.eval", {"source": f"open({marker!r}, 'w')"}),
    }[name]


_PAYLOADS = [
    "command",
    "command-via-module",
    "delete-file",
    "delete-tree",
    "write-file",
    "make-folder",
    "eval",
]


def _craft(path, where, class_path, params, v1):
    """A file whose estimator at ``where`` is ``class_path(**params)``."""
    with open_crafted(path, v1=v1) as f:
        if where == "root":
            estimator_group(f, class_path, params, v1=v1)
            node = "/"
        elif where == "params":
            nested, _ = estimator_group(f, "deepzoo.FineTunedClassifier", v1=v1)
            nested_group(nested, "pretrained", class_path, params, v1=v1)
            node = "/params/pretrained"
        elif where == "attributes":
            _, learned = estimator_group(
                f, "sklearn.preprocessing.MinMaxScaler", learned=["scale_"], v1=v1
            )
            nested_group(learned, "scale_", class_path, params, v1=v1)
            node = "/attributes/scale_"
        else:  # deep inside Pipeline(steps=[("evil", payload)])
            nested, _ = estimator_group(f, "sklearn.pipeline.Pipeline", v1=v1)
            steps = nested.create_group("steps")
            steps.attrs["kind"] = "list"
            steps.attrs["keys"] = '["0"]'
            step = steps.create_group("0")
            step.attrs["kind"] = "tuple"
            step.attrs["keys"] = '["0", "1"]'
            step.attrs["0"] = "evil"
            nested_group(step, "1", class_path, params, v1=v1)
            node = "/params/steps/0/1"
    if not v1:
        seal(path)
    return node


@pytest.mark.parametrize("v1", [False, True], ids=["current", "v1"])
@pytest.mark.parametrize("where", ["root", "params", "attributes", "deep"])
@pytest.mark.parametrize("payload", _PAYLOADS)
def test_payload_is_refused_and_never_runs(tmp_path, payload, where, v1):
    targets = _Targets(tmp_path)
    class_path, params = _payload(payload, targets)
    node = _craft(tmp_path / "evil.h5", where, class_path, params, v1)
    with pytest.raises(ValueError, match=f"{node}: class '{class_path}' is not a loadable"):
        io.load(tmp_path / "evil.h5")
    assert targets.untouched()


@pytest.mark.parametrize("payload", _PAYLOADS)
def test_trusted_mode_still_builds_only_estimator_classes(tmp_path, payload):
    targets = _Targets(tmp_path)
    class_path, params = _payload(payload, targets)
    _craft(tmp_path / "evil.h5", "params", class_path, params, v1=False)
    message = "/params/pretrained: .*(not an estimator class|cannot be imported)"
    with pytest.raises(ValueError, match=message):
        io.load(tmp_path / "evil.h5", trusted=True)
    assert targets.untouched()


def test_no_module_named_by_the_file_is_imported(tmp_path, monkeypatch):
    (tmp_path / "deepzoo_evil_module.py").write_text(
        f"open({str(tmp_path / 'pwned')!r}, 'w').close()\n"
        "from sklearn.base import BaseEstimator\n"
        "class Evil(BaseEstimator):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _craft(tmp_path / "evil.h5", "root", "deepzoo_evil_module.Evil", {}, v1=False)
    with pytest.raises(ValueError, match="trusted=True"):
        io.load(tmp_path / "evil.h5")
    assert "deepzoo_evil_module" not in sys.modules
    assert not (tmp_path / "pwned").exists()


class OwnScaler(MinMaxScaler):
    """A user's own estimator class: loadable only with trusted=True."""


def test_own_subclass_needs_trusted(tmp_path):
    scaler = OwnScaler().fit([[0.0], [2.0]])
    io.save(scaler, tmp_path / "own.h5")
    with pytest.raises(ValueError, match="OwnScaler' is not a loadable.*trusted=True"):
        io.load(tmp_path / "own.h5")
    loaded = io.load(tmp_path / "own.h5", trusted=True)
    assert type(loaded) is OwnScaler
    np.testing.assert_array_equal(loaded.transform([[1.0]]), [[0.5]])


def test_allowlisted_parameter_holding_a_function_is_refused(tmp_path):
    # FunctionTransformer(func=<something named by the file>).
    targets = _Targets(tmp_path)
    with open_crafted(tmp_path / "evil.h5") as f:
        nested, _ = estimator_group(f, "sklearn.preprocessing.FunctionTransformer")
        func = nested.create_group("func")
        func.attrs["kind"] = "function"
        func.attrs["path"] = "os.system"
    seal(tmp_path / "evil.h5")
    with pytest.raises(ValueError, match="/params/func: unknown kind 'function'"):
        io.load(tmp_path / "evil.h5")
    assert targets.untouched()


def test_refusal_comes_before_anything_is_built(tmp_path, monkeypatch):
    # A valid estimator first, the payload after it: nothing may be built.
    built = []
    monkeypatch.setattr(MinMaxScaler, "__init__", lambda self, **kw: built.append(kw))
    with open_crafted(tmp_path / "evil.h5") as f:
        nested, _ = estimator_group(f, "sklearn.pipeline.Pipeline")
        steps = nested.create_group("steps")
        steps.attrs["kind"] = "list"
        steps.attrs["keys"] = '["0", "1"]'
        for i, cls in enumerate(
            ["sklearn.preprocessing.MinMaxScaler", "sklearn.utils._testing.check_output"]
        ):
            step = steps.create_group(str(i))
            step.attrs["kind"] = "tuple"
            step.attrs["keys"] = '["0", "1"]'
            step.attrs["0"] = f"s{i}"
            nested_group(step, "1", cls)
    seal(tmp_path / "evil.h5")
    with pytest.raises(ValueError, match="/params/steps/1/1: class"):
        io.load(tmp_path / "evil.h5")
    assert built == []


# Names a file could give where a numpy ufunc is stored: numpy functions that
# read or write files or build callables, attribute paths, submodules, other
# libraries' ufuncs, non-strings.
_NOT_UFUNCS = [
    "load",
    "fromfile",
    "save",
    "vectorize",
    "frompyfunc",
    "ctypeslib",
    "add.accumulate",
    "log1p.__call__",
    "__class__",
    "__builtins__",
    "expit",
    "",
    5,
    None,
]


def _calls_recorded(monkeypatch):
    calls = []
    for name in ("load", "fromfile", "save", "vectorize", "frompyfunc"):
        monkeypatch.setattr(np, name, lambda *a, _n=name, **k: calls.append(_n))
    return calls


@pytest.mark.parametrize("name", _NOT_UFUNCS, ids=repr)
@pytest.mark.parametrize("where", ["params", "attributes"])
def test_only_numpy_ufuncs_can_be_named_as_functions(tmp_path, monkeypatch, name, where):
    calls = _calls_recorded(monkeypatch)
    with open_crafted(tmp_path / "evil.h5") as f:
        if where == "params":
            # FunctionTransformer(func={"__numpy_ufunc__": name}) in the JSON.
            params = {"func": {"__numpy_ufunc__": name}}
            estimator_group(f, "sklearn.preprocessing.FunctionTransformer", params)
            node = "/params"
        else:
            _, learned = estimator_group(
                f, "sklearn.preprocessing.MinMaxScaler", learned=["scale_"]
            )
            group = learned.create_group("scale_")
            group.attrs["kind"] = "numpy_ufunc"
            group.attrs["name"] = name if name is not None else "__none__"
            node = "/attributes/scale_"
    seal(tmp_path / "evil.h5")
    with pytest.raises(ValueError, match=f"{node}: .* is not a numpy ufunc"):
        io.load(tmp_path / "evil.h5")
    assert calls == []


def test_numpy_ufunc_group_with_extra_entries_is_damaged(tmp_path):
    path = tmp_path / "m.h5"
    with open_crafted(path) as f:
        _, learned = estimator_group(f, "sklearn.preprocessing.MinMaxScaler", learned=["scale_"])
        group = learned.create_group("scale_")
        group.attrs["kind"] = "numpy_ufunc"
        group.attrs["name"] = "log1p"
        group.attrs["module"] = "os"
    seal(path)
    with pytest.raises(ValueError, match="/attributes/scale_: not a numpy ufunc"):
        io.load(path)


# -- HDF5 features that read other files or run code ---------------------------------


def _other_file(folder):
    path = folder / "other.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.array([1.0, 2.0])
    return path


def _link_soft(learned, folder):
    learned["scale_"] = h5py.SoftLink("/params")


def _link_external(learned, folder):
    learned["scale_"] = h5py.ExternalLink(str(_other_file(folder)), "/data")


def _external_storage(learned, folder):
    raw = folder / "raw.bin"
    raw.write_bytes(np.array([1.0, 2.0]).tobytes())
    learned.create_dataset("scale_", shape=(2,), dtype="f8", external=[(str(raw), 0, 16)])


def _virtual(learned, folder):
    layout = h5py.VirtualLayout(shape=(2,), dtype="f8")
    layout[:] = h5py.VirtualSource(str(_other_file(folder)), "data", shape=(2,))
    learned.create_virtual_dataset("scale_", layout)


def _filtered(learned, folder):
    learned.create_dataset("scale_", data=np.ones(100), compression="gzip")


def _compound(learned, folder):
    learned["scale_"] = np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])


def _reference(learned, folder):
    learned.create_dataset("scale_", data=[learned.file.ref], dtype=h5py.ref_dtype)


def _opaque(learned, folder):
    learned["scale_"] = np.array([b"ab"], dtype="V2")


def _vlen_ints(learned, folder):
    ds = learned.create_dataset("scale_", shape=(1,), dtype=h5py.vlen_dtype(np.int32))
    ds[0] = np.arange(3, dtype=np.int32)


def _attribute_array(learned, folder):
    learned.attrs["scale_"] = np.arange(3.0)


def _size_lie(learned, folder):
    # 8 GB declared, nothing stored: reading it would allocate the 8 GB.
    learned.create_dataset("scale_", shape=(10**9,), dtype="f8")


def _string_without_kind(learned, folder):
    learned.create_dataset("scale_", data=["a"], dtype=h5py.string_dtype())


@pytest.mark.parametrize("v1", [False, True], ids=["current", "v1"])
@pytest.mark.parametrize(
    "feature",
    [
        _link_soft,
        _link_external,
        _external_storage,
        _virtual,
        _filtered,
        _compound,
        _reference,
        _opaque,
        _vlen_ints,
        _attribute_array,
        _size_lie,
        _string_without_kind,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_hdf5_feature_is_refused(tmp_path, feature, v1):
    with open_crafted(tmp_path / "evil.h5", v1=v1) as f:
        _, learned = estimator_group(
            f, "sklearn.preprocessing.MinMaxScaler", learned=["scale_"], v1=v1
        )
        feature(learned, tmp_path)
    if not v1:
        seal(tmp_path / "evil.h5")
    with pytest.raises(ValueError, match="/attributes/scale_: "):
        io.load(tmp_path / "evil.h5")


# -- every damaged structure is a ValueError ----------------------------------------


def _root_class_not_a_string(f):
    f.attrs["class"] = 3


def _params_not_json(f):
    f.attrs["params"] = "{not json"


def _params_a_list(f):
    f.attrs["params"] = "[1, 2]"


def _params_too_deep(f):
    f.attrs["params"] = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _unknown_parameter(f):
    f.attrs["params"] = '{"bogus": 1}'


def _required_parameter_missing(f):
    f.attrs["class"] = "sklearn.pipeline.Pipeline"
    f.attrs["params"] = "{}"


def _no_attributes_group(f):
    del f["attributes"]


def _unknown_kind(f):
    f["params"].create_group("feature_range").attrs["kind"] = "pickle"


def _keys_mismatch(f):
    g = f["params"].create_group("feature_range")
    g.attrs["kind"] = "tuple"
    g.attrs["keys"] = '["0", "1"]'
    g.attrs["0"] = 1.0


def _hard_link_cycle(f):
    scaler = "sklearn.preprocessing.MinMaxScaler"
    params, _ = nested_group(f["params"], "feature_range", scaler)
    params["copy"] = f["params/feature_range"]


def _property_as_attribute(f):
    f.attrs["class"] = "sklearn.pipeline.Pipeline"
    f.attrs["params"] = '{"steps": []}'
    f["attributes"].attrs["classes_"] = 3
    f.attrs["learned"] = '["classes_"]'


def _method_as_attribute(f):
    f["attributes"].attrs["transform"] = 3
    f.attrs["learned"] = '["transform"]'


def _private_attribute(f):
    f["attributes"].attrs["__class__"] = "x"
    f.attrs["learned"] = '["__class__"]'


def _learned_not_listed(f):
    f["attributes"].attrs["scale_"] = 1.0
    f.attrs["learned"] = "[]"


def _format_version_text(f):
    f.attrs["format_version"] = "two"


def _scorer_from_a_number(f):
    f.attrs["class"] = "sklearn.model_selection.GridSearchCV"
    f.attrs["params"] = '{"estimator": null, "param_grid": {}, "scoring": 3}'
    f["attributes"].attrs["multimetric_"] = False
    f.attrs["learned"] = '["multimetric_"]'
    f.attrs["rebuilt"] = '["scorer_"]'


def _scorer_for_no_estimator(f):
    _scorer_from_a_number(f)
    f.attrs["params"] = '{"estimator": null, "param_grid": {}, "scoring": null}'


@pytest.mark.parametrize(
    "damage, message",
    [
        (_root_class_not_a_string, "/: no 'class' attribute"),
        (_params_not_json, "/params: not valid JSON"),
        (_params_a_list, "/params: not valid JSON"),
        (_params_too_deep, "/params: not valid JSON"),
        (_unknown_parameter, r"/params: \['bogus'\] are not parameters"),
        (_required_parameter_missing, r"/params: \['steps'\] are required parameters"),
        (_no_attributes_group, "/attributes: missing"),
        (_unknown_kind, "/params/feature_range: unknown kind 'pickle'"),
        (_keys_mismatch, "/params/feature_range: does not match its keys"),
        (_hard_link_cycle, "/params/feature_range/params/copy: the same HDF5 object"),
        (_property_as_attribute, "/attributes/classes_: not a learned attribute name"),
        (_method_as_attribute, "/attributes/transform: not a learned attribute name"),
        (_private_attribute, "/attributes/__class__: not a learned attribute name"),
        (_learned_not_listed, r"learned attribute\(s\) \['scale_'\] not listed"),
        (_format_version_text, "format_version is 'two'"),
        (_scorer_from_a_number, "/: cannot rebuild"),
        (_scorer_for_no_estimator, "scorer_ of GridSearchCV cannot be rebuilt"),
    ],
    ids=lambda x: x.__name__.strip("_") if callable(x) else "",
)
def test_damaged_structure_is_a_value_error_naming_the_place(tmp_path, damage, message):
    path = tmp_path / "m.h5"
    io.save(MinMaxScaler(), path)
    with h5py.File(path, "a") as f:
        damage(f)
    seal(path)
    with pytest.raises(ValueError, match=message):
        io.load(path)


# -- the recipe runner loads through deepzoo.io.load --------------------------------

_FINETUNE = """
name = "evil"
title = "Fine-tuned from a crafted pretraining file"
kind = "finetune"
starts_from = "evil"
[paper]
source = "nobody"
metric = "test_accuracy"
[data]
dataset = "digits-shifted"
n_train = 100
n_test = 50
[model]
estimator = "FineTunedClassifier"
params = { max_iter = 1 }
[evaluate]
metrics = ["accuracy"]
"""


@pytest.mark.parametrize("payload", ["command", "delete-file"])
def test_recipe_starting_from_a_crafted_file_refuses_it(tmp_path, payload):
    from deepzoo import recipes

    targets = _Targets(tmp_path)
    runs = tmp_path / "runs"
    pretrain = runs / "evil" / "pretrain"
    pretrain.mkdir(parents=True)
    class_path, params = _payload(payload, targets)
    _craft(pretrain / "main.h5", "root", class_path, params, v1=False)
    (tmp_path / "evil.toml").write_text(_FINETUNE)
    with pytest.raises(ValueError, match="not a loadable estimator"):
        recipes.run_recipe(tmp_path / "evil.toml", runs_dir=runs)
    assert targets.untouched()


# -- forged damage: random bytes changed and the checksum recomputed ---------------

_FORGED_DAMAGE = """
import sys
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from deepzoo import BernoulliRBM, io
from tests.io_helpers import seal

X = (np.random.default_rng(0).random((40, 16)) > 0.5).astype(float)
path = Path(sys.argv[1])
model = Pipeline([("s", MinMaxScaler()), ("r", BernoulliRBM(n_components=4, n_iter=2))])
io.save(model.fit(X), path)
data = path.read_bytes()
rng = np.random.default_rng(0)
loaded = refused = 0
for _ in range(300):
    damaged = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        damaged[int(rng.integers(512, len(data)))] ^= 1 << int(rng.integers(8))
    path.write_bytes(damaged)
    seal(path)
    try:
        io.load(path)
        loaded += 1
    except ValueError:
        refused += 1
print(loaded, refused)
"""


def test_forged_damage_only_ever_raises_value_error(tmp_path):
    # Past the checksum, libhdf5 and the reader meet arbitrary bytes: any
    # exception but ValueError fails the subprocess, and so would a hang.
    import subprocess
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", _FORGED_DAMAGE, str(tmp_path / "f.h5")],
        capture_output=True, text=True, timeout=300,
        cwd=Path(__file__).parents[1],
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded, refused = map(int, result.stdout.split())
    assert loaded + refused == 300 and refused > 0
