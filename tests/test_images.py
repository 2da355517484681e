import zlib

import numpy as np
import pytest

from deepzoo.utils.images import grid_figure, save_png, tile_images


def test_tile_layout_and_scaling():
    images = np.array([[0, 1, 2, 3], [4, 4, 4, 4], [0, 0, 0, 9]], dtype=float)
    grid = tile_images(images, (2, 2), n_cols=2, padding=1)
    assert grid.shape == (5, 5)
    np.testing.assert_allclose(grid[:2, :2], [[0, 1 / 3], [2 / 3, 1]])
    np.testing.assert_array_equal(grid[:2, 3:], 0)  # constant tile
    np.testing.assert_array_equal(grid[3:, :2], [[0, 0], [0, 1]])
    assert np.all(grid[2, :] == 0) and np.all(grid[:, 2] == 0)


def test_png_decodes_to_the_pixels(tmp_path):
    a = np.array([[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]])
    save_png(a, tmp_path / "x.png")
    data = (tmp_path / "x.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (3, 2)
    idat_len = int.from_bytes(data[33:37], "big")
    raw = zlib.decompress(data[41:41 + idat_len])
    rows = np.frombuffer(raw, np.uint8).reshape(2, 4)
    assert np.all(rows[:, 0] == 0)  # filter byte: none
    np.testing.assert_array_equal(rows[:, 1:], [[0, 128, 255], [255, 0, 64]])


def test_png_rejects_3d(tmp_path):
    with pytest.raises(ValueError, match="2-D"):
        save_png(np.zeros((2, 2, 3)), tmp_path / "x.png")


def test_png_zoom_repeats_pixels(tmp_path):
    save_png(np.array([[0.0, 1.0]]), tmp_path / "z.png", zoom=3)
    data = (tmp_path / "z.png").read_bytes()
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (6, 3)
    raw = zlib.decompress(data[41:41 + int.from_bytes(data[33:37], "big")])
    np.testing.assert_array_equal(np.frombuffer(raw, np.uint8).reshape(3, 7)[:, 1:],
                                  [[0, 0, 0, 255, 255, 255]] * 3)


# -- recipe figures: titled with the run, axes labelled, subsets counted ----------


class _Split:
    image_shape = (8, 8)
    X_test = np.random.default_rng(0).random((30, 64))


class _Model:
    """The fitted attributes the recipe figures read."""

    def __init__(self, n_units):
        self.components_ = np.random.default_rng(1).normal(size=(n_units, 64))
        self.reconstruction_error_ = np.array([3.0, 2.5, 2.2])

    def transform(self, X):
        return X @ self.components_.T

    def inverse_transform(self, H):
        return H @ self.components_


def _titles(monkeypatch):
    from matplotlib.figure import Figure

    titles, save = {}, Figure.savefig

    def record(fig, path, **kw):
        titles[path.name] = [(ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]
        save(fig, path, **kw)

    monkeypatch.setattr(Figure, "savefig", record)
    return titles


@pytest.mark.parametrize("n_units, count", [(256, "100 of 256 units"), (49, "all 49 units")])
def test_recipe_figures_name_recipe_variant_and_the_units_shown(
    tmp_path, monkeypatch, n_units, count
):
    from deepzoo.recipes._figures import draw_figures

    titles = _titles(monkeypatch)
    out = tmp_path / "runs" / "rbm-logistic-digits" / "pretrain"
    out.mkdir(parents=True)
    figures = ["filters", "reconstructions", "learning_curve"]
    paths = {name: out / f"cd1-momentum-{name}.png" for name in figures}
    evaluate = {"figures": figures, "params": {}}
    written = draw_figures(_Model(n_units), _Split(), evaluate, paths,
                           title="rbm-logistic-digits / cd1-momentum")
    assert written == [p.name for p in paths.values()]
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name, path in paths.items():
        (title, *_), = titles[path.name]
        assert title.startswith("rbm-logistic-digits / cd1-momentum\n"), name
    (filters, _, _), = titles["cd1-momentum-filters.png"]
    assert f"filters, {count}" in filters
    (recon, _, _), = titles["cd1-momentum-reconstructions.png"]
    assert "20 test images, each followed by its reconstruction" in recon
    (_, xlabel, ylabel), = titles["cd1-momentum-learning_curve.png"]
    assert (xlabel, ylabel) == ("epoch", "training reconstruction error")


def test_grid_figure_draws_the_grid_under_its_title():
    grid = tile_images(np.eye(4), (2, 2), n_cols=2)
    fig = grid_figure(grid, "a\nb")
    (ax,) = fig.axes
    assert ax.get_title() == "a\nb" and not ax.axison
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), grid)
    with pytest.raises(ValueError, match="2-D"):
        grid_figure(np.zeros(3), "t")
