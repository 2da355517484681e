"""Plain-numpy reference implementations that the kernels are checked against.

Written for clarity, not speed: loops where loops make the mathematics
obvious. Nothing here imports deepzoo.
"""

import math

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------
# Sparse coding (issue 5): LASSO per sample, 0.5 |x - a @ D|^2 + alpha |a|_1,
# dictionary D with atoms as rows.


def lasso_kkt_violation(X, codes, D, alpha, positive=False):
    """Largest violation of the LASSO optimality conditions over all codes.

    With r = x - a @ D: d_j . r = alpha * sign(a_j) where a_j != 0, and
    |d_j . r| <= alpha (d_j . r <= alpha for non-negative codes) where a_j == 0.
    """
    worst = 0.0
    for x, a in zip(X, codes):
        r = x - a @ D
        for j in range(D.shape[0]):
            g = D[j] @ r
            if a[j] != 0:
                worst = max(worst, abs(g - alpha * np.sign(a[j])))
            elif positive:
                worst = max(worst, g - alpha)
            else:
                worst = max(worst, abs(g) - alpha)
    return worst


def lasso_objective(x, a, D, alpha):
    r = x - a @ D
    return 0.5 * r @ r + alpha * np.abs(a).sum()


def soft_threshold(z, t, positive=False):
    if positive:
        return np.maximum(z - t, 0.0)
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def lasso_coordinate_descent(x, D, alpha, positive=False, n_sweeps=5000):
    """Cyclic coordinate descent on the residual, one atom at a time."""
    a = np.zeros(D.shape[0])
    r = x.astype(np.float64).copy()
    for _ in range(n_sweeps):
        for j in range(D.shape[0]):
            dj = D[j]
            z = dj @ r + (dj @ dj) * a[j]
            new = soft_threshold(z, alpha, positive) / (dj @ dj)
            r -= (new - a[j]) * dj
            a[j] = new
    return a


def lasso_duality_gap(x, a, D, alpha, positive=False):
    """Primal minus dual objective, dual point = residual scaled into
    {nu : |D nu|_inf <= alpha} (D nu <= alpha for non-negative codes)."""
    r = x - a @ D
    g = D @ r
    m = np.max(g) if positive else np.max(np.abs(g))
    s = 1.0 if m <= alpha else alpha / m
    nu = s * r
    primal = 0.5 * r @ r + alpha * np.abs(a).sum()
    dual = 0.5 * x @ x - 0.5 * (x - nu) @ (x - nu)
    return primal - dual


def orthogonal_matching_pursuit(x, D, n_nonzero, alpha=0.0):
    """Greedy: the atom most correlated with the residual joins, then least
    squares on the chosen atoms; stops at n_nonzero atoms or when no
    correlation exceeds alpha."""
    chosen = []
    a = np.zeros(D.shape[0])
    r = x.astype(np.float64).copy()
    while len(chosen) < n_nonzero:
        g = np.abs(D @ r)
        g[chosen] = -np.inf
        j = int(np.argmax(g))
        if g[j] <= alpha:
            break
        chosen.append(j)
        coef, *_ = np.linalg.lstsq(D[chosen].T, x, rcond=None)
        a[:] = 0
        a[chosen] = coef
        r = x - a @ D
    return a


def fista_prox_step(Y, grad, A, step, alpha, positive, t):
    """One FISTA step per row with gradient restart; returns (A, Y, t) new."""
    A_new = soft_threshold(Y - step * grad, alpha * step, positive)
    t_new = 0.5 * (1 + np.sqrt(1 + 4 * t**2))
    Y_new = np.empty_like(Y)
    for i in range(Y.shape[0]):
        if (Y[i] - A_new[i]) @ (A_new[i] - A[i]) > 0:
            t_new[i] = 1.0
            Y_new[i] = A_new[i]
        else:
            Y_new[i] = A_new[i] + (t[i] - 1) / t_new[i] * (A_new[i] - A[i])
    return A_new, Y_new, t_new


def bcd_dictionary_sweep(D, A, B):
    """One pass of Mairal's block coordinate descent over the atoms:
    d_j <- project_{|d| <= 1}(d_j + (B_j - A_j @ D) / A_jj), skipping A_jj = 0."""
    D = D.astype(np.float64).copy()
    for j in range(D.shape[0]):
        if A[j, j] <= 0:
            continue
        u = D[j] + (B[j] - A[j] @ D) / A[j, j]
        D[j] = u / max(1.0, np.linalg.norm(u))
    return D


def code_statistics(X, codes, D, weight):
    """Mairal's statistics of one batch, dense: ``weight * S'S``, ``weight *
    S'X``, the atoms some code uses, ``sum |x - a D|^2`` and ``sum |a|_1``."""
    S, X, D = (np.asarray(a, np.float64) for a in (codes, X, D))
    R = X - S @ D
    return (weight * S.T @ S, weight * S.T @ X, (S != 0).any(axis=0),
            float(np.sum(R * R)), float(np.abs(S).sum()))


# ---------------------------------------------------------------------------
# Backprop core and autoencoders (deepzoo._nn, deepzoo._kernels.nn,
# deepzoo.layers._autoencoder)

_UNITS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
}


def autoencoder_objective(W, b_h, b_v, W_dec, X_in, X, hidden, visible, loss,
                          alpha=0.0, rho=0.05, beta=0.0, code_l1=0.0, contraction=0.0):
    """The autoencoder objective written out term by term, in float64.

    ``W_dec`` is None for tied weights. The contractive term builds each
    sample's Jacobian ``dh/dx = diag(f'(z)) W`` explicitly.
    """
    W, X_in, X = (np.asarray(a, dtype=np.float64) for a in (W, X_in, X))
    tied = W_dec is None
    W_dec = W if tied else np.asarray(W_dec, dtype=np.float64)
    f, df = _UNITS[hidden]
    Z = X_in @ W.T + b_h
    H = f(Z)
    R = _UNITS[visible][0](H @ W_dec + b_v)
    if loss == "squared_error":
        J = np.mean([0.5 * np.sum((r - x) ** 2) for r, x in zip(R, X)])
    else:
        J = np.mean([-np.sum(x * np.log(r) + (1 - x) * np.log(1 - r)) for r, x in zip(R, X)])
    J += alpha / 2 * np.sum(W ** 2)
    if not tied:
        J += alpha / 2 * np.sum(W_dec ** 2)
    if beta:
        for j in range(H.shape[1]):
            q = H[:, j].mean()
            J += beta * (rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q)))
    J += code_l1 * np.mean(np.abs(H).sum(axis=1))
    if contraction:
        J += contraction * np.mean([np.sum((df(z)[:, None] * W) ** 2) for z in Z])
    return J


def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Textbook Adam (Kingma & Ba 2015, Algorithm 1), update number t >= 1."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def momentum_step(p, g, v, lr, mu, nesterov=False):
    """Heavy ball, or Nesterov in Sutskever's form: returns (p, v)."""
    v = mu * v - lr * g
    return (p + mu * v - lr * g if nesterov else p + v), v


def adagrad_step(p, g, s, lr, eps=1e-8):
    s = s + g * g
    return p - lr * g / (np.sqrt(s) + eps), s


def rmsprop_step(p, g, s, lr, rho=0.9, eps=1e-8):
    s = rho * s + (1 - rho) * g * g
    return p - lr * g / (np.sqrt(s) + eps), s


def sigmoid_cross_entropy(Z, Y):
    """Per-row binary cross-entropy of sigmoid(Z) against Y, and d/dZ of the sum."""
    A = sigmoid(np.asarray(Z, dtype=np.float64))
    rows = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1)
    return rows, A - Y


# ---------------------------------------------------------------------------
# Restricted Boltzmann machines (issue 3: deepzoo._kernels.rbm,
# deepzoo.layers._rbm). W has shape (n_hidden, n_visible).


def splitmix_uniform(key, n, dtype):
    """Draws 0..n-1 of the counter-based generator: SplitMix64 seeded with key."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) \
            * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    if dtype == np.float32:
        return (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def splitmix_normal(key, n, dtype):
    """Box-Muller on draws 2i, 2i+1 (the uniforms of ``dtype``: 53 bits in
    float64, 24 in float32)."""
    u = splitmix_uniform(key, 2 * n, dtype)
    return np.sqrt(-2 * np.log(1 - u[0::2])) * np.cos(2 * np.pi * u[1::2])


def softplus(x):
    return np.logaddexp(0, x)


def all_binary_states(n):
    """Every vector of {0, 1}**n, shape (2**n, n)."""
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def rbm_log_partition_brute(W, b, c):
    """log Z of a Bernoulli-Bernoulli RBM by summing exp(-E) over every (v, h)."""
    V = all_binary_states(W.shape[1])
    H = all_binary_states(W.shape[0])
    neg_energy = (V @ b)[:, None] + (H @ c)[None, :] + V @ W.T @ H.T
    top = neg_energy.max()
    return top + np.log(np.exp(neg_energy - top).sum())


def gaussian_rbm_log_partition_quadrature(W, b, c, s, grid=20001, width=12.0):
    """log Z of a Gaussian-Bernoulli RBM, E = sum (v-b)^2/(2s^2) - c.h - h W v:
    sum over h of a product of 1-D integrals over v_i done numerically."""
    H = all_binary_states(W.shape[0])
    terms = []
    for h in H:
        y = h @ W
        log_int = 0.0
        for i in range(W.shape[1]):
            centre = b[i] + s[i] ** 2 * y[i]
            v = np.linspace(centre - width * s[i], centre + width * s[i], grid)
            f = np.exp(-(v - b[i]) ** 2 / (2 * s[i] ** 2) + v * y[i] - (centre * y[i]))
            log_int += np.log(np.trapezoid(f, v)) + centre * y[i]
        terms.append(c @ h + log_int)
    terms = np.array(terms)
    return terms.max() + np.log(np.exp(terms - terms.max()).sum())


def rbm_free_energy(V, W, b, c):
    return -(V @ b) - softplus(V @ W.T + c).sum(axis=1)


def rbm_pseudo_loglik(V, W, b, c):
    """mean_f log p(v_f | v_-f), flipping each feature (v_f -> 1 - v_f)."""
    F = rbm_free_energy(V, W, b, c)
    out = np.zeros(V.shape[0])
    for f in range(V.shape[1]):
        Vf = V.copy()
        Vf[:, f] = 1 - Vf[:, f]
        out += -softplus(-(rbm_free_energy(Vf, W, b, c) - F))
    return out / V.shape[1]


def rbm_exact_gradient(X, W, b, c):
    """Exact gradient of the mean log-likelihood: (dW, db, dc)."""
    V = all_binary_states(W.shape[1])
    F = rbm_free_energy(V, W, b, c)
    p = np.exp(-F - (-F).max())
    p /= p.sum()
    Ph_model = sigmoid(V @ W.T + c)
    Ph_data = sigmoid(X @ W.T + c)
    dW = Ph_data.T @ X / len(X) - (Ph_model * p[:, None]).T @ V
    db = X.mean(axis=0) - p @ V
    dc = Ph_data.mean(axis=0) - p @ Ph_model
    return dW, db, dc


def rbm_model_marginals(W, b, c):
    """p(v_i = 1) under a Bernoulli-Bernoulli RBM, by enumeration."""
    V = all_binary_states(W.shape[1])
    F = rbm_free_energy(V, W, b, c)
    p = np.exp(-F - (-F).max())
    return (p / p.sum()) @ V


# ---- RBM training epoch (reference for BernoulliRBM / GaussianBernoulliRBM.partial_fit)
# Hinton's guide (2010) with momentum, L2 weight decay on W, sparsity on the
# hidden biases; CD-k, PCD (Tieleman 2008), FPCD (Tieleman & Hinton 2009),
# parallel tempering (Desjardins et al. 2010: see pt_swap);
# Gaussian visible units E = sum (v-b)^2/(2 s^2) - c.h - h W v, with
# optionally learned log s^2. Random draws: under key keys[t, j], element
# (i, u) of a sample uses counter i * n_cols + u.


def _rbm_hidden(Z, key, unit, dtype):
    """Means E[h | input Z] and samples, for the hidden unit type."""
    shape = Z.shape
    if unit == "bernoulli":
        p = sigmoid(Z)
        return p, (splitmix_uniform(key, Z.size, dtype).reshape(shape) < p).astype(float)
    noise = splitmix_normal(key, Z.size, dtype).reshape(shape)
    if unit == "gaussian":
        return Z, Z + noise
    return np.maximum(Z, 0), np.maximum(Z + noise * np.sqrt(sigmoid(Z)), 0)  # nrelu


def _rbm_visible(hW, b, s, key, dtype):
    """Means of p(v | h) from ``hW = h @ W`` (``s`` None: Bernoulli units,
    else Gaussian with standard deviations ``s``), and samples if ``key``."""
    if s is not None:
        mean = b + s ** 2 * hW
        sample = None if key is None else \
            mean + s * splitmix_normal(key, mean.size, dtype).reshape(mean.shape)
        return mean, sample
    p = sigmoid(hW + b)
    sample = None if key is None else \
        (splitmix_uniform(key, p.size, dtype).reshape(p.shape) < p).astype(float)
    return p, sample


def fast_pcd_step(param, grad, velocity, fast, lr, mu, grad_scale, weight_decay, fast_decay,
                  fast_step):
    """One update of fast PCD (Tieleman & Hinton 2009): the momentum step of
    the regular parameters with L2 decay, the fast parameters' decaying
    step on the same gradient. Returns (param, velocity, fast, param + fast)."""
    velocity = mu * velocity + lr * (grad_scale * grad - weight_decay * param)
    param = param + velocity
    fast = fast_decay * fast + fast_step * grad
    return param, velocity, fast, param + fast


def rbm_train_epoch(X, state, settings, order, keys):
    """One epoch of mini-batch RBM training; returns (new state, mean error).

    The error is the mean squared reconstruction error of the data; the
    persistent methods (pcd, fpcd, pt) measure it on the first tenth of each
    mini-batch's rows (at least one row), scaled to the batch.

    ``state``: W, b, c, sigma (Gaussian visible), velocity {W, b, c,
    log_variance}, mean_hidden, chain_h (pcd/fpcd/pt), fast {W, b, c} (fpcd).
    Parallel tempering ("pt"): chain_h holds n_temperatures blocks of
    chains, block t at beta_t = (1 - t / (n_temperatures - 1))**2 of
    p_beta(v, h) ~ exp(-beta E(v, h)) (Gaussian visible units: the
    quadratic term untempered); every Gibbs step runs all of them and ends
    with the swaps of ``pt_swap`` (keys 2k + 2 + step); the new state then
    also holds "swaps", the accepted swaps per pair.
    ``settings``: the estimator's parameters plus "visible" and "epoch".
    ``order``: the permutation (None without shuffling); ``keys``: one row
    of 2k + 2 keys per mini-batch (3k + 2 for "pt").
    """
    dtype = X.dtype
    f64 = lambda a: np.array(a, dtype=np.float64)
    W, b, c = f64(state["W"]), f64(state["b"]), f64(state["c"])
    gaussian = settings["visible"] == "gaussian"
    learn_var = gaussian and settings.get("learn_variance", False)
    s = f64(state["sigma"]) if gaussian else None
    log_var = 2 * np.log(s) if learn_var else None
    vel = {name: f64(v) for name, v in state["velocity"].items()}
    q = f64(state["mean_hidden"])
    method, k, unit = settings["method"], settings["k"], settings["hidden_unit"]
    persistent = method != "cd"
    chain = f64(state["chain_h"]) if persistent else None
    fast = {name: f64(v) for name, v in state["fast"].items()} if method == "fpcd" else None
    tempered = method == "pt"
    if tempered:
        betas = np.linspace(1.0, 0.0, settings["n_temperatures"]) ** 2
        n_cold = chain.shape[0] // len(betas)
        beta_rows = np.repeat(betas, n_cold)[:, None]
        swaps = np.zeros(len(betas) - 1)
    lr = settings["learning_rate"]  # partial_fit: constant rate
    mom = settings["initial_momentum"] if settings["epoch"] < settings["momentum_switch"] \
        else settings["final_momentum"]
    fast_lr = settings["learning_rate"] if settings["fast_learning_rate"] is None \
        else settings["fast_learning_rate"]
    wd = settings["weight_decay"]
    n = X.shape[0]
    bs = min(settings["batch_size"], n)
    data = X if order is None else X[order]
    total_err = 0.0
    for t, start in enumerate(range(0, n, bs)):
        v0 = f64(data[start:start + bs])
        nb = v0.shape[0]
        key = keys[t]
        # positive phase: probabilities for the statistics, samples to go on
        h0_mean, h0 = _rbm_hidden(v0 @ W.T + c, key[0], unit, dtype)
        if settings["sparsity_cost"] > 0:
            q = 0.9 * q + 0.1 * h0_mean.mean(axis=0)
        # negative phase parameters: regular (+ fast) weights
        Wn, bn, cn = (W, b, c) if fast is None else (W + fast["W"], b + fast["b"], c + fast["c"])
        # reconstruction error: data vs E[v | h0] under the regular weights;
        # the persistent methods measure the first tenth of the rows (at
        # least one) and scale their sum to the batch
        n_mon = -(-nb // 10) if persistent else nb
        recon, _ = _rbm_visible(h0[:n_mon] @ W, b, s, None, dtype)
        err = ((v0[:n_mon] - recon) ** 2).sum(axis=1) * (nb / n_mon)
        h = chain if persistent else h0
        for step in range(k):
            last = step == k - 1
            sample_v = not last or settings["sample_visible"] or persistent
            if tempered:
                # every temperature's chains; the model's are the first block
                if gaussian:
                    _, v_all = _rbm_visible(beta_rows * (h @ Wn), bn, s, key[1 + 2 * step], dtype)
                    coupling = 0.0
                else:
                    _, v_all = _rbm_visible(beta_rows * (h @ Wn + bn), 0.0, None,
                                            key[1 + 2 * step], dtype)
                    coupling = v_all @ bn
                x = v_all @ Wn.T + cn
                p = sigmoid(beta_rows * x)
                u = splitmix_uniform(key[2 + 2 * step], p.size, dtype).reshape(p.shape)
                h_all = (u < p).astype(float)
                vn, hn_mean = v_all[:n_cold], p[:n_cold]
                coupling = coupling + (h_all * x).sum(axis=1)
                h, _, accepted = pt_swap(coupling, betas, n_cold, key[2 * k + 2 + step], h_all)
                swaps += accepted
                hn = h
                continue
            v_mean, v_sample = _rbm_visible(h @ Wn, bn, s, key[1 + 2 * step] if sample_v else None,
                                            dtype)
            vn = v_sample if sample_v else v_mean
            hn_mean, hn = _rbm_hidden(vn @ Wn.T + cn, key[2 + 2 * step], unit, dtype)
            h = hn
        if persistent:
            chain = hn
        n_neg = vn.shape[0]
        # gradients of the log-likelihood (data minus model statistics)
        grad = {"W": h0_mean.T @ v0 / nb - hn_mean.T @ vn / n_neg,
                "c": h0_mean.mean(axis=0) - hn_mean.mean(axis=0),
                "b": v0.mean(axis=0) - vn.mean(axis=0)}
        if settings["sparsity_cost"] > 0:
            grad["c"] += settings["sparsity_cost"] * (settings["sparsity_target"] - q)
        if gaussian:
            grad["b"] /= s ** 2
            if learn_var:
                # d(-E)/d log s^2 = (v - b)^2 / (2 s^2); for mean states
                # E[(v - b)^2 | h] = (mean - b)^2 + s^2
                neg = ((vn - b) ** 2).mean(axis=0) + (0 if sample_v else s ** 2)
                grad["log_variance"] = (((v0 - b) ** 2).mean(axis=0) - neg) / (2 * s ** 2)
        params = {"W": W, "b": b, "c": c}
        if learn_var:
            params["log_variance"] = log_var
        for name, g in grad.items():
            decay = wd * params[name] if name == "W" else 0.0
            vel[name] = mom * vel[name] + lr * (g - decay)
            params[name] = params[name] + vel[name]
            if fast is not None and name in fast:
                fast[name] = settings["fast_decay"] * fast[name] + fast_lr * g
        W, b, c = params["W"], params["b"], params["c"]
        if learn_var:
            log_var = params["log_variance"]
            s = np.sqrt(np.exp(log_var))
        total_err += err.sum()
    new = {"W": W, "b": b, "c": c, "velocity": vel, "mean_hidden": q}
    if gaussian:
        new["sigma"] = s
    if persistent:
        new["chain_h"] = chain
    if fast is not None:
        new["fast"] = fast
    if tempered:
        new["swaps"] = swaps
    return new, total_err / n


def pt_swap(coupling, betas, n_block, key, S):
    """One round of replica exchange; returns (new S, new coupling, accepted
    swaps per pair).

    Rows of S come in blocks of n_block chains, block t at inverse
    temperature betas[t] of p_t(v, h) ~ exp(betas[t] U(v, h)) base(v), with
    U (the tempered negative energy, b.v + c.h + h W v for Bernoulli
    visible units) given as ``coupling``. Exchanging the states x, y of
    chain r between blocks t and t + 1 is a Metropolis move with ratio
    p_t(y) p_(t+1)(x) / (p_t(x) p_(t+1)(y)) = exp((betas[t] - betas[t+1])
    (U(y) - U(x))), accepted when draw t * n_block + r (float64) under key
    falls below it. The pairs go from the hottest (t = len(betas) - 2) to
    the coldest (t = 0), each seeing the states the previous ones left.
    """
    S = np.array(S, dtype=np.float64)
    U = np.array(coupling, dtype=np.float64)
    u = splitmix_uniform(key, (len(betas) - 1) * n_block, np.float64)
    accepted = np.zeros(len(betas) - 1)
    for t in reversed(range(len(betas) - 1)):
        for r in range(n_block):
            lo, hi = t * n_block + r, (t + 1) * n_block + r
            ratio = np.exp((betas[t] - betas[t + 1]) * (U[hi] - U[lo]))
            if u[lo] < ratio:
                S[[lo, hi]] = S[[hi, lo]]
                U[[lo, hi]] = U[[hi, lo]]
                accepted[t] += 1
    return S, U, accepted


def rbm_path_log_f(V, W, b, base_b, c, beta):
    """log f_beta(v) on the AIS path of a Bernoulli RBM (Salakhutdinov &
    Murray 2008): log sum_h exp(beta (c.h + h W v) + ((1 - beta) base_b +
    beta b).v); f_0 is the base model (W = 0, c = 0, biases base_b), f_1 is
    exp(-F(v))."""
    return V @ ((1 - beta) * base_b + beta * b) + softplus(beta * (V @ W.T + c)).sum(axis=1)


def _rbm_path_sweep(v, W, b, base_b, c, beta, key_h, key_v, dtype):
    """One Gibbs sweep of p_beta on the AIS path (``rbm_path_log_f``): h
    under key_h, then v under key_v."""
    p_h = sigmoid(beta * (v @ W.T + c))
    h = (splitmix_uniform(key_h, p_h.size, dtype).reshape(p_h.shape) < p_h).astype(float)
    p_v = sigmoid(beta * (h @ W) + (1 - beta) * base_b + beta * b)
    return (splitmix_uniform(key_v, p_v.size, dtype).reshape(p_v.shape) < p_v).astype(float)


def _tempered_levels(beta, ladder):
    """The levels of a tempered transition at beta: beta, beta * ladder,
    the ladder back up without its last (hottest) entry, beta."""
    ladder = np.asarray(ladder, dtype=np.float64)
    return np.concatenate([[beta], beta * ladder, beta * ladder[-2::-1], [beta]])


def rbm_tempered_transition(v, W, b, base_b, c, beta, ladder, keys, dtype):
    """A tempered transition (Neal 1996) of each row of v at beta on the AIS
    path: a copy anneals through ``_tempered_levels`` with one Gibbs sweep
    at each inner level (row j - 1 of keys (2L, 2) for level j), r the sum
    of log f_next - log f_level at each change of level, and the row takes
    the copy when u_i < exp(r_i), u the float64 draws under keys[-1, 1].
    Returns (new v, accepted rows)."""
    levels = _tempered_levels(beta, ladder)
    s = np.array(v, dtype=np.float64)
    r = np.zeros(len(s))
    for j in range(1, len(levels)):
        r += rbm_path_log_f(s, W, b, base_b, c, levels[j]) \
            - rbm_path_log_f(s, W, b, base_b, c, levels[j - 1])
        if j < len(levels) - 1:
            s = _rbm_path_sweep(s, W, b, base_b, c, levels[j], *keys[j - 1], dtype)
    take = splitmix_uniform(keys[-1, 1], len(s), np.float64) < np.exp(np.minimum(r, 0.0))
    return np.where(take[:, None], s, v), take


def rbm_tempered_transition_matrix(W, b, base_b, c, beta, ladder):
    """The tempered transition of ``rbm_tempered_transition`` as a (2**d,
    2**d) matrix by enumeration of every path of proposal states (a few
    visible units, a short ladder: (2**d)**(2L) paths)."""
    d = W.shape[1]
    V = all_binary_states(d)
    levels = _tempered_levels(beta, ladder)
    n = len(V)
    # paths[s_0, ..., s_j]: probability of the proposal's states so far;
    # r[...]: their log ratio
    prob, r = np.ones(n), np.zeros(n)
    for j in range(1, len(levels)):
        step = rbm_path_log_f(V, W, b, base_b, c, levels[j]) \
            - rbm_path_log_f(V, W, b, base_b, c, levels[j - 1])
        r = r + step.reshape((1,) * (r.ndim - 1) + (n,))
        if j < len(levels) - 1:
            G = rbm_gibbs_sweep_matrix(W, b, base_b, c, levels[j])
            prob = prob[..., None] * G.reshape((1,) * (prob.ndim - 1) + (n, n))
            r = np.broadcast_to(r[..., None], prob.shape)
    accept = prob * np.exp(np.minimum(r, 0.0))
    T = accept.reshape(n, -1, n).sum(axis=1)
    T[np.arange(n), np.arange(n)] += 1.0 - T.sum(axis=1)
    return T


def rbm_gibbs_sweep_matrix(W, b, base_b, c, beta):
    """One Gibbs sweep (h | v, then v | h) of p_beta on the AIS path as a
    (2**d, 2**d) matrix over ``all_binary_states(d)``."""
    V, H = all_binary_states(W.shape[1]), all_binary_states(W.shape[0])

    def product_probs(states, p):  # P[i, s] = prod_j p[i, j]**s_j (1 - p[i, j])**(1 - s_j)
        return np.exp(np.log(p) @ states.T + np.log1p(-p) @ (1 - states).T)

    v_to_h = product_probs(H, sigmoid(beta * (V @ W.T + c)))
    h_to_v = product_probs(V, sigmoid(beta * (H @ W) + (1 - beta) * base_b + beta * b))
    return v_to_h @ h_to_v


def rbm_raise_runs(X, W, b, base_b, c, betas, n_runs, keys, dtype, tempering=None):
    """RAISE (Burda, Grosse & Salakhutdinov 2015, algorithm 2), Bernoulli
    units: per image and run, the log of the unbiased estimate of q(x), q the
    annealing model (v_0 from the base model p_0, then v_k ~ T_k(. | v_(k-1))
    for k = 1..K, T_k a Gibbs step of p_k = f_k / Z_k, K = len(betas) - 1).

    From v_K = x, the reverse chain draws v_(k-1) ~ T_k(. | v_k) (T_k is
    reversible) for k = K..1, and the estimate is
    p_0(v_0) prod_k f_k(v_k) / f_k(v_(k-1)). Rows are image-major (row
    i * n_runs + r). ``keys`` of shape (K + 2, n_sweeps, 2) (or (K + 2, 2):
    one sweep): T_k is ``n_sweeps`` Gibbs sweeps at ``betas[k]`` (still
    reversible), sweep s drawing its hidden states under keys[K + 1 - k, s,
    0] and its visible states under keys[K + 1 - k, s, 1].

    ``tempering`` (ladder, counts, tempered_keys): forward T_k is the sweeps
    followed by counts[k] tempered transitions (``rbm_tempered_transition``
    with ``ladder``); the reverse chain runs its reversal, the tempered
    transitions first (the i-th of all, in the reverse chain's order, under
    tempered_keys[i]). Returns (n, n_runs).
    """
    K = len(betas) - 1
    keys = np.asarray(keys)
    keys = keys.reshape(len(keys), -1, 2)
    ladder, counts, tempered_keys = tempering if tempering is not None else \
        ([], np.zeros(K + 1, int), None)
    used = 0
    v = np.repeat(np.asarray(X, dtype=np.float64), n_runs, axis=0)
    rows = v.shape[0]
    log_w = np.zeros(rows)
    for k in range(K, 0, -1):
        beta = betas[k]
        log_w += rbm_path_log_f(v, W, b, base_b, c, beta)
        for _ in range(counts[k]):
            v, _ = rbm_tempered_transition(v, W, b, base_b, c, beta, ladder,
                                           tempered_keys[used], dtype)
            used += 1
        for key_h, key_v in keys[K + 1 - k]:
            v = _rbm_path_sweep(v, W, b, base_b, c, beta, key_h, key_v, dtype)
        log_w -= rbm_path_log_f(v, W, b, base_b, c, beta)
    log_z0 = W.shape[0] * np.log(2) + softplus(base_b).sum()
    log_w += rbm_path_log_f(v, W, b, base_b, c, 0.0) - log_z0  # log p_0(v_0)
    return log_w.reshape(-1, n_runs)


def rbm_annealing_model(W, b, base_b, c, betas, n_sweeps, tempering=None):
    """The annealing model q of AIS and RAISE by enumeration (Bernoulli
    units, a few visible units): q = p_0 T_1 ... T_K over every visible
    state (``all_binary_states`` order), T_k = n_sweeps Gibbs sweeps of
    p_k (``rbm_path_log_f``) as a (2**d, 2**d) transition matrix; T_K at
    beta = 1 is the sweeps RAISE's reverse chain starts with.
    ``tempering`` (ladder, counts): T_k then runs counts[k] tempered
    transitions (``rbm_tempered_transition_matrix``) after its sweeps."""
    d, m = W.shape[1], W.shape[0]
    V = all_binary_states(d)
    log_z0 = m * np.log(2) + softplus(base_b).sum()
    q = np.exp(rbm_path_log_f(V, W, b, base_b, c, 0.0) - log_z0)
    for k, beta in enumerate(betas[1:], start=1):
        T = np.linalg.matrix_power(rbm_gibbs_sweep_matrix(W, b, base_b, c, beta), n_sweeps)
        if tempering is not None and tempering[1][k]:
            T = T @ np.linalg.matrix_power(
                rbm_tempered_transition_matrix(W, b, base_b, c, beta, tempering[0]),
                tempering[1][k])
        q = q @ T
    return q


def softmax(z):
    """Row-wise softmax."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rbm_label_train_epoch(V, L, state, settings, order, keys):
    """One epoch of CD-k of a Bernoulli RBM with a group of softmax label
    units (the labelled top RBM of a DBN, Hinton, Osindero & Teh 2006):
    E(v, l, h) = -b.v - d.l - c.h - h W v - h U l.

    Returns (new state, summed squared error, the final negative [v, l] of
    the last mini-batch). ``state``: W, U, b, d, c and velocity {W, U, b, d,
    c}, and "chain_h" for PCD: the hidden states of persistent chains,
    where the negative phase starts (and which it leaves at its final
    sampled hidden states). ``settings``: learning_rate, momentum,
    weight_decay (on W and U only), k, batch_size. The chain samples h and v and carries the label
    probabilities (labels are never sampled); its final visible states are
    sampled, its final hidden update uses probabilities. The error is
    |[v, l] - E[[v, l] | h]|^2 with h sampled from p(h | v, l). Random
    draws as in ``rbm_train_epoch``, the visible ones over whole rows
    [v, l] (the label columns' draws go unused).
    """
    dtype = V.dtype
    f64 = lambda a: np.array(a, dtype=np.float64)
    params = {name: f64(state[name]) for name in ("W", "U", "b", "d", "c")}
    vel = {name: f64(v) for name, v in state["velocity"].items()}
    lr, mom, wd = settings["learning_rate"], settings["momentum"], settings["weight_decay"]
    n, n_visible = V.shape
    bs = min(settings["batch_size"], n)
    if order is not None:
        V, L = V[order], L[order]

    def visible(h, key):
        """Means of [v, l] given h, and states (sampled v, label
        probabilities) if ``key``."""
        p = sigmoid(h @ params["W"] + params["b"])
        q = softmax(h @ params["U"] + params["d"])
        if key is None:
            return np.hstack([p, q])
        u = splitmix_uniform(key, h.shape[0] * (n_visible + q.shape[1]), dtype)
        u = u.reshape(h.shape[0], -1)[:, :n_visible]
        return np.hstack([(u < p).astype(float), q])

    def hidden_input(x):
        return x[:, :n_visible] @ params["W"].T + x[:, n_visible:] @ params["U"].T + params["c"]

    chain = f64(state["chain_h"]) if "chain_h" in state else None
    total = 0.0
    for t, start in enumerate(range(0, n, bs)):
        x0 = np.hstack([f64(V[start:start + bs]), f64(L[start:start + bs])])
        nb = x0.shape[0]
        key = keys[t]
        h0_mean, h0 = _rbm_hidden(hidden_input(x0), key[0], "bernoulli", dtype)
        # with persistent chains, the first tenth of the rows (at least one),
        # scaled to the batch (as rbm_train_epoch)
        n_mon = nb if chain is None else -(-nb // 10)
        total += ((x0[:n_mon] - visible(h0[:n_mon], None)) ** 2).sum() * (nb / n_mon)
        h = h0 if chain is None else chain
        for step in range(settings["k"]):
            xn = visible(h, key[1 + 2 * step])
            hn_mean, h = _rbm_hidden(hidden_input(xn), key[2 + 2 * step], "bernoulli", dtype)
        if chain is not None:
            chain = h
        stats_W = h0_mean.T @ x0 / nb - hn_mean.T @ xn / xn.shape[0]
        grad = {"W": stats_W[:, :n_visible], "U": stats_W[:, n_visible:],
                "b": x0[:, :n_visible].mean(axis=0) - xn[:, :n_visible].mean(axis=0),
                "d": x0[:, n_visible:].mean(axis=0) - xn[:, n_visible:].mean(axis=0),
                "c": h0_mean.mean(axis=0) - hn_mean.mean(axis=0)}
        for name, g in grad.items():
            decay = wd * params[name] if name in ("W", "U") else 0.0
            vel[name] = mom * vel[name] + lr * (g - decay)
            params[name] = params[name] + vel[name]
    new = {**params, "velocity": vel}
    if chain is not None:
        new["chain_h"] = chain
    return new, total, xn



def dbn_updown_pass(X, Y, R, r, G, g, top, k, learning_rate, batch_size, order, layer_keys,
                    top_keys, dtype):
    """One pass of the up-down algorithm (contrastive wake-sleep, Hinton,
    Osindero & Teh 2006, appendix B) over the rows ``X[order]`` and their
    one-hot labels, in mini-batches of ``batch_size``.

    ``R``, ``r``: recognition weights (n_above, n_below) and biases of the
    layers below the top RBM; ``G``, ``g``: the generative ones (n_above,
    n_below) and (n_below,); ``top``: the labelled top RBM's state as
    ``rbm_label_train_epoch`` takes it. Per mini-batch: a wake pass of
    sampled states up the recognition weights (draws under
    ``layer_keys[t, l]``); one CD-``k`` update of the top RBM from the
    wake penultimate states and the labels (``top_keys[t]``; PCD when
    ``top`` holds persistent chains, "chain_h"); a sleep pass
    down the generative weights from the chain's final penultimate states,
    sampled except for the bottom layer (means; ``layer_keys[t, len(R) + l
    - 1]``); then each generative layer learns to predict the wake layer
    below from the one above, and each recognition layer the sleep layer
    above from the one below (delta rule, rate ``learning_rate`` over the
    rows: the batch's for the generative layers, the chains' for the
    recognition layers). Returns (R, r, G, g, top, summed squared error of the
    generative prediction of the data).
    """
    R, r, G, g = ([np.array(a, dtype=np.float64) for a in arrays] for arrays in (R, r, G, g))
    n_penultimate = np.shape(top["W"])[1]

    def sample(Z, key):
        p = sigmoid(Z)
        return (splitmix_uniform(key, p.size, dtype).reshape(p.shape) < p).astype(float)

    total = 0.0
    for t, start in enumerate(range(0, len(order), batch_size)):
        idx = order[start:start + batch_size]
        lr = learning_rate / len(idx)
        wake = [np.array(X[idx], dtype=np.float64)]
        for l in range(len(R)):
            wake.append(sample(wake[-1] @ R[l].T + r[l], layer_keys[t, l]))
        top, _, negative = rbm_label_train_epoch(
            wake[-1], np.array(Y[idx], dtype=np.float64), top,
            {"learning_rate": learning_rate, "momentum": 0.0, "weight_decay": 0.0, "k": k,
             "batch_size": len(idx)}, None, top_keys[t:t + 1])
        sleep = [negative[:, :n_penultimate]]
        for l in range(len(G) - 1, -1, -1):
            Z = sleep[0] @ G[l] + g[l]
            sleep.insert(0, sigmoid(Z) if l == 0 else sample(Z, layer_keys[t, len(R) + l - 1]))
        for l in range(len(G)):
            diff = wake[l] - sigmoid(wake[l + 1] @ G[l] + g[l])
            if l == 0:
                total += float(np.sum(diff * diff))
            G[l] = G[l] + lr * (wake[l + 1].T @ diff)
            g[l] = g[l] + lr * diff.sum(axis=0)
        lr = learning_rate / sleep[0].shape[0]
        for l in range(len(R)):
            diff = sleep[l + 1] - sigmoid(sleep[l] @ R[l].T + r[l])
            R[l] = R[l] + lr * (diff.T @ sleep[l])
            r[l] = r[l] + lr * diff.sum(axis=0)
    return R, r, G, g, top, total

# ---------------------------------------------------------------------------
# Convolutional RBM (issue 17: deepzoo._kernels.conv, deepzoo.layers._conv_rbm).
# Images channels-last (n, H, W, C); filters W (K, fh, fw, C); hidden biases
# b (K,), visible biases c (C,); pooling blocks of (ph, pw), smaller at the
# bottom and right edges of a detection map.


def crbm_detection_input(V, W, b):
    """Valid correlation plus bias: I[n, i, j, k] = b[k] + sum W[k, r, q, c] V[n, i + r, j + q, c]."""
    n, height, width, _ = V.shape
    K, fh, fw, _ = W.shape
    out = np.zeros((n, height - fh + 1, width - fw + 1, K))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            out[:, i, j, :] = np.einsum("nrqc,krqc->nk", V[:, i:i + fh, j:j + fw, :], W) + b
    return out


def crbm_visible_input(H, W):
    """Full convolution of the maps H (n, Hd, Wd, K): every unit adds its filter
    where its patch lies, Z[n, i + r, j + q, c] += H[n, i, j, k] W[k, r, q, c]."""
    n, hd, wd, _ = H.shape
    _, fh, fw, C = W.shape
    Z = np.zeros((n, hd + fh - 1, wd + fw - 1, C))
    for i in range(hd):
        for j in range(wd):
            Z[:, i:i + fh, j:j + fw, :] += np.einsum("nk,krqc->nrqc", H[:, i, j, :], W)
    return Z


def crbm_weight_statistic(H, V, fh, fw):
    """sum over images and positions of H[n, i, j, k] V[n, i + r, j + q, c]:
    the (K, fh, fw, C) statistic of the filters, maps H (n, Hd, Wd, K) with
    their images V (n, H, W, C)."""
    G = np.zeros((H.shape[3], fh, fw, V.shape[3]))
    for i in range(H.shape[1]):
        for j in range(H.shape[2]):
            G += np.einsum("nk,nrqc->krqc", H[:, i, j], V[:, i:i + fh, j:j + fw])
    return G


def crbm_blocks(hd, wd, ph, pw):
    """((bi, bj), rows, cols) of every pooling block, row by row."""
    for bi, i0 in enumerate(range(0, hd, ph)):
        for bj, j0 in enumerate(range(0, wd, pw)):
            yield (bi, bj), slice(i0, min(i0 + ph, hd)), slice(j0, min(j0 + pw, wd))


def crbm_pool(I, ph, pw):
    """Probabilistic max-pooling of the inputs I (bias included).

    Returns the detection probabilities exp(x_u) / (1 + sum_B exp(x)), the
    pooling probabilities 1 - 1 / (1 + sum_B exp(x)) and, per sample, the
    sum over blocks of log(1 + sum_B exp(x)).
    """
    n, hd, wd, K = I.shape
    D = np.zeros(I.shape)
    P = np.zeros((n, -(-hd // ph), -(-wd // pw), K))
    log_z = np.zeros(n)
    for (bi, bj), rows, cols in crbm_blocks(hd, wd, ph, pw):
        block = I[:, rows, cols, :]
        total = 1.0 + np.exp(block).sum(axis=(1, 2))
        D[:, rows, cols, :] = np.exp(block) / total[:, None, None, :]
        P[:, bi, bj, :] = 1.0 - 1.0 / total
        log_z += np.log(total).sum(axis=1)
    return D, P, log_z


def crbm_pool_sample(D, ph, pw, key, dtype):
    """Block states from the detection probabilities D: the unit whose interval
    (after the "all off" state's, units in row-major order) holds the draw is
    on. The draw of sample s, block (bi, bj), filter k is number
    ((s * Hp + bi) * Wp + bj) * K + k under key."""
    n, hd, wd, K = D.shape
    hp, wp = -(-hd // ph), -(-wd // pw)
    u = splitmix_uniform(key, n * hp * wp * K, dtype).reshape(n, hp, wp, K)
    S = np.zeros(D.shape)
    for (bi, bj), rows, cols in crbm_blocks(hd, wd, ph, pw):
        block = D[:, rows, cols, :]
        shape = block.shape
        p = block.reshape(n, -1, K)
        upper = (1.0 - p.sum(axis=1))[:, None, :] + np.cumsum(p, axis=1)
        lower = upper - p
        draw = u[:, bi, bj, :][:, None, :]
        S[:, rows, cols, :] = ((lower <= draw) & (upper > draw)).reshape(shape)
    return S


def crbm_free_energy(V, W, b, c, ph, pw, visible):
    """F(v) in closed form: the hidden layer summed block by block."""
    log_z = crbm_pool(crbm_detection_input(V, W, b), ph, pw)[2]
    if visible == "bernoulli":
        return -log_z - (V * c).sum(axis=(1, 2, 3))
    return -log_z + 0.5 * ((V - c) ** 2).sum(axis=(1, 2, 3))


def crbm_free_energy_brute(V, W, b, c, ph, pw, visible):
    """F(v) = -log sum_h exp(-E(v, h)) over every hidden state with at most
    one unit on per block, from the energy itself."""
    n = V.shape[0]
    I = crbm_detection_input(V, W, 0.0)
    _, hd, wd, K = I.shape
    # each block of each filter: off, or one of its units on
    choices = [[None] + [(i, j, k) for i in range(hd)[rows] for j in range(wd)[cols]]
               for k in range(K) for _, rows, cols in crbm_blocks(hd, wd, ph, pw)]
    energies = []
    for state in np.ndindex(*[len(options) for options in choices]):
        H = np.zeros((n, hd, wd, K))
        for options, pick in zip(choices, state):
            if options[pick] is not None:
                H[(slice(None),) + options[pick]] = 1.0
        energy = -(H * (I + b)).sum(axis=(1, 2, 3))
        if visible == "bernoulli":
            energy -= (V * c).sum(axis=(1, 2, 3))
        else:
            energy += 0.5 * ((V - c) ** 2).sum(axis=(1, 2, 3))
        energies.append(energy)
    E = np.array(energies)
    top = (-E).max(axis=0)
    return -(top + np.log(np.exp(-E - top).sum(axis=0)))


def crbm_pseudo_loglik(V, W, b, c, ph, pw):
    """mean_i log p(v_i | v_-i) of binary visible units, every value
    (pixel and channel) of each image flipped to 1 - v_i in turn:
    p(v_i | v_-i) = exp(-F(v)) / (exp(-F(v)) + exp(-F(v flipped)))."""
    F = crbm_free_energy(V, W, b, c, ph, pw, "bernoulli")
    out = np.zeros(V.shape[0])
    for idx in np.ndindex(*V.shape[1:]):
        flipped = V.copy()
        flipped[(slice(None),) + idx] = 1 - V[(slice(None),) + idx]
        F_flip = crbm_free_energy(flipped, W, b, c, ph, pw, "bernoulli")
        out += np.log(np.exp(-F) / (np.exp(-F) + np.exp(-F_flip)))
    return out / np.prod(V.shape[1:])


def crbm_train_epoch(X, state, settings, order, keys):
    """One epoch of CD-k for the convolutional RBM; returns (new state, summed
    reconstruction error).

    ``X``: images (n, H, W, C). ``state``: W, b (hidden), c (visible),
    velocity {W, b, c}, mean_hidden. ``settings``: the estimator's
    parameters plus "epoch". ``order``: the permutation (None without
    shuffling); ``keys``: one row of 2k + 1 keys per mini-batch: the positive
    hidden sample, then per Gibbs step the visible, then the hidden sample.
    Gradients are averaged over the mini-batch and the positions (pixels for
    the visible biases).
    """
    dtype = X.dtype
    f64 = lambda a: np.array(a, dtype=np.float64)  # noqa: E731
    W, b, c = f64(state["W"]), f64(state["b"]), f64(state["c"])
    vel = {name: f64(v) for name, v in state["velocity"].items()}
    q = f64(state["mean_hidden"])
    ph, pw = settings["pool_shape"]
    gaussian = settings["visible_unit"] == "gaussian"
    mom = settings["initial_momentum"] if settings["epoch"] < settings["momentum_switch"] \
        else settings["final_momentum"]
    lr, wd, k = settings["learning_rate"], settings["weight_decay"], settings["k"]
    n = X.shape[0]
    bs = min(settings["batch_size"], n)
    data = X if order is None else X[order]

    def hidden(V, key):
        D = crbm_pool(crbm_detection_input(V, W, b), ph, pw)[0]
        return D, None if key is None else crbm_pool_sample(D, ph, pw, key, dtype)

    def visible(H, key):
        Z = crbm_visible_input(H, W)
        if gaussian:
            mean = Z + c
            noise = None if key is None else splitmix_normal(key, mean.size, dtype)
            return mean, None if key is None else mean + noise.reshape(mean.shape)
        p = sigmoid(Z + c)
        u = None if key is None else splitmix_uniform(key, p.size, dtype).reshape(p.shape)
        return p, None if key is None else (u < p).astype(float)

    total = 0.0
    for t, start in enumerate(range(0, n, bs)):
        v0 = f64(data[start:start + bs])
        key = keys[t]
        D0, h = hidden(v0, key[0])
        if settings["sparsity_cost"] > 0:
            q = 0.9 * q + 0.1 * D0.mean(axis=(0, 1, 2))
        for step in range(k):
            last = step == k - 1
            sample_v = not last or settings["sample_visible"]
            v_mean, v_sample = visible(h, key[1 + 2 * step] if sample_v else None)
            if step == 0:
                total += ((v0 - v_mean) ** 2).sum()
            vn = v_sample if sample_v else v_mean
            Dn, h = hidden(vn, None if last else key[2 + 2 * step])
        positions = D0.shape[0] * D0.shape[1] * D0.shape[2]
        fh, fw = W.shape[1:3]
        grad_W = crbm_weight_statistic(D0, v0, fh, fw) - crbm_weight_statistic(Dn, vn, fh, fw)
        grad = {"W": grad_W / positions,
                "b": D0.mean(axis=(0, 1, 2)) - Dn.mean(axis=(0, 1, 2)),
                "c": v0.mean(axis=(0, 1, 2)) - vn.mean(axis=(0, 1, 2))}
        if settings["sparsity_cost"] > 0:
            grad["b"] += settings["sparsity_cost"] * (settings["sparsity_target"] - q)
        params = {"W": W, "b": b, "c": c}
        for name, g in grad.items():
            decay = wd * params[name] if name == "W" else 0.0
            vel[name] = mom * vel[name] + lr * (g - decay)
            params[name] = params[name] + vel[name]
        W, b, c = params["W"], params["b"], params["c"]
    return {"W": W, "b": b, "c": c, "velocity": vel, "mean_hidden": q}, total


def gabor_image(params, shape):
    """A 2-D Gabor, pixel by pixel: amplitude * Gaussian envelope (widths
    along and across the wave vector, which points at ``orientation`` in
    (col, row) coordinates) * cosine carrier + offset."""
    amp, row, col, theta, freq, phase, s_along, s_across, offset = params
    out = np.empty(shape)
    for r in range(shape[0]):
        for q in range(shape[1]):
            x, y = q - col, r - row  # x to the right, y down
            u = x * math.cos(theta) + y * math.sin(theta)
            w = -x * math.sin(theta) + y * math.cos(theta)
            envelope = math.exp(-u * u / (2 * s_along ** 2) - w * w / (2 * s_across ** 2))
            out[r, q] = amp * envelope * math.cos(2 * math.pi * freq * u + phase) + offset
    return out


def r_squared(target, fit):
    """1 - residual sum of squares / total sum of squares about the mean."""
    target, fit = np.ravel(target), np.ravel(fit)
    return 1 - np.sum((target - fit) ** 2) / np.sum((target - target.mean()) ** 2)
