"""What a recipe can measure: ``[evaluate] metrics = [...]``.

Each measure takes the fitted model, the data split and the recipe's
``[evaluate.params]`` and returns named numbers for ``metrics.json``.
"""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from ._schema import RecipeError

__all__ = ["MEASURES", "measure", "reconstruct"]


def _accuracy(model, split, params):
    acc = float(np.mean(model.predict(split.X_test) == split.y_test))
    return {"test_accuracy": acc, "test_error": 1 - acc}


def _logistic(features_train, features_test, split, params, prefix):
    clf = LogisticRegression(C=params.get("logistic_C", 1.0),
                             max_iter=params.get("logistic_max_iter", 1000))
    clf.fit(features_train, split.y_train)
    acc = float(np.mean(clf.predict(features_test) == split.y_test))
    return {f"{prefix}test_accuracy": acc, f"{prefix}test_error": 1 - acc}


def _logistic_accuracy(model, split, params):
    """Logistic regression on the model's features (the RBM example's protocol)."""
    return _logistic(model.transform(split.X_train), model.transform(split.X_test),
                     split, params, "logistic_")


def _raw_logistic_accuracy(model, split, params):
    """The same logistic regression on raw inputs: the baseline features must beat."""
    return _logistic(split.X_train, split.X_test, split, params, "raw_logistic_")


def reconstruct(model, X):
    """The model's reconstruction of ``X`` (decoder of its code)."""
    if hasattr(model, "inverse_transform") and hasattr(model, "transform"):
        return model.inverse_transform(model.transform(X))
    if hasattr(model, "predict"):
        return model.predict(X)
    raise RecipeError(f"{type(model).__name__} cannot reconstruct its input.")


def _squared_error(X, X_hat):
    return float(np.mean(np.sum((np.asarray(X, np.float64) - X_hat) ** 2, axis=1)))


def _reconstruction_error(model, split, params):
    """Average over test images of the summed squared pixel error (Hinton &
    Salakhutdinov 2006), beside PCA with as many components as the code."""
    out = {"test_squared_error": _squared_error(split.X_test, reconstruct(model, split.X_test))}
    n_code = params.get("pca_components")
    if n_code:
        pca = PCA(n_components=n_code, random_state=0).fit(split.X_train)
        pca_error = _squared_error(split.X_test, pca.inverse_transform(pca.transform(split.X_test)))
        out[f"pca{n_code}_test_squared_error"] = pca_error
        out["ratio_to_pca"] = out["test_squared_error"] / pca_error
    return out


MEASURES = {
    "accuracy": _accuracy,
    "logistic_accuracy": _logistic_accuracy,
    "raw_logistic_accuracy": _raw_logistic_accuracy,
    "reconstruction_error": _reconstruction_error,
}


def measure(model, split, evaluate):
    """Run every measure the recipe names, in order."""
    out = {}
    for name in evaluate["metrics"]:
        if name not in MEASURES:
            raise RecipeError(f"evaluate.metrics: unknown measure {name!r}; known: "
                              f"{', '.join(sorted(MEASURES))}.")
        out.update(MEASURES[name](model, split, evaluate["params"]))
    return out
