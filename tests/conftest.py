import os
from pathlib import Path

import numpy as np
import pytest


def _data_dir():
    env = os.environ.get("DEEPZOO_DATA")
    return Path(env) if env else None


@pytest.fixture(scope="session")
def data_dir():
    """``$DEEPZOO_DATA``: the folder of real data sets (``../shared/data``).

    Skips only where the data is genuinely absent; under CI (``CI=true``)
    a missing folder is an error, because CI always provides it.
    """
    path = _data_dir()
    if path is None or not path.is_dir():
        msg = (
            "real data not found: set DEEPZOO_DATA to the folder holding "
            "mnist/ and fashion-mnist/ (../shared/data in the development tree)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path.resolve()  # tests may chdir or build links: never relative


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def held_out_rows(monkeypatch):
    """The rows each DBN fit of the test holds out for validation, in order."""
    from deepzoo.stacks import _dbn

    held = []
    split = _dbn._Validation.split

    def recording(self, X, y):
        held.append(self.rows.copy())
        return split(self, X, y)

    monkeypatch.setattr(_dbn._Validation, "split", recording)
    return held
