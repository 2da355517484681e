import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from deepzoo import io

from .io_helpers import seal


def _fitted_pipeline():
    X = np.random.default_rng(0).normal(size=(30, 5))
    pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=2))])
    return pipe.fit(X), X


def test_nested_round_trip(tmp_path):
    pipe, X = _fitted_pipeline()
    io.save(pipe, tmp_path / "p.h5")
    loaded = io.load(tmp_path / "p.h5")
    assert [name for name, _ in loaded.steps] == ["scale", "pca"]
    np.testing.assert_array_equal(loaded.transform(X), pipe.transform(X))


def test_convolutional_models_round_trip(tmp_path):
    # the allowlist comes from all_estimators: new estimators need no entry;
    # the image shape (a tuple) and the CDBN's nested layers come back
    from deepzoo import ConvolutionalDBN, ConvolutionalRBM

    X = np.random.default_rng(0).random((10, 9, 8, 2))
    crbm = ConvolutionalRBM(3, filter_shape=(3, 2), n_iter=1, random_state=0).fit(X)
    cdbn = ConvolutionalDBN((3, 2), filter_shape=2, n_iter=1, random_state=0).fit(X)
    for model in (crbm, cdbn):
        io.save(model, tmp_path / "m.h5")
        loaded = io.load(tmp_path / "m.h5")
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    assert loaded.steps_[1][1].image_shape_ == (4, 4, 3)
    io.save(crbm, tmp_path / "c.h5")
    # training resumes from the file (the optimiser state is not saved)
    assert io.load(tmp_path / "c.h5").partial_fit(X).n_iter_ == 2


def test_feature_names_round_trip(tmp_path):
    scaler = MinMaxScaler().fit([[0.0, 2.0], [1.0, 4.0]])
    # What fit sets for a DataFrame, without needing pandas in the tests.
    scaler.feature_names_in_ = np.array(["a", "b"], dtype=object)
    io.save(scaler, tmp_path / "s.h5")
    loaded = io.load(tmp_path / "s.h5")
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b"])
    assert loaded.n_features_in_ == 2 and isinstance(loaded.n_features_in_, int)


def test_foreign_hdf5_file_is_refused(tmp_path):
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ValueError, match="not a deepzoo estimator file"):
        io.load(tmp_path / "f.h5")


def test_non_hdf5_file_is_refused(tmp_path):
    (tmp_path / "junk.h5").write_bytes(b"this is not hdf5" * 10)
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        io.load(tmp_path / "junk.h5")


def test_newer_format_is_refused(tmp_path):
    io.save(MinMaxScaler(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        f.attrs["format_version"] = io.FORMAT_VERSION + 1
    seal(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="Upgrade deepzoo"):
        io.load(tmp_path / "m.h5")


def test_damaged_file_is_refused(tmp_path):
    pipe, _ = _fitted_pipeline()
    io.save(pipe, tmp_path / "p.h5")
    with h5py.File(tmp_path / "p.h5", "a") as f:
        del f["params/steps"]
    with pytest.raises(ValueError, match="damaged"):
        io.load(tmp_path / "p.h5")


def test_untrusted_class_is_refused(tmp_path):
    io.save(MinMaxScaler(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        f.attrs["class"] = "os.system"
    seal(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="only deepzoo and scikit-learn"):
        io.load(tmp_path / "m.h5")


def test_failed_save_keeps_old_file(tmp_path):
    path = tmp_path / "m.h5"
    io.save(MinMaxScaler(feature_range=(0, 2)), path)
    before = path.read_bytes()
    bad = MinMaxScaler()
    bad.scale_ = object()  # not storable: the save must fail midway
    with pytest.raises(TypeError, match="cannot be saved"):
        io.save(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


def test_unsavable_parameter_names_the_fix(tmp_path):
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="integer random_state"):
        io.save(PCA(random_state=np.random.RandomState(0)), tmp_path / "p.h5")


def test_save_rejects_non_estimator(tmp_path):
    with pytest.raises(TypeError, match="expects a scikit-learn estimator"):
        io.save({"a": 1}, tmp_path / "x.h5")


# -- integrity -----------------------------------------------------------------

FILES = Path(__file__).parent / "files"


def _fitted_rbm():
    from deepzoo import BernoulliRBM

    X = (np.random.default_rng(0).random((40, 16)) > 0.5).astype(float)
    return BernoulliRBM(n_components=4, n_iter=2, batch_size=10, random_state=0).fit(X)


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    pipe, _ = _fitted_pipeline()
    files = {}
    for name, model in [("rbm", _fitted_rbm()), ("pipeline", pipe)]:
        io.save(model, folder / f"{name}.h5")
        files[name] = (folder / f"{name}.h5").read_bytes()
    return files


@pytest.fixture
def hdf5_opens(monkeypatch):
    """Count the files libhdf5 is asked to open."""
    opened = []
    real = h5py.File

    def counting(*args, **kwargs):
        opened.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(h5py, "File", counting)
    return opened


@pytest.mark.parametrize("name", ["rbm", "pipeline"])
def test_every_byte_flip_is_refused_before_hdf5_parses(
    name, saved_models, tmp_path, hdf5_opens
):
    data = saved_models[name]
    rng = np.random.default_rng(1)
    # The whole header, then offsets spread over the HDF5 content.
    offsets = list(range(0, 120)) + list(rng.integers(120, len(data), 300))
    path = tmp_path / "flipped.h5"
    for offset in offsets:
        damaged = bytearray(data)
        damaged[offset] ^= 1 << int(rng.integers(8))
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match="damaged|not a readable|newer"):
            io.load(path)
    assert hdf5_opens == []


@pytest.mark.parametrize("name", ["rbm", "pipeline"])
def test_every_truncation_is_refused_before_hdf5_parses(
    name, saved_models, tmp_path, hdf5_opens
):
    data = saved_models[name]
    rng = np.random.default_rng(2)
    lengths = [0, 1, 100, 511, 512, 513, 520, len(data) - 1]
    lengths += list(rng.integers(0, len(data), 200))
    path = tmp_path / "truncated.h5"
    for length in lengths:
        path.write_bytes(data[:length])
        with pytest.raises(ValueError, match="damaged|not a readable"):
            io.load(path)
    path.write_bytes(data + b"\0")
    with pytest.raises(ValueError, match="checksum mismatch"):
        io.load(path)
    assert hdf5_opens == []


def test_file_edited_with_h5py_is_refused(tmp_path):
    io.save(_fitted_rbm(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        f["attributes/components_"][0, 0] += 1.0
    with pytest.raises(ValueError, match="checksum mismatch"):
        io.load(tmp_path / "m.h5")


_ZEROED_BLOCKS = """
import sys
import numpy as np
from deepzoo import BernoulliRBM
from deepzoo.io import load, save

X = (np.random.default_rng(0).random((50, 16)) > 0.5).astype(float)
path = sys.argv[1]
save(BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(X), path)
data = open(path, "rb").read()
for start in range(0, len(data), 512):
    damaged = bytearray(data)
    damaged[start:start + 512] = bytes(len(damaged[start:start + 512]))
    if damaged == data:
        continue  # a block that was zeros already
    open(path, "wb").write(damaged)
    try:
        load(path)
    except ValueError:
        continue
    sys.exit(f"block at {start}: no ValueError")
print("ok")
"""


def test_zeroed_blocks_are_refused_without_hanging(tmp_path):
    # libhdf5 hung on open for some zeroed 512-byte blocks: run in a
    # subprocess so that a hang fails the test instead of the whole run.
    result = subprocess.run(
        [sys.executable, "-c", _ZEROED_BLOCKS, str(tmp_path / "z.h5")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


def test_missing_learned_attribute_is_named(tmp_path):
    io.save(_fitted_rbm(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        del f["attributes/intercept_hidden_"]
    seal(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="intercept_hidden_.*missing"):
        io.load(tmp_path / "m.h5")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_learned_parameters_are_refused(tmp_path, bad):
    io.save(_fitted_rbm(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        f["attributes/components_"][1, 2] = bad
    seal(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="/attributes/components_: .*NaN or infinite"):
        io.load(tmp_path / "m.h5")


def test_saving_a_diverged_model_is_refused(tmp_path):
    rbm = _fitted_rbm()
    rbm.components_[0, 0] = np.nan
    with pytest.raises(ValueError, match="components_ holds NaN.*learning_rate"):
        io.save(rbm, tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []


def test_versions_are_recorded(tmp_path):
    import scipy
    import sklearn

    io.save(MinMaxScaler(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f.attrs["format_version"] == io.FORMAT_VERSION == 2
        assert f.attrs["numpy_version"] == np.__version__
        assert f.attrs["scipy_version"] == scipy.__version__
        assert f.attrs["sklearn_version"] == sklearn.__version__
        assert f.attrs["h5py_version"] == h5py.__version__
        assert "deepzoo_version" in f.attrs


def test_version_1_file_still_loads():
    # Written by deepzoo.io.save of format version 1 (no header, no checksum).
    X = np.random.default_rng(0).normal(size=(30, 5))
    expected = Pipeline(
        [("scale", StandardScaler()), ("pca", PCA(n_components=2, svd_solver="full"))]
    ).fit(X)
    loaded = io.load(FILES / "v1_pipeline.h5")
    # The reference is refit here, by whatever LAPACK is installed: its SVD
    # may differ from the one that wrote the file in the last bits (numpy
    # 2.4.6 with scipy 1.17.1: 1.7e-15), never by more than rounding.
    np.testing.assert_allclose(loaded.transform(X), expected.transform(X), rtol=1e-12,
                               atol=1e-12)


def test_version_1_file_gets_the_same_checks(tmp_path):
    path = tmp_path / "v1.h5"
    path.write_bytes((FILES / "v1_pipeline.h5").read_bytes())
    with h5py.File(path, "a") as f:
        f["params/steps/1/1"].attrs["class"] = "sklearn.utils._testing.check_output"
    with pytest.raises(ValueError, match="/params/steps/1/1: class .* is not a loadable"):
        io.load(path)


def test_load_errors_from_the_os_stay_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "absent.h5")
    with pytest.raises(IsADirectoryError):
        io.load(tmp_path)


# -- atomic, durable writes --------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_file_mode_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        io.save(MinMaxScaler(), tmp_path / "m.h5")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.h5").st_mode) == 0o666 & ~umask


def test_save_syncs_the_file_then_renames_then_syncs_the_folder(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        is_folder = stat.S_ISDIR(os.fstat(fd).st_mode)
        events.append("fsync folder" if is_folder else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    io.save(MinMaxScaler(), tmp_path / "m.h5")
    assert events == ["fsync file", "replace", "fsync folder"]


def test_failed_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    io.save(MinMaxScaler(feature_range=(0, 2)), path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        io.save(MinMaxScaler(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_removes_temporary_files_of_killed_saves(tmp_path):
    dead = tmp_path / f".m.h5.{_dead_pid()}.0123abcd.deepzoo-tmp"
    live = tmp_path / f".m.h5.{os.getpid()}.0123abcd.deepzoo-tmp"
    other = tmp_path / f".n.h5.{_dead_pid()}.0123abcd.deepzoo-tmp"
    for p in (dead, live, other):
        p.write_bytes(b"partial")
    io.save(MinMaxScaler(), tmp_path / "m.h5")
    assert not dead.exists()
    assert live.exists() and other.exists()  # a live save; another file's


_KILLED_SAVE = """
import os, sys, time
from sklearn.preprocessing import MinMaxScaler
from deepzoo import io

def stall(fd):
    print("writing", flush=True)
    time.sleep(60)

os.fsync = stall
io.save(MinMaxScaler(), sys.argv[1])
"""


def test_save_killed_mid_write_leaves_no_orphans(tmp_path):
    path = tmp_path / "m.h5"
    io.save(MinMaxScaler(feature_range=(0, 2)), path)
    before = path.read_bytes()
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILLED_SAVE, str(path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline() == "writing\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert path.read_bytes() == before
        # Each save removes the leftover of the previous killed one.
        assert len(list(tmp_path.glob(".m.h5.*.deepzoo-tmp"))) == 1
    io.save(MinMaxScaler(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]
    assert io.load(path).feature_range == (0, 1)


# -- what can be saved -----------------------------------------------------------


@pytest.mark.parametrize(
    "func",
    [lambda X: X + 1, np.add.accumulate, "scipy.special.expit"],
    ids=["lambda", "ufunc-method", "scipy-ufunc"],
)
def test_function_parameter_names_the_parameter_and_the_fix(tmp_path, func):
    from sklearn.preprocessing import FunctionTransformer

    if func == "scipy.special.expit":
        from scipy.special import expit as func  # an np.ufunc, but not numpy's

    pipe = Pipeline([("f", FunctionTransformer(func)), ("scale", StandardScaler())])
    message = r"func=.* is a function.*only numpy's own ufuncs"
    with pytest.raises(TypeError, match=message):
        io.save(pipe.fit(np.ones((3, 2))), tmp_path / "p.h5")
    assert list(tmp_path.iterdir()) == []


def test_function_transformer_with_numpy_ufuncs_round_trips(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    X = np.random.default_rng(0).random((20, 3)) * 5
    pipe = Pipeline(
        [
            ("log", FunctionTransformer(np.log1p, inverse_func=np.expm1)),
            ("abs", FunctionTransformer(np.abs, inverse_func=np.sqrt, check_inverse=False)),
            ("scale", StandardScaler()),
        ]
    ).fit(X)
    io.save(pipe, tmp_path / "p.h5")
    loaded = io.load(tmp_path / "p.h5")
    log, absolute = loaded.named_steps["log"], loaded.named_steps["abs"]
    assert (log.func, log.inverse_func) == (np.log1p, np.expm1)
    assert (absolute.func, absolute.inverse_func) == (np.abs, np.sqrt)
    np.testing.assert_array_equal(loaded.transform(X), pipe.transform(X))
    np.testing.assert_array_equal(
        loaded.named_steps["log"].inverse_transform(X), np.expm1(X)
    )
    with h5py.File(tmp_path / "p.h5", "r") as f:  # stored as data, by name
        assert '"func": {"__numpy_ufunc__": "log1p"}' in f["params/steps/0/1"].attrs[
            "params"
        ]


def test_search_with_deepzoo_parts_ufuncs_and_two_scores_round_trips(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import FunctionTransformer

    from deepzoo import BernoulliRBM

    rng = np.random.default_rng(0)
    X = rng.random((60, 6))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    pipe = Pipeline(
        [
            ("f", FunctionTransformer()),
            ("rbm", BernoulliRBM(n_components=4, n_iter=2, random_state=0)),
            ("clf", LogisticRegression()),
        ]
    )
    grid = {"f__func": [np.sqrt, np.square], "clf__C": [0.1, 10.0]}
    search = GridSearchCV(
        pipe, grid, scoring=["accuracy", "neg_log_loss"], refit="neg_log_loss", cv=2
    ).fit(X, y)
    io.save(search, tmp_path / "g.h5")
    loaded = io.load(tmp_path / "g.h5")
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    np.testing.assert_array_equal(
        loaded.best_estimator_.named_steps["rbm"].components_,
        search.best_estimator_.named_steps["rbm"].components_,
    )
    assert loaded.best_params_ == search.best_params_
    assert loaded.param_grid == grid
    funcs = list(loaded.cv_results_["param_f__func"])
    assert funcs == list(search.cv_results_["param_f__func"])
    assert {f.__name__ for f in funcs} == {"sqrt", "square"}
    assert loaded.score(X, y) == search.score(X, y)
    assert set(loaded.scorer_) == {"accuracy", "neg_log_loss"}


def test_randomized_search_over_lists_round_trips(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RandomizedSearchCV

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    space = {"C": [0.01, 0.1, 1.0, 10.0], "class_weight": [None, "balanced"]}
    search = RandomizedSearchCV(
        LogisticRegression(), space, n_iter=5, cv=2, random_state=0
    ).fit(X, y)
    io.save(search, tmp_path / "r.h5")
    loaded = io.load(tmp_path / "r.h5")
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.param_distributions == space
    assert loaded.best_params_ == search.best_params_
    np.testing.assert_array_equal(
        loaded.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
    assert list(loaded.cv_results_["param_class_weight"]) == list(
        search.cv_results_["param_class_weight"]
    )


@pytest.mark.parametrize("nested", [False, True], ids=["values", "with-estimators"])
def test_randomized_search_over_a_distribution_names_the_fix(tmp_path, nested):
    from scipy.stats import loguniform
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RandomizedSearchCV

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    space = {"clf__C": loguniform(1e-2, 1e2)}
    if nested:  # the space holds estimators too: stored as groups, not JSON
        space["scale"] = [StandardScaler(), MinMaxScaler()]
    search = RandomizedSearchCV(pipe, space, n_iter=2, cv=2, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match=r"param_distributions.*distribution.*as a list"):
        io.save(search, tmp_path / "r.h5")
    assert list(tmp_path.iterdir()) == []


def _written_with(tmp_path, **versions):
    path = tmp_path / "m.h5"
    io.save(MinMaxScaler().fit([[0.0], [2.0]]), path)
    with h5py.File(path, "a") as f:
        for name, version in versions.items():
            f.attrs[f"{name}_version"] = version
    seal(path)
    return path


@pytest.mark.parametrize(
    "name, label, version",
    [
        ("sklearn", "scikit-learn", "0.24.2"),
        ("numpy", "numpy", "1.0.0"),
        ("deepzoo", "deepzoo", "99.0.0"),
    ],
)
def test_load_warns_when_versions_differ_in_a_way_that_matters(
    tmp_path, name, label, version
):
    import sklearn

    import deepzoo

    running = {"sklearn": sklearn, "numpy": np, "deepzoo": deepzoo}[name].__version__
    path = _written_with(tmp_path, **{name: version})
    with pytest.warns(io.VersionWarning, match=rf"{label} {version} \(running {running}\)"):
        loaded = io.load(path)
    assert issubclass(io.VersionWarning, UserWarning)
    np.testing.assert_array_equal(loaded.transform([[1.0]]), [[0.5]])


def test_load_is_silent_for_patch_releases_and_older_deepzoo(tmp_path):
    import warnings

    import sklearn

    major_minor = ".".join(sklearn.__version__.split(".")[:2])
    path = _written_with(tmp_path, sklearn=f"{major_minor}.99", deepzoo="0.0.1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        io.load(path)


def test_grid_search_with_a_scoring_name_round_trips(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    search = GridSearchCV(
        LogisticRegression(), [{"C": [0.1, 1.0]}, {"tol": [1e-3]}], scoring="accuracy", cv=2
    ).fit(X, y)
    io.save(search, tmp_path / "g.h5")
    loaded = io.load(tmp_path / "g.h5")
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
    assert loaded.score(X, y) == search.score(X, y)
    assert loaded.best_params_ == search.best_params_
    # The masked grid column: C was not searched in the second grid.
    np.testing.assert_array_equal(loaded.cv_results_["param_C"].mask, [False, False, True])


def test_column_transformer_and_string_labels_round_trip(tmp_path):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer, LabelEncoder

    X = np.random.default_rng(0).normal(size=(20, 4))
    ct = ColumnTransformer(
        [("a", StandardScaler(), [0, 1]), ("b", FunctionTransformer(), slice(2, 4))]
    ).fit(X)
    io.save(ct, tmp_path / "c.h5")
    np.testing.assert_array_equal(io.load(tmp_path / "c.h5").transform(X), ct.transform(X))
    labels = LabelEncoder().fit(["cat", "dog"])
    io.save(labels, tmp_path / "l.h5")
    loaded = io.load(tmp_path / "l.h5")
    assert loaded.classes_.dtype == labels.classes_.dtype
    np.testing.assert_array_equal(loaded.transform(["dog"]), [1])


def test_grid_search_over_none_and_estimators_round_trips(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    grid = [
        {"clf": [LogisticRegression()], "scale": [StandardScaler(), "passthrough"]},
        {"clf": [LogisticRegression(C=0.5)], "clf__class_weight": [None, "balanced"]},
    ]
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    io.save(search, tmp_path / "g.h5")
    loaded = io.load(tmp_path / "g.h5")
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
    weight = loaded.cv_results_["param_clf__class_weight"]
    assert list(weight.mask) == [True, True, False, False]
    assert list(weight.data[2:]) == [None, "balanced"]
    assert loaded.cv_results_["param_clf"][3].C == 0.5
    assert loaded.cv_results_["param_scale"][1] == "passthrough"


def test_file_format_doc_reads_an_rbm_with_h5py_alone(tmp_path):
    from deepzoo import BernoulliRBM

    doc = (Path(__file__).parents[1] / "docs" / "file-format.md").read_text()
    snippet = doc.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(snippet.splitlines()) <= 10
    X = (np.random.default_rng(0).random((20, 64)) > 0.5).astype(float)
    io.save(BernoulliRBM(n_components=256, n_iter=1, random_state=0).fit(X), tmp_path / "rbm.h5")
    # deepzoo made unimportable: the reader needs h5py and the standard library only.
    code = "import sys; sys.modules['deepzoo'] = None\n" + snippet
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert out == "deepzoo.BernoulliRBM (256, 64)\n"


def test_loading_deepzoo_models_skips_scikit_learns_estimator_modules(tmp_path):
    # Looking a deepzoo class up in scikit-learn's list of estimators would
    # import every scikit-learn module (two seconds of a fresh process'
    # load); a deepzoo path is looked up among deepzoo's estimators alone.
    from deepzoo import BernoulliRBM

    X = np.random.default_rng(0).random((20, 6))
    io.save(BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X), tmp_path / "rbm.h5")
    code = ("import sys\nfrom deepzoo.io import load\nmodel = load('rbm.h5')\n"
            "print(type(model).__name__, 'sklearn.ensemble' in sys.modules)")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert out == "BernoulliRBM False\n"
