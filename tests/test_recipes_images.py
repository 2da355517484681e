"""The natural-image recipes, scaled down, and the gabor measure."""

import json

import numpy as np
import pytest

from deepzoo import ConvolutionalRBM, SparseCoding, recipes
from deepzoo.recipes._data import Split, load_data
from deepzoo.recipes._metrics import MEASURES, first_layer_filters
from deepzoo.recipes._schema import RecipeError
from deepzoo.utils.gabor import gabor

from .test_recipes import ROOT


def _split(shape):
    X = np.zeros((2, int(np.prod(shape))))
    return Split(X, None, X, None, "", shape)


def test_gabor_measure_counts_gabor_filters_and_not_noise():
    rng = np.random.default_rng(0)
    size = 10
    gabors = [gabor([1, rng.uniform(3.5, 5.5), rng.uniform(3.5, 5.5), rng.uniform(0, np.pi),
                     rng.uniform(0.1, 0.3), rng.uniform(0, 6), 1.8, 2.4, 0], (size, size))
              for _ in range(6)]
    noise = rng.standard_normal((2, size, size))
    filters = np.concatenate([np.stack(gabors), noise])
    # a sparse-coding model: its components are the filters
    sc = SparseCoding(n_components=8)
    sc.components_ = filters.reshape(8, -1)
    out = MEASURES["gabor"](sc, _split((size, size)), {})
    assert out["gabor_share"] == pytest.approx(6 / 8)
    assert out["gabor_filters_fitted"] == 8
    assert out["random_gabor_share"] <= 1 / 8 and out["random_gabor_median_r2"] < 0.5
    assert MEASURES["gabor"](sc, _split((size, size)), {"gabor_filters": 3})[
        "gabor_share"] == 1.0
    # a convolutional RBM: its filters_, whatever the image size
    crbm = ConvolutionalRBM(8, filter_shape=size)
    crbm.filters_ = filters[..., None]
    assert MEASURES["gabor"](crbm, _split((28, 28)), {})["gabor_share"] == pytest.approx(6 / 8)
    W, shape = first_layer_filters(crbm, (28, 28))
    assert shape == (size, size) and np.array_equal(W, filters.reshape(8, -1))
    crbm.filters_ = np.zeros((2, 3, 3, 2))
    with pytest.raises(RecipeError, match="single-channel"):
        MEASURES["gabor"](crbm, _split((8, 8, 2)), {})


def test_natural_image_data_sets_in_recipes():
    spec = {"dataset": "natural-patches", "n_train": 0, "n_test": 0, "preprocessing": [],
            "params": {"patch_size": 8, "n_patches": 50, "n_test_patches": 10, "images": "all"}}
    split = load_data(spec, 0)
    assert split.X_train.shape == (50, 64) and split.X_test.shape == (10, 64)
    assert "the 11 sample photographs of scikit-learn and scikit-image" in split.description
    spec["params"]["images"] = "kodak"
    with pytest.raises(RecipeError, match="data.params.images must be one of"):
        load_data(spec, 0)


def test_crbm_natural_images_recipe_runs_scaled_down(tmp_path):
    text = (ROOT / "pretrain" / "crbm-natural-images.toml").read_text()
    text = (text.replace("patch_size = 32, n_patches = 5000, n_test_patches = 500",
                         "patch_size = 16, n_patches = 200, n_test_patches = 20")
            .replace("image_shape = [32, 32]", "image_shape = [16, 16]")
            .replace("n_filters = 24, filter_shape = 10", "n_filters = 6, filter_shape = 8")
            .replace("n_iter = 15", "n_iter = 2"))
    path = tmp_path / "crbm.toml"
    path.write_text(text)
    summary = recipes.run_recipe(path, runs_dir=tmp_path / "runs")
    metrics = summary["variants"]["main"]
    out = tmp_path / "runs" / "crbm-natural-images" / "pretrain"
    assert (out / "main-filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert metrics["gabor_filters_fitted"] == 6
    assert 0 <= metrics["gabor_share"] <= 1 and 0 <= metrics["random_gabor_share"] <= 1
    report = (out / "report.md").read_text()
    assert "gabor_share" in report
    assert json.loads((out / "metrics.json").read_text())["variants"]["main"][
        "gabor_share"] == metrics["gabor_share"]


def test_second_layer_bases_are_the_first_layer_filters_weighted():
    from deepzoo import ConvolutionalDBN
    from deepzoo.recipes._figures import FIGURES, second_layer_bases

    from . import naive

    rng = np.random.default_rng(5)
    X = (rng.random((6, 14, 14)) < 0.3).astype(float)
    cdbn = ConvolutionalDBN((3, 4), filter_shape=[(3, 2), (3, 2)], pool_shape=[(2, 3), 1],
                            n_iter=1, random_state=0).fit(X)
    W1, W2 = cdbn.steps_[0][1].filters_, cdbn.steps_[1][1].filters_
    bases, shape = second_layer_bases(cdbn)
    # a pooling unit's weight spread over its 2x3 block of detection units,
    # which the first layer's filters draw: its full convolution (p(v | h)'s input)
    spread = np.repeat(np.repeat(W2, 2, axis=1), 3, axis=2) / 6
    expected = naive.crbm_visible_input(spread, W1)[..., 0]
    assert shape == expected.shape[1:] == (3 * 2 + 2, 2 * 3 + 1)
    np.testing.assert_allclose(bases.reshape(4, *shape), expected, rtol=1e-12, atol=1e-12)
    fig = FIGURES["second_layer_filters"](cdbn, _split((14, 14)), {}, "t")
    assert "second-layer filters, all 4" in fig.axes[0].get_title()
    with pytest.raises(RecipeError, match="no second convolutional layer"):
        second_layer_bases(cdbn.steps_[0][1])
