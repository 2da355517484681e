"""The net every public estimator falls into: scikit-learn's own estimator
checks, and an HDF5 round trip that must reproduce predictions exactly."""

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepzoo.io import load, save
from deepzoo.utils import all_estimators

from .common_params import (
    CHECK_PARAMS,
    DEFAULT_CHECKED,
    EXPECTED_FAILED,
    EXPECTED_FAILED_DEFAULT,
)


def _instances():
    for name, cls in all_estimators():
        yield cls(**CHECK_PARAMS.get(name, {}))


def _expected_failed(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


# strict: an exemption whose check passes fails the test, so the list in
# common_params stays exact
@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failed,
                         xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _default_instances():
    return [cls() for name, cls in all_estimators() if name in DEFAULT_CHECKED]


def _expected_failed_default(estimator):
    return EXPECTED_FAILED_DEFAULT[type(estimator).__name__]


@parametrize_with_checks(_default_instances(),
                         expected_failed_checks=_expected_failed_default, xfail_strict=True)
def test_sklearn_compatible_with_defaults(estimator, check):
    # check_estimator(Estimator()) as a user runs it, for the estimators
    # whose defaults refuse data that CHECK_PARAMS accept
    check(estimator)


def _round_trip_data(estimator):
    rng = np.random.default_rng(0)
    X = rng.random((60, 12))
    y = None
    if is_classifier(estimator):
        y = np.arange(60) % 3
    elif is_regressor(estimator):
        y = X[:, 0] + X[:, 1]
    return X, y


_OUTPUT_METHODS = ("predict", "predict_proba", "transform", "score_samples", "decision_function")


@pytest.mark.parametrize(
    "estimator", list(_instances()), ids=lambda est: type(est).__name__
)
def test_hdf5_round_trip(estimator, tmp_path):
    X, y = _round_trip_data(estimator)
    fitted = clone(estimator).fit(X, y)
    path = tmp_path / "model.h5"
    save(fitted, path)
    loaded = load(path)
    assert type(loaded) is type(fitted)
    assert loaded.get_params(deep=False).keys() == fitted.get_params(deep=False).keys()
    compared = 0
    for method in _OUTPUT_METHODS:
        if hasattr(fitted, method):
            expected = getattr(fitted, method)(X)
            got = getattr(loaded, method)(X)
            np.testing.assert_array_equal(got, expected)
            assert np.asarray(got).dtype == np.asarray(expected).dtype
            compared += 1
    assert compared > 0, "nothing to compare: the estimator has no output method"


def test_all_estimators_are_exported():
    import deepzoo

    for name, cls in all_estimators():
        assert getattr(deepzoo, name) is cls
