"""What a recipe can draw: ``[evaluate] figures = [...]``, written as PNG.

Each figure is titled with the recipe and variant it shows, then what it
shows (and how much of it: a filter grid says "100 of 256 units").
"""

import numpy as np

from deepzoo.utils.images import grid_figure, tile_images

from ._metrics import fantasies, first_layer_filters, first_layer_weights, reconstruct
from ._schema import RecipeError

__all__ = ["FIGURES", "draw_figures", "first_layer_filters", "first_layer_weights",
           "second_layer_bases"]


def _filters(model, split, params, title):
    W, shape = first_layer_filters(model, split.image_shape)
    shown = W[: params.get("n_filters", 100)]
    count = (f"all {len(W)} units" if len(shown) == len(W)
             else f"{len(shown)} of {len(W)} units (the first)")
    grid = tile_images(shown, shape)
    return grid_figure(grid, f"{title}\n{type(model).__name__} first-layer filters, {count}")


def second_layer_bases(model):
    """``(bases, shape)``: the second layer's filters of a convolutional
    DBN on grey images, projected to pixels as Lee et al. (2009) show them
    (Fig. 2): each weight of a second-layer filter, on one pooling unit of
    a first-layer map, spreads evenly over the block's detection units, each
    of which draws its first-layer filter. One basis per row, ``shape`` its
    ``(height, width)``."""
    steps = getattr(model, "steps_", None)
    if not steps or len(steps) < 2 or not hasattr(steps[1][1], "filters_"):
        raise RecipeError(f"{type(model).__name__} has no second convolutional layer to "
                          "project (second_layer_filters needs a ConvolutionalDBN of two "
                          "or more layers).")
    first, second = steps[0][1], steps[1][1]
    W1 = first.filters_.astype(np.float64)
    if W1.shape[3] != 1:
        raise RecipeError("second_layer_filters projects onto grey images; the first layer "
                          f"has {W1.shape[3]} channels.")
    ph, pw = first.pool_shape if isinstance(first.pool_shape, (tuple, list)) \
        else (first.pool_shape,) * 2
    W2 = second.filters_.astype(np.float64)  # (K2, f2h, f2w, K1)
    # every pooling unit's weight, shared by the detection units of its block
    spread = np.repeat(np.repeat(W2, ph, axis=1), pw, axis=2) / (ph * pw)
    n, uh, uw, _ = spread.shape
    fh, fw = W1.shape[1:3]
    bases = np.zeros((n, uh + fh - 1, uw + fw - 1))
    for i in range(uh):
        for j in range(uw):
            bases[:, i:i + fh, j:j + fw] += np.einsum("kc,chw->khw", spread[:, i, j],
                                                      W1[..., 0])
    return bases.reshape(n, -1), bases.shape[1:]


def _second_layer_filters(model, split, params, title):
    bases, shape = second_layer_bases(model)
    shown = bases[: params.get("n_filters", 100)]
    count = (f"all {len(bases)}" if len(shown) == len(bases)
             else f"{len(shown)} of {len(bases)} (the first)")
    grid = tile_images(shown, shape)
    return grid_figure(grid, f"{title}\n{type(model).__name__} second-layer filters, {count}, "
                             "projected onto the first layer's filters")


def _samples(model, split, params, title):
    labels, samples = fantasies(model, params)
    what = f"{len(samples)} fantasies of {type(model).__name__}"
    n_cols = None
    if labels is not None:
        n_cols = len(labels) // len(model.classes_)
        what += f", one row per clamped label ({', '.join(map(str, model.classes_))})"
    grid = tile_images(samples, split.image_shape, scale_each=False, n_cols=n_cols)
    return grid_figure(grid, f"{title}\n{what}")


def _reconstructions(model, split, params, title):
    X = split.X_test[: params.get("n_reconstructions", 20)]
    pairs = np.empty((2 * len(X), X.shape[1]))
    pairs[0::2], pairs[1::2] = X, reconstruct(model, X)
    grid = tile_images(pairs, split.image_shape, n_cols=10, scale_each=False)
    return grid_figure(grid, f"{title}\n{len(X)} test images, each followed by its "
                             f"reconstruction by {type(model).__name__}")


def _learning_curve(model, split, params, title):
    curve = None
    for attr in ("loss_curve_", "reconstruction_error_", "objective_"):
        if hasattr(model, attr):
            curve, label = np.asarray(getattr(model, attr), dtype=float), attr.rstrip("_")
            break
    if curve is None:
        raise RecipeError(f"{type(model).__name__} records no learning curve.")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.8), dpi=100)
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(curve) + 1), curve)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"training {label.replace('_', ' ')}")
    ax.set_title(f"{title}\n{type(model).__name__} learning curve", fontsize=11)
    fig.tight_layout()
    return fig


FIGURES = {
    "filters": _filters,
    "second_layer_filters": _second_layer_filters,
    "samples": _samples,
    "reconstructions": _reconstructions,
    "learning_curve": _learning_curve,
}


FIGURES_SKIPPED = ("figures: matplotlib is not installed, so this run writes the models, "
                   "numbers and report without figures (pip install 'deepzoo[figures]' "
                   "to draw them)")


def can_draw():
    """Whether matplotlib, the optional dependency behind every figure, is importable."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw_figures(model, split, evaluate, paths, title):
    """Draw every figure the recipe names to ``paths[name]``; return the file
    names written.

    ``title``, the first line of every figure's title, says which run the
    figure belongs to (``"rbm-logistic-digits / cd1-momentum"``).
    """
    for name in evaluate["figures"]:
        FIGURES[name](model, split, evaluate["params"], title).savefig(paths[name])
    return [paths[name].name for name in evaluate["figures"]]
