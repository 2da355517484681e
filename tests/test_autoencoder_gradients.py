"""Issue 4, item 1: the autoencoder gradient against centred finite
differences, for every activation, loss, tying, penalty and (fixed)
corruption, at relative error <= 1e-6 in float64; and the objective value
against the term-by-term reference of tests/naive.py."""

import itertools

import numpy as np
import pytest

from deepzoo._nn import check_gradient
from deepzoo.layers._autoencoder import AutoencoderSpec, autoencoder_objective, corrupt

from . import naive

HIDDEN = ["sigmoid", "tanh", "relu", "linear"]
# cross-entropy needs a sigmoid reconstruction (probabilities)
OUTPUT = [("squared_error", v) for v in ("sigmoid", "tanh", "relu", "linear")] + [
    ("cross_entropy", "sigmoid")]
PENALTIES = {
    "none": {},
    "l2": {"alpha": 0.3},
    "kl": {"sparsity_target": 0.2, "sparsity_weight": 0.7},
    "l1": {"code_l1": 0.4},
    "contractive": {"contraction": 0.5},
}
CORRUPTION = [("none", 0.0), ("masking", 0.3), ("gaussian", 0.2), ("salt_and_pepper", 0.3)]


def _cases():
    for hidden, (loss, visible), tied, penalty in itertools.product(
            HIDDEN, OUTPUT, (True, False), PENALTIES):
        # KL sparsity is defined on mean activations in (0, 1): sigmoid codes
        if penalty == "kl" and hidden != "sigmoid":
            continue
        yield hidden, loss, visible, tied, penalty


def _problem(tied, seed=0, n=6, d=5, k=3):
    rng = np.random.default_rng(seed)
    params = [rng.normal(scale=0.8, size=(k, d)), rng.normal(scale=0.3, size=k),
              rng.normal(scale=0.3, size=d)]
    if not tied:
        params.append(rng.normal(scale=0.8, size=(k, d)))
    X = rng.uniform(0.05, 0.95, size=(n, d))
    return params, X


@pytest.mark.parametrize("hidden, loss, visible, tied, penalty", list(_cases()))
def test_gradient_matches_finite_differences(hidden, loss, visible, tied, penalty):
    params, X = _problem(tied)
    spec = AutoencoderSpec(hidden, visible, loss, **PENALTIES[penalty])
    grads = [np.empty_like(p) for p in params]
    for key, (kind, level) in enumerate(CORRUPTION):
        # the corruption is drawn once and held fixed, as in one SGD step
        X_in = X if kind == "none" else corrupt(X, kind, level, key)

        def loss_and_grad():
            value = autoencoder_objective(params, grads, X_in, X, spec)
            return value, [g.copy() for g in grads]

        error = check_gradient(loss_and_grad, params)
        assert error <= 1e-6, f"{kind}: relative error {error:.2e}"


@pytest.mark.parametrize("hidden, loss, visible, tied, penalty", list(_cases()))
def test_objective_matches_reference(hidden, loss, visible, tied, penalty):
    params, X = _problem(tied, seed=1)
    X_in = corrupt(X, "masking", 0.3, key=3)
    spec = AutoencoderSpec(hidden, visible, loss, **PENALTIES[penalty])
    value = autoencoder_objective(params, [np.empty_like(p) for p in params], X_in, X, spec)
    W, b_h, b_v = params[:3]
    pen = PENALTIES[penalty]
    expected = naive.autoencoder_objective(
        W, b_h, b_v, None if tied else params[3], X_in, X, hidden, visible,
        "squared_error" if loss == "squared_error" else "cross_entropy",
        alpha=pen.get("alpha", 0.0), rho=pen.get("sparsity_target", 0.05),
        beta=pen.get("sparsity_weight", 0.0), code_l1=pen.get("code_l1", 0.0),
        contraction=pen.get("contraction", 0.0))
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss, visible", [("cross_entropy", "sigmoid"), ("squared_error", "linear"),
                                           ("squared_error", "tanh")])
def test_float32_objective_agrees_with_float64(loss, visible):
    # the fused float32 path (vectorised exp/log) against float64
    params, X = _problem(tied=True, seed=2, n=50, d=40, k=20)
    spec = AutoencoderSpec("sigmoid", visible, loss, alpha=0.1)
    g64 = [np.empty_like(p) for p in params]
    v64 = autoencoder_objective(params, g64, X, X, spec)
    p32 = [p.astype(np.float32) for p in params]
    g32 = [np.empty_like(p) for p in p32]
    v32 = autoencoder_objective(p32, g32, X.astype(np.float32), X.astype(np.float32), spec)
    assert v32 == pytest.approx(v64, rel=1e-5)
    for a, b in zip(g32, g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5 * np.abs(b).max())
