"""Multi-layer perceptron pieces built from engine operations.

Nothing here knows about estimators. The network's parameters are lists of
arrays (or Tensors), and every function works on plain arrays too, which is how
predictions are made without recording a graph. :class:`Objective` turns a
network, a loss and a penalty into one function of a flat parameter vector:
what the optimizers minimise.

The tables:

- :data:`ACTIVATIONS`: hidden-layer activations by name.
- :data:`OUTPUTS`: output layers by name, from raw outputs to predictions.
- :data:`LOSSES`: built-in losses by name, each a *reduced* loss
  ``loss(raw, Y, sample_weight, scale) -> scale * sum_i w_i loss_i``.
  :func:`per_sample` turns a loss written per sample into a reduced one.

An :class:`InputEmbedding` in front of the network embeds the columns of a
tabular matrix (periodic embeddings of numbers, learned tables of categories)
and trains with it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import DTypeLike, NDArray
from scipy.special import xlogy
from sklearn.externals import array_api_compat

from skvgrad import engine
from skvgrad.engine import Tensor, kernels
from skvgrad.engine.tensor import Into, Result

# What the network's functions compute on: Tensors while training, arrays otherwise.
Array: TypeAlias = "Tensor | NDArray[Any]"

# Hidden activations ----------------------------------------------------------------


def identity(z: Array) -> Result:
    """``z`` itself."""
    return z


def silu(z: Array) -> Result:
    """Sigmoid-weighted linear unit ``z * sigmoid(z)`` (also called swish)."""
    return z * engine.sigmoid(z)


def gelu(z: Array) -> Result:
    """Gaussian error linear unit, in its tanh approximation."""
    inner = 0.7978845608028654 * (z + 0.044715 * z * z * z)
    return 0.5 * z * (1 + engine.tanh(inner))


def elu(z: Array) -> Result:
    """Exponential linear unit: ``z`` above 0, ``exp(z) - 1`` below."""
    negative_part = engine.where(z > 0, 0.0, z)  # exp never sees large inputs
    return engine.where(z > 0, z, engine.exp(negative_part) - 1)


def leaky_relu(z: Array) -> Result:
    """``z`` above 0, ``0.01 z`` below."""
    return engine.where(z > 0, z, 0.01 * z)


ACTIVATIONS = {
    "identity": identity,
    "logistic": engine.sigmoid,
    "tanh": engine.tanh,
    "relu": engine.relu,
    "gelu": gelu,
    "silu": silu,
    "softplus": engine.softplus,
    "elu": elu,
    "leaky_relu": leaky_relu,
}
"""Hidden-layer activations by name, each built from engine operations."""


_FUSED = {
    name: (getattr(kernels, name), getattr(kernels, f"{name}_grad"))
    for name in ("identity", "tanh", "relu")
}
_FUSED["logistic"] = (kernels.sigmoid, kernels.sigmoid_grad)
"""Activations for ``dense``: the engine's kernels, applied in place to the
pre-activation, with the VJP computed from the output (as hand-written
backpropagation computes it)."""


def _on_namespace(activation):
    """The forward ``f(xp, z)`` and VJP ``vjp(xp, g, ans, z)`` of a fused
    activation on another Array API namespace: the engine's own declarations."""
    if activation == "identity":
        return (lambda xp, z: z), (lambda xp, g, ans, z: g)
    forward, vjp = ACTIVATIONS[activation].declaration.xp  # type: ignore[attr-defined]  # a primitive's
    return forward, vjp


def _namespace(x):
    """The Array API namespace of an array that is not NumPy's."""
    return array_api_compat.array_namespace(x)


def _column_sums(g, out=None):
    """``g.sum(axis=0)`` as a product with a vector of ones: BLAS, several times
    faster than NumPy's reduction over the rows of a tall matrix."""
    ones = _ones(g.shape[0], g.dtype)
    if out is None:
        return ones @ g
    np.dot(ones, g, out=out)
    return out


_ONES: dict[Any, Any] = {}  # (length, dtype) -> a read-only vector of ones


def _ones(n, dtype):
    """A read-only vector of ``n`` ones, made once (a few are kept)."""
    ones = _ONES.get((n, dtype))
    if ones is None:
        if len(_ONES) >= 16:
            _ONES.clear()
        ones = _ONES[n, dtype] = np.ones(n, dtype)
        ones.flags.writeable = False
    return ones


def _product_into(out, a, b):
    """``a @ b`` written into ``out`` (``a`` may be sparse)."""
    if sp.issparse(a):
        out[...] = a @ b
    elif a.dtype == b.dtype == out.dtype:
        np.dot(a, b, out=out)  # np.matmul(out=) is slow with transposed operands
    else:
        np.matmul(a, b, out=out)


def _dense_forward(out, h, W, b, activation):
    """The fused layer written into ``out``."""
    _product_into(out, h, W)
    out += b
    _FUSED[activation][0](out, out=out)


def _dense_backward(grads, g, ans, h, W, b, activation):
    """The three gradients of the fused layer, into ``grads`` (``g`` is used up)."""
    gh, gW, gb, _ = grads
    grad_z = _FUSED[activation][1](g, ans, out=g)
    if gW is not None:
        _product_into(gW, h.T, grad_z)
    if gb is not None:
        _column_sums(grad_z, out=gb)
    if gh is not None:
        _product_into(gh, grad_z, W.T)


@engine.primitive(
    into=Into(_dense_forward, _dense_backward, reads=("ans", 0, 1)),
)
def dense(h: Array, W: Array, b: Array, activation: str) -> Result:
    """One fused layer ``activation(h @ W + b)``, for a named activation.

    The activation is applied in place, and the VJP takes its derivative from
    the layer's output and computes it once for all three inputs. ``h`` may be
    a SciPy sparse matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import check_grad
    >>> from skvgrad.nn import dense
    >>> h, W, b = np.ones((2, 3)), np.full((3, 2), 0.1), np.zeros(2)
    >>> dense(h, W, b, "tanh").round(4)
    array([[0.2913, 0.2913],
           [0.2913, 0.2913]])
    >>> check_grad(lambda W: dense(h, W, b, "logistic").sum(), W) < 1e-8
    True
    """
    if type(W) is not np.ndarray:  # another Array API namespace
        return _dense_on_namespace(h, W, b, activation)
    forward, backward = _FUSED[activation]
    z = h @ W  # a NumPy array, also for sparse h
    z += b
    a = forward(z, out=z)
    memo: list[Any] = []

    def grad_z(g):
        if not memo:
            memo.append(backward(g, a))
        return memo[0]

    return a, (
        lambda g: grad_z(g) @ W.T,
        lambda g: h.T @ grad_z(g),
        lambda g: _column_sums(grad_z(g)),
    )


def _dense_on_namespace(h, W, b, activation):
    """:func:`dense` on arrays of another Array API namespace."""
    xp = _namespace(W)
    forward, backward = _on_namespace(activation)
    z = h @ W + b
    a = forward(xp, z)
    memo: list[Any] = []

    def grad_z(g):
        if not memo:
            memo.append(backward(xp, g, a, z))
        return memo[0]

    return a, (
        lambda g: grad_z(g) @ xp.matrix_transpose(W),
        lambda g: xp.matrix_transpose(h) @ grad_z(g),
        lambda g: xp.sum(grad_z(g), axis=0),
    )


# Output layers -----------------------------------------------------------------------


OUTPUTS = {
    "identity": identity,
    "exp": engine.exp,
    "logistic": engine.sigmoid,
    "softmax": lambda z: engine.softmax(z, axis=1),
}
"""Output layers by name: from the raw outputs (the last layer's
pre-activation) to predictions (values, rates or probabilities)."""


# Losses ------------------------------------------------------------------------------


def _weighted(per_row, sample_weight):
    """Sum of ``per_row`` weighted by ``sample_weight`` (unit weights if None)."""
    if sample_weight is None:
        if type(per_row) is np.ndarray or isinstance(per_row, Tensor):
            return per_row.sum()
        return _namespace(per_row).sum(per_row)
    return per_row @ sample_weight


def _scaled(delta, sample_weight, g, scale):
    """``delta * w * g * scale`` of a reduced loss, in place in ``delta``."""
    if type(delta) is not np.ndarray:
        if sample_weight is not None:
            delta = delta * sample_weight[:, None]
        return delta * (g * scale)
    if sample_weight is not None:
        delta *= sample_weight[:, np.newaxis]
    delta *= g * scale
    return delta


def _reduced_vjp(fill, z, sample_weight, scale):
    """The VJP of a reduced loss: ``fill`` writes its unweighted gradient (on
    another namespace than NumPy, ``fill(None)`` returns it)."""
    if type(z) is not np.ndarray:
        return lambda g: _scaled(fill(None), sample_weight, g, scale)
    return lambda g: _scaled(fill(np.empty_like(z)), sample_weight, g, scale)


def _loss_into(parts):
    """The ``into`` forms of a reduced loss whose ``parts`` give the loss summed
    over entries and a function filling in its gradient for each entry."""

    def forward(out, z, Y, sample_weight, *options, scale=1.0, memo, **named):
        total, memo["fill"] = parts(z, Y, sample_weight, *options, **named)
        out[...] = total * scale

    def backward(grads, g, ans, z, Y, sample_weight, *options, scale=1.0, memo, **_):
        _scaled(memo.pop("fill")(grads[0]), sample_weight, g, scale)

    return Into(forward, backward, reads=(0, 1, 2), memo=True)


def _log_loss_parts(z, Y, sample_weight, output):
    """The summed log-loss, and the filler of its gradient ``p - Y``."""
    if type(z) is not np.ndarray:
        return _log_loss_on_namespace(_namespace(z), z, Y, sample_weight, output)
    if output == "softmax":
        m = np.max(z, axis=1, keepdims=True)
        e = np.exp(z - m)  # finite logits: training stops at the first non-finite
        s = e.sum(axis=1, keepdims=True)
        normalizer = np.log(s) + m  # log(sum(exp(z))) of each row
    else:
        normalizer = engine.softplus(z)  # log(1 + exp(z)) of each entry
    if sample_weight is None:
        total = normalizer.sum() - np.vdot(Y, z)
    else:
        total = _weighted(normalizer.sum(axis=1) - (Y * z).sum(axis=1), sample_weight)

    def fill(out):
        if output == "softmax":
            np.divide(e, s, out=out)  # the probabilities
        else:
            kernels.sigmoid(z, out=out)
        out -= Y
        return out

    return total, fill


def _log_loss_on_namespace(xp, z, Y, sample_weight, output):
    """:func:`_log_loss_parts` on another Array API namespace."""
    if output == "softmax":
        m = xp.max(z, axis=1, keepdims=True)
        e = xp.exp(z - m)
        s = xp.sum(e, axis=1, keepdims=True)
        normalizer = xp.log(s) + m
    else:
        normalizer = engine.softplus(z)
    if sample_weight is None:
        total = xp.sum(normalizer) - xp.sum(Y * z)
    else:
        per_row = xp.sum(normalizer, axis=1) - xp.sum(Y * z, axis=1)
        total = per_row @ sample_weight

    def fill(out):
        return (e / s if output == "softmax" else engine.sigmoid(z)) - Y

    return total, fill


@engine.primitive(into=_loss_into(_log_loss_parts))
def log_loss(
    z: Array,
    Y: NDArray[Any],
    sample_weight: NDArray[Any] | None,
    output: str,
    *,
    scale: float = 1.0,
) -> Result:
    """Summed (weighted) log-loss of output logits ``z``, fused with its gradient.

    ``output="logistic"``: independent binary log-losses of each column,
    summed; ``output="softmax"``: the multinomial log-loss. The result is
    multiplied by ``scale``. The VJP is ``scale * w * (p - Y)``, with ``p`` the
    output probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import grad
    >>> from skvgrad.nn import log_loss
    >>> z, Y = np.zeros((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(log_loss(z, Y, None, "softmax")), 4)
    1.3863
    >>> grad(lambda z: log_loss(z, Y, None, "softmax"))(z)
    array([[-0.5,  0.5],
           [ 0.5, -0.5]])
    """
    total, fill = _log_loss_parts(z, Y, sample_weight, output)
    # No gradient for the targets and weights.
    return total * scale, (_reduced_vjp(fill, z, sample_weight, scale),)


def _squared_error_parts(z, Y, sample_weight):
    """Half the summed squared error, and the filler of its gradient ``z - Y``."""
    residual = z - Y
    squares = residual * residual
    if type(z) is np.ndarray:
        squares = squares.sum(axis=1)
    else:
        squares = _namespace(z).sum(squares, axis=1)
    total = 0.5 * _weighted(squares, sample_weight)

    def fill(out):
        if out is None:
            return residual
        np.copyto(out, residual)
        return out

    return total, fill


@engine.primitive(into=_loss_into(_squared_error_parts))
def squared_error(
    z: Array, Y: NDArray[Any], sample_weight: NDArray[Any] | None, *, scale: float = 1.0
) -> Result:
    """Half the summed (weighted) squared error ``0.5 * sum_i w_i ||z_i - Y_i||^2``.

    Times ``scale``; fused with its VJP ``scale * w * (z - Y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import squared_error
    >>> float(squared_error(np.array([[1.0], [3.0]]), np.zeros((2, 1)), None))
    5.0
    """
    total, fill = _squared_error_parts(z, Y, sample_weight)
    return total * scale, (_reduced_vjp(fill, z, sample_weight, scale),)


def _poisson_parts(z, Y, sample_weight):
    """The summed half Poisson deviance, and the filler of its gradient."""
    if type(z) is not np.ndarray:
        xp = _namespace(z)
        rate = xp.exp(z)
        positive = Y > 0
        y_log_y = xp.where(positive, Y * xp.log(xp.where(positive, Y, 1.0)), 0.0)
        per_entry = rate - Y * z + y_log_y - Y
        total = _weighted(xp.sum(per_entry, axis=1), sample_weight)
        return total, lambda out: rate - Y
    rate = np.exp(z)
    per_entry = rate - Y * z + xlogy(Y, Y) - Y
    total = _weighted(per_entry.sum(axis=1), sample_weight)

    def fill(out):
        return np.subtract(rate, Y, out=out)

    return total, fill


@engine.primitive(into=_loss_into(_poisson_parts))
def poisson_loss(
    z: Array, Y: NDArray[Any], sample_weight: NDArray[Any] | None, *, scale: float = 1.0
) -> Result:
    """Half Poisson deviance of the log-rates ``z``: ``exp(z) - Y z + Y log Y - Y``.

    Summed over outputs and (weighted) samples, times ``scale``; fused with its
    VJP ``scale * w * (exp(z) - Y)``. It is zero where ``exp(z) == Y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import poisson_loss
    >>> float(poisson_loss(np.log(np.array([[2.0], [3.0]])),
    ...                    np.array([[2.0], [3.0]]), None))
    0.0
    """
    total, fill = _poisson_parts(z, Y, sample_weight)
    return total * scale, (_reduced_vjp(fill, z, sample_weight, scale),)


def huber(raw: Array, y: NDArray[Any], delta: float = 1.0) -> Result:
    """Huber loss of each sample, summed over outputs.

    ``0.5 r**2`` where ``|r| <= delta``, ``delta * (|r| - delta / 2)`` beyond,
    with ``r = y - raw``: quadratic for small residuals, linear for outliers.

    Parameters
    ----------
    raw : Tensor or ndarray of shape (n_samples, n_outputs)
        The predictions.
    y : ndarray of shape (n_samples, n_outputs)
        The targets.
    delta : float, default=1.0
        Where the loss turns from quadratic to linear.

    Returns
    -------
    loss : Tensor or ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import huber
    >>> huber(np.array([[0.5], [3.0]]), np.zeros((2, 1)))
    array([0.125, 2.5  ])
    """
    r = y - raw
    magnitude = engine.where(r > 0, r, -r)
    clipped = engine.where(magnitude > delta, delta, magnitude)  # min(|r|, delta)
    return (clipped * (magnitude - 0.5 * clipped)).sum(axis=1)


def pinball(raw: Array, y: NDArray[Any], quantile: float = 0.5) -> Result:
    """Pinball (quantile) loss of each sample, summed over outputs.

    ``quantile * r`` where ``r = y - raw >= 0``, ``(quantile - 1) * r`` below:
    minimised by the ``quantile``-th quantile of the targets.

    Parameters
    ----------
    raw : Tensor or ndarray of shape (n_samples, n_outputs)
        The predictions.
    y : ndarray of shape (n_samples, n_outputs)
        The targets.
    quantile : float, default=0.5
        The quantile to estimate, in (0, 1).

    Returns
    -------
    loss : Tensor or ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import pinball
    >>> pinball(np.array([[0.0], [0.0]]), np.array([[1.0], [-1.0]]), quantile=0.9)
    array([0.9, 0.1])
    """
    r = y - raw
    return engine.where(r >= 0, quantile * r, (quantile - 1) * r).sum(axis=1)


def per_sample(loss: Callable[..., Any]) -> Callable[..., Result]:
    """A reduced loss from ``loss(raw, y) -> one loss per sample``.

    The reduced loss ``(raw, Y, sample_weight, scale)`` returns
    ``scale * sum_i w_i loss_i``, and checks that ``loss`` returned a Tensor of
    shape ``(n_samples,)`` whenever ``raw`` is a Tensor: a plain array would
    carry no gradient.

    Parameters
    ----------
    loss : callable
        ``loss(raw, y)`` built from engine operations, with ``raw`` and ``y`` of
        shape ``(n_samples, n_outputs)``.

    Returns
    -------
    reduced : callable

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import per_sample
    >>> def absolute(raw, y):
    ...     return ((raw - y) ** 2).sum(axis=1) ** 0.5
    >>> reduced = per_sample(absolute)
    >>> float(reduced(np.array([[3.0], [-1.0]]), np.zeros((2, 1)), None, 0.5))
    2.0
    """

    @functools.wraps(loss)
    def reduced(raw, Y, sample_weight, scale=1.0):
        losses = loss(raw, Y)
        name = getattr(loss, "__name__", repr(loss))
        if isinstance(raw, Tensor) and not isinstance(losses, Tensor):
            raise TypeError(
                f"The loss {name} returned {type(losses).__name__}, not a Tensor: "
                "it does not depend on the network's output through engine "
                "operations, so it has no gradient. Write it with skvgrad.engine "
                "functions (engine.exp, engine.where, ...) or Tensor methods."
            )
        if np.shape(losses) != (np.shape(raw)[0],):
            raise ValueError(
                f"The loss {name} must return one value per sample, of shape "
                f"({np.shape(raw)[0]},); it returned shape {np.shape(losses)}. "
                "Sum over the outputs, e.g. with .sum(axis=1)."
            )
        return _weighted(losses, sample_weight) * scale

    return reduced


LOSSES = {
    "log_loss": functools.partial(log_loss, output="softmax"),
    "binary_log_loss": functools.partial(log_loss, output="logistic"),
    "squared_error": squared_error,
    "poisson": poisson_loss,
    "huber": per_sample(huber),
    "quantile": per_sample(pinball),
}
"""Built-in reduced losses ``(raw, Y, sample_weight, scale)`` by name;
"huber" and "quantile" take their parameter as a keyword (``delta``,
``quantile``)."""


# The network -------------------------------------------------------------------------


def init_params(
    layer_units: Sequence[int],
    activation: str,
    random_state: np.random.RandomState,
    dtype: DTypeLike,
) -> tuple[list[NDArray[Any]], list[NDArray[Any]]]:
    """Glorot-uniform weights and intercepts, as scikit-learn's MLP draws them.

    Parameters
    ----------
    layer_units : list of int
        Units per layer, input and output included.
    activation : str or callable
        The hidden activation; "logistic" uses the smaller bound of Glorot et al.
    random_state : numpy.random.RandomState
        Source of randomness.
    dtype : numpy dtype
        dtype of the returned arrays.

    Returns
    -------
    coefs, intercepts : list of ndarray
        ``coefs[i]`` has shape ``(layer_units[i], layer_units[i + 1])`` and
        ``intercepts[i]`` has shape ``(layer_units[i + 1],)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import init_params
    >>> coefs, intercepts = init_params(
    ...     [4, 3, 2], "relu", np.random.RandomState(0), np.float32
    ... )
    >>> [c.shape for c in coefs], [b.shape for b in intercepts], coefs[0].dtype
    ([(4, 3), (3, 2)], [(3,), (2,)], dtype('float32'))
    """
    factor = 2.0 if isinstance(activation, str) and activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return (
        [c.astype(dtype, copy=False) for c in coefs],
        [b.astype(dtype, copy=False) for b in intercepts],
    )


def _apply(activation, z):
    """A custom activation of ``z``; refuses one that drops the gradient."""
    h = activation(z)
    if isinstance(z, Tensor) and not isinstance(h, Tensor):
        name = getattr(activation, "__name__", repr(activation))
        raise TypeError(
            f"The activation {name} returned {type(h).__name__}, not a Tensor: it "
            "does not depend on its input through engine operations, so it has no "
            "gradient. Write it with skvgrad.engine functions (engine.tanh, "
            "engine.where, ...) or Tensor methods."
        )
    if np.shape(h) != np.shape(z):
        name = getattr(activation, "__name__", repr(activation))
        raise ValueError(
            f"The activation {name} must return an array of its input's shape "
            f"{np.shape(z)}; it returned shape {np.shape(h)}."
        )
    return h


def _drop_forward(out, h, rate, random_state, memo):
    memo["scale"] = scale = _dropout_scale(h, rate, random_state)
    np.multiply(h, scale, out=out)


def _drop_backward(grads, g, ans, h, rate, random_state, memo):
    np.multiply(g, memo.pop("scale"), out=grads[0])


def _dropout_scale(h, rate, random_state):
    """A fresh mask of kept units, scaled by ``1 / (1 - rate)``, in h's dtype."""
    keep = 1.0 - rate
    mask = random_state.random_sample(tuple(h.shape)) < keep
    if type(h) is not np.ndarray:  # the same draws, moved to h's device
        xp = _namespace(h)
        device = array_api_compat.device(h)
        scale = (mask / keep).astype(
            np.float64 if h.dtype == xp.float64 else np.float32
        )
        return xp.asarray(scale, device=device)
    return (mask / keep).astype(h.dtype)


@engine.primitive(
    into=Into(_drop_forward, _drop_backward, reads=(), inplace=(0,), memo=True)
)
def drop(h: Array, rate: float, random_state: np.random.RandomState) -> Result:
    """Inverted dropout: each unit zeroed with probability ``rate``, the others
    scaled by ``1 / (1 - rate)``; a new mask from ``random_state`` at each call.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import drop
    >>> drop(np.ones((2, 4)), 0.5, np.random.RandomState(0))
    array([[0., 0., 0., 0.],
           [2., 0., 2., 0.]])
    """
    scale = _dropout_scale(h, rate, random_state)
    return h * scale, (lambda g: g * scale,)


def forward(
    coefs: Sequence[Array],
    intercepts: Sequence[Array],
    X: Array,
    activation: str | Callable[[Any], Any],
    dropout: Any = None,
    random_state: np.random.RandomState | None = None,
) -> Result:
    """Raw outputs of the network: affine layers with ``activation`` between them.

    Parameters
    ----------
    coefs, intercepts : list of ndarray or Tensor
        Weights ``(n_in, n_out)`` and intercepts ``(n_out,)`` per layer.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        The input.
    activation : str or callable
        The hidden activation: a name in :data:`ACTIVATIONS` (the four of
        scikit-learn's MLP use the fused :func:`dense` layer) or a callable
        built from engine operations.
    dropout : list of float, optional
        Per hidden layer, the probability of zeroing each unit (inverted
        dropout: the kept units are scaled by ``1 / (1 - rate)``). Training only.
    random_state : numpy.random.RandomState, optional
        Draws the dropout masks.

    Returns
    -------
    raw : ndarray or Tensor of shape (n_samples, n_outputs)
        The output layer's pre-activation; a Tensor when any parameter is one.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import ACTIVATIONS, forward
    >>> coefs = [np.ones((2, 3)), np.ones((3, 1))]
    >>> intercepts = [np.zeros(3), np.zeros(1)]
    >>> forward(coefs, intercepts, np.array([[1.0, -2.0]]), "relu")
    array([[0.]])
    >>> forward(coefs, intercepts, np.array([[1.0, -2.0]]), ACTIVATIONS["gelu"])
    array([[-0.47...]])
    """
    fused = isinstance(activation, str) and activation in _FUSED
    if isinstance(activation, str) and not fused:
        activation = ACTIVATIONS[activation]
    h = X
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if i == last:
            return dense(h, W, b, "identity") if fused else engine.matmul(h, W) + b
        if fused:
            h = dense(h, W, b, activation)
        else:
            h = _apply(activation, engine.matmul(h, W) + b)
        if dropout is not None and dropout[i] > 0:
            h = drop(h, dropout[i], random_state)
    return h


def predict(
    coefs: Sequence[NDArray[Any]],
    intercepts: Sequence[NDArray[Any]],
    X: Any,  # an array, sparse matrix, or Array API array
    activation: str | Callable[[Any], Any],
    chunk_rows: int = 8192,
) -> NDArray[Any]:
    """Raw outputs of the network on many rows: :func:`forward` without a graph.

    The rows go through in chunks, and each layer writes into a buffer that is
    reused from chunk to chunk, so memory stays bounded and no time goes to
    allocating (and page-faulting) fresh arrays. Rows that fit in one chunk
    skip the buffers, which would not be reused (a one-row prediction costs
    half as much that way). The result has the wider of
    X's and the parameters' dtypes.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        Weights ``(n_in, n_out)`` and intercepts ``(n_out,)`` per layer.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        The input.
    activation : str or callable
        The hidden activation (see :func:`forward`).
    chunk_rows : int, default=8192
        Rows per chunk.

    Returns
    -------
    raw : ndarray of shape (n_samples, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import forward, predict
    >>> coefs = [np.ones((2, 3)), np.ones((3, 1))]
    >>> intercepts = [np.zeros(3), np.zeros(1)]
    >>> X = np.array([[1.0, -2.0], [3.0, 1.0]])
    >>> predict(coefs, intercepts, X, "relu", chunk_rows=1)
    array([[ 0.],
           [12.]])
    """
    fused = isinstance(activation, str) and activation in _FUSED
    if type(coefs[0]) is not np.ndarray:  # another Array API namespace
        return _predict_on_namespace(coefs, intercepts, X, activation)
    if fused and X.shape[0] <= chunk_rows:  # one chunk: no buffer to reuse
        apply, h = _FUSED[activation][0], X  # type: ignore[index]  # a name
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            h = h @ W  # a NumPy array, also for sparse X
            h += b
            if i < len(coefs) - 1:
                apply(h, out=h)
        return h
    dtype = np.result_type(X.dtype, *coefs)
    raw = np.empty((X.shape[0], coefs[-1].shape[1]), dtype)
    if not fused:
        for start in range(0, X.shape[0], chunk_rows):
            stop = start + chunk_rows
            raw[start:stop] = forward(coefs, intercepts, X[start:stop], activation)
        return raw
    apply = _FUSED[activation][0]  # type: ignore[index]  # a name
    buffers = [np.empty((chunk_rows, W.shape[1]), dtype) for W in coefs[:-1]]
    for start in range(0, X.shape[0], chunk_rows):
        h = X[start : start + chunk_rows]
        rows = h.shape[0]
        outs = [b[:rows] for b in buffers] + [raw[start : start + rows]]
        for i, (W, b, out) in enumerate(zip(coefs, intercepts, outs)):
            if isinstance(h, np.ndarray):
                np.matmul(h, W, out=out)
            else:  # a sparse chunk
                out[...] = h @ W
            out += b
            if i < len(coefs) - 1:
                apply(out, out=out)
            h = out
    return raw


def _predict_on_namespace(coefs, intercepts, X, activation):
    """:func:`predict` on arrays of another Array API namespace: in the wider
    of X's and the parameters' dtypes, on their device."""
    xp = _namespace(coefs[0])
    dtype = xp.result_type(X.dtype, coefs[0].dtype)
    h = X if X.dtype == dtype else xp.astype(X, dtype)
    fused = isinstance(activation, str) and activation in _FUSED
    if not fused:
        params = [xp.astype(p, dtype) for p in coefs + intercepts]
        n = len(coefs)
        return forward(params[:n], params[n:], h, activation)
    apply = _on_namespace(activation)[0]
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if W.dtype != dtype:
            W, b = xp.astype(W, dtype), xp.astype(b, dtype)
        h = h @ W + b
        if i < last:
            h = apply(xp, h)
    return h


def unpack(vector: Array, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """Views of consecutive pieces of ``vector`` with the given shapes.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import unpack
    >>> [a.shape for a in unpack(np.arange(7.0), [(2, 2), (3,)])]
    [(2, 2), (3,)]
    """
    views, start = [], 0
    reshape = None if type(vector) is np.ndarray else _namespace(vector).reshape
    for shape in shapes:
        end = start + math.prod(shape)
        if reshape is None:
            views.append(vector[start:end].reshape(shape))
        else:
            views.append(reshape(vector[start:end], tuple(shape)))
        start = end
    return views


_ONCE = object()  # a batch shape an Objective has seen once


class Objective:
    """The training objective of an MLP, as one function of its flat parameters.

    ``(sum_i w_i loss_i + 0.5 * alpha * sum ||W||^2) / sum_i w_i``, with unit
    weights when ``sample_weight`` is None. The parameter vector holds the
    weights of every layer, then the intercepts of every layer, then the
    parameters of a front (see ``front``), raveled.

    The data term is traced when a shape of the batch comes a second time, and
    replayed for it from then on (:mod:`skvgrad.engine.replay`): the values and
    gradients of the graph, without building it (a single call, such as one
    ``partial_fit`` step, is not worth a trace). A network or loss that cannot
    be traced (a custom function whose computation depends on the values, or
    draws random numbers of its own), and sparse data, are differentiated on
    the graph.

    Parameters
    ----------
    layer_units : list of int
        Units per layer, input and output included.
    activation : str or callable
        The hidden activation (see :func:`forward`).
    loss : callable
        A reduced loss ``(raw, Y, sample_weight, scale)``: an entry of
        :data:`LOSSES` or the result of :func:`per_sample`.
    alpha : float
        L2 penalty on the weights (not the intercepts).
    dropout : list of float, optional
        Dropout rate per hidden layer (see :func:`forward`).
    random_state : numpy.random.RandomState, optional
        Draws the dropout masks.
    front : InputEmbedding, optional
        Parameterised layers applied to ``X`` before the first affine layer;
        their parameters follow the intercepts in the vector and are not
        penalised by ``alpha``.
    replay : bool, default=True
        Trace and replay the data term; False differentiates it on the graph
        at every call.

    Attributes
    ----------
    shapes : list of tuple
        The shapes of the weights, then of the intercepts, then of the front's
        parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import LOSSES, Objective
    >>> objective = Objective([2, 1], "relu", LOSSES["binary_log_loss"], alpha=0.0)
    >>> data, penalty, grad = objective(
    ...     np.zeros(3), np.array([[1.0, 2.0]]), np.array([[1.0]]), None
    ... )
    >>> round(data, 4), penalty, grad
    (0.6931, 0.0, array([-0.5, -1. , -0.5]))
    """

    def __init__(
        self,
        layer_units: Sequence[int],
        activation: str | Callable[[Any], Any],
        loss: Callable[..., Any],
        alpha: float,
        dropout: Any = None,
        random_state: np.random.RandomState | None = None,
        front: InputEmbedding | None = None,
        replay: bool = True,
    ) -> None:
        pairs = list(zip(layer_units[:-1], layer_units[1:]))
        self.shapes = [pair for pair in pairs] + [(n_out,) for _, n_out in pairs]
        self.front = front
        if front is not None:
            self.shapes += front.shapes  # type: ignore[arg-type]  # shapes
        self.n_layers = len(pairs)
        self.n_weights = sum(n_in * n_out for n_in, n_out in pairs)
        self.activation = activation
        self.loss = loss
        self.alpha = alpha
        self.dropout = dropout
        self.random_state = random_state
        self.replay = replay
        self._plans: dict[
            Any, Any
        ] = {}  # batch shapes and dtypes -> a replay Plan, or False
        self._views = (None, None)  # the last vector and its views

    def params(self, vector: Array) -> tuple[list[Any], list[Any]]:
        """The weights and intercepts: views of ``vector`` in their shapes."""
        views = unpack(vector, self.shapes)
        return views[: self.n_layers], views[self.n_layers : 2 * self.n_layers]

    def front_params(self, vector: Array) -> list[Any]:
        """The front's parameters: views of ``vector`` in their shapes."""
        return unpack(vector, self.shapes)[2 * self.n_layers :]

    def outputs(self, vector: Array, X: Array) -> Result:
        """The raw outputs at ``vector``: the network without dropout or a graph."""
        coefs, intercepts = self.params(vector)
        if self.front is not None:
            X = self.front(self.front_params(vector), X)
        return predict(coefs, intercepts, X, self.activation)

    def data(
        self,
        params: Any,
        X: Array,
        Y: NDArray[Any],
        sample_weight: NDArray[Any] | None,
        scale: float | NDArray[Any],
    ) -> Result:
        """The data term ``scale * sum_i w_i loss_i`` for the parameters in the
        order of :attr:`shapes` (a Tensor when any input is)."""
        coefs = params[: self.n_layers]
        intercepts = params[self.n_layers : 2 * self.n_layers]
        if self.front is not None:
            X = self.front(params[2 * self.n_layers :], X)
        raw = forward(
            coefs, intercepts, X, self.activation, self.dropout, self.random_state
        )
        return self.loss(raw, Y, sample_weight, scale=scale)

    def __call__(
        self,
        vector: NDArray[Any],
        X: NDArray[Any],
        Y: NDArray[Any],
        sample_weight: NDArray[Any] | None,
        grad: NDArray[Any] | None = None,
    ) -> Any:
        """The data term, the penalty term and the gradient at ``vector``.

        Parameters
        ----------
        vector : ndarray
            The parameters.
        X, Y, sample_weight : ndarray (or sparse X), ndarray, ndarray or None
            The batch.
        grad : ndarray, optional
            Where to write the gradient, of the shape and dtype of ``vector``.

        Returns
        -------
        data : float
            ``sum_i w_i loss_i / sum_i w_i``.
        penalty : float
            ``0.5 * alpha * sum ||W||^2 / sum_i w_i``.
        grad : ndarray of the shape and dtype of ``vector``
            The gradient of ``data + penalty`` (``grad`` itself when given).
        """
        if type(vector) is not np.ndarray:
            return self._on_namespace(vector, X, Y, sample_weight, grad)
        weight_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        scale = np.asarray(1.0 / weight_sum, vector.dtype)
        if grad is None:
            grad = np.empty_like(vector)
        plan = self._plan(vector, X, Y, sample_weight, scale)
        if plan:
            views = self._unpacked(vector)
            args = [*views, X, Y] + ([] if sample_weight is None else [sample_weight])
            data, _ = plan(*args, scale, grads=unpack(grad, self.shapes))
        else:
            leaves = [Tensor(view) for view in unpack(vector, self.shapes)]
            data = self.data(leaves, X, Y, sample_weight, scale)
            data.backward()
            np.concatenate([leaf.grad.ravel() for leaf in leaves], out=grad)  # type: ignore[union-attr]  # filled by backward
            data = data.value
        penalty = 0.0
        if self.alpha:
            # The L2 penalty on the weights, which lead the vector: its value
            # and its gradient alpha * W / sum(w), on the whole block at once.
            weights = vector[: self.n_weights]
            factor = self.alpha / weight_sum
            penalty = 0.5 * factor * float(np.dot(weights, weights))
            grad[: self.n_weights] += factor * weights
        return float(data), penalty, grad

    def _on_namespace(self, vector, X, Y, sample_weight, grad):
        """:meth:`__call__` on arrays of another Array API namespace: on the
        graph, in that namespace and on its device."""
        xp = _namespace(vector)
        device = array_api_compat.device(vector)
        weight_sum = (
            X.shape[0] if sample_weight is None else float(xp.sum(sample_weight))
        )
        scale = xp.asarray(1.0 / weight_sum, dtype=vector.dtype, device=device)
        leaves = [Tensor(view) for view in unpack(vector, self.shapes)]
        data = self.data(leaves, X, Y, sample_weight, scale)
        data.backward()
        flat = xp.concat([xp.reshape(leaf.grad, (-1,)) for leaf in leaves])
        penalty = 0.0
        if self.alpha:
            weights = vector[: self.n_weights]
            factor = self.alpha / weight_sum
            penalty = 0.5 * factor * float(xp.sum(weights * weights))
            flat = xp.concat(
                [flat[: self.n_weights] + factor * weights, flat[self.n_weights :]]
            )
        if grad is None:
            return float(data.value), penalty, flat
        grad[...] = flat
        return float(data.value), penalty, grad

    def _unpacked(self, vector):
        """The views of ``vector`` in the parameters' shapes (kept for reuse)."""
        last, views = self._views
        if last is not vector:
            views = unpack(vector, self.shapes)
            self._views = (vector, views)  # type: ignore[assignment]  # (None, None) at first
        return views

    def _plan(self, vector, X, Y, sample_weight, scale):
        """The replay plan for this batch's shapes and dtypes, or False."""
        if not self.replay or type(X) is not np.ndarray:
            return False
        key = (X.shape, X.dtype, Y.shape, Y.dtype, sample_weight is None, scale.dtype)
        plan = self._plans.get(key)
        if plan is None:  # a first batch of these shapes: the graph, once
            if len(self._plans) >= 8:
                self._plans.clear()
            self._plans[key] = _ONCE
            return False
        if plan is _ONCE:  # they come again: worth tracing
            plan = self._plans[key] = self._make_plan(
                vector, X, Y, sample_weight, scale
            )
        return plan

    def _make_plan(self, vector, X, Y, sample_weight, scale):
        """Trace the data term and plan its replay; False if it cannot be."""
        from skvgrad.engine.replay import Plan, same_trace

        n = len(self.shapes)
        arrays = [*unpack(vector, self.shapes), X, Y]
        arrays += [] if sample_weight is None else [sample_weight]

        def data(*inputs):
            params, rest = inputs[:n], list(inputs[n:])
            sw = None if sample_weight is None else rest.pop(2)
            return self.data(params, rest[0], rest[1], sw, rest[-1])

        state = None if self.random_state is None else self.random_state.get_state()
        try:
            record = engine.trace(data, *arrays, scale)
            # Traced twice: a custom function that draws random numbers of its
            # own records other constants the second time, and must not be
            # replayed with its first draw frozen.
            if not same_trace(record, engine.trace(data, *arrays, scale)):
                return False
            return Plan(record, wrt=range(n))
        except Exception:  # noqa: BLE001 (the graph path raises what is wrong)
            return False
        finally:  # tracing drew dropout masks: the stream goes on as if it had not
            if state is not None:
                self.random_state.set_state(state)  # type: ignore[union-attr]  # drawn from


# Tabular inputs ----------------------------------------------------------------------


@engine.primitive
def periodic_embedding(
    x: NDArray[Any],
    frequencies: NDArray[Any],
    weights: NDArray[Any],
    biases: NDArray[Any],
) -> Any:  # the forward of a primitive: arrays in, (result, VJPs) out
    """Periodic embeddings of numbers, each through its own small layer (PLR).

    Column ``j`` of ``x`` becomes ``relu([cos(2 pi c x_j), sin(2 pi c x_j)] @
    W_j + b_j)`` with its own frequencies ``c = frequencies[j]`` (Gorishniy et
    al., "On embeddings for numerical features in tabular deep learning",
    2022). Fused with its VJP, for every input.

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_columns)
        The numbers.
    frequencies : ndarray of shape (n_columns, n_frequencies)
    weights : ndarray of shape (n_columns, 2 * n_frequencies, dim)
    biases : ndarray of shape (n_columns, dim)

    Returns
    -------
    embedded : ndarray of shape (n_samples, n_columns * dim)
        Column ``j``'s embedding in columns ``j * dim`` to ``(j + 1) * dim``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import check_grad
    >>> from skvgrad.nn import periodic_embedding
    >>> rng = np.random.default_rng(0)
    >>> x, c = rng.normal(size=(5, 2)), rng.normal(size=(2, 3))
    >>> W, b = rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 4))
    >>> periodic_embedding(x, c, W, b).shape
    (5, 8)
    >>> check_grad(lambda c: periodic_embedding(x, c, W, b).sum(), c) < 1e-6
    True
    """
    n, p = x.shape
    k, d = frequencies.shape[1], weights.shape[2]
    two_pi_c = (2 * np.pi) * frequencies
    angle = x.T[:, :, np.newaxis] * two_pi_c[:, np.newaxis, :]  # (p, n, k)
    periodic = np.concatenate([np.cos(angle), np.sin(angle)], axis=2)
    h = np.matmul(periodic, weights)  # (p, n, d)
    h += biases[:, np.newaxis, :]
    np.maximum(h, 0, out=h)
    memo = {}

    def grad_h(g):
        if "h" not in memo:
            gh = g.reshape(n, p, d).transpose(1, 0, 2) * (h > 0)
            memo["h"] = gh
        return memo["h"]

    def grad_angle(g):
        if "angle" not in memo:
            gp = np.matmul(grad_h(g), weights.transpose(0, 2, 1))  # (p, n, 2k)
            memo["angle"] = gp[:, :, k:] * periodic[:, :, :k] - (
                gp[:, :, :k] * periodic[:, :, k:]
            )
        return memo["angle"]

    out = np.ascontiguousarray(h.transpose(1, 0, 2)).reshape(n, p * d)
    return out, (
        lambda g: (grad_angle(g) * two_pi_c[:, np.newaxis, :]).sum(axis=2).T,
        lambda g: (2 * np.pi) * np.einsum("pnk,pn->pk", grad_angle(g), x.T),
        lambda g: np.matmul(periodic.transpose(0, 2, 1), grad_h(g)),
        lambda g: grad_h(g).sum(axis=1),
    )


class InputEmbedding:
    """Embeds the columns of a tabular matrix in front of an MLP.

    The matrix holds, in this order, ``n_numeric`` numbers, ``n_passthrough``
    columns passed as they are (e.g. one-hot codes), and one integer code per
    categorical column (0 for a missing or unknown level, 1 to ``levels[j]``
    for the known ones). The output holds the numbers, their periodic
    embeddings (:func:`periodic_embedding`, when ``n_frequencies`` > 0), the
    passed-through columns and a learned vector of ``embedding_dim`` values
    per code (row 0 of each table starts at zero).

    Parameters
    ----------
    n_numeric, n_passthrough : int
        Numbers of numeric and passed-through columns.
    levels : sequence of int
        Number of known levels of each coded column.
    n_frequencies : int
        Frequencies per numeric column; 0 for no periodic embeddings.
    frequency_scale : float
        Standard deviation of the initial frequencies.
    numeric_dim : int
        Size of each numeric column's embedding.
    embedding_dim : int
        Size of each category's learned vector.

    Attributes
    ----------
    shapes : list of tuple
        Shapes of the parameters.
    n_outputs : int
        Number of columns of the output.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import InputEmbedding
    >>> front = InputEmbedding(2, 1, [3], n_frequencies=4, frequency_scale=0.5,
    ...                        numeric_dim=5, embedding_dim=2)
    >>> params = front.init(np.random.RandomState(0), np.float64)
    >>> X = np.array([[0.5, -1.0, 1.0, 3.0], [0.0, 2.0, 0.0, 0.0]])
    >>> front.shapes, front(params, X).shape, front.n_outputs
    ([(2, 4), (2, 8, 5), (2, 5), (4, 2)], (2, 15), 15)
    """

    def __init__(
        self,
        n_numeric: int,
        n_passthrough: int,
        levels: Sequence[int],
        *,
        n_frequencies: int,
        frequency_scale: float,
        numeric_dim: int,
        embedding_dim: int,
    ) -> None:
        self.n_numeric, self.n_passthrough = n_numeric, n_passthrough
        self.levels = [int(n) for n in levels]
        self.frequency_scale = frequency_scale
        self.embedding_dim = embedding_dim
        self.periodic = n_frequencies > 0 and n_numeric > 0
        self.shapes = []
        if self.periodic:
            p, k, d = n_numeric, n_frequencies, numeric_dim
            self.shapes += [(p, k), (p, 2 * k, d), (p, d)]
        if self.levels:
            self.shapes.append((sum(self.levels) + len(self.levels), embedding_dim))
            self.offsets = np.cumsum([0] + [n + 1 for n in self.levels[:-1]])
        self.n_outputs = (
            n_numeric * (1 + (numeric_dim if self.periodic else 0))
            + n_passthrough
            + len(self.levels) * embedding_dim
        )

    def init(
        self, random_state: np.random.RandomState, dtype: DTypeLike
    ) -> list[NDArray[Any]]:
        """Initial parameters, drawn from ``random_state``, in ``dtype``."""
        params = []
        if self.periodic:
            (p, k), (_, two_k, d) = self.shapes[:2]
            bound = 1 / math.sqrt(two_k)
            params += [
                random_state.normal(0.0, self.frequency_scale, (p, k)),
                random_state.uniform(-bound, bound, (p, two_k, d)),
                random_state.uniform(-bound, bound, (p, d)),
            ]
        if self.levels:
            table = random_state.normal(0.0, 1.0, self.shapes[-1])
            table[self.offsets] = 0.0  # missing or unknown: a neutral start
            params.append(table)
        return [np.asarray(a, dtype=dtype) for a in params]

    def __call__(self, params: Sequence[Array], X: Array) -> Result:
        """The embedded matrix; a Tensor when any parameter is one."""
        p, o = self.n_numeric, self.n_passthrough
        numeric = X[:, :p]
        pieces = [numeric]
        if self.periodic:
            pieces.append(periodic_embedding(numeric, *params[:3]))
        pieces.append(X[:, p : p + o])
        if self.levels:
            codes = X[:, p + o :].astype(np.intp) + self.offsets
            vectors = engine.getitem(params[-1], codes)  # (n, n_coded, dim)
            n = X.shape[0]
            pieces.append(
                engine.reshape(vectors, (n, len(self.levels) * self.embedding_dim))
            )
        return engine.concatenate(pieces, axis=1)
