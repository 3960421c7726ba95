"""Tests of skvgrad.engine.tensor: Tensor, ``primitive``, ``unbroadcast``, backward.

Also Python's protocols on Tensors (comparison, hashing, truth value, iteration,
conversion), which must behave as NumPy's do on arrays or refuse clearly.
"""

import gc
import operator
import threading
import weakref

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine
from skvgrad.engine import Tensor, grad, primitive
from skvgrad.engine.tensor import _defvjp, backward, unbroadcast

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


def test_tensor_of_a_tensor_is_refused():
    a = Tensor(X)
    with pytest.raises(TypeError, match=r"Tensor\(t.value\)"):
        Tensor(a * 2.0)
    with pytest.raises(TypeError, match="cut it from its graph"):
        Tensor(a)
    b = Tensor((a * 2.0).value)  # a new leaf, on purpose
    b.sum().backward()
    assert a.grad is None
    assert_array_equal(b.grad, np.ones_like(X))


# Values built when the test runs: a Tensor kept alive by the module would count
# as a leaked graph in the memory tests of the suite.
REFUSED = {
    "None": (lambda: None, "real numbers"),
    "complex-array": (lambda: np.array([1.0 + 2.0j]), "Complex"),
    "complex": (lambda: 1j, "Complex"),
    "strings": (lambda: np.array(["a"]), "real numbers"),
    "objects": (lambda: np.array([object()]), "real numbers"),
    "list-of-tensors": (lambda: [Tensor(1.0), Tensor(2.0)], "np.stack"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_construction_refuses_what_cannot_be_differentiated(name):
    make, message = REFUSED[name]
    with pytest.raises(TypeError, match=message):
        Tensor(make())


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


COMPARISONS = [
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    operator.eq,
    operator.ne,
]


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


def test_a_grad_set_by_the_user_on_an_intermediate_does_not_stop_backward():
    # A zero-grad loop over every Tensor: backward must still reach the leaves
    # and overwrite the intermediate's stale value.
    w = Tensor(X)
    h = w * 3.0
    h.grad = np.zeros_like(X)
    (h * h).sum().backward()
    assert_allclose(w.grad, 18.0 * X)
    assert_allclose(h.grad, 6.0 * X)


def test_a_stale_grad_on_a_shared_intermediate_is_not_added_in():
    w = Tensor(X)
    h = engine.tanh(w)
    h.grad = np.full_like(X, 100.0)
    (h * 2.0 + h * h).sum().backward()
    expected = autograd.grad(lambda a: anp.sum(anp.tanh(a) * 2 + anp.tanh(a) ** 2))(X)
    assert_allclose(w.grad, expected, rtol=1e-12)


def test_a_retry_after_a_failed_backward_says_so():
    @engine.primitive
    def broken(x):
        return x * 1.0, (lambda g: g[..., :1],)  # a VJP of the wrong shape

    w = Tensor(X)
    y = (broken(w) * 2.0).sum()
    with pytest.raises(ValueError):
        y.backward()
    with pytest.raises(RuntimeError, match="stopped at an error"):
        y.backward()
    z = (broken(w) * 2.0).sum()  # computed again: the same error, not "released"
    with pytest.raises(ValueError):
        z.backward()


def test_second_backward_through_a_released_graph_raises():
    x = Tensor(X)
    y = (x * 2.0).sum()
    y.backward()
    first = x.grad.copy()
    with pytest.raises(RuntimeError, match="released"):
        y.backward()
    assert_array_equal(x.grad, first)


def test_backward_of_results_sharing_a_graph_raises_on_the_second():
    # Silently reusing the first pass's gradient on the shared part would be wrong.
    x = Tensor(X)
    hidden = engine.tanh(x)
    a = hidden.sum()
    b = (hidden * 3.0).sum()
    a.backward()
    assert_allclose(x.grad, 1 - np.tanh(X) ** 2)
    with pytest.raises(RuntimeError, match="released"):
        b.backward()


def test_results_sharing_only_leaves_get_their_own_gradients():
    x = Tensor(X)
    (x * 2.0).sum().backward()
    assert_array_equal(x.grad, np.full_like(X, 2.0))
    (x * x).sum().backward()
    assert_allclose(x.grad, 2 * X)  # replaced, not accumulated


def test_sum_of_results_sharing_a_graph_differentiates_both():
    x = Tensor(X)
    hidden = engine.tanh(x)
    (hidden.sum() + (hidden * 3.0).sum()).backward()
    assert_allclose(x.grad, 4 * (1 - np.tanh(X) ** 2))


def test_each_leaf_owns_its_gradient():
    a, b = Tensor(X), Tensor(X + 1.0)
    root = a + b
    root.backward(np.ones_like(X))
    for leaf in (a, b):
        assert leaf.grad.flags.writeable
        assert leaf.grad.flags.owndata
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, root.grad)
    a.grad += 1.0  # an optimizer may update a gradient in place
    assert_array_equal(b.grad, np.ones_like(X))
    assert_array_equal(root.grad, np.ones_like(X))


def test_each_leaf_owns_its_gradient_through_views_and_broadcasts():
    a, b = Tensor(X), Tensor(np.array(2.0))
    (a.reshape(4, 3).T.sum() + engine.sum(b * np.ones(3))).backward()
    for leaf in (a, b):
        assert type(leaf.grad) is np.ndarray
        assert leaf.grad.flags.writeable and leaf.grad.base is None
    assert_array_equal(a.grad, np.ones_like(X))
    assert b.grad.shape == () and b.grad == 3.0


def test_zero_dimensional_accumulation_gives_arrays():
    t = Tensor(2.0)
    (t * t + t * 3.0).backward()
    assert type(t.grad) is np.ndarray and t.grad.shape == ()
    assert t.grad == 7.0


def test_failed_backward_leaves_no_partial_gradient():
    @primitive
    def broken(x):
        def vjp(g):
            raise FloatingPointError("boom")

        return x * 1.0, (vjp,)

    x = Tensor(X)
    hidden = x * 2.0
    left, right = broken(hidden), hidden * 3.0
    with pytest.raises(FloatingPointError):
        (left + right).sum().backward()
    assert hidden.grad is None  # its partial sum (from ``right``) was dropped
    assert x.grad is None


def test_backward_with_retain_keeps_the_graph_for_another_pass():
    x = Tensor(X)
    hidden = engine.tanh(x)
    y = (hidden * hidden).sum()
    backward(y, np.ones(()), retain=True)
    first = x.grad
    assert hidden.grad is None  # intermediate gradients are cleared
    backward(y, np.ones(()), retain=True)
    assert_allclose(x.grad, first, rtol=1e-15)
    assert x.grad is not first
    y.backward()  # and a last, releasing pass
    assert_allclose(x.grad, first, rtol=1e-15)


def test_backward_refuses_a_complex_or_tensor_seed():
    t = Tensor(X)
    with pytest.raises(TypeError, match="real"):
        (t * 2.0).backward(np.ones(X.shape, dtype=complex))
    with pytest.raises(TypeError, match="not a Tensor"):
        (t * 2.0).backward(Tensor(np.ones(X.shape)))


def test_backward_inside_a_traced_function_is_refused():
    def fun(x):
        inner = Tensor(np.ones(2))
        (inner * 2.0).sum().backward()
        return x.sum()

    with pytest.raises(NotImplementedError, match="higher-order"):
        grad(fun)(np.ones(2))
    Tensor(np.ones(2)).sum().backward()  # outside a trace it works again


def test_tracing_in_one_thread_does_not_refuse_backward_in_another():
    errors = []
    started, release = threading.Event(), threading.Event()

    def slow(x):
        started.set()
        release.wait(5)
        return x.sum()

    def run():
        try:
            grad(slow)(np.ones(2))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    started.wait(5)
    try:
        t = Tensor(X)
        (t * 2.0).sum().backward()
        assert_array_equal(t.grad, np.full_like(X, 2.0))
    finally:
        release.set()
        thread.join()
    assert errors == []


# Python protocols -------------------------------------------------------------------


def test_equality_is_elementwise_and_hashing_by_identity():
    t = Tensor(np.array([0.0, 1.0, 2.0]))
    assert_array_equal(t == 0, [True, False, False])
    assert_array_equal(t != np.array([0.0, 5.0, 2.0]), [False, True, False])
    assert_array_equal(t == Tensor(np.array([0.0, 1.0, 3.0])), [True, True, False])
    assert_array_equal(np.array([0.0, 1.0, 2.0]) == t, [True, True, True])
    # where(t == 0, ...) takes the elementwise branch
    assert_array_equal(engine.where(t == 0, 5.0, t).value, [5.0, 1.0, 2.0])
    twin = Tensor(t.value)
    table = {t: "t", twin: "twin"}
    assert table[t] == "t" and table[twin] == "twin"
    assert len({t, twin, t}) == 2
    assert hash(t) == object.__hash__(t)


def test_truth_value_follows_numpy():
    with pytest.raises(ValueError, match=r"ambiguous. Use t.any\(\) or t.all\(\)"):
        bool(Tensor(np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor(np.zeros(0)))
    assert bool(Tensor(np.array([2.0]))) is True
    assert bool(Tensor(0.0)) is False
    with pytest.raises(ValueError):
        if Tensor(np.ones(3)):
            pass


def test_iteration_and_length_follow_numpy():
    with pytest.raises(TypeError, match="0-d"):
        iter(Tensor(2.0))
    with pytest.raises(TypeError, match="0-d"):
        sum(Tensor(2.0))
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(2.0))
    t = Tensor(np.arange(6.0).reshape(3, 2))
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, Tensor) for r in rows)
    assert_array_equal(rows[2].value, [4.0, 5.0])
    total = sum(t)  # Python's sum over rows stays in the graph
    total.sum().backward()
    assert_array_equal(t.grad, np.ones((3, 2)))
    assert 3.0 in t and 7.0 not in t


@pytest.mark.parametrize("convert", [float, int, complex], ids=lambda f: f.__name__)
def test_conversion_to_a_number_is_refused(convert):
    with pytest.raises(TypeError, match="drop its gradient"):
        convert(Tensor(1.5))


def test_math_functions_on_a_tensor_are_refused():
    import math

    with pytest.raises(TypeError, match="drop its gradient"):
        math.exp(Tensor(1.0))


def test_item_and_value_leave_the_graph_explicitly():
    t = Tensor(np.array([1.5]))
    assert t.item() == 1.5
    assert type(t.value) is np.ndarray


def test_format_uses_the_value_and_repr_names_the_tensor():
    assert f"{Tensor(np.array(2.0)):.3f}" == "2.000"
    assert f"{Tensor(np.array([1.0]))}" == "Tensor([1.])"
    assert repr(Tensor(np.array([1.0, 2.0]))) == "Tensor([1., 2.])"


def test_in_place_assignment_is_refused():
    t = Tensor(np.zeros(3))
    with pytest.raises(TypeError, match=r"at\[index\]\.set"):
        t[0] = 1.0
    t += 1.0  # rebinding, not in place: a new Tensor
    assert_array_equal(t.value, np.ones(3))


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


# _defvjp: the engine's own declarations -------------------------------------------


@_defvjp(lambda g, ans, x, scale=1.0: g * scale * np.cos(x))
def _scaled_sin(x, scale=1.0):
    return scale * np.sin(x)


@_defvjp(lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a)
def _product(a, b):
    return a * b


@_defvjp(lambda i, g, ans, *xs, axis: np.split(g, len(xs), axis=axis)[i], variadic=True)
def _join(*xs, axis):
    return np.concatenate(xs, axis=axis)


def test_defvjp_unary_with_options():
    x = np.array([0.0, 1.0])
    assert_allclose(_scaled_sin(x, scale=2.0), 2 * np.sin(x))
    assert_allclose(grad(lambda t: _scaled_sin(t, scale=2.0).sum())(x), 2 * np.cos(x))
    assert_allclose(grad(lambda t: _scaled_sin(t, 3.0).sum())(x), 3 * np.cos(x))


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 4), (3, 4)), ((3, 4), (4,)), ((1, 4), (3, 1)), ((), (3,))],
    ids=str,
)
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float64)])
def test_defvjp_binary_fits_broadcast_and_promoted_gradients(shape_a, shape_b, dtypes):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a).astype(dtypes[0])
    b = rng.standard_normal(shape_b).astype(dtypes[1])
    ga, gb = grad(lambda p: _product(*p).sum())((a, b))
    assert ga.shape == a.shape and ga.dtype == a.dtype
    assert gb.shape == b.shape and gb.dtype == b.dtype
    theirs = autograd.grad(lambda p: anp.sum(p[0] * p[1]))((a.astype(float), b))
    assert_allclose(ga, theirs[0], rtol=1e-6)
    assert_allclose(gb, theirs[1], rtol=1e-6)


def test_defvjp_binary_with_python_numbers_and_constants():
    x = np.array([1.0, 2.0], dtype=np.float32)
    for fn, expected in (
        (lambda t: _product(t, 3.0), [3.0, 3.0]),
        (lambda t: _product(2, t), [2.0, 2.0]),
        (lambda t: _product(t, np.array([[1.0], [2.0]])), [3.0, 3.0]),
    ):
        g = grad(lambda t, fn=fn: fn(t).sum())(x)
        assert g.dtype == np.float32
        assert_array_equal(g, expected)


def test_defvjp_variadic():
    a, b = np.ones(2), np.ones(3)
    ga, gb = grad(lambda p: (_join(*p, axis=0) * np.arange(4.0)).sum())(
        (np.ones(2), np.ones(2))
    )
    assert_array_equal(ga, [0.0, 1.0])
    assert_array_equal(gb, [2.0, 3.0])
    assert_array_equal(_join(a, b, axis=0), np.ones(5))


def test_a_vjp_of_the_wrong_shape_is_caught_at_the_leaf():
    @_defvjp(lambda g, ans, x: np.ones(5))
    def broken(x):
        return x * 1.0

    with pytest.raises(ValueError, match="VJP is wrong"):
        broken(Tensor(np.ones(3))).sum().backward()


def test_primitive_refuses_a_complex_result():
    @primitive
    def rotate(x):
        return x * 1j, (lambda g: g,)

    with pytest.raises(TypeError, match="complex"):
        rotate(Tensor(np.ones(2)))
    assert_array_equal(rotate(np.ones(2)), [1j, 1j])  # plain in, plain out


def test_primitive_with_many_inputs():
    @primitive
    def total(*xs):
        return sum(xs), tuple((lambda g: g) for _ in xs)

    leaves = [Tensor(np.full(2, float(i))) for i in range(12)]
    total(*leaves).sum().backward()
    for leaf in leaves:
        assert_array_equal(leaf.grad, [1.0, 1.0])


def test_primitive_result_is_always_an_array():
    @primitive
    def total(x):
        return float(x.sum()), (lambda g: np.full(x.shape, g),)

    out = total(Tensor(np.ones(3)))
    assert type(out.value) is np.ndarray and out.value.shape == ()


def test_python_number_constants_keep_numpy_semantics():
    t = Tensor(np.array([1.0, -2.0]))
    assert_array_equal(np.signbit((t * -0.0).value), [True, False])
    assert_array_equal(np.signbit((t * 0.0).value), [False, True])
    assert_array_equal(np.signbit((t * -0.0).value), [True, False])
    assert np.all(np.isnan((t * float("nan")).value))
    assert_array_equal((t * 2).value, (t * 2.0).value)
    t32 = Tensor(np.array([1.0, 3.0], dtype=np.float32))
    for out in (t32 * 1.1, 1.1 * t32, t32 + 1e-8, t32 / 3, 2.0 - t32):
        assert out.dtype == np.float32
    assert_array_equal((t32 * 1.1).value, t32.value * 1.1)  # as NumPy (NEP 50)
    assert (t * 1.1).dtype == np.float64


def test_python_number_constants_are_not_shared_mutably():
    t = Tensor(np.array([1.0, 2.0]))
    first = t * 3.0
    second = t * 3.0
    constant = first._args[1]
    assert not constant.flags.writeable
    with pytest.raises(ValueError):
        constant[...] = 5.0
    assert_array_equal(second.value, [3.0, 6.0])
    second.sum().backward()
    assert_array_equal(t.grad, [3.0, 3.0])
