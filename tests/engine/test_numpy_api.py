"""Tests of skvgrad.engine.numpy_api: NumPy's own functions called on Tensors.

Every ufunc and function in the dispatch tables runs the engine's operation (a
Tensor result with the right value and gradient); functions without a gradient
run on the values; everything else raises a TypeError naming what to use
instead. A Tensor never becomes a plain array inside a NumPy or SciPy call.
"""

import operator
import os
import re
import subprocess
import sys
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine
from skvgrad.engine import Tensor, check_grad, grad, numpy_api

# autograd's gradient of sign (zero) comes with this notice
pytestmark = pytest.mark.filterwarnings("ignore:Output seems independent of input")

RNG = np.random.default_rng(0)
X = RNG.uniform(0.5, 1.5, (3, 4))
Y = RNG.uniform(0.5, 1.5, (3, 4))
V = RNG.uniform(0.5, 1.5, 4)
W = RNG.standard_normal((3, 4))


def weighted_grads(fn, args, w):
    """Gradients of ``sum(fn(*args) * w)`` for every argument, via Tensors."""
    tensors = [Tensor(a) for a in args]
    out = fn(*tensors)
    assert isinstance(out, Tensor)
    (out * w).sum().backward()
    return out, [t.grad for t in tensors]


def assert_dispatches_like(fn, ref, args, rtol=1e-12):
    """``fn`` on Tensors: a Tensor with ``ref``'s value and autograd's gradients."""
    plain = [np.asarray(a) for a in args]
    expected = np.asarray(ref(*plain))
    w = np.random.default_rng(1).standard_normal(expected.shape)
    out, grads = weighted_grads(fn, plain, w)
    assert out.shape == expected.shape
    assert_allclose(out.value, expected, rtol=rtol, atol=1e-14)
    for argnum, g in enumerate(grads):
        theirs = autograd.grad(lambda *a: anp.sum(ref(*a) * w), argnum)(*plain)
        assert_allclose(g, theirs, rtol=rtol, atol=1e-14)


# Ufuncs ---------------------------------------------------------------------------

# ufunc: (inputs, autograd reference)
UFUNC_CASES = {
    np.add: ((X, V), anp.add),
    np.subtract: ((X, V), anp.subtract),
    np.multiply: ((X, Y), anp.multiply),
    np.true_divide: ((X, Y), anp.true_divide),
    np.power: ((X, Y), anp.power),
    np.negative: ((X,), anp.negative),
    np.positive: ((X,), lambda x: x + 0.0),
    np.reciprocal: ((X,), anp.reciprocal),
    np.exp: ((X,), anp.exp),
    np.log: ((X,), anp.log),
    np.log1p: ((X,), anp.log1p),
    np.expm1: ((X,), anp.expm1),
    np.sqrt: ((X,), anp.sqrt),
    np.square: ((X,), anp.square),
    np.absolute: ((W,), anp.absolute),
    np.sign: ((W,), anp.sign),
    np.sin: ((W,), anp.sin),
    np.cos: ((W,), anp.cos),
    np.tanh: ((W,), anp.tanh),
    np.maximum: ((X, Y), anp.maximum),
    np.minimum: ((X, Y), anp.minimum),
    np.logaddexp: ((X, W), anp.logaddexp),
    np.matmul: ((X, Y.T), anp.matmul),
    numpy_api._ufunc(scipy.special.expit): (
        (W,),
        lambda x: 1.0 / (1.0 + anp.exp(-x)),
    ),
    numpy_api._ufunc(scipy.special.log_expit): (
        (W,),
        lambda x: -anp.logaddexp(0.0, -x),
    ),
}


def test_every_ufunc_in_the_table_is_tested():
    assert set(UFUNC_CASES) == set(numpy_api.UFUNCS)


@pytest.mark.parametrize("ufunc", list(UFUNC_CASES), ids=lambda u: u.__name__)
def test_ufunc_runs_the_engine_operation(ufunc):
    args, ref = UFUNC_CASES[ufunc]
    assert_dispatches_like(ufunc, ref, args)


@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.power, np.maximum])
def test_ufunc_with_an_array_on_the_left(ufunc):
    t = Tensor(Y)
    out = ufunc(X, t)
    assert isinstance(out, Tensor)
    assert_allclose(out.value, ufunc(X, Y))


OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "@": operator.matmul,
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(OPERATORS))
def test_array_operator_tensor_runs_the_engine(name, dtype):
    op = OPERATORS[name]
    left = (X if name != "@" else Y.T).astype(dtype)
    right = X.astype(dtype)
    t = Tensor(right)
    out = op(left, t)
    assert type(out) is Tensor
    assert out.dtype == dtype
    assert_allclose(out.value, op(left, right), rtol=1e-6, atol=1e-6)
    out.sum().backward()
    assert t.grad.dtype == dtype
    theirs = autograd.grad(lambda r: anp.sum(op(left.astype(float), r)))(
        right.astype(float)
    )
    single = dtype == np.float32
    assert_allclose(
        t.grad, theirs, rtol=1e-5 if single else 1e-12, atol=1e-5 if single else 0
    )


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_numpy_scalar_on_the_left(scalar):
    t = Tensor(X)
    out = scalar * t - scalar
    assert type(out) is Tensor
    assert_allclose(out.value, scalar * X - scalar)
    out.sum().backward()
    assert_allclose(t.grad, np.full_like(X, float(scalar)))


@pytest.mark.parametrize(
    "compare",
    [np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal],
    ids=lambda f: f.__name__,
)
def test_comparison_ufuncs_give_boolean_arrays(compare):
    for left, right in ((Tensor(X), Y), (X, Tensor(Y)), (Tensor(X), Tensor(X))):
        out = compare(left, right)
        assert type(out) is np.ndarray and out.dtype == np.bool_
        assert_array_equal(
            out, compare(engine.ops._value(left), engine.ops._value(right))
        )


@pytest.mark.parametrize(
    "ufunc", sorted(numpy_api.VALUE_UFUNCS, key=lambda u: u.__name__), ids=str
)
def test_value_ufuncs_run_on_the_values(ufunc):
    args = [Tensor(W > 0) if ufunc.__name__.startswith("logical") else Tensor(W)]
    args = args * ufunc.nin
    out = ufunc(*args)
    assert type(out) is np.ndarray
    assert_array_equal(out, ufunc(*[a.value for a in args]))


REDUCE_CASES = {
    "add.reduce": (lambda t: np.add.reduce(t, axis=1), lambda x: anp.sum(x, axis=1)),
    "add.reduce-default-axis-0": (np.add.reduce, lambda x: anp.sum(x, axis=0)),
    "multiply.reduce": (
        lambda t: np.multiply.reduce(t, axis=None),
        lambda x: anp.prod(x),
    ),
    "maximum.reduce": (
        lambda t: np.maximum.reduce(t, axis=1, keepdims=True),
        lambda x: anp.max(x, axis=1, keepdims=True),
    ),
    "minimum.reduce": (np.minimum.reduce, lambda x: anp.min(x, axis=0)),
    "add.accumulate": (
        lambda t: np.add.accumulate(t, axis=1),
        lambda x: anp.cumsum(x, axis=1),
    ),
}


@pytest.mark.parametrize("name", list(REDUCE_CASES))
def test_ufunc_reductions(name):
    fn, ref = REDUCE_CASES[name]
    assert_dispatches_like(fn, ref, (X,))


# Functions --------------------------------------------------------------------------

A3 = RNG.standard_normal((2, 3, 4))

# NumPy function: (call on Tensors, autograd reference, inputs)
FUNCTION_CASES = {
    np.sum: (lambda t: np.sum(t, axis=0), lambda x: anp.sum(x, axis=0), (X,)),
    np.mean: (
        lambda t: np.mean(t, 1, keepdims=True),
        lambda x: anp.mean(x, 1, keepdims=True),
        (X,),
    ),
    np.prod: (np.prod, anp.prod, (X,)),
    np.max: (lambda t: np.max(t, axis=1), lambda x: anp.max(x, axis=1), (W,)),
    np.amax: (np.amax, anp.max, (W,)),
    np.min: (lambda t: np.min(t, 0), lambda x: anp.min(x, 0), (W,)),
    np.amin: (np.amin, anp.min, (W,)),
    np.var: (
        lambda t: np.var(t, axis=0, ddof=1),
        lambda x: anp.var(x, axis=0, ddof=1),
        (W,),
    ),
    np.std: (np.std, anp.std, (W,)),
    np.cumsum: (lambda t: np.cumsum(t, axis=1), lambda x: anp.cumsum(x, axis=1), (W,)),
    np.dot: (np.dot, anp.dot, (X, Y.T)),
    np.outer: (np.outer, anp.outer, (V, V[:3])),
    np.tensordot: (
        lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])),
        lambda a, b: anp.tensordot(a, b, axes=([1, 2], [0, 1])),
        (A3, X),
    ),
    np.einsum: (
        lambda a, b: np.einsum("bij,jk->bik", a, b),
        lambda a, b: anp.einsum("bij,jk->bik", a, b),
        (A3, Y.T),
    ),
    np.concatenate: (
        lambda a, b: np.concatenate([a, b], axis=1),
        lambda a, b: anp.concatenate([a, b], axis=1),
        (X, W),
    ),
    np.stack: (
        lambda a, b: np.stack([a, b], axis=-1),
        lambda a, b: anp.stack([a, b], axis=-1),
        (X, W),
    ),
    np.hstack: (
        lambda a, b: np.hstack([a, b]),
        lambda a, b: anp.hstack([a, b]),
        (X, W),
    ),
    np.vstack: (
        lambda a, b: np.vstack([a, b]),
        lambda a, b: anp.vstack([a, b]),
        (X, V),
    ),
    np.reshape: (
        lambda t: np.reshape(t, (4, 3)),
        lambda x: anp.reshape(x, (4, 3)),
        (X,),
    ),
    np.transpose: (np.transpose, anp.transpose, (A3,)),
    np.squeeze: (lambda t: np.squeeze(t[None]), lambda x: anp.squeeze(x[None]), (X,)),
    np.expand_dims: (
        lambda t: np.expand_dims(t, 1),
        lambda x: anp.expand_dims(x, 1),
        (X,),
    ),
    np.ravel: (np.ravel, anp.ravel, (X,)),
    np.swapaxes: (
        lambda t: np.swapaxes(t, 0, 2),
        lambda x: anp.swapaxes(x, 0, 2),
        (A3,),
    ),
    np.moveaxis: (
        lambda t: np.moveaxis(t, 0, -1),
        lambda x: anp.moveaxis(x, 0, -1),
        (A3,),
    ),
    np.where: (
        lambda a, b: np.where(X > 1.0, a, b),
        lambda a, b: anp.where(X > 1.0, a, b),
        (W, Y),
    ),
    np.clip: (lambda t: np.clip(t, -0.5, 0.5), lambda x: anp.clip(x, -0.5, 0.5), (W,)),
    np.pad: (
        lambda t: np.pad(t, ((0, 0), (0, 1)), constant_values=1.0),
        lambda x: anp.pad(x, ((0, 0), (0, 1)), mode="constant", constant_values=1.0),
        (X,),
    ),
    np.take: (lambda t: np.take(t, [2, 0, 2], axis=1), lambda x: x[:, [2, 0, 2]], (X,)),
    np.copy: (np.copy, lambda x: x + 0.0, (X,)),
    np.astype: (  # through float32 and back: both round the gradient alike
        lambda t: np.astype(np.astype(t, np.float32), np.float64),
        lambda x: x.astype(np.float32).astype(np.float64),
        (X,),
    ),
}


def test_every_function_in_the_table_is_tested():
    assert set(FUNCTION_CASES) == set(numpy_api.FUNCTIONS)


@pytest.mark.parametrize("func", list(FUNCTION_CASES), ids=lambda f: f.__name__)
def test_function_runs_the_engine_operation(func):
    fn, ref, args = FUNCTION_CASES[func]
    assert_dispatches_like(fn, ref, args)


@pytest.mark.parametrize(
    "func",
    # a float32 cast is a rounding at the finite differences' scale
    [f for f in FUNCTION_CASES if f is not np.astype],
    ids=lambda f: f.__name__,
)
def test_function_gradient_passes_check_grad(func):
    fn, _, args = FUNCTION_CASES[func]
    w = np.random.default_rng(2).standard_normal(np.shape(fn(*args)))
    check_grad(lambda *a: (fn(*a) * w).sum(), *args)


def test_functions_mixing_tensors_and_arrays():
    t = Tensor(X)
    out = np.concatenate([W, t, np.ones((3, 1))], axis=1)
    assert isinstance(out, Tensor) and out.shape == (3, 9)
    out.sum().backward()
    assert_array_equal(t.grad, np.ones_like(X))
    assert isinstance(np.dot(W.T, t), Tensor)
    assert isinstance(np.stack([X, t]), Tensor)


def test_np_where_with_one_argument_gives_indices():
    idx = np.where(Tensor(np.array([0.0, 2.0, 0.0, 3.0])))
    assert_array_equal(idx[0], [1, 3])


VALUE_CASES = {
    np.shape: lambda t: np.shape(t),
    np.ndim: lambda t: np.ndim(t),
    np.size: lambda t: np.size(t),
    np.zeros_like: lambda t: np.zeros_like(t),
    np.ones_like: lambda t: np.ones_like(t),
    np.empty_like: lambda t: np.empty_like(t).shape,
    np.full_like: lambda t: np.full_like(t, 3.0),
    np.argmax: lambda t: np.argmax(t, axis=1),
    np.argmin: lambda t: np.argmin(t),
    np.argsort: lambda t: np.argsort(t, axis=0),
    np.nonzero: lambda t: np.nonzero(t > 0),
    np.flatnonzero: lambda t: np.flatnonzero(t),
    np.count_nonzero: lambda t: np.count_nonzero(t),
    np.isclose: lambda t: np.isclose(t, t),
    np.allclose: lambda t: np.allclose(t, t),
    np.array_equal: lambda t: np.array_equal(t, t),
    np.array_equiv: lambda t: np.array_equiv(t, t),
    np.all: lambda t: np.all(t),
    np.any: lambda t: np.any(t, axis=0),
    np.result_type: lambda t: np.result_type(t, np.float32),
    np.iscomplexobj: lambda t: np.iscomplexobj(t),
    np.isrealobj: lambda t: np.isrealobj(t),
    np.array_repr: lambda t: np.array_repr(t),
    np.array_str: lambda t: np.array_str(t),
    np.array2string: lambda t: np.array2string(t),
}


def test_every_value_function_is_tested():
    assert set(VALUE_CASES) == set(numpy_api.VALUE_FUNCTIONS)


@pytest.mark.parametrize("func", list(VALUE_CASES), ids=lambda f: f.__name__)
def test_value_functions_run_on_the_values(func):
    call = VALUE_CASES[func]
    ours = call(Tensor(W))
    expected = call(W)
    assert not isinstance(ours, Tensor)
    if isinstance(expected, tuple) and expected and isinstance(expected[0], np.ndarray):
        for a, b in zip(ours, expected):
            assert_array_equal(a, b)
    else:
        assert_array_equal(ours, expected)


# Refusals ----------------------------------------------------------------------------

UNSUPPORTED_UFUNCS = [np.tan, np.arctan, np.floor, np.fmod, np.hypot, np.exp2]


@pytest.mark.parametrize("ufunc", UNSUPPORTED_UFUNCS, ids=lambda u: u.__name__)
def test_unsupported_ufunc_raises_naming_the_alternatives(ufunc):
    args = [Tensor(X)] * ufunc.nin
    with pytest.raises(TypeError) as info:
        ufunc(*args)
    message = str(info.value)
    assert f"numpy.{ufunc.__name__}" in message
    for hint in ("t.value", "skvgrad.engine.primitive", "Supported ufuncs", "tanh"):
        assert hint in message


UNSUPPORTED_FUNCTIONS = {
    "sort": lambda t: np.sort(t),
    "round": lambda t: np.round(t),
    "diff": lambda t: np.diff(t),
    "cumprod": lambda t: np.cumprod(t),
    "append": lambda t: np.append(t, 1.0),
    "linalg.norm": lambda t: np.linalg.norm(t),
    "linalg.inv": lambda t: np.linalg.inv(t[:3, :3]),
    "median": lambda t: np.median(t),
    "average": lambda t: np.average(t),
    "trace": lambda t: np.trace(t),
    "copyto": lambda t: np.copyto(np.zeros((3, 4)), t),
}


@pytest.mark.parametrize("name", list(UNSUPPORTED_FUNCTIONS))
def test_unsupported_function_raises_naming_the_alternatives(name):
    with pytest.raises(TypeError) as info:
        UNSUPPORTED_FUNCTIONS[name](Tensor(X))
    message = str(info.value)
    for hint in (
        "not supported",
        "t.value",
        "Supported NumPy functions",
        "concatenate",
    ):
        assert hint in message


UNSUPPORTED_OPTIONS = {
    "ufunc out=": lambda t: np.add(t, 1.0, out=np.empty((3, 4))),
    "ndarray +=": lambda t: np.ones((3, 4)).__iadd__(t),
    "ufunc dtype=": lambda t: np.exp(t, dtype=np.float32),
    "ufunc where=": lambda t: np.exp(t, where=X > 1),
    "sum out=": lambda t: np.sum(t, out=np.empty(())),
    "sum dtype=": lambda t: np.sum(t, dtype=np.float32),
    "sum where=": lambda t: np.sum(t, where=X > 1),
    "max initial=": lambda t: np.max(t, initial=0.0),
    "mean where=": lambda t: np.mean(t, where=X > 1),
    "concatenate out=": lambda t: np.concatenate([t, t], out=np.empty((6, 4))),
    "reshape order=": lambda t: np.reshape(t, 12, order="F"),
    # NumPy 2.4 leaks a reference to the input when an override raises for a
    # reduction with out=, initial= or dtype=: ask the protocol directly.
    "reduce out=": lambda t: t.__array_ufunc__(np.add, "reduce", t, out=(np.empty(4),)),
    "reduce initial=": lambda t: t.__array_ufunc__(np.add, "reduce", t, initial=1.0),
    "reduce dtype=": lambda t: t.__array_ufunc__(np.add, "reduce", t, dtype=float),
    "ufunc.at": lambda t: np.add.at(t, [0], 1.0),
    "ufunc.outer": lambda t: np.multiply.outer(t, t),
}


@pytest.mark.parametrize("name", list(UNSUPPORTED_OPTIONS))
def test_unsupported_options_are_refused(name):
    with pytest.raises(TypeError, match="not supported|out="):
        UNSUPPORTED_OPTIONS[name](Tensor(X))


def test_in_place_ndarray_update_with_a_tensor_is_refused():
    y = np.ones((3, 4))
    with pytest.raises(TypeError, match=r"y = y \+ t"):
        y += Tensor(X)
    assert_array_equal(y, np.ones((3, 4)))


# SciPy's functions: what SciPy computes, or a TypeError naming the alternative ------

TAIL = np.array([-745.0, -700.0, -90.0, -40.0, -17.0, -1.0, 0.0, 3.0, 40.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    "name, derivative",
    [
        ("expit", lambda x: scipy.special.expit(x) * scipy.special.expit(-x)),
        ("log_expit", lambda x: scipy.special.expit(-x)),
    ],
)
def test_scipy_expit_on_a_tensor_computes_what_scipy_computes(name, derivative, dtype):
    function = getattr(scipy.special, name)
    x = TAIL.astype(dtype)
    out = function(Tensor(x))
    assert type(out) is Tensor and out.dtype == dtype
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    # The same to 8 ulps; below the smallest normal number, SciPy's float32
    # and float64 kernels flush to 0 where the engine keeps subnormals.
    assert_allclose(out.value, function(x), rtol=8 * eps, atol=tiny)
    g = grad(lambda t: function(t).sum())(x)
    assert g.dtype == dtype
    reference = derivative(x.astype(np.float64))
    # From the output, as autograd and PyTorch compute it: s (1 - s) rounds to
    # 0 where s rounds to 1, an absolute error below eps.
    assert_allclose(g, reference, rtol=8 * eps, atol=eps)


def test_log_of_scipy_expit_keeps_the_tail():
    x = np.array([-90.0, -40.0])
    assert_allclose(np.log(scipy.special.expit(Tensor(x))).value, x, rtol=1e-15)
    assert_allclose(grad(lambda t: np.log(scipy.special.expit(t)).sum())(x), 1.0)


SCIPY_REFUSED = {
    "special.logsumexp": (scipy.special.logsumexp, "skvgrad.engine.logsumexp"),
    "special.softmax": (scipy.special.softmax, "skvgrad.engine.softmax"),
    "special.log_softmax": (scipy.special.log_softmax, "skvgrad.engine.log_softmax"),
    "special.erf": (scipy.special.erf, "skvgrad.engine.primitive"),
    "special.xlogy": (lambda t: scipy.special.xlogy(t, t), "skvgrad.engine.primitive"),
    "special.gammaln": (scipy.special.gammaln, "skvgrad.engine.primitive"),
}


@pytest.mark.parametrize("name", list(SCIPY_REFUSED))
def test_scipy_functions_the_engine_lacks_are_refused_by_name(name):
    # With or without SCIPY_ARRAY_API=1 (SciPy then takes other code paths).
    call, alternative = SCIPY_REFUSED[name]
    with pytest.raises(TypeError) as info:
        call(Tensor(X))
    message = str(info.value)
    assert f"scipy.{name}" in message
    assert alternative in message and "t.value" in message


# Conversion to an array: refused, a Tensor never becomes an array ------------------

CONVERSIONS = {
    "np.asarray": lambda t: np.asarray(t),
    "np.array": lambda t: np.array(t),
    "np.asarray object": lambda t: np.asarray(t, dtype=object),
    "np.asarray float": lambda t: np.asarray(t, dtype=float),
    "np.asarray int": lambda t: np.asarray(t, dtype=int),
    "np.asanyarray": lambda t: np.asanyarray(t),
    "np.array of Tensors": lambda t: np.array([t, t]),
    "np.array of Tensors, object": lambda t: np.array([t, t], dtype=object),
    "ndarray.dot": lambda t: np.ones((2, 3)).dot(t),
    "ndarray.astype": lambda t: np.asarray(t).astype(float),
    "assignment into an array": lambda t: np.ones(3).__setitem__(slice(None), t),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversion_to_an_array_is_refused(name):
    with pytest.raises(TypeError, match="cannot become a NumPy array"):
        CONVERSIONS[name](Tensor(np.ones(3)))


def test_assignment_of_a_tensor_into_an_array_element_is_refused():
    with pytest.raises(ValueError, match="sequence"):  # NumPy's own words
        np.ones(3)[0] = Tensor(np.array(2.0))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda m, t: m.multiply(t), "csr_matrix.multiply"),
        (lambda m, t: m == t, "csr_matrix.__eq__"),
        (lambda m, t: m.maximum(t), "csr_matrix.maximum"),
    ],
)
def test_sparse_methods_that_convert_a_tensor_are_refused_by_name(call, name):
    # Before: NotImplemented returned as a value, or a truth-value error.
    with pytest.raises(TypeError, match=rf"scipy\.sparse\.{re.escape(name)}"):
        call(sp.csr_matrix(np.eye(3)), Tensor(np.ones((3, 3))))


REDUCTIONS_OF_LISTS = {
    "np.sum": lambda t: np.sum([t, t]),
    "np.mean": lambda t: np.mean([t, 1.0]),
    "np.max": lambda t: np.max([t, t], axis=0),
    "np.dot": lambda t: np.dot([t, t], np.ones(3)),
}


@pytest.mark.parametrize("name", list(REDUCTIONS_OF_LISTS))
def test_numpy_functions_on_lists_of_tensors_are_refused(name):
    # NumPy converts a list without dispatching to the Tensors inside it: the
    # value would be NumPy's, the gradient lost. The message names np.stack.
    with pytest.raises(TypeError, match=r"np\.stack"):
        REDUCTIONS_OF_LISTS[name](Tensor(np.array([1.0, 2.0, 3.0])))
    stacked = np.sum(np.stack([Tensor(np.array([1.0, 2.0, 3.0]))] * 2))
    assert_allclose(stacked.value, 12.0)


def test_the_refusal_names_what_to_use():
    with pytest.raises(TypeError) as info:
        np.asarray(Tensor(np.ones(3)))
    for hint in ("t.value", "X @ t", "np.stack"):
        assert hint in str(info.value)


# SciPy sparse matrices ----------------------------------------------------------------

SPARSE = [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array]


@pytest.mark.parametrize("w_shape", [(4, 2), (4,)], ids=["2d", "1d"])
@pytest.mark.parametrize("kind", SPARSE, ids=lambda k: k.__name__)
def test_sparse_at_tensor_gives_the_dense_gradient(kind, w_shape):
    dense = W * (RNG.random(W.shape) < 0.5)
    m = kind(dense)
    w = RNG.standard_normal(w_shape)
    t = Tensor(w)
    out = m @ t
    assert type(out) is Tensor and type(out.value) is np.ndarray
    assert_allclose(out.value, dense @ w, rtol=1e-12)
    cotangent = RNG.standard_normal(out.shape)
    (out * cotangent).sum().backward()
    assert type(t.grad) is np.ndarray and t.grad.shape == w_shape
    assert_allclose(t.grad, dense.T @ cotangent, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", SPARSE, ids=lambda k: k.__name__)
def test_tensor_at_sparse_gives_the_dense_gradient(kind):
    dense = W * (RNG.random(W.shape) < 0.5)
    g = grad(lambda t: ((t @ kind(dense)) * np.arange(4.0)).sum())(np.ones((2, 3)))
    assert type(g) is np.ndarray
    assert_allclose(g, np.broadcast_to(dense @ np.arange(4.0), (2, 3)), rtol=1e-12)


@pytest.mark.parametrize(
    "expression",
    [operator.mul, operator.add, operator.sub, lambda m, t: t * m, lambda m, t: t + m],
    ids=["sparse*t", "sparse+t", "sparse-t", "t*sparse", "t+sparse"],
)
def test_sparse_in_elementwise_operations_is_refused(expression):
    # ``*`` of a sparse matrix is a matrix product: refuse rather than guess.
    with pytest.raises(TypeError, match="sparse"):
        expression(sp.csr_matrix(np.eye(3)), Tensor(np.ones(3)))


# ndarray's methods that Tensors lack: named, with what to use -------------------------


def test_any_and_all_are_there_as_the_truth_value_error_advises():
    t = Tensor(np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert t.any() and not t.all()
    assert_array_equal(t.any(axis=1), [True, False])
    assert_array_equal(t.all(axis=0, keepdims=True), [[False, False]])
    with pytest.raises(engine.TraceError, match="numpy.any"):
        engine.trace(lambda z: z if z.any() else -z, np.ones(2))


# attribute: what the message must contain
MISSING_METHODS = {
    "tolist": ["list(t)", "t.value.tolist()"],
    "fill": ["in place", "t.at[index].set(v)"],
    "sort": ["in place"],
    "argmax": ["numpy.argmax(t)", "without a gradient"],
    "nonzero": ["numpy.nonzero(t)"],
    "cumprod": ["skvgrad.engine operations", "t.value.cumprod"],
    "round": ["t.value.round"],
    "tobytes": ["t.value.tobytes"],
    "nbytes": ["t.value.nbytes"],
}


@pytest.mark.parametrize("name", list(MISSING_METHODS))
def test_ndarray_attributes_a_tensor_lacks_say_what_works(name):
    t = Tensor(np.ones(3))
    with pytest.raises(AttributeError) as info:
        getattr(t, name)
    message = str(info.value)
    assert f"'Tensor' object has no attribute {name!r}" in message
    for hint in MISSING_METHODS[name]:
        assert hint in message
    assert not hasattr(t, name)  # hasattr and getattr(t, name, default) still work


def test_other_missing_attributes_are_plain_attribute_errors():
    t = Tensor(np.ones(3))
    assert getattr(t, "no_such_thing", None) is None
    assert not hasattr(t, "__array_interface__")
    with pytest.raises(AttributeError, match="^'Tensor' object has no attribute 'x'$"):
        t.x  # noqa: B018


# With and without SciPy's array API support -------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_scipy_reads_the_array_api_setting_of_the_environment():
    # Runs in both runs below: proof that the second is without the support.
    from scipy._lib._array_api import SCIPY_ARRAY_API

    assert bool(SCIPY_ARRAY_API) == bool(os.environ.get("SCIPY_ARRAY_API"))


@pytest.mark.skipif(
    not os.environ.get("SCIPY_ARRAY_API"),
    reason="this is the run without SciPy's array API support that the test starts",
)
def test_the_engine_tests_pass_without_scipy_array_api():
    # The suite runs with SCIPY_ARRAY_API=1 (conftest.py), where SciPy takes
    # other code paths on Tensors; users without it get these. An empty value
    # switches SciPy's support off, and conftest.py keeps it.
    env = {**os.environ, "SCIPY_ARRAY_API": ""}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "tests/engine", "skvgrad/engine"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "1 skipped" in result.stdout
