"""Tests of skvgrad.engine.ops: every primitive's VJP, broadcasting, stability.

Two independent oracles check every VJP: central finite differences of the
forward pass (``check_grad`` and a plain NumPy helper) and HIPS autograd's
gradient of the same function written with ``autograd.numpy``. Every case runs
in float64 and float32, on fixed inputs and on hypothesis-drawn shapes (0-d
included), and with one Tensor passed for every input (``f(x, x)``).
"""

import operator
import warnings

import autograd
import autograd.numpy as anp
import hypothesis.extra.numpy as npst
import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special
from autograd.scipy.special import logsumexp as anp_logsumexp
from hypothesis import HealthCheck, given, settings
from numpy.testing import assert_allclose, assert_array_equal

from skvgrad import engine
from skvgrad.engine import Tensor, check_grad, grad, value_and_grad

DTYPES = [np.float64, np.float32]
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# Inputs ---------------------------------------------------------------------------

# Each domain keeps its op smooth: away from kinks, ties, poles and branch cuts.
DOMAINS = {
    "real": lambda rng, s: rng.uniform(-1.5, 1.5, s),
    "positive": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "nonzero": lambda rng, s: rng.choice([-1.0, 1.0], s) * rng.uniform(0.3, 1.5, s),
    # Values near k + 0.25 and near k + 0.75: never within 0.3 of each other.
    "grid_a": lambda rng, s: rng.integers(-2, 3, s) + 0.25 + rng.uniform(-0.1, 0.1, s),
    "grid_b": lambda rng, s: rng.integers(-2, 3, s) + 0.75 + rng.uniform(-0.1, 0.1, s),
}

ELEMENTS = {
    "real": st.floats(-2.0, 2.0),
    "positive": st.floats(0.5, 2.5),
    "nonzero": st.builds(
        operator.mul, st.sampled_from([-1.0, 1.0]), st.floats(0.3, 2.0)
    ),
    "grid_a": st.builds(
        lambda k, j: k + 0.25 + j, st.integers(-2, 2), st.floats(-0.1, 0.1)
    ),
    "grid_b": st.builds(
        lambda k, j: k + 0.75 + j, st.integers(-2, 2), st.floats(-0.1, 0.1)
    ),
}


def make(rng, shape, domain="real", dtype=np.float64):
    """A random array of ``shape`` drawn from ``domain``."""
    return np.asarray(DOMAINS[domain](rng, shape), dtype=dtype)


def draw_array(data, shape, domain="real"):
    """A float64 array of ``shape`` drawn by hypothesis from ``domain``."""
    return data.draw(npst.arrays(np.float64, shape, elements=ELEMENTS[domain]))


def pattern(shape):
    """A fixed pseudo-random boolean array of ``shape`` (a ``where`` condition)."""
    return np.random.default_rng(12345).random(shape) < 0.5


def numeric_grad(f, args, argnum, eps=1e-6):
    """Central differences of the scalar ``f`` in float64, with NumPy only."""
    args = [np.array(a, dtype=np.float64) for a in args]
    x = args[argnum]
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        values = []
        for delta in (eps, -eps):
            moved = x.copy()
            moved[idx] += delta
            values.append(float(f(*args[:argnum], moved, *args[argnum + 1 :])))
        out[idx] = (values[0] - values[1]) / (2 * eps)
    return out


def weighted(fn, w):
    """The scalar ``sum(fn(*args) * w)``; random ``w`` makes every cotangent differ."""
    return lambda *args: (fn(*args) * w).sum()


def output_weights(fn, args, rng, dtype):
    """Random weights of the shape of ``fn``'s result (evaluated on plain arrays)."""
    return np.asarray(rng.standard_normal(np.shape(fn(*args))), dtype=dtype)


def assert_close_to_autograd(fn, ref, args, w, dtype):
    """Value and every gradient of ``fn`` match autograd's ``ref`` in float64."""
    args = [np.asarray(a, dtype=dtype) for a in args]
    args64 = [a.astype(np.float64) for a in args]
    w = np.asarray(w, dtype=dtype)
    loss = weighted(fn, w)

    def ref_loss(*a):
        return anp.sum(ref(*a) * w.astype(np.float64))

    out = fn(*[Tensor(a) for a in args])
    assert isinstance(out, Tensor)
    assert out.dtype == dtype
    expected = np.asarray(ref(*args64))
    assert out.shape == expected.shape
    if dtype == np.float64:
        rtol, atol = 1e-10, 1e-12
    else:
        rtol, atol = 1e-4, 1e-5
    scale = max(1.0, float(np.max(np.abs(expected), initial=0)))
    assert_allclose(out.value, expected, rtol=rtol, atol=atol * scale)
    for argnum, a in enumerate(args):
        g = grad(loss, argnum)(*args)
        assert np.shape(g) == a.shape
        assert g.dtype == dtype
        expected_g = autograd.grad(ref_loss, argnum)(*args64)
        scale = max(1.0, float(np.max(np.abs(expected_g), initial=0)))
        assert_allclose(g, expected_g, rtol=rtol, atol=atol * scale)


def assert_matches_central_differences(fn, args, w, dtype):
    """The engine gradient at ``dtype`` matches float64 central differences.

    Also checks that the value is finite and that the value and every gradient
    keep ``dtype`` and their operand's shape.
    """
    args = [np.asarray(a, dtype=dtype) for a in args]
    loss = weighted(fn, np.asarray(w, dtype=dtype))
    loss64 = weighted(fn, np.asarray(w, dtype=np.float64))
    out = fn(*[Tensor(a) for a in args])
    assert isinstance(out, Tensor)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out.value))
    for argnum, a in enumerate(args):
        value, g = value_and_grad(loss, argnum)(*args)
        assert np.asarray(value).dtype == dtype
        assert np.shape(g) == a.shape
        assert g.dtype == dtype
        assert np.all(np.isfinite(g))
        fd = numeric_grad(loss64, args, argnum)
        scale = max(1.0, float(np.max(np.abs(fd), initial=0)))
        if dtype == np.float64:
            assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * scale)
        else:
            assert_allclose(g, fd, rtol=2e-2, atol=2e-3 * scale)


# The primitives, one case each ----------------------------------------------------


def _sigmoid_ref(x):
    return 1.0 / (1.0 + anp.exp(-x))


def _relu_ref(x):
    return anp.where(x > 0, x, 0.0)


def _softplus_ref(x):
    return anp.logaddexp(0.0, x)


def _log_sigmoid_ref(x):
    return -anp.logaddexp(0.0, -x)


def _softmax_ref(x, axis):
    return anp.exp(x - anp_logsumexp(x, axis=axis, keepdims=True))


def _log_softmax_ref(x, axis):
    return x - anp_logsumexp(x, axis=axis, keepdims=True)


# name: (engine op, autograd reference, domain)
UNARY = {
    "negative": (engine.negative, anp.negative, "real"),
    "exp": (engine.exp, anp.exp, "real"),
    "log": (engine.log, anp.log, "positive"),
    "log1p": (engine.log1p, anp.log1p, "positive"),
    "expm1": (engine.expm1, anp.expm1, "real"),
    "abs": (engine.abs, anp.abs, "nonzero"),
    "sign": (lambda x: engine.sign(x) * x, lambda x: anp.sign(x) * x, "nonzero"),
    "sin": (engine.sin, anp.sin, "real"),
    "cos": (engine.cos, anp.cos, "real"),
    "sqrt": (engine.sqrt, anp.sqrt, "positive"),
    "square": (engine.square, anp.square, "real"),
    "tanh": (engine.tanh, anp.tanh, "real"),
    "sigmoid": (engine.sigmoid, _sigmoid_ref, "real"),
    "relu": (engine.relu, _relu_ref, "nonzero"),
    "softplus": (engine.softplus, _softplus_ref, "real"),
    "log_sigmoid": (engine.log_sigmoid, _log_sigmoid_ref, "real"),
}

# name: (engine op, autograd reference, domain of a, domain of b). The operator
# forms serve as their own reference: on autograd's boxes they run autograd.
BINARY = {
    "+": (operator.add, operator.add, "real", "real"),
    "-": (operator.sub, operator.sub, "real", "real"),
    "*": (operator.mul, operator.mul, "real", "real"),
    "/": (operator.truediv, operator.truediv, "real", "nonzero"),
    "**": (operator.pow, operator.pow, "positive", "real"),
    "maximum": (engine.maximum, anp.maximum, "grid_a", "grid_b"),
    "minimum": (engine.minimum, anp.minimum, "grid_a", "grid_b"),
    "logaddexp": (engine.logaddexp, anp.logaddexp, "real", "real"),
    "where": (
        lambda a, b: engine.where(pattern(_broadcast(a, b)), a, b),
        lambda a, b: _where_ref(a, b),
        "real",
        "real",
    ),
}


def _broadcast(a, b):
    return np.broadcast_shapes(np.shape(a), np.shape(b))


def _where_ref(a, b):
    # autograd's own where VJP does not sum back over broadcast axes: broadcast
    # the operands first, with an op whose VJP does.
    zeros = np.zeros(_broadcast(a, b))
    return anp.where(pattern(zeros.shape), a + zeros, b + zeros)


COND = pattern((3, 4))
CONST = np.linspace(-1.0, 1.0, 6).reshape(3, 2)


def _case(fn, ref, *specs):
    return fn, ref, specs


def _unary_cases():
    return {
        name: _case(fn, ref, ((3, 4), domain))
        for name, (fn, ref, domain) in UNARY.items()
    }


def _binary_cases():
    named = {
        "add": (engine.add, anp.add, "real", "real"),
        "subtract": (engine.subtract, anp.subtract, "real", "real"),
        "multiply": (engine.multiply, anp.multiply, "real", "real"),
        "divide": (engine.divide, anp.divide, "real", "nonzero"),
        "power": (engine.power, anp.power, "positive", "real"),
        "maximum": (engine.maximum, anp.maximum, "grid_a", "grid_b"),
        "minimum": (engine.minimum, anp.minimum, "grid_a", "grid_b"),
        "logaddexp": (engine.logaddexp, anp.logaddexp, "real", "real"),
    }
    cases = {
        name: _case(fn, ref, ((3, 4), da), ((3, 4), db))
        for name, (fn, ref, da, db) in named.items()
    }
    cases["where"] = _case(
        lambda x, y: engine.where(COND, x, y),
        lambda x, y: anp.where(COND, x, y),
        ((3, 4), "real"),
        ((3, 4), "real"),
    )
    cases["power-int-exponent"] = _case(
        lambda x: engine.power(x, 3), lambda x: x**3, ((3, 4), "real")
    )
    cases["power-scalar-base"] = _case(
        lambda y: engine.power(2.5, y), lambda y: 2.5**y, ((3, 4), "real")
    )
    cases["power-0-d-exponent"] = _case(
        engine.power, anp.power, ((3, 4), "positive"), ((), "real")
    )
    for name, (fn, ref) in {
        "clip": (
            lambda x: engine.clip(x, -0.6, 0.45),
            lambda x: anp.clip(x, -0.6, 0.45),
        ),
        "clip-lower-only": (
            lambda x: engine.clip(x, -0.6, None),
            lambda x: anp.maximum(x, -0.6),
        ),
    }.items():
        cases[name] = _case(fn, ref, ((3, 4), "grid_a"))
    cases["clip-tensor-bounds"] = _case(
        engine.clip,
        lambda x, lo, hi: anp.minimum(anp.maximum(x, lo), hi),
        ((3, 4), "grid_a"),
        ((4,), "grid_b"),
        ((3, 1), "grid_b"),
    )
    return cases


def _matmul_cases():
    shapes = {
        "2d@2d": ((3, 4), (4, 2)),
        "1d@2d": ((4,), (4, 2)),
        "2d@1d": ((3, 4), (4,)),
        "1d@1d": ((4,), (4,)),
        "3d@3d": ((2, 3, 4), (2, 4, 5)),
        "3d@2d": ((2, 3, 4), (4, 5)),
        "2d@3d": ((3, 4), (2, 4, 5)),
        "1d@3d": ((4,), (2, 4, 5)),
        "3d@1d": ((2, 3, 4), (4,)),
        "broadcast-batch": ((2, 1, 3, 4), (3, 4, 2)),
    }
    return {
        f"matmul-{name}": _case(engine.matmul, anp.matmul, (sa, "real"), (sb, "real"))
        for name, (sa, sb) in shapes.items()
    }


AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def _reduction_cases():
    refs = {
        "sum": (engine.sum, anp.sum),
        "mean": (engine.mean, anp.mean),
        "logsumexp": (engine.logsumexp, anp_logsumexp),
    }
    cases = {}
    for name, (fn, ref) in refs.items():
        for axis in AXES:
            for keepdims in (False, True):
                cases[f"{name}-axis={axis}-keepdims={keepdims}"] = _case(
                    lambda x, fn=fn, a=axis, k=keepdims: fn(x, axis=a, keepdims=k),
                    lambda x, ref=ref, a=axis, k=keepdims: ref(x, axis=a, keepdims=k),
                    ((2, 3, 4), "real"),
                )
    for name, fn, ref in (
        ("softmax", engine.softmax, _softmax_ref),
        ("log_softmax", engine.log_softmax, _log_softmax_ref),
    ):
        for shape, axis in (((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), 1)):
            cases[f"{name}-{shape}-axis={axis}"] = _case(
                lambda x, fn=fn, a=axis: fn(x, axis=a),
                lambda x, ref=ref, a=axis: ref(x, axis=a),
                (shape, "real"),
            )
        cases[f"{name}-default-axis"] = _case(
            fn, lambda x, ref=ref: ref(x, axis=-1), ((3, 4), "real")
        )
    return cases


def _shape_cases():
    cases = {
        "reshape-flat": _case(
            lambda x: engine.reshape(x, (-1,)),
            lambda x: anp.reshape(x, (-1,)),
            ((3, 4), "real"),
        ),
        "reshape-3d": _case(
            lambda x: engine.reshape(x, (4, -1, 2)),
            lambda x: anp.reshape(x, (4, -1, 2)),
            ((2, 3, 4), "real"),
        ),
        "reshape-to-scalar": _case(
            lambda x: engine.reshape(x, ()),
            lambda x: anp.reshape(x, ()),
            ((1, 1), "real"),
        ),
    }
    # The reference spells negative axes as positive ones: HIPS autograd's own
    # transpose VJP mishandles negative axes.
    for axes, positive in (
        (None, None),
        ((1, 0, 2), (1, 0, 2)),
        ((2, 0, 1), (2, 0, 1)),
        ((-1, 0, 1), (2, 0, 1)),
        ((0, -1, -2), (0, 2, 1)),
    ):
        cases[f"transpose-{axes}"] = _case(
            lambda x, a=axes: engine.transpose(x, a),
            lambda x, p=positive: anp.transpose(x, p),
            ((2, 3, 4), "real"),
        )
    indices = {
        "int": 1,
        "negative-int": -1,
        "slice": slice(1, 3),
        "strided": (slice(None), slice(None, None, 2)),
        "ellipsis-newaxis": (Ellipsis, None, 2),
        "int-array-repeats": np.array([0, 2, 2, 3, 0, 0]),
        "list-repeats": [3, 3, 1],
        "2d-int-array": np.array([[0, 1], [1, 1]]),
        "paired-arrays-repeats": (np.array([0, 0, 3, 0]), np.array([1, 1, 4, 2])),
        "slice-and-array": (slice(None), np.array([4, 4, 0])),
        "int-and-list": (1, [2, 2]),
        "negative-array": np.array([-1, -1, 0]),
        "boolean-mask": np.array([True, False, True, True]),
    }
    for name, index in indices.items():
        cases[f"getitem-{name}"] = _case(
            lambda x, i=index: engine.getitem(x, i),
            lambda x, i=index: x[i],
            ((4, 5), "real"),
        )
    cases["getitem-operator"] = _case(
        lambda x: x[1:, np.array([0, 0, 2])],
        lambda x: x[1:, np.array([0, 0, 2])],
        ((4, 5), "real"),
    )
    cases["concatenate-axis0"] = _case(
        lambda a, b, c: engine.concatenate([a, b, c]),
        lambda a, b, c: anp.concatenate([a, b, c]),
        ((2, 3), "real"),
        ((1, 3), "real"),
        ((4, 3), "real"),
    )
    cases["concatenate-axis-1-with-array"] = _case(
        lambda a, b: engine.concatenate([a, CONST.astype(a.dtype), b], axis=-1),
        lambda a, b: anp.concatenate([a, CONST, b], axis=-1),
        ((3, 1), "real"),
        ((3, 4), "real"),
    )
    cases["concatenate-3d-axis1"] = _case(
        lambda a, b: engine.concatenate((a, b), axis=1),
        lambda a, b: anp.concatenate((a, b), axis=1),
        ((2, 3, 2), "real"),
        ((2, 1, 2), "real"),
    )
    return cases


def _breadth_cases():
    """Reductions and shape operations beyond the basic set."""
    cases = {}
    for name, fn, ref in (
        ("max", engine.max, anp.max),
        ("min", engine.min, anp.min),
        ("prod", engine.prod, anp.prod),
    ):
        for axis in AXES:
            for keepdims in (False, True):
                cases[f"{name}-axis={axis}-keepdims={keepdims}"] = _case(
                    lambda x, fn=fn, a=axis, k=keepdims: fn(x, axis=a, keepdims=k),
                    lambda x, ref=ref, a=axis, k=keepdims: ref(x, axis=a, keepdims=k),
                    ((2, 3, 4), "real"),
                )
    for name, fn, ref in (
        ("var", engine.var, anp.var),
        ("std", engine.std, anp.std),
    ):
        for axis, ddof, keepdims in (
            (None, 0, False),
            (1, 1, True),
            ((0, 2), 0, False),
        ):
            cases[f"{name}-axis={axis}-ddof={ddof}"] = _case(
                lambda x, fn=fn, a=axis, d=ddof, k=keepdims: fn(
                    x, axis=a, ddof=d, keepdims=k
                ),
                lambda x, ref=ref, a=axis, d=ddof, k=keepdims: ref(
                    x, axis=a, ddof=d, keepdims=k
                ),
                ((2, 3, 4), "real"),
            )
    for axis in (None, 0, 1, -1):
        cases[f"cumsum-axis={axis}"] = _case(
            lambda x, a=axis: engine.cumsum(x, axis=a),
            lambda x, a=axis: anp.cumsum(x, axis=a),
            ((2, 3, 4), "real"),
        )
    cases["squeeze"] = _case(engine.squeeze, anp.squeeze, ((1, 3, 1, 4), "real"))
    cases["squeeze-axis"] = _case(
        lambda x: engine.squeeze(x, axis=2),
        lambda x: anp.squeeze(x, axis=2),
        ((1, 3, 1, 4), "real"),
    )
    cases["expand_dims"] = _case(
        lambda x: engine.expand_dims(x, (0, -1)),
        lambda x: anp.expand_dims(anp.expand_dims(x, 0), -1),
        ((3, 4), "real"),
    )
    cases["ravel"] = _case(engine.ravel, anp.ravel, ((3, 4), "real"))
    cases["swapaxes"] = _case(
        lambda x: engine.swapaxes(x, 0, -1),
        lambda x: anp.swapaxes(x, 0, 2),
        ((2, 3, 4), "real"),
    )
    cases["moveaxis"] = _case(
        lambda x: engine.moveaxis(x, 0, -1),
        lambda x: anp.moveaxis(x, 0, 2),
        ((2, 3, 4), "real"),
    )
    for axis in (0, 1, -1):
        cases[f"stack-axis={axis}"] = _case(
            lambda a, b, ax=axis: engine.stack([a, b], axis=ax),
            lambda a, b, ax=axis: anp.stack([a, b], axis=ax),
            ((3, 4), "real"),
            ((3, 4), "real"),
        )
    cases["hstack-1d"] = _case(
        lambda a, b: engine.hstack([a, b]),
        lambda a, b: anp.hstack([a, b]),
        ((3,), "real"),
        ((2,), "real"),
    )
    cases["hstack-2d"] = _case(
        lambda a, b: engine.hstack([a, b]),
        lambda a, b: anp.hstack([a, b]),
        ((3, 1), "real"),
        ((3, 2), "real"),
    )
    cases["vstack"] = _case(
        lambda a, b: engine.vstack([a, b]),
        lambda a, b: anp.vstack([a, b]),
        ((4,), "real"),
        ((2, 4), "real"),
    )
    for sa, sb in (
        ((4,), (4,)),
        ((3, 4), (4,)),
        ((4,), (4, 2)),
        ((3, 4), (4, 2)),
        ((), (3,)),
        ((2, 3, 4), (4, 2)),
        ((2, 4), (3, 4, 2)),
    ):
        cases[f"dot-{sa}-{sb}"] = _case(engine.dot, anp.dot, (sa, "real"), (sb, "real"))
    cases["outer"] = _case(engine.outer, anp.outer, ((3,), "real"), ((4,), "real"))
    cases["outer-flattens"] = _case(
        engine.outer,
        lambda a, b: anp.outer(anp.ravel(a), anp.ravel(b)),
        ((2, 2), "real"),
        ((3,), "real"),
    )
    for axes, sa, sb in (
        (1, (3, 4), (4, 2)),
        (2, (2, 3, 4), (3, 4, 2)),
        (0, (2,), (3,)),
        (([0, 2], [1, 0]), (2, 3, 4), (4, 2)),
    ):
        cases[f"tensordot-{axes}"] = _case(
            lambda a, b, ax=axes: engine.tensordot(a, b, axes=ax),
            lambda a, b, ax=axes: anp.tensordot(a, b, axes=ax),
            (sa, "real"),
            (sb, "real"),
        )
    for spec, shapes in (
        ("ij,jk->ik", ((3, 4), (4, 2))),
        ("ij,ij->", ((3, 4), (3, 4))),
        ("ij->j", ((3, 4),)),
        ("ij,jk", ((3, 4), (4, 2))),
        ("bij,bjk->bik", ((2, 3, 4), (2, 4, 2))),
        ("...j,j->...", ((2, 3, 4), (4,))),
        ("i,j->ij", ((3,), (2,))),
        ("ik,j->i", ((3, 2), (4,))),
    ):
        cases[f"einsum-{spec}"] = _case(
            lambda *ops, sp=spec: engine.einsum(sp, *ops),
            lambda *ops, sp=spec: anp.einsum(sp, *ops),
            *[(shape, "real") for shape in shapes],
        )
    for widths in (((1, 0), (0, 2)), 1, ((2, 1),)):
        cases[f"pad-{widths}"] = _case(
            lambda x, w=widths: engine.pad(x, w, constant_values=0.5),
            lambda x, w=widths: anp.pad(x, w, mode="constant", constant_values=0.5),
            ((3, 4), "real"),
        )
    cases["pad-bias-column"] = _case(
        engine.pad,
        lambda x: anp.pad(x, ((0, 0), (0, 1)), mode="constant", constant_values=1.0),
        ((3, 4), "real"),
    )
    for name, fn, ref in (
        (
            "take-flat",
            lambda x: engine.take(x, [0, 0, 5, 11]),
            lambda x: anp.ravel(x)[[0, 0, 5, 11]],
        ),
        (
            "take-axis",
            lambda x: engine.take(x, [3, 1, 3], axis=1),
            lambda x: x[:, [3, 1, 3]],
        ),
        (
            "take-wrap",
            lambda x: engine.take(x, [-1, 5], axis=0, mode="wrap"),
            lambda x: x[[2, 2]],
        ),
        (
            "take-clip",
            lambda x: engine.take(x, [-1, 5], axis=1, mode="clip"),
            lambda x: x[:, [0, 3]],
        ),
    ):
        cases[name] = _case(fn, ref, ((3, 4), "real"))
    cases["at-set-basic"] = _case(
        lambda x, v: (
            x.at[1:, 2].set(v) if isinstance(x, Tensor) else engine.at(x)[1:, 2].set(v)
        ),
        lambda x, v: anp.concatenate(
            [x[:1], anp.concatenate([x[1:, :2], v[:, None], x[1:, 3:]], axis=1)]
        ),
        ((3, 4), "real"),
        ((2,), "real"),
    )
    cases["at-set-array-broadcast"] = _case(
        lambda x, v: engine.at(x)[[2, 0]].set(v),
        lambda x, v: anp.stack([v + 0 * x[0], x[1], v + 0 * x[0]]),
        ((3, 4), "real"),
        ((4,), "real"),
    )
    cases["at-add-repeats"] = _case(
        lambda x, v: engine.at(x)[[0, 2, 0]].add(v),
        lambda x, v: anp.stack([x[0] + v[0] + v[2], x[1], x[2] + v[1]]),
        ((3, 4), "real"),
        ((3, 4), "real"),
    )
    cases["at-add-scalar-value"] = _case(
        lambda x, v: engine.at(x)[:, 1].add(v),
        lambda x, v: x + anp.array([0.0, 1.0, 0.0, 0.0]) * v,
        ((3, 4), "real"),
        ((), "real"),
    )
    return cases


CASES = {
    **_unary_cases(),
    **_binary_cases(),
    **_matmul_cases(),
    **_reduction_cases(),
    **_shape_cases(),
    **_breadth_cases(),
}


def _inputs(specs, rng, dtype):
    return [make(rng, shape, domain, dtype) for shape, domain in specs]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_vjp_passes_check_grad(name, dtype):
    fn, _, specs = CASES[name]
    rng = np.random.default_rng(0)
    args = _inputs(specs, rng, dtype)
    w = output_weights(fn, args, rng, dtype)
    error = check_grad(weighted(fn, w), *args)
    assert np.isfinite(error)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_vjp_matches_autograd(name, dtype):
    fn, ref, specs = CASES[name]
    rng = np.random.default_rng(1)
    args = _inputs(specs, rng, dtype)
    w = output_weights(fn, args, rng, dtype)
    assert_close_to_autograd(fn, ref, args, w, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_vjp_matches_central_differences(name, dtype):
    fn, _, specs = CASES[name]
    rng = np.random.default_rng(2)
    args = _inputs(specs, rng, dtype)
    w = output_weights(fn, args, rng, dtype)
    assert_matches_central_differences(fn, args, w, dtype)


# Broadcasting: every binary op on every pair of shapes ----------------------------

SHAPES = [(), (4,), (3, 4), (1, 4), (3, 1)]
SHAPE_PAIRS = [(sa, sb) for sa in SHAPES for sb in SHAPES]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("shape_a, shape_b", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_op_broadcasting(op, shape_a, shape_b, dtype):
    fn, ref, domain_a, domain_b = BINARY[op]
    rng = np.random.default_rng(3)
    a = make(rng, shape_a, domain_a, dtype)
    b = make(rng, shape_b, domain_b, dtype)
    w = np.asarray(rng.standard_normal(np.broadcast_shapes(shape_a, shape_b)), dtype)
    loss = weighted(fn, w)
    for argnum, operand in enumerate((a, b)):
        g = grad(loss, argnum)(a, b)
        assert np.shape(g) == operand.shape
        assert g.dtype == dtype
    check_grad(loss, a, b)
    assert_close_to_autograd(fn, ref, [a, b], w, dtype)


@pytest.mark.parametrize("constant", [0.5, np.float64(0.5), np.array(0.5)], ids=str)
def test_where_with_a_constant_and_a_broadcasting_condition(constant):
    cond = np.array([[True, False, True], [False, False, True]])
    x = np.array([1.0, 2.0, 3.0])
    for fn in (
        lambda t: engine.where(cond, t, constant),
        lambda t: engine.where(cond, constant, t),
    ):
        g = grad(lambda t, fn=fn: fn(t).sum())(x)
        assert g.shape == x.shape
        expected = cond.sum(axis=0) if fn(x)[0, 0] == 1.0 else (~cond).sum(axis=0)
        assert_array_equal(g, expected)


def test_where_accepts_condition_tensor_and_broadcasts():
    x = np.array([-2.0, 3.0, 0.5])
    y = np.array([[1.0], [2.0]])
    cond = Tensor(np.array([1.0, 0.0, 1.0]))  # a Tensor condition is only read
    out = engine.where(cond, x, Tensor(y))
    assert_array_equal(out.value, [[-2.0, 1.0, 0.5], [-2.0, 2.0, 0.5]])
    gx, gy = grad(lambda args: engine.where(cond, *args).sum())((x, y))
    assert_array_equal(gx, [2.0, 0.0, 2.0])
    assert_array_equal(gy, [[1.0], [1.0]])
    assert cond.grad is None


# Documented rules at kinks --------------------------------------------------------


def test_maximum_splits_gradient_evenly_at_ties():
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 5.0, 0.0, -1.0])
    ga, gb = grad(lambda args: engine.maximum(*args).sum())((a, b))
    assert_array_equal(ga, [0.5, 0.0, 1.0, 0.5])
    assert_array_equal(gb, [0.5, 1.0, 0.0, 0.5])


def test_maximum_of_a_tensor_with_itself_has_unit_gradient():
    x = np.array([-1.0, 0.0, 2.0])
    assert_array_equal(grad(lambda t: engine.maximum(t, t).sum())(x), np.ones(3))


def test_maximum_with_a_scalar_splits_at_the_tie():
    x = np.array([-1.0, 0.0, 2.0])
    assert_array_equal(grad(lambda t: engine.maximum(t, 0.0).sum())(x), [0, 0.5, 1])


def test_relu_gradient_is_zero_at_zero():
    x = np.array([-1.0, 0.0, 2.0, -0.0])
    value, g = value_and_grad(lambda t: engine.relu(t).sum())(x)
    assert value == 2.0
    assert_array_equal(g, [0.0, 0.0, 1.0, 0.0])


def test_power_gradient_for_the_exponent_treats_log_of_zero_as_zero():
    a = np.array([0.0, 2.0])
    b = np.array([2.0, 3.0])
    ga, gb = grad(lambda args: (args[0] ** args[1]).sum())((a, b))
    assert_allclose(ga, [0.0, 12.0])
    assert_allclose(gb, [0.0, 8.0 * np.log(2.0)])


# Plain arrays in, plain arrays out ------------------------------------------------

PLAIN_FUNCTIONS = {
    "exp": (lambda x: engine.exp(x), np.exp),
    "log": (lambda x: engine.log(x), np.log),
    "sqrt": (lambda x: engine.sqrt(x), np.sqrt),
    "square": (lambda x: engine.square(x), np.square),
    "tanh": (lambda x: engine.tanh(x), np.tanh),
    "sigmoid": (lambda x: engine.sigmoid(x), scipy.special.expit),
    "relu": (lambda x: engine.relu(x), lambda x: np.maximum(x, 0)),
    "softplus": (lambda x: engine.softplus(x), lambda x: np.logaddexp(0, x)),
    "log_sigmoid": (lambda x: engine.log_sigmoid(x), scipy.special.log_expit),
    "maximum": (lambda x: engine.maximum(x, 1.0), lambda x: np.maximum(x, 1.0)),
    "where": (lambda x: engine.where(x > 1, x, -x), lambda x: np.where(x > 1, x, -x)),
    "matmul": (lambda x: engine.matmul(x, x.T), lambda x: x @ x.T),
    "sum": (lambda x: engine.sum(x, axis=0), lambda x: np.sum(x, axis=0)),
    "mean": (
        lambda x: engine.mean(x, axis=1, keepdims=True),
        lambda x: np.mean(x, axis=1, keepdims=True),
    ),
    "logsumexp": (
        lambda x: engine.logsumexp(x, axis=1, keepdims=False),
        lambda x: scipy.special.logsumexp(x, axis=1),
    ),
    "softmax": (
        lambda x: engine.softmax(x, axis=0),
        lambda x: scipy.special.softmax(x, axis=0),
    ),
    "log_softmax": (
        lambda x: engine.log_softmax(x, axis=1),
        lambda x: scipy.special.log_softmax(x, axis=1),
    ),
    "reshape": (lambda x: engine.reshape(x, (4, 3)), lambda x: x.reshape(4, 3)),
    "transpose": (lambda x: engine.transpose(x), np.transpose),
    "getitem": (lambda x: engine.getitem(x, [0, 0]), lambda x: x[[0, 0]]),
    "concatenate": (
        lambda x: engine.concatenate([x, x], axis=1),
        lambda x: np.concatenate([x, x], axis=1),
    ),
}


@pytest.mark.parametrize("name", list(PLAIN_FUNCTIONS))
def test_function_on_plain_arrays_returns_plain_array(name):
    fn, reference = PLAIN_FUNCTIONS[name]
    x = np.random.default_rng(4).uniform(0.5, 2.0, (3, 4))
    out = fn(x)
    assert not isinstance(out, Tensor)
    assert_allclose(np.asarray(out), reference(x), rtol=1e-12, atol=1e-15)


# Stability at inputs of magnitude 1e4 ---------------------------------------------

BIG = np.array([[-1e4, -1.0, 0.0, 1.0, 1e4], [-1e4, -1e4, -1e4, -1e4, -1e4]])

# name: (op, reference value, reference gradient of sum(op(x) * w))
STABLE = {
    "sigmoid": (
        engine.sigmoid,
        scipy.special.expit,
        lambda x, w: w * scipy.special.expit(x) * scipy.special.expit(-x),
    ),
    "log_sigmoid": (
        engine.log_sigmoid,
        scipy.special.log_expit,
        lambda x, w: w * scipy.special.expit(-x),
    ),
    "softplus": (
        engine.softplus,
        lambda x: np.logaddexp(0.0, x),
        lambda x, w: w * scipy.special.expit(x),
    ),
    "logsumexp": (
        lambda x: engine.logsumexp(x, axis=1),
        lambda x: scipy.special.logsumexp(x, axis=1),
        lambda x, w: w[:, None] * scipy.special.softmax(x, axis=1),
    ),
    "logsumexp-all": (
        engine.logsumexp,
        scipy.special.logsumexp,
        lambda x, w: w * scipy.special.softmax(x, axis=None),
    ),
    "log_softmax": (
        lambda x: engine.log_softmax(x, axis=1),
        lambda x: scipy.special.log_softmax(x, axis=1),
        lambda x, w: (
            w - scipy.special.softmax(x, axis=1) * w.sum(axis=1, keepdims=True)
        ),
    ),
    "softmax": (
        lambda x: engine.softmax(x, axis=1),
        lambda x: scipy.special.softmax(x, axis=1),
        lambda x, w: (
            (s := scipy.special.softmax(x, axis=1))
            * (w - (w * s).sum(axis=1, keepdims=True))
        ),
    ),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(STABLE))
def test_no_runtime_warning_at_large_inputs(name, dtype):
    fn, ref_value, ref_grad = STABLE[name]
    x = BIG.astype(dtype)
    x64 = BIG.astype(np.float64)
    w = np.asarray(np.linspace(0.5, 1.5, np.size(ref_value(x64))), dtype)
    w = w.reshape(np.shape(ref_value(x64)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = fn(x)
        value, g = value_and_grad(lambda t: (fn(t) * w).sum())(x)
    assert np.all(np.isfinite(plain)) and np.all(np.isfinite(g))
    assert np.asarray(plain).dtype == dtype and g.dtype == dtype
    assert np.isfinite(value)
    rtol, atol = stable_tolerance(dtype, x64)
    assert_allclose(plain, ref_value(x64), rtol=rtol, atol=atol)
    assert_allclose(g, ref_grad(x64, w.astype(np.float64)), rtol=rtol, atol=atol)


def stable_tolerance(dtype, x):
    """Tolerances for the stable functions at inputs ``x``.

    Shifting by the row maximum rounds at the magnitude of ``x``: an absolute
    error of a few ulps of ``max|x|`` in the result and the gradient is expected.
    """
    eps = np.finfo(dtype).eps
    return 16 * eps, 16 * eps * max(1.0, float(np.max(np.abs(x))))


@PROPERTY
@given(
    name=st.sampled_from(list(STABLE)),
    dtype=st.sampled_from(DTYPES),
    x=npst.arrays(np.float64, (2, 5), elements=st.floats(-1e4, 1e4)),
)
def test_stable_functions_are_accurate_over_a_wide_range(name, dtype, x):
    fn, ref_value, ref_grad = STABLE[name]
    x = x.astype(dtype)
    x64 = x.astype(np.float64)
    expected = ref_value(x64)
    w = np.ones(np.shape(expected), dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = np.asarray(fn(x))
        g = grad(lambda t: (fn(t) * w).sum())(x)
    assert value.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(g))
    rtol, atol = stable_tolerance(dtype, x64)
    assert_allclose(value, expected, rtol=rtol, atol=atol)
    assert_allclose(g, ref_grad(x64, w.astype(np.float64)), rtol=rtol, atol=atol)


# Sparse matrices on the left of matmul --------------------------------------------

SPARSE = {
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
}


@pytest.mark.parametrize("w_shape", [(4, 3), (4,)], ids=["2d", "1d"])
@pytest.mark.parametrize("kind", list(SPARSE))
def test_sparse_matmul_gives_dense_gradient(kind, w_shape):
    rng = np.random.default_rng(5)
    dense = rng.standard_normal((6, 4)) * (rng.random((6, 4)) < 0.5)
    x = SPARSE[kind](dense)
    w = rng.standard_normal(w_shape)
    cotangent = rng.standard_normal((6,) + w_shape[1:])
    out = engine.matmul(x, Tensor(w))
    assert isinstance(out, Tensor)
    assert type(out.value) is np.ndarray
    assert_allclose(out.value, dense @ w, rtol=1e-12)
    g = grad(lambda t: (engine.matmul(x, t) * cotangent).sum())(w)
    assert type(g) is np.ndarray
    assert g.shape == w_shape
    assert_allclose(g, dense.T @ cotangent, rtol=1e-12, atol=1e-12)
    check_grad(lambda t: (engine.tanh(engine.matmul(x, t)) * cotangent).sum(), w)


@pytest.mark.parametrize("kind", list(SPARSE))
def test_sparse_matmul_keeps_float32_gradient(kind):
    rng = np.random.default_rng(6)
    dense = rng.standard_normal((5, 4)) * (rng.random((5, 4)) < 0.5)
    x = SPARSE[kind](dense)
    w = rng.standard_normal((4, 2)).astype(np.float32)
    g = grad(lambda t: engine.matmul(x, t).sum())(w)
    assert g.dtype == np.float32
    assert_allclose(g, dense.T @ np.ones((5, 2)), rtol=1e-6, atol=1e-6)
    plain = engine.matmul(x, w)
    assert not isinstance(plain, Tensor)
    assert_allclose(plain, dense @ w, rtol=1e-6, atol=1e-6)


# Property tests: random shapes, broadcasting and values for every op --------------

SMALL_SHAPES = npst.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def _weights(data, shape):
    return draw_array(data, shape, "nonzero")


@PROPERTY
@pytest.mark.parametrize("name", list(UNARY))
@given(shape=SMALL_SHAPES, dtype=st.sampled_from(DTYPES), data=st.data())
def test_unary_op_property(name, shape, dtype, data):
    fn, ref, domain = UNARY[name]
    x = draw_array(data, shape, domain)
    w = _weights(data, shape)
    assert_matches_central_differences(fn, [x], w, dtype)
    assert_allclose(
        np.asarray(fn(x.astype(dtype))),
        ref(x.astype(dtype).astype(np.float64)),
        rtol=1e-12 if dtype == np.float64 else 1e-5,
        atol=1e-12 if dtype == np.float64 else 1e-6,
    )


@PROPERTY
@pytest.mark.parametrize("op", list(BINARY))
@given(
    shapes=npst.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_binary_op_property(op, shapes, dtype, data):
    fn, ref, domain_a, domain_b = BINARY[op]
    (shape_a, shape_b), out_shape = shapes.input_shapes, shapes.result_shape
    a = draw_array(data, shape_a, domain_a)
    b = draw_array(data, shape_b, domain_b)
    w = _weights(data, out_shape)
    assert_matches_central_differences(fn, [a, b], w, dtype)


@PROPERTY
@given(
    shapes=npst.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_where_property(shapes, dtype, data):
    shape_c, shape_x, shape_y = shapes.input_shapes
    cond = data.draw(npst.arrays(np.bool_, shape_c))
    x = draw_array(data, shape_x)
    y = draw_array(data, shape_y)
    w = _weights(data, shapes.result_shape)
    assert_matches_central_differences(
        lambda a, b: engine.where(cond, a, b), [x, y], w, dtype
    )


def _axes(data, ndim):
    """None, an int axis (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return data.draw(st.sampled_from([None, ()]))
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
        lambda axes: tuple(a - ndim if a % 2 else a for a in axes)
    )
    return data.draw(st.one_of(st.none(), one, several))


@PROPERTY
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
@given(
    shape=SMALL_SHAPES,
    keepdims=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_reduction_property(name, shape, keepdims, dtype, data):
    axis = _axes(data, len(shape))
    op = getattr(engine, name)
    x = draw_array(data, shape)

    def fn(t):
        return op(t, axis=axis, keepdims=keepdims)

    reference = {"sum": np.sum, "mean": np.mean, "logsumexp": scipy.special.logsumexp}
    expected = reference[name](x, axis=axis, keepdims=keepdims)
    assert_allclose(np.asarray(fn(x)), expected, rtol=1e-12, atol=1e-12)
    w = _weights(data, np.shape(expected))
    assert_matches_central_differences(fn, [x], w, dtype)


@PROPERTY
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(
    shape=npst.array_shapes(min_dims=1, max_dims=3, max_side=3),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_softmax_property(name, shape, dtype, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = draw_array(data, shape)

    def fn(t):
        return getattr(engine, name)(t, axis=axis)

    expected = getattr(scipy.special, name)(x, axis=axis)
    assert_allclose(np.asarray(fn(x)), expected, rtol=1e-12, atol=1e-12)
    w = _weights(data, shape)
    assert_matches_central_differences(fn, [x], w, dtype)


@PROPERTY
@given(
    batch=npst.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
    n=st.integers(1, 3),
    k=st.integers(1, 3),
    m=st.integers(1, 3),
    vector_a=st.booleans(),
    vector_b=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_matmul_property(batch, n, k, m, vector_a, vector_b, dtype, data):
    batch_a, batch_b = batch.input_shapes
    shape_a = (k,) if vector_a else batch_a + (n, k)
    shape_b = (k,) if vector_b else batch_b + (k, m)
    a = draw_array(data, shape_a)
    b = draw_array(data, shape_b)
    expected = np.matmul(a, b)
    w = _weights(data, np.shape(expected))
    assert_allclose(np.asarray(engine.matmul(a, b)), expected, rtol=1e-12)
    assert_matches_central_differences(engine.matmul, [a, b], w, dtype)


@PROPERTY
@given(shape=SMALL_SHAPES, dtype=st.sampled_from(DTYPES), data=st.data())
def test_reshape_property(shape, dtype, data):
    size = int(np.prod(shape))
    new_shape = data.draw(
        st.sampled_from([(size,), (-1,), shape[::-1], (1,) + shape, shape + (1, 1)])
    )
    x = draw_array(data, shape)
    assert_array_equal(np.asarray(engine.reshape(x, new_shape)), x.reshape(new_shape))
    w = _weights(data, x.reshape(new_shape).shape)
    assert_matches_central_differences(
        lambda t: engine.reshape(t, new_shape), [x], w, dtype
    )


@PROPERTY
@given(shape=SMALL_SHAPES, dtype=st.sampled_from(DTYPES), data=st.data())
def test_transpose_property(shape, dtype, data):
    ndim = len(shape)
    axes = data.draw(
        st.one_of(
            st.none(),
            st.permutations(range(ndim)).flatmap(
                lambda p: st.tuples(
                    *[st.sampled_from([a, a - ndim]) for a in p]
                )  # each axis positive or negative
            ),
        )
    )
    x = draw_array(data, shape)
    expected = np.transpose(x, axes)
    assert_array_equal(np.asarray(engine.transpose(x, axes)), expected)
    w = _weights(data, expected.shape)
    assert_matches_central_differences(
        lambda t: engine.transpose(t, axes), [x], w, dtype
    )


@PROPERTY
@given(
    shape=npst.array_shapes(min_dims=1, max_dims=3, max_side=4),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_getitem_basic_index_property(shape, dtype, data):
    index = data.draw(npst.basic_indices(shape, allow_newaxis=True))
    x = draw_array(data, shape)
    expected = x[index]
    assert_array_equal(np.asarray(engine.getitem(x, index)), expected)
    w = _weights(data, expected.shape)
    assert_matches_central_differences(
        lambda t: engine.getitem(t, index), [x], w, dtype
    )


@PROPERTY
@given(
    shape=npst.array_shapes(min_dims=1, max_dims=3, max_side=4),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_getitem_integer_array_property(shape, dtype, data):
    index = data.draw(
        npst.integer_array_indices(
            shape, result_shape=npst.array_shapes(min_dims=1, max_dims=2, max_side=6)
        )
    )
    x = draw_array(data, shape)
    expected = x[index]
    assert_array_equal(np.asarray(engine.getitem(x, index)), expected)
    w = _weights(data, expected.shape)
    # Scatter-add, computed independently: each output entry adds its weight.
    scatter = np.zeros_like(x)
    for out_idx in np.ndindex(expected.shape):
        scatter[tuple(i[out_idx] for i in index)] += w[out_idx]
    g = grad(lambda t: (engine.getitem(t, index) * w).sum())(x)
    assert_allclose(g, scatter, rtol=1e-12)
    assert_matches_central_differences(
        lambda t: engine.getitem(t, index), [x], w, dtype
    )


@PROPERTY
@given(
    shape=npst.array_shapes(min_dims=1, max_dims=3, max_side=3),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_concatenate_property(shape, sizes, dtype, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    pieces = []
    for size in sizes:
        piece_shape = list(shape)
        piece_shape[axis] = size
        pieces.append(draw_array(data, tuple(piece_shape)))
    expected = np.concatenate(pieces, axis=axis)

    def fn(*arrays):
        return engine.concatenate(list(arrays), axis=axis)

    assert_array_equal(np.asarray(fn(*pieces)), expected)
    w = _weights(data, expected.shape)
    assert_matches_central_differences(fn, pieces, w, dtype)


# One Tensor for every input: f(x, x) -------------------------------------------


def _shared_domain(specs):
    """The most restrictive domain among ``specs`` (the input must suit each)."""
    domains = [domain for _, domain in specs]
    for strict in ("positive", "nonzero", "grid_a"):
        if strict in domains:
            return strict
    return "real"


REPEATED = {
    name: case
    for name, case in CASES.items()
    if len(case[2]) > 1 and len({shape for shape, _ in case[2]}) == 1
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(REPEATED))
def test_one_tensor_for_every_input(name, dtype):
    fn, ref, specs = REPEATED[name]
    rng = np.random.default_rng(7)
    x = make(rng, specs[0][0], _shared_domain(specs), dtype)
    n = len(specs)
    w = output_weights(lambda a: fn(*[a] * n), [x], rng, dtype)
    assert_close_to_autograd(
        lambda a: fn(*[a] * n), lambda a: ref(*[a] * n), [x], w, dtype
    )
    check_grad(weighted(lambda a: fn(*[a] * n), w), x)


def test_binary_op_of_one_tensor_sums_both_partial_derivatives():
    x = np.array([0.5, 2.0])
    assert_allclose(grad(lambda t: (t * t).sum())(x), 2 * x)
    assert_allclose(grad(lambda t: (t / t).sum())(x), [0.0, 0.0], atol=1e-15)
    assert_allclose(grad(lambda t: (t**t).sum())(x), x**x * (np.log(x) + 1))
    assert_array_equal(grad(lambda t: engine.minimum(t, t).sum())(x), [1.0, 1.0])


# Documented rules at kinks and special points ---------------------------------------


def test_power_zero_has_zero_gradient_at_zero():
    # autograd's rule: d/dx x**0 = 0 everywhere, also at 0 (not 0 * 0**-1 = NaN).
    x = np.array([0.0, 0.0, 1.5])
    g = grad(lambda t: (t**0).sum())(x)
    assert_array_equal(g, np.zeros(3))
    g = grad(lambda t: engine.power(t, np.zeros(3)).sum())(x)
    assert_array_equal(g, np.zeros(3))
    assert_array_equal(autograd.grad(lambda t: anp.sum(t**0.0))(x), g)


def test_power_exponent_gradient_is_nan_for_a_negative_base():
    g = grad(lambda b: (np.array([-2.0, 2.0]) ** b).sum())(np.array([2.0, 2.0]))
    assert np.isnan(g[0])
    assert_allclose(g[1], 4.0 * np.log(2.0))


def test_max_and_min_share_the_gradient_among_ties():
    x = np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, -1.0]])
    g = grad(lambda t: engine.max(t))(x)
    assert_allclose(g, [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0, 0, 0]], rtol=1e-15)
    g = grad(lambda t: engine.min(t, axis=1).sum())(x)
    assert_array_equal(g, [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    g = grad(lambda t: engine.max(t, axis=0, keepdims=True).sum())(x)
    assert_array_equal(g, [[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    g = grad(lambda t: engine.min(t, axis=0).sum())(np.array([[0.0, 1.0], [0.0, 2.0]]))
    assert_array_equal(g, [[0.5, 1.0], [0.5, 0.0]])


def test_prod_gradient_is_exact_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 5.0]])
    g = grad(lambda t: engine.prod(t, axis=1).sum())(x)
    # d/dx_j of prod_k x_k is the product of the others: no 0 / 0.
    assert_array_equal(g, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [10.0, 5.0, 2.0]])
    assert_array_equal(grad(lambda t: engine.prod(t))(np.array([0.0, 3.0])), [3, 0])


def test_clip_splits_the_gradient_at_a_bound():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    g = grad(lambda t: engine.clip(t, -1.0, 1.0).sum())(x)
    assert_array_equal(g, [0.5, 1.0, 0.5, 0.0])


def test_abs_and_sign_at_zero():
    x = np.array([-0.0, 0.0, -2.0])
    assert_array_equal(grad(lambda t: engine.abs(t).sum())(x), [0.0, 0.0, -1.0])
    assert_array_equal(grad(lambda t: engine.sign(t).sum())(x), [0.0, 0.0, 0.0])


def test_at_set_refuses_repeated_indices():
    with pytest.raises(ValueError, match="repeated indices"):
        engine.at(Tensor(np.zeros(3)))[[0, 0]].set(1.0)


def test_at_leaves_its_input_unchanged():
    x = np.zeros(3)
    t = Tensor(x)
    y = t.at[1].add(2.0)
    assert_array_equal(x, np.zeros(3))
    assert_array_equal(y.value, [0.0, 2.0, 0.0])


def test_einsum_refuses_to_differentiate_a_diagonal():
    with pytest.raises(NotImplementedError, match="repeated subscripts"):
        engine.einsum("ii->i", Tensor(np.eye(2)))
    assert_array_equal(engine.einsum("ii->i", np.eye(2)), [1.0, 1.0])


@pytest.mark.parametrize("mode", ["edge", "reflect"])
def test_pad_refuses_modes_other_than_constant(mode):
    with pytest.raises(NotImplementedError, match="constant"):
        engine.pad(Tensor(np.ones(2)), 1, mode=mode)


def test_pad_refuses_negative_widths_and_tensor_values():
    with pytest.raises(ValueError, match="negative"):
        engine.pad(np.ones(2), -1)
    with pytest.raises(TypeError, match="constant"):
        engine.pad(np.ones(2), 1, constant_values=Tensor(1.0))


def test_pad_shorthand_is_the_seeds_bias_column():
    x = np.arange(6.0).reshape(3, 2)
    expected = np.pad(x, ((0, 0), (0, 1)), constant_values=1.0, mode="constant")
    assert_array_equal(engine.pad(x), expected)
    t = Tensor(x)
    assert_array_equal(t.pad().value, expected)
    (t.pad() * np.arange(9.0).reshape(3, 3)).sum().backward()
    assert_array_equal(t.grad, np.arange(9.0).reshape(3, 3)[:, :2])


def test_take_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        engine.take(np.ones(3), [0], mode="nearest")


# Stability of the other functions at large inputs ------------------------------------

# name: (op on x, its inputs of magnitude 1e4 (where the function is defined),
#        reference value, reference gradient of sum(op(x)))
LARGE = {
    "logaddexp": (
        lambda x: engine.logaddexp(x, x[::-1]),
        np.array([-1e4, -1.0, 0.0, 1e4, 1e4]),
        lambda x: np.logaddexp(x, x[::-1]),
        lambda x: scipy.special.expit(x - x[::-1]) + scipy.special.expit(x - x[::-1]),
    ),
    "logaddexp-with-zero": (
        lambda x: engine.logaddexp(0.0, x),
        np.array([-1e4, -1.0, 0.0, 1e4]),
        lambda x: np.logaddexp(0.0, x),
        scipy.special.expit,
    ),
    "log1p": (
        engine.log1p,
        np.array([0.0, 1e-10, 1.0, 1e4]),
        np.log1p,
        lambda x: 1.0 / (1.0 + x),
    ),
    "expm1": (
        engine.expm1,
        np.array([-1e4, -1.0, 1e-10, 1.0]),
        np.expm1,
        np.exp,
    ),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(LARGE))
def test_no_runtime_warning_at_large_inputs_of_other_functions(name, dtype):
    fn, x64, ref_value, ref_grad = LARGE[name]
    x = x64.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = fn(x)
        g = grad(lambda t: fn(t).sum())(x)
    assert np.asarray(plain).dtype == dtype and g.dtype == dtype
    rtol, atol = stable_tolerance(dtype, x64)
    assert_allclose(plain, ref_value(x.astype(np.float64)), rtol=rtol, atol=atol)
    assert_allclose(g, ref_grad(x.astype(np.float64)), rtol=rtol, atol=atol)


# Plain arrays in, plain arrays out: the other functions ------------------------------

MORE_PLAIN = {
    "abs": (engine.abs, np.abs),
    "sign": (engine.sign, np.sign),
    "sin": (engine.sin, np.sin),
    "cos": (engine.cos, np.cos),
    "log1p": (engine.log1p, np.log1p),
    "expm1": (engine.expm1, np.expm1),
    "minimum": (lambda x: engine.minimum(x, 1.0), lambda x: np.minimum(x, 1.0)),
    "logaddexp": (
        lambda x: engine.logaddexp(x, x.T[:3, :1]),
        lambda x: np.logaddexp(x, x.T[:3, :1]),
    ),
    "clip": (lambda x: engine.clip(x, 0.7, 1.5), lambda x: np.clip(x, 0.7, 1.5)),
    "max": (lambda x: engine.max(x, axis=1), lambda x: np.max(x, axis=1)),
    "min": (engine.min, np.min),
    "prod": (lambda x: engine.prod(x, axis=0), lambda x: np.prod(x, axis=0)),
    "var": (lambda x: engine.var(x, ddof=1), lambda x: np.var(x, ddof=1)),
    "std": (lambda x: engine.std(x, axis=0), lambda x: np.std(x, axis=0)),
    "cumsum": (lambda x: engine.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1)),
    "squeeze": (lambda x: engine.squeeze(x[None]), lambda x: np.squeeze(x[None])),
    "expand_dims": (lambda x: engine.expand_dims(x, 1), lambda x: np.expand_dims(x, 1)),
    "stack": (lambda x: engine.stack([x, x]), lambda x: np.stack([x, x])),
    "hstack": (lambda x: engine.hstack([x, x]), lambda x: np.hstack([x, x])),
    "vstack": (lambda x: engine.vstack([x, x]), lambda x: np.vstack([x, x])),
    "dot": (lambda x: engine.dot(x, x.T), lambda x: np.dot(x, x.T)),
    "outer": (lambda x: engine.outer(x[0], x[1]), lambda x: np.outer(x[0], x[1])),
    "tensordot": (lambda x: engine.tensordot(x, x, 2), lambda x: np.tensordot(x, x, 2)),
    "einsum": (
        lambda x: engine.einsum("ij,kj", x, x),
        lambda x: np.einsum("ij,kj", x, x),
    ),
    "pad": (lambda x: engine.pad(x, 1), lambda x: np.pad(x, 1)),
    "take": (
        lambda x: engine.take(x, [1, 1], axis=1),
        lambda x: np.take(x, [1, 1], axis=1),
    ),
    "at": (
        lambda x: engine.at(x)[0].set(0.0),
        lambda x: np.concatenate([[np.zeros(4)], x[1:]]),
    ),
}


@pytest.mark.parametrize("name", list(MORE_PLAIN))
def test_other_functions_on_plain_arrays_return_plain_arrays(name):
    fn, reference = MORE_PLAIN[name]
    x = np.random.default_rng(8).uniform(0.5, 2.0, (3, 4))
    out = fn(x)
    assert not isinstance(out, Tensor)
    assert_allclose(np.asarray(out), reference(x), rtol=1e-12, atol=1e-15)


# Tensor methods are the functions ----------------------------------------------------

METHODS = {
    "exp": {},
    "log": {},
    "log1p": {},
    "expm1": {},
    "sqrt": {},
    "square": {},
    "abs": {},
    "sign": {},
    "sin": {},
    "cos": {},
    "tanh": {},
    "sigmoid": {},
    "relu": {},
    "softplus": {},
    "log_sigmoid": {},
    "sum": {"axis": 0},
    "mean": {"axis": 1, "keepdims": True},
    "max": {"axis": 1},
    "min": {},
    "prod": {"axis": 0},
    "var": {"ddof": 1},
    "std": {"axis": 0},
    "cumsum": {"axis": 1},
    "logsumexp": {"axis": 0},
    "softmax": {"axis": 0},
    "log_softmax": {},
    "clip": {"a_min": 0.8, "a_max": 1.2},
    "pad": {"pad_width": 1},
    "take": {"indices": [0, 2]},
    "squeeze": {},
    "ravel": {},
}


@pytest.mark.parametrize("name", list(METHODS))
def test_methods_run_the_engine_functions(name):
    x = np.random.default_rng(9).uniform(0.5, 2.0, (3, 4))
    kwargs = METHODS[name]
    t = Tensor(x)
    out = getattr(t, name)(**kwargs)
    expected = getattr(engine, name)(x, **kwargs)
    assert isinstance(out, Tensor)
    assert_allclose(out.value, expected, rtol=1e-15)
    w = np.random.default_rng(10).standard_normal(out.shape)
    (out * w).sum().backward()
    assert_allclose(
        t.grad, grad(lambda a: (getattr(engine, name)(a, **kwargs) * w).sum())(x)
    )


def test_shape_and_product_methods():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    t = Tensor(x)
    assert_array_equal(t.reshape(3, 2).value, x.reshape(3, 2))
    assert_array_equal(t.transpose().value, x.T)
    assert_array_equal(t.T.value, x.T)
    assert_array_equal(t.flatten().value, x.ravel())
    assert_array_equal(t.swapaxes(0, 1).value, x.T)
    assert_array_equal(t.matmul(x.T).value, x @ x.T)
    assert_array_equal(t.dot(np.ones(3)).value, x.sum(axis=1))
    assert_array_equal(t.at[0, 0].set(9.0).value, [[9.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


@PROPERTY
@pytest.mark.parametrize("name", ["max", "min", "prod"])
@given(
    shape=SMALL_SHAPES,
    keepdims=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_extreme_and_product_reduction_property(name, shape, keepdims, dtype, data):
    axis = _axes(data, len(shape))
    # Values at least 1e-3 apart: away from ties, where central differences
    # see a kink.
    grid = st.integers(0, 1000).map(lambda k: 0.5 + k / 1000)
    x = data.draw(npst.arrays(np.float64, shape, elements=grid, unique=True))
    op = getattr(engine, name)

    def fn(t):
        return op(t, axis=axis, keepdims=keepdims)

    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert_allclose(np.asarray(fn(x)), expected, rtol=1e-12)
    w = _weights(data, np.shape(expected))
    assert_matches_central_differences(fn, [x], w, dtype)


@PROPERTY
@given(shape=SMALL_SHAPES, dtype=st.sampled_from(DTYPES), data=st.data())
def test_cumsum_var_std_property(shape, dtype, data):
    x = draw_array(data, shape)
    ndim = len(shape)
    axis = (
        data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    )
    assert_allclose(np.asarray(engine.cumsum(x, axis=axis)), np.cumsum(x, axis=axis))
    w = _weights(data, np.cumsum(x, axis=axis).shape)
    assert_matches_central_differences(
        lambda t: engine.cumsum(t, axis=axis), [x], w, dtype
    )
    if np.size(x) > 1:
        x = x + np.linspace(0.0, 1.0, np.size(x)).reshape(shape)  # some spread
        w = _weights(data, np.var(x, axis=axis).shape)
        for name in ("var", "std"):
            op = getattr(engine, name)
            assert_allclose(
                np.asarray(op(x, axis=axis)), getattr(np, name)(x, axis=axis)
            )
            if name == "std" and np.any(np.var(x, axis=axis) < 1e-3):
                continue  # the square root's derivative is huge near zero spread
            assert_matches_central_differences(
                lambda t, op=op: op(t, axis=axis), [x], w, dtype
            )


@PROPERTY
@given(
    shapes=npst.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=1, max_dims=3, max_side=3
    ),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_dot_and_einsum_property(shapes, dtype, data):
    shape_a, shape_b = shapes.input_shapes
    k = data.draw(st.integers(1, 3))
    a = draw_array(data, shape_a + (k,))
    b = draw_array(data, shape_b + (k,))
    expected = np.einsum("...i,...i->...", a, b)
    fn = lambda s, t: engine.einsum("...i,...i->...", s, t)  # noqa: E731
    assert_allclose(np.asarray(fn(a, b)), expected, rtol=1e-12, atol=1e-12)
    w = _weights(data, expected.shape)
    assert_matches_central_differences(fn, [a, b], w, dtype)
    d = draw_array(data, (k, 2))
    assert_allclose(np.asarray(engine.dot(a, d)), np.dot(a, d), rtol=1e-12, atol=1e-12)
    w = _weights(data, np.dot(a, d).shape)
    assert_matches_central_differences(engine.dot, [a, d], w, dtype)


@PROPERTY
@given(
    shape=npst.array_shapes(min_dims=1, max_dims=3, max_side=3),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_pad_and_at_property(shape, dtype, data):
    x = draw_array(data, shape)
    widths = [data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in shape]
    expected = np.pad(x, widths, constant_values=0.5)
    assert_array_equal(np.asarray(engine.pad(x, widths, constant_values=0.5)), expected)
    w = _weights(data, expected.shape)
    assert_matches_central_differences(
        lambda t: engine.pad(t, widths, constant_values=0.5), [x], w, dtype
    )
    index = data.draw(npst.basic_indices(shape))
    v = draw_array(data, x[index].shape)
    y = x.copy()
    y[index] = v
    assert_array_equal(np.asarray(engine.at(x)[index].set(v)), y)
    w = _weights(data, shape)
    assert_matches_central_differences(
        lambda t, u: engine.at(t)[index].set(u), [x, v], w, dtype
    )
    assert_matches_central_differences(
        lambda t, u: engine.at(t)[index].add(u), [x, v], w, dtype
    )


# Python lists and tuples as operands: converted as NumPy converts them ---------------

T23 = np.arange(1.0, 7.0).reshape(2, 3)

# name: (function of the Tensor, the same with the list as an array)
LIST_OPERANDS = {
    "list @ T": (lambda t: [1.0, 2.0] @ t, lambda t: np.array([1.0, 2.0]) @ t),
    "T @ nested list": (
        lambda t: t @ [[1], [2], [3]],
        lambda t: t @ np.array([[1], [2], [3]]),
    ),
    "np.dot(T, nested list)": (
        lambda t: np.dot(t, [[1.0], [2.0], [3.0]]),
        lambda t: np.dot(t, np.array([[1.0], [2.0], [3.0]])),
    ),
    "T ** list": (lambda t: t ** [2, 2, 2], lambda t: t ** np.array([2, 2, 2])),
    "list ** T": (
        lambda t: [2.0, 2.0, 2.0] ** (t / 4),
        lambda t: np.array([2.0, 2.0, 2.0]) ** (t / 4),
    ),
    "T ** tuple": (lambda t: t ** (2, 3, 1), lambda t: t ** np.array([2, 3, 1])),
    "T + list": (lambda t: t + [1.0, 2.0, 3.0], lambda t: t + np.array([1, 2, 3.0])),
    "list - T": (lambda t: [[1.0], [2.0]] - t, lambda t: np.array([[1.0], [2.0]]) - t),
    "T * tuple": (lambda t: t * (2.0, 3.0, 4.0), lambda t: t * np.array([2, 3, 4.0])),
    "list / T": (lambda t: [1.0, 2.0, 3.0] / t, lambda t: np.array([1, 2, 3.0]) / t),
    "maximum(T, list)": (
        lambda t: engine.maximum(t, [2.0, 0.0, 9.0]),
        lambda t: engine.maximum(t, np.array([2.0, 0.0, 9.0])),
    ),
    "where(mask, list, T)": (
        lambda t: engine.where(T23 > 2, [0.5, 0.5, 0.5], t),
        lambda t: engine.where(T23 > 2, np.full(3, 0.5), t),
    ),
    "at[...].set(list)": (
        lambda t: engine.at(t)[0, [0, 1]].set([5.0, 6.0]),
        lambda t: engine.at(t)[0, [0, 1]].set(np.array([5.0, 6.0])),
    ),
    "at[...].add(list)": (
        lambda t: engine.at(t)[:, 0].add([5.0, 6.0]),
        lambda t: engine.at(t)[:, 0].add(np.array([5.0, 6.0])),
    ),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(LIST_OPERANDS))
def test_lists_as_operands_are_the_arrays_numpy_makes(name, dtype):
    with_list, with_array = LIST_OPERANDS[name]
    x = T23.astype(dtype)
    out, expected = with_list(Tensor(x)), with_array(Tensor(x))
    assert out.dtype == expected.dtype and out.shape == expected.shape
    assert_array_equal(out.value, expected.value)
    w = np.random.default_rng(11).standard_normal(out.shape)
    ours = grad(lambda t: (with_list(t) * w).sum())(x)
    assert ours.dtype == dtype
    assert_array_equal(ours, grad(lambda t: (with_array(t) * w).sum())(x))
    if dtype == np.float64:
        check_grad(lambda t: (with_list(t) * w).sum(), x)


def test_list_operands_follow_numpys_dtype_rules():
    t32 = Tensor(np.ones(2, np.float32))
    # A list is an array of NumPy's default dtype, not a weak Python scalar.
    assert (t32 * [1.5, 2.5]).dtype == (np.ones(2, np.float32) * [1.5, 2.5]).dtype
    assert (t32 ** [2, 2]).dtype == (np.ones(2, np.float32) ** [2, 2]).dtype
    assert (t32 * 1.5).dtype == np.float32


def test_a_list_holding_tensors_is_refused_as_an_operand():
    t = Tensor(np.ones(2))
    with pytest.raises(TypeError, match="np.stack"):
        t + [t, t]


# Empty axes ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((3, 0), 1), ((0,), None)])
def test_prod_over_an_empty_axis_is_one_with_a_zero_gradient(shape, axis, dtype):
    x = np.ones(shape, dtype)
    out = np.prod(Tensor(x), axis=axis)
    assert_array_equal(out.value, np.prod(x, axis=axis))
    g = grad(lambda t: (np.prod(t, axis=axis) * 2.0).sum())(x)
    assert g.shape == shape and g.dtype == dtype


def test_mean_over_an_empty_axis_warns_as_numpy_and_has_an_empty_gradient():
    x = np.ones((0, 3))
    with pytest.warns(RuntimeWarning):
        expected = np.mean(x, axis=0)
    with pytest.warns(RuntimeWarning):
        out = engine.mean(Tensor(x), axis=0)
    assert_array_equal(out.value, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the forward's NaN
        t = Tensor(x)
        out = engine.mean(t, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the backward warns of nothing
        out.backward(np.ones(3))
    assert t.grad.shape == (0, 3)


# float16: NumPy's mean and spreads accumulate in float32 ------------------------------


@pytest.mark.parametrize("name", ["mean", "var", "std"])
def test_float16_mean_and_spread_of_many_values_accumulate_in_float32(name):
    # 70,000 > 65,504, the largest float16: neither the count nor the sum may
    # overflow. NumPy's mean accumulates in float32 (its var and std do not,
    # and overflow with a RuntimeWarning): the engine computes all three so.
    x = np.random.default_rng(12).uniform(0.5, 1.5, 70_000).astype(np.float16)
    op = getattr(np, name)
    out = op(Tensor(x))
    assert out.dtype == np.float16
    assert_allclose(out.value, op(x.astype(np.float64)), rtol=1e-3)
    if name == "mean":
        assert_array_equal(out.value, op(x))
    g = grad(lambda t: op(t))(x)
    assert g.dtype == np.float16 and np.all(np.isfinite(g))
    reference = autograd.grad(lambda a: getattr(anp, name)(a))(x.astype(np.float64))
    # float16 gradients near 1e-5 are subnormal: 0.1% of their size, 6e-8 apart
    assert_allclose(g, reference, rtol=1e-2, atol=6e-8)
    assert np.all(g != 0) if name == "mean" else np.any(g != 0)


def test_float16_mean_over_an_axis_keeps_float16():
    x = np.ones((2, 70_000), np.float16)
    out = engine.mean(Tensor(x), axis=1, keepdims=True)
    assert out.dtype == np.float16 and out.shape == (2, 1)
    assert_array_equal(out.value, np.mean(x, axis=1, keepdims=True))


# std where the spread is zero ---------------------------------------------------------


def test_std_gradient_at_zero_spread_is_zero():
    # One entry per axis: std is constantly 0, so its gradient is exactly 0
    # (finite differences agree); several equal entries: the subgradient 0.
    x = np.array([[1.0, 2.0, 3.0]])
    g = grad(lambda t: engine.std(t, axis=0).sum())(x)
    assert_array_equal(g, np.zeros_like(x))
    check_grad(lambda t: engine.std(t, axis=0).sum(), x)
    assert_array_equal(grad(lambda t: np.std(t))(np.full(4, 2.5)), np.zeros(4))
    assert_array_equal(grad(lambda t: t.std(ddof=1))(np.full(3, -1.0)), np.zeros(3))
    # Elsewhere the gradient is std's.
    y = np.array([1.0, 2.0, 4.0])
    assert_allclose(grad(engine.std)(y), autograd.grad(anp.std)(y), rtol=1e-14)


# Reductions' axes: a list works wherever a tuple does ---------------------------------


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax", "sum", "max"])
def test_a_list_axis_is_the_tuple_axis(name):
    x = np.random.default_rng(13).standard_normal((2, 3, 4))
    op = getattr(engine, name)
    out = op(Tensor(x), axis=[0, 2])
    assert_array_equal(out.value, op(Tensor(x), axis=(0, 2)).value)
    w = np.random.default_rng(14).standard_normal(out.shape)
    assert_array_equal(
        grad(lambda t: (op(t, axis=[0, 2]) * w).sum())(x),
        grad(lambda t: (op(t, axis=(0, 2)) * w).sum())(x),
    )


# Indexed updates keep the target's dtype, as NumPy's assignment does ------------------


@pytest.mark.parametrize(
    "update",
    [
        lambda t: t.at[0].set(np.float64(1.0)),
        lambda t: t.at[:2].set(np.ones(2)),
        lambda t: t.at[:2].add(np.ones(2)),
        lambda t: t.at[[0, 0]].add(np.ones(2)),
        lambda t: t.at[[0, 2]].set(np.ones(2, np.float64)),
        lambda t: engine.at(t)[1].set(Tensor(np.array(3.0))),
    ],
)
def test_indexed_updates_keep_the_targets_dtype(update):
    x = np.zeros(3, np.float32)
    out = update(Tensor(x))
    assert out.dtype == np.float32
    assert grad(lambda t: update(t).sum())(x).dtype == np.float32


def test_indexed_update_values_get_their_own_dtype_and_shape():
    x = np.zeros((3, 2), np.float32)
    v = np.ones((1, 2))  # assignment drops the leading axis of length one
    gx, gv = grad(lambda a, b: (a.at[0].set(b) * 3.0).sum(), argnum=(0, 1))(x, v)
    assert gx.dtype == np.float32 and gv.dtype == np.float64 and gv.shape == (1, 2)
    assert_array_equal(gv, [[3.0, 3.0]])
    assert_array_equal(gx, [[0.0, 0.0], [3.0, 3.0], [3.0, 3.0]])
    gv = grad(lambda b: engine.at(x)[0:2].set(b).sum())(v)
    assert_array_equal(gv, [[2.0, 2.0]])


# Casts and copies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, target",
    [(np.float64, np.float32), (np.float32, np.float64), (np.float32, np.float16)],
)
def test_astype_casts_between_floats_with_the_gradient_cast_back(source, target):
    x = np.array([1.5, -2.25, 3.0], source)
    out = Tensor(x).astype(target)
    assert out.dtype == target
    assert_array_equal(out.value, x.astype(target))
    g = grad(lambda t: (t.astype(target) * np.arange(3.0)).sum())(x)
    assert g.dtype == source
    assert_array_equal(g, np.arange(3.0).astype(target).astype(source))
    assert_array_equal(engine.astype(x, target), x.astype(target))


def test_astype_to_its_own_dtype_is_the_tensor():
    t = Tensor(np.ones(2))
    assert t.astype(np.float64) is t and t.astype(float, copy=False) is t


@pytest.mark.parametrize("dtype", [int, np.int32, bool, np.complex128])
def test_astype_to_a_non_float_dtype_is_refused_naming_the_alternatives(dtype):
    with pytest.raises(TypeError) as info:
        Tensor(np.ones(2)).astype(dtype)
    for hint in ("(t > 0).astype(t.dtype)", "t.value.astype"):
        assert hint in str(info.value)
    assert engine.astype(np.array([1.5]), dtype).dtype == dtype  # arrays: NumPy's


def test_copy_is_a_new_tensor_with_its_own_data_and_the_same_gradient():
    x = np.array([1.0, 2.0])
    t = Tensor(x)
    c = t.copy()
    assert isinstance(c, Tensor) and c is not t
    assert not np.shares_memory(c.value, x)
    assert_array_equal(c.value, x)
    (c * c).sum().backward()
    assert_array_equal(t.grad, 2 * x)
    assert_array_equal(grad(lambda a: np.copy(a).sum())(x), np.ones(2))


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: engine.add([1.0], [2.0]), [3.0]),  # was the list [1.0, 2.0]
        (lambda: engine.multiply([1.0, 2.0], 3), [3.0, 6.0]),  # was a TypeError
        (lambda: engine.subtract((5.0,), [1.0]), [4.0]),
        (lambda: engine.negative([1.0, -2.0]), [-1.0, 2.0]),
        (lambda: engine.power([2.0], (3,)), [8.0]),
        (lambda: engine.multiply([2.0], np.float64(1.5)), [3.0]),
    ],
)
def test_lists_given_to_engine_functions_without_tensors_are_numpys_arrays(
    call, expected
):
    out = call()
    assert type(out) is np.ndarray
    assert_array_equal(out, expected)


# Found by the differential test (tests/engine/test_differential.py) ------------------


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("x, ddof", [(np.array([1.0, 2.0]), 3), (np.zeros(0), 1)])
def test_spread_with_no_degrees_of_freedom_is_numpys_inf_or_nan(name, x, ddof):
    # It was a negative variance (a division by n - ddof < 0), or -0.
    results = []
    for compute, arg in ((getattr(np, name), x), (getattr(engine, name), Tensor(x))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(compute(arg, ddof=ddof))
        messages = [str(w.message) for w in caught]
        assert "Degrees of freedom <= 0 for slice" in messages, messages
    expected, out = results
    assert_array_equal(out.value, expected)


def test_tensordot_of_empty_operands():
    a, b = np.ones((0, 3)), np.ones((3, 2))
    out = engine.tensordot(Tensor(a), b, axes=1)
    assert_array_equal(out.value, np.tensordot(a, b, axes=1))
    assert grad(lambda t: np.tensordot(t, b, axes=1).sum())(a).shape == (0, 3)
    assert_array_equal(
        grad(lambda t: np.tensordot(a, t, axes=1).sum())(b), np.zeros((3, 2))
    )


def test_take_with_an_empty_index_list():
    x = np.arange(3.0)
    assert_array_equal(engine.take(Tensor(x), []).value, np.take(x, []))
    assert_array_equal(grad(lambda t: np.take(t, [], axis=0).sum())(x), np.zeros(3))


@pytest.mark.parametrize(
    "name", ["sum", "mean", "max", "min", "prod", "logsumexp", "softmax"]
)
@pytest.mark.parametrize("axis", [0, -1])
def test_an_int_axis_of_a_0d_input_as_numpys_reductions_take_it(name, axis):
    x = np.array(0.7)
    op = getattr(engine, name)
    out = op(Tensor(x), axis=axis)
    if hasattr(np, name) and name != "mean":  # np.mean refuses what np.sum takes
        assert_allclose(out.value, getattr(np, name)(x, axis=axis))
    assert out.shape == ()
    g = grad(lambda t: op(t, axis=axis))(x)  # its backward raised AxisError
    expected = {"prod": 1.0, "softmax": 0.0}.get(name, 1.0)
    assert_allclose(g, 0.0 if name == "softmax" else expected, atol=1e-15)


def test_an_indexed_add_rounds_alike_with_and_without_tensors():
    # The values are cast to the target's dtype, then added: the same bits
    # whether the target is a Tensor (the engine's path) or an array (a trace
    # replaying it); np.add.at added a Python float in float64 first.
    x = np.array([0.7, 0.2], np.float32)
    index = (np.array([0]),)
    with_tensor = engine.at(Tensor(x))[index].add(-0.45898080726).value
    without = engine.at(x)[index].add(-0.45898080726)
    assert with_tensor.dtype == without.dtype == np.float32
    assert_array_equal(with_tensor, without)
    assert_array_equal(with_tensor, x + np.array([-0.45898080726, 0.0], np.float32))
    record = engine.trace(lambda t: engine.at(t)[index].add(-0.45898080726), x)
    assert_array_equal(record.run(x), with_tensor)


def test_reshape_and_transpose_methods_take_what_numpy_takes():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="reshape"):
        t.reshape()  # NumPy: reshape() takes exactly 1 argument (was t itself)
    for axes in (np.array([1, 0]), [1, 0], (1, 0)):  # an array was refused
        assert_array_equal(t.transpose(axes).value, t.value.transpose(axes))
    assert_array_equal(t.transpose().value, t.value.T)
    assert_array_equal(t.reshape(np.array([3, 2])).value, t.value.reshape(3, 2))
    g = grad(
        lambda a: (a.transpose(np.array([1, 0])) * np.arange(6.0).reshape(3, 2)).sum()
    )
    assert_array_equal(g(t.value), np.arange(6.0).reshape(3, 2).T)
