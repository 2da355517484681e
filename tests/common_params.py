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
    "FineTunedClassifier": {"hidden_layer_sizes": (10,), "max_iter": 100, "learning_rate": 0.01,
                            "random_state": 0},
    "FineTunedRegressor": {"hidden_layer_sizes": (10,), "max_iter": 100, "learning_rate": 0.01,
                           "random_state": 0},
    "DBN": {"hidden_layer_sizes": (4, 3), "n_iter": 2, "n_updown_iter": 1, "batch_size": 10,
            "random_state": 0},
    "StackedAutoencoder": {"hidden_layer_sizes": (4, 3), "corruption_level": 0.2,
                           "loss": "squared_error", "max_iter": 3, "random_state": 0},
    "DeepAutoencoder": {"hidden_layer_sizes": (4, 2), "output_activation": "linear",
                        "max_iter": 5, "random_state": 0},
    # sparse coding (issue 5)
    "SparseCoding": {"n_components": 5, "alpha": 0.1, "max_iter": 5, "random_state": 0},
    # autoencoders (issue 4)
    "Autoencoder": {"n_components": 3, "max_iter": 5, "random_state": 0},
    "DenoisingAutoencoder": {"n_components": 3, "max_iter": 5, "random_state": 0},
    "SparseAutoencoder": {"n_components": 3, "max_iter": 5, "random_state": 0},
    "ContractiveAutoencoder": {"n_components": 3, "max_iter": 5, "random_state": 0},
}

EXPECTED_FAILED = {}
