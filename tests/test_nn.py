"""Unit tests of skvgrad.nn: initialisation, forward pass, objective, probabilities.

Every expected value is computed here with plain NumPy (or scikit-learn), never
by the code under test.
"""

from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import log_loss as sklearn_log_loss

from skvgrad import nn
from skvgrad.engine import Tensor, check_grad, value_and_grad

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
    assert_allclose(out, numpy_forward(coefs, intercepts, X, "tanh"), rtol=1e-4)


# objective --------------------------------------------------------------------------


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
        loss = nn.objective(coefs + intercepts, X, Y, sw, alpha, form, output)
        assert np.ndim(loss) == 0
        assert_allclose(float(loss), expected, rtol=1e-12)


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
    loss = nn.objective(coefs + intercepts, X, Y, sw, 0.0, "tanh", output)
    assert_allclose(float(loss), expected, rtol=1e-10)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_penalises_weights_not_intercepts(output, n_outputs):
    coefs, intercepts, X, Y, _ = make_problem(output, n_outputs)
    params = coefs + intercepts
    base = float(nn.objective(params, X, Y, None, 0.0, "relu", output))
    alpha = 2.5
    with_penalty = float(nn.objective(params, X, Y, None, alpha, "relu", output))
    penalty = 0.5 * alpha * sum((W**2).sum() for W in coefs) / X.shape[0]
    assert_allclose(with_penalty - base, penalty, rtol=1e-10)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_normalises_by_the_sum_of_weights(output, n_outputs):
    # Scaling every sample weight leaves the data term unchanged; the penalty
    # is divided by the sum of the weights.
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    params = coefs + intercepts
    a = float(nn.objective(params, X, Y, sw, 0.1, "tanh", output))
    b = float(nn.objective(params, X, Y, 7.0 * sw, 0.1, "tanh", output))
    data_a = float(nn.objective(params, X, Y, sw, 0.0, "tanh", output))
    data_b = float(nn.objective(params, X, Y, 7.0 * sw, 0.0, "tanh", output))
    assert_allclose(data_a, data_b, rtol=1e-12)
    penalty = 0.5 * 0.1 * sum((W**2).sum() for W in coefs)
    assert_allclose(a - data_a, penalty / sw.sum(), rtol=1e-10)
    assert_allclose(b - data_b, penalty / (7.0 * sw.sum()), rtol=1e-10)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_ignores_zero_weight_samples(output, n_outputs):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    sw = sw.copy()
    sw[::3] = 0.0
    keep = sw > 0
    params = coefs + intercepts
    full = nn.objective(params, X, Y, sw, 0.2, "relu", output)
    kept = nn.objective(params, X[keep], Y[keep], sw[keep], 0.2, "relu", output)
    assert_allclose(float(full), float(kept), rtol=1e-12)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_objective_gradient_matches_finite_differences(
    output, n_outputs, activation, weighted
):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs, n_samples=8)
    sw = sw if weighted else None
    for form in activation_forms(activation):

        def fun(params, form=form):
            return nn.objective(params, X, Y, sw, 0.05, form, output)

        check_grad(fun, coefs + intercepts)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_and_gradient_on_sparse_X_equal_dense(fmt, output, n_outputs):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    X[np.abs(X) < 0.8] = 0.0
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    params = coefs + intercepts
    loss_and_grad = value_and_grad(nn.objective)
    dense_loss, dense_grads = loss_and_grad(params, X, Y, sw, 0.1, "relu", output)
    loss, grads = loss_and_grad(params, X_sparse, Y, sw, 0.1, "relu", output)
    assert_allclose(float(loss), float(dense_loss), rtol=1e-12)
    for g, g_dense, p in zip(grads, dense_grads, params):
        assert type(g) is np.ndarray and g.shape == p.shape
        assert_allclose(g, g_dense, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("output, n_outputs", OUTPUT_CASES)
def test_objective_value_and_gradients_stay_float32(output, n_outputs):
    coefs, intercepts, X, Y, sw = make_problem(output, n_outputs)
    params32 = [p.astype(np.float32) for p in coefs + intercepts]
    X32, Y32, sw32 = (a.astype(np.float32) for a in (X, Y, sw))
    loss, grads = value_and_grad(nn.objective)(
        params32, X32, Y32, sw32, 0.1, "tanh", output
    )
    assert np.asarray(loss).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
    loss64, grads64 = value_and_grad(nn.objective)(
        coefs + intercepts, X, Y, sw, 0.1, "tanh", output
    )
    assert_allclose(float(loss), float(loss64), rtol=1e-5)
    for g, g64 in zip(grads, grads64):
        assert_allclose(g, g64, rtol=1e-3, atol=1e-5)


# probabilities ----------------------------------------------------------------------


def probabilities(output, logits):
    """Output-layer probabilities, as the classifier turns logits into them."""
    return nn.PROBABILITIES[output](logits)


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
def test_logistic_probabilities_stay_strictly_inside_0_1(dtype, scale):
    rng = np.random.RandomState(0)
    z = (scale * rng.normal(size=(40, 3))).astype(dtype)
    z[0] = [1e4, -1e4, 0.0]
    p = probabilities("logistic", z)
    assert p.dtype == dtype and p.shape == z.shape
    assert np.all((p > 0) & (p < 1))
    assert_array_equal(p > 0.5, z > 0)
    if scale == 1.0:
        expected = 1.0 / (1.0 + np.exp(-z[1:].astype(np.float64)))
        assert_allclose(p[1:], expected, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_softmax_probabilities_keep_float32():
    z = np.random.RandomState(0).normal(size=(5, 3)).astype(np.float32)
    p = probabilities("softmax", z)
    assert p.dtype == np.float32
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
