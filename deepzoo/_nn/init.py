"""Weight initialisers.

Weights have shape ``(fan_out, fan_in)``: one row per unit, holding its
incoming weights, the layout of ``components_``. Every initialiser takes an
explicit ``numpy.random.RandomState`` or ``Generator`` and the dtype.
"""

from numbers import Integral, Real

import numpy as np

from ..utils._compat import Interval, StrOptions, validate_params
from ..utils.validation import check_not_bool

__all__ = ["INITIALIZERS", "init_weights"]


def _small(rng, fan_in, fan_out, scale):
    # Hinton (2010), "A practical guide to training RBMs", section 8: N(0, 0.01^2).
    return rng.standard_normal((fan_out, fan_in)) * (0.01 * scale)


def _glorot(rng, fan_in, fan_out, scale):
    # Glorot & Bengio (2010), eq. 16: U(-b, b), b = sqrt(6 / (fan_in + fan_out)).
    bound = scale * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, (fan_out, fan_in))


def _he(rng, fan_in, fan_out, scale):
    # He et al. (2015), eq. 10: N(0, 2 / fan_in), for rectifiers.
    return rng.standard_normal((fan_out, fan_in)) * (scale * np.sqrt(2.0 / fan_in))


def _sparse(rng, fan_in, fan_out, scale, n_nonzero=15):
    # Martens (2010), section 5: each unit gets exactly 15 non-zero incoming
    # weights drawn from N(0, 1), so units differ without saturating.
    W = np.zeros((fan_out, fan_in))
    k = min(n_nonzero, fan_in)
    for row in W:
        row[rng.permutation(fan_in)[:k]] = rng.standard_normal(k) * scale
    return W


#: name -> function(rng, fan_in, fan_out, scale) returning float64 weights
INITIALIZERS = {
    "small": _small,
    "glorot": _glorot,
    "xavier": _glorot,
    "he": _he,
    "sparse": _sparse,
}


@validate_params(
    {
        "method": [StrOptions(set(INITIALIZERS))],
        "fan_in": [Interval(Integral, 1, None, closed="left")],
        "fan_out": [Interval(Integral, 1, None, closed="left")],
        "rng": [np.random.RandomState, np.random.Generator],
        "dtype": "no_validation",  # checked below: any float dtype spelling
        "scale": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def init_weights(method, fan_in, fan_out, rng, dtype=np.float64, scale=1.0):
    """Draw a ``(fan_out, fan_in)`` weight matrix.

    Parameters
    ----------
    method : {"small", "glorot", "xavier", "he", "sparse"}
        ``"small"``: N(0, 0.01^2) (Hinton 2010); ``"glorot"``/``"xavier"``:
        U(-b, b) with b = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio
        2010); ``"he"``: N(0, 2 / fan_in) (He et al. 2015); ``"sparse"``: 15
        N(0, 1) weights per unit, the rest zero (Martens 2010).
    fan_in, fan_out : int >= 1
        Inputs and units of the layer.
    rng : numpy.random.RandomState or numpy.random.Generator
    dtype : float dtype, default=numpy.float64
    scale : float > 0, default=1.0
        Gain multiplying every weight (e.g. 4 for Glorot init of sigmoid
        units, as Glorot & Bengio suggest); finite.

    Returns
    -------
    W : ndarray of shape (fan_out, fan_in), C-contiguous, of ``dtype``

    Raises
    ------
    ValueError, TypeError
        Naming the argument that is out of its range or of the wrong type
        (a bool is not a fan).

    Examples
    --------
    >>> import numpy as np
    >>> W = init_weights("sparse", 20, 3, np.random.RandomState(0))
    >>> (W != 0).sum(axis=1)
    array([15, 15, 15])
    """
    check_not_bool("init_weights", fan_in=fan_in, fan_out=fan_out)
    try:
        float_dtype = np.dtype(dtype)
    except TypeError:
        float_dtype = None
    if float_dtype is None or float_dtype.kind != "f":
        raise ValueError(f"init_weights: dtype must be a float dtype (e.g. numpy.float32); "
                         f"got {dtype!r}.")
    return np.ascontiguousarray(INITIALIZERS[method](rng, fan_in, fan_out, scale),
                                dtype=float_dtype)
