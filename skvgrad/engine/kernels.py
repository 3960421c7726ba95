"""Elementwise activation kernels on plain NumPy arrays, and their derivatives.

One formula per function, shared by the engine's primitives
(:func:`skvgrad.engine.sigmoid`, ...) and by fused layers such as
:func:`skvgrad.nn.dense`. No Tensors here: arrays in, arrays out.

Forward kernels take ``out=``: pass the input itself to work in place (each is
elementwise, so that is safe). Derivative kernels ``f_grad(g, ans)`` return
``g * f'(x)`` computed from the output ``ans = f(x)``, with at most one
temporary array; their result may share memory with ``g`` (``identity_grad``
returns ``g`` itself) and must not be written into by the caller unless it
owns ``g``; with ``out=`` they write their result there instead (``out`` may
be ``g``). They also accept the input ``x`` as a third argument and ignore
it: that makes each one a VJP of the engine (``vjp(g, ans, x)``) as it is.

Every kernel is stable for inputs of any magnitude: no overflow, no
RuntimeWarning at 1e4 or -1e4. The logistic function is computed as
``exp(min(x, 0)) / (1 + exp(-|x|))``, which keeps full relative accuracy in
its tail (as ``scipy.special.expit`` does, at half its cost): the faster
``0.5 + 0.5 * tanh(x / 2)`` rounds to 0 below x = -38 (-20 in float32), which
makes ``log(sigmoid(x))`` infinite.

Examples
--------
>>> import numpy as np
>>> from skvgrad.engine import kernels
>>> z = np.array([-1e4, 0.0, 1e4])
>>> a = kernels.sigmoid(z)
>>> a
array([0. , 0.5, 1. ])
>>> kernels.sigmoid_grad(np.ones(3), a)
array([0.  , 0.25, 0.  ])
"""

from typing import Any

import numpy as np

__all__ = [
    "identity",
    "identity_grad",
    "log1p_exp_neg_abs",
    "log_sigmoid",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softplus",
    "tanh",
    "tanh_grad",
]


def _is_array(x):
    """Whether ``x`` is an ndarray (ufuncs give NumPy scalars for 0-d inputs)."""
    return type(x) is np.ndarray


def identity(x, out=None):
    """``x`` itself (copied into ``out`` when given).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import identity
    >>> identity(np.array([1.0, -2.0]))
    array([ 1., -2.])
    """
    if out is None or out is x:
        return x
    np.copyto(out, x)
    return out


def identity_grad(g, ans, x=None, out=None):
    """``g``: the derivative of the identity is 1 (copied into ``out`` if given).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import identity_grad
    >>> identity_grad(np.array([0.5]), np.array([3.0]))
    array([0.5])
    """
    if out is None or out is g:
        return g
    np.copyto(out, g)
    return out


def sigmoid(x, out=None):
    """Logistic function ``1 / (1 + exp(-x))``, accurate in both tails.

    Computed as ``exp(min(x, 0)) / (1 + exp(-|x|))``: no overflow, and full
    relative accuracy for large negative ``x`` (``sigmoid(-40)`` is 4.2e-18,
    not 0), as ``scipy.special.expit``.

    Parameters
    ----------
    x : array-like
        Input.
    out : ndarray, optional
        Where to write the result; may be ``x`` itself.

    Returns
    -------
    ndarray
        The logistic function of ``x``, in ``x``'s floating dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import sigmoid
    >>> z = np.array([-2.0, 0.0, 2.0])
    >>> sigmoid(z, out=z) is z
    True
    >>> z
    array([0.11920292, 0.5       , 0.88079708])
    >>> sigmoid(np.array([-40.0, 40.0]))
    array([4.24835426e-18, 1.00000000e+00])
    """
    x = np.asarray(x)
    if x.ndim == 0:  # ufuncs give NumPy scalars: no temporaries to work in
        value = np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))
        return value if out is None else np.copyto(out, value) or out  # type: ignore[func-returns-value]  # copyto gives None
    # The numerator exp(min(x, 0)) is max(exp(-|x|), [x >= 0]): one exp, not two.
    numerator = np.empty_like(x) if out is None or out is x else out
    np.greater_equal(x, 0, out=numerator)
    tail = np.abs(x)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)  # exp(-|x|), in (0, 1]
    np.maximum(tail, numerator, out=numerator)
    tail += 1
    return np.divide(numerator, tail, out=numerator if out is None else out)


def sigmoid_grad(g, ans, x=None, out=None):
    """``g * ans * (1 - ans)``: the VJP of the logistic function from its output.

    ``out`` receives the result; it may be ``g`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import sigmoid_grad
    >>> sigmoid_grad(np.array([2.0]), np.array([0.5]))
    array([0.5])
    """
    d = np.multiply(ans, ans)
    if not _is_array(d):
        return g * (ans - d)
    np.subtract(ans, d, out=d)  # ans (1 - ans), exact where ans is 0 or 1
    return np.multiply(d, g, out=d if out is None else out)


def tanh(x, out=None):
    """Hyperbolic tangent.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import tanh
    >>> tanh(np.array([0.0, 1e4]))
    array([0., 1.])
    """
    return np.tanh(x) if out is None else np.tanh(x, out=out)


def tanh_grad(g, ans, x=None, out=None):
    """``g * (1 - ans**2)``: the VJP of tanh from its output.

    ``out`` receives the result; it may be ``g`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import tanh_grad
    >>> tanh_grad(np.array([2.0]), np.array([0.5]))
    array([1.5])
    """
    d = np.multiply(g, ans, out=None if out is None or out is g else out)
    if not _is_array(d):
        return g - d * ans
    d *= ans
    # g - g ans**2: no scalar operand, fast on small arrays
    return np.subtract(g, d, out=d if out is None else out)


def relu(x, out=None):
    """``max(x, 0)``.

    Against an array of zeros of its shape, not the number 0: NumPy's fast
    loop needs two contiguous operands (about three times as fast).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import relu
    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    zero = _zeros(x) if _is_array(x) and x.flags.c_contiguous else 0
    return np.maximum(x, zero) if out is None else np.maximum(x, zero, out=out)


_ZEROS: dict[tuple[Any, Any], Any] = {}  # (shape, dtype) -> a read-only array of zeros


def _zeros(like):
    """Zeros of the shape and dtype of ``like``, made once (a few are kept)."""
    key = (like.shape, like.dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= 8:
            _ZEROS.clear()
        zeros = _ZEROS[key] = np.zeros(like.shape, like.dtype)
        zeros.flags.writeable = False
    return zeros


def relu_grad(g, ans, x=None, out=None):
    """``g`` where ``ans > 0``, else 0 (the derivative at 0 is taken as 0).

    ``out`` receives the result; it may be ``g`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import relu_grad
    >>> relu_grad(np.array([5.0, 5.0]), np.array([0.0, 2.0]))
    array([0., 5.])
    """
    return np.multiply(g, np.greater(ans, 0), out=out)


def log1p_exp_neg_abs(x, out=None):
    """``log(1 + exp(-|x|))``: the smooth part of softplus, never overflowing.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import log1p_exp_neg_abs
    >>> log1p_exp_neg_abs(np.array([0.0, -1e4]))
    array([0.69314718, 0.        ])
    """
    out = np.abs(x) if out is None else np.abs(x, out=out)
    if not _is_array(out):
        return np.log1p(np.exp(-out))
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    return out


def softplus(x, out=None):
    """``log(1 + exp(x))`` as ``max(x, 0) + log(1 + exp(-|x|))``.

    Its derivative is the logistic function: ``g * sigmoid(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import softplus
    >>> softplus(np.array([-1e4, 0.0, 1e4]))
    array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
    """
    smooth = log1p_exp_neg_abs(x)
    out = np.maximum(x, 0) if out is None else np.maximum(x, 0, out=out)
    if not _is_array(out):
        return out + smooth
    out += smooth
    return out


def log_sigmoid(x, out=None):
    """``log(sigmoid(x)) = -softplus(-x)`` as ``min(x, 0) - log(1 + exp(-|x|))``.

    Its derivative is ``sigmoid(-x)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.kernels import log_sigmoid
    >>> log_sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([-1.00000000e+04, -6.93147181e-01,  0.00000000e+00])
    """
    smooth = log1p_exp_neg_abs(x)
    out = np.minimum(x, 0) if out is None else np.minimum(x, 0, out=out)
    if not _is_array(out):
        return out - smooth
    out -= smooth
    return out
