"""The data sets a recipe can name, loaded through deepzoo's public loaders."""

from dataclasses import dataclass

import numpy as np

from ._schema import RecipeError, _check_table

__all__ = ["Split", "check_data_spec", "load_data"]

PREPROCESSING = ("binarize", "sample_binary", "center")


@dataclass
class Split:
    """Training and test arrays plus a sentence on what data was really used."""

    X_train: np.ndarray
    y_train: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray | None
    description: str
    image_shape: tuple


def _digits_shifted(params, seed):
    """scikit-learn's RBM example: 8x8 digits grown 5x by 1-pixel shifts."""
    from scipy.ndimage import shift
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data.reshape(-1, 8, 8)
    moved = [X] + [
        np.stack([shift(img, s, mode="constant") for img in X])
        for s in ((0, 1), (0, -1), (1, 0), (-1, 0))
    ]
    X = np.concatenate(moved).reshape(-1, 64)
    y = np.tile(digits.target, 5)
    X = (X - X.min(axis=0)) / np.maximum(X.max(axis=0) - X.min(axis=0), 1e-12)
    X_train, X_test, y_train, y_test = train_test_split(
        X.astype(np.float32), y, test_size=0.2, random_state=seed
    )
    return Split(X_train, y_train, X_test, y_test,
                 f"scikit-learn digits x5 by 1-pixel shifts ({len(X_train)} train / "
                 f"{len(X_test)} test, 80/20 split, min-max scaled)", (8, 8))


def _mnist(params, seed, data_home, download):
    from deepzoo.datasets import fetch_mnist

    test = fetch_mnist("test", data_home=data_home, download=download)
    try:
        train = fetch_mnist("train", data_home=data_home, download=download)
        what = "full MNIST (60,000 train / 10,000 test)"
    except FileNotFoundError:  # the full training set is absent: fall back, and say so
        train = fetch_mnist("train-5k", data_home=data_home, download=download)
        what = ("MNIST: only the 5,000-image training subset (train-5k) was available, "
                "not the paper's 60,000 training images; full 10,000-image test set")
    return Split(train.data, train.target, test.data, test.target, what, (28, 28))


def _mnist_5k(params, seed, data_home, download):
    from deepzoo.datasets import fetch_mnist

    train = fetch_mnist("train-5k", data_home=data_home, download=download)
    test = fetch_mnist("test", data_home=data_home, download=download)
    return Split(train.data, train.target, test.data, test.target,
                 "MNIST 5,000-image training subset / full 10,000-image test set", (28, 28))


def _fashion(params, seed, data_home, download):
    from deepzoo.datasets import fetch_fashion_mnist

    train = fetch_fashion_mnist("train", data_home=data_home, download=download)
    test = fetch_fashion_mnist("test", data_home=data_home, download=download)
    return Split(train.data, train.target, test.data, test.target,
                 "full Fashion-MNIST (60,000 train / 10,000 test)", (28, 28))


def _natural_patches(params, seed):
    from deepzoo.datasets import extract_natural_patches

    size, n_train, n_test = params["patch_size"], params["n_patches"], params["n_test_patches"]
    X = extract_natural_patches(n_train + n_test, size, images=params["images"],
                                whiten=params["whiten"], random_state=seed)
    return Split(X[:n_train], None, X[n_train:], None,
                 f"{n_train} + {n_test} {size}x{size} patches of "
                 f"{_PHOTOGRAPHS[params['images']]}"
                 f"{' (whitened)' if params['whiten'] else ''}",
                 (size, size))


# What the report says of each image set of extract_natural_patches.
_PHOTOGRAPHS = {
    "scikit-learn": "scikit-learn's 2 sample photographs",
    "scikit-image": "scikit-image's 9 sample photographs",
    "all": "the 11 sample photographs of scikit-learn and scikit-image",
}


_LOCAL = {"digits-shifted": _digits_shifted, "natural-patches": _natural_patches}
_FETCHED = {"mnist": _mnist, "mnist-5k": _mnist_5k, "fashion-mnist": _fashion}
DATASETS = tuple(sorted(_LOCAL) + sorted(_FETCHED))
# The data.params each data set takes, in the schema's form; every int is a
# count of at least 1.
_PARAMS = {
    "natural-patches": {
        "patch_size": (int, False, 16),
        "n_patches": (int, False, 50_000),
        "n_test_patches": (int, False, 5_000),
        "images": (str, False, "scikit-learn"),
        "whiten": (bool, False, True),
    },
}


def _data_params(spec):
    """``data.params`` checked against the data set's keys, with defaults."""
    schema = _PARAMS.get(spec["dataset"], {})
    params = _check_table(spec["params"], schema, "data.params")
    for key, (types, _, _) in schema.items():
        if types is int and params[key] < 1:
            raise RecipeError(f"data.params.{key} must be >= 1; got {params[key]}.")
    if "images" in params and params["images"] not in _PHOTOGRAPHS:
        raise RecipeError(f"data.params.images must be one of {tuple(_PHOTOGRAPHS)}; "
                          f"got {params['images']!r}.")
    return params


def check_data_spec(spec):
    """Raise ``RecipeError`` for an unknown data set, preprocessing step or
    data parameter."""
    if spec["dataset"] not in DATASETS:
        raise RecipeError(f"data.dataset must be one of {DATASETS}; got {spec['dataset']!r}.")
    _data_params(spec)
    for step in spec["preprocessing"]:
        if step not in PREPROCESSING:
            raise RecipeError(
                f"data.preprocessing: unknown step {step!r}; known: {PREPROCESSING}.")


def _sample_binary(split, seed):
    """Binarize stochastically, once: each pixel is 1 with probability equal
    to its grey level.

    This is the binarized MNIST of Salakhutdinov & Murray (2008) and of the
    density-estimation papers that report against them; thresholding at 0.5
    instead removes the grey edges' randomness (45.5 nats per MNIST test
    image), so likelihoods on thresholded digits are not comparable with
    theirs. One fixed draw, seeded by the recipe, keeps the data a fixed set:
    every model and both estimators see the same binary images.
    """
    for X in (split.X_train, split.X_test):
        if X.size and (X.min() < 0 or X.max() > 1):
            raise RecipeError(
                "data.preprocessing 'sample_binary' needs grey levels in [0, 1] "
                f"(got values in [{X.min():g}, {X.max():g}]); use 'binarize' for "
                "other data.")
    draw = np.random.default_rng([seed, 0x5B1])
    split.X_train = (draw.random(split.X_train.shape) < split.X_train).astype(split.X_train.dtype)
    split.X_test = (draw.random(split.X_test.shape) < split.X_test).astype(split.X_test.dtype)
    split.description += ("; binarized stochastically (each pixel 1 with probability "
                          "its grey level, one fixed draw)")


def load_data(spec, seed, data_home=None, download=False):
    """Load the data a recipe's ``[data]`` table names, shuffled and cut."""
    check_data_spec(spec)
    name = spec["dataset"]
    params = _data_params(spec)
    if name in _LOCAL:
        split = _LOCAL[name](params, seed)
    else:
        split = _FETCHED[name](params, seed, data_home, download)
    rng = np.random.default_rng(seed)
    # Training files may be ordered by label; every recipe trains on a shuffle.
    order = rng.permutation(len(split.X_train))
    split.X_train = split.X_train[order]
    if split.y_train is not None:
        split.y_train = split.y_train[order]
    if spec["n_train"]:
        if spec["n_train"] > len(split.X_train):
            raise RecipeError(f"data.n_train={spec['n_train']} exceeds the "
                              f"{len(split.X_train)} training samples available.")
        split.X_train = split.X_train[: spec["n_train"]]
        split.y_train = None if split.y_train is None else split.y_train[: spec["n_train"]]
        split.description += f"; first {spec['n_train']} shuffled training samples used"
    if spec["n_test"]:
        split.X_test = split.X_test[: spec["n_test"]]
        split.y_test = None if split.y_test is None else split.y_test[: spec["n_test"]]
        split.description += f"; first {spec['n_test']} test samples used"
    for step in spec["preprocessing"]:
        if step == "binarize":
            split.X_train = (split.X_train > 0.5).astype(split.X_train.dtype)
            split.X_test = (split.X_test > 0.5).astype(split.X_test.dtype)
            split.description += "; binarized at 0.5"
        elif step == "sample_binary":
            _sample_binary(split, seed)
        elif step == "center":
            mean = split.X_train.mean(axis=0)
            split.X_train = split.X_train - mean
            split.X_test = split.X_test - mean
            split.description += "; centred on the training mean"
    return split
