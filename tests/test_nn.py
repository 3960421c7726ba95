"""Unit tests of skvgrad.nn: initialisation, forward pass, objective, probabilities.

Every expected value is computed here with plain NumPy (or scikit-learn), never
by the code under test.
"""

from itertools import pairwise

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
import scipy.special
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import log_loss as sklearn_log_loss

from skvgrad import nn
from skvgrad.engine import Tensor, check_grad

ACTIVATION_NAMES = ["identity", "logistic", "tanh", "relu"]

NUMPY_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def activation_forms(name):
    """The activation as a name (fused layers) and as the table's callable."""
    return [name, nn.ACTIVATIONS[name]]


def numpy_forward(coefs, intercepts, X, activation):
    """Reference logits: affine layers with the activation between them."""
    h = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        h = h @ W + b
        if i < len(coefs) - 1:
            h = NUMPY_ACTIVATIONS[activation](h)
    return h


def numpy_objective(coefs, intercepts, X, Y, sample_weight, alpha, activation, output):
    """Reference objective: weighted mean log-loss plus the scaled L2 penalty."""
    z = numpy_forward(coefs, intercepts, X, activation)
    if output == "logistic":
        p = 1.0 / (1.0 + np.exp(-z))
        losses = -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum(axis=1)
    else:
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses = -(Y * log_p).sum(axis=1)
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    penalty = sum((W**2).sum() for W in coefs)
    return ((w * losses).sum() + 0.5 * alpha * penalty) / w.sum()


def make_problem(output, n_outputs, seed=0, n_samples=12, layer_units=(5, 4, 3)):
    """Random small network, inputs, indicator targets and weights."""
    rng = np.random.RandomState(seed)
    units = [*layer_units, n_outputs]
    coefs = [rng.normal(scale=0.7, size=s) for s in pairwise(units)]
    intercepts = [rng.normal(scale=0.3, size=n) for n in units[1:]]
    X = rng.normal(size=(n_samples, units[0]))
    if output == "softmax":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    else:
        Y = (rng.uniform(size=(n_samples, n_outputs)) < 0.5).astype(float)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return coefs, intercepts, X, Y, sample_weight


OUTPUT_CASES = [
    pytest.param("logistic", 1, id="binary-logistic"),
    pytest.param("logistic", 3, id="multilabel-logistic"),
    pytest.param("softmax", 3, id="softmax"),
]


# init_params ------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_shapes_dtype_and_glorot_bounds(activation, dtype):
    layer_units = [30, 20, 10, 3]
    coefs, intercepts = nn.init_params(
        layer_units, activation, np.random.RandomState(0), dtype
    )
    assert len(coefs) == len(intercepts) == len(layer_units) - 1
    factor = 2.0 if activation == "logistic" else 6.0
    for W, b, (fan_in, fan_out) in zip(coefs, intercepts, pairwise(layer_units)):
        assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray)
        assert W.shape == (fan_in, fan_out)
        assert b.shape == (fan_out,)
        assert W.dtype == dtype and b.dtype == dtype
        bound = np.sqrt(factor / (fan_in + fan_out))
        values = np.concatenate([W.ravel(), b])
        assert np.all(np.abs(values) <= bound)
        # The draws fill the interval: not a smaller bound, not a constant.
        assert np.abs(values).max() > 0.9 * bound
        assert values.min() < -0.5 * bound and values.max() > 0.5 * bound


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_init_params_draws_the_sequence_of_uniform_calls(activation):
    # Glorot uniform as scikit-learn draws it: for each layer, the weights,
    # then the intercepts, from one RandomState.
    layer_units = [4, 6, 5, 2]
    coefs, intercepts = nn.init_params(
        layer_units, activation, np.random.RandomState(42), np.float64
    )
    rng = np.random.RandomState(42)
    factor = 2.0 if activation == "logistic" else 6.0
    for W, b, (fan_in, fan_out) in zip(coefs, intercepts, pairwise(layer_units)):
        bound = np.sqrt(factor / (fan_in + fan_out))
        assert_array_equal(W, rng.uniform(-bound, bound, (fan_in, fan_out)))
        assert_array_equal(b, rng.uniform(-bound, bound, fan_out))


def test_init_params_float32_are_the_float64_draws_rounded():
    units = [7, 5, 3]
    c64, i64 = nn.init_params(units, "relu", np.random.RandomState(3), np.float64)
    c32, i32 = nn.init_params(units, "relu", np.random.RandomState(3), np.float32)
    for a, b in zip(c64 + i64, c32 + i32):
        assert_array_equal(a.astype(np.float32), b)


def test_init_params_advances_the_given_random_state():
    rng = np.random.RandomState(0)
    first = nn.init_params([3, 4, 2], "relu", rng, np.float64)[0][0]
    second = nn.init_params([3, 4, 2], "relu", rng, np.float64)[0][0]
    assert not np.array_equal(first, second)


# forward ----------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_forward_on_arrays_matches_numpy(activation):
    coefs, intercepts, X, _, _ = make_problem("softmax", 3)
    expected = numpy_forward(coefs, intercepts, X, activation)
    for form in activation_forms(activation):
        out = nn.forward(coefs, intercepts, X, form)
        assert type(out) is np.ndarray
        assert out.shape == (X.shape[0], 3)
        assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_forward_single_layer_is_affine():
    # No hidden layer: the activation is never applied.
    rng = np.random.RandomState(0)
    W, b, X = rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(6, 4))
    out = nn.forward([W], [b], X, "relu")
    assert_allclose(out, X @ W + b, rtol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_forward_on_tensors_returns_a_tensor_with_the_same_values(activation):
    coefs, intercepts, X, _, _ = make_problem("logistic", 2)
    expected = numpy_forward(coefs, intercepts, X, activation)
    for form in activation_forms(activation):
        out = nn.forward(
            [Tensor(W) for W in coefs], [Tensor(b) for b in intercepts], X, form
        )
        assert isinstance(out, Tensor)
        assert out.shape == expected.shape
        assert_allclose(out.value, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_forward_on_sparse_X_equals_dense(fmt, activation):
    coefs, intercepts, X, _, _ = make_problem("softmax", 3)
    X[np.abs(X) < 0.8] = 0.0  # mostly zeros
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    dense = numpy_forward(coefs, intercepts, X, activation)
    for form in activation_forms(activation):
        out = nn.forward(coefs, intercepts, X_sparse, form)
        assert type(out) is np.ndarray  # not np.matrix
        assert_allclose(out, dense, rtol=1e-12, atol=1e-12)
        out_t = nn.forward(
            [Tensor(W) for W in coefs], [Tensor(b) for b in intercepts], X_sparse, form
        )
        assert isinstance(out_t, Tensor)
        assert type(out_t.value) is np.ndarray
        assert_allclose(out_t.value, dense, rtol=1e-12, atol=1e-12)


def test_forward_keeps_float32():
    coefs, intercepts, X, _, _ = make_problem("softmax", 3)
    f32 = [a.astype(np.float32) for a in coefs + intercepts + [X]]
    out = nn.forward(f32[:3], f32[3:6], f32[6], "tanh")
    assert out.dtype == np.float32
    assert_allclose(
        out, numpy_forward(coefs, intercepts, X, "tanh"), rtol=1e-4, atol=1e-5
    )


# Objective --------------------------------------------------------------------------


def log_loss_for(output):
    """The built-in reduced log-loss of an output layer."""
    return nn.LOSSES["log_loss" if output == "softmax" else "binary_log_loss"]


def evaluate(coefs, intercepts, X, Y, sw, alpha, activation, output, loss=None):
    """``(data, penalty, gradient)`` of nn.Objective at the given parameters."""
    units = [X.shape[1]] + [W.shape[1] for W in coefs]
    fun = nn.Objective(units, activation, loss or log_loss_for(output), alpha)
    vector = np.concatenate([p.ravel() for p in coefs + intercepts])
    return fun(vector, X, Y, sw)


def total(*args, **kwargs):
    """The objective's value: data term plus penalty."""
    data, penalty, _ = evaluate(*args, **kwargs)
    return data + penalty


def numeric_gradient(fun, vector, eps=1e-6):
    """Central finite differences of a scalar function of a vector."""
    grad = np.empty_like(vector)
    for i in range(vector.size):
        step = np.zeros_like(vector)
        step[i] = eps
        grad[i] = (fun(vector + step) - fun(vector - step)) / (2 * eps)
    return grad


def test_objective_shapes_and_params_are_views_of_the_vector():
    fun = nn.Objective([4, 3, 2], "relu", nn.LOSSES["log_loss"], 0.0)
    assert fun.shapes == [(4, 3), (3, 2), (3,), (2,)]
    vector = np.arange(4 * 3 + 3 * 2 + 3 + 2, dtype=float)
    coefs, intercepts = fun.params(vector)
    assert [c.shape for c in coefs] == [(4, 3), (3, 2)]
    assert [b.shape for b in intercepts] == [(3,), (2,)]
    assert all(np.shares_memory(p, vector) for p in coefs + intercepts)
    assert_array_equal(intercepts[1], [21.0, 22.0])


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_objective_equals_hand_computed_weighted_log_loss_plus_l2(
    output, n_outputs, activation, weighted
):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    sw = sw if weighted else None
    alpha = 0.3
    expected = numpy_objective(coefs, intercepts, X, Y, sw, alpha, activation, output)
    for form in activation_forms(activation):
        value = total(coefs, intercepts, X, Y, sw, alpha, form, output)
        assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_without_penalty_is_sklearn_log_loss(output, n_outputs):
    # An independent oracle for the data term: sklearn.metrics.log_loss.
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs, n_samples=30)
    z = numpy_forward(coefs, intercepts, X, "tanh")
    if output == "softmax":
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        expected = sklearn_log_loss(Y.argmax(axis=1), p, sample_weight=sw)
    else:
        p = 1.0 / (1.0 + np.exp(-z))
        # log_loss averages the per-column binary losses; ours sums them.
        expected = sum(
            sklearn_log_loss(Y[:, j], p[:, j], sample_weight=sw, labels=[0, 1])
            for j in range(n_outputs)
        )
    data, penalty, _ = evaluate(coefs, intercepts, X, Y, sw, 0.0, "tanh", output)
    assert penalty == 0.0
    assert_allclose(data, expected, rtol=1e-10)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_penalises_weights_not_intercepts(output, n_outputs):
    coefs, intercepts, X, Y, _ = make_problem(output, n_outputs)
    base, zero, _ = evaluate(coefs, intercepts, X, Y, None, 0.0, "relu", output)
    alpha = 2.5
    data, penalty, grad = evaluate(coefs, intercepts, X, Y, None, alpha, "relu", output)
    assert zero == 0.0 and data == base
    expected = 0.5 * alpha * sum((W**2).sum() for W in coefs) / X.shape[0]
    assert_allclose(penalty, expected, rtol=1e-10)
    # The penalty's gradient reaches the weights only.
    *_, grad0 = evaluate(coefs, intercepts, X, Y, None, 0.0, "relu", output)
    n_weights = sum(W.size for W in coefs)
    assert_allclose(
        (grad - grad0)[:n_weights],
        alpha * np.concatenate([W.ravel() for W in coefs]) / X.shape[0],
        rtol=1e-9,
    )
    assert_allclose((grad - grad0)[n_weights:], 0.0, atol=1e-15)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_normalises_by_the_sum_of_weights(output, n_outputs):
    # Scaling every sample weight leaves the data term unchanged; the penalty
    # is divided by the sum of the weights.
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    data_a, pen_a, _ = evaluate(coefs, intercepts, X, Y, sw, 0.1, "tanh", output)
    data_b, pen_b, _ = evaluate(coefs, intercepts, X, Y, 7.0 * sw, 0.1, "tanh", output)
    assert_allclose(data_a, data_b, rtol=1e-12)
    penalty = 0.5 * 0.1 * sum((W**2).sum() for W in coefs)
    assert_allclose(pen_a, penalty / sw.sum(), rtol=1e-10)
    assert_allclose(pen_b, penalty / (7.0 * sw.sum()), rtol=1e-10)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_ignores_zero_weight_samples(output, n_outputs):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    sw = sw.copy()
    sw[::3] = 0.0
    keep = sw > 0
    full = evaluate(coefs, intercepts, X, Y, sw, 0.2, "relu", output)
    kept = evaluate(coefs, intercepts, X[keep], Y[keep], sw[keep], 0.2, "relu", output)
    for a, b in zip(full, kept):
        assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_objective_gradient_matches_finite_differences(
    output, n_outputs, activation, weighted
):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs, n_samples=8)
    sw = sw if weighted else None
    units = [X.shape[1]] + [W.shape[1] for W in coefs]
    vector = np.concatenate([p.ravel() for p in coefs + intercepts])
    for form in activation_forms(activation):
        fun = nn.Objective(units, form, log_loss_for(output), 0.05)
        _, _, grad = fun(vector, X, Y, sw)

        def value(v, fun=fun):
            data, penalty, _ = fun(v, X, Y, sw)
            return data + penalty

        assert grad.shape == vector.shape
        assert_allclose(grad, numeric_gradient(value, vector), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_and_gradient_on_sparse_X_equal_dense(fmt, output, n_outputs):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    X[np.abs(X) < 0.8] = 0.0
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    dense = evaluate(coefs, intercepts, X, Y, sw, 0.1, "relu", output)
    sparse = evaluate(coefs, intercepts, X_sparse, Y, sw, 0.1, "relu", output)
    assert type(sparse[2]) is np.ndarray
    for a, b in zip(sparse, dense):
        assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_value_and_gradients_stay_float32(output, n_outputs):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    c32 = [p.astype(np.float32) for p in coefs]
    i32 = [p.astype(np.float32) for p in intercepts]
    X32, Y32, sw32 = (a.astype(np.float32) for a in (X, Y, sw))
    data, penalty, grad = evaluate(c32, i32, X32, Y32, sw32, 0.1, "tanh", output)
    assert grad.dtype == np.float32
    data64, penalty64, grad64 = evaluate(
        coefs, intercepts, X, Y, sw, 0.1, "tanh", output
    )
    assert_allclose(data + penalty, data64 + penalty64, rtol=1e-5)
    assert_allclose(grad, grad64, rtol=1e-3, atol=1e-5)


def test_objective_draws_dropout_masks_from_its_random_state():
    coefs, intercepts, X, Y, _ = make_problem("softmax", 3)
    units = [X.shape[1]] + [W.shape[1] for W in coefs]
    vector = np.concatenate([p.ravel() for p in coefs + intercepts])
    loss = log_loss_for("softmax")

    def run(seed):
        rng = np.random.RandomState(seed)
        return nn.Objective(units, "tanh", loss, 0.0, [0.5, 0.5], rng)(
            vector, X, Y, None
        )

    assert_array_equal(run(0)[2], run(0)[2])
    assert not np.array_equal(run(0)[2], run(1)[2])
    without = nn.Objective(units, "tanh", loss, 0.0)(vector, X, Y, None)
    assert not np.array_equal(run(0)[2], without[2])


# Losses -----------------------------------------------------------------------------


def regression_problem(n_outputs, seed=0, n_samples=10):
    """Raw outputs, targets and weights for the regression losses."""
    rng = np.random.RandomState(seed)
    raw = rng.normal(size=(n_samples, n_outputs))
    y = rng.normal(size=(n_samples, n_outputs)) * 2
    return raw, y, rng.uniform(0.2, 3.0, size=n_samples)


NUMPY_LOSSES = {
    "squared_error": lambda z, y: 0.5 * ((z - y) ** 2).sum(axis=1),
    "poisson": lambda z, y: (
        np.exp(z) - y * z + np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y
    ).sum(axis=1),
    "huber": lambda z, y: np.where(
        np.abs(y - z) <= 1.0, 0.5 * (y - z) ** 2, np.abs(y - z) - 0.5
    ).sum(axis=1),
    "quantile": lambda z, y: np.maximum(0.5 * (y - z), -0.5 * (y - z)).sum(axis=1),
}
"""Reference per-sample losses, written here with NumPy (default parameters)."""


@pytest.mark.parametrize("name", list(NUMPY_LOSSES))
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_loss_values_and_gradients(name, n_outputs, weighted):
    raw, y, sw = regression_problem(n_outputs)
    if name == "poisson":
        y = np.abs(y).round()  # counts, zeros included
    sw = sw if weighted else None
    loss = nn.LOSSES[name]
    per_sample = NUMPY_LOSSES[name](raw, y)
    expected = per_sample.sum() if sw is None else per_sample @ sw
    assert_allclose(float(loss(raw, y, sw, scale=0.25)), 0.25 * expected, rtol=1e-12)
    check_grad(lambda z: loss(z, y, sw, scale=0.25), raw)


def test_poisson_loss_is_sklearns_half_deviance():
    from sklearn.metrics import mean_poisson_deviance

    raw, y, sw = regression_problem(1, n_samples=40)
    y = np.abs(y).round()
    value = float(nn.poisson_loss(raw, y, sw, scale=1.0 / sw.sum()))
    expected = 0.5 * mean_poisson_deviance(
        y.ravel(), np.exp(raw.ravel()), sample_weight=sw
    )
    assert_allclose(value, expected, rtol=1e-10)


@pytest.mark.parametrize("delta", [0.1, 1.0, 10.0])
def test_huber_is_quadratic_inside_delta_and_linear_beyond(delta):
    r = np.linspace(-30, 30, 121)[:, np.newaxis]
    loss = nn.huber(np.zeros_like(r), r, delta=delta)
    inside = np.abs(r[:, 0]) <= delta
    assert_allclose(loss[inside], 0.5 * r[inside, 0] ** 2)
    assert_allclose(loss[~inside], delta * (np.abs(r[~inside, 0]) - delta / 2))
    r = np.linspace(-3 * delta, 3 * delta, 13)[:, np.newaxis] + 0.013 * delta
    check_grad(lambda z: nn.huber(z, r, delta=delta).sum(), np.zeros_like(r))


@pytest.mark.parametrize("quantile", [0.1, 0.5, 0.9])
def test_pinball_is_minimised_by_the_quantile(quantile):
    y = np.random.RandomState(0).exponential(size=(2001, 1))
    grid = np.linspace(0, 4, 4001)
    losses = [nn.pinball(np.full_like(y, c), y, quantile=quantile).sum() for c in grid]
    best = grid[int(np.argmin(losses))]
    assert abs(best - np.quantile(y, quantile)) < 2e-3
    check_grad(
        lambda z: nn.pinball(z, y[:5] + 0.01, quantile=quantile).sum(), np.zeros((5, 1))
    )


def test_per_sample_applies_weights_and_scale():
    raw, y, sw = regression_problem(2)
    reduced = nn.per_sample(lambda z, t: ((z - t) ** 2).sum(axis=1))
    per_row = ((raw - y) ** 2).sum(axis=1)
    assert_allclose(float(reduced(raw, y, sw, scale=0.5)), 0.5 * per_row @ sw)
    assert_allclose(float(reduced(raw, y, None)), per_row.sum())
    check_grad(lambda z: reduced(z, y, sw, scale=0.5), raw)


def test_per_sample_refuses_a_loss_that_drops_the_gradient():
    raw, y, _ = regression_problem(2)
    reduced = nn.per_sample(lambda z, t: np.asarray(((z.value - t) ** 2).sum(axis=1)))
    with pytest.raises(TypeError, match="not a Tensor.*no gradient"):
        reduced(Tensor(raw), y, None)


@pytest.mark.parametrize("shape", [(10, 2), (10, 1), (), (9,)])
def test_per_sample_refuses_a_loss_of_the_wrong_shape(shape):
    raw, y, _ = regression_problem(2)
    reduced = nn.per_sample(lambda z, t: (z - t).sum() * np.ones(shape))
    with pytest.raises(ValueError, match=r"one value per sample, of shape \(10,\)"):
        reduced(Tensor(raw), y, None)


def test_outputs_table():
    z = np.array([[-2.0, 0.0, 3.0]])
    assert_array_equal(nn.OUTPUTS["identity"](z), z)
    assert_allclose(nn.OUTPUTS["exp"](z), np.exp(z))
    assert_allclose(nn.OUTPUTS["logistic"](z), 1 / (1 + np.exp(-z)))
    assert_allclose(nn.OUTPUTS["softmax"](z), np.exp(z) / np.exp(z).sum())


def test_custom_activation_that_drops_the_gradient_is_refused():
    coefs, intercepts, X, _, _ = make_problem("softmax", 3)
    leaves = [Tensor(p) for p in coefs + intercepts]
    with pytest.raises(TypeError, match="activation .* not a Tensor"):
        nn.forward(leaves[:3], leaves[3:], X, lambda z: np.tanh(np.asarray(z.value)))
    with pytest.raises(ValueError, match="of its input's shape"):
        nn.forward(leaves[:3], leaves[3:], X, lambda z: z.sum(axis=1))


# probabilities ----------------------------------------------------------------------


def probabilities(output, logits):
    """Output-layer probabilities, as the classifier turns logits into them."""
    return nn.OUTPUTS[output](logits)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_softmax_probabilities_rows_sum_to_one(scale):
    rng = np.random.RandomState(0)
    z = scale * rng.normal(size=(50, 4))
    p = probabilities("softmax", z)
    assert p.shape == z.shape
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(p.argmax(axis=1), z.argmax(axis=1))
    if scale == 1.0:
        assert np.all((p > 0) & (p < 1))
        expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        assert_allclose(p, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 50.0, 1e4])
def test_logistic_probabilities_are_the_unclipped_logistic(dtype, scale):
    # As scikit-learn's expit: no clipping, full relative accuracy in the tail.
    rng = np.random.RandomState(0)
    z = (scale * rng.normal(size=(40, 3))).astype(dtype)
    z[0] = [1e4, -1e4, 0.0]
    p = probabilities("logistic", z)
    assert p.dtype == dtype and p.shape == z.shape
    assert np.all((p >= 0) & (p <= 1))
    assert_array_equal(p[0], [1.0, 0.0, 0.5])
    with np.errstate(over="ignore"):
        expected = scipy.special.expit(z.astype(np.float64))
    tiny = np.finfo(dtype).tiny  # below it, float32 rounds to subnormals
    assert_allclose(p, expected, rtol=2e-7 if dtype == np.float32 else 1e-15, atol=tiny)


def test_softmax_probabilities_keep_float32():
    z = np.random.RandomState(0).normal(size=(5, 3)).astype(np.float32)
    p = probabilities("softmax", z)
    assert p.dtype == np.float32
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES + ["gelu"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "x_dtype, w_dtype",
    [
        (np.float64, np.float64),
        (np.float32, np.float32),
        (np.float32, np.float64),
        (np.float64, np.float32),
    ],
)
def test_predict_in_one_chunk_and_in_many_agree_with_numpy(
    activation, sparse, x_dtype, w_dtype
):
    rng = np.random.RandomState(0)
    coefs = [rng.normal(size=s).astype(w_dtype) for s in [(4, 6), (6, 5), (5, 2)]]
    intercepts = [
        rng.normal(size=s[1]).astype(w_dtype) for s in [(4, 6), (6, 5), (5, 2)]
    ]
    X = rng.normal(size=(7, 4)).astype(x_dtype)
    X_in = sp.csr_matrix(X) if sparse else X
    if activation in NUMPY_ACTIVATIONS:
        expected = numpy_forward(
            [c.astype(np.float64) for c in coefs],
            [b.astype(np.float64) for b in intercepts],
            X.astype(np.float64),
            activation,
        )
    else:
        expected = nn.forward(coefs, intercepts, X, activation)
    dtype = np.result_type(x_dtype, w_dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for chunk_rows in (8192, 7, 3, 1):  # one chunk (no buffers), then several
        raw = nn.predict(coefs, intercepts, X_in, activation, chunk_rows=chunk_rows)
        assert raw.dtype == dtype and raw.shape == (7, 2)
        assert_allclose(raw, expected, rtol=rtol, atol=rtol)


# Tabular inputs ----------------------------------------------------------------------


def numpy_periodic_embedding(x, c, W, b):
    """Reference PLR embedding, one column at a time."""
    columns = []
    for j in range(x.shape[1]):
        angle = 2 * np.pi * x[:, j : j + 1] * c[j]
        periodic = np.hstack([np.cos(angle), np.sin(angle)])
        columns.append(np.maximum(periodic @ W[j] + b[j], 0))
    return np.hstack(columns)


def test_periodic_embedding_values_and_gradients():
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=(6, 3)), rng.normal(size=(3, 4))
    W, b = rng.normal(size=(3, 8, 5)), rng.normal(size=(3, 5))
    assert_allclose(
        nn.periodic_embedding(x, c, W, b), numpy_periodic_embedding(x, c, W, b)
    )
    G = rng.normal(size=(6, 15))
    args = [x, c, W, b]
    for i in range(4):

        def f(v, i=i):
            return (nn.periodic_embedding(*args[:i], v, *args[i + 1 :]) * G).sum()

        assert check_grad(f, args[i]) < 1e-6


def test_periodic_embedding_keeps_float32():
    rng = np.random.default_rng(1)
    args = [rng.normal(size=s).astype(np.float32) for s in [(4, 2), (2, 3), (2, 6, 2)]]
    out = nn.periodic_embedding(*args, np.zeros((2, 2), np.float32))
    assert out.dtype == np.float32


def test_input_embedding_layout_and_initial_tables():
    front = nn.InputEmbedding(
        2,
        1,
        [3, 2],
        n_frequencies=4,
        frequency_scale=0.5,
        numeric_dim=5,
        embedding_dim=2,
    )
    params = front.init(np.random.RandomState(0), np.float64)
    assert [p.shape for p in params] == front.shapes
    table = params[-1]
    assert table.shape == (3 + 1 + 2 + 1, 2)
    assert_array_equal(table[[0, 4]], 0)  # code 0 of each column starts at zero
    X = np.array([[0.5, -1.0, 1.0, 3.0, 1.0], [0.0, 2.0, 0.0, 0.0, 2.0]])
    out = front(params, X)
    assert out.shape == (2, front.n_outputs) == (2, 2 + 2 * 5 + 1 + 2 * 2)
    assert_array_equal(out[:, :2], X[:, :2])  # the numbers themselves
    assert_allclose(out[:, 2:12], numpy_periodic_embedding(X[:, :2], *params[:3]))
    assert_array_equal(out[:, 12], X[:, 2])  # passed through
    assert_array_equal(out[0, 13:15], table[3])  # column 0, code 3
    assert_array_equal(out[1, 15:17], table[4 + 2])  # column 1, code 2
    assert_array_equal(out[1, 13:15], 0)  # code 0: missing or unknown


def test_objective_with_a_front_trains_its_parameters_unpenalised():
    front = nn.InputEmbedding(
        2,
        0,
        [3],
        n_frequencies=2,
        frequency_scale=1.0,
        numeric_dim=3,
        embedding_dim=2,
    )
    rng = np.random.RandomState(0)
    layer_units = [front.n_outputs, 4, 2]
    coefs, intercepts = nn.init_params(layer_units, "tanh", rng, np.float64)
    vector = np.concatenate(
        [p.ravel() for p in coefs + intercepts + front.init(rng, np.float64)]
    )
    X = np.column_stack([rng.normal(size=(8, 2)), rng.randint(0, 4, 8)])
    Y = np.eye(2)[rng.randint(0, 2, 8)]
    objective = nn.Objective(
        layer_units, "tanh", nn.LOSSES["log_loss"], alpha=0.5, front=front
    )
    assert objective.shapes[-len(front.shapes) :] == front.shapes
    data, penalty, grad = objective(vector, X, Y, None)
    weights = np.concatenate([c.ravel() for c in coefs])
    assert penalty == pytest.approx(0.5 * 0.5 * weights @ weights / 8)
    error = scipy.optimize.check_grad(
        lambda v: sum(objective(v, X, Y, None)[:2]),
        lambda v: objective(v, X, Y, None)[2],
        vector,
    )
    assert error < 1e-5 * np.linalg.norm(grad)
    assert np.abs(grad[-sum(np.prod(s) for s in front.shapes) :]).max() > 0
    fronts = objective.front_params(vector)
    assert [p.shape for p in fronts] == front.shapes
