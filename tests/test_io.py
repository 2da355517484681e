import h5py
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from deepzoo import io


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
