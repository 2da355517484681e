"""BernoulliRBM features + logistic regression on scikit-learn's digits."""

import numpy as np

from deepzoo import BernoulliRBM


def test_digits_pipeline_beats_the_scikit_learn_example():
    """scikit-learn's "RBM features for digit classification" example
    (8x8 digits grown 5x by 1-pixel shifts, min-max scaled, 80/20 split)
    reports about 0.94 with its BernoulliRBM; ours must reach 0.96."""
    from scipy.ndimage import shift
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import minmax_scale

    X, y = load_digits(return_X_y=True)
    images = X.reshape(-1, 8, 8)
    shifted = [images] + [np.stack([shift(im, d, order=0, cval=0) for im in images])
                          for d in ((-1, 0), (0, -1), (0, 1), (1, 0))]
    X = minmax_scale(np.concatenate(shifted).reshape(-1, 64), feature_range=(0, 1))
    y = np.tile(y, 5)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    model = Pipeline([
        ("rbm", BernoulliRBM(n_components=256, learning_rate=0.06, n_iter=20, random_state=0)),
        ("logistic", LogisticRegression(C=100, max_iter=1000)),
    ]).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.96

