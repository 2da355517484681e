"""Training and inference from data too large for memory (deepzoo/utils/streaming.py)."""

import warnings

import h5py
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from deepzoo import (
    DBN,
    Autoencoder,
    BernoulliRBM,
    DeepAutoencoder,
    FineTunedClassifier,
    FineTunedRegressor,
    GaussianBernoulliRBM,
    SparseCoding,
    Stack,
    StackedAutoencoder,
)
from deepzoo.io import transform_to_hdf5
from deepzoo.utils.streaming import RowStream, TransformedRows, chunk_bytes

N, D = 600, 20
ROW_BYTES = D * 4  # float32


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def data():
    return (np.random.default_rng(0).random((N, D)) < 0.3).astype(np.float32)


@pytest.fixture
def h5(tmp_path, data):
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["X"] = data
        yield f


class Recorded:
    """An array-like that is not a numpy array: records every read."""

    def __init__(self, array):
        self.array, self.reads = array, []
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, key):
        self.reads.append(key)
        return self.array[key]


def _rbm(**kw):
    return BernoulliRBM(8, **{"n_iter": 3, "batch_size": 10, "random_state": 0, **kw})


@pytest.mark.parametrize("method", ["cd", "pcd", "pt"])
def test_one_chunk_trains_as_the_array_in_memory(h5, data, method):
    a = _rbm(method=method).fit(data)
    b = _rbm(method=method).fit(h5["X"])
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.reconstruction_error_, b.reconstruction_error_)
    a.partial_fit(data)
    b.partial_fit(h5["X"])
    np.testing.assert_array_equal(a.components_, b.components_)


def test_one_chunk_memmap_gaussian_rbm_and_autoencoder(tmp_path, data):
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=data.shape)
    mm[:] = data
    a = GaussianBernoulliRBM(5, n_iter=2, random_state=0, learn_variance=True).fit(data)
    b = GaussianBernoulliRBM(5, n_iter=2, random_state=0, learn_variance=True).fit(mm)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.sigma_, b.sigma_)
    a = Autoencoder(5, max_iter=3, random_state=0).fit(data)
    b = Autoencoder(5, max_iter=3, random_state=0).fit(mm)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("make", [lambda: _rbm(shuffle=False),
                                  lambda: Autoencoder(5, max_iter=3, random_state=0,
                                                      shuffle=False)])
def test_unshuffled_chunks_give_the_in_memory_minibatches(h5, data, make):
    # chunks in order, rows in order: the same mini-batches and keys; only
    # the initial column means are summed differently (float64 over chunks)
    a = make().fit(data)
    with chunk_bytes(100 * ROW_BYTES):
        b = make().fit(h5["X"])
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-5)


def test_chunk_order_is_shuffled_each_epoch_and_reads_are_bounded(data):
    X = Recorded(data)
    with chunk_bytes(95 * ROW_BYTES):  # 90 rows: a multiple of batch_size
        stream = RowStream(X, "t", np.float32, batch_size=10)
        assert stream.chunk_rows == 90
        rbm = _rbm(n_iter=4).fit(X)
    reads = [k for k in X.reads if isinstance(k, slice)]
    assert all(k.stop - k.start <= 90 for k in reads)
    n_chunks = -(-N // 90)
    # one initialisation pass in order, then one permutation per epoch
    first = [k.start for k in reads[:n_chunks]]
    assert first == sorted(first)
    epochs = [[k.start for k in reads[n_chunks * e:n_chunks * (e + 1)]] for e in range(1, 5)]
    assert all(sorted(e) == first for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1
    assert rbm.n_iter_ == 4


def test_streamed_transform_and_scores_equal_in_memory(h5, data, tmp_path):
    rbm = _rbm().fit(data)
    with chunk_bytes(64 * ROW_BYTES):
        # the same products, in blocks of rows (BLAS may round a block differently)
        np.testing.assert_allclose(rbm.transform(h5["X"]), rbm.transform(data), rtol=1e-6)
        assert rbm.score(h5["X"]) == pytest.approx(rbm.score(data), rel=1e-12)
        out = transform_to_hdf5(rbm, h5["X"], h5, "H")
    np.testing.assert_allclose(out[...], rbm.transform(data), rtol=1e-6)
    with pytest.raises(ValueError, match="already exists"):
        transform_to_hdf5(rbm, h5["X"], h5, "H")


def test_scores_are_the_means_of_their_samples(data):
    rbm = _rbm().fit(data)
    assert rbm.score(data) == pytest.approx(float(np.mean(rbm.score_samples(data))))
    g = GaussianBernoulliRBM(5, n_iter=2, random_state=0).fit(data)
    H = 1 / (1 + np.exp(-(data.astype(np.float64) @ g.components_.T + g.intercept_hidden_)))
    R = H @ (g.components_ * g.sigma_ ** 2) + g.intercept_visible_
    assert g.score(data) == pytest.approx(-np.mean(np.sum((R - data) ** 2, axis=1)), rel=1e-5)


def _bad(h5, data, kind):
    bad = data.copy()
    if kind == "nan":
        bad[250, 3] = np.nan
    else:
        bad[250, 3] = 2.0
    h5["bad"] = bad
    return h5["bad"]


@pytest.mark.parametrize("kind, message", [("nan", "NaN or inf"), ("range", r"\[0, 1\]")])
@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_a_bad_chunk_is_named_and_leaves_the_model_as_it_was(h5, data, kind, message, call):
    models = [_rbm(), Autoencoder(5, max_iter=2, random_state=0, loss="cross_entropy")]
    for model in models:
        model.fit(data)
        before = {k: np.copy(v) for k, v in vars(model).items() if k.endswith("_")
                  and isinstance(v, np.ndarray)}
        with chunk_bytes(100 * ROW_BYTES):
            with pytest.raises(ValueError, match=rf"chunk 3 of 6 \(rows 200 to 299\).*{message}"):
                getattr(model, call)(_bad(h5, data, kind))
        del h5["bad"]
        for k, v in before.items():
            np.testing.assert_array_equal(getattr(model, k), v)


def test_wrong_width_and_closed_file(tmp_path, data):
    rbm = _rbm().fit(data)
    path = tmp_path / "w.h5"
    with h5py.File(path, "w") as f:
        f["narrow"] = data[:, :5]
        with pytest.raises(ValueError, match="X has 5 features, but the model was fitted on 20"):
            rbm.partial_fit(f["narrow"])
        with pytest.raises(ValueError, match="X has 5 features"):
            rbm.transform(f["narrow"])
        f["X"] = data
        dataset = f["X"]
    before = rbm.components_.copy()
    for call in (rbm.fit, rbm.partial_fit, rbm.transform):
        with pytest.raises(ValueError, match="closed HDF5 file; open the file again"):
            call(dataset)
    np.testing.assert_array_equal(rbm.components_, before)


def _stack():
    return Stack([("rbm1", BernoulliRBM(10, n_iter=2, batch_size=10, random_state=0)),
                  ("rbm2", BernoulliRBM(5, n_iter=2, batch_size=10, random_state=1))])


def test_stack_trains_greedily_from_a_file_without_materialising(h5, data):
    a = _stack().fit(data)
    b = _stack().fit(h5["X"])  # one chunk: the in-memory result
    np.testing.assert_array_equal(a.transform(data), b.transform(data))
    X = Recorded(data)
    with chunk_bytes(100 * ROW_BYTES):
        c = _stack().fit(X)
    # every read of the source is a chunk, the upper layer's included
    assert all(isinstance(k, slice) and k.stop - k.start <= 100 for k in X.reads)
    assert np.abs(c.transform(data) - a.transform(data)).max() < 0.1


def test_transformed_rows_compute_when_read(data):
    rbm = _rbm().fit(data)
    rows = TransformedRows(data, [rbm])
    assert rows.shape == (N, 8)
    np.testing.assert_array_equal(rows[10:20], rbm.transform(data[10:20]))
    np.testing.assert_array_equal(np.asarray(rows), rbm.transform(data))


def test_stack_partial_fit_updates_every_layer_bottom_up(h5, data):
    stack = _stack().partial_fit(data)
    rbm1 = BernoulliRBM(10, n_iter=2, batch_size=10, random_state=0).partial_fit(data)
    rbm2 = BernoulliRBM(5, n_iter=2, batch_size=10, random_state=1).partial_fit(
        rbm1.transform(data))
    np.testing.assert_array_equal(stack.steps_[1][1].components_, rbm2.components_)
    stack.partial_fit(h5["X"])
    assert [s.n_iter_ for _, s in stack.steps_] == [2, 2]
    assert stack.score(data) == pytest.approx(rbm2.score(rbm1.transform(data)), abs=0.05)
    # a step without partial_fit: the stack has none either
    from sklearn.decomposition import PCA
    assert not hasattr(Stack([("pca", PCA(2))]), "partial_fit")


def test_stacked_autoencoder_from_a_file(h5, data):
    a = StackedAutoencoder((8, 4), max_iter=2, random_state=0).fit(data)
    b = StackedAutoencoder((8, 4), max_iter=2, random_state=0).fit(h5["X"])
    np.testing.assert_array_equal(a.transform(data), b.transform(data))
    c = StackedAutoencoder((8, 4), max_iter=2, random_state=0).partial_fit(data)
    c.partial_fit(h5["X"])
    assert c.n_iter_ == 2 and c.n_features_in_ == D


# -- sparse coding and the backprop networks


def _labels(data):
    # learnable from the rows: how many of the first two features are on
    return (data[:, 0] + data[:, 1]).astype(int)


def _sc(**kw):
    return SparseCoding(**{"n_components": 24, "alpha": 0.2, "batch_size": 10, "max_iter": 3,
                           "random_state": 0, **kw})


_NET = {"hidden_layer_sizes": (16,), "max_iter": 4, "learning_rate": 0.01,
        "batch_size": 10, "random_state": 0}


def _networks():
    """(model, its targets of ``data``) for each network."""
    return [
        (lambda **kw: FineTunedClassifier(**{**_NET, **kw}), _labels),
        (lambda **kw: FineTunedRegressor(**{**_NET, **kw}), lambda d: d[:, :3] @ [1.0, 2.0, 3.0]),
        (lambda **kw: DeepAutoencoder(**{**_NET, "hidden_layer_sizes": (12, 4), **kw}), None),
    ]


def _fit(model, call, X, y, data):
    args = () if y is None else (y(data),)
    kwargs = {"classes": [0, 1, 2]} if call == "partial_fit" and \
        isinstance(model, FineTunedClassifier) else {}
    return getattr(model, call)(X, *args, **kwargs)


def _learned(model):
    """Every learned array of ``model`` (lists of arrays flattened), copied."""
    out = {}
    for k, v in vars(model).items():
        if k.endswith("_") and isinstance(v, np.ndarray):
            out[k] = v.copy()
        elif k.endswith("_") and isinstance(v, list) and v and isinstance(v[0], np.ndarray):
            out.update({f"{k}[{i}]": a.copy() for i, a in enumerate(v)})
    return out


def _assert_same(a, b):
    la, lb = _learned(a), _learned(b)
    assert la.keys() == lb.keys()
    for k in la:
        np.testing.assert_array_equal(la[k], lb[k], err_msg=k)


def test_sparse_coding_one_chunk_trains_as_the_array_in_memory(h5, data):
    a = _sc().fit(data)
    b = _sc().fit(h5["X"])
    _assert_same(a, b)
    assert a.loss_curve_ == b.loss_curve_
    a.partial_fit(data)
    b.partial_fit(h5["X"])
    _assert_same(a, b)
    # a first partial_fit from the file: the in-memory first step
    _assert_same(_sc().partial_fit(data), _sc().partial_fit(h5["X"]))


def test_sparse_coding_learns_from_chunks_of_a_file(h5, data):
    X = Recorded(data)
    with chunk_bytes(95 * ROW_BYTES):  # 90 rows
        b = _sc().fit(X)
    # the initial atoms are rows read by index; every other read is a chunk
    assert all(k.stop - k.start <= 90 for k in X.reads if isinstance(k, slice))
    assert b.n_steps_ == 3 * (6 * 9 + 6)  # per pass: 6 chunks of 90 rows, one of 60
    a = _sc().fit(data)
    assert b.score(data) == pytest.approx(a.score(data), rel=0.05)
    with chunk_bytes(100 * ROW_BYTES):
        b.partial_fit(h5["X"])  # one online step per chunk, in order
    assert b.n_steps_ == 3 * 60 + 6
    # full batch codes every sample at once: the file is read whole
    _assert_same(_sc(batch_size=None).fit(data), _sc(batch_size=None).fit(h5["X"]))


@pytest.mark.parametrize("make, y", _networks())
def test_networks_one_chunk_train_as_the_array_in_memory(h5, data, make, y):
    a = _fit(make(), "fit", data, y, data)
    b = _fit(make(), "fit", h5["X"], y, data)
    _assert_same(a, b)
    assert a.loss_curve_ == b.loss_curve_
    _fit(a, "partial_fit", data, y, data)
    _fit(b, "partial_fit", h5["X"], y, data)
    _assert_same(a, b)
    _assert_same(_fit(make(), "partial_fit", data, y, data),
                 _fit(make(), "partial_fit", h5["X"], y, data))


@pytest.mark.parametrize("make, y", _networks())
def test_networks_learn_from_chunks_of_a_file_with_early_stopping(h5, data, make, y):
    kw = {"max_iter": 15, "early_stopping": True, "n_iter_no_change": 15}
    a = _fit(make(**kw), "fit", data, y, data)
    X = Recorded(data)
    with chunk_bytes(100 * ROW_BYTES):
        b = _fit(make(**kw), "fit", X, y, data)
    assert all(isinstance(k, slice) and k.stop - k.start <= 100 for k in X.reads)
    args = () if y is None else (y(data),)
    assert b.score(data, *args) == pytest.approx(a.score(data, *args), abs=0.1, rel=0.1)
    # the held-out rows are the last 60: the kept weights score them best
    held = () if y is None else (y(data)[-60:],)
    assert b.score(data[-60:], *held) == pytest.approx(b.best_validation_score_, rel=1e-5)
    assert len(b.validation_scores_) == b.n_iter_ == 15


def _with_nan(h5, data):
    bad = data.copy()
    bad[250, 3] = np.nan
    h5["bad"] = bad
    return h5["bad"]


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
@pytest.mark.parametrize("make, y", [*_networks(), (_sc, None)])
def test_networks_and_sparse_coding_name_a_bad_chunk_and_keep_the_model(h5, data, call,
                                                                         make, y):
    model = _fit(make(), "fit", data, y, data)
    before = _learned(model)
    message = rf"\.{call}: chunk 3 of 6 \(rows 200 to 299\) of X contains NaN or inf"
    with chunk_bytes(100 * ROW_BYTES), pytest.raises(ValueError, match=message):
        _fit(model, call, _with_nan(h5, data), y, data)
    for k, v in before.items():
        np.testing.assert_array_equal(_learned(model)[k], v, err_msg=k)
    assert _learned(model).keys() == before.keys()


def test_deep_autoencoder_refuses_a_chunk_outside_the_unit_interval(h5, data):
    model = DeepAutoencoder(**{**_NET, "hidden_layer_sizes": (12, 4)}).fit(data)
    before = _learned(model)
    bad = data.copy()
    bad[250, 3] = 2.0
    h5["bad"] = bad
    message = r"DeepAutoencoder\.fit: chunk 3 of 6 \(rows 200 to 299\) of X: .*\[0, 1\]"
    with chunk_bytes(100 * ROW_BYTES), pytest.raises(ValueError, match=message):
        model.fit(h5["bad"])
    for k, v in before.items():
        np.testing.assert_array_equal(_learned(model)[k], v, err_msg=k)


def test_networks_check_streamed_labels_and_width(h5, data):
    clf = FineTunedClassifier(**_NET)
    with pytest.raises(ValueError, match="y has 599 rows but X has 600"):
        clf.fit(h5["X"], _labels(data)[:-1])
    clf.fit(data, _labels(data))
    h5["narrow"] = data[:, :5]
    with pytest.raises(ValueError, match="X has 5 features, but the model was fitted on 20"):
        clf.partial_fit(h5["narrow"], _labels(data))


def test_network_pretrained_on_a_file_streams_it(data):
    X = Recorded(data)
    stack = Stack([("rbm", BernoulliRBM(8, n_iter=2, batch_size=10, random_state=0))])
    with chunk_bytes(100 * ROW_BYTES):
        clf = FineTunedClassifier(stack, max_iter=2, batch_size=10, random_state=0).fit(
            X, _labels(data))
    assert all(isinstance(k, slice) and k.stop - k.start <= 100 for k in X.reads)
    assert clf.pretrained_.steps_[0][1].n_features_in_ == D


def test_sparse_coding_transform_reads_a_file_a_chunk_at_a_time(h5, data):
    sc = _sc().fit(data)
    X = Recorded(data)
    with chunk_bytes(100 * ROW_BYTES):
        codes = sc.transform(X)
    assert all(isinstance(k, slice) and k.stop - k.start <= 100 for k in X.reads)
    np.testing.assert_allclose(codes, sc.transform(data), atol=1e-5)


# -- the DBN


def _dbn(**kw):
    return DBN(**{"hidden_layer_sizes": (10, 6), "n_iter": 3, "batch_size": 10,
                  "n_updown_iter": 2, "random_state": 0, **kw})


@pytest.mark.parametrize("top_method, updown_top_method",
                         [("cd", "cd"), ("pcd", "cd"), ("pcd", "pcd")])
@pytest.mark.parametrize("sizes", [(10, 6), (6,)], ids=["two-layers", "top-only"])
def test_dbn_one_chunk_trains_as_the_array_in_memory(tmp_path, h5, data, top_method,
                                                     updown_top_method, sizes):
    y = _labels(data)
    kw = {"top_method": top_method, "updown_top_method": updown_top_method,
          "hidden_layer_sizes": sizes}
    a = _dbn(**kw).fit(data, y)
    b = _dbn(**kw).fit(h5["X"], y)
    _assert_same(a, b)
    assert b.n_features_in_ == D and b.n_iter_ == 2
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=data.shape)
    mm[:] = data
    _assert_same(a, _dbn(**kw).fit(mm, y))
    # without labels: the greedy stack, then up-down on the data alone
    _assert_same(_dbn(hidden_layer_sizes=sizes).fit(data), _dbn(hidden_layer_sizes=sizes).fit(
        h5["X"]))


def test_dbn_streamed_inference_equals_in_memory(h5, data):
    y = _labels(data)
    dbn = _dbn().fit(data, y)
    # one chunk: the very computation of in-memory input
    np.testing.assert_array_equal(dbn.transform(h5["X"]), dbn.transform(data))
    X = Recorded(data)
    with chunk_bytes(100 * ROW_BYTES):
        # blocks of rows: BLAS may round a block differently
        np.testing.assert_allclose(dbn.transform(X), dbn.transform(data), rtol=1e-6)
        np.testing.assert_allclose(dbn.predict_proba(X), dbn.predict_proba(data), rtol=1e-5,
                                   atol=1e-7)
        np.testing.assert_array_equal(dbn.predict(X), dbn.predict(data))
        assert dbn.score(X, y) == dbn.score(data, y)
    assert X.reads and all(isinstance(k, slice) and k.stop - k.start <= 100 for k in X.reads)


def test_dbn_learns_from_chunks_without_materialising_the_penultimate_rows(data, monkeypatch):
    def materialised(self, dtype=None, copy=None):
        raise AssertionError("the penultimate rows were materialised")

    monkeypatch.setattr(TransformedRows, "__array__", materialised)
    y = _labels(data)
    kw = {"hidden_layer_sizes": (20, 30), "n_iter": 20, "top_method": "pcd",
          "top_learning_rate": 0.05}
    a = _dbn(**kw).fit(data, y)
    X = Recorded(data)
    with chunk_bytes(100 * ROW_BYTES):
        b = _dbn(**kw).fit(X, y)
    # every read is a chunk, but the persistent chains' rows (read by index)
    slices = [k for k in X.reads if isinstance(k, slice)]
    assert len(X.reads) - len(slices) == 1
    assert all(k.stop - k.start <= 100 for k in slices)
    # the last reads: the two up-down epochs, each its own order of the 6 chunks
    starts = [k.start for k in slices]
    updown = [starts[-12:-6], starts[-6:]]
    assert all(sorted(e) == list(range(0, N, 100)) for e in updown)
    assert updown[0] != updown[1]
    # in memory 0.80; the class prior 0.49
    assert b.score(data, y) == pytest.approx(a.score(data, y), abs=0.1)
    assert b.score(data, y) > 0.7


@pytest.mark.parametrize("sizes", [(10, 6), (6,)], ids=["two-layers", "top-only"])
@pytest.mark.parametrize("kind, message", [("nan", "NaN or inf"), ("range", r"\[0, 1\]")])
def test_dbn_names_a_bad_chunk_and_keeps_the_model(h5, data, sizes, kind, message):
    y = _labels(data)
    dbn = _dbn(hidden_layer_sizes=sizes).fit(data, y)
    before = _learned(dbn)
    with chunk_bytes(100 * ROW_BYTES), pytest.raises(
            ValueError, match=rf"chunk 3 of 6 \(rows 200 to 299\) of X.*{message}"):
        dbn.fit(_bad(h5, data, kind), y)
    _assert_same_arrays(_learned(dbn), before)
    with chunk_bytes(100 * ROW_BYTES), pytest.raises(
            ValueError, match=rf"DBN\.transform: chunk 3 of 6 \(rows 200 to 299\).*{message}"):
        dbn.transform(h5["bad"])


def _assert_same_arrays(got, expected):
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        np.testing.assert_array_equal(got[k], v, err_msg=k)


def test_dbn_checks_streamed_labels_width_and_closed_file(tmp_path, data):
    y = _labels(data)
    dbn = _dbn().fit(data, y)
    before = _learned(dbn)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        f["X"], f["narrow"] = data, data[:, :5]
        with pytest.raises(ValueError, match="y has 599 rows but X has 600"):
            dbn.fit(f["X"], y[:-1])
        for call in (dbn.transform, dbn.predict, dbn.predict_proba):
            with pytest.raises(ValueError, match="X has 5 features, but the model was fitted "
                                                 "on 20"):
                call(f["narrow"])
        dataset = f["X"]
    for call in (lambda X: dbn.fit(X, y), dbn.fit, dbn.transform, dbn.predict):
        with pytest.raises(ValueError, match="closed HDF5 file; open the file again"):
            call(dataset)
    _assert_same_arrays(_learned(dbn), before)
