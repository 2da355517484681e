"""Per-estimator settings for the common checks.

``CHECK_PARAMS`` gives constructor arguments that keep scikit-learn's
estimator checks fast (small models, few iterations). ``EXPECTED_FAILED``
is the one place where a check that truly cannot hold is listed, with the
reason, per estimator class name.

``DEFAULT_CHECKED`` names the estimators whose checks are also run exactly
as ``check_estimator(Estimator())`` runs them, with their default
parameters, because their defaults refuse data that the checks' fast
parameters accept; ``EXPECTED_FAILED_DEFAULT`` lists those runs' failing
checks with the reason. Every other estimator's fast parameters only make
it smaller or shorter (sizes, iterations, seeds), except ``Stack``, which
like scikit-learn's ``Pipeline`` has no default steps (scikit-learn checks
``Pipeline`` with steps chosen for the checks, as here), and the
convolutional models, whose default 10x10 filters fit no image of the
checks' data: they are checked with 1-wide filters and Gaussian visible
units (tests/test_conv_rbm.py covers binary units and larger images).
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
    # RBMs (issue 3)
    "BernoulliRBM": {"n_components": 4, "n_iter": 3, "random_state": 0},
    "GaussianBernoulliRBM": {"n_components": 4, "n_iter": 3, "random_state": 0},
    # convolutional models (issue 17): the checks' 2-D rows are images of
    # height 1 (no image_shape), which 1-wide filters fit whatever the
    # number of features; Gaussian visible units, because binary ones refuse
    # the checks' data outside [0, 1] as BernoulliRBM does
    "ConvolutionalRBM": {"n_filters": 3, "filter_shape": 1, "pool_shape": 2,
                         "visible_unit": "gaussian", "learning_rate": 0.01, "n_iter": 3,
                         "random_state": 0},
    "ConvolutionalDBN": {"n_filters": (3, 2), "filter_shape": 1, "pool_shape": [2, 1],
                         "visible_unit": "gaussian", "learning_rate": [0.01, 0.1], "n_iter": 2,
                         "random_state": 0},
}

EXPECTED_FAILED = {}

# RBMs (issue 3): BernoulliRBM rejects data outside [0, 1] by design (issue 3,
# "bad input"); these checks feed it Gaussian blobs or 3 * uniform data. The
# same code paths (all of _BaseRBM) pass them in GaussianBernoulliRBM, which
# differs only by that range check, and tests/test_rbm.py covers the API on
# data in [0, 1].
_RBM_UNIT_INTERVAL = ("BernoulliRBM rejects values outside [0, 1] (they are probabilities); "
                      "the check's data are not in [0, 1]")
EXPECTED_FAILED["BernoulliRBM"] = {
        "check_dict_unchanged": _RBM_UNIT_INTERVAL,
        "check_dont_overwrite_parameters": _RBM_UNIT_INTERVAL,
        "check_estimators_dtypes": _RBM_UNIT_INTERVAL,
        "check_estimators_fit_returns_self": _RBM_UNIT_INTERVAL,
        "check_estimators_overwrite_params": _RBM_UNIT_INTERVAL,
        "check_estimators_pickle": _RBM_UNIT_INTERVAL,
        "check_estimators_pickle(readonly_memmap=True)": _RBM_UNIT_INTERVAL,
        "check_f_contiguous_array_estimator": _RBM_UNIT_INTERVAL,
        "check_fit2d_1feature": _RBM_UNIT_INTERVAL,
        "check_fit2d_1sample": _RBM_UNIT_INTERVAL,
        "check_fit2d_predict1d": _RBM_UNIT_INTERVAL,
        "check_fit_check_is_fitted": _RBM_UNIT_INTERVAL,
        "check_fit_idempotent": _RBM_UNIT_INTERVAL,
        "check_methods_sample_order_invariance": _RBM_UNIT_INTERVAL,
        "check_methods_subset_invariance": _RBM_UNIT_INTERVAL,
        "check_n_features_in": _RBM_UNIT_INTERVAL,
        "check_n_features_in_after_fitting": _RBM_UNIT_INTERVAL,
        "check_pipeline_consistency": _RBM_UNIT_INTERVAL,
        "check_positive_only_tag_during_fit": _RBM_UNIT_INTERVAL,
        "check_readonly_memmap_input": _RBM_UNIT_INTERVAL,
        "check_transformer_data_not_an_array": _RBM_UNIT_INTERVAL,
        "check_transformer_general": _RBM_UNIT_INTERVAL,
        "check_transformer_general(readonly_memmap=True)": _RBM_UNIT_INTERVAL,
        "check_transformer_preserve_dtypes": _RBM_UNIT_INTERVAL,
}

# DBN (issue 6): its bottom layer is a BernoulliRBM, so it rejects data outside
# [0, 1] exactly like BernoulliRBM, in the same checks; tests/test_dbn.py covers
# the API on data in [0, 1].
EXPECTED_FAILED["DBN"] = dict.fromkeys(
    EXPECTED_FAILED["BernoulliRBM"],
    "DBN models probabilities in [0, 1] (Bernoulli visible units); the check's data "
    "are not in [0, 1]")

# The checks behind the [0, 1] refusals above, plus check_transformer_n_iter
# (it fits the estimators that have max_iter on the same data).
_UNIT_INTERVAL_CHECKS = sorted(EXPECTED_FAILED["BernoulliRBM"]) + ["check_transformer_n_iter"]

# With their default cross-entropy loss, DeepAutoencoder and
# StackedAutoencoder model values in [0, 1] and refuse data outside it, as
# BernoulliRBM does; with output_activation="linear" (DeepAutoencoder) or
# loss="squared_error" (StackedAutoencoder), CHECK_PARAMS above, they pass
# every check.
DEFAULT_CHECKED = ["DeepAutoencoder", "StackedAutoencoder"]
EXPECTED_FAILED_DEFAULT = {
    "DeepAutoencoder": dict.fromkeys(
        _UNIT_INTERVAL_CHECKS,
        "the default loss is cross-entropy of sigmoid outputs, defined for data in "
        "[0, 1] (output_activation='linear' passes); the check's data are not in [0, 1]"),
    "StackedAutoencoder": dict.fromkeys(
        _UNIT_INTERVAL_CHECKS,
        "the default loss is cross-entropy, defined for data in [0, 1] "
        "(loss='squared_error' passes); the check's data are not in [0, 1]"),
}
