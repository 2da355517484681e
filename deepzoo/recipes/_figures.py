"""What a recipe can draw: ``[evaluate] figures = [...]``, written as PNG."""

import numpy as np

from deepzoo.utils.images import save_png, tile_images

from ._metrics import fantasies, reconstruct
from ._schema import RecipeError

__all__ = ["FIGURES", "draw_figures", "first_layer_weights"]


def first_layer_weights(model):
    """Weights of the layer that sees the input, one filter per row."""
    if hasattr(model, "encoder_layers"):  # stacks and DBNs
        return model.encoder_layers()[0].weights
    if hasattr(model, "components_"):
        return model.components_
    if hasattr(model, "coefs_"):
        # deepzoo networks keep weights in the components layout (n_out, n_in).
        return model.coefs_[0]
    raise RecipeError(f"{type(model).__name__} has no first-layer weights to draw.")


def _save_grid(grid, path):
    # Grids of small images are blown up to at least 800 pixels across.
    save_png(grid, path, zoom=max(1, -(-800 // grid.shape[1])))


def _filters(model, split, params, path):
    W = first_layer_weights(model)[: params.get("n_filters", 100)]
    _save_grid(tile_images(W, split.image_shape), path)


def _samples(model, split, params, path):
    labels, samples = fantasies(model, params)
    # with label units: one row per class
    n_cols = None if labels is None else len(labels) // len(model.classes_)
    _save_grid(tile_images(samples, split.image_shape, scale_each=False, n_cols=n_cols), path)


def _reconstructions(model, split, params, path):
    X = split.X_test[: params.get("n_reconstructions", 20)]
    pairs = np.empty((2 * len(X), X.shape[1]))
    pairs[0::2], pairs[1::2] = X, reconstruct(model, X)
    _save_grid(tile_images(pairs, split.image_shape, n_cols=10, scale_each=False), path)


def _learning_curve(model, split, params, path):
    curve = None
    for attr in ("loss_curve_", "reconstruction_error_", "objective_"):
        if hasattr(model, attr):
            curve, label = np.asarray(getattr(model, attr), dtype=float), attr.rstrip("_")
            break
    if curve is None:
        raise RecipeError(f"{type(model).__name__} records no learning curve.")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    ax.plot(np.arange(1, len(curve) + 1), curve)
    ax.set_xlabel("epoch")
    ax.set_ylabel(label.replace("_", " "))
    ax.set_title(type(model).__name__)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


FIGURES = {
    "filters": _filters,
    "samples": _samples,
    "reconstructions": _reconstructions,
    "learning_curve": _learning_curve,
}


def draw_figures(model, split, evaluate, paths):
    """Draw every figure the recipe names to ``paths[name]``; return the file
    names written."""
    for name in evaluate["figures"]:
        FIGURES[name](model, split, evaluate["params"], paths[name])
    return [paths[name].name for name in evaluate["figures"]]
