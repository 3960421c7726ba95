"""Tests of skvgrad.engine.tensor: Tensor, ``primitive``, ``unbroadcast``, backward."""

import gc
import operator
import weakref

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine
from skvgrad.engine import Tensor, grad, primitive
from skvgrad.engine.tensor import unbroadcast

RNG = np.random.default_rng(0)
X = RNG.uniform(0.5, 1.5, (3, 4))
M = RNG.standard_normal((2, 3))
V = RNG.standard_normal(4)


def tensor_grad(fn, value):
    """The gradient of ``sum(fn(Tensor(value)) * W)``, through ``.backward()``."""
    t = Tensor(value)
    out = fn(t)
    assert isinstance(out, Tensor)
    weights = np.arange(1.0, 1.0 + out.size).reshape(out.shape)
    (out * weights).sum().backward()
    return out, t.grad, weights


def autograd_grad(fn, value, weights):
    return autograd.grad(lambda a: anp.sum(fn(a) * weights))(value)


# Operator interop -----------------------------------------------------------------

# name: expression with the Tensor (or autograd's box) as ``t``.
INTEROP = {
    "ndarray + Tensor": lambda t: X + t,
    "Tensor + ndarray": lambda t: t + X,
    "float + Tensor": lambda t: 2.0 + t,
    "ndarray - Tensor": lambda t: X - t,
    "Tensor - ndarray": lambda t: t - X,
    "int - Tensor": lambda t: 3 - t,
    "ndarray * Tensor": lambda t: X * t,
    "2.0 * Tensor": lambda t: 2.0 * t,
    "np.float64(2) * Tensor": lambda t: np.float64(2) * t,
    "Tensor * np.float32(2)": lambda t: t * np.float32(2),
    "ndarray / Tensor": lambda t: X / t,
    "float / Tensor": lambda t: 1.5 / t,
    "Tensor / ndarray": lambda t: t / X,
    "Tensor / int": lambda t: t / 4,
    "Tensor ** 2": lambda t: t**2,
    "Tensor ** 0.5": lambda t: t**0.5,
    "Tensor ** ndarray": lambda t: t**X,
    "float ** Tensor": lambda t: 2.0**t,
    "ndarray ** Tensor": lambda t: X**t,
    "ndarray @ Tensor": lambda t: M @ t,
    "Tensor @ ndarray": lambda t: t @ V,
    "ndarray @ Tensor.T": lambda t: V @ t.T,
    "list + Tensor": lambda t: [1.0, 2.0, 3.0, 4.0] + t,
    "-Tensor": lambda t: -t,
}


@pytest.mark.parametrize("name", list(INTEROP))
def test_operator_interop(name):
    fn = INTEROP[name]
    out, g, weights = tensor_grad(fn, X)
    assert type(out) is Tensor
    assert type(out.value) is np.ndarray
    assert_allclose(out.value, fn(X), rtol=1e-14)
    assert g.shape == X.shape
    assert_allclose(g, autograd_grad(fn, X, weights), rtol=1e-12)


def test_unary_plus_is_the_identity():
    t = Tensor(X)
    assert +t is t


def test_numpy_defers_to_tensor_for_every_binary_operator():
    t = Tensor(X)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv):
        assert type(op(X, t)) is Tensor
        assert type(op(np.float64(2.0), t)) is Tensor
    assert type(X**t) is Tensor
    assert type(M @ t) is Tensor


def test_tensor_tensor_operators_give_gradients_to_both():
    a, b = Tensor(X), Tensor(X[::-1] + 1.0)
    ((a * b - a / b + b**a) @ V).sum().backward()
    expected = autograd.grad(
        lambda p: anp.sum((p[0] * p[1] - p[0] / p[1] + p[1] ** p[0]) @ V)
    )((X, X[::-1] + 1.0))
    assert_allclose(a.grad, expected[0], rtol=1e-12)
    assert_allclose(b.grad, expected[1], rtol=1e-12)


# Construction, properties and methods ---------------------------------------------


def test_construction_casts_integers_and_booleans_to_float64():
    assert Tensor(np.arange(3)).dtype == np.float64
    assert Tensor([True, False]).dtype == np.float64
    assert Tensor(3).dtype == np.float64
    assert_array_equal(Tensor([1, 2]).value, [1.0, 2.0])


def test_construction_keeps_float32_and_float64():
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert Tensor(np.ones(2)).dtype == np.float64


def test_tensor_of_a_tensor_is_a_new_leaf_with_the_same_value():
    a = Tensor(X)
    b = Tensor(a * 2.0)
    assert_array_equal(b.value, 2.0 * X)
    b.sum().backward()
    assert a.grad is None
    assert_array_equal(b.grad, np.ones_like(X))


def test_properties():
    t = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.size == 24
    assert t.dtype == np.float32
    assert len(t) == 2
    assert t.grad is None
    assert Tensor(2.5).item() == 2.5
    assert Tensor(2.5).shape == ()
    assert Tensor(2.5).ndim == 0
    assert "Tensor(" in repr(t)


def test_transpose_property_T():
    t = Tensor(M)
    assert t.T.shape == (3, 2)
    assert_array_equal(t.T.value, M.T)
    (t.T * np.arange(6.0).reshape(3, 2)).sum().backward()
    assert_array_equal(t.grad, np.arange(6.0).reshape(3, 2).T)


@pytest.mark.parametrize(
    "axes, positive",
    [
        ((), (2, 1, 0)),
        (((1, 0, 2),), (1, 0, 2)),
        ((2, 0, 1), (2, 0, 1)),
        ((-1, 0, 1), (2, 0, 1)),
        (((0, -1, 1),), (0, 2, 1)),
        (([-3, -1, -2],), (0, 2, 1)),
    ],
    ids=str,
)
def test_transpose_method(axes, positive):
    x = np.arange(24.0).reshape(2, 3, 4)
    out, g, weights = tensor_grad(lambda t: t.transpose(*axes), x)
    assert_array_equal(out.value, np.transpose(x, positive))
    # The gradient is the weights moved back to x's layout.
    assert g.shape == x.shape
    assert_array_equal(g, np.transpose(weights, np.argsort(positive)))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("method", ["sum", "mean"])
def test_sum_and_mean_methods(method, axis, keepdims):
    out, g, weights = tensor_grad(
        lambda t: getattr(t, method)(axis=axis, keepdims=keepdims), X
    )
    expected = getattr(np, method)(X, axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    assert_allclose(out.value, expected, rtol=1e-14)
    reference = getattr(anp, method)
    assert_allclose(
        g,
        autograd_grad(lambda a: reference(a, axis=axis, keepdims=keepdims), X, weights),
        rtol=1e-14,
    )


def test_sum_and_mean_default_reduce_everything():
    t = Tensor(X)
    assert t.sum().shape == ()
    assert_allclose(t.sum().value, X.sum())
    assert_allclose(t.mean().value, X.mean())
    t.mean().backward()
    assert_allclose(t.grad, np.full_like(X, 1.0 / X.size))


@pytest.mark.parametrize(
    "shape", [(2, 6), ((2, 6),), (-1,), (12,), ((4, -1),), (1, 3, 4)], ids=str
)
def test_reshape_method(shape):
    out, g, weights = tensor_grad(lambda t: t.reshape(*shape), X)
    new_shape = shape[0] if isinstance(shape[0], tuple) else shape
    assert_array_equal(out.value, X.reshape(new_shape))
    assert_array_equal(g, weights.reshape(X.shape))


INDICES = {
    "int": 1,
    "slice": slice(0, 2),
    "row-col": (1, 2),
    "column": (slice(None), 2),
    "ellipsis": (Ellipsis, 1),
    "newaxis": (None, 0),
    "reversed": slice(None, None, -1),
    "int-array-repeats": np.array([2, 0, 2, 2]),
    "list-repeats": [1, 1],
    "mixed": (np.array([0, 0]), slice(1, 3)),
    "boolean-mask": X > 1.0,
}


@pytest.mark.parametrize("name", list(INDICES))
def test_indexing(name):
    index = INDICES[name]
    out, g, weights = tensor_grad(lambda t: t[index], X)
    assert_array_equal(out.value, X[index])
    # Scatter-add by hand: a gradient of weights at each selected position.
    expected = np.zeros_like(X)
    np.add.at(expected, index, weights)
    assert_array_equal(g, expected)


def test_indexing_with_repeats_accumulates():
    x = Tensor(np.zeros(3))
    x[np.array([0, 0, 0, 2])].sum().backward()
    assert_array_equal(x.grad, [3.0, 0.0, 1.0])


COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda op: op.__name__)
def test_comparisons_give_plain_boolean_arrays(op):
    other = X[::-1].copy()
    t = Tensor(X)
    for left, right, expected in (
        (t, other, op(X, other)),
        (t, Tensor(other), op(X, other)),
        (t, 1.0, op(X, 1.0)),
        (other, t, op(other, X)),
        (1.0, t, op(1.0, X)),
    ):
        result = op(left, right)
        assert type(result) is np.ndarray
        assert result.dtype == np.bool_
        assert_array_equal(result, expected)


# dtype ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name",
    [n for n in INTEROP if not any(k in n for k in ("ndarray", "float64", "list"))],
)
def test_operators_with_python_numbers_keep_the_dtype(name, dtype):
    fn = INTEROP[name]
    t = Tensor(X.astype(dtype))
    out = fn(t)
    assert out.dtype == dtype
    (out * 1.0).sum().backward()
    assert t.grad.dtype == dtype


def test_gradient_is_cast_to_the_leaf_dtype():
    t = Tensor(np.ones(3, dtype=np.float32))
    (t * np.arange(3.0)).sum().backward()  # float64 ndarray promotes the product
    assert t.grad.dtype == np.float32
    assert_array_equal(t.grad, [0.0, 1.0, 2.0])


# backward -------------------------------------------------------------------------


def test_backward_on_a_non_scalar_without_grad_raises():
    t = Tensor(X)
    with pytest.raises(ValueError, match="single value"):
        (t * 2.0).backward()


def test_backward_with_an_explicit_gradient():
    t = Tensor(X)
    seed = np.arange(12.0).reshape(3, 4)
    (t * 3.0).backward(seed)
    assert_array_equal(t.grad, 3.0 * seed)


def test_backward_with_a_broadcast_gradient():
    t = Tensor(X)
    (t * 3.0).backward(2.0)
    assert_array_equal(t.grad, np.full_like(X, 6.0))


def test_backward_on_a_single_value_of_any_shape():
    t = Tensor(np.array([[2.0]]))
    (t * t).backward()
    assert_array_equal(t.grad, [[4.0]])


def test_gradients_accumulate_when_a_tensor_is_reused():
    t = Tensor(X)
    (t * t + t).sum().backward()
    assert_allclose(t.grad, 2 * X + 1, rtol=1e-15)


def test_gradients_accumulate_across_broadcast_uses():
    t = Tensor(np.array([1.0, 2.0]))
    (t * np.ones((3, 2)) + t[np.newaxis, :] * t).sum().backward()
    # The (1, 2) product is broadcast over 3 rows: it counts three times.
    assert_allclose(t.grad, 3.0 + 3 * 2 * np.array([1.0, 2.0]))


def test_deep_chain_has_no_recursion_limit():
    x = Tensor(np.array([1.0, 2.0]))
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert_array_equal(x.grad, [1.0, 1.0])


def test_deep_chain_is_freed_without_backward():
    x = Tensor(np.array([1.0, 2.0]))
    y = x
    for _ in range(100_000):
        y = y * 1.0
    first = weakref.ref(y._parents[0])
    del y
    assert first() is None


def _count_calls(counts, key):
    """A primitive ``x * 2`` whose VJP records each call under ``key``."""

    @primitive
    def double(x):
        def vjp(g):
            counts[key] = counts.get(key, 0) + 1
            return 2.0 * g

        return x * 2.0, (vjp,)

    return double


def test_each_vjp_is_called_once_in_a_diamond():
    counts = {}
    x = Tensor(np.array([1.0, -2.0]))
    top = _count_calls(counts, "top")(x)
    left = _count_calls(counts, "left")(top)
    right = _count_calls(counts, "right")(top)
    bottom = _count_calls(counts, "bottom")(left * right)
    bottom.sum().backward()
    assert counts == {"top": 1, "left": 1, "right": 1, "bottom": 1}
    # bottom = 2 * (4x)(4x) = 32 x^2
    assert_allclose(x.grad, 64.0 * x.value)


def test_stacked_diamonds_do_linear_work():
    counts = {}
    x = Tensor(np.array([1.0, 3.0]))
    y = x
    for i in range(40):
        y = _count_calls(counts, i)(y)
        y = y + y  # a diamond: y is used twice
    y.sum().backward()
    assert counts == dict.fromkeys(range(40), 1)
    assert_allclose(x.grad, np.full(2, 4.0**40), rtol=1e-15)


def test_intermediate_is_freed_after_backward_while_the_result_lives():
    x = Tensor(X)
    hidden = engine.tanh(x * 2.0)
    result = (hidden * hidden).sum()
    ref = weakref.ref(hidden)
    del hidden
    assert ref() is not None  # the graph still holds it
    result.backward()
    assert ref() is None
    assert result.value is not None
    assert_allclose(x.grad, autograd.grad(lambda a: anp.sum(anp.tanh(2 * a) ** 2))(X))


def test_whole_graph_is_freed_when_the_result_is_dropped():
    was_enabled = gc.isenabled()
    gc.disable()  # freed by reference counting alone, no cycles
    try:
        x = Tensor(X)
        hidden = engine.exp(x)
        other = hidden @ X.T
        result = engine.logsumexp(other * hidden.sum())
        refs = [weakref.ref(t) for t in (hidden, other, result)]
        del hidden, other, result
        assert all(r() is None for r in refs)
        assert x.grad is None
    finally:
        if was_enabled:
            gc.enable()


def test_second_backward_reaches_only_the_result():
    x = Tensor(X)
    y = (x * 2.0).sum()
    y.backward()
    first = x.grad.copy()
    y.backward()
    assert_array_equal(x.grad, first)
    assert_array_equal(y.grad, 1.0)


# primitive ------------------------------------------------------------------------


@primitive
def _cube(x):
    return x**3, (lambda g: g * 3 * x**2,)


def test_primitive_without_tensors_returns_plain_result():
    out = _cube(np.array([2.0]))
    assert type(out) is np.ndarray
    assert_array_equal(out, [8.0])


def test_primitive_with_a_tensor_records_the_graph():
    t = Tensor(np.array([1.0, 2.0]))
    out = _cube(t)
    assert isinstance(out, Tensor)
    out.sum().backward()
    assert_array_equal(t.grad, [3.0, 12.0])


def test_primitive_calls_only_the_vjps_of_tensor_inputs():
    @primitive
    def scale(x, factor):
        def boom(g):
            raise AssertionError("VJP of a constant was called")

        return x * factor, (lambda g: g * factor, boom)

    t = Tensor(np.array([1.0, 2.0]))
    scale(t, np.array([3.0, 4.0])).sum().backward()
    assert_array_equal(t.grad, [3.0, 4.0])


def test_primitive_gradients_are_summed_back_to_the_input_shape():
    @primitive
    def plus_row(x, row):
        return x + row, (lambda g: g, lambda g: g)

    t = Tensor(np.zeros((3, 4)))
    row = Tensor(np.zeros(4))
    plus_row(t, row).sum().backward()
    assert row.grad.shape == (4,)
    assert_array_equal(row.grad, np.full(4, 3.0))
    assert_array_equal(t.grad, np.ones((3, 4)))


def test_primitive_vjp_returning_none_gives_zero_gradient():
    @primitive
    def first(x, y):
        return x + 0 * y, (lambda g: g, lambda g: None)

    a, b = Tensor(np.ones(2)), Tensor(np.ones((2, 2), dtype=np.float32))
    first(a, b).sum().backward()
    assert_array_equal(a.grad, [2.0, 2.0])
    assert_array_equal(b.grad, np.zeros((2, 2)))
    assert b.grad.dtype == np.float32


def test_primitive_inputs_without_a_vjp_get_no_gradient():
    @primitive
    def affine(x, y, z):
        return x * y + z, (lambda g: g * y, None)  # nothing for y; z past the end

    a, b, c = (Tensor(np.array([1.0, 2.0]) * k) for k in (1, 2, 3))
    affine(a, b, c).sum().backward()
    assert_array_equal(a.grad, b.value)
    assert_array_equal(b.grad, [0.0, 0.0])
    assert_array_equal(c.grad, [0.0, 0.0])


def test_primitive_keyword_arguments_are_not_differentiated():
    @primitive
    def shift(x, by=1.0):
        return x + by, (lambda g: g,)

    t = Tensor(np.zeros(2))
    out = shift(t, by=np.array([1.0, 2.0]))
    assert_array_equal(out.value, [1.0, 2.0])
    out.sum().backward()
    assert_array_equal(t.grad, [1.0, 1.0])


# unbroadcast ----------------------------------------------------------------------

UNBROADCAST = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 4), (1, 4)),
    ((3, 4), (3, 1)),
    ((3, 4), ()),
    ((3, 4), (1, 1)),
    ((2, 3, 4), (3, 1)),
    ((2, 3, 4), (2, 1, 4)),
    ((2, 3, 4), (1,)),
    ((4,), (1,)),
    ((), ()),
]


@pytest.mark.parametrize("grad_shape, shape", UNBROADCAST, ids=str)
def test_unbroadcast(grad_shape, shape):
    g = np.arange(1.0, 1.0 + np.prod(grad_shape)).reshape(grad_shape)
    out = unbroadcast(g, shape)
    assert out.shape == shape
    # Independently: the adjoint of broadcasting, <broadcast(v), g> = <v, out>.
    for idx in np.ndindex(shape):
        basis = np.zeros(shape)
        basis[idx] = 1.0
        assert out[idx] == np.sum(np.broadcast_to(basis, grad_shape) * g)


def test_unbroadcast_examples():
    assert_array_equal(unbroadcast(np.ones((3, 4)), (1, 4)), [[3.0] * 4])
    assert_array_equal(unbroadcast(np.ones((3, 4)), (4,)), [3.0] * 4)
    assert_array_equal(unbroadcast(np.ones((3, 4)), (3, 1)), [[4.0]] * 3)
    assert unbroadcast(np.ones((3, 4)), ()) == 12.0
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert unbroadcast(g, (2, 2)) is g
    assert_array_equal(unbroadcast(g, (2,)), [4.0, 6.0])
    assert_array_equal(unbroadcast(g, (2, 1)), [[3.0], [7.0]])


def test_unbroadcast_keeps_dtype():
    assert unbroadcast(np.ones((3, 4), dtype=np.float32), (4,)).dtype == np.float32


def test_grad_of_tensor_pipeline_matches_grad_function():
    # The operator methods and the grad transform agree.
    t = Tensor(X)
    ((t - 1.0) ** 2).mean().backward()
    assert_allclose(t.grad, grad(lambda a: ((a - 1.0) ** 2).mean())(X), rtol=1e-15)
