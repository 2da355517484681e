"""What a recipe can measure: ``[evaluate] metrics = [...]``.

Each measure takes the fitted model, the data split and the recipe's
``[evaluate.params]`` and returns named numbers for ``metrics.json``.
"""

import time

import numpy as np
from scipy.stats import kurtosis
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from ._schema import RecipeError

__all__ = ["BASELINES", "MEASURES", "fantasies", "first_layer_filters", "first_layer_weights",
           "measure", "measure_baselines", "reconstruct"]


def _accuracy(model, split, params):
    if not hasattr(model, "predict"):
        return {}  # e.g. a DBN fitted without label units: nothing to classify with
    acc = float(np.mean(model.predict(split.X_test) == split.y_test))
    return {"test_accuracy": acc, "test_error": 1 - acc}


def _fit_one_thread(clf, features, y):
    from deepzoo.utils._threads import blas_single_thread

    # The classifiers' products are small (10 classes): two BLAS threads on
    # two busy cores made the digits measure 11x slower (lbfgs, C = 6000,
    # 7188 x 100 RBM features: 128 s against 11 s under the same load).
    with blas_single_thread():
        return clf.fit(features, y)


def _fit_logistic(features, y, params, prefix):
    clf = LogisticRegression(C=params.get(f"{prefix}C", 1.0),
                             solver=params.get("logistic_solver", "lbfgs"),
                             tol=params.get("logistic_tol", 1e-4),
                             max_iter=params.get("logistic_max_iter", 1000))
    return _fit_one_thread(clf, features, y)


def _fit_linear_svm(features, y, params, prefix):
    # liblinear's dual coordinate descent: on cdbn-mnist's 6,400 features
    # (validation split of the training set) it erred on 1.11% where the
    # primal Newton solver on standardized features, in 12 minutes, erred
    # on 1.18%.
    clf = LinearSVC(C=params.get(f"{prefix}C", 1.0), dual=True,
                    tol=params.get(f"{prefix}tol", 1e-4),
                    max_iter=params.get(f"{prefix}max_iter", 3000),
                    # its coordinate order is random: seeded, so that a
                    # saved model recomputes the reported number
                    random_state=params.get(f"{prefix}random_state", 0))
    return _fit_one_thread(clf, features, y)


def _scored(fit, features_train, features_test, split, params, prefix):
    clf = fit(features_train, split.y_train, params, prefix)
    acc = float(np.mean(clf.predict(features_test) == split.y_test))
    return {f"{prefix}test_accuracy": acc, f"{prefix}test_error": 1 - acc}


def _logistic_accuracy(model, split, params):
    """Logistic regression on the model's features (the RBM example's protocol)."""
    return _scored(_fit_logistic, model.transform(split.X_train), model.transform(split.X_test),
                   split, params, "logistic_")


def _linear_svm_accuracy(model, split, params):
    """A linear SVM (squared hinge loss, one-vs-rest) on the model's
    features: Lee et al. (2009)'s classifier of CDBN features."""
    return _scored(_fit_linear_svm, model.transform(split.X_train),
                   model.transform(split.X_test), split, params, "linear_svm_")


def _raw_logistic_accuracy(split, params):
    """The same logistic regression on raw inputs: the baseline features must
    beat. The same fit judges fantasies (:func:`_judge`), so a recipe that
    measures both fits it once."""
    _, acc = _judge(split, params, "independent_")
    return {"raw_logistic_test_accuracy": acc, "raw_logistic_test_error": 1 - acc}


def reconstruct(model, X):
    """The model's reconstruction of ``X`` (decoder of its code)."""
    if hasattr(model, "inverse_transform") and hasattr(model, "transform"):
        return model.inverse_transform(model.transform(X))
    if hasattr(model, "predict"):
        return model.predict(X)
    raise RecipeError(f"{type(model).__name__} cannot reconstruct its input.")


def fantasies(model, params):
    """``(labels, samples)``: ``model.sample`` with ``params["n_samples"]``
    (default 100) chains of ``params["n_gibbs_steps"]`` steps (default: the
    model's), from seed 0. A model with label units imagines each class in
    turn, the same number of times (``labels`` is None otherwise)."""
    n = params.get("n_samples", 100)
    options = {"random_state": 0}
    if "n_gibbs_steps" in params:
        options["n_steps"] = params["n_gibbs_steps"]
    classes = getattr(model, "classes_", None)
    if classes is not None:
        options["labels"] = np.repeat(classes, max(1, n // len(classes)))
        n = len(options["labels"])
    return options.get("labels"), model.sample(n, **options)


# The independent judges of fantasies, by prefix of their measures: the
# raw-pixel logistic regression of ``raw_logistic_accuracy`` (Hinton et
# al.'s kind of test), and three nearest neighbours, whose own errors on real
# digits are a third of the logistic regression's on MNIST (2.8% against
# 7.5%), so that it marks fewer well-drawn fantasies wrong.
_JUDGE_FITS = {
    "independent_": lambda split, params: _fit_logistic(split.X_train, split.y_train, params,
                                                       "raw_logistic_"),
    "knn_": lambda split, params: KNeighborsClassifier(n_neighbors=3).fit(split.X_train,
                                                                          split.y_train),
}

# The judges, fitted once per data split: prefix -> (the training images
# they were fitted on, the classifier, its accuracy on the test images).
_JUDGES = {}


def _judge(split, params, prefix):
    """The independent judge ``prefix`` of :data:`_JUDGE_FITS`, fitted on
    the training images' pixels, and its accuracy on the test images.
    Fitted once for the variants of a run."""
    cached = _JUDGES.get(prefix)
    if cached is None or cached[0] is not split.X_train:
        clf = _JUDGE_FITS[prefix](split, params)
        accuracy = float(np.mean(clf.predict(split.X_test) == split.y_test))
        _JUDGES[prefix] = cached = (split.X_train, clf, accuracy)
    return cached[1:]


def _fantasy_agreement(model, split, params):
    """Hinton, Osindero & Teh (2006), figure 8: with a label clamped, the
    generative model should imagine that class. The share of fantasies that
    the model itself classifies as their clamped label (chance: 1 /
    classes), and, with labelled training data, the share that each of two
    independent classifiers of the training images' pixels gives their
    clamped label, the paper's test (see :func:`_judge`), beside the judge's
    own accuracy on the test images: the ceiling of its agreement.
    ``n_fantasies`` (default ``n_samples``) sets how many, apart from the
    figure's."""
    if getattr(model, "classes_", None) is None or not hasattr(model, "predict"):
        return {}
    labels, samples = fantasies(model, {**params, "n_samples": params.get(
        "n_fantasies", params.get("n_samples", 100))})
    judges = {"": model}
    out = {}
    if split is not None and split.y_train is not None:
        for prefix in _JUDGE_FITS:
            judges[prefix], out[f"fantasy_{prefix}judge_test_accuracy"] = _judge(
                split, params, prefix)
    for prefix, judge in judges.items():
        hits = judge.predict(samples) == labels
        per_class = [float(hits[labels == c].mean()) for c in model.classes_]
        out[f"fantasy_{prefix}label_agreement"] = float(hits.mean())
        out[f"fantasy_{prefix}worst_class_agreement"] = min(per_class)
    return out


def _squared_error(X, X_hat):
    return float(np.mean(np.sum((np.asarray(X, np.float64) - X_hat) ** 2, axis=1)))


def _reconstruction_error(model, split, params):
    """Average over test images of the summed squared pixel error (Hinton &
    Salakhutdinov 2006)."""
    return {"test_squared_error": _squared_error(split.X_test, reconstruct(model, split.X_test))}


def _pca_reconstruction_error(split, params):
    """The same error for PCA with as many components as the code."""
    n_code = params["pca_components"]
    pca = PCA(n_components=n_code, random_state=0).fit(split.X_train)
    error = _squared_error(split.X_test, pca.inverse_transform(pca.transform(split.X_test)))
    return {"pca_test_squared_error": error, "pca_components": n_code}


def _base_rate(split, params):
    """The base-rate model of AIS and RAISE: the training pixels' means with
    ``base_rate_pseudocount`` pseudo-counts (half on, half off)."""
    pseudo = params.get("base_rate_pseudocount", 5.0)
    return (split.X_train.sum(axis=0) + pseudo / 2) / (len(split.X_train) + pseudo)


def _annealing_moves(params, estimator):
    """The Markov moves per temperature of AIS or RAISE (``estimator``):
    ``<estimator>_sweeps`` Gibbs sweeps (default 1, the paper's) and
    ``<estimator>_tempered`` tempered transitions at every
    ``tempered_every``-th temperature (default 0: none; see
    :meth:`BernoulliRBM.log_likelihood`)."""
    return {"n_sweeps": params.get(f"{estimator}_sweeps", 1),
            "n_tempered": params.get(f"{estimator}_tempered", 0),
            "tempered_every": params.get("tempered_every", 100)}


def _recorded(moves, estimator):
    """:func:`_annealing_moves`' settings under the names the recipe gave."""
    return {f"{estimator}_sweeps": moves["n_sweeps"],
            f"{estimator}_tempered": moves["n_tempered"],
            f"{estimator}_tempered_every": moves["tempered_every"]}


def _log_likelihood(model, split, params):
    """Average log-probability of the test (and training) images, with log Z
    by AIS as Salakhutdinov & Murray (2008): base-rate model fitted to the
    training pixels with pseudo-counts, 14,500 temperatures, many runs, the
    moves of :func:`_annealing_moves`. The exact value is added where the
    hidden layer is small enough to sum."""
    moves = _annealing_moves(params, "ais")
    log_z, (low, high) = model.log_partition(
        "ais", n_runs=params.get("ais_runs", 100), base_rate=_base_rate(split, params),
        random_state=params.get("ais_seed", 0), **moves)
    free_test = model.free_energy(split.X_test)
    free_train = model.free_energy(split.X_train)
    out = {
        **_recorded(moves, "ais"),
        "ais_log_z": float(log_z),
        "ais_log_z_low": float(low),
        "ais_log_z_high": float(high),
        # inf when 3 standard errors of the AIS weights exceed their mean: the
        # runs disagree and the estimate (a stochastic lower bound on log Z in
        # expectation) is not to be trusted.
        "ais_interval_nats": float(high - low),
        "ais_test_log_likelihood": float(-free_test.mean() - log_z),
        "ais_train_log_likelihood": float(-free_train.mean() - log_z),
    }
    if min(model.n_components, split.X_train.shape[1]) <= params.get("exact_max_units", 25):
        exact = float(model.log_partition("exact"))
        out["exact_log_z"] = exact
        out["exact_test_log_likelihood"] = float(-free_test.mean() - exact)
        out["ais_minus_exact_log_z"] = float(log_z) - exact
    return out


def _raise(model, split, params):
    """RAISE (Burda, Grosse & Salakhutdinov 2015) on the first
    ``raise_images`` test images (default 100), ``raise_runs`` reverse
    chains each (default 10), on the AIS measure's path (same base-rate
    model, 14,500 temperatures, the moves of :func:`_annealing_moves`): a stochastic lower bound on their average
    log-probability under the annealing model (the RBM's where the sweeps
    mix), where AIS's estimate errs high. ``raise_log_z`` is the
    log Z that the RAISE estimates imply (the mean of ``-F(x) - log p(x)``
    over those images), so that AIS's average log-likelihood on the same
    images minus RAISE's is ``raise_log_z - ais_log_z``: :func:`measure`
    reports it as ``ais_raise_gap_nats``."""
    n = min(params.get("raise_images", 100), len(split.X_test))
    runs = params.get("raise_runs", 10)
    moves = _annealing_moves(params, "raise")
    X = split.X_test[:n]
    log_p = model.log_likelihood(X, "raise", n_runs=runs, base_rate=_base_rate(split, params),
                                 random_state=params.get("raise_seed", 0), **moves)
    return {
        "raise_images": n,
        "raise_runs": runs,
        **_recorded(moves, "raise"),
        "raise_test_log_likelihood": float(log_p.mean()),
        "raise_log_z": float(np.mean(-model.free_energy(X) - log_p)),
    }


def basis_statistics(components, patch_size):
    """Medians over atoms of three shape measures of image bases.

    - ``spread``: energy-weighted spatial standard deviation, in pixels (a
      basis spread evenly over the patch has about ``0.41 * patch_size``);
    - ``peak_frequency``: radial frequency (cycles/pixel) of the spectral
      peak: bandpass bases peak away from 0 (DC) and below 0.5 (Nyquist);
    - ``orientation_concentration``: share of the spectral energy within
      +-22.5 degrees of the peak orientation (0.25 for an isotropic basis).
    """
    n = patch_size
    yy, xx = np.mgrid[0:n, 0:n]
    f = np.fft.fftfreq(n)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    radius = np.hypot(fx, fy)
    angle = np.arctan2(fy, fx) % np.pi
    spread, peak, concentration = [], [], []
    for atom in components:
        img = atom.reshape(n, n)
        w = img**2 / np.sum(img**2)
        cy, cx = np.sum(w * yy), np.sum(w * xx)
        spread.append(np.sqrt(np.sum(w * ((yy - cy) ** 2 + (xx - cx) ** 2))))
        power = np.abs(np.fft.fft2(img)) ** 2
        power[0, 0] = 0.0
        k = np.unravel_index(np.argmax(power), power.shape)
        peak.append(radius[k])
        diff = np.abs(angle - angle[k])
        diff = np.minimum(diff, np.pi - diff)
        concentration.append(power[diff <= np.pi / 8].sum() / power.sum())
    return {"spread": float(np.median(spread)),
            "peak_frequency": float(np.median(peak)),
            "orientation_concentration": float(np.median(concentration))}


def _convolutional_layer(model):
    """The bottom ConvolutionalRBM of a convolutional model, or None."""
    if hasattr(model, "filters_"):
        return model
    steps = getattr(model, "steps_", None)
    if steps and hasattr(steps[0][1], "filters_"):
        return steps[0][1]
    return None


def first_layer_filters(model, image_shape):
    """``(weights, shape)``: the first layer's filters, one per row, and
    the ``(height, width)`` each row is drawn as (the image shape of a fully
    connected layer; a convolutional layer's filter shape, its channels side
    by side)."""
    conv = _convolutional_layer(model)
    if conv is None:
        return first_layer_weights(model), image_shape
    filters = conv.filters_  # (K, fh, fw, C)
    n, fh, fw, n_channels = filters.shape
    side_by_side = filters.transpose(0, 1, 3, 2).reshape(n, fh * n_channels * fw)
    return side_by_side, (fh, n_channels * fw)


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


def _gabor(model, split, params):
    """How Gabor-like the first layer's filters are (Olshausen & Field
    1996; Lee et al. 2009, Fig. 2): the share of filters that a 2-D Gabor
    fits with R^2 >= 0.8 (:func:`deepzoo.utils.gabor.fit_gabor`), their
    median R^2, and the same for as many white-noise filters of the same
    shape (seed ``random_filters_seed``, default 0): the share that chance
    gives. ``gabor_filters`` (default: all) caps how many filters are fitted,
    the first ones."""
    from deepzoo.utils.gabor import fit_gabor

    W, shape = first_layer_filters(model, split.image_shape)
    conv = _convolutional_layer(model)
    if conv is not None and conv.filters_.shape[3] != 1:
        raise RecipeError("the gabor measure fits single-channel filters; this model's "
                          f"first layer has {conv.filters_.shape[3]} channels.")
    W = np.asarray(W[: params.get("gabor_filters", len(W))], dtype=np.float64)
    noise = np.random.default_rng(params.get("random_filters_seed", 0)).standard_normal(W.shape)
    threshold = 0.8
    out = {"gabor_filters_fitted": len(W)}
    for prefix, filters in (("", W), ("random_", noise)):
        r2, _ = fit_gabor(filters, shape)
        out[f"{prefix}gabor_share"] = float(np.mean(r2 >= threshold))
        out[f"{prefix}gabor_median_r2"] = float(np.median(r2))
    return out


def _sparse_code_statistics(model, split, params):
    """Olshausen & Field (1996): coefficient kurtosis with random Gaussian
    bases (before learning) and with the learned ones (after), at the same
    alpha; held-out reconstruction error relative to the patch variance; and
    the shape of the bases (localized, bandpass, oriented) beside random ones."""
    from deepzoo import sparse_encode

    rng = np.random.default_rng(params.get("random_bases_seed", 0))
    random_bases = rng.standard_normal(model.components_.shape)
    random_bases /= np.linalg.norm(random_bases, axis=1, keepdims=True)
    before = sparse_encode(split.X_test, random_bases, model.alpha)
    after = model.transform(split.X_test)
    residual = split.X_test - model.inverse_transform(after)
    size = split.image_shape[0]
    return {
        # Pearson kurtosis E[a^4] / E[a^2]^2 of all coefficients (3: Gaussian).
        "kurtosis_before": float(kurtosis(before.ravel(), fisher=False)),
        "kurtosis_after": float(kurtosis(after.ravel(), fisher=False)),
        "reconstruction_mse_rel": float(np.mean(residual**2) / np.var(split.X_test)),
        "nonzeros_per_code_before": float(np.count_nonzero(before, axis=1).mean()),
        "nonzeros_per_code": float(np.count_nonzero(after, axis=1).mean()),
        **{f"bases_{k}": v for k, v in basis_statistics(model.components_, size).items()},
        **{f"random_{k}": v for k, v in basis_statistics(random_bases, size).items()},
    }


#: Measures of a fitted model.
MEASURES = {
    "accuracy": _accuracy,
    "logistic_accuracy": _logistic_accuracy,
    "linear_svm_accuracy": _linear_svm_accuracy,
    "reconstruction_error": _reconstruction_error,
    "log_likelihood": _log_likelihood,
    "raise": _raise,
    "sparse_code_statistics": _sparse_code_statistics,
    "gabor": _gabor,
    "fantasy_agreement": _fantasy_agreement,
}

#: Baselines that do not depend on the model: measured once per run.
BASELINES = {
    "raw_logistic_accuracy": _raw_logistic_accuracy,
    "pca_reconstruction_error": _pca_reconstruction_error,
}


def _announced(name, measure, *args):
    # A measure can take seconds to minutes (a logistic regression on
    # thousands of features, AIS): say what runs, then how long it took.
    print(f"  measuring {name}...", flush=True)
    t0 = time.perf_counter()
    out = measure(*args)
    print(f"  measured {name} in {time.perf_counter() - t0:.1f}s", flush=True)
    return out


def measure_baselines(split, evaluate):
    """Every model-independent baseline the recipe names."""
    out = {}
    for name in evaluate["metrics"]:
        if name in BASELINES:
            out.update(_announced(name, BASELINES[name], split, evaluate["params"]))
    return out


def measure(model, split, evaluate, baselines):
    """Every model measure the recipe names, in order, plus ratios to the
    baselines where both sides exist."""
    out = {}
    for name in evaluate["metrics"]:
        if name in MEASURES:
            out.update(_announced(name, MEASURES[name], model, split, evaluate["params"]))
    if "test_squared_error" in out and "pca_test_squared_error" in baselines:
        out["ratio_to_pca"] = out["test_squared_error"] / baselines["pca_test_squared_error"]
    swap_rate = getattr(model, "swap_rate_", None)
    if swap_rate is not None:
        # parallel tempering's ladder: a pair that never swaps cuts it
        out["pt_lowest_swap_rate"] = float(np.min(swap_rate))
    if "raise_log_z" in out:
        # on the same images: AIS's average log-likelihood minus RAISE's
        if "ais_log_z" in out:
            out["ais_raise_gap_nats"] = out["raise_log_z"] - out["ais_log_z"]
        if "exact_log_z" in out:
            out["raise_minus_exact_log_z"] = out["raise_log_z"] - out["exact_log_z"]
    return out
