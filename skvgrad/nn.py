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


def _logistic_loss(z, y):
    """Per-sample binary log-loss of logits ``z``, summed over outputs."""
    return (engine.softplus(z) - y * z).sum(axis=1)


def _softmax_loss(z, y):
    """Per-sample multinomial log-loss of logits ``z``."""
    return engine.logsumexp(z, axis=1) - (y * z).sum(axis=1)


def _logistic_proba(z):
    """Probabilities of independent logistic outputs, kept inside (0, 1)."""
    eps = np.finfo(z.dtype).eps
    return np.clip(engine.sigmoid(z), eps, 1 - eps)


OUTPUTS = {
    "logistic": (_logistic_loss, _logistic_proba),
    "softmax": (_softmax_loss, lambda z: engine.softmax(z, axis=1)),
}
"""Output layers by name: (per-sample loss of logits and targets, probabilities)."""


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
    activation : callable
        The hidden activation, built from engine operations (see
        :data:`ACTIVATIONS`).
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
    >>> forward(coefs, intercepts, np.array([[1.0, -2.0]]), ACTIVATIONS["relu"])
    array([[0.]])
    """
    h = X
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        h = engine.matmul(h, W) + b
        if i != last:
            h = activation(h)
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
    activation : callable
        The hidden activation, an engine operation.
    output : {"logistic", "softmax"}
        The output layer, a key of :data:`OUTPUTS`.
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
    >>> from skvgrad.nn import ACTIVATIONS, objective
    >>> params = [np.zeros((2, 1)), np.zeros(1)]
    >>> X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    >>> loss, grads = value_and_grad(objective)(
    ...     params, X, Y, None, 0.0, ACTIVATIONS["relu"], "logistic"
    ... )
    >>> round(float(loss), 4), grads[1]
    (0.6931, array([-0.5]))
    """
    n_layers = len(params) // 2
    coefs, intercepts = params[:n_layers], params[n_layers:]
    logits = forward(coefs, intercepts, X, activation, dropout, rng)
    losses = OUTPUTS[output][0](logits, Y)
    if sample_weight is None:
        total, weight_sum = losses.sum(), X.shape[0]
    else:
        total, weight_sum = (losses * sample_weight).sum(), float(sample_weight.sum())
    if alpha:
        penalty = sum(engine.square(W).sum() for W in coefs)
        total = total + (0.5 * alpha) * penalty
    return total / weight_sum


def predict_proba(coefs, intercepts, X, activation, output):
    """Output probabilities of a fitted network (no graph is recorded).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.nn import ACTIVATIONS, predict_proba
    >>> predict_proba([np.zeros((2, 3))], [np.zeros(3)], np.ones((1, 2)),
    ...               ACTIVATIONS["relu"], "softmax")
    array([[0.33333333, 0.33333333, 0.33333333]])
    """
    return OUTPUTS[output][1](forward(coefs, intercepts, X, activation))


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
    losses = OUTPUTS[output][0](logits, Y)
    return float(np.average(losses, weights=sample_weight))
