import zlib

import numpy as np
import pytest

from deepzoo.utils.images import save_png, tile_images


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
