"""The engine's operations: each primitive's forward stands beside its VJPs.

Every function takes Tensors, ndarrays or numbers. Given at least one Tensor it
returns a Tensor that records how to pull gradients back; given none it returns
a plain ndarray. Binary operations broadcast; the backward pass sums gradients
back to each input's shape (:func:`skvgrad.engine.tensor.unbroadcast`).
"""

import numpy as np
import scipy.sparse as sp

from skvgrad.engine.tensor import Tensor, primitive

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "power",
    "negative",
    "exp",
    "log",
    "sqrt",
    "square",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "log_sigmoid",
    "maximum",
    "where",
    "matmul",
    "sum",
    "mean",
    "logsumexp",
    "softmax",
    "log_softmax",
    "reshape",
    "transpose",
    "getitem",
    "concatenate",
]


# Arithmetic ----------------------------------------------------------------


@primitive
def add(a, b):
    """Elementwise ``a + b``."""
    return np.add(a, b), (lambda g: g, lambda g: g)


@primitive
def subtract(a, b):
    """Elementwise ``a - b``."""
    return np.subtract(a, b), (lambda g: g, lambda g: -g)


@primitive
def multiply(a, b):
    """Elementwise ``a * b``."""
    return np.multiply(a, b), (lambda g: g * b, lambda g: g * a)


@primitive
def divide(a, b):
    """Elementwise ``a / b``."""
    ans = np.divide(a, b)
    return ans, (lambda g: g / b, lambda g: -g * ans / b)


@primitive
def power(a, b):
    """Elementwise ``a ** b``; the gradient for ``b`` treats ``log(0)`` as 0."""
    ans = np.power(a, b)

    def vjp_b(g):
        a_pos = np.where(np.greater(a, 0), a, 1)
        return g * ans * np.log(a_pos)

    return ans, (lambda g: g * b * np.power(a, b - 1), vjp_b)


@primitive
def negative(a):
    """Elementwise ``-a``."""
    return np.negative(a), (np.negative,)


# Elementwise functions -------------------------------------------------------


@primitive
def exp(x):
    """Elementwise exponential.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import exp, grad
    >>> grad(lambda x: exp(x).sum())(np.zeros(2))
    array([1., 1.])
    """
    ans = np.exp(x)
    return ans, (lambda g: g * ans,)


@primitive
def log(x):
    """Elementwise natural logarithm."""
    return np.log(x), (lambda g: g / x,)


@primitive
def sqrt(x):
    """Elementwise square root."""
    ans = np.sqrt(x)
    return ans, (lambda g: g * 0.5 / ans,)


@primitive
def square(x):
    """Elementwise ``x ** 2``."""
    return np.square(x), (lambda g: g * 2 * x,)


@primitive
def tanh(x):
    """Elementwise hyperbolic tangent."""
    ans = np.tanh(x)

    def vjp(g):
        d = np.asarray(ans * ans)
        np.subtract(1, d, out=d)
        d *= g
        return d

    return ans, (vjp,)


def _sigmoid(x):
    """Logistic function as ``0.5 + 0.5 tanh(x / 2)``: fast, never overflows."""
    x = np.asarray(x)
    if x.ndim == 0:
        return 0.5 + 0.5 * np.tanh(0.5 * x)
    ans = np.multiply(x, 0.5)
    np.tanh(ans, out=ans)
    ans *= 0.5
    ans += 0.5
    return ans


def _log1p_exp_neg_abs(x):
    """``log(1 + exp(-|x|))``, the smooth part of softplus, without overflow."""
    return np.log1p(np.exp(-np.abs(x)))


@primitive
def sigmoid(x):
    """Elementwise logistic function ``1 / (1 + exp(-x))``, stable for any x.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import sigmoid
    >>> sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    ans = _sigmoid(x)

    def vjp(g):
        d = 1 - ans
        d *= ans
        d *= g
        return d

    return ans, (vjp,)


@primitive
def relu(x):
    """Elementwise ``max(x, 0)``; the gradient at 0 is 0."""
    ans = np.maximum(x, 0)
    return ans, (lambda g: g * (ans > 0),)


@primitive
def softplus(x):
    """Elementwise ``log(1 + exp(x))``, stable for any x.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import softplus
    >>> softplus(np.array([-1e4, 0.0, 1e4]))
    array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
    """
    x = np.asarray(x)
    ans = np.maximum(x, 0) + _log1p_exp_neg_abs(x)
    return ans, (lambda g: g * _sigmoid(x),)


@primitive
def log_sigmoid(x):
    """Elementwise ``log(sigmoid(x)) = -softplus(-x)``, stable for any x.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import log_sigmoid
    >>> log_sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([-1.00000000e+04, -6.93147181e-01,  0.00000000e+00])
    """
    x = np.asarray(x)
    ans = np.minimum(x, 0) - _log1p_exp_neg_abs(x)
    return ans, (lambda g: g * _sigmoid(-x),)


@primitive
def maximum(a, b):
    """Elementwise maximum; at ties the gradient is split evenly."""
    ans = np.maximum(a, b)

    def share(mine, other):
        return np.greater(mine, other) + 0.5 * np.equal(mine, other)

    return ans, (lambda g: g * share(a, b), lambda g: g * share(b, a))


def where(condition, x, y):
    """Elementwise ``x`` where ``condition`` holds, else ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import Tensor, where
    >>> x = Tensor(np.array([-2.0, 3.0]))
    >>> where(x > 0, x, 0.1 * x)
    Tensor([-0.2,  3. ])
    """
    if isinstance(condition, Tensor):
        condition = condition.value
    return _where(x, y, condition=np.asarray(condition, dtype=bool))


@primitive
def _where(x, y, condition):
    """``where`` on the differentiable operands only."""
    return np.where(condition, x, y), (
        lambda g: np.where(condition, g, 0),
        lambda g: np.where(condition, 0, g),
    )


# Linear algebra -----------------------------------------------------------------


def _swap(a):
    """Transpose the last two axes (a sparse matrix: its transpose)."""
    return a.T if sp.issparse(a) else np.swapaxes(a, -1, -2)


@primitive
def matmul(a, b):
    """Matrix product ``a @ b`` with NumPy's rules for 1-D and stacked operands.

    ``a`` may be a SciPy sparse matrix (CSR/CSC) when ``b`` is dense; the
    gradient then flows to ``b`` only.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import Tensor, matmul
    >>> w = Tensor(np.ones((2, 1)))
    >>> matmul(np.array([[1.0, 2.0]]), w).sum().backward()
    >>> w.grad
    array([[1.],
           [2.]])
    """
    ans = a @ b
    if isinstance(a, np.ndarray) and a.ndim == 2 and np.ndim(b) == 2:
        return ans, (lambda g: g @ b.T, lambda g: a.T @ g)
    if sp.issparse(a):
        return np.asarray(ans), (None, lambda g: np.asarray(a.T @ g))
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return ans, (lambda g: g * b, lambda g: g * a)
    a2 = a[np.newaxis, :] if np.ndim(a) == 1 else a
    b2 = b[:, np.newaxis] if np.ndim(b) == 1 else b

    def as_2d(g):
        if np.ndim(a) == 1:
            g = np.expand_dims(g, -2)
        if np.ndim(b) == 1:
            g = np.expand_dims(g, -1)
        return g

    def vjp_a(g):
        ga = as_2d(g) @ _swap(b2)
        return ga[..., 0, :] if np.ndim(a) == 1 else ga

    def vjp_b(g):
        gb = _swap(a2) @ as_2d(g)
        return gb[..., 0] if np.ndim(b) == 1 else gb

    return ans, (vjp_a, vjp_b)


# Reductions ----------------------------------------------------------------------


def _expand(g, shape, axis, keepdims):
    """Broadcast a reduction's gradient back to the input's ``shape``."""
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


@primitive
def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (all axes by default).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import sum
    >>> sum(np.ones((2, 3)), axis=0)
    array([2., 2., 2.])
    """
    shape = np.shape(x)
    ans = np.sum(x, axis=axis, keepdims=keepdims)
    return ans, (lambda g: _expand(g, shape, axis, keepdims),)


@primitive
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes by default)."""
    shape = np.shape(x)
    ans = np.mean(x, axis=axis, keepdims=keepdims)
    n = max(np.size(x), 1) / max(np.size(ans), 1)
    return ans, (lambda g: _expand(g / n, shape, axis, keepdims),)


def _max_and_log_sum(x, axis):
    """Finite max ``m`` of x over ``axis`` and ``log(sum(exp(x - m)))`` (keepdims)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return m, np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


@primitive
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, stable for large inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import logsumexp
    >>> logsumexp(np.array([1e4, 1e4]))
    array(10000.69314718)
    """
    x = np.asarray(x)
    m, log_sum = _max_and_log_sum(x, axis)
    lse = m + log_sum
    ans = lse if keepdims else np.squeeze(lse, axis=axis)

    def vjp(g):
        if not keepdims and axis is not None:
            g = np.expand_dims(g, axis)
        return g * np.exp(x - lse)

    return ans, (vjp,)


@primitive
def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``: log-probabilities, stable for large inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import log_softmax
    >>> log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    x = np.asarray(x)
    m, log_sum = _max_and_log_sum(x, axis)
    ans = (x - m) - log_sum
    return ans, (lambda g: g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True),)


@primitive
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` over ``axis``, stable for large inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import softmax
    >>> softmax(np.array([1e4, 1e4]))
    array([0.5, 0.5])
    """
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    ans = np.exp(x - np.where(np.isfinite(m), m, 0))
    ans /= np.sum(ans, axis=axis, keepdims=True)
    return ans, (lambda g: ans * (g - np.sum(g * ans, axis=axis, keepdims=True)),)


# Shapes and indexing ---------------------------------------------------------------


@primitive
def reshape(x, shape):
    """The same data in another ``shape``."""
    old = np.shape(x)
    return np.reshape(x, shape), (lambda g: np.reshape(g, old),)


@primitive
def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None)."""
    inverse = None if axes is None else np.argsort([a % np.ndim(x) for a in axes])
    return np.transpose(x, axes), (lambda g: np.transpose(g, inverse),)


def getitem(x, index):
    """``x[index]`` for basic and integer-array indices.

    Repeated integer indices accumulate their gradients (scatter-add).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import Tensor, getitem
    >>> x = Tensor(np.zeros(3))
    >>> getitem(x, np.array([0, 0, 2])).sum().backward()
    >>> x.grad
    array([2., 0., 1.])
    """
    if isinstance(index, Tensor):
        index = index.value
    elif isinstance(index, tuple):
        index = tuple(i.value if isinstance(i, Tensor) else i for i in index)
    return _getitem(x, index=index)


@primitive
def _getitem(x, index):
    """Indexing on the differentiable operand."""
    x = np.asarray(x)
    items = index if isinstance(index, tuple) else (index,)
    basic = all(
        i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
        for i in items
    )

    def vjp(g):
        out = np.zeros_like(x)
        if basic:
            out[index] = g
        else:
            np.add.at(out, index, g)
        return out

    return x[index], (vjp,)


def concatenate(arrays, axis=0):
    """Join a sequence of Tensors or arrays along ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import concatenate
    >>> concatenate([np.zeros(2), np.ones(1)])
    array([0., 0., 1.])
    """
    return _concatenate(*arrays, axis=axis)


@primitive
def _concatenate(*arrays, axis):
    """``concatenate`` with the operands as positional arguments."""
    ans = np.concatenate(arrays, axis=axis)
    bounds = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]

    def piece(i):
        return lambda g: np.split(g, bounds, axis=axis)[i]

    return ans, tuple(piece(i) for i in range(len(arrays)))
