"""NumPy's dispatch protocols for Tensors: NumPy's own functions run engine ops.

``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.dot(X, t)``, ``ndarray @ t``,
``np.pad(t, 1)``, ``np.stack([t, u])``, ``np.clip(t, 0, 1)``, ... called on
Tensors run the engine's operations (``__array_ufunc__`` for ufuncs and
operators, ``__array_function__`` for the other functions), so plain NumPy
code is differentiated. Functions whose result carries no gradient (``np.shape``,
``np.argmax``, comparisons, ``np.isfinite``, ``np.zeros_like``, ...) run on the
values. Everything else raises a TypeError that says what to use instead: a
Tensor never becomes a plain array inside a NumPy call, which would silently
lose its gradient.

The tables below are the whole dispatch: :data:`UFUNCS`, :data:`REDUCTIONS`,
:data:`FUNCTIONS`, and the gradient-free :data:`VALUE_UFUNCS` and
:data:`VALUE_FUNCTIONS`.
"""

import numpy as np
import scipy.special

from skvgrad.engine import ops
from skvgrad.engine import tensor as _tensor
from skvgrad.engine.tensor import Tensor


def _ufunc(function):
    """The ufunc behind a SciPy function (wrapped when SCIPY_ARRAY_API=1)."""
    return getattr(function, "__wrapped__", function)


UFUNCS = {
    np.add: ops.add,
    np.subtract: ops.subtract,
    np.multiply: ops.multiply,
    np.true_divide: ops.divide,
    np.power: ops.power,
    np.negative: ops.negative,
    np.positive: lambda x: x,
    np.reciprocal: lambda x: ops.divide(1.0, x),
    np.exp: ops.exp,
    np.log: ops.log,
    np.log1p: ops.log1p,
    np.expm1: ops.expm1,
    np.sqrt: ops.sqrt,
    np.square: ops.square,
    np.absolute: ops.abs,
    np.sign: ops.sign,
    np.sin: ops.sin,
    np.cos: ops.cos,
    np.tanh: ops.tanh,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.logaddexp: ops.logaddexp,
    np.matmul: ops.matmul,
    _ufunc(scipy.special.expit): ops.sigmoid,
    _ufunc(scipy.special.log_expit): ops.log_sigmoid,
}
"""Ufuncs, called on Tensors, and the engine operation each one runs.

(With ``SCIPY_ARRAY_API=1``, SciPy's ``expit`` and ``log_expit`` wrap their
ufuncs in a function that refuses a Tensor before the ufunc could dispatch.)"""

REDUCTIONS = {
    np.add: ops.sum,
    np.multiply: ops.prod,
    np.maximum: ops.max,
    np.minimum: ops.min,
}
"""``ufunc.reduce`` (``np.add.reduce(t, axis)``) and the engine reduction."""

VALUE_UFUNCS = frozenset(
    {
        np.less,
        np.less_equal,
        np.greater,
        np.greater_equal,
        np.equal,
        np.not_equal,
        np.isfinite,
        np.isnan,
        np.isinf,
        np.signbit,
        np.logical_and,
        np.logical_or,
        np.logical_xor,
        np.logical_not,
    }
)
"""Ufuncs with boolean results: computed on the values, no gradient."""


def _refuse(name, **options):
    """Raise a TypeError for options of ``name`` the engine does not support."""
    given = sorted(key for key, value in options.items() if value is not None)
    if given:
        what = ", ".join(f"{key}=" for key in given)
        hint = (
            " Tensors are never written in place: use the returned Tensor."
            if "out" in given
            else ""
        )
        raise TypeError(
            f"numpy.{name}({what}...) is not supported on skvgrad Tensors.{hint}"
        )


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    _refuse("sum", dtype=dtype, out=out, **rest)
    return ops.sum(a, axis=axis, keepdims=keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    _refuse("mean", dtype=dtype, out=out, **rest)
    return ops.mean(a, axis=axis, keepdims=keepdims)


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    _refuse("prod", dtype=dtype, out=out, **rest)
    return ops.prod(a, axis=axis, keepdims=keepdims)


def _extreme(op, name):
    def reduce(a, axis=None, out=None, keepdims=False, **rest):
        _refuse(name, out=out, **rest)
        return op(a, axis=axis, keepdims=keepdims)

    return reduce


def _spread(op, name):
    def reduce(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **rest):
        _refuse(name, dtype=dtype, out=out, **rest)
        return op(a, axis=axis, ddof=ddof, keepdims=keepdims)

    return reduce


def _cumsum(a, axis=None, dtype=None, out=None):
    _refuse("cumsum", dtype=dtype, out=out)
    return ops.cumsum(a, axis=axis)


def _dot(a, b, out=None):
    _refuse("dot", out=out)
    return ops.dot(a, b)


def _outer(a, b, out=None):
    _refuse("outer", out=out)
    return ops.outer(a, b)


def _einsum(*operands, out=None, optimize=False, **rest):
    _refuse("einsum", out=out, **rest)
    return ops.einsum(*operands, optimize=optimize)


def _joining(op, name):
    def join(arrays, axis=0, out=None, **rest):
        _refuse(name, out=out, **rest)
        return op(arrays, axis=axis)

    return join


def _stacking(op, name):
    def join(tup, **rest):
        _refuse(name, **rest)
        return op(tup)

    return join


def _reshape(a, shape=None, order="C", **rest):
    if shape is None:
        shape = rest.pop("newshape", None)
    _refuse("reshape", order=None if order == "C" else order, **rest)
    return ops.reshape(a, shape)


def _ravel(a, order="C"):
    _refuse("ravel", order=None if order == "C" else order)
    return ops.ravel(a)


def _where(condition, *xy):
    if not xy:
        if _tensor._recorders:
            _refuse_in_trace("numpy.where with one argument (nonzero)", condition)
        return np.where(_values(condition))
    return ops.where(condition, *xy)


def _clip(a, a_min=None, a_max=None, out=None, **rest):
    a_min = rest.pop("min", a_min)
    a_max = rest.pop("max", a_max)
    _refuse("clip", out=out, **rest)
    return ops.clip(a, a_min, a_max)


def _pad(array, pad_width, mode="constant", **kwargs):
    return ops.pad(array, pad_width, mode, **kwargs)


def _take(a, indices, axis=None, out=None, mode="raise"):
    _refuse("take", out=out)
    return ops.take(a, indices, axis=axis, mode=mode)


FUNCTIONS = {
    np.sum: _sum,
    np.mean: _mean,
    np.prod: _prod,
    np.max: _extreme(ops.max, "max"),
    np.amax: _extreme(ops.max, "amax"),
    np.min: _extreme(ops.min, "min"),
    np.amin: _extreme(ops.min, "amin"),
    np.var: _spread(ops.var, "var"),
    np.std: _spread(ops.std, "std"),
    np.cumsum: _cumsum,
    np.dot: _dot,
    np.outer: _outer,
    np.tensordot: ops.tensordot,
    np.einsum: _einsum,
    np.concatenate: _joining(ops.concatenate, "concatenate"),
    np.stack: _joining(ops.stack, "stack"),
    np.hstack: _stacking(ops.hstack, "hstack"),
    np.vstack: _stacking(ops.vstack, "vstack"),
    np.reshape: _reshape,
    np.transpose: ops.transpose,
    np.squeeze: ops.squeeze,
    np.expand_dims: ops.expand_dims,
    np.ravel: _ravel,
    np.swapaxes: ops.swapaxes,
    np.moveaxis: ops.moveaxis,
    np.where: _where,
    np.clip: _clip,
    np.pad: _pad,
    np.take: _take,
}
"""NumPy functions, called on Tensors, and the engine version each one runs."""

VALUE_FUNCTIONS = frozenset(
    {
        np.shape,
        np.ndim,
        np.size,
        np.zeros_like,
        np.ones_like,
        np.empty_like,
        np.full_like,
        np.argmax,
        np.argmin,
        np.argsort,
        np.nonzero,
        np.flatnonzero,
        np.count_nonzero,
        np.isclose,
        np.allclose,
        np.array_equal,
        np.array_equiv,
        np.all,
        np.any,
        np.result_type,
        np.iscomplexobj,
        np.isrealobj,
        np.array_repr,
        np.array_str,
        np.array2string,
    }
)
"""Functions whose result carries no gradient: computed on the values."""

_SHAPE_FUNCTIONS = frozenset(
    {
        np.shape,
        np.ndim,
        np.size,
        np.zeros_like,
        np.ones_like,
        np.empty_like,
        np.full_like,
        np.result_type,
        np.iscomplexobj,
        np.isrealobj,
        np.array_repr,
        np.array_str,
        np.array2string,
    }
)
"""The functions of :data:`VALUE_FUNCTIONS` whose result is the same for any
values of the given shapes and dtypes: free inside a trace."""


def _refuse_in_trace(name, tree):
    """Tell a recording trace that ``name`` reads the values of its Tensors."""
    if isinstance(tree, Tensor):
        _tensor._escaped(tree, f"calls {name}, whose result depends on values,")
    elif isinstance(tree, (list, tuple)):
        for item in tree:
            _refuse_in_trace(name, item)
    elif isinstance(tree, dict):
        _refuse_in_trace(name, list(tree.values()))


def _values(tree):
    """``tree`` with every Tensor replaced by its value (lists and tuples too)."""
    if isinstance(tree, Tensor):
        return tree._value
    if isinstance(tree, (list, tuple)):
        return type(tree)([_values(item) for item in tree])
    return tree


def _names(table):
    return ", ".join(sorted(f.__name__ for f in table))


_ALTERNATIVES = (
    "Write it with skvgrad.engine operations, define it with "
    "skvgrad.engine.primitive, or call it on t.value to compute it without a "
    "gradient on purpose."
)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """NumPy's ufunc protocol: run the engine operation of ``ufunc``."""
    if method == "__call__" and not kwargs:  # the common case, first
        op = UFUNCS.get(ufunc)
        if op is not None:
            return op(*inputs)
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in out):
        raise TypeError(
            f"numpy.{ufunc.__name__} cannot write into an output array (out=) "
            "when a Tensor is involved: the result is a new Tensor. Use "
            "y = y + t rather than y += t for an ndarray y."
        )
    if method == "__call__":
        op = UFUNCS.get(ufunc)
        if op is not None:
            _refuse(ufunc.__name__, **kwargs)
            return op(*inputs)
        if ufunc in VALUE_UFUNCS:
            ans = ufunc(*_values(inputs), **kwargs)
            if _tensor._recorders:
                if kwargs:
                    _refuse_in_trace(f"numpy.{ufunc.__name__} with options", inputs)
                return _tensor._recorded_value(ufunc, inputs, ans)
            return ans
    elif method in ("reduce", "accumulate") and ufunc in REDUCTIONS:
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        _refuse(f"{ufunc.__name__}.{method}", **kwargs)
        if method == "reduce":
            return REDUCTIONS[ufunc](*inputs, axis=axis, keepdims=keepdims)
        if ufunc is np.add:
            return ops.cumsum(*inputs, axis=axis)
    raise TypeError(
        f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method} "
        f"is not supported on skvgrad Tensors. {_ALTERNATIVES} Supported ufuncs: "
        f"{_names(UFUNCS)}; reductions: add, multiply, maximum, minimum "
        "(.reduce), add.accumulate."
    )


def _array_function(self, func, types, args, kwargs):
    """NumPy's function protocol: run the engine version of ``func``."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    op = FUNCTIONS.get(func)
    if op is not None:
        return op(*args, **kwargs)
    if func in VALUE_FUNCTIONS:
        if _tensor._recorders and func not in _SHAPE_FUNCTIONS:
            _refuse_in_trace(f"numpy.{func.__name__}", (args, kwargs))
        return func(*_values(args), **{k: _values(v) for k, v in kwargs.items()})
    raise TypeError(
        f"{getattr(func, '__module__', None) or 'numpy'}.{func.__name__} is not "
        f"supported on skvgrad Tensors. {_ALTERNATIVES} "
        f"Supported NumPy functions: {_names(FUNCTIONS)}; on values only "
        f"(no gradient): {_names(VALUE_FUNCTIONS)}."
    )


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
