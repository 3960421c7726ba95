"""Tests of skvgrad.engine.kernels: activation kernels on plain NumPy arrays.

Values against SciPy's and NumPy's references over the whole float range,
derivatives from the output against the analytic derivative, HIPS autograd
and central differences, in-place use through ``out=``, dtypes, 0-d inputs,
the memory each kernel allocates, and that the engine's primitives compute
with exactly these kernels.
"""

import tracemalloc
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import scipy.special
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine
from skvgrad.engine import kernels

DTYPES = [np.float64, np.float32]
WIDE = np.concatenate(
    [[-1e4, -800.0, -40.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 40.0, 800.0, 1e4]],
    axis=None,
)
SMOOTH = np.linspace(-3.0, 3.0, 13)

# name: (kernel, reference value in float64)
FORWARD = {
    "identity": (kernels.identity, lambda x: x),
    "sigmoid": (kernels.sigmoid, scipy.special.expit),
    "tanh": (kernels.tanh, np.tanh),
    "relu": (kernels.relu, lambda x: np.maximum(x, 0.0)),
    "softplus": (kernels.softplus, lambda x: np.logaddexp(0.0, x)),
    "log_sigmoid": (kernels.log_sigmoid, scipy.special.log_expit),
    "log1p_exp_neg_abs": (
        kernels.log1p_exp_neg_abs,
        lambda x: np.log1p(np.exp(-np.abs(x))),
    ),
}

# name: (derivative kernel, its forward kernel, autograd version of the function)
GRADS = {
    "identity": (kernels.identity_grad, kernels.identity, lambda x: x),
    "sigmoid": (
        kernels.sigmoid_grad,
        kernels.sigmoid,
        lambda x: 1.0 / (1.0 + anp.exp(-x)),
    ),
    "tanh": (kernels.tanh_grad, kernels.tanh, anp.tanh),
    "relu": (kernels.relu_grad, kernels.relu, lambda x: anp.maximum(x, 0.0)),
}


def tolerance(dtype):
    """Absolute and relative tolerance of a kernel's result in ``dtype``."""
    eps = np.finfo(dtype).eps
    return 4 * eps, 4 * eps


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_kernel_matches_its_reference_without_warnings(name, dtype):
    kernel, reference = FORWARD[name]
    x = WIDE.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = kernel(x)
    assert type(out) is np.ndarray and out.dtype == dtype
    assert np.all(np.isfinite(out))
    rtol, atol = tolerance(dtype)
    assert_allclose(out, reference(x.astype(np.float64)), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_sigmoid_keeps_full_relative_accuracy_in_its_tail(dtype):
    # Down to the smallest normal number the result is expit's to a few ulps,
    # where 0.5 + 0.5 tanh(x / 2) is 0 below -38 (float64) or -20 (float32).
    tiny = np.finfo(dtype).tiny
    x = np.linspace(np.log(tiny), 40.0, 20001).astype(dtype)
    reference = scipy.special.expit(x.astype(np.float64))
    assert_allclose(kernels.sigmoid(x), reference, rtol=8 * np.finfo(dtype).eps)
    assert_allclose(
        kernels.sigmoid(np.array([-36.0, -17.0], dtype)),
        scipy.special.expit(np.array([-36.0, -17.0])),
        rtol=8 * np.finfo(dtype).eps,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_log_of_sigmoid_has_a_finite_value_and_gradient_in_the_tail(dtype):
    # The seed homework's -log(sigmoid(margin)) at margins far below zero.
    x = np.array([-80.0, -40.0, -17.0, 0.0, 17.0], dtype)
    value, gradient = engine.value_and_grad(
        lambda t: engine.log(engine.sigmoid(t)).sum()
    )(x)
    assert np.isfinite(value)
    # Where sigmoid rounds to 1 its gradient is 0, an absolute error below eps.
    assert_allclose(
        gradient,
        scipy.special.expit(-x.astype(np.float64)),
        rtol=1e-6,
        atol=np.finfo(dtype).eps,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_kernel_writes_in_place(name, dtype):
    kernel, _ = FORWARD[name]
    x = WIDE.astype(dtype)
    expected = kernel(x.copy())
    same = x.copy()
    assert kernel(same, out=same) is same
    assert_array_equal(same, expected)
    other = np.empty_like(x)
    assert kernel(x, out=other) is other
    assert_array_equal(other, expected)


@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_kernel_on_zero_dimensional_input(name):
    kernel, reference = FORWARD[name]
    for value in (-2.0, 0.0, 3.0):
        out = kernel(np.array(value))
        assert np.ndim(out) == 0
        assert_allclose(out, reference(value), rtol=1e-15, atol=1e-16)
        out32 = kernel(np.array(value, dtype=np.float32))
        assert np.asarray(out32).dtype == np.float32


ANALYTIC = {
    "identity": lambda x: np.ones_like(x),
    "sigmoid": lambda x: scipy.special.expit(x) * scipy.special.expit(-x),
    "tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "relu": lambda x: (x > 0).astype(float),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(GRADS))
def test_derivative_from_the_output_matches_the_derivative(name, dtype):
    derivative, forward, reference = GRADS[name]
    x = np.concatenate([SMOOTH[SMOOTH != 0], WIDE[WIDE != 0]]).astype(dtype)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = derivative(g, forward(x))
    assert ours.dtype == dtype and ours.shape == x.shape
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    rtol, atol = tolerance(dtype)
    assert_allclose(ours, g64 * ANALYTIC[name](x64), rtol=8 * rtol, atol=8 * atol)
    smooth = np.abs(x64) < 5
    theirs = g64[smooth] * autograd.elementwise_grad(reference)(x64[smooth])
    assert_allclose(ours[smooth], theirs, rtol=8 * rtol, atol=8 * atol)


@pytest.mark.parametrize("name", list(GRADS))
def test_derivative_matches_central_differences(name):
    derivative, forward, _ = GRADS[name]
    x = SMOOTH[SMOOTH != 0]
    eps = 1e-6
    numeric = (forward(x + eps) - forward(x - eps)) / (2 * eps)
    assert_allclose(derivative(np.ones_like(x), forward(x)), numeric, rtol=1e-6)


def test_softplus_and_log_sigmoid_derivatives_are_sigmoids():
    x = SMOOTH
    eps = 1e-6
    for kernel, derivative in (
        (kernels.softplus, kernels.sigmoid(x)),
        (kernels.log_sigmoid, kernels.sigmoid(-x)),
    ):
        numeric = (kernel(x + eps) - kernel(x - eps)) / (2 * eps)
        assert_allclose(derivative, numeric, rtol=1e-6)


@pytest.mark.parametrize("name", list(GRADS))
def test_derivative_broadcasts_g(name):
    derivative, forward, _ = GRADS[name]
    ans = forward(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    assert_allclose(derivative(2.0, ans), derivative(np.full((2, 3), 2.0), ans))


@pytest.mark.parametrize("name", list(GRADS))
def test_derivative_on_zero_dimensional_input(name):
    derivative, forward, _ = GRADS[name]
    ans = forward(np.array(0.5))
    out = derivative(np.array(2.0), ans)
    assert_allclose(out, derivative(np.full(1, 2.0), np.atleast_1d(ans))[0])


def test_derivatives_at_saturation_are_exact_zeros():
    assert_array_equal(
        kernels.sigmoid_grad(np.ones(2), kernels.sigmoid(np.array([-1e4, 1e4]))), 0
    )
    assert_array_equal(
        kernels.tanh_grad(np.ones(2), kernels.tanh(np.array([-1e4, 1e4]))), 0
    )
    assert_array_equal(kernels.relu_grad(np.ones(2), np.array([0.0, -0.0])), 0)


def test_identity_grad_returns_g_itself():
    g = np.ones(3)
    assert kernels.identity_grad(g, np.zeros(3)) is g
    x = np.ones(3)
    assert kernels.identity(x) is x


def peak_allocation(fn, *args, **kwargs):
    """Peak bytes allocated while ``fn`` runs (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


N_BIG = (400, 250)


@pytest.mark.parametrize("name", list(GRADS))
def test_derivative_kernels_allocate_at_most_one_array(name):
    derivative, forward, _ = GRADS[name]
    x = np.random.default_rng(1).standard_normal(N_BIG)
    g, ans = np.ones_like(x), forward(x)
    # The result, plus a boolean mask for relu (an eighth of it).
    assert peak_allocation(derivative, g, ans) <= 1.25 * x.nbytes + 4096


@pytest.mark.parametrize("name", ["tanh", "relu", "log1p_exp_neg_abs"])
def test_forward_kernels_in_place_allocate_nothing(name):
    kernel, _ = FORWARD[name]
    x = np.random.default_rng(2).standard_normal(N_BIG)
    assert peak_allocation(kernel, x, out=x) <= 4096
    assert peak_allocation(kernel, x) <= x.nbytes + 4096


def test_sigmoid_keeps_two_arrays_beside_its_input():
    # exp(-|x|) beside the numerator exp(min(x, 0)): the price of full relative
    # accuracy in its tail. Written elsewhere, the numerator is the result.
    x = np.random.default_rng(3).standard_normal(N_BIG)
    assert peak_allocation(kernels.sigmoid, x, out=x) <= 2 * x.nbytes + 4096
    assert peak_allocation(kernels.sigmoid, x) <= 2 * x.nbytes + 4096
    out = np.empty_like(x)
    assert peak_allocation(kernels.sigmoid, x, out=out) <= x.nbytes + 4096


@pytest.mark.parametrize("name", ["softplus", "log_sigmoid"])
def test_softplus_kernels_use_one_temporary(name):
    kernel, _ = FORWARD[name]
    x = np.random.default_rng(3).standard_normal(N_BIG)
    assert peak_allocation(kernel, x, out=x) <= x.nbytes + 4096


# The engine computes with these kernels: one formula in one place -------------------

ENGINE = {
    "sigmoid": (engine.sigmoid, kernels.sigmoid, kernels.sigmoid_grad),
    "tanh": (engine.tanh, kernels.tanh, kernels.tanh_grad),
    "relu": (engine.relu, kernels.relu, kernels.relu_grad),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(ENGINE))
def test_engine_primitives_compute_with_the_kernels(name, dtype):
    op, forward, derivative = ENGINE[name]
    x = np.concatenate([SMOOTH, WIDE]).astype(dtype)
    g = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
    assert_array_equal(op(x), forward(x))
    ours = engine.grad(lambda t: (op(t) * g).sum())(x)
    assert_array_equal(ours, derivative(g, forward(x)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_engine_softplus_and_log_sigmoid_compute_with_the_kernels(dtype):
    x = np.concatenate([SMOOTH, WIDE]).astype(dtype)
    assert_array_equal(engine.softplus(x), kernels.softplus(x))
    assert_array_equal(engine.log_sigmoid(x), kernels.log_sigmoid(x))
    assert_array_equal(
        engine.grad(lambda t: engine.softplus(t).sum())(x), kernels.sigmoid(x)
    )
    assert_array_equal(
        engine.grad(lambda t: engine.log_sigmoid(t).sum())(x), kernels.sigmoid(-x)
    )
