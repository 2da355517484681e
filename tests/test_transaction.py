"""The all-or-nothing training decorator (deepzoo/utils/_transaction.py)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from deepzoo.utils._transaction import transactional


class _Model(BaseEstimator):
    def __init__(self, init=None):
        self.init = init

    @transactional
    def fit(self, fail=False):
        self.coef_ = np.zeros(3)
        return self.partial_fit(fail)

    @transactional
    def partial_fit(self, fail=False):
        self.coef_ += 1  # in place, as the kernels update parameters
        self.init.append("touched")
        if fail:
            raise KeyboardInterrupt
        return self


def test_a_failed_call_restores_the_state_and_keeps_the_parameters_identity():
    init = []
    model = _Model(init=init).fit()
    before = model.coef_.copy()
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(fail=True)
    np.testing.assert_array_equal(model.coef_, before)
    assert model.init is init  # a parameter is the user's object, never a copy
    assert "_in_transaction" not in vars(model)


def test_nested_calls_restore_to_the_outermost_state():
    model = _Model(init=[])
    with pytest.raises(KeyboardInterrupt):
        model.fit(fail=True)
    assert not hasattr(model, "coef_")
    assert model.fit().coef_.tolist() == [1, 1, 1]
