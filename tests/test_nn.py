"""The backprop core: optimizers, schedules, losses, initialisers,
regularisers, fused kernels and the gradient-check utility."""

import numpy as np
import pytest
from scipy.special import expit

from deepzoo._kernels import nn as k
from deepzoo._nn import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    ExponentialDecay,
    InverseTimeDecay,
    Momentum,
    Nesterov,
    RMSprop,
    StepDecay,
    activate,
    backprop_activation,
    binary_cross_entropy_logits,
    check_gradient,
    derivative_from_output,
    dropout,
    init_weights,
    log_softmax,
    loss_samples,
    loss_value,
    max_norm,
    numerical_gradient,
    output_delta,
)

from . import naive

TOL = {np.float32: 2e-6, np.float64: 1e-13}


# ---------------------------------------------------------------- optimizers


def _quadratic(seed=0, n=6):
    """f(x) = 1/2 (x - x*)' A (x - x*): convex, minimum x*, condition ~ 20."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.linspace(1, 20, n)) @ Q.T
    return A, rng.standard_normal(n)


# (optimizer, keyword arguments, updates): every one must reach the minimum
_CONVERGENCE = [
    (SGD, dict(learning_rate=0.09), 500),
    (Momentum, dict(learning_rate=0.02, momentum=0.9), 500),
    (Nesterov, dict(learning_rate=0.02, momentum=0.9), 500),
    (AdaGrad, dict(learning_rate=1.0), 3000),
    # RMSprop and Adam take steps of about the rate whatever the gradient,
    # so with a constant rate they hover at a distance ~ rate from the
    # minimum; a decaying rate brings them in.
    (RMSprop, dict(learning_rate=0.05, schedule=ExponentialDecay(0.998)), 7000),
    (Adam, dict(learning_rate=0.1, schedule=ExponentialDecay(0.998)), 7000),
]


@pytest.mark.parametrize("cls, kwargs, n_steps", _CONVERGENCE, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_converges_on_quadratic(cls, kwargs, n_steps):
    A, x_star = _quadratic()
    x = np.zeros_like(x_star)
    opt = cls([x], **kwargs)
    for _ in range(n_steps):
        opt.step([A @ (x - x_star)])
    np.testing.assert_allclose(x, x_star, atol=1e-6)
    assert opt.t == n_steps


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_updates_several_arrays_in_place(name):
    # a weight matrix and a bias vector: the list form the layers and networks use
    W = np.zeros((2, 3), dtype=np.float32)
    b = np.zeros(3, dtype=np.float32)
    opt = OPTIMIZERS[name]([W, b], learning_rate=0.01)
    opt.step([np.ones_like(W), np.ones(3)])  # a float64 gradient is cast
    assert opt.params[0] is W and opt.params[1] is b
    assert W.dtype == b.dtype == np.float32
    assert np.all(W < 0) and np.all(b < 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_kernels_match_textbook(dtype):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((7, 5)).astype(dtype)
    grads = [rng.standard_normal((7, 5)).astype(dtype) for _ in range(3)]
    lr, mu = 0.01, 0.9
    tol = dict(rtol=TOL[dtype] * 10, atol=TOL[dtype])
    cases = {
        "adam": (Adam, {}, lambda p, g, s, t: naive.adam_step(p, g, *s, t, lr), 2),
        "momentum": (Momentum, {"momentum": mu},
                     lambda p, g, s, t: naive.momentum_step(p, g, s[0], lr, mu), 1),
        "nesterov": (Nesterov, {"momentum": mu},
                     lambda p, g, s, t: naive.momentum_step(p, g, s[0], lr, mu, True), 1),
        "adagrad": (AdaGrad, {}, lambda p, g, s, t: naive.adagrad_step(p, g, s[0], lr), 1),
        "rmsprop": (RMSprop, {}, lambda p, g, s, t: naive.rmsprop_step(p, g, s[0], lr), 1),
    }
    for name, (cls, kwargs, reference, n_state) in cases.items():
        p = p0.copy()
        opt = cls([p], learning_rate=lr, **kwargs)
        ref, state = p0.astype(np.float64), [np.zeros((7, 5))] * n_state
        for t, g in enumerate(grads, start=1):
            opt.step([g])
            ref, *state = reference(ref, g.astype(np.float64), state, t)
        assert p.dtype == dtype, name
        np.testing.assert_allclose(p, ref, **tol, err_msg=name)


def test_optimizer_rejects_bad_input():
    with pytest.raises(ValueError, match="C-contiguous"):
        SGD([np.zeros((3, 4)).T])
    opt = SGD([np.zeros(3)])
    with pytest.raises(ValueError, match="gradients for"):
        opt.step([np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.zeros(4)])
    with pytest.raises(ValueError, match="momentum"):
        Momentum([np.zeros(3)], momentum=1.0)


def test_schedules():
    assert [StepDecay(3, 0.5)(2.0, t) for t in (0, 2, 3, 6)] == [2.0, 2.0, 1.0, 0.5]
    assert ExponentialDecay(0.9)(1.0, 2) == pytest.approx(0.81)
    assert InverseTimeDecay(0.1, power=0.5)(1.0, 30) == pytest.approx(0.5)
    # the optimizer feeds the update count to its schedule
    w = np.zeros(1)
    opt = SGD([w], learning_rate=1.0, schedule=StepDecay(1, 0.5))
    for _ in range(3):
        opt.step([-np.ones(1)])
    assert w[0] == 1.0 + 0.5 + 0.25
    with pytest.raises(ValueError):
        StepDecay(0)


# -------------------------------------------------------------------- losses


@pytest.mark.parametrize("loss, activation", [
    ("squared_error", "linear"), ("squared_error", "sigmoid"), ("squared_error", "tanh"),
    ("squared_error", "relu"), ("binary_cross_entropy", "sigmoid"),
    ("softmax_cross_entropy", "softmax"),
])
def test_output_delta_is_gradient_of_loss(loss, activation):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((5, 4))
    Y = rng.random((5, 4))
    if activation == "softmax":
        Y /= Y.sum(axis=1, keepdims=True)

    def loss_and_grad():
        A = activate(activation, Z.copy())
        return loss_value(loss, Y, A), [output_delta(loss, activation, Y, A, scale=1 / 5)]

    assert check_gradient(loss_and_grad, [Z]) < 1e-7


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_rebind_keeps_its_state(name):
    grads = [np.array([1.0, -2.0]), np.array([0.5])]
    a = OPTIMIZERS[name]([np.ones(2), np.zeros(1)], learning_rate=0.1)
    b = OPTIMIZERS[name]([np.ones(2), np.zeros(1)], learning_rate=0.1)
    for opt in (a, b):
        opt.step(grads)
    copies = [p.copy() for p in b.params]
    b.rebind(copies)
    for opt in (a, b):
        opt.step(grads)
    for p, q in zip(a.params, copies):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="same shapes"):
        b.rebind([np.ones(3), np.zeros(1)])
    read_only = np.ones(2)
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        b.rebind([read_only, np.zeros(1)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_space_losses_match_exact_values(dtype):
    Z = np.array([[-800.0, 0.0, 3.0, 800.0], [40.0, -40.0, 1e-3, -2.0]], dtype=dtype)
    Y = np.array([[1.0, 0.5, 0.0, 0.0], [0.0, 1.0, 1.0, 0.25]], dtype=dtype)
    z, y = Z.astype(np.float64), Y.astype(np.float64)
    # softplus(t) = max(t, 0) + log1p(exp(-|t|)), written out element by element
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    softplus_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))
    want = (y * softplus_neg + (1 - y) * softplus).sum(axis=1)
    got = binary_cross_entropy_logits(Y, Z)
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert got[0] == pytest.approx(800 + np.log(2) + 3 + np.log1p(np.exp(-3)) + 800, rel=1e-6)
    # where probabilities do not round to 0 or 1, it is the clipped loss
    zm, ym = z[1:, 2:], y[1:, 2:]
    np.testing.assert_allclose(binary_cross_entropy_logits(ym, zm),
                               loss_samples("binary_cross_entropy", ym, expit(zm)), rtol=1e-12)
    L = log_softmax(Z)
    want = z - z.max(axis=1, keepdims=True)
    want -= np.log(np.exp(want).sum(axis=1, keepdims=True))
    assert L.dtype == dtype and np.all(np.isfinite(L))
    np.testing.assert_allclose(L, want, rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert L[0, 0] == pytest.approx(-1600.0)


def test_loss_values():
    Y = np.array([[1.0, 0.0]])
    A = np.array([[0.8, 0.4]])
    assert loss_samples("squared_error", Y, A)[0] == pytest.approx(0.5 * (0.04 + 0.16))
    assert loss_samples("binary_cross_entropy", Y, A)[0] == pytest.approx(-np.log(0.8) - np.log(0.6))
    assert loss_samples("softmax_cross_entropy", Y, np.array([[0.25, 0.75]]))[0] == pytest.approx(np.log(4))


def test_loss_activation_pairing_is_checked():
    with pytest.raises(ValueError, match="sigmoid"):
        output_delta("binary_cross_entropy", "linear", np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="Unknown loss"):
        loss_samples("hinge", np.zeros((1, 1)), np.zeros((1, 1)))


# ----------------------------------------------------------- initialisers


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialisers(dtype):
    rng = np.random.RandomState(0)
    fan_in, fan_out = 400, 300
    W = init_weights("glorot", fan_in, fan_out, rng, dtype)
    assert W.shape == (fan_out, fan_in) and W.dtype == dtype and W.flags.c_contiguous
    bound = np.sqrt(6 / (fan_in + fan_out))
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
    assert np.std(W) == pytest.approx(bound / np.sqrt(3), rel=0.02)
    assert np.std(init_weights("he", fan_in, fan_out, rng, dtype)) == pytest.approx(
        np.sqrt(2 / fan_in), rel=0.02)
    assert np.std(init_weights("small", fan_in, fan_out, rng, dtype)) == pytest.approx(0.01, rel=0.02)
    S = init_weights("sparse", fan_in, fan_out, rng, dtype)
    assert np.all((S != 0).sum(axis=1) == 15)
    # the explicit generator makes the draw reproducible
    np.testing.assert_array_equal(init_weights("he", 5, 3, np.random.RandomState(1)),
                                  init_weights("he", 5, 3, np.random.RandomState(1)))
    with pytest.raises(ValueError, match="'method' parameter of init_weights .*Got 'orthogonal'"):
        init_weights("orthogonal", 3, 3, rng)


# ------------------------------------------------------------ regularisers


def test_dropout_is_inverted_and_unbiased():
    rng = np.random.RandomState(0)
    X = np.full((400, 500), 3.0, dtype=np.float32)
    Y, mask = dropout(X, 0.3, rng)
    assert Y.dtype == mask.dtype == np.float32
    kept = mask != 0
    # dropped entries are exactly zero, kept ones scaled by 1 / (1 - rate)
    np.testing.assert_allclose(Y[kept], 3.0 / 0.7, rtol=1e-6)
    assert np.all(Y[~kept] == 0)
    # the drop rate and the expectation: 200,000 Bernoulli draws, 5 sigma
    assert abs((~kept).mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / X.size)
    assert abs(Y.mean() - 3.0) < 5 * 3.0 / 0.7 * np.sqrt(0.3 * 0.7 / X.size)
    # rate 0 is the identity
    Y0, _ = dropout(X, 0.0, rng)
    np.testing.assert_array_equal(Y0, X)
    with pytest.raises(ValueError,
                       match=r"'rate' parameter of dropout must be a float in the range "
                             r"\[0.0, 1.0\)"):
        dropout(X, 1.0, rng)


def test_max_norm_clips_only_long_rows():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((20, 10))
    norms = np.linalg.norm(W, axis=1)
    c = float(np.median(norms))
    before = W.copy()
    out = max_norm(W, c)
    assert out is W
    new = np.linalg.norm(W, axis=1)
    long = norms > c
    np.testing.assert_allclose(new[long], c)
    np.testing.assert_array_equal(W[~long], before[~long])
    # directions are kept
    np.testing.assert_allclose(W[long] / new[long, None], before[long] / norms[long, None])
    # columns (axis=0) for the (fan_in, fan_out) layout
    V = rng.standard_normal((10, 20))
    max_norm(V, 1.0, axis=0)
    assert np.all(np.linalg.norm(V, axis=0) <= 1 + 1e-12)


# ------------------------------------------------------------ fused kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_backprop_activation_matches_numpy(dtype, name):
    rng = np.random.default_rng(0)
    A = activate(name, rng.standard_normal((30, 17)).astype(dtype))
    D = rng.standard_normal((30, 17)).astype(dtype)
    expected = D * derivative_from_output(name, A)
    got = backprop_activation(name, D.copy(), A)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=TOL[dtype] * 4, atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_kernel_matches_reference(dtype):
    Z = np.linspace(-30, 30, 6000).reshape(3, -1).astype(dtype)
    got = activate("sigmoid", Z.copy())
    assert got.dtype == dtype
    np.testing.assert_allclose(got, naive.sigmoid(Z.astype(np.float64)),
                               rtol=TOL[dtype] * 2, atol=TOL[dtype] / 10)


@pytest.mark.parametrize("serial_or_parallel", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_kernels_match_reference(dtype, serial_or_parallel):
    rng = np.random.default_rng(0)
    P = (rng.standard_normal((9, 13)) * 4).astype(dtype)
    b = rng.standard_normal(13).astype(dtype)
    Y = rng.random((9, 13)).astype(dtype)
    z = P.astype(np.float64) + b
    ref_rows, ref_delta = naive.sigmoid_cross_entropy(z, Y.astype(np.float64))
    D, rows = P.copy(), np.zeros(9, dtype=dtype)
    k.sigmoid_cross_entropy_delta[serial_or_parallel](D, b, Y, dtype(0.5), dtype(1), rows)
    np.testing.assert_allclose(rows, ref_rows, rtol=TOL[dtype] * 4)
    np.testing.assert_allclose(D, 0.5 * ref_delta, rtol=TOL[dtype] * 4, atol=TOL[dtype])
    D, rows = P.copy(), np.zeros(9, dtype=dtype)
    k.squared_error_delta[serial_or_parallel](D, b, Y, dtype(0.5), dtype(1), rows)
    np.testing.assert_allclose(rows, 0.5 * ((z - Y) ** 2).sum(axis=1), rtol=TOL[dtype] * 4)
    np.testing.assert_allclose(D, 0.5 * (z - Y), rtol=TOL[dtype] * 4, atol=TOL[dtype] * 4)


# ------------------------------------------------------------ gradient check


def test_gradient_check_detects_wrong_gradient():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)

    def right():
        return float(np.sum(np.tanh(W @ x))), [(1 - np.tanh(W @ x) ** 2)[:, None] * x]

    def wrong():  # forgets the derivative of tanh
        return float(np.sum(np.tanh(W @ x))), [np.ones((3, 1)) * x]

    W_before = W.copy()
    assert check_gradient(right, [W]) < 1e-8
    assert check_gradient(wrong, [W]) > 1e-2
    np.testing.assert_array_equal(W, W_before)  # every perturbation undone
    (g,) = numerical_gradient(lambda: right()[0], [W])
    np.testing.assert_allclose(g, right()[1][0], rtol=1e-7)


def test_gradient_check_requires_float64():
    W = np.zeros(3, dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        check_gradient(lambda: (0.0, [W]), [W])


def test_expit_fallback_for_other_layouts():
    # 1-D and non-contiguous inputs take scipy's expit
    z = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(activate("sigmoid", z.copy()), expit(z))
    Z = np.linspace(-5, 5, 12).reshape(3, 4).T
    np.testing.assert_allclose(activate("sigmoid", Z.copy(order="K")), expit(Z))
