"""Per-estimator settings for the common checks.

``CHECK_PARAMS`` gives constructor arguments that keep scikit-learn's
estimator checks fast (small models, few iterations). ``EXPECTED_FAILED``
is the one place where a check that truly cannot hold is listed, with the
reason, per estimator class name.
"""

# stacks and networks (issue 6)
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

CHECK_PARAMS = {
    "Stack": {"steps": [("scale", StandardScaler()), ("pca", PCA(n_components=1))]},
}

EXPECTED_FAILED = {}
