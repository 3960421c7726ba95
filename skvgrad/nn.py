"""Multi-layer perceptron pieces built from engine operations.

Nothing here knows about estimators: parameters are lists of arrays (or
Tensors), and every function works on plain arrays too, which is how
predictions are made without recording a graph.
"""

import numpy as np

from skvgrad import engine


def identity(z):
    """``z`` itself."""
    return z


def silu(z):
    """Sigmoid-weighted linear unit ``z * sigmoid(z)`` (also called swish)."""
    return z * engine.sigmoid(z)


def gelu(z):
    """Gaussian error linear unit, in its tanh approximation."""
    inner = 0.7978845608028654 * (z + 0.044715 * z * z * z)
    return 0.5 * z * (1 + engine.tanh(inner))


def elu(z):
    """Exponential linear unit: ``z`` above 0, ``exp(z) - 1`` below."""
    negative_part = engine.where(z > 0, 0.0, z)  # exp never sees large inputs
    return engine.where(z > 0, z, engine.exp(negative_part) - 1)


def leaky_relu(z):
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


def _sigmoid_inplace(z):
    """Logistic function of ``z``, written into ``z``."""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def _tanh_grad(g, a):
    """``g * (1 - a**2)`` with a single temporary."""
    d = np.multiply(a, a)
    np.subtract(1, d, out=d)
    d *= g
    return d


def _logistic_grad(g, a):
    """``g * a * (1 - a)`` with a single temporary."""
    d = np.subtract(1, a)
    d *= a
    d *= g
    return d


_FUSED = {
    "identity": (lambda z: z, lambda g, a: g),
    "logistic": (_sigmoid_inplace, _logistic_grad),
    "tanh": (lambda z: np.tanh(z, out=z), _tanh_grad),
    "relu": (lambda z: np.maximum(z, 0, out=z), lambda g, a: g * (a > 0)),
}
"""Activations for ``dense``: in place on the pre-activation, and the VJP from
the output (as hand-written backpropagation computes them)."""


@engine.primitive
def dense(h, W, b, activation):
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
    forward, backward = _FUSED[activation]
    z = h @ W  # a NumPy array, also for sparse h
    z += b
    a = forward(z)
    memo = []

    def grad_z(g):
        if not memo:
            memo.append(backward(g, a))
        return memo[0]

    return a, (
        lambda g: grad_z(g) @ W.T,
        lambda g: h.T @ grad_z(g),
        lambda g: grad_z(g).sum(axis=0),
    )


@engine.primitive
def log_loss(z, Y, sample_weight, output, scale=1.0):
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
        per_row = normalizer.sum(axis=1) - (Y * z).sum(axis=1)
        total = per_row @ sample_weight

    def vjp(g):
        delta = e / s if output == "softmax" else engine.sigmoid(z)  # probabilities
        delta -= Y
        if sample_weight is not None:
            delta *= sample_weight[:, np.newaxis]
        delta *= g * scale
        return delta

    return total * scale, (vjp,)  # no gradient for the targets and weights


@engine.primitive
def squared_norm(*arrays, scale=1.0):
    """Sum of the squares of every entry of every array, times ``scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import squared_norm
    >>> float(squared_norm(np.ones((2, 2)), np.full(3, 2.0)))
    16.0
    """
    total = scale * sum(float(np.vdot(a, a)) for a in arrays)
    return np.asarray(total, dtype=np.result_type(*arrays)), tuple(
        (lambda g, a=a: (2 * scale * g) * a) for a in arrays
    )


def _logistic_proba(z):
    """Probabilities of independent logistic outputs, kept inside (0, 1)."""
    eps = np.finfo(z.dtype).eps
    return np.clip(engine.sigmoid(z), eps, 1 - eps)


PROBABILITIES = {
    "logistic": _logistic_proba,
    "softmax": lambda z: engine.softmax(z, axis=1),
}
"""Output layers by name: logits to probabilities."""


def init_params(layer_units, activation, random_state, dtype):
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
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return (
        [c.astype(dtype, copy=False) for c in coefs],
        [b.astype(dtype, copy=False) for b in intercepts],
    )


def forward(coefs, intercepts, X, activation, dropout=None, random_state=None):
    """Logits of the output layer: affine layers with ``activation`` between them.

    Parameters
    ----------
    coefs, intercepts : list of ndarray or Tensor
        Weights ``(n_in, n_out)`` and intercepts ``(n_out,)`` per layer.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        The input.
    activation : str or callable
        The hidden activation: a name in :data:`ACTIVATIONS` (the four of
        MLPClassifier use the fused :func:`dense` layer) or a callable built
        from engine operations.
    dropout : list of float, optional
        Per hidden layer, the probability of zeroing each unit (inverted
        dropout: the kept units are scaled by ``1 / (1 - rate)``). Training only.
    random_state : numpy.random.RandomState, optional
        Draws the dropout masks.

    Returns
    -------
    logits : ndarray or Tensor of shape (n_samples, n_outputs)
        A Tensor when any parameter is a Tensor.

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
        if i == last:  # the logits
            return dense(h, W, b, "identity") if fused else engine.matmul(h, W) + b
        if fused:
            h = dense(h, W, b, activation)
        else:
            h = activation(engine.matmul(h, W) + b)
        if dropout is not None and dropout[i] > 0:
            keep = 1.0 - dropout[i]
            mask = random_state.random_sample(h.shape) < keep
            h = h * (mask / keep).astype(h.dtype)
    return h


def objective(
    params, X, Y, sample_weight, alpha, activation, output, dropout=None, rng=None
):
    """The training objective of an MLP classifier.

    ``(sum_i w_i loss_i + 0.5 * alpha * sum ||W||^2) / sum_i w_i``, with the
    log-loss of the output layer ``output`` and unit weights when
    ``sample_weight`` is None.

    Parameters
    ----------
    params : list of ndarray or Tensor
        The weights of every layer followed by the intercepts of every layer.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        The input.
    Y : ndarray of shape (n_samples, n_outputs)
        Binary indicator targets, in the dtype of the parameters.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights.
    alpha : float
        L2 penalty on the weights (not the intercepts).
    activation : str or callable
        The hidden activation (see :func:`forward`).
    output : {"logistic", "softmax"}
        The output layer (see :func:`log_loss`).
    dropout, rng : optional
        Dropout rates per hidden layer and their random state; see
        :func:`forward`.

    Returns
    -------
    loss : scalar ndarray or Tensor

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import value_and_grad
    >>> from skvgrad.nn import objective
    >>> params = [np.zeros((2, 1)), np.zeros(1)]
    >>> X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    >>> loss, grads = value_and_grad(objective)(
    ...     params, X, Y, None, 0.0, "relu", "logistic"
    ... )
    >>> round(float(loss), 4), grads[1]
    (0.6931, array([-0.5]))
    """
    n_layers = len(params) // 2
    coefs, intercepts = params[:n_layers], params[n_layers:]
    logits = forward(coefs, intercepts, X, activation, dropout, rng)
    weight_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
    loss = log_loss(logits, Y, sample_weight, output, scale=1.0 / weight_sum)
    if alpha:
        loss = loss + squared_norm(*coefs, scale=0.5 * alpha / weight_sum)
    return loss


def mean_loss(logits, Y, sample_weight, output):
    """Weighted mean log-loss of ``logits`` (no penalty), as a float.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import mean_loss
    >>> round(mean_loss(np.zeros((2, 1)), np.array([[0.0], [1.0]]), None,
    ...                 "logistic"), 4)
    0.6931
    """
    weight_sum = len(Y) if sample_weight is None else sample_weight.sum()
    return float(log_loss(logits, Y, sample_weight, output, scale=1.0 / weight_sum))
