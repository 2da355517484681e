"""The generic greedy stack: Pipeline semantics, contract reading, down-pass."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from deepzoo import Stack
from deepzoo._nn.activations import activate, encode
from deepzoo.io import load, save
from deepzoo.stacks import decode, encoder_layer

# Layers trained for a couple of epochs only: their max_iter warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class ContractLayer(TransformerMixin, BaseEstimator):
    """Minimal deepzoo-contract layer: a fixed random sigmoid encoder.

    ``fit`` records the data it saw (to check the greedy data flow) and
    draws weights scaled by the data, so a refit on other data differs.
    """

    def __init__(self, n_components=3, untied=False, hidden_activation="sigmoid",
                 random_state=0):
        self.n_components = n_components
        self.untied = untied
        self.hidden_activation = hidden_activation
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.asarray(X)
        rng = np.random.default_rng(self.random_state)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        d = X.shape[1]
        self.components_ = rng.normal(size=(self.n_components, d)).astype(dtype)
        self.intercept_hidden_ = rng.normal(size=self.n_components).astype(dtype)
        self.intercept_visible_ = X.mean(axis=0).astype(dtype)
        if self.untied:
            self.decoder_components_ = rng.normal(size=(self.n_components, d)).astype(dtype)
        self.hidden_activation_ = self.hidden_activation
        self.visible_activation_ = "sigmoid"
        self.n_features_in_ = d
        self.fit_input_ = X.copy()
        return self

    def transform(self, X):
        return encode(np.asarray(X), self.components_, self.intercept_hidden_,
                      self.hidden_activation_)


def _data(dtype=np.float64, n=40, d=8):
    return np.random.default_rng(0).random((n, d)).astype(dtype)


def test_each_step_trains_on_previous_transform():
    X = _data()
    stack = Stack([("a", ContractLayer(5)), ("b", ContractLayer(3, random_state=1))])
    stack.fit(X)
    a, b = (est for _, est in stack.steps_)
    np.testing.assert_array_equal(a.fit_input_, X)
    np.testing.assert_array_equal(b.fit_input_, a.transform(X))
    np.testing.assert_array_equal(stack.transform(X), b.transform(a.transform(X)))
    assert stack.n_features_in_ == 8


def test_user_steps_are_not_mutated():
    steps = [("a", ContractLayer(5)), ("b", ContractLayer(3))]
    stack = Stack(steps).fit(_data())
    for _, step in steps:
        assert not hasattr(step, "components_")
    assert stack.steps_[0][1] is not steps[0][1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    X = _data(dtype)
    stack = Stack([("a", ContractLayer(5)), ("b", ContractLayer(3))]).fit(X)
    assert stack.transform(X).dtype == dtype
    assert stack.inverse_transform(stack.transform(X)).dtype == dtype


def test_matches_pipeline_with_sklearn_transformers():
    X = _data()
    steps = [("scale", StandardScaler()), ("pca", PCA(n_components=3))]
    stack = Stack(steps).fit(X)
    pipe = Pipeline([(name, clone(step)) for name, step in steps]).fit(X)
    np.testing.assert_array_equal(stack.transform(X), pipe.transform(X))
    np.testing.assert_allclose(
        stack.inverse_transform(stack.transform(X)),
        pipe.inverse_transform(pipe.transform(X)))


def test_nested_params_and_step_replacement():
    stack = Stack([("a", ContractLayer(5)), ("b", ContractLayer(3))])
    params = stack.get_params()
    assert params["b__n_components"] == 3 and params["a"] is stack.steps[0][1]
    stack.set_params(b__n_components=2)
    assert stack.fit(_data()).transform(_data()).shape == (40, 2)
    stack.set_params(b=PCA(n_components=1))
    assert stack.fit(_data()).transform(_data()).shape == (40, 1)


def test_grid_search_over_nested_stack_parameter():
    rng = np.random.default_rng(0)
    X = rng.random((90, 6))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    pipe = Pipeline([
        ("stack", Stack([("scale", MinMaxScaler()), ("pca", PCA(n_components=1))])),
        ("clf", LogisticRegression()),
    ])
    search = GridSearchCV(pipe, {"stack__pca__n_components": [1, 4]}, cv=3).fit(X, y)
    assert search.best_params_ == {"stack__pca__n_components": 4}
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_down_pass_uses_contract_decoder():
    X = _data()
    stack = Stack([("a", ContractLayer(5, untied=True)), ("b", ContractLayer(3))]).fit(X)
    a, b = (est for _, est in stack.steps_)
    H = stack.transform(X)
    Hb = H @ b.components_ + b.intercept_visible_
    Xa = activate("sigmoid", activate("sigmoid", Hb) @ a.decoder_components_
                  + a.intercept_visible_)
    np.testing.assert_allclose(stack.inverse_transform(H), Xa, rtol=1e-12)
    layer = encoder_layer(a)
    assert layer.decoder_weights.flags.c_contiguous
    assert layer.decoder_weights.shape == (8, 5)
    np.testing.assert_allclose(
        decode(a.transform(X), layer),
        activate("sigmoid", a.transform(X) @ a.decoder_components_ + a.intercept_visible_),
        rtol=1e-12)


def test_encoder_layers_reads_only_contract():
    stack = Stack([("a", ContractLayer(5)), ("b", ContractLayer(3))]).fit(_data())
    layers = stack.encoder_layers()
    assert [layer.weights.shape for layer in layers] == [(5, 8), (3, 5)]
    assert layers[0].activation == "sigmoid"


def test_non_contract_step_cannot_be_unrolled():
    stack = Stack([("scale", StandardScaler())]).fit(_data())
    with pytest.raises(TypeError, match="encoder-layer contract"):
        stack.encoder_layers()


@pytest.mark.parametrize(
    "steps, match",
    [([], "non-empty list"),
     ([("a", ContractLayer()), ("a", ContractLayer())], "unique"),
     ([("a__b", ContractLayer())], "reserved"),
     ([("a", LogisticRegression())], "fit and transform")],
)
def test_bad_steps(steps, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Stack(steps).fit(_data())


def test_hdf5_round_trip(tmp_path):
    X = _data()
    # Only deepzoo and scikit-learn classes are rebuilt on load.
    stack = Stack([("scale", StandardScaler()), ("pca", PCA(n_components=2))]).fit(X)
    save(stack, tmp_path / "s.h5")
    loaded = load(tmp_path / "s.h5")
    np.testing.assert_array_equal(loaded.transform(X), stack.transform(X))


def test_verbose(capsys):
    Stack([("a", ContractLayer(2))], verbose=True).fit(_data())
    assert capsys.readouterr().out.startswith("[Stack] Iteration 1, a output width = 2")


# ---------------------------------------------------------------- StackedAutoencoder


def test_stacked_autoencoder_layers_and_greedy_flow():
    from deepzoo import Autoencoder, DenoisingAutoencoder, StackedAutoencoder

    X = load_digits().data[:200] / 16
    sae = StackedAutoencoder(hidden_layer_sizes=(12, 6, 3), corruption_level=[0.1, 0.0, 0.3],
                             max_iter=2, random_state=0).fit(X)
    kinds = [type(layer) for _, layer in sae.steps_]
    assert kinds == [DenoisingAutoencoder, Autoencoder, DenoisingAutoencoder]
    assert [layer.corruption_level for _, layer in sae.steps_ if hasattr(layer, "corruption")] \
        == [0.1, 0.3]
    H = X
    for _, layer in sae.steps_:
        H = layer.transform(H)
    np.testing.assert_array_equal(sae.transform(X), H)
    assert [layer.weights.shape for layer in sae.encoder_layers()] == [(12, 64), (6, 12), (3, 6)]
    with pytest.raises(ValueError, match="one per layer"):
        StackedAutoencoder(hidden_layer_sizes=(4, 2), corruption_level=[0.1, 0.2, 0.3]).fit(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_networks_unroll_stacked_autoencoder_exactly(dtype):
    from deepzoo import DeepAutoencoder, FineTunedClassifier, StackedAutoencoder

    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype(dtype)
    sae = StackedAutoencoder(hidden_layer_sizes=(16, 8), corruption_level=0.25, max_iter=2,
                             tied_weights=False, random_state=0).fit(X)
    clf = FineTunedClassifier(sae, max_iter=1, top_only_iter=1, random_state=0).fit(X, y[:300])
    np.testing.assert_array_equal(clf.transform(X), sae.transform(X))
    ae = DeepAutoencoder(sae, max_iter=0).fit(X)
    assert ae.reconstruct(X).dtype == dtype
    np.testing.assert_array_equal(ae.reconstruct(X), sae.inverse_transform(sae.transform(X)))
