"""Tests of skvgrad.engine.autodiff: the function transformations.

``grad``, ``value_and_grad``, ``elementwise_grad``, ``vjp``, ``jacobian`` and
``check_grad``; random compositions of engine ops are compared with HIPS
autograd's gradients. Higher-order derivatives are refused, never wrong.
"""

import operator
import re
import threading

import autograd
import autograd.numpy as anp
import hypothesis.extra.numpy as npst
import hypothesis.strategies as st
import numpy as np
import pytest
from autograd.scipy.special import logsumexp as anp_logsumexp
from hypothesis import HealthCheck, given, settings
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine
from skvgrad.engine import (
    Tensor,
    check_grad,
    elementwise_grad,
    grad,
    jacobian,
    primitive,
    value_and_grad,
    vjp,
)

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal(4)
C = RNG.standard_normal((2, 2))
D = RNG.standard_normal(())
E = RNG.standard_normal((1, 3))

COMPOSITIONS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# Pytrees --------------------------------------------------------------------------


def leaves(tree, template=None):
    """Leaves of a nested list / tuple / dict, depth first, dicts by key order.

    ``template`` (default ``tree``) gives the structure; ``tree`` may be
    autograd's boxed version of it, which supports only indexing.
    """
    template = tree if template is None else template
    if isinstance(template, (list, tuple)):
        return [leaf for i, t in enumerate(template) for leaf in leaves(tree[i], t)]
    if isinstance(template, dict):
        return [leaf for key, t in template.items() for leaf in leaves(tree[key], t)]
    return [tree]


def tree_loss(np_, tree, template):
    """A scalar coupling every leaf; ``np_`` is the engine or autograd.numpy."""
    total = 0.0
    parts = leaves(tree, template)
    for i, leaf in enumerate(parts):
        total = total + np_.sum(np_.tanh(leaf * (i + 1.0)) ** 2)
    coupling = np_.sum(parts[-1]) * np_.sum(parts[0])
    return total * np_.sum(np_.exp(parts[0] * 0.5)) + coupling


class Engine:
    """The engine under the names ``tree_loss`` uses."""

    sum = staticmethod(engine.sum)
    tanh = staticmethod(engine.tanh)
    exp = staticmethod(engine.exp)


def assert_same_tree(ours, theirs, original, rtol):
    """``ours`` has the containers, keys, shapes, dtypes of ``original``, values of
    ``theirs``."""
    assert type(ours) is type(original)
    if isinstance(original, (list, tuple)):
        assert len(ours) == len(original)
        for o, t, x in zip(ours, theirs, original):
            assert_same_tree(o, t, x, rtol)
    elif isinstance(original, dict):
        assert list(ours) == list(original)
        for key in original:
            assert_same_tree(ours[key], theirs[key], original[key], rtol)
    elif isinstance(original, float):
        assert_allclose(ours, theirs, rtol=rtol)
    else:
        assert np.shape(ours) == np.shape(original)
        assert ours.dtype == original.dtype
        assert_allclose(ours, theirs, rtol=rtol, atol=rtol)


PYTREES = {
    "ndarray": A,
    "0-d ndarray": D,
    "list": [A, B],
    "tuple": (A, B, C),
    "dict": {"w": A, "b": B},
    "nested": {"layers": [(A, B), (C, D)], "extra": {"e": E}, "last": [B]},
    "python float": 1.5,
    "float leaves": [0.3, {"x": -0.7}],
    "float32 and float64": [A.astype(np.float32), B, {"c": C.astype(np.float32)}],
    "float32": {"w": A.astype(np.float32), "b": B.astype(np.float32)},
}


@pytest.mark.parametrize("name", list(PYTREES))
def test_grad_of_pytree_has_the_same_structure(name):
    tree = PYTREES[name]
    value, ours = value_and_grad(lambda t: tree_loss(Engine, t, tree))(tree)
    tree64 = _as_float64(tree)
    theirs = autograd.grad(lambda t: tree_loss(anp, t, tree))(tree64)
    single = any(np.asarray(x).dtype == np.float32 for x in leaves(tree))
    assert_same_tree(ours, theirs, tree, rtol=1e-4 if single else 1e-12)
    assert_allclose(
        value,
        tree_loss(anp, tree64, tree),
        rtol=1e-5 if single else 1e-12,
        atol=1e-6 if single else 0,
    )


def _as_float64(tree):
    if isinstance(tree, list):
        return [_as_float64(x) for x in tree]
    if isinstance(tree, tuple):
        return tuple(_as_float64(x) for x in tree)
    if isinstance(tree, dict):
        return {k: _as_float64(v) for k, v in tree.items()}
    if isinstance(tree, float):
        return tree
    return np.asarray(tree, dtype=np.float64)


def test_python_float_argument_gives_a_python_float():
    g = grad(lambda x: x * x * 3.0)(2.0)
    assert type(g) is float
    assert g == 12.0


def test_gradient_of_an_unused_leaf_is_zero_with_its_shape_and_dtype():
    params = {"used": A, "unused": C.astype(np.float32), "scalar": 2.0}
    g = grad(lambda p: (p["used"] ** 2).sum())(params)
    assert_allclose(g["used"], 2 * A)
    assert_array_equal(g["unused"], np.zeros((2, 2)))
    assert g["unused"].dtype == np.float32
    assert g["scalar"] == 0.0 and type(g["scalar"]) is float


def test_constant_result_gives_zero_gradients():
    for fun in (lambda x: 3.0, lambda x: np.float64(1.0), lambda x: Tensor(2.0)):
        value, g = value_and_grad(fun)(A)
        assert float(value) in (1.0, 2.0, 3.0)
        assert_array_equal(g, np.zeros_like(A))
        assert g.shape == A.shape


def test_inputs_are_neither_modified_nor_kept():
    x = A.copy()
    params = {"x": x}
    g1 = grad(lambda p: (engine.exp(p["x"]) * 2.0).sum())(params)
    g2 = grad(lambda p: (engine.exp(p["x"]) * 2.0).sum())(params)
    assert_array_equal(x, A)
    assert params["x"] is x and list(params) == ["x"]
    assert_array_equal(g1["x"], g2["x"])
    assert_allclose(g1["x"], 2 * np.exp(A))


# argnum, kwargs -------------------------------------------------------------------


def _three(x, y, z, scale=1.0):
    return ((x * y).sum() + (y * z).sum() * 2.0) * scale


ONES, TWOS = np.ones(4), np.full(4, 2.0)


# d/dx = y, d/dy = x + 2 z = 5, d/dz = 2 y at (x, y, z) = (1, B, 2).
@pytest.mark.parametrize(
    "argnum, expected", [(0, B), (1, np.full(4, 5.0)), (2, 2 * B), (-1, 2 * B)]
)
def test_argnum(argnum, expected):
    assert_allclose(grad(_three, argnum)(ONES, B, TWOS), expected, rtol=1e-15)


def test_keyword_arguments_are_passed_through():
    g = grad(_three, 1)(ONES, B, TWOS, scale=3.0)
    assert_allclose(g, np.full(4, 15.0))


@pytest.mark.parametrize("argnum", [3, -4])
def test_argnum_out_of_range_raises(argnum):
    with pytest.raises(ValueError, match="argnum"):
        grad(_three, argnum)(B, B, B)


def test_value_and_grad_returns_the_value():
    value, g = value_and_grad(lambda x: (x**3).sum())(B)
    assert_allclose(value, (B**3).sum(), rtol=1e-15)
    assert_allclose(g, 3 * B**2, rtol=1e-15)


def test_grad_keeps_the_function_name():
    def my_loss(x):
        return x.sum()

    assert grad(my_loss).__name__ == "my_loss"
    assert value_and_grad(my_loss).__name__ == "my_loss"


# dtypes ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_input_is_differentiated_as_float(dtype):
    x = np.array([1, 0, 3]).astype(dtype)
    value, g = value_and_grad(lambda t: (t * t).sum())(x)
    assert g.dtype == np.float64
    assert_array_equal(g, 2.0 * x.astype(np.float64))
    assert value == (x.astype(np.float64) ** 2).sum()


def test_python_int_input_is_differentiated_as_float():
    g = grad(lambda t: t * t)(3)
    assert type(g) is float
    assert g == 6.0
    g = grad(lambda t: t[0] * t[1])([2, 5])
    assert g == [5.0, 2.0]
    assert all(type(v) is float for v in g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    x = A.astype(dtype)

    def loss(t):
        h = engine.tanh(t @ np.ones((4, 2), dtype=dtype) * 0.5 + 1.0)
        return (engine.log_softmax(h, axis=1) ** 2).mean() + engine.sigmoid(t).sum()

    value, g = value_and_grad(loss)(x)
    assert np.asarray(value).dtype == dtype
    assert g.dtype == dtype
    out = engine.softplus(Tensor(x)) / 3.0 - 1
    assert out.dtype == dtype


# Results: one real value, or refused -------------------------------------------------


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: x * 2.0,
        lambda x: x.sum(axis=0),
        lambda x: np.ones(3),
    ],
    ids=["elementwise", "reduced-axis", "plain-array"],
)
@pytest.mark.parametrize("transform", [grad, value_and_grad])
def test_non_scalar_result_raises_value_error_saying_scalar(transform, fun):
    with pytest.raises(ValueError, match="scalar"):
        transform(fun)(A)


@pytest.mark.parametrize(
    "fun",
    [lambda x: x.sum().reshape(1), lambda x: x.sum(keepdims=True)],
    ids=["shape-1", "keepdims"],
)
def test_any_single_valued_result_is_accepted(fun):
    # As in autograd: what matters is one value, not zero dimensions.
    value, g = value_and_grad(fun)(A)
    assert np.size(value) == 1 and np.shape(value) == np.shape(fun(A))
    assert_array_equal(g, np.ones_like(A))
    assert_array_equal(autograd.grad(lambda a: fun(a)[(0,) * np.ndim(fun(A))])(A), g)


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: (x * 1j).sum(),
        lambda x: 1j,
        lambda x: np.array([1.0 + 0j]),
        lambda x: "loss",
    ],
    ids=["complex-tensor", "complex-number", "complex-array", "string"],
)
def test_non_real_result_is_refused(fun):
    with pytest.raises(TypeError, match="complex|real"):
        grad(fun)(A)


@pytest.mark.parametrize(
    "arg",
    [None, {"w": A, "b": None}, [A, None]],
    ids=["None", "None-in-dict", "None-in-list"],
)
def test_none_argument_is_refused(arg):
    with pytest.raises(TypeError, match="None"):
        grad(lambda p: engine.sum(leaves(p)[0]))(arg)


def test_non_numeric_argument_is_refused():
    with pytest.raises(TypeError, match="real numbers"):
        grad(lambda s: 0.0)("text")


# What a differentiated function returns: one Tensor, never an object array ---------

OBJECT_RESULTS = {
    "np.asarray": lambda x: np.asarray(engine.sum(x * x)),
    "np.asarray then size": lambda x: np.sum(np.asarray(x) ** 2) / np.asarray(x).size,
    "ndarray.dot": lambda x: np.ones((2, 4)).dot(x),
    "object array": lambda x: _object_array(x),
    "list of Tensors": lambda x: [x[0], x[1]],
}


def _object_array(x):
    out = np.empty(2, dtype=object)
    out[0], out[1] = x[0], x[1]
    return out


# Each transform, as a function of the function to differentiate.
TRANSFORMS = {
    "grad": grad,
    "value_and_grad": value_and_grad,
    "elementwise_grad": elementwise_grad,
    "jacobian": jacobian,
    "vjp": lambda f: lambda x: vjp(f, x)[1](np.ones(2)),
}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("name", list(OBJECT_RESULTS))
def test_a_tensor_never_silently_becomes_an_array(name, transform):
    # Before, each gave a wrong number or all-zero derivatives.
    with pytest.raises(TypeError, match="NumPy array|Tensor"):
        TRANSFORMS[transform](OBJECT_RESULTS[name])(B)


def test_a_constant_function_has_zero_derivatives():
    assert_array_equal(elementwise_grad(lambda x: np.ones(3))(B), np.zeros_like(B))
    assert_array_equal(jacobian(lambda x: 2.0)(B), np.zeros_like(B))
    value, pull = vjp(lambda x: np.ones(2), B)
    assert_array_equal(value, np.ones(2))
    assert_array_equal(pull(np.ones(2))[0], np.zeros_like(B))


def test_the_value_returned_is_the_callers_own():
    x = np.array(3.0)
    value, _ = value_and_grad(lambda t: t)(x)
    assert not np.shares_memory(value, x)
    y = np.arange(4.0)
    value, _ = vjp(lambda t: t.reshape(2, 2), y)
    assert not np.shares_memory(value, y)
    assert_array_equal(value, y.reshape(2, 2))


# argnum as a tuple ----------------------------------------------------------------


def test_argnum_tuple_returns_a_tuple_of_gradients():
    g = grad(_three, argnum=(0, 2))(ONES, B, TWOS)
    assert type(g) is tuple and len(g) == 2
    assert_allclose(g[0], B, rtol=1e-15)
    assert_allclose(g[1], 2 * B, rtol=1e-15)
    theirs = autograd.grad(lambda x, y, z: _three(x, y, z), argnum=(0, 2))(
        ONES, B, TWOS
    )
    for ours, ref in zip(g, theirs):
        assert_allclose(ours, ref, rtol=1e-15)


def test_argnum_tuple_keeps_each_structure():
    value, (gx, gp) = value_and_grad(
        lambda x, p: (x * p["w"]).sum() + p["s"] * 2.0, argnum=(0, 1)
    )(B, {"w": B, "s": 1.5})
    assert_allclose(value, (B * B).sum() + 3.0)
    assert_allclose(gx, B)
    assert_allclose(gp["w"], B)
    assert gp["s"] == 2.0 and type(gp["s"]) is float


@pytest.mark.parametrize(
    "argnum, error",
    [
        ((0, 0), ValueError),
        ((0, -3), ValueError),
        ((0, 5), ValueError),
        (1.0, TypeError),
        (True, TypeError),
        (("0",), TypeError),
    ],
    ids=str,
)
def test_bad_argnum_is_refused(argnum, error):
    with pytest.raises(error, match="argnum"):
        grad(_three, argnum=argnum)(ONES, B, TWOS)


# Higher-order derivatives: refused, never wrong --------------------------------------


def test_grad_of_grad_is_refused():
    with pytest.raises(NotImplementedError, match="higher-order derivatives"):
        grad(grad(lambda x: x**3))(2.0)


def test_nested_grad_through_a_closure_is_refused():
    # The inner gradient would silently miss its dependence on the outer x.
    def outer(x):
        inner = grad(lambda y: (y * x).sum())(np.ones(2))
        return engine.sum(inner)

    with pytest.raises(NotImplementedError, match="higher-order derivatives"):
        grad(outer)(np.ones(2))


@pytest.mark.parametrize("transform", [*TRANSFORMS, "check_grad"])
def test_every_transform_refuses_to_nest(transform):
    transform = TRANSFORMS.get(transform, lambda f: lambda x: check_grad(f, x))
    with pytest.raises(NotImplementedError, match="higher-order derivatives"):
        grad(lambda x: engine.sum(transform(lambda y: (y * y).sum())(x)))(B)
    # and the first-order path works afterwards
    assert_allclose(grad(lambda x: (x * x).sum())(B), 2 * B)


def test_a_tensor_from_outside_the_function_is_refused():
    # Its derivative would come back as a constant: differentiating it again,
    # in the Tensor.backward workflow, was silently wrong (sin(w), not
    # sin(w) + w cos(w)).
    w = Tensor(np.array([0.5, 1.0]))
    with pytest.raises(NotImplementedError, match="created outside"):
        grad(lambda y: (y * np.sin(w)).sum())(np.ones(2))
    with pytest.raises(NotImplementedError, match="created outside"):
        vjp(lambda y: y * np.sin(w), np.ones(2))[1](np.ones(2))
    with pytest.raises(NotImplementedError, match="created outside"):
        elementwise_grad(lambda y: y * w)(np.ones(2))
    with pytest.raises(NotImplementedError, match="created outside"):
        jacobian(lambda y: y + w)(np.ones(2))
    # The refusal comes before any gradient is written.
    assert w.grad is None
    # What it suggests works: the data as a constant, or as an argument.
    data = w.value
    assert_allclose(grad(lambda y: (y * np.sin(data)).sum())(np.ones(2)), np.sin(data))
    gy, gw = grad(lambda y, v: (y * np.sin(v)).sum(), argnum=(0, 1))(np.ones(2), data)
    assert_allclose(gw, np.cos(data))
    # A Tensor created inside the function is a constant of it.
    assert_allclose(grad(lambda y: (y * Tensor(data)).sum())(np.ones(2)), data)


@pytest.mark.parametrize(
    "in_the_worker, message",
    [
        (lambda x: grad(lambda y: (y * x).sum())(np.ones(2)), "created outside"),
        (lambda x: (x * x).sum().backward(), "another thread"),
    ],
    ids=["grad", "Tensor.backward"],
)
def test_differentiating_the_outer_tensor_in_a_worker_thread_is_refused(
    in_the_worker, message
):
    # The refusal of nesting is per thread; these are refused from any thread.
    errors = []

    def outer(x):
        def worker():
            try:
                in_the_worker(x)
            except NotImplementedError as exc:
                errors.append(exc)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        return np.sin(x).sum()

    assert_allclose(grad(outer)(B[:2]), np.cos(B[:2]))
    assert len(errors) == 1 and message in str(errors[0])


def test_a_tensor_as_the_argument_is_refused():
    with pytest.raises(NotImplementedError, match="higher-order derivatives"):
        grad(lambda x: (x * x).sum())(Tensor(B))


def test_vjp_with_a_tensor_cotangent_is_refused():
    _, pull = vjp(lambda x: x * 2.0, B)
    with pytest.raises(NotImplementedError, match="higher-order derivatives"):
        pull(Tensor(np.ones(4)))


# elementwise_grad, vjp, jacobian --------------------------------------------------

ELEMENTWISE = {
    "tanh": (engine.tanh, anp.tanh),
    "sigmoid": (engine.sigmoid, lambda x: 1.0 / (1.0 + anp.exp(-x))),
    "softplus": (engine.softplus, lambda x: anp.logaddexp(0.0, x)),
    "poly": (lambda x: x**3 - 2.0 * x, lambda x: x**3 - 2.0 * x),
    "not-elementwise": (lambda x: x * engine.sum(x), lambda x: x * anp.sum(x)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_grad_matches_autograd(name, dtype):
    ours_fn, ref = ELEMENTWISE[name]
    x = A.astype(dtype)
    ours = elementwise_grad(ours_fn)(x)
    theirs = autograd.elementwise_grad(ref)(A)
    assert ours.dtype == dtype and ours.shape == A.shape
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_elementwise_grad_takes_pytrees_and_argnum():
    g = elementwise_grad(lambda p, s: p["a"] * s + p["b"], argnum=0)(
        {"a": B, "b": B}, 3.0
    )
    assert_allclose(g["a"], np.full(4, 3.0))
    assert_allclose(g["b"], np.ones(4))


def test_vjp_matches_autograd_and_can_be_called_again():
    def fun(x, y):
        return engine.tanh(x @ y) * 2.0

    value, pull = vjp(fun, A, C[:, :1].repeat(2, axis=0)[:4])
    y = C[:, :1].repeat(2, axis=0)[:4]
    assert_allclose(value, 2.0 * np.tanh(A @ y))
    for seed in (np.ones((3, 1)), np.arange(3.0).reshape(3, 1)):
        gx, gy = pull(seed)
        ref_x = autograd.make_vjp(lambda a: 2.0 * anp.tanh(a @ y))(A)[0](seed)
        ref_y = autograd.make_vjp(lambda b: 2.0 * anp.tanh(A @ b))(y)[0](seed)
        assert_allclose(gx, ref_x, rtol=1e-12)
        assert_allclose(gy, ref_y, rtol=1e-12)


def test_vjp_of_a_constant_function_is_zero():
    value, pull = vjp(lambda x: np.ones(2), B)
    assert_array_equal(value, np.ones(2))
    assert_array_equal(pull(np.ones(2))[0], np.zeros(4))


JACOBIANS = {
    "linear": (lambda x: x @ A.T, lambda x: x @ A.T, (4,)),
    "elementwise": (engine.tanh, anp.tanh, (2, 3)),
    "to-scalar": (lambda x: engine.sum(x**2), lambda x: anp.sum(x**2), (3,)),
    "matrix-to-matrix": (
        lambda x: engine.softmax(x, axis=1),
        lambda x: anp.exp(x - anp_logsumexp(x, axis=1, keepdims=True)),
        (2, 3),
    ),
    "from-scalar": (lambda x: x * B, lambda x: x * B, ()),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(JACOBIANS))
def test_jacobian_matches_autograd(name, dtype):
    ours_fn, ref, shape = JACOBIANS[name]
    x = np.random.default_rng(1).standard_normal(shape)
    ours = jacobian(ours_fn)(x.astype(dtype))
    theirs = autograd.jacobian(ref)(x)
    assert ours.shape == theirs.shape
    assert ours.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_jacobian_of_a_constant_is_zero_and_pytrees_are_refused():
    assert_array_equal(jacobian(lambda x: np.ones(2))(B), np.zeros((2, 4)))
    with pytest.raises(TypeError, match="array or a number"):
        jacobian(lambda p: p[0])([B])


# check_grad -----------------------------------------------------------------------


def _loss_cases():
    return {
        "tanh": (lambda x: engine.tanh(x).sum(), (A,)),
        "two args": (lambda x, y: (engine.sigmoid(x @ y) ** 2).sum(), (A, B)),
        "pytree": (
            lambda p: (p["w"] @ p["v"] + p["s"]).sum(),
            ({"w": A, "v": B, "s": 0.5},),
        ),
        "python float": (lambda s: engine.exp(s * 2.0), (0.3,)),
        "softmax": (lambda x: (engine.softmax(x, axis=0) * A).sum(), (A,)),
        "float32": (
            lambda x: (engine.tanh(x) * A.astype(np.float32)).sum(),
            (A.astype(np.float32),),
        ),
    }


@pytest.mark.parametrize("name", list(_loss_cases()))
def test_check_grad_passes_for_correct_gradients(name):
    fun, args = _loss_cases()[name]
    error = check_grad(fun, *args)
    assert isinstance(error, float)
    single = any(np.asarray(x).dtype == np.float32 for x in leaves(list(args)))
    assert 0.0 <= error < (1e-3 if single else 1e-7)


def _wrong_square(offsets):
    """``x ** 2`` with a VJP that is off by ``offsets``."""

    @primitive
    def square(x):
        return x**2, (lambda g: g * 2 * x + offsets,)

    return square


def test_check_grad_names_the_worst_entry():
    offsets = np.zeros((3, 4))
    offsets[0, 1] = 0.01
    offsets[2, 3] = 0.5
    offsets[1, 0] = -0.1
    square = _wrong_square(offsets)
    with pytest.raises(AssertionError) as info:
        check_grad(lambda x: square(x).sum(), A)
    message = str(info.value)
    assert "argument 0" in message
    assert "index (2, 3)" in message
    numbers = [float(v) for v in re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?", message)]
    assert any(abs(v - (2 * A[2, 3] + 0.5)) < 1e-9 for v in numbers)  # engine
    assert any(abs(v - 2 * A[2, 3]) < 1e-6 for v in numbers)  # finite differences


def test_check_grad_names_the_argument_and_leaf():
    offsets = np.zeros(4)
    offsets[2] = 0.3
    square = _wrong_square(offsets)
    with pytest.raises(AssertionError, match=r"argument 1, leaf 1 at index \(2,\)"):
        check_grad(lambda x, p: (x * p[0]).sum() + square(p[1]).sum(), B, [B, B])


def test_check_grad_detects_a_small_relative_error():
    @primitive
    def slightly_wrong_exp(x):
        ans = np.exp(x)
        return ans, (lambda g: g * ans * 1.001,)

    with pytest.raises(AssertionError, match="Gradient mismatch"):
        check_grad(lambda x: slightly_wrong_exp(x).sum(), B)


def test_check_grad_detects_a_wrong_float32_gradient():
    square = _wrong_square(np.array([0.0, 0.0, 0.2, 0.0], dtype=np.float32))
    with pytest.raises(AssertionError, match=r"index \(2,\)"):
        check_grad(lambda x: square(x).sum(), B.astype(np.float32))


def test_check_grad_detects_nan_gradients():
    @primitive
    def nan_grad(x):
        return x * 1.0, (lambda g: g * np.nan,)

    with pytest.raises(AssertionError, match="nan"):
        check_grad(lambda x: nan_grad(x).sum(), B)


def test_check_grad_tolerances_are_respected():
    square = _wrong_square(np.full(4, 1e-4))

    def fun(x):
        return square(x).sum()

    with pytest.raises(AssertionError):
        check_grad(fun, B)
    error = check_grad(fun, B, atol=1e-3)
    assert_allclose(error, 1e-4, rtol=1e-3)
    assert check_grad(fun, B, rtol=0.0, atol=2e-4) < 2e-4


def test_check_grad_with_a_custom_step():
    error = check_grad(lambda x: (x**3).sum(), B, eps=1e-3, rtol=1e-4, atol=1e-5)
    # Central differences of a cubic are off by exactly eps**2 per entry.
    assert_allclose(error, 1e-6, rtol=1e-3)


# Random compositions compared with HIPS autograd ----------------------------------


def _sigmoid_ref(x):
    return 1.0 / (1.0 + anp.exp(-x))


def _softplus_ref(x):
    return anp.logaddexp(0.0, x)


# name: (engine version, autograd version); the operator-only ones serve both.
UNARY_CHAIN = {
    "tanh": (engine.tanh, anp.tanh),
    "sigmoid": (engine.sigmoid, _sigmoid_ref),
    "softplus": (engine.softplus, _softplus_ref),
    "log_sigmoid": (engine.log_sigmoid, lambda x: -anp.logaddexp(0.0, -x)),
    "negative": (engine.negative, anp.negative),
    "square": (engine.square, anp.square),
    "exp_tanh": (
        lambda x: engine.exp(engine.tanh(x)),
        lambda x: anp.exp(anp.tanh(x)),
    ),
    "log1p_square": (
        lambda x: engine.log(1.0 + engine.square(x)),
        lambda x: anp.log(1.0 + x**2),
    ),
    "sqrt1p_square": (
        lambda x: engine.sqrt(x * x + 1.0),
        lambda x: anp.sqrt(x * x + 1.0),
    ),
    "silu": (lambda x: x * engine.sigmoid(x), lambda x: x * _sigmoid_ref(x)),
    "reciprocal": (lambda x: 1.0 / (1.0 + x**2),) * 2,
    "power": (
        lambda x: (engine.softplus(x) + 0.5) ** 1.5,
        lambda x: (_softplus_ref(x) + 0.5) ** 1.5,
    ),
    "scale_shift": (lambda x: 0.5 * x - 0.25,) * 2,
    "relu": (engine.relu, lambda x: anp.where(x > 0, x, 0.0)),
    "leaky": (
        lambda x: engine.where(x > 0, x, 0.1 * x),
        lambda x: anp.where(x > 0, x, 0.1 * x),
    ),
    "clip": (lambda x: engine.maximum(x, -1.0), lambda x: anp.maximum(x, -1.0)),
}


def _where_ref(a, b):
    zeros = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    return anp.where(a > b, a + zeros, 0.5 * b + zeros)


BINARY_MIX = {
    "add": (operator.add,) * 2,
    "subtract": (operator.sub,) * 2,
    "multiply": (operator.mul,) * 2,
    "divide": (
        lambda a, b: a / (1.0 + engine.square(b)),
        lambda a, b: a / (1.0 + b**2),
    ),
    "power": (
        lambda a, b: (engine.softplus(a) + 0.5) ** engine.tanh(b),
        lambda a, b: (_softplus_ref(a) + 0.5) ** anp.tanh(b),
    ),
    "maximum": (engine.maximum, anp.maximum),
    "where": (lambda a, b: engine.where(a > b, a, 0.5 * b), _where_ref),
}

KINKED = {"relu", "leaky", "clip", "maximum", "where"}

REDUCTIONS = ["sum", "mean", "logsumexp", "softmax", "log_softmax", "none"]


def _reduce(name, module, x, axis, keepdims):
    if name == "none":
        return x
    if name in ("softmax", "log_softmax"):
        if module is engine:
            return getattr(engine, name)(x, axis=axis)
        shifted = x - anp_logsumexp(x, axis=axis, keepdims=True)
        return anp.exp(shifted) if name == "softmax" else shifted
    if module is engine:
        return getattr(engine, name)(x, axis=axis, keepdims=keepdims)
    ref = {"sum": anp.sum, "mean": anp.mean, "logsumexp": anp_logsumexp}[name]
    return ref(x, axis=axis, keepdims=keepdims)


@st.composite
def compositions(draw, smooth_only):
    """A random program: unary chains on a and b, a broadcast binary op, maybe a
    projection by a matrix, a reduction, and a weighted sum to a scalar."""
    shapes = draw(
        npst.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
    )
    values = st.floats(-2.0, 2.0)
    a = draw(npst.arrays(np.float64, shapes.input_shapes[0], elements=values))
    b = draw(npst.arrays(np.float64, shapes.input_shapes[1], elements=values))
    unary = [n for n in UNARY_CHAIN if not (smooth_only and n in KINKED)]
    binary = [n for n in BINARY_MIX if not (smooth_only and n in KINKED)]
    chain_a = draw(st.lists(st.sampled_from(unary), max_size=3))
    chain_b = draw(st.lists(st.sampled_from(unary), max_size=3))
    op = draw(st.sampled_from(binary))
    shape = shapes.result_shape
    projection = None
    if shape and draw(st.booleans()):
        projection = draw(npst.arrays(np.float64, (shape[-1], 2), elements=values))
        shape = shape[:-1] + (2,)
    reduction = draw(st.sampled_from(REDUCTIONS))
    ndim = len(shape)
    keepdims = draw(st.booleans())
    if reduction in ("softmax", "log_softmax"):
        axis = draw(st.integers(-ndim, ndim - 1)) if ndim else None
    elif reduction == "none" or ndim == 0:
        axis = None
    else:
        axis = draw(
            st.one_of(
                st.none(),
                st.integers(-ndim, ndim - 1),
                st.lists(st.integers(0, ndim - 1), min_size=1, unique=True).map(tuple),
            )
        )
    out_shape = np.shape(_reduce(reduction, anp, np.zeros(shape), axis, keepdims))
    weights = draw(npst.arrays(np.float64, out_shape, elements=st.floats(-1.0, 1.0)))
    program = (chain_a, chain_b, op, projection, reduction, axis, keepdims, weights)
    return {"a": a, "b": b}, program


def run_program(module, params, program):
    chain_a, chain_b, op, projection, reduction, axis, keepdims, weights = program
    which = 0 if module is engine else 1
    x, y = params["a"], params["b"]
    for name in chain_a:
        x = UNARY_CHAIN[name][which](x)
    for name in chain_b:
        y = UNARY_CHAIN[name][which](y)
    z = BINARY_MIX[op][which](x, y)
    if projection is not None:
        z = (engine.matmul if module is engine else anp.matmul)(z, projection)
    z = _reduce(reduction, module, z, axis, keepdims)
    total = z * weights
    return total.sum() if module is engine else anp.sum(total)


@COMPOSITIONS
@given(case=compositions(smooth_only=False))
def test_random_compositions_match_autograd(case):
    params, program = case
    value, ours = value_and_grad(lambda p: run_program(engine, p, program))(params)
    ref_value = run_program(anp, params, program)
    theirs = autograd.grad(lambda p: run_program(anp, p, program))(params)
    assert_allclose(value, ref_value, rtol=1e-9, atol=1e-12)
    for key in ("a", "b"):
        assert ours[key].shape == params[key].shape
        assert ours[key].dtype == np.float64
        scale = max(1.0, float(np.max(np.abs(theirs[key]), initial=0)))
        assert_allclose(ours[key], theirs[key], rtol=1e-7, atol=1e-9 * scale)


@COMPOSITIONS
@given(case=compositions(smooth_only=True))
def test_random_float32_compositions_match_autograd(case):
    params, program = case
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    chain_a, chain_b, op, projection, reduction, axis, keepdims, weights = program
    program32 = (
        chain_a,
        chain_b,
        op,
        None if projection is None else projection.astype(np.float32),
        reduction,
        axis,
        keepdims,
        weights.astype(np.float32),
    )
    value, ours = value_and_grad(lambda p: run_program(engine, p, program32))(params32)
    # The oracle runs in float64 on the same (float32-rounded) numbers.
    params64 = {k: v.astype(np.float64) for k, v in params32.items()}
    program64 = tuple(
        x.astype(np.float64) if isinstance(x, np.ndarray) else x for x in program32
    )
    ref_value = run_program(anp, params64, program64)
    theirs = autograd.grad(lambda p: run_program(anp, p, program64))(params64)
    assert np.asarray(value).dtype == np.float32
    assert np.isfinite(value)
    assert_allclose(value, ref_value, rtol=1e-3, atol=1e-3 * max(1.0, abs(ref_value)))
    for key in ("a", "b"):
        assert ours[key].dtype == np.float32
        assert ours[key].shape == params[key].shape
        scale = max(1.0, float(np.max(np.abs(theirs[key]), initial=0)))
        assert_allclose(ours[key], theirs[key], rtol=2e-2, atol=1e-3 * scale)
