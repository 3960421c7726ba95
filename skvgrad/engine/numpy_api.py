"""NumPy's dispatch protocols for Tensors: NumPy's own functions run engine ops.

``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.dot(X, t)``, ``ndarray @ t``,
``np.pad(t, 1)``, ``np.stack([t, u])``, ``np.clip(t, 0, 1)``, ... called on
Tensors run the engine's operations (``__array_ufunc__`` for ufuncs and
operators, ``__array_function__`` for the other functions), so plain NumPy
code is differentiated. Functions whose result carries no gradient (``np.shape``,
``np.argmax``, comparisons, ``np.isfinite``, ``np.zeros_like``, ...) run on the
values. Everything else raises a TypeError that says what to use instead.

A Tensor never becomes an array: NumPy's conversion protocol (``__array__``)
raises a TypeError, so that ``np.asarray(t)``, ``ndarray.dot(t)``, a NumPy
function given a list of Tensors (NumPy converts lists without dispatching),
and SciPy or other library code that converts its input are refused, naming
the SciPy function and its engine counterpart where there is one. An array,
even an object array holding the Tensor, would carry no gradient. Two pieces of
SciPy ask for an array without using its data, and get one that holds none:
``scipy.sparse``'s matrix product (so ``sparse @ t`` runs the engine) and,
with ``SCIPY_ARRAY_API=1``, SciPy's choice of array namespace (so
``scipy.special.expit(t)`` reaches the ufunc, and the engine, as without it).

The tables below are the whole dispatch: :data:`UFUNCS`, :data:`REDUCTIONS`,
:data:`FUNCTIONS`, and the gradient-free :data:`VALUE_UFUNCS` and
:data:`VALUE_FUNCTIONS`; :data:`SCIPY_FUNCTIONS` names counterparts.
"""

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse
import scipy.special

from skvgrad.engine import ops
from skvgrad.engine import tensor as _tensor
from skvgrad.engine.tensor import Tensor


def _ufunc(function):
    """The ufunc behind a SciPy function (wrapped when SCIPY_ARRAY_API=1)."""
    return getattr(function, "__wrapped__", function)


UFUNCS: dict[Any, Callable[..., Any]] = {
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

REDUCTIONS: dict[Any, Callable[..., Any]] = {
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


def _copy(a, order="K", subok=False):
    _refuse("copy", order=None if order == "K" else order, subok=subok or None)
    return ops.copy(a)


def _astype(x, dtype, /, *, copy=True, device=None):
    _refuse("astype", device=device)
    return ops.astype(x, dtype)


FUNCTIONS: dict[Any, Callable[..., Any]] = {
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
    np.copy: _copy,
    np.astype: _astype,
}
"""NumPy functions, called on Tensors, and the engine version each one runs."""

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

VALUE_FUNCTIONS = _SHAPE_FUNCTIONS | {
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
}
"""Functions whose result carries no gradient: computed on the values."""


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


def _alternatives(name=None):
    """What to use instead of the function ``name`` that a Tensor cannot take."""
    op = SCIPY_FUNCTIONS.get(name)
    if op is not None:
        instead = f"Use skvgrad.engine.{op.__name__}, its engine counterpart"
    else:
        instead = (
            "Write it with skvgrad.engine operations, define it with "
            "skvgrad.engine.primitive"
        )
    return (
        f"{instead}, or call it on t.value to compute it without a gradient on purpose."
    )


def _ufunc_name(ufunc):
    """``numpy.exp``, ``scipy.special.erf``: where users find ``ufunc``."""
    name = ufunc.__name__
    for module in (np, scipy.special):
        if _ufunc(getattr(module, name, None)) is ufunc:
            return f"{module.__name__}.{name}"
    return name


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
            return ops.cumsum(*inputs, axis=axis)  # type: ignore[misc]  # one input
    name = _ufunc_name(ufunc)
    raise TypeError(
        f"{name}{'' if method == '__call__' else '.' + method} "
        f"is not supported on skvgrad Tensors. {_alternatives(name)} Supported ufuncs: "
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
        f"supported on skvgrad Tensors. {_alternatives()} "
        f"Supported NumPy functions: {_names(FUNCTIONS)}; on values only "
        f"(no gradient): {_names(VALUE_FUNCTIONS)}."
    )


def _code(function):
    """The code object of ``function`` (None if this SciPy version lacks it)."""
    return getattr(getattr(function, "__func__", function), "__code__", None)


def _scipy_internal(module, qualname):
    """A function of SciPy's, by module and qualified name, or None."""
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


_OPAQUE_TO = frozenset(
    {_code(scipy.sparse._base._spbase._matmul_dispatch)}  # sparse @ t
) - {None}
"""SciPy code that asks for an array only to recognise an operand it cannot take:
it gets an opaque 0-d object array, returns NotImplemented, and Python runs the
Tensor's reflected operator (``sparse @ t`` is ``t.__rmatmul__(sparse)``)."""

_DTYPE_PROBES = frozenset(
    {
        _code(_scipy_internal("scipy._lib._array_api_override", "array_namespace")),
        _code(_scipy_internal("scipy._lib._array_api", "array_namespace")),
    }
) - {None}
"""SciPy code that converts its arguments only to check their dtype and choose
a namespace (``SCIPY_ARRAY_API=1``): it gets a 0-d array of the Tensor's dtype,
holding no data, and the function then calls the ufunc on the Tensor itself."""

SCIPY_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    "scipy.special.expit": ops.sigmoid,
    "scipy.special.log_expit": ops.log_sigmoid,
    "scipy.special.logsumexp": ops.logsumexp,
    "scipy.special.softmax": ops.softmax,
    "scipy.special.log_softmax": ops.log_softmax,
}
"""SciPy functions and the engine's counterpart named when one is refused."""


def _public_module(module):
    """``scipy.special`` for ``scipy.special._logsumexp``."""
    public = []
    for part in module.split("."):
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join(public)


def _public_name(frame):
    """``scipy.special.logsumexp`` for a frame of ``scipy.special._logsumexp``,
    ``scipy.sparse.csr_matrix.multiply`` for a method's."""
    code = frame.f_code
    if code.co_argcount and code.co_varnames[0] == "self":
        owner = type(frame.f_locals.get("self"))
        return f"{_public_module(owner.__module__)}.{owner.__name__}.{code.co_name}"
    return f"{_public_module(frame.f_globals.get('__name__', ''))}.{code.co_name}"


def _scipy_caller(frame):
    """The public name of the SciPy function running ``frame``, or None: the
    outermost SciPy frame before the caller's own code."""
    name = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("scipy."):
            name = _public_name(frame)
        elif name is not None and not module.startswith("numpy"):
            break
        frame = frame.f_back
    return name


def _array(self, dtype=None, copy=None):
    """NumPy's conversion protocol: refused, a Tensor never becomes an array.

    ``np.asarray(t)``, ``np.array(t)``, ``ndarray.dot(t)``, a NumPy function
    given a list of Tensors (NumPy converts lists without dispatching), and
    library code that converts its input all raise a TypeError here: an
    array, even an object array holding the Tensor, would carry no gradient.
    """
    caller = sys._getframe(1).f_code
    if caller in _OPAQUE_TO:
        box = np.empty((), dtype=object)
        box[()] = self
        return box
    if caller in _DTYPE_PROBES:
        return np.zeros((), self._value.dtype)
    if _tensor._recorders:
        _tensor._escaped(self, "converts a Tensor to an array")
    name = _scipy_caller(sys._getframe(1))
    if name is not None:
        raise TypeError(
            f"{name} converts its input to a NumPy array, which would drop the "
            f"Tensor's gradient silently: it is not supported on skvgrad Tensors. "
            f"{_alternatives(name)}"
        )
    raise TypeError(
        "A Tensor cannot become a NumPy array: the array would drop its gradient "
        "silently (np.asarray(t), np.array(t), ndarray.dot(t), or a NumPy function "
        "given a list of Tensors, which NumPy converts without asking them). Use "
        "engine functions, which NumPy's own functions and operators on Tensors "
        "run (np.stack([t, u]) before a reduction of several Tensors, X @ t "
        "rather than X.dot(t)), or t.value to leave the graph on purpose."
    )


_IN_PLACE = frozenset(
    "fill sort partition put resize itemset setfield setflags byteswap".split()
)


def _missing_message(name):
    """Why a Tensor lacks ndarray's attribute ``name``, and what to use instead."""
    function = getattr(np, name, None)
    if name == "tolist":
        instead = (
            "list(t) gives a list of Tensors (rows), which keeps the gradient; "
            "t.value.tolist() gives numbers without a gradient (outside training)."
        )
    elif name in _IN_PLACE:
        instead = (
            "Tensors are never changed in place (the graph needs their values): "
            "t.at[index].set(v) returns a new Tensor."
        )
    elif function in FUNCTIONS:
        instead = f"numpy.{name}(t) runs the engine's operation, with a gradient."
    elif function in VALUE_FUNCTIONS:
        instead = f"numpy.{name}(t) computes it on the values, without a gradient."
    else:
        instead = (
            f"Write it with skvgrad.engine operations, or use t.value.{name} to "
            "read the data without a gradient (outside training)."
        )
    return (
        f"'Tensor' object has no attribute {name!r}: the engine has no "
        f"differentiable ndarray.{name}. {instead}"
    )


class _Missing:
    """An attribute of ndarray's that Tensors lack: reading it on a Tensor raises
    an AttributeError that says what to use instead (``hasattr`` is False).

    A descriptor per name rather than ``Tensor.__getattr__``, which would slow
    down every attribute access of the engine."""

    def __init__(self, name):
        self.name = name

    def __get__(self, tensor, owner=None):
        if tensor is None:
            return self
        raise AttributeError(_missing_message(self.name))


def _any(self, axis=None, keepdims=False):
    """Whether any element is nonzero (a plain boolean, no gradient)."""
    return np.any(self, axis=axis, keepdims=keepdims)


def _all(self, axis=None, keepdims=False):
    """Whether all elements are nonzero (a plain boolean, no gradient)."""
    return np.all(self, axis=axis, keepdims=keepdims)


Tensor.any = _any
Tensor.all = _all
Tensor.__array__ = _array  # type: ignore[attr-defined]  # undeclared on purpose
for _name in dir(np.ndarray):
    if not _name.startswith("_") and not hasattr(Tensor, _name):
        setattr(Tensor, _name, _Missing(_name))
del _name
Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
