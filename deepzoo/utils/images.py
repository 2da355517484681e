"""Image grids of filters, bases and samples, written as PNG.

A few dozen lines of zlib instead of a plotting dependency: the figures
deepzoo makes are tiles of small grey images. :func:`grid_figure` puts a
grid under a title, with matplotlib (the ``figures`` extra).
"""

import os
import struct
import zlib

import numpy as np

__all__ = ["tile_images", "save_png", "grid_figure"]


def tile_images(images, image_shape, n_cols=None, padding=1, scale_each=True):
    """Arrange flattened images in a grid, each scaled to [0, 1].

    Parameters
    ----------
    images : array-like of shape (n_images, height * width)
        One flattened image per row (filters are ``components_`` rows).
    image_shape : (int, int)
        ``(height, width)`` of one image.
    n_cols : int, optional
        Columns of the grid; default: as square as possible.
    padding : int
        Pixels between tiles (drawn black).
    scale_each : bool
        Scale every tile to its own [min, max] (right for filters); when
        False, the whole grid shares one scale (right for samples in [0, 1]).

    Returns
    -------
    grid : ndarray of float64 in [0, 1]

    Examples
    --------
    >>> tile_images(np.eye(4), (2, 2), n_cols=2).shape
    (5, 5)
    """
    images = np.asarray(images, dtype=np.float64)
    h, w = image_shape
    n = images.shape[0]
    n_cols = n_cols or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_cols))
    grid = np.zeros((n_rows * (h + padding) - padding, n_cols * (w + padding) - padding))
    if not scale_each:
        lo, hi = images.min(), images.max()
    for i, img in enumerate(images):
        if scale_each:
            lo, hi = img.min(), img.max()
        tile = (img.reshape(h, w) - lo) / (hi - lo) if hi > lo else np.zeros((h, w))
        r, c = divmod(i, n_cols)
        grid[r * (h + padding): r * (h + padding) + h, c * (w + padding): c * (w + padding) + w] = tile
    return grid


def save_png(array, path, zoom=1):
    """Write a 2-D array of values in [0, 1] as an 8-bit greyscale PNG.

    Parameters
    ----------
    array : array-like of shape (height, width)
    path : str or os.PathLike
    zoom : int
        Each pixel becomes a ``zoom x zoom`` block (tiles of 8x8 digits are
        too small to look at otherwise).
    """
    a = np.asarray(array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"save_png expects a 2-D array; got shape {a.shape}.")
    if zoom > 1:
        a = np.repeat(np.repeat(a, zoom, axis=0), zoom, axis=1)
    pixels = np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 8, 0, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(os.fspath(path), "wb") as f:
        f.write(png)


def grid_figure(grid, title, width=8.0):
    """A titled matplotlib figure of a grid made by :func:`tile_images`.

    The grid is drawn pixel for pixel in grey (0 black, 1 white), without
    axes: its rows and columns are tiles, not quantities.

    Parameters
    ----------
    grid : array-like of shape (height, width), values in [0, 1]
    title : str
        Drawn above the grid; may hold line breaks.
    width : float
        Width of the figure in inches (100 pixels each).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Not registered with pyplot: save it with ``figure.savefig(path)``;
        it is freed when no longer referenced.
    """
    from matplotlib.figure import Figure

    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 2:
        raise ValueError(f"grid_figure expects a 2-D array; got shape {grid.shape}.")
    n_lines = title.count("\n") + 1
    title_inches = 0.25 * n_lines + 0.2
    height = width * grid.shape[0] / grid.shape[1]
    fig = Figure(figsize=(width, height + title_inches), dpi=100)
    ax = fig.add_axes((0, 0, 1, height / (height + title_inches)))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    return fig
