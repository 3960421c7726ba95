"""Tests of skvgrad.engine.replay: traced functions run without a graph.

A replay must give the graph's values and gradients for any input of the
traced shapes, whatever the primitives (with or without their write-into
forms), buffers reused between calls or overwritten in place; and functions
that cannot be traced must be differentiated on the graph.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine, nn
from skvgrad.engine import Tensor, TraceError, trace
from skvgrad.engine.replay import Plan, replayed, same_trace

RNG = np.random.default_rng(0)


def graph_value_and_grads(fun, arrays, wrt):
    """The graph's value and gradients of ``fun`` for the inputs ``wrt``."""
    return engine.value_and_grad(fun, argnum=tuple(wrt))(*arrays)


def seed_loss(W1, b1, W2, b2, W3, b3, X, y):
    h = engine.sigmoid(engine.matmul(X, W1) + b1)
    h = engine.sigmoid(engine.matmul(h, W2) + b2)
    z = engine.matmul(h, W3) + b3
    return (engine.softplus(z) - y * z).mean()


def seed_arrays(n, dtype=np.float64, rng=RNG):
    shapes = [(2, 5), (5,), (5, 5), (5,), (5, 1), (1,), (n, 2), (n, 1)]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    arrays[-1] = (arrays[-1] > 0).astype(dtype)
    return arrays


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_plan_gives_the_graph_values_and_gradients_bitwise(dtype):
    plan = Plan(trace(seed_loss, *seed_arrays(7, dtype)), wrt=range(6))
    for seed in range(3):  # buffers reused from call to call
        arrays = seed_arrays(7, dtype, np.random.default_rng(seed))
        value, grads = plan(*arrays)
        expected, expected_grads = graph_value_and_grads(seed_loss, arrays, range(6))
        assert value.dtype == dtype
        assert_array_equal(value, expected)
        for g, e in zip(grads, expected_grads):
            assert g.dtype == dtype
            assert_array_equal(g, e)


def test_gradients_go_into_the_callers_arrays():
    arrays = seed_arrays(4)
    plan = Plan(trace(seed_loss, *arrays), wrt=[0, 5])
    out = [np.full((2, 5), np.nan), np.full((1,), np.nan)]
    _, grads = plan(*arrays, grads=out)
    assert grads[0] is out[0] and grads[1] is out[1]
    _, expected = graph_value_and_grads(seed_loss, arrays, [0, 5])
    assert_array_equal(out[0], expected[0])
    assert_array_equal(out[1], expected[1])


def test_an_input_that_the_output_does_not_depend_on_gets_zeros():
    def fun(x, unused):
        return (x * x).sum()

    plan = Plan(trace(fun, np.ones(3), np.ones(2)), wrt=[0, 1])
    out = [np.full(3, np.nan), np.full(2, np.nan)]
    _, (gx, gu) = plan(np.arange(3.0), np.ones(2), grads=out)
    assert_array_equal(gx, [0.0, 2.0, 4.0])
    assert_array_equal(gu, [0.0, 0.0])


def test_a_value_read_by_several_steps_sums_its_gradients():
    def fun(x):
        y = engine.tanh(x)
        return (y * y + engine.exp(y) + y).sum()

    x = RNG.standard_normal(5)
    plan = Plan(trace(fun, x), wrt=[0])
    for _ in range(2):
        x = RNG.standard_normal(5)
        value, (g,) = plan(x)
        expected_value, expected = engine.value_and_grad(fun)(x)
        assert_allclose(value, expected_value, rtol=1e-14)
        assert_allclose(g, expected, rtol=1e-14)


def test_a_result_written_over_an_input_that_is_still_needed_is_not():
    # exp's result may overwrite its input, but tanh's VJP reads tanh's output
    # and multiply's VJP reads both inputs: none of them may be overwritten.
    def fun(x):
        t = engine.tanh(x)
        e = engine.exp(t)
        return (e * t).sum()

    x = RNG.standard_normal(6)
    value, (g,) = Plan(trace(fun, x), wrt=[0])(x)
    expected_value, expected = engine.value_and_grad(fun)(x)
    assert_array_equal(value, expected_value)
    assert_array_equal(g, expected)


def test_branches_on_comparisons_replay_on_new_values():
    def fun(x):
        return engine.where(x > 0, x * x, -x).sum() + nn.elu(x).sum()

    plan = Plan(trace(fun, np.array([-1.0, 2.0, -3.0])), wrt=[0])
    x = np.array([4.0, -5.0, 0.5])
    value, (g,) = plan(x)
    expected_value, expected = engine.value_and_grad(fun)(x)
    assert_array_equal(value, expected_value)
    assert_array_equal(g, expected)


def test_closure_primitives_replay():
    @engine.primitive
    def cube(x):
        return x**3, (lambda g: 3 * g * x**2,)

    plan = Plan(trace(lambda x: cube(x).sum(), np.ones(3)), wrt=[0])
    _, (g,) = plan(np.array([1.0, 2.0, -1.0]))
    assert_array_equal(g, [3.0, 12.0, 3.0])


def test_the_fused_layers_and_losses_replay_bitwise():
    X = RNG.standard_normal((9, 4))
    Y = np.eye(3)[RNG.integers(0, 3, 9)]
    sw = RNG.random(9)
    params = [RNG.standard_normal(s) for s in [(4, 6), (6,), (6, 3), (3,)]]

    def fun(W1, b1, W2, b2, X, Y, sw, scale):
        h = nn.dense(X, W1, b1, "tanh")
        z = nn.dense(h, W2, b2, "identity")
        return nn.log_loss(z, Y, sw, "softmax", scale=scale)

    arrays = [*params, X, Y, sw, np.asarray(0.25)]
    plan = Plan(trace(fun, *arrays), wrt=range(4))
    for _ in range(2):
        value, grads = plan(*arrays)
        expected_value, expected = graph_value_and_grads(fun, arrays, range(4))
        assert_array_equal(value, expected_value)
        for g, e in zip(grads, expected):
            assert_array_equal(g, e)
        arrays[4] = RNG.standard_normal((9, 4))


def test_plans_check_their_inputs():
    plan = Plan(trace(lambda x: x.sum(), np.ones(3)), wrt=[0])
    with pytest.raises(ValueError, match="takes 1 array"):
        plan(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="traced as an ndarray of shape"):
        plan(np.ones(4))
    with pytest.raises(ValueError, match="dtype"):
        plan(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="ndarray"):
        plan([1.0, 2.0, 3.0])


def test_constants_of_any_value_are_replayed():
    def fun(x):
        return (x * np.inf + x * np.nan + x * -0.0 + x * 1e-300 + x * True).sum()

    x = np.array([1.0, -2.0])
    value, (g,) = Plan(trace(fun, x), wrt=[0])(x)
    expected_value, expected = engine.value_and_grad(fun)(x)
    assert_array_equal(value, expected_value)
    assert_array_equal(g, expected)


def test_a_plan_needs_one_number_computed_from_the_inputs():
    with pytest.raises(TraceError, match="one number"):
        Plan(trace(lambda x: x * 2, np.ones(3)), wrt=[0])
    with pytest.raises(TraceError, match="one number"):
        Plan(trace(lambda x: 1.0, np.ones(3)), wrt=[0])


def test_same_trace_tells_frozen_random_draws():
    def noisy(x):
        return (x * RNG.standard_normal(x.shape)).sum()

    x = np.ones(3)
    assert not same_trace(trace(noisy, x), trace(noisy, x))
    arrays = seed_arrays(3)
    assert same_trace(trace(seed_loss, *arrays), trace(seed_loss, *arrays))


# replayed: the opt-in value_and_grad ------------------------------------------------


def test_replayed_equals_value_and_grad_on_pytrees():
    def loss(params, X, y):
        return seed_loss(*params, X, y)

    fast, slow = replayed(loss), engine.value_and_grad(loss)
    for n in (5, 5, 8, 5):  # two shapes, two plans
        arrays = seed_arrays(n)
        params, X, y = arrays[:6], arrays[6], arrays[7]
        value, grads = fast(params, X, y)
        expected_value, expected = slow(params, X, y)
        assert_array_equal(value, expected_value)
        assert isinstance(grads, list) and len(grads) == 6
        for g, e in zip(grads, expected):
            assert_array_equal(g, e)


def test_replayed_returns_arrays_of_the_caller():
    f = replayed(lambda x: (x * x).sum())
    _, g1 = f(np.ones(2))
    _, g2 = f(np.full(2, 3.0))
    assert_array_equal(g1, [2.0, 2.0])
    assert_array_equal(g2, [6.0, 6.0])


def test_replayed_options_are_part_of_the_key():
    f = replayed(lambda x, power: (x**power).sum())
    assert_array_equal(f(np.ones(2) * 2, 2)[1], [4.0, 4.0])
    assert_array_equal(f(np.ones(2) * 2, 3)[1], [12.0, 12.0])


def test_replayed_falls_back_to_the_graph_for_untraceable_functions():
    def branchy(x):
        return (x * x).sum() if x.sum() > 0 else (-x).sum()

    f = replayed(branchy)
    assert_array_equal(f(np.ones(2))[1], [2.0, 2.0])
    assert_array_equal(f(-np.ones(2))[1], [-1.0, -1.0])  # not frozen


def test_replayed_several_arguments_and_numbers():
    f = replayed(lambda x, y: (x * y).sum(), argnum=(0, 1))
    value, (gx, gy) = f(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert float(value) == 11.0
    assert_array_equal(gx, [3.0, 4.0])
    assert_array_equal(gy, [1.0, 2.0])
    # A number to differentiate goes through the graph (a float gradient).
    value, g = replayed(lambda x: x * x)(3.0)
    assert g == 6.0


def test_replayed_refuses_tensors():
    with pytest.raises(NotImplementedError):
        replayed(lambda x: x.sum())(Tensor(np.ones(2)))


UNARY = ["exp", "tanh", "sigmoid", "relu", "softplus", "log_sigmoid", "sin", "abs"]
BINARY = ["add", "subtract", "multiply", "maximum"]


@settings(max_examples=settings().max_examples * 2 // 5)  # scaled by the profile
@given(
    data=st.data(),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("unary"), st.sampled_from(UNARY)),
            st.tuples(st.just("binary"), st.sampled_from(BINARY)),
            st.tuples(st.just("matmul"), st.just(None)),
            st.tuples(st.just("where"), st.floats(-1, 1)),
        ),
        min_size=1,
        max_size=8,
    ),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_random_programs_replay_as_the_graph(data, ops, dtype):
    n = data.draw(st.integers(1, 4))
    shapes = [(n, 3), (3,), (3, 3), (1, 3)]

    def program(x, b, w, r):
        h = x
        for kind, what in ops:
            if kind == "unary":
                h = getattr(engine, what)(h)
            elif kind == "binary":
                h = getattr(engine, what)(h, b if what != "maximum" else r)
            elif kind == "matmul":
                h = h @ w
            else:
                h = engine.where(h > what, h * b, h - r)
        return (h * h).sum()

    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    first = [rng.standard_normal(s).astype(dtype) for s in shapes]
    second = [rng.standard_normal(s).astype(dtype) for s in shapes]
    # Chained exponentials overflow: both paths must give the same inf and nan.
    with np.errstate(all="ignore"):
        plan = Plan(trace(program, *first), wrt=range(4))
        value, grads = plan(*second)
        expected_value, expected = graph_value_and_grads(program, second, range(4))
    assert_array_equal(value, expected_value)
    for g, e in zip(grads, expected):
        assert_array_equal(g, e)
