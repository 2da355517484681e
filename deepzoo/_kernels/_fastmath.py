"""Element-wise building blocks that LLVM can vectorise.

Numba has no vector math library on this platform (no SVML), so
``math.exp`` and ``math.log`` are scalar calls that stop a loop from being
vectorised: a sigmoid costs about 3 ns per element instead of a fraction of
one. :func:`exp` (float32 and float64) is written here as a Cephes-style
polynomial with the exponent handled by a bit cast, so fused loops over it
compile to SIMD code; its error is a couple of ulps (tests/test_fastmath.py:
within 3 float32 ulps and 2 float64 ulps of the exact value).
:func:`log1p` is :func:`log` (below) with Goldberg's correction for the
rounding of ``1 + t``. The normal draws' :func:`log` (fdlibm's in
float64, Cephes's in float32) and :func:`cos2pi` (Cephes's sine and cosine
polynomials on an exact quarter-turn reduction) are built the same way,
for both float types: with ``math.log`` and ``math.cos`` a block of 100 x
784 Gaussian samples (``rbm.gaussian_rows``) took 2.7 ms, vectorised 0.10
ms in float32 and 0.22 ms in float64 (measured interleaved in one process).

Random numbers come from a counter-based generator: element ``idx`` of a
call with key ``key`` is the ``idx + 1``-th output of SplitMix64 seeded with
``key`` (Steele, Lea & Flood 2014), and normal draw ``idx`` is Box-Muller on
outputs ``2 idx`` and ``2 idx + 1`` read as uniforms of the float type (53
bits in float64, 24 in float32, whose draws therefore stay within
``sqrt(2 log 2**24) = 5.77`` standard deviations: a cut of 8e-9 of the
mass). It needs no shared state, so rows can be
processed in parallel and a key reproduces a draw bit for bit, whatever the
number of threads.

These helpers are not kernels themselves. They are compiled apart, with
their own fast-math flags, and LLVM inlines them into the kernels: inlined at
numba's level instead, they took the kernel's ``reassoc`` flag, which let
LLVM fold the two-step range reduction of ``exp`` into one rounded step
(measured: 213 ulps of error at x = -707 in float64).
"""

import math

import numpy as np
from numba import types
from numba.extending import intrinsic, overload, register_jitable

from ._config import FASTMATH

# Without ``reassoc``: the Cody-Waite range reduction below relies on the
# order of its subtractions (hence no inline="always" on the float helpers).
_HELPER_OPTIONS = {"fastmath": set(FASTMATH) - {"reassoc"}}

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@intrinsic
def _bitcast(typingctx, value, to):
    """The bits of ``value`` read as the type ``to`` (a numpy scalar type of
    the same width, e.g. ``np.float32`` for an int32)."""
    target = to.instance_type
    sig = target(value, to)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(target))

    return sig, codegen


# The functions below are what kernels call. Compiled, each is replaced by
# its overload further down; called from Python (NUMBA_DISABLE_JIT=1), the
# plain versions here run instead. They keep the float type of their
# argument and draw the very same random numbers, so that a seed gives the
# same run with the JIT on or off (design rule 5), up to float32 rounding.


def _float_type(like):
    return np.float32 if np.asarray(like).dtype == np.float32 else np.float64


def exp(x):
    """``e**x``, vectorisable for float32."""
    return _float_type(x)(math.exp(x))


def log1p(t):
    """``log(1 + t)`` for ``t > -1``, vectorisable."""
    return _float_type(t)(math.log1p(t))


def sigmoid(x):
    """``1 / (1 + e**-x)``."""
    return _float_type(x)(0.5 * (1.0 + math.tanh(0.5 * x)))


def softplus(x):
    """``log(1 + e**x)`` without overflow."""
    return _float_type(x)(max(x, 0.0) + math.log1p(math.exp(-abs(x))))


_MASK = (1 << 64) - 1


def _splitmix_python(key, idx):
    z = (int(key) + (int(idx) + 1) * int(_GAMMA)) & _MASK
    z = ((z ^ (z >> 30)) * int(_MIX1)) & _MASK
    z = ((z ^ (z >> 27)) * int(_MIX2)) & _MASK
    return z ^ (z >> 31)


def uniform(key, idx, like):
    """Uniform in [0, 1) of the float type of ``like``: draw ``idx`` under ``key``."""
    if _float_type(like) is np.float32:
        return np.float32(_splitmix_python(key, idx) >> 40) * np.float32(2.0 ** -24)
    return np.float64(_splitmix_python(key, idx) >> 11) * 2.0 ** -53


def log(x):
    """Natural logarithm of a positive normal float ``x``, vectorisable."""
    return _float_type(x)(math.log(x))


def cos2pi(x):
    """``cos(2 pi x)`` for ``x`` in [0, 1), vectorisable."""
    return _float_type(x)(math.cos(2 * math.pi * float(x)))


def normal(key, idx, like):
    """Standard normal draw number ``idx`` under ``key`` (Box-Muller), of
    the float type of ``like``."""
    u1 = 1.0 - float(uniform(key, 2 * idx, like))
    u2 = float(uniform(key, 2 * idx + 1, like))
    return _float_type(like)(math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2))


@register_jitable(**_HELPER_OPTIONS)
def _exp32(x):
    x = min(max(x, np.float32(-87.33)), np.float32(88.72))
    n = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
    r = x - n * np.float32(0.693359375)
    r = r + n * np.float32(2.12194440e-4)
    z = r * r
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * z + r + np.float32(1.0)
    # 2**n built from its exponent bits; n lies in [-126, 128) after clamping
    # except at the top, where the product stays finite.
    scale = _bitcast(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)), np.float32)
    return p * scale


@register_jitable(**_HELPER_OPTIONS)
def _exp64(x):
    # Cephes exp: x = n log(2) + r (Cody-Waite), then a Pade form of e**r on
    # |r| <= log(2) / 2; within 2 ulps of math.exp (tests/test_fastmath.py).
    # the clamp keeps overflow (inf) and underflow (0) as math.exp has them
    x = min(max(x, -745.2), 710.0)
    n = np.floor(1.4426950408889634 * x + 0.5)
    r = x - n * 6.93145751953125e-1
    r = r - n * 1.42860682030941723212e-6
    z = r * r
    p = r * ((1.26177193074810590878e-4 * z + 3.02994407707441961300e-2) * z
             + 9.99999999999999999910e-1)
    q = ((3.00198505138664455042e-6 * z + 2.52448340349684104192e-3) * z
         + 2.27265548208155028766e-1) * z + 2.00000000000000000009e0
    e = 1.0 + 2.0 * (p / (q - p))
    # 2**n as two factors built from their exponent bits: n lies in
    # [-1075, 1024], beyond a single normal float's exponent range
    half = np.int64(n) // np.int64(2)
    s1 = _bitcast((half + np.int64(1023)) << np.int64(52), np.float64)
    s2 = _bitcast((np.int64(n) - half + np.int64(1023)) << np.int64(52), np.float64)
    return e * s1 * s2


@register_jitable(**_HELPER_OPTIONS)
def _log32(x):
    # Cephes logf: x = 2**e m, m folded into [sqrt(1/2), sqrt(2)) around 1,
    # a polynomial in f = m - 1; ln 2 split in two so that e ln 2 is exact.
    # (Selects, not branches: the loops around it vectorise.)
    bits = _bitcast(x, np.int32)
    e = np.float32((bits >> np.int32(23)) - np.int32(127))
    m = _bitcast(np.int32((bits & np.int32(0x007FFFFF)) | np.int32(0x3F800000)), np.float32)
    fold = m > np.float32(1.41421356)
    m = m * np.float32(0.5) if fold else m
    e = e + np.float32(1.0) if fold else e
    f = m - np.float32(1.0)
    z = f * f
    y = np.float32(7.0376836292e-2)
    y = y * f - np.float32(1.1514610310e-1)
    y = y * f + np.float32(1.1676998740e-1)
    y = y * f - np.float32(1.2420140846e-1)
    y = y * f + np.float32(1.4249322787e-1)
    y = y * f - np.float32(1.6668057665e-1)
    y = y * f + np.float32(2.0000714765e-1)
    y = y * f - np.float32(2.4999993993e-1)
    y = y * f + np.float32(3.3333331174e-1)
    y = y * f * z
    y = y - np.float32(2.12194440e-4) * e
    y = y - np.float32(0.5) * z
    return f + y + np.float32(0.693359375) * e


@register_jitable(**_HELPER_OPTIONS)
def _log1p32(t):
    u = np.float32(1.0) + t
    result = _log32(u)
    # 1 + t rounds away digits of a small t: log(u) is exact for u = 1 + t
    # as rounded, so scale by t / (u - 1) (Goldberg 1991, theorem 4).
    if u != np.float32(1.0):
        result = result * (t / (u - np.float32(1.0)))
    else:
        result = t
    return result


@register_jitable(**_HELPER_OPTIONS)
def _log1p64(t):
    # as _log1p32
    u = 1.0 + t
    result = _log64(u)
    if u != 1.0:
        result = result * (t / (u - 1.0))
    else:
        result = t
    return result


@register_jitable(**_HELPER_OPTIONS)
def _log64(x):
    # fdlibm's log: x = 2**e m, m folded into [sqrt(1/2), sqrt(2)), f = m - 1,
    # log(1 + f) from s = f / (2 + f) and a polynomial in s**2; ln 2 split
    # in two so that e ln 2 is exact. Under 1 ulp in fdlibm; the order of the
    # final sum matters (hence no ``reassoc``).
    bits = _bitcast(x, np.int64)
    e = np.float64((bits >> np.int64(52)) - np.int64(1023))
    m = _bitcast((bits & np.int64(0x000FFFFFFFFFFFFF)) | np.int64(0x3FF0000000000000),
                 np.float64)
    fold = m > 1.4142135623730951
    m = m * 0.5 if fold else m
    e = e + 1.0 if fold else e
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01
                                              + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                                              + w * (1.818357216161805012e-01
                                                     + w * 1.479819860511658591e-01)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return e * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + r)
                                                      + e * 1.90821492927058770002e-10)) - f)


# cos(2 pi u): u = q / 4 + f with q = round(4 u) and |f| <= 1/8, both exact,
# so cos(2 pi u) is +-cos or +-sin of x = 2 pi f in [-pi/4, pi/4], where
# Cephes's polynomials hold (sin.c, sinf.c, cosf.c); no range reduction error.

@register_jitable(**_HELPER_OPTIONS)
def _cos2pi32(x):
    q = np.floor(x * np.float32(4.0) + np.float32(0.5))
    t = (x - np.float32(0.25) * q) * np.float32(6.283185307179586)
    z = t * t
    sin = ((np.float32(-1.9515295891e-4) * z + np.float32(8.3321608736e-3)) * z
           - np.float32(1.6666654611e-1)) * z * t + t
    cos = ((np.float32(2.443315711809948e-5) * z - np.float32(1.388731625493765e-3)) * z
           + np.float32(4.166664568298827e-2)) * z * z - np.float32(0.5) * z + np.float32(1.0)
    quarter = np.int32(q)
    r = sin if quarter & np.int32(1) else cos
    return -r if (quarter + np.int32(1)) & np.int32(2) else r


@register_jitable(**_HELPER_OPTIONS)
def _cos2pi64(x):
    q = np.floor(x * 4.0 + 0.5)
    t = (x - 0.25 * q) * 6.283185307179586
    z = t * t
    sin = t + t * z * (((((1.58962301576546568060e-10 * z - 2.50507477628578072866e-8) * z
                          + 2.75573136213857245213e-6) * z - 1.98412698295895385996e-4) * z
                        + 8.33333333332211858878e-3) * z - 1.66666666666666307295e-1)
    cos = 1.0 - 0.5 * z + z * z * (((((-1.13585365213876817300e-11 * z
                                       + 2.08757008419747316778e-9) * z
                                      - 2.75573141792967388112e-7) * z
                                     + 2.48015872888517045348e-5) * z
                                    - 1.38888888888730564116e-3) * z
                                   + 4.16666666666665929218e-2)
    quarter = np.int64(q)
    r = sin if quarter & np.int64(1) else cos
    return -r if (quarter + np.int64(1)) & np.int64(2) else r


def _overload_by_precision(target, single, double):
    """Compile ``target`` as ``single`` for a float32 argument and as
    ``double`` otherwise. numba matches parameter names: the three take
    one argument named ``x``."""
    def typer(x):
        return single if x == types.float32 else double
    overload(target, jit_options=_HELPER_OPTIONS)(typer)


_overload_by_precision(exp, _exp32, _exp64)
_overload_by_precision(log, _log32, _log64)
_overload_by_precision(cos2pi, _cos2pi32, _cos2pi64)


@overload(log1p, jit_options=_HELPER_OPTIONS)
def _log1p_overload(t):
    if t == types.float32:
        return _log1p32
    return _log1p64


@overload(sigmoid, jit_options=_HELPER_OPTIONS)
def _sigmoid_overload(x):
    if x == types.float32:
        return lambda x: np.float32(1.0) / (np.float32(1.0) + _exp32(-x))
    return lambda x: 1.0 / (1.0 + _exp64(-x))


@overload(softplus, jit_options=_HELPER_OPTIONS)
def _softplus_overload(x):
    if x == types.float32:
        return lambda x: max(x, np.float32(0.0)) + _log1p32(_exp32(-abs(x)))
    return lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@register_jitable(inline="always", **_HELPER_OPTIONS)
def _splitmix(key, idx):
    z = key + (np.uint64(idx) + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@overload(uniform, jit_options=_HELPER_OPTIONS, inline="always")
def _uniform_overload(key, idx, like):
    if like == types.float32:
        # top 24 bits: every float32 in [0, 1) on the 2**-24 grid.
        return lambda key, idx, like: np.float32(
            _splitmix(key, idx) >> np.uint64(40)) * np.float32(5.9604644775390625e-08)
    return lambda key, idx, like: np.float64(
        _splitmix(key, idx) >> np.uint64(11)) * 1.1102230246251565e-16


@overload(normal, jit_options=_HELPER_OPTIONS, inline="always")
def _normal_overload(key, idx, like):
    # Box-Muller on draws 2 idx and 2 idx + 1 (the uniforms of ``uniform``),
    # with the vectorisable log and cosine: inlined here (numba's inline),
    # so that LLVM sees the whole draw inside the kernel's loop; called, it
    # would not inline a body this size and the loop would stay scalar.
    if like == types.float32:
        def draw32(key, idx, like):
            u1 = np.float32(1.0) - np.float32(
                _splitmix(key, 2 * idx) >> np.uint64(40)) * np.float32(5.9604644775390625e-08)
            u2 = np.float32(
                _splitmix(key, 2 * idx + 1) >> np.uint64(40)) * np.float32(5.9604644775390625e-08)
            return np.sqrt(np.float32(-2.0) * _log32(u1)) * _cos2pi32(u2)
        return draw32

    def draw64(key, idx, like):
        u1 = 1.0 - np.float64(_splitmix(key, 2 * idx) >> np.uint64(11)) * 1.1102230246251565e-16
        u2 = np.float64(_splitmix(key, 2 * idx + 1) >> np.uint64(11)) * 1.1102230246251565e-16
        return np.sqrt(-2.0 * _log64(u1)) * _cos2pi64(u2)
    return draw64


def cast_like(x, like):
    """``x`` converted to the float type of ``like``.

    Kernels convert their scalar arguments once, so that a Python float does
    not promote a float32 loop to float64 (and to scalar ``math`` calls).
    """
    return _float_type(like)(x)


@overload(cast_like, jit_options=_HELPER_OPTIONS, inline="always")
def _cast_like_overload(x, like):
    if like == types.float32:
        return lambda x, like: np.float32(x)
    return lambda x, like: np.float64(x)
