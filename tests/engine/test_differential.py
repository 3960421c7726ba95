"""A standing differential test of the engine against HIPS autograd and NumPy.

Hypothesis draws random programs: chains of the engine's operations on one
input of a random shape (0-d, size-1 and empty axes included) and dtype
(float32 or float64), each operation called in one of its forms (a NumPy or
SciPy function on the Tensor, an engine function, a method, an operator), with
random axes and keepdims, and constants of every kind on either side (Python
scalars, lists, NumPy scalars, float32 and float64 arrays of shapes that
broadcast either way). Each program runs

* on plain NumPy arrays, written with ``autograd.numpy``: the reference value,
  shape and dtype (NumPy's own);
* under ``autograd.grad``: the reference gradient of ``sum(program(x) * w)``
  (central finite differences where autograd fails, as it does on a few
  shapes, or gives NaN for the finite derivative of a finite function);
* on Tensors, with the gradient from a randomly chosen path: ``grad``,
  ``value_and_grad``, ``vjp``, ``elementwise_grad`` or ``Tensor.backward``.

Required: the same shape, dtype, value and gradient within the dtype's
tolerance, or a refusal where NumPy refuses; a Tensor result, never an object
array; no RuntimeWarning where NumPy and autograd give none; and
``engine.trace(program, x).run(x2)`` equal to ``program(x2)`` for a second
input (or a TraceError). At points where a function is not differentiable the
reference follows the engine's documented rules (ties of maximum share the
gradient, std's gradient is 0 at zero spread, relu's is 0 at 0), and the
programs keep the inputs of log, sqrt, division and power in their domains.
Where a value is NaN or infinite, only the finite derivatives are compared
(``0 * NaN`` from a branch ``where`` did not take may or may not reach x).

The number of programs comes from the Hypothesis profile (``tests/conftest.py``):
``SKVGRAD_HYPOTHESIS_PROFILE=long`` runs many more than CI's default.
"""

import re
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import autograd
import autograd.numpy as anp
import autograd.scipy.special as asp
import hypothesis.extra.numpy as npst
import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.special
from hypothesis import event, given, note, settings

from skvgrad import engine
from skvgrad.engine import Tensor, TraceError

TOLERANCE = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 2e-3}
"""Relative tolerance, also taken relative to the largest magnitude compared."""


class Step(NamedTuple):
    """One operation of a program: the engine's call and autograd's."""

    text: str  # how the engine's call is written, for the failure report
    ours: Callable[[list], Any]  # pool of values (Tensors) -> new value
    ref: Callable[[list], Any]  # pool of values (arrays or autograd boxes)


# Drawing constants --------------------------------------------------------------------


def _values(data, shape, dtype, low=-2.0, high=2.0, away_from_zero=False):
    """A float array of ``shape``: continuous values from a drawn seed.

    The seed is combined with the number of arrays drawn so far in this
    example: two draws of one seed (Hypothesis favours 0) never give equal
    values, which would put a comparison or a maximum exactly at its tie.
    """
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    data.arrays_drawn = getattr(data, "arrays_drawn", 0) + 1
    rng = np.random.default_rng([seed, data.arrays_drawn])
    values = rng.uniform(low, high, shape)
    if away_from_zero:
        values = np.sign(values + (values == 0)) * (0.5 + np.abs(values))
    return values.astype(dtype)


def _constant(data, shape, away_from_zero=False, positive=False):
    """A constant operand that broadcasts with ``shape``, in a drawn form.

    Returns ``(ours, ref, text)``: the operand as the engine gets it (a Python
    number, a list, a NumPy scalar or an array) and as NumPy gets it.
    """
    kind = data.draw(
        st.sampled_from(["float", "int", "numpy scalar", "array", "list", "0-d"]),
        label="constant kind",
    )
    low, high = (0.5, 2.0) if positive else (-2.0, 2.0)
    if kind == "float":
        value = float(_values(data, (), np.float64, low, high, away_from_zero))
        return value, value, repr(value)
    if kind == "int":
        value = data.draw(st.sampled_from([1, 2, 3] if positive else [-2, -1, 1, 2]))
        return value, value, repr(value)
    dtype = data.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    if kind == "numpy scalar":
        value = dtype(_values(data, (), np.float64, low, high, away_from_zero))
        return value, value, f"np.{np.dtype(dtype).name}({value})"
    if kind == "0-d":
        array = _values(data, (), dtype, low, high, away_from_zero)
        return array, array, f"array({array}, {np.dtype(dtype).name})"
    cshape = data.draw(
        npst.broadcastable_shapes(shape, min_dims=0, max_dims=3, max_side=3),
        label="constant shape",
    )
    array = _values(data, cshape, dtype, low, high, away_from_zero)
    if kind == "list":  # NumPy's array of it (a list loses empty axes' shape)
        listed = array.tolist()  # a Python float for a 0-d array
        return listed, _as_numpy_takes(listed), f"list{cshape}"
    return array, array, f"array{cshape}({np.dtype(dtype).name})"


def _axis(data, ndim, allow_none=True, several=True):
    """A random ``axis``: None, an int, or a tuple or list of distinct axes."""
    choices = (["none"] if allow_none else []) + (["int"] if ndim else [])
    if several:
        choices += ["tuple", "list"]
    if not choices:
        return None
    kind = data.draw(st.sampled_from(choices), label="axis kind")
    if kind == "none":
        return None
    if kind == "int":
        return data.draw(st.integers(-ndim, ndim - 1), label="axis")
    axes = data.draw(st.permutations(range(ndim)), label="axes")
    axes = axes[: data.draw(st.integers(0, ndim), label="n axes")]
    axes = [a - ndim if data.draw(st.booleans()) else a for a in axes]
    return tuple(axes) if kind == "tuple" else list(axes)


def _form(data, forms):
    """One of the ways to write an operation: ``{label: callable}``."""
    label = data.draw(st.sampled_from(sorted(forms)), label="form")
    return label, forms[label]


# Operations ---------------------------------------------------------------------------


def _all(v, predicate):
    """Whether every entry of ``v`` is finite and satisfies ``predicate``."""
    v = np.asarray(v)
    return bool(np.all(np.isfinite(v)) and np.all(predicate(v)))


def _relu_ref(u):
    return anp.where(u > 0, u, u * 0.0)  # NaN stays NaN, as in maximum(u, 0)


# name: (domain check on the current value or None, NumPy/SciPy function or
#        None, whether Tensors have the method, autograd reference)
UNARY = {
    "exp": (lambda v: _all(v, lambda a: a < 5), np.exp, True, anp.exp),
    "expm1": (lambda v: _all(v, lambda a: a < 5), np.expm1, True, anp.expm1),
    "log": (lambda v: _all(v, lambda a: a > 0.05), np.log, True, anp.log),
    "log1p": (lambda v: _all(v, lambda a: a > -0.9), np.log1p, True, anp.log1p),
    "sqrt": (lambda v: _all(v, lambda a: a > 0.05), np.sqrt, True, anp.sqrt),
    "square": (
        lambda v: _all(v, lambda a: np.abs(a) < 1e3),
        np.square,
        True,
        anp.square,
    ),
    "abs": (None, np.abs, True, anp.abs),
    "sign": (None, np.sign, True, anp.sign),
    "sin": (None, np.sin, True, anp.sin),
    "cos": (None, np.cos, True, anp.cos),
    "tanh": (None, np.tanh, True, anp.tanh),
    "sigmoid": (None, scipy.special.expit, True, asp.expit),
    "log_sigmoid": (
        None,
        scipy.special.log_expit,
        True,
        lambda u: -anp.logaddexp(0.0, -u),
    ),
    "softplus": (None, None, True, lambda u: anp.logaddexp(0.0, u)),
    "relu": (None, None, True, _relu_ref),
    "negative": (None, np.negative, False, anp.negative),
    "reciprocal": (
        lambda v: _all(v, lambda a: np.abs(a) > 0.05),
        np.reciprocal,
        False,
        anp.reciprocal,
    ),
}


def _unary(data, v):
    applicable = [n for n, spec in UNARY.items() if spec[0] is None or spec[0](v)]
    name = data.draw(st.sampled_from(applicable), label="unary")
    _, function, method, ref = UNARY[name]
    forms = {}
    if hasattr(engine, name):
        forms["engine"] = getattr(engine, name)
    if name == "negative":
        forms["operator -"] = lambda t: -t
    if name == "reciprocal":
        forms["operator /"] = lambda t: 1 / t
    if function is not None:
        module = getattr(function, "__module__", None) or "numpy"
        forms[f"{module}.{function.__name__}"] = function
    if method:
        forms["method"] = lambda t: getattr(t, name)()
    if name == "abs":
        forms["builtin abs"] = abs
    return _on_v(data, name, forms, ref)


BINARY = {
    "add": ("+", np.add, anp.add),
    "subtract": ("-", np.subtract, anp.subtract),
    "multiply": ("*", np.multiply, anp.multiply),
    "divide": ("/", np.divide, anp.divide),
    "power": ("**", np.power, anp.power),
    "maximum": (None, np.maximum, anp.maximum),
    "minimum": (None, np.minimum, anp.minimum),
    "logaddexp": (None, np.logaddexp, anp.logaddexp),
}

_OPERATORS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def _broadcasts(*shapes):
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


class Operand(NamedTuple):
    """The other operand of a binary operation."""

    ours: Callable[[list], Any]
    ref: Callable[[list], Any]
    text: str
    plain: Any  # its value, for the domain checks


def _operand(data, v, pool, **constant_options):
    """An earlier value of the program that broadcasts with ``v``, or a constant."""
    earlier = [i for i, u in enumerate(pool) if _broadcasts(np.shape(u), np.shape(v))]
    if earlier and data.draw(st.booleans(), label="operand from the program"):
        j = data.draw(st.sampled_from(earlier), label="value")
        return Operand(lambda p: p[j], lambda p: p[j], f"value {j}", pool[j])
    ours, ref, text = _constant(data, np.shape(v), **constant_options)
    return Operand(lambda p: ours, lambda p: ref, text, np.asarray(ref))


def _binary(data, v, pool):
    """``v op other`` or ``other op v``; other a constant or an earlier value."""
    name = data.draw(st.sampled_from(sorted(BINARY)), label="binary")
    v_first = data.draw(st.booleans(), label="v first")
    other = _operand(
        data,
        v,
        pool,
        away_from_zero=name == "divide" and v_first,
        positive=name == "power" and not v_first,
    )
    left, right = (v, other.plain) if v_first else (other.plain, v)
    # Domains: a denominator away from 0, a positive base and a moderate
    # exponent (else an integer power, defined everywhere).
    if name == "divide" and not _all(right, lambda a: np.abs(a) > 0.05):
        name = "multiply"
    if name == "power" and not (
        _all(left, lambda a: (a > 0.05) & (a < 50))
        and _all(right, lambda a: np.abs(a) < 3)
    ):
        return _integer_power(data, v)
    operator, ufunc, ref = BINARY[name]
    forms = {"engine": getattr(engine, name), f"numpy.{ufunc.__name__}": ufunc}
    if operator is not None:
        forms[f"operator {operator}"] = _OPERATORS[operator]
    label, call = _form(data, forms)
    if v_first:
        return Step(
            f"{name}(v, {other.text}) [{label}]",
            lambda p: call(p[-1], other.ours(p)),
            lambda p: ref(p[-1], other.ref(p)),
        )
    return Step(
        f"{name}({other.text}, v) [{label}]",
        lambda p: call(other.ours(p), p[-1]),
        lambda p: ref(other.ref(p), p[-1]),
    )


def _as_numpy_takes(operand):
    """A list or tuple as the array NumPy makes of it; a Python number as is."""
    return np.asarray(operand) if isinstance(operand, (list, tuple)) else operand


def _integer_power(data, v):
    """``v ** n`` for an integer n: a Python int, or a list or tuple of them."""
    n = np.shape(v)[-1] if np.ndim(v) else 0
    exponent = data.draw(
        st.sampled_from([2, 3, [2] * n, (3,) * n] if n else [2, 3]), label="exponent"
    )
    label, call = _form(
        data,
        {
            "operator **": lambda a, b: a**b,
            "numpy.power": np.power,
            "engine": engine.power,
        },
    )
    return Step(
        f"power(v, {exponent!r}) [{label}]",
        lambda p: call(p[-1], exponent),
        lambda p: anp.power(p[-1], _as_numpy_takes(exponent)),
    )


def _where(data, v, pool):
    """``where(v > c, a, b)`` with a, b among v, an earlier value and constants."""
    threshold = float(_values(data, (), np.float64))
    compare = data.draw(st.sampled_from(["v > c", "np.greater", "c < v"]), label="cmp")

    def condition(t):
        if compare == "v > c":
            return t > threshold
        if compare == "np.greater":
            return np.greater(t, threshold)
        return threshold < t

    other = _operand(data, v, pool)
    sides = [
        (lambda p: p[-1], lambda p: p[-1], "v"),
        (other.ours, other.ref, other.text),
    ]
    if data.draw(st.booleans(), label="v second"):
        sides.reverse()
    (oa, ra, ta), (ob, rb, tb) = sides
    label, call = _form(data, {"engine": engine.where, "numpy.where": np.where})
    return Step(
        f"where({compare} {threshold}, {ta}, {tb}) [{label}]",
        lambda p: call(condition(p[-1]), oa(p), ob(p)),
        lambda p: _where_ref(p[-1] > threshold, ra(p), rb(p)),
    )


def _where_ref(condition, a, b):
    """anp.where with its operands broadcast first (its VJPs do not sum back)."""
    condition = np.asarray(condition)
    shape = np.broadcast_shapes(condition.shape, anp.shape(a), anp.shape(b))

    def spread(operand):
        if isinstance(operand, (int, float)):  # a weak Python scalar stays one
            return operand
        return operand + np.zeros(shape, operand.dtype)  # add's VJP sums back

    return anp.where(condition, spread(a), spread(b))


def _logsumexp_ref(u, axis=None, keepdims=False):
    """log(sum(exp(u))) with NumPy's reductions (SciPy's treats 0-d as 1-d)."""
    axis = _tuple(axis)
    m = anp.max(u, axis=axis, keepdims=True)
    lse = m + anp.log(anp.sum(anp.exp(u - m), axis=axis, keepdims=True))
    return lse if keepdims else anp.squeeze(lse, axis=axis) if anp.ndim(u) else lse


def _tuple(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _std_ref(u, axis=None, ddof=0, keepdims=False):
    """std whose gradient is 0 at zero spread (the engine's documented rule)."""
    spread = anp.var(u, axis=_tuple(axis), ddof=ddof, keepdims=keepdims)
    zero = spread == 0
    return anp.where(zero, 0.0, anp.sqrt(anp.where(zero, 1.0, spread)))


def _softmax_ref(u, axis):
    return anp.exp(u - _logsumexp_ref(u, axis, keepdims=True))


def _log_softmax_ref(u, axis):
    return u - _logsumexp_ref(u, axis, keepdims=True)


REDUCTIONS = {
    "sum": (np.sum, lambda u, **k: anp.sum(u, **_axes(k))),
    "mean": (np.mean, lambda u, **k: anp.mean(u, **_axes(k))),
    "max": (np.max, lambda u, **k: anp.max(u, **_axes(k))),
    "min": (np.min, lambda u, **k: anp.min(u, **_axes(k))),
    "prod": (np.prod, lambda u, **k: anp.prod(u, **_axes(k))),
    "var": (np.var, lambda u, **k: anp.var(u, **_axes(k))),
    "std": (np.std, _std_ref),
    "logsumexp": (None, _logsumexp_ref),
}


def _axes(kwargs):
    """``kwargs`` with a list axis as the tuple autograd takes."""
    return {k: _tuple(v) if k == "axis" else v for k, v in kwargs.items()}


_UFUNC_REDUCE = {
    "sum": np.add,
    "prod": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
}


def _reduction(data, v):
    ndim = np.ndim(v)
    name = data.draw(
        st.sampled_from(sorted(REDUCTIONS) + ["cumsum", "softmax", "log_softmax"]),
        label="reduction",
    )
    if name == "prod" and not _all(v, lambda a: np.abs(a) < 10):
        name = "sum"
    if name in ("cumsum", "softmax", "log_softmax"):
        if name == "cumsum":
            axis = _axis(data, ndim, several=False)
        else:
            axis = _axis(data, ndim, allow_none=False, several=ndim > 0)
            if axis is None:
                axis = -1 if ndim else ()
        forms = {
            "engine": lambda t: getattr(engine, name)(t, axis=axis),
            "method": lambda t: getattr(t, name)(axis=axis),
        }
        if name == "cumsum":
            forms["numpy.cumsum"] = lambda t: np.cumsum(t, axis=axis)
            if axis is not None:
                forms["numpy.add.accumulate"] = lambda t: np.add.accumulate(t, axis)
        ref = {
            "softmax": _softmax_ref,
            "log_softmax": _log_softmax_ref,
            "cumsum": anp.cumsum,
        }[name]
        return _on_v(data, f"{name}(axis={axis!r})", forms, lambda u: ref(u, axis=axis))
    function, ref = REDUCTIONS[name]
    kwargs = {"axis": _axis(data, ndim), "keepdims": data.draw(st.booleans())}
    if name in ("var", "std"):
        kwargs["ddof"] = data.draw(st.sampled_from([0, 1]), label="ddof")
    forms = {
        "engine": lambda t: getattr(engine, name)(t, **kwargs),
        "method": lambda t: getattr(t, name)(**kwargs),
    }
    if function is not None:
        forms[f"numpy.{name}"] = lambda t: function(t, **kwargs)
    if name in _UFUNC_REDUCE and kwargs["axis"] is not None:
        ufunc = _UFUNC_REDUCE[name]
        forms[f"numpy.{ufunc.__name__}.reduce"] = lambda t: ufunc.reduce(
            t, axis=_tuple(kwargs["axis"]), keepdims=kwargs["keepdims"]
        )
    return _on_v(data, f"{name}({kwargs})", forms, lambda u: ref(u, **kwargs))


def _new_shape(data, shape):
    """A shape of the same size: the sides regrouped, maybe with a -1."""
    size = int(np.prod(shape))
    sides = data.draw(st.permutations(shape), label="sides")
    groups = []
    while sides:
        n = data.draw(st.integers(1, len(sides)), label="group")
        groups.append(int(np.prod(sides[:n])))
        sides = sides[n:]
    if data.draw(st.booleans(), label="extra ones"):
        groups.insert(data.draw(st.integers(0, len(groups))), 1)
    if groups and size and data.draw(st.booleans(), label="-1"):
        groups[data.draw(st.integers(0, len(groups) - 1))] = -1
    return tuple(groups)


def _on_v(data, text, forms, ref):
    """A step that applies one of ``forms`` to the current value; ``ref`` is
    autograd's version."""
    label, call = _form(data, forms)
    return Step(f"{text} [{label}]", lambda p: call(p[-1]), lambda p: ref(p[-1]))


def _two_axes(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1)), data.draw(
        st.integers(-ndim, ndim - 1)
    )


def _shape_op(data, v):
    shape, ndim = np.shape(v), np.ndim(v)
    names = ["reshape", "transpose", "expand_dims", "ravel", "getitem", "pad", "clip"]
    names += ["astype", "copy", "concatenate", "stack", "at"]
    if ndim >= 2:
        names += ["swapaxes", "moveaxis"]
    if 1 in shape:
        names.append("squeeze")
    if ndim and all(shape):
        names.append("take")
    name = data.draw(st.sampled_from(names), label="shape op")
    if name == "reshape":
        new = _new_shape(data, shape)
        forms = {
            "engine": lambda t: engine.reshape(t, new),
            "numpy.reshape": lambda t: np.reshape(t, new),
            "method": lambda t: t.reshape(new),
            "method *args": lambda t: t.reshape(*new) if new else t.reshape(new),
        }
        return _on_v(data, f"reshape{new}", forms, lambda u: anp.reshape(u, new))
    if name == "transpose":
        axes = data.draw(
            st.none() | st.permutations(range(ndim)).map(tuple), label="perm"
        )
        forms = {
            "engine": lambda t: engine.transpose(t, axes),
            "numpy.transpose": lambda t: np.transpose(t, axes),
            "method": lambda t: t.transpose(axes),
        }
        if axes is None:
            forms["T"] = lambda t: t.T
        elif axes:
            forms["method *args"] = lambda t: t.transpose(*axes)
            forms["method array"] = lambda t: t.transpose(np.array(axes))
        return _on_v(data, f"transpose{axes}", forms, lambda u: anp.transpose(u, axes))
    if name == "expand_dims":
        axis = data.draw(st.integers(-ndim - 1, ndim), label="axis")
        forms = {
            "engine": lambda t: engine.expand_dims(t, axis),
            "numpy.expand_dims": lambda t: np.expand_dims(t, axis),
        }
        return _on_v(
            data, f"expand_dims({axis})", forms, lambda u: anp.expand_dims(u, axis)
        )
    if name == "squeeze":
        ones = [i for i, n in enumerate(shape) if n == 1]
        axis = data.draw(st.none() | st.sampled_from(ones), label="axis")
        forms = {
            "engine": lambda t: engine.squeeze(t, axis),
            "numpy.squeeze": lambda t: np.squeeze(t, axis),
            "method": lambda t: t.squeeze(axis),
        }
        return _on_v(data, f"squeeze({axis})", forms, lambda u: anp.squeeze(u, axis))
    if name == "swapaxes":
        a, b = _two_axes(data, ndim)
        forms = {
            "engine": lambda t: engine.swapaxes(t, a, b),
            "numpy.swapaxes": lambda t: np.swapaxes(t, a, b),
            "method": lambda t: t.swapaxes(a, b),
        }
        return _on_v(
            data, f"swapaxes({a}, {b})", forms, lambda u: anp.swapaxes(u, a, b)
        )
    if name == "moveaxis":
        a, b = _two_axes(data, ndim)
        forms = {
            "engine": lambda t: engine.moveaxis(t, a, b),
            "numpy.moveaxis": lambda t: np.moveaxis(t, a, b),
        }
        return _on_v(
            data, f"moveaxis({a}, {b})", forms, lambda u: anp.moveaxis(u, a, b)
        )
    if name == "ravel":
        forms = {
            "engine": engine.ravel,
            "numpy.ravel": np.ravel,
            "method ravel": lambda t: t.ravel(),
            "method flatten": lambda t: t.flatten(),
        }
        return _on_v(data, "ravel", forms, anp.ravel)
    if name == "getitem":
        index = _index(data, shape)
        forms = {
            "operator []": lambda t: t[index],
            "engine": lambda t: engine.getitem(t, index),
        }
        return _on_v(data, f"getitem{index!r}", forms, lambda u: u[index])
    if name == "take":
        axis = data.draw(st.none() | st.integers(-ndim, ndim - 1), label="axis")
        n = int(np.prod(shape)) if axis is None else shape[axis]
        mode = data.draw(st.sampled_from(["raise", "wrap", "clip"]), label="mode")
        span = (0, n - 1) if mode == "raise" else (-2 * n, 2 * n)
        indices = data.draw(st.lists(st.integers(*span), max_size=4), label="indices")
        forms = {
            "engine": lambda t: engine.take(t, indices, axis=axis, mode=mode),
            "numpy.take": lambda t: np.take(t, indices, axis=axis, mode=mode),
            "method": lambda t: t.take(indices, axis=axis, mode=mode),
        }
        remapped = np.take(np.arange(n), np.asarray(indices, np.intp), mode=mode)

        def take_ref(u):
            if axis is None:
                return anp.ravel(u)[remapped]
            return u[(slice(None),) * (axis % ndim) + (remapped,)]

        text = f"take({indices}, axis={axis}, mode={mode})"
        return _on_v(data, text, forms, take_ref)
    if name == "pad":
        widths = [
            (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
            for _ in range(ndim)
        ]
        value = data.draw(st.sampled_from([0.0, 1.0, -0.5]), label="pad value")
        forms = {
            "engine": lambda t: engine.pad(t, widths, constant_values=value),
            "numpy.pad": lambda t: np.pad(t, widths, constant_values=value),
            "method": lambda t: t.pad(widths, constant_values=value),
        }
        return _on_v(
            data,
            f"pad({widths}, {value})",
            forms,
            lambda u: anp.pad(u, widths, mode="constant", constant_values=value),
        )
    if name == "clip":
        low = data.draw(
            st.none() | st.just(float(_values(data, (), np.float64, -2, 0)))
        )
        high = data.draw(
            st.none() | st.just(float(_values(data, (), np.float64, 0, 2)))
        )
        forms = {
            "engine": lambda t: engine.clip(t, low, high),
            "numpy.clip": lambda t: np.clip(t, low, high),
            "method": lambda t: t.clip(low, high),
        }

        def clip_ref(u):  # ties split evenly, as maximum and minimum do
            if low is not None:
                u = anp.maximum(u, low)
            return u if high is None else anp.minimum(u, high)

        return _on_v(data, f"clip({low}, {high})", forms, clip_ref)
    if name == "astype":
        target = data.draw(st.sampled_from([np.float32, np.float64]), label="cast")
        forms = {
            "engine": lambda t: engine.astype(t, target),
            "numpy.astype": lambda t: np.astype(t, target),
            "method": lambda t: t.astype(target),
        }
        text = f"astype({np.dtype(target).name})"
        return _on_v(data, text, forms, lambda u: u.astype(target))
    if name == "copy":
        forms = {"engine": engine.copy, "numpy.copy": np.copy, "method": _copy}
        return _on_v(data, "copy", forms, lambda u: u + 0.0)
    if name in ("concatenate", "stack"):
        return _join(data, name, v)
    return _at(data, v)


def _copy(t):
    return t.copy()


def _join(data, name, v):
    """``concatenate`` or ``stack`` of v and a constant (or v itself)."""
    shape, ndim = np.shape(v), np.ndim(v)
    if ndim == 0:
        name = "stack"
    stack = name == "stack"
    axis = data.draw(st.integers(-ndim - stack, ndim - 1 + stack), label="axis")
    other_shape = list(shape)
    if name == "concatenate":
        other_shape[axis] = data.draw(st.integers(0, 2), label="other side")
    if other_shape == list(shape) and data.draw(st.booleans(), label="v twice"):
        other = None  # the value itself, twice
    else:
        dtype = data.draw(st.sampled_from([np.float32, np.float64]))
        other = _values(data, tuple(other_shape), dtype)
    v_first = data.draw(st.booleans())
    function, reference = {
        "concatenate": (np.concatenate, anp.concatenate),
        "stack": (np.stack, anp.stack),
    }[name]

    def pair(t):
        second = t if other is None else other
        return [t, second] if v_first else [second, t]

    forms = {
        "engine": lambda t: getattr(engine, name)(pair(t), axis=axis),
        f"numpy.{name}": lambda t: function(pair(t), axis=axis),
    }
    if name == "concatenate" and ndim >= 2 and axis % ndim == 0:
        forms["numpy.vstack"] = lambda t: np.vstack(pair(t))
    if name == "concatenate" and axis % ndim == (ndim >= 2):
        forms["numpy.hstack"] = lambda t: np.hstack(pair(t))
    where = "after" if v_first else "before"
    text = f"{name}(axis={axis}, {'v' if other is None else other.shape} {where})"
    return _on_v(data, text, forms, lambda u: reference(pair(u), axis=axis))


def _at(data, v):
    """A functional indexed update of v with a constant."""
    shape = np.shape(v)
    index = _index(data, shape, unique=True)
    add = data.draw(st.booleans(), label="add")
    method = "add" if add else "set"
    target = np.empty(shape)[index].shape
    ours_c, ref_c, text = _constant(data, target)
    if not _broadcasts(np.shape(ref_c), target) or len(np.shape(ref_c)) > len(target):
        ours_c = ref_c = float(_values(data, (), np.float64))
        text = repr(ours_c)
    forms = {
        "method": lambda t: getattr(t.at[index], method)(ours_c),
        "engine": lambda t: getattr(engine.at(t)[index], method)(ours_c),
    }

    def at_ref(u):  # in u's dtype, as NumPy's assignment
        dtype = np.result_type(u)
        placed = np.zeros(np.shape(u), dtype)
        if add:
            np.add.at(placed, index, np.asarray(ref_c, dtype))
            return u + placed
        chosen = np.zeros(np.shape(u), bool)
        chosen[index] = True
        placed[index] = ref_c
        return anp.where(chosen, placed, u)  # replaces a NaN too

    return _on_v(data, f"at{index!r}.{method}({text})", forms, at_ref)


def _index(data, shape, unique=False):
    """A basic index (ints, slices, None, Ellipsis), an integer-array index or
    a boolean mask."""
    ndim = len(shape)
    if data.draw(st.integers(0, 5), label="index kind") == 0:  # a boolean mask
        return _values(data, shape, np.float64) > 0
    if ndim and all(shape) and data.draw(st.booleans(), label="array index"):
        axis = data.draw(st.integers(0, ndim - 1))
        n = shape[axis]
        picks = data.draw(
            st.lists(
                st.integers(-n, n - 1),
                max_size=4,
                unique_by=(lambda i: i % n) if unique else None,
            ),
            label="picks",
        )
        return (slice(None),) * axis + (np.array(picks, dtype=np.intp),)
    items = []
    for n in shape:
        kind = data.draw(
            st.sampled_from(["int", "slice", "all"]) if n else st.just("slice")
        )
        if kind == "int":
            items.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = data.draw(st.none() | st.integers(-n - 1, n + 1))
            stop = data.draw(st.none() | st.integers(-n - 1, n + 1))
            step = data.draw(st.none() | st.sampled_from([-2, -1, 1, 2]))
            items.append(slice(start, stop, step))
        else:
            items.append(slice(None))
    if items and data.draw(st.booleans(), label="ellipsis"):
        items[data.draw(st.integers(0, len(items) - 1))] = Ellipsis
        items = [
            i
            for k, i in enumerate(items)
            if i is not Ellipsis or k == items.index(Ellipsis)
        ]
    if data.draw(st.booleans(), label="newaxis"):
        items.insert(data.draw(st.integers(0, len(items))), None)
    return tuple(items)


def _linear(data, v, pool):
    shape, ndim = np.shape(v), np.ndim(v)
    name = data.draw(
        st.sampled_from(["matmul", "dot", "outer", "tensordot", "einsum", "gram"]),
        label="linear",
    )
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    if name == "outer":
        other = _values(data, (data.draw(st.integers(0, 3)),), dtype)
        forms = {
            "engine": lambda t: engine.outer(t, other),
            "numpy.outer": lambda t: np.outer(t, other),
        }
        return _on_v(  # autograd's outer VJP has its input's shape for 1-d only
            data,
            f"outer(v, {other.shape})",
            forms,
            lambda u: anp.outer(anp.ravel(u), other),
        )
    if name == "gram" and ndim >= 1:
        axes = (-1, -2) if ndim >= 2 else (0, 0)
        forms = {"operator @": lambda t: t @ np.swapaxes(t, *axes)}
        return _on_v(
            data,
            "matmul(v, v.T)",
            forms,
            lambda u: anp.matmul(u, anp.swapaxes(u, *axes)),
        )
    if ndim == 0 or name == "gram":
        other_shape = data.draw(npst.array_shapes(min_dims=0, max_dims=2, max_side=3))
        other = _values(data, other_shape, dtype)
        forms = {
            "numpy.dot": lambda t: np.dot(t, other),
            "engine.dot": lambda t: engine.dot(t, other),
        }
        return _on_v(data, f"dot(v, {other.shape})", forms, lambda u: anp.dot(u, other))
    k = shape[-1]
    if name == "tensordot":
        other = _values(data, (k, data.draw(st.integers(0, 3))), dtype)
        forms = {
            "numpy.tensordot": lambda t: np.tensordot(t, other, axes=1),
            "engine": lambda t: engine.tensordot(t, other, axes=1),
        }
        return _on_v(
            data,
            f"tensordot(v, {other.shape}, 1)",
            forms,
            lambda u: anp.tensordot(u, other, axes=1),
        )
    if name == "einsum":
        letters = "abcd"[:ndim]
        spec = f"{letters},{letters[-1]}z->{letters[:-1]}z"
        other = _values(data, (k, data.draw(st.integers(1, 3))), dtype)
        forms = {
            "engine": lambda t: engine.einsum(spec, t, other),
            "numpy.einsum": lambda t: np.einsum(spec, t, other),
        }
        return _on_v(
            data,
            f"einsum({spec!r}, v, {other.shape})",
            forms,
            lambda u: anp.einsum(spec, u, other),
        )
    v_first = data.draw(st.booleans(), label="v first")
    side = (data.draw(st.integers(0, 3)),) if data.draw(st.booleans()) else ()
    if v_first:
        other_shape = (k, *side)
    else:
        other_shape = (*side, shape[-2] if ndim >= 2 else shape[0])
    if data.draw(st.booleans(), label="as list") and name == "matmul":
        ours_other = _values(data, other_shape, np.float64).tolist()
        other, text = np.asarray(ours_other), f"list{other_shape}"
    else:
        other = ours_other = _values(data, other_shape, dtype)
        text = f"array{other_shape}"
    forms = {
        "operator @": lambda a, b: a @ b,
        "numpy.matmul": np.matmul,
        "engine.matmul": engine.matmul,
    }
    if name == "dot" and ndim <= 2:
        forms = {"numpy.dot": np.dot, "engine.dot": engine.dot}
        if v_first:
            forms["method"] = lambda a, b: a.dot(b)
    label, call = _form(data, forms)
    if v_first:
        return Step(
            f"matmul(v, {text}) [{label}]",
            lambda p: call(p[-1], ours_other),
            lambda p: anp.matmul(p[-1], other),
        )
    return Step(
        f"matmul({text}, v) [{label}]",
        lambda p: call(ours_other, p[-1]),
        lambda p: anp.matmul(other, p[-1]),
    )


KINDS = {
    "unary": lambda data, v, pool: _unary(data, v),
    "binary": _binary,
    "where": _where,
    "reduction": lambda data, v, pool: _reduction(data, v),
    "shape": lambda data, v, pool: _shape_op(data, v),
    "linear": _linear,
}


# Running a program --------------------------------------------------------------------


def _draw_program(data, x):
    """Draw a program step by step, computing NumPy's values as it goes.

    Returns ``(steps, refusal, single, finite)``: ``refusal`` is the
    exception type NumPy raised at the last step (None if it ran), ``single``
    whether a float32 value appeared (its tolerance applies then), ``finite``
    whether every value was finite.
    """
    pool, steps = [x], []
    single, finite = x.dtype == np.float32, True
    for _ in range(data.draw(st.integers(1, 5), label="length")):
        kind = data.draw(st.sampled_from(sorted(KINDS)), label="kind")
        step = KINDS[kind](data, np.asarray(pool[-1]), [np.asarray(u) for u in pool])
        steps.append(step)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                value = np.asarray(step.ref(pool))
        except Exception as exc:  # NumPy refuses: the engine must refuse too
            return steps, type(exc), single, finite
        assert value.dtype.kind == "f", step.text
        single = single or value.dtype == np.float32
        finite = finite and bool(np.all(np.isfinite(value)))
        pool.append(value)
    return steps, None, single, finite


def run(steps, x):
    """The program on Tensors (the engine)."""
    pool = [x]
    for step in steps:
        pool.append(step.ours(pool))
    return pool[-1]


def run_reference(steps, x):
    """The program with autograd.numpy (NumPy on plain arrays)."""
    pool = [x]
    for step in steps:
        pool.append(step.ref(pool))
    return pool[-1]


GRADIENT_PATHS = {
    "grad": lambda f, x, w: engine.grad(lambda t: (f(t) * w).sum())(x),
    "value_and_grad": lambda f, x, w: engine.value_and_grad(lambda t: (f(t) * w).sum())(
        x
    )[1],
    "vjp": lambda f, x, w: engine.vjp(f, x)[1](w)[0],
    "elementwise_grad": lambda f, x, w: engine.elementwise_grad(lambda t: f(t) * w)(x),
    "Tensor.backward": lambda f, x, w: _backward(f, x, w),
}


def _backward(f, x, w):
    t = Tensor(x)
    (f(t) * w).sum().backward()
    return np.zeros_like(x) if t.grad is None else t.grad


def _assert_close(ours, ref, tol, what):
    """Same shape, NaNs and infinities; finite entries within ``tol``, relative
    to each entry and to the largest magnitude compared."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"{what}: NaNs differ"
    infinite = np.isinf(ref)
    assert np.array_equal(ours[infinite], ref[infinite]), f"{what}: infinities"
    finite = ~np.isnan(ref) & ~infinite
    if finite.any():
        a = ours[finite].astype(np.float64)
        b = ref[finite].astype(np.float64)
        scale = max(1.0, float(np.max(np.abs(b))))
        error = np.abs(a - b)
        worst = np.argmax(error - tol * (np.abs(b) + scale))
        assert np.all(error <= tol * (np.abs(b) + scale)), (
            f"{what}: {a[worst]!r} != {b[worst]!r} (tolerance {tol} relative to "
            f"{scale:g})"
        )


def _fd(steps, x, w, single):
    """Central differences of ``sum(program(x) * w)``, x in float64."""
    h = 1e-3 if single else 1e-6
    x = x.astype(np.float64)
    gradient = np.zeros_like(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i in np.ndindex(x.shape):
            values = []
            for delta in (h, -h):
                moved = x.copy()
                moved[i] += delta
                values.append(np.sum(np.asarray(run_reference(steps, moved)) * w))
            gradient[i] = (values[0] - values[1]) / (2 * h)
    return gradient


def _runtime_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]


# autograd's notice for a gradient that does not depend on the input
@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@settings(max_examples=5 * settings().max_examples)  # scaled by the profile
@given(data=st.data())
def test_random_programs_match_autograd_and_numpy(data):
    check_a_random_program(data)


def check_a_random_program(data):
    """Draw one program, run it three ways, and compare (see the module's text)."""
    dtype = np.dtype(data.draw(st.sampled_from([np.float64, np.float32]), label="x"))
    shape = data.draw(
        npst.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
        | npst.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3),
        label="shape",
    )
    x = _values(data, shape, dtype)
    steps, refusal, single, finite = _draw_program(data, x)
    note("program: " + " -> ".join(step.text for step in steps))
    for step in steps:
        event("operation", re.match(r"[a-z_]*", step.text).group() or "matmul")
    event("outcome", "refused by NumPy" if refusal else "ran")
    if refusal is not None:
        with pytest.raises(Exception) as info, warnings.catch_warnings():  # noqa: PT011
            warnings.simplefilter("ignore")  # what NumPy warned of before refusing
            run(steps, Tensor(x))
        assert isinstance(info.value, (refusal, TypeError, ValueError)), info.value
        return
    tol = TOLERANCE[np.dtype(np.float32 if single else np.float64)]

    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = np.asarray(run_reference(steps, x))
        w = _values(data, expected.shape, expected.dtype)
        try:
            expected_grad = autograd.grad(
                lambda u: anp.sum(run_reference(steps, u) * w)
            )(x)
        except Exception:  # autograd lacks the operation, or fails on it
            expected_grad = None
    if expected_grad is None or np.shape(expected_grad) != x.shape:
        note("gradient by finite differences (autograd failed)")
        event("reference gradient", "finite differences")
        expected_grad = _fd(steps, x, w, single)
        tol = max(tol, 1e-5)

    path = data.draw(st.sampled_from(sorted(GRADIENT_PATHS)), label="gradient path")
    note(f"gradient by {path}")
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        out = run(steps, Tensor(x))
        gradient = GRADIENT_PATHS[path](lambda t: run(steps, t), x, w)

    assert type(out) is Tensor, f"the program returned {type(out).__name__}"
    assert type(out.value) is np.ndarray and out.value.dtype == expected.dtype
    _assert_close(out.value, expected, tol, "value")
    assert type(gradient) is np.ndarray and gradient.dtype == dtype, gradient
    if np.all(np.isfinite(expected)):  # else the derivatives of NaN and inf
        references = [("autograd", lambda: expected_grad)]
        references.append(("finite differences", lambda: _fd(steps, x, w, single)))
        for name, reference in references:
            g, ref = gradient, np.asarray(reference())
            if not finite:  # NaN or inf inside: 0 * NaN may or may not reach x
                keep = np.isfinite(g) & np.isfinite(ref)
                g, ref = g[keep], ref[keep]
            try:
                _assert_close(g, ref, tol, f"gradient ({name})")
                break
            except AssertionError:
                # Only autograd's NaN or inf where a finite function has a
                # finite derivative (std at zero spread) is for finite
                # differences to decide.
                if name != "autograd" or np.all(np.isfinite(ref)):
                    raise
                note("autograd's gradient is not finite: finite differences decide")
                tol = max(tol, 1e-5)
    if _runtime_warnings(ours):
        assert _runtime_warnings(theirs), _runtime_warnings(ours)

    # The trace recorded on x computes the program on another input.
    x2 = _values(data, shape, dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # checked above; x2 may leave the domains
        try:
            record = engine.trace(lambda t: run(steps, t), x)
        except TraceError:
            event("trace", "refused")
            return
        event("trace", "replayed")
        replayed = record.run(x2)
        direct = run(steps, Tensor(x2)).value
    assert replayed.dtype == direct.dtype, (replayed.dtype, direct.dtype)
    _assert_close(replayed, direct, 0.0, "trace")
