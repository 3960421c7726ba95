"""The graph mechanism: Tensor, ``primitive``, ``unbroadcast`` and the backward pass.

This module knows no operator: arithmetic, methods such as ``.exp()`` and NumPy's
dispatch protocols are attached to :class:`Tensor` one layer up, by
:mod:`skvgrad.engine.ops` and :mod:`skvgrad.engine.numpy_api`. What is here is
the Tensor's data and Python protocols (truth value, length, iteration, hashing
by identity, conversion to numbers), how an operation records itself, and how
gradients flow back.

A recorded node keeps ``_parents`` (its Tensor inputs), ``_vjps`` (one
vector-Jacobian product per parent, called as ``vjp(g, ans, *_args)``) and
``_args`` (the input values the VJPs read). Nothing else is built per
operation: the engine's primitives are declared once with :func:`_defvjp`,
forward beside VJPs, and the public :func:`primitive` adapts closure-style
VJPs to the same layout. A leaf has ``_vjps == ()``; a node whose backward pass
has run has ``_vjps is None`` (released: its inputs are no longer referenced,
so the graph is freed as it is traversed, and a second pass through it raises).
"""

from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    NamedTuple,
    NoReturn,
    ParamSpec,
    TypeAlias,
    overload,
)

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, DTypeLike, NDArray
from sklearn.externals import array_api_compat

if TYPE_CHECKING:
    from skvgrad.engine.ops import _At

_P = ParamSpec("_P")

_next_order = itertools.count().__next__  # creation order: inputs before results
_LEAF = ()  # the ``_vjps`` of a leaf
_tracing: set[int] = set()  # the threads in which a grad transform is tracing
_traced_leaves: set[Tensor] = set()  # the leaves of the functions being traced
_recorders: dict[int, Any] = {}  # thread identity -> the Recorder tracing in it
_PUBLIC: dict[Callable[..., Any], Callable[..., Any]] = {}  # forward -> operation

# What the engine's operations take: Tensors, arrays, anything NumPy converts.
TensorLike: TypeAlias = "Tensor | ArrayLike"
# What an operation returns: a Tensor when any argument is one, otherwise a
# plain ndarray (or number). Which one depends on the arguments' runtime types,
# so the type is Any; Tensor's methods and operators always return Tensors.
Result: TypeAlias = Any
# An axis argument of a reduction: one axis, several, or all of them (None).
Axis: TypeAlias = "int | tuple[int, ...] | None"


class Into(NamedTuple):
    """A primitive's forms that write into given buffers, for replays.

    ``forward(out, *args, **kwargs)`` writes the result into ``out`` (of the
    result's shape and dtype); ``out`` may be the array of an input listed in
    ``inplace`` (same shape and dtype) when nothing reads that input later.
    ``backward(grads, g, ans, *args, **kwargs)`` writes the gradient of each
    positional input ``i`` into ``grads[i]`` (an array of its shape and dtype,
    or None where none is needed); it may overwrite ``g``, never ``ans`` or the
    inputs. Without ``backward`` the declared VJPs run. ``reads`` names what the
    backward pass (``backward`` or the VJPs) reads the values of: ``"ans"``
    and input positions (shapes and dtypes are always available); None, all
    of them. With
    ``memo``, both forms receive ``memo=``, a dict the replay keeps for the
    step (for what the forward computes and the backward reuses).
    """

    forward: Any = None
    backward: Any = None
    reads: tuple | None = None
    inplace: tuple = ()
    memo: bool = False


class Declaration(NamedTuple):
    """How to run a primitive on plain arrays, without a graph (``op.declaration``).

    ``forward(*args, **kwargs)`` computes the result; a primitive declared
    with :func:`_defvjp` has ``vjps`` (``vjp(g, ans, *args, **kwargs)`` per
    positional input, or one ``vjp(i, g, ans, *args, **kwargs)`` when
    ``variadic``), whose gradients ``exact`` ones fit to their input
    themselves; one made by :func:`primitive` has ``closures``: its forward
    returns ``(ans, vjps)``. ``into`` holds the optional forms that write into
    given buffers (see :mod:`skvgrad.engine.replay`). ``xp`` holds
    ``(forward, *vjps)`` written against an Array API namespace, each taking it
    first (``forward(xp, *args)``, ``vjp(xp, g, ans, *args)``): how the
    primitive runs on arrays other than NumPy's (None: NumPy only). A
    :func:`primitive`'s forward receives the arrays of any namespace itself.
    """

    forward: Any
    vjps: tuple = ()
    variadic: bool = False
    exact: bool = False
    closures: bool = False
    into: Any = None
    xp: Any = None


class Tensor:
    """An ndarray that records the operations applied to it, for reverse-mode AD.

    A Tensor created by the user is a leaf of the computation graph. Every engine
    operation that receives at least one Tensor returns a new Tensor that
    remembers its inputs and how to pull a gradient back to them.
    :meth:`backward` then fills ``.grad`` of every Tensor in the graph with the
    gradient of the result with respect to it.

    NumPy arrays and Python numbers work on either side of every operator, and
    NumPy's own functions (``np.exp(t)``, ``np.sum(t)``, ``np.dot(a, t)``, ...)
    run the engine's operation; one the engine lacks raises a TypeError. Python's
    protocols behave as on arrays: ``==`` compares elementwise, ``bool`` of more
    than one element raises, a 0-d Tensor is not iterable. A Tensor never turns
    into a number or an array by itself (``float(t)``, ``np.asarray(t)`` and
    ``ndarray.dot(t)`` raise): ``t.value`` and ``t.item()`` leave the graph
    explicitly. Tensors are immutable: ``t.at[index].set(v)`` is the functional
    form of ``t[index] = v``.

    Methods, attached by :mod:`skvgrad.engine.ops`, mirror the engine's
    functions: ``exp log log1p expm1 sqrt square abs sign sin cos tanh sigmoid
    relu softplus log_sigmoid sum mean max min prod var std cumsum logsumexp
    softmax log_softmax clip reshape transpose squeeze flatten ravel swapaxes
    take pad matmul dot astype copy``, with ``.T`` and ``.at``; ``any`` and
    ``all`` read the values. Another ndarray attribute raises an
    AttributeError that says what to use instead.

    Parameters
    ----------
    value : array-like
        Real data. Integer and boolean data are stored as float64; float32 stays
        float32. Complex, object and string data, ``None`` and Tensors are
        refused (``Tensor(t.value)`` makes a new leaf with ``t``'s data).

    Attributes
    ----------
    value : ndarray
        The data.
    grad : ndarray or None
        The gradient written by the last :meth:`backward` that reached this
        Tensor, with the shape and dtype of ``value``. Each leaf owns its
        gradient (a writable array no other Tensor holds).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import Tensor
    >>> x = Tensor(np.array([1.0, 2.0, 3.0]))
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])
    >>> np.exp(x).sum().backward()  # NumPy's functions dispatch to the engine
    >>> x.grad
    array([ 2.71828183,  7.3890561 , 20.08553692])
    """

    __slots__ = (
        "_value",
        "grad",
        "_parents",
        "_vjps",
        "_args",
        "_order",
        "__weakref__",
    )
    __hash__ = object.__hash__  # by identity, although ``==`` is elementwise
    _value: NDArray[Any]
    grad: NDArray[Any] | None
    _parents: tuple[Tensor, ...]
    _vjps: Any  # a tuple of VJPs; None once a backward pass released the node
    _args: Any  # what the VJPs read
    _order: int

    def __init__(self, value: ArrayLike) -> None:
        self._value = _as_real_array(value)
        self.grad = None
        self._parents = ()
        self._vjps = _LEAF
        self._args = None
        self._order = _next_order()

    @property
    def value(self) -> NDArray[np.floating[Any]]:
        """The data (an ndarray): reading it leaves the graph on purpose."""
        if _recorders:
            _escaped(self, "reads .value")
        return self._value

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``value``."""
        return self._value.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions of ``value``."""
        return self._value.ndim

    @property
    def size(self) -> int:
        """Number of elements of ``value``."""
        return _size(self._value)

    @property
    def dtype(self) -> np.dtype[Any]:
        """dtype of ``value``."""
        return self._value.dtype

    def item(self) -> float:
        """The value of a one-element Tensor as a Python number (no gradient)."""
        if _recorders:
            _escaped(self, "calls .item()")
        value = self._value
        if type(value) is np.ndarray:
            return value.item()
        return float(value) if _size(value) == 1 else value.item()

    def __repr__(self) -> str:
        if type(self._value) is not np.ndarray:
            return f"Tensor({self._value!r})"
        text = np.array2string(self._value, separator=", ", prefix="Tensor(")
        return f"Tensor({text})"

    def __format__(self, spec: str) -> str:
        return format(self._value, spec) if spec else repr(self)

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self._value)

    def __iter__(self) -> Iterator[Tensor]:
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[i] for i in range(len(self._value)))

    def __contains__(self, item: object) -> bool:
        found = self._value == (item._value if isinstance(item, Tensor) else item)
        if type(self._value) is not np.ndarray:
            return bool(array_api_compat.array_namespace(found).any(found))
        return bool(np.any(found))

    def __bool__(self) -> bool:
        size = _size(self._value)
        if size != 1:
            raise ValueError(
                "The truth value of a Tensor with more than one element is "
                "ambiguous. Use t.any() or t.all()"
                if size
                else "The truth value of an empty Tensor is ambiguous."
            )
        if _recorders:
            _escaped(self, "takes bool() of a Tensor (an if or a while on its value)")
        return bool(self._value)

    def __float__(self) -> NoReturn:
        raise TypeError(_LEAVES_THE_GRAPH.format(what="float()"))

    def __int__(self) -> NoReturn:
        raise TypeError(_LEAVES_THE_GRAPH.format(what="int()"))

    def __complex__(self) -> NoReturn:
        raise TypeError(_LEAVES_THE_GRAPH.format(what="complex()"))

    def backward(self, grad: ArrayLike | None = None) -> None:
        """Fill ``.grad`` of every Tensor this one depends on.

        Parameters
        ----------
        grad : array-like, optional
            The gradient of the final result with respect to this Tensor,
            broadcast to its shape. Defaults to 1, which requires this Tensor to
            hold a single value.

        Raises
        ------
        RuntimeError
            If a backward pass already went through part of this graph: each
            pass releases the graph it traverses. Differentiate one result
            that combines the others (``(a + b).backward()``) instead.
        NotImplementedError
            If called while a function is being differentiated by
            :func:`~skvgrad.engine.grad`: higher-order derivatives are not
            supported.

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad.engine import Tensor
        >>> w = Tensor(np.array([1.0, -2.0]))
        >>> (w * w).backward(np.array([1.0, 10.0]))  # a vector-Jacobian product
        >>> w.grad
        array([  2., -40.])
        """
        _refuse_nested("backward() was called")
        value = self._value
        if grad is None:
            if _size(value) != 1:
                raise ValueError(
                    "backward() without a gradient needs a Tensor with a single "
                    f"value; this one has shape {value.shape}. Pass grad= or "
                    "reduce it first, e.g. with .sum()."
                )
            grad = _ones(value)
        else:
            if isinstance(grad, Tensor):
                raise TypeError("backward(grad=...) takes an array, not a Tensor.")
            if type(value) is not np.ndarray:
                backward(self, _seed(grad, value))
                return
            if _is_foreign(grad):
                raise _mixed("backward", [value, grad])
            grad = np.asarray(grad)
            if grad.dtype.kind not in "biuf":
                raise TypeError(f"backward(grad=...) must be real, not {grad.dtype}.")
            grad = np.array(np.broadcast_to(grad, value.shape), dtype=value.dtype)
        backward(self, grad)

    if TYPE_CHECKING:
        # Attached by skvgrad.engine.ops and skvgrad.engine.numpy_api; declared
        # here for type checkers. Every operation of a Tensor is a Tensor.
        def __add__(self, other: TensorLike) -> Tensor: ...
        def __radd__(self, other: TensorLike) -> Tensor: ...
        def __sub__(self, other: TensorLike) -> Tensor: ...
        def __rsub__(self, other: TensorLike) -> Tensor: ...
        def __mul__(self, other: TensorLike) -> Tensor: ...
        def __rmul__(self, other: TensorLike) -> Tensor: ...
        def __truediv__(self, other: TensorLike) -> Tensor: ...
        def __rtruediv__(self, other: TensorLike) -> Tensor: ...
        def __pow__(self, other: TensorLike) -> Tensor: ...
        def __rpow__(self, other: TensorLike) -> Tensor: ...
        def __matmul__(self, other: TensorLike) -> Tensor: ...
        def __rmatmul__(self, other: TensorLike) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: Any) -> NoReturn: ...
        def __lt__(self, other: TensorLike) -> NDArray[np.bool_]: ...
        def __le__(self, other: TensorLike) -> NDArray[np.bool_]: ...
        def __gt__(self, other: TensorLike) -> NDArray[np.bool_]: ...
        def __ge__(self, other: TensorLike) -> NDArray[np.bool_]: ...
        def __eq__(self, other: object) -> NDArray[np.bool_]: ...  # type: ignore[override]  # elementwise, as ndarray's
        def __ne__(self, other: object) -> NDArray[np.bool_]: ...  # type: ignore[override]  # elementwise, as ndarray's
        @property
        def T(self) -> Tensor: ...
        @property
        def at(self) -> _At: ...
        def reshape(self, *shape: Any) -> Tensor: ...
        def transpose(self, *axes: Any) -> Tensor: ...
        def flatten(self) -> Tensor: ...
        def ravel(self) -> Tensor: ...
        def squeeze(self, axis: Axis = None) -> Tensor: ...
        def swapaxes(self, axis1: int, axis2: int) -> Tensor: ...
        def matmul(self, b: TensorLike) -> Tensor: ...
        def dot(self, b: TensorLike) -> Tensor: ...
        def pad(
            self,
            pad_width: Any = None,
            mode: str = "constant",
            constant_values: Any = None,
        ) -> Tensor: ...
        def take(
            self, indices: ArrayLike, axis: int | None = None, mode: str = "raise"
        ) -> Tensor: ...
        def clip(
            self, a_min: TensorLike | None = None, a_max: TensorLike | None = None
        ) -> Tensor: ...
        def astype(self, dtype: DTypeLike, copy: bool = True) -> Tensor: ...
        def copy(self) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def log1p(self) -> Tensor: ...
        def expm1(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def square(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def sign(self) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def relu(self) -> Tensor: ...
        def softplus(self) -> Tensor: ...
        def log_sigmoid(self) -> Tensor: ...
        def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
        def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
        def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
        def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
        def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
        def var(
            self, axis: Axis = None, ddof: float = 0, keepdims: bool = False
        ) -> Tensor: ...
        def std(
            self, axis: Axis = None, ddof: float = 0, keepdims: bool = False
        ) -> Tensor: ...
        def cumsum(self, axis: int | None = None) -> Tensor: ...
        def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor: ...
        def softmax(self, axis: int = -1) -> Tensor: ...
        def log_softmax(self, axis: int = -1) -> Tensor: ...
        def any(self, axis: Axis = None, keepdims: bool = False) -> Any: ...
        def all(self, axis: Axis = None, keepdims: bool = False) -> Any: ...
        # NumPy's protocols: its ufuncs and functions run the engine's operations.
        # __array__, which refuses conversion (TypeError), is not declared: to a
        # type checker a Tensor is no ArrayLike, so ``ndarray @ Tensor`` is a
        # Tensor (NumPy defers to it); NumPy's ufuncs on a Tensor give Any, and
        # its other functions (np.sum, np.dot) are flagged: use the engine's.
        def __array_ufunc__(
            self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
        ) -> Any: ...
        def __array_function__(
            self, func: Any, types: Any, args: Any, kwargs: Any
        ) -> Any: ...


def _ones(like):
    """An array of ones of the shape and dtype of ``like`` (faster than np.ones)."""
    if type(like) is not np.ndarray:
        return _seed(1, like)
    out = np.empty(like.shape, like.dtype)
    out.fill(1)
    return out


_LEAVES_THE_GRAPH = (
    "{what} of a Tensor would drop its gradient silently. Use t.value (an "
    "ndarray) or t.item() (a number) to leave the graph on purpose, or an engine "
    "function to stay in it."
)


def _as_real_array(value):
    """``value`` as a real floating-point ndarray; integers and booleans as float64."""
    if isinstance(value, Tensor):
        raise TypeError(
            "Tensor() of a Tensor would cut it from its graph. Use the Tensor "
            "itself, or Tensor(t.value) for a new leaf holding the same data."
        )
    if type(value) is not np.ndarray and _is_foreign(value):
        xp = array_api_compat.array_namespace(value)
        if xp.isdtype(value.dtype, "real floating"):
            return value
        if xp.isdtype(value.dtype, ("bool", "integral")):
            return xp.astype(value, xp.float64)
        raise TypeError(
            f"A Tensor holds real numbers; got {_library(value)} data of dtype "
            f"{value.dtype}."
        )
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "f":
        return array
    if kind in "biu":
        return array.astype(np.float64)
    if kind == "c":
        raise TypeError(
            "Complex values are not supported: the engine differentiates real "
            "functions of real arrays."
        )
    raise TypeError(
        f"A Tensor holds real numbers; got {type(value).__name__} "
        f"(dtype {array.dtype})."
    )


# Other Array API namespaces ---------------------------------------------------------
#
# A Tensor's value is a NumPy array or an array of another Array API namespace
# (PyTorch, CuPy, array-api-strict, ...). NumPy runs the primitives' own forward
# functions and VJPs (in-place kernels, ufuncs); any other namespace runs the
# ``xp`` column of their declarations, ``forward(xp, *args)`` and
# ``vjp(xp, g, ans, *args)`` written once against the namespace, through
# :func:`_xp_apply`. The operations reach it only when a value is not an
# ndarray, so NumPy's path pays one type check.


def _size(value):
    """The number of elements of an array of any namespace."""
    return value.size if type(value) is np.ndarray else math.prod(value.shape)


_NDARRAY = np.ndarray  # one global lookup in the operations' type checks
_FOREIGN = {np.ndarray: False}  # type -> whether its instances are foreign arrays


def _is_foreign(x):
    """Whether ``x`` is an array of an Array API namespace other than NumPy."""
    kind = type(x)
    foreign = _FOREIGN.get(kind)
    if foreign is None:
        foreign = (
            not issubclass(kind, (np.ndarray, np.generic, Tensor))
            and array_api_compat.is_array_api_obj(x)
            and not array_api_compat.is_numpy_array(x)
        )
        if len(_FOREIGN) < 256:
            _FOREIGN[kind] = foreign
    return foreign


def _library(x):
    """The name of the library of an array: "numpy", "torch", "cupy", ..."""
    return type(x).__module__.partition(".")[0]


def _mixed(name, arrays):
    """The error refusing to combine arrays of different namespaces."""
    libraries = sorted({_library(a) for a in arrays})
    return TypeError(
        f"{name} got {' and '.join(libraries)} arrays together: the engine never "
        "converts between array namespaces silently. Convert the constants to the "
        f"namespace (and device) of the Tensors' values first, e.g. with "
        f"xp.asarray(array, device=...)."
    )


_NAMESPACES: dict[type, Any] = {}  # array type -> its Array API namespace


def _namespace(name, values):
    """The namespace and device of the arrays among ``values`` (Python numbers
    aside); a TypeError naming both when they mix namespaces, a ValueError
    naming both devices when they mix devices."""
    arrays = [
        v
        for v in values
        if not isinstance(v, (int, float, np.generic, str, type(None)))
        and (isinstance(v, np.ndarray) or _is_foreign(v))
    ]
    kind = type(arrays[0])
    if not all([type(a) is kind for a in arrays]) or not _is_foreign(arrays[0]):
        if len({_library(a) for a in arrays}) > 1 or not all(map(_is_foreign, arrays)):
            raise _mixed(name, arrays)
    device = arrays[0].device
    for a in arrays:
        if a.device != device:
            raise ValueError(
                f"{name} got arrays on different devices ({device} and "
                f"{a.device}): move them to one device first."
            )
    xp = _NAMESPACES.get(kind)
    if xp is None:
        xp = _NAMESPACES[kind] = array_api_compat.array_namespace(arrays[0])
    return xp, device


def _xp_value(x, xp, device):
    """An input of an operation on another namespace: NumPy scalars as Python
    numbers, lists and tuples as arrays of the namespace on ``device``."""
    if isinstance(x, Tensor):
        return x._value
    if isinstance(x, np.generic):
        return x.item()
    if type(x) in (list, tuple):
        return xp.asarray(x, device=device)
    return x


def _seed(grad, like):
    """``grad`` broadcast to the shape of ``like`` (of another namespace), in
    its dtype, a new array on its device."""
    xp = array_api_compat.array_namespace(like)
    device = array_api_compat.device(like)
    if _is_foreign(grad):
        _namespace("backward", [grad, like])
    elif not isinstance(grad, (int, float)):
        raise _mixed("backward", [grad, like])
    grad = xp.asarray(grad, dtype=like.dtype, device=device)
    return xp.asarray(xp.broadcast_to(grad, like.shape), copy=True)


def _xp_fit(xp, grad, like):
    """A gradient summed back to the shape of ``like`` and cast to its dtype."""
    if grad is None:
        device = like.device
        return xp.zeros(like.shape, dtype=like.dtype, device=device)
    if isinstance(grad, (int, float)):
        grad = xp.asarray(grad, dtype=like.dtype, device=like.device)
    shape = tuple(like.shape)
    if tuple(grad.shape) != shape:
        extra = grad.ndim - len(shape)
        if extra > 0:
            grad = xp.sum(grad, axis=tuple(range(extra)))
        stretched = tuple(
            [i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1]
        )
        if stretched:
            grad = xp.sum(grad, axis=stretched, keepdims=True)
        if tuple(grad.shape) != shape:
            raise ValueError(
                f"A gradient of shape {tuple(grad.shape)} cannot belong to an input "
                f"of shape {shape}: a VJP returned the wrong shape."
            )
    if grad.dtype != like.dtype:
        grad = xp.astype(grad, like.dtype)
    return grad


_PULLS: dict[
    tuple[Any, ...], Any
] = {}  # (vjp, i, xp, variadic) -> its pull, for operations without options


def _xp_pull(vjp, i, xp, kwargs, variadic):
    """The VJP of input ``i`` of an operation on another namespace (made once
    per VJP, input and namespace when the operation has no options)."""
    if not kwargs:
        key = (vjp, i, xp, variadic)
        pull = _PULLS.get(key)
        if pull is None:
            pull = _PULLS[key] = _make_pull(vjp, i, xp, kwargs, variadic)
        return pull
    return _make_pull(vjp, i, xp, kwargs, variadic)


def _make_pull(vjp, i, xp, kwargs, variadic):
    """See :func:`_xp_pull`."""

    def pull(g, ans, *args):
        like = args[i]
        if variadic:
            grad = vjp(xp, i, g, ans, *args, **kwargs)
        else:
            grad = vjp(xp, g, ans, *args, **kwargs)
        return _xp_fit(xp, grad, like)

    return pull


def _xp_closure(i, xp):
    """The VJP of input ``i`` of a :func:`primitive` on another namespace."""

    def pull(g, ans, vjps, values):
        vjp = vjps[i] if i < len(vjps) else None
        return _xp_fit(xp, None if vjp is None else vjp(g), values[i])

    return pull


def _xp_apply(op, args, kwargs):
    """Run ``op`` on arrays of a namespace other than NumPy (see above)."""
    declaration = op.declaration
    name = getattr(op, "__name__", "an operation")
    values = [_value(a) for a in args]
    xp, device = _namespace(name, values + list(kwargs.values()))
    if _recorders:
        raise TypeError(
            f"{name} on {_library(next(v for v in values if _is_foreign(v)))} "
            "arrays cannot be traced: traces (replay, ONNX export) record NumPy "
            "arrays only."
        )
    values = [_xp_value(a, xp, device) for a in args]
    if not declaration.closures and len(declaration.vjps) == 2:
        # Python numbers as 0-d arrays of the other operand's dtype, as NumPy's
        # path makes them (and as functions such as xp.maximum need them).
        dtype = next(v.dtype for v in values if _is_foreign(v))
        values = [
            xp.asarray(v, dtype=dtype, device=device)
            if isinstance(v, (int, float))
            else v
            for v in values
        ]
    plain = _plain(kwargs) if kwargs else kwargs
    where = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if declaration.closures:
        ans, vjps = declaration.forward(*values, **plain)
        pulls = tuple([_xp_closure(i, xp) for i in where])
        stored = (vjps, values)
    else:
        if declaration.xp is None:
            raise TypeError(
                f"{name} is not available on "
                f"{_library(_first_foreign(values))} arrays: it runs on NumPy "
                "arrays only."
            )
        forward, *vjps = declaration.xp
        ans = forward(xp, *values, **plain)
        variadic = declaration.variadic
        pulls = tuple(
            [
                _xp_pull(vjps[0] if variadic else vjps[i], i, xp, plain, variadic)
                for i in where
            ]
        )
        stored = values
    if not _is_foreign(ans):
        ans = xp.asarray(ans, device=device)
    if not xp.isdtype(ans.dtype, "real floating"):
        if not where:
            return ans
        raise TypeError(
            f"{name} returned {ans.dtype} values; the engine works on real floats."
        )
    if not where:
        return ans
    parents = tuple([args[i] for i in where])
    return _node(ans, parents, pulls, tuple(stored))


def _first_foreign(values):
    """The first array of another namespace among ``values``."""
    return next(v for v in values if _is_foreign(v))


def _xp_owned(g, value):
    """A leaf's gradient of another namespace: checked, cast, its own array."""
    xp = array_api_compat.array_namespace(value)
    if tuple(g.shape) != tuple(value.shape):
        raise ValueError(
            f"A gradient of shape {tuple(g.shape)} reached a Tensor of shape "
            f"{tuple(value.shape)}: an operation's VJP is wrong."
        )
    if g.dtype != value.dtype:
        return xp.astype(g, value.dtype)
    return xp.asarray(g, copy=True)


def _higher_order(what):
    """The error refusing a higher-order derivative."""
    return NotImplementedError(
        f"{what}: higher-order derivatives (grad of grad, Hessians) are not "
        "supported by skvgrad.engine. Use HIPS autograd or PyTorch for them."
    )


def _refuse_nested(what):
    """Raise if a gradient transform is tracing a function in this thread."""
    if _tracing and threading.get_ident() in _tracing:
        raise _higher_order(f"{what} while another function is being differentiated")


def _plain(kwargs):
    """Keyword arguments with Tensors replaced by their values: options are
    never differentiated (a trace passes its inputs to them as Tensors)."""
    for value in kwargs.values():
        if isinstance(value, Tensor):
            return {
                k: v._value if isinstance(v, Tensor) else v for k, v in kwargs.items()
            }
    return kwargs


def _recorded(forward, args, kwargs, out):
    """Hand a new Tensor to the recorder tracing in this thread, if any."""
    recorder = _recorders.get(threading.get_ident())
    if recorder is not None:
        recorder.step(_PUBLIC.get(forward, forward), args, kwargs, out)


def _escaped(tensor, what):
    """Tell the recorder tracing in this thread that its function ``what``."""
    recorder = _recorders.get(threading.get_ident())
    if recorder is not None:
        recorder.escape(tensor, what)


def _recorded_value(op, args, ans, kwargs=None):
    """``ans = op(*args)`` without a gradient, recorded (and traced) if need be:
    an operation on no Tensor but on a traced comparison's result is part of
    the record too."""
    recorder = _recorders.get(threading.get_ident())
    if recorder is None:
        return ans
    return recorder.value_step(_PUBLIC.get(op, op), args, ans, kwargs)


def _recorded_condition(condition, plain):
    """``where``'s boolean ``plain`` condition, traced if ``condition`` is."""
    recorder = _recorders.get(threading.get_ident())
    return plain if recorder is None else recorder.condition(condition, plain)


def _node(value, parents, vjps, args):
    """A new Tensor recorded from ``parents``; see :func:`_defvjp` for the rest."""
    out = _new(Tensor)
    out._value = value
    out.grad = None
    out._parents = parents
    out._vjps = vjps
    out._args = args
    out._order = _next_order()
    return out


_new = Tensor.__new__


@overload
def primitive(
    forward: Callable[..., tuple[Any, Any]], *, into: Into | None = None
) -> Callable[..., Result]: ...
@overload
def primitive(
    forward: None = None, *, into: Into | None = None
) -> Callable[[Callable[..., tuple[Any, Any]]], Callable[..., Result]]: ...
def primitive(
    forward: Callable[..., tuple[Any, Any]] | None = None, *, into: Into | None = None
) -> Any:
    """Make an engine operation from a forward function that states its VJPs.

    ``forward(*values, **kwargs)`` receives plain arrays and returns
    ``(result, vjps)``, where ``vjps[i](g)`` maps the gradient ``g`` of the
    result to the gradient of the ``i``-th positional input. Only the VJPs of
    inputs that are Tensors are ever called; inputs past the end of ``vjps``
    (or whose VJP is None) get a zero gradient, and so does an input whose VJP
    returns None. A VJP may return a gradient of the broadcast result's shape
    or of another floating dtype: it is summed back to its input's shape
    (:func:`unbroadcast`) and cast to its input's dtype. Keyword arguments are
    passed through and never differentiated.

    Called with no Tensor among its inputs, the operation returns the plain
    result and records nothing. The result must be real (complex results are
    refused with a TypeError).

    Parameters
    ----------
    forward : callable
        The forward function with its VJPs, as described above. Without it,
        ``primitive(into=...)`` returns a decorator.
    into : object, optional
        Forms of the forward and backward passes that write into given
        buffers, used when the operation is replayed (see
        :mod:`skvgrad.engine.replay`).

    Returns
    -------
    op : callable
        The operation, taking Tensors, arrays or numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import Tensor, primitive
    >>> @primitive
    ... def cube(x):
    ...     return x**3, (lambda g: g * 3 * x**2,)
    >>> t = Tensor(np.array([1.0, 2.0]))
    >>> cube(t).sum().backward()
    >>> t.grad
    array([ 3., 12.])
    >>> cube(np.array([2.0]))
    array([8.])
    """

    if forward is None:
        return functools.partial(primitive, into=into)

    @functools.wraps(forward)
    def op(*args, **kwargs):
        values, parents, where = [], [], []
        i = 0
        for arg in args:
            if isinstance(arg, Tensor):
                values.append(arg._value)
                parents.append(arg)
                where.append(i)
                if type(arg._value) is not _NDARRAY:
                    return _xp_apply(op, args, kwargs)
            else:
                if type(arg) is not np.ndarray and _is_foreign(arg):
                    return _xp_apply(op, args, kwargs)
                values.append(arg)
            i += 1
        if not parents:
            ans = forward(*args, **kwargs)[0]
            return _recorded_value(forward, args, ans, kwargs) if _recorders else ans
        ans, vjps = forward(*values, **(_plain(kwargs) if kwargs else kwargs))
        if type(ans) is not np.ndarray or ans.dtype.kind != "f":
            ans = _real(ans, forward)
        out = _new(Tensor)
        out._value = ans
        out.grad = None
        out._parents = tuple(parents)
        n = len(where)
        out._vjps = _CALLERS[:n] if n <= 8 else _callers(n)
        out._args = (vjps, values, where)
        out._order = _next_order()
        if _recorders:
            _recorded(forward, args, kwargs, out)
        return out

    _PUBLIC[forward] = op
    op.declaration = Declaration(forward, closures=True, into=into)  # type: ignore[attr-defined]  # read by replays
    return op


def _call(i):
    """The VJP of a :func:`primitive`'s ``i``-th parent (the input ``where[i]``):
    its closure applied to ``g``, the gradient fitted to the input."""

    def call(g, ans, vjps, values, where):
        j = where[i]
        like = values[j]
        grad = vjps[j](g) if j < len(vjps) and vjps[j] is not None else None
        if type(grad) is np.ndarray and grad.shape == like.shape:
            if grad.dtype == like.dtype:
                return grad
        elif grad is None:
            return np.zeros(like.shape, like.dtype)
        return unbroadcast(grad, like.shape, like.dtype)

    return call


_CALLERS = tuple([_call(i) for i in range(8)])


def _callers(n):
    """``(_call(0), ..., _call(n - 1))``."""
    if n <= len(_CALLERS):
        return _CALLERS[:n]
    return _CALLERS + tuple([_call(i) for i in range(len(_CALLERS), n)])


def _defvjp(
    *vjps: Callable[..., Any],
    variadic: bool = False,
    numbers_as_arrays: bool = True,
    sparse: bool = False,
    exact: bool = False,
    into: Into | None = None,
) -> Callable[[Callable[_P, Any]], Callable[_P, Result]]:
    """Decorate a forward function into a primitive with the VJPs ``vjps``.

    The engine's own way to declare a primitive, forward beside VJPs, as HIPS
    autograd's ``defvjp``: ``forward(*args, **kwargs)`` computes the plain result
    ``ans``; ``vjps[i](g, ans, *args, **kwargs)`` returns the gradient of
    positional input ``i``, of exactly its shape and dtype (the operation fits
    those of binary primitives, see :func:`_binary_op`). With ``variadic``, one
    VJP serves every positional input, called as ``vjp(i, g, ans, *args)``.
    ``numbers_as_arrays=False`` keeps Python numbers as they are (see
    :func:`_binary_op`); ``sparse=True`` accepts a SciPy sparse matrix as the
    constant operand (the left one of ``matmul``), which is refused otherwise:
    the meaning of ``*`` differs between sparse matrices and arrays;
    ``exact=True`` says that the VJPs of a binary primitive fit their
    gradients themselves. Nothing is built per call but the result: the VJPs
    read what they need from ``ans`` and the inputs, which the node keeps.
    """

    def decorate(forward: Callable[_P, Any]) -> Callable[_P, Result]:
        if variadic:
            op = _variadic_op(forward, vjps[0])
        elif len(vjps) == 2:
            op = _binary_op(forward, vjps, numbers_as_arrays, sparse, exact)
        elif len(vjps) == 1:
            lean = len(inspect.signature(forward).parameters) == 1
            op = (_lean_unary_op if lean else _unary_op)(forward, vjps)
        else:
            raise ValueError("_defvjp takes one or two VJPs, or variadic=True.")
        op = _wraps(forward, op)
        op.declaration = Declaration(forward, vjps, variadic, exact, into=into)
        return op

    return decorate


def _wraps(forward: Callable[..., Any], op: Callable[..., Any]) -> Any:
    """``op`` named and documented as ``forward`` (and known as its operation)."""
    _PUBLIC[forward] = op
    return functools.wraps(forward)(op)


def _bind(vjps, kwargs):
    """``vjps`` with the keyword arguments of the call bound."""
    return tuple([functools.partial(v, **kwargs) for v in vjps])


def _unary_op(forward, vjps):
    """The operation of a primitive with one differentiable input."""

    def op(x, *rest, **kwargs):
        if not isinstance(x, Tensor):
            if type(x) is not np.ndarray and _is_foreign(x):
                return _xp_apply(op, (x, *rest), kwargs)
            ans = forward(_operand(x), *rest, **kwargs)
            if _recorders:
                return _recorded_value(forward, (x, *rest), ans, kwargs)
            return ans
        v = x._value
        if type(v) is not _NDARRAY:
            return _xp_apply(op, (x, *rest), kwargs)
        if rest or kwargs:
            plain = _plain(kwargs) if kwargs else kwargs
            ans = forward(v, *rest, **plain)
            args = (v, *rest)
            pulls = _bind(vjps, plain) if kwargs else vjps
        else:
            ans = forward(v)
            args = (v,)
            pulls = vjps
        if type(ans) is not np.ndarray:
            ans = np.asarray(ans)
        out = _new(Tensor)
        out._value = ans
        out.grad = None
        out._parents = (x,)
        out._vjps = pulls
        out._args = args
        out._order = _next_order()
        if _recorders:
            _recorded(forward, (x, *rest), kwargs, out)
        return out

    return op


def _lean_unary_op(forward, vjps):
    """:func:`_unary_op` for a forward taking its input only."""

    def op(x):
        if not isinstance(x, Tensor):
            if type(x) is not np.ndarray and _is_foreign(x):
                return _xp_apply(op, (x,), {})
            ans = forward(_operand(x))
            return _recorded_value(forward, (x,), ans) if _recorders else ans
        v = x._value
        if type(v) is not _NDARRAY:
            return _xp_apply(op, (x,), {})
        ans = forward(v)
        if type(ans) is not np.ndarray:
            ans = np.asarray(ans)
        out = _new(Tensor)
        out._value = ans
        out.grad = None
        out._parents = (x,)
        out._vjps = vjps
        out._args = (v,)
        out._order = _next_order()
        if _recorders:
            _recorded(forward, (x,), None, out)
        return out

    return op


def _fitted(vjp, i):
    """``vjp`` whose gradient is summed back to the shape (and cast to the dtype)
    of positional input ``i``."""

    def fitted(g, ans, *args, **kwargs):
        like = args[i]
        return unbroadcast(vjp(g, ans, *args, **kwargs), like.shape, like.dtype)

    return fitted


_NUMBERS = frozenset({float, int})  # Python scalars: weak under NumPy's NEP 50
_CONSTANTS: dict[Any, dict[Any, Any]] = {}  # dtype -> {number: read-only 0-d array}
_NO_CONSTANTS: dict[Any, Any] = {}


def _constant(number, dtype):
    """``number`` as a read-only 0-d array of ``dtype``, cached (but for zeros,
    whose sign ``0.0 == -0.0`` would lose)."""
    value = np.asarray(number, dtype)
    if number:
        value.flags.writeable = False
        table = _CONSTANTS.setdefault(dtype, {})
        if len(table) >= 256:
            table.clear()
        table[number] = value
    return value


def _operand(x):
    """A constant operand: a list or tuple as the array NumPy makes of it."""
    return np.asarray(x) if type(x) in (list, tuple) else x


def _binary_op(forward, vjps, numbers_as_arrays=True, sparse=False, exact=False):
    """The operation of a primitive with two differentiable inputs.

    A list or tuple among the inputs becomes the array NumPy makes of it. A
    Python number becomes a 0-d array of the other input's
    dtype (what NumPy's NEP 50 computes with anyway, and much faster in NumPy's
    ufuncs), unless ``numbers_as_arrays`` is False (``x ** 2`` is fastest with
    a Python exponent). A VJP's gradient is summed back and cast
    (:func:`unbroadcast`) only for an input whose shape or dtype differs from
    the result's.
    """
    va, vb = vjps
    fa, fb = (va, vb) if exact else (_fitted(va, 0), _fitted(vb, 1))
    raw_a, fit_a, raw_b, fit_b = (va,), (fa,), (vb,), (fb,)
    pulls_ab = {
        (True, True): (va, vb),
        (True, False): (va, fb),
        (False, True): (fa, vb),
        (False, False): (fa, fb),
    }
    convert = numbers_as_arrays

    def refuse_sparse(constant):
        if not sparse and scipy.sparse.issparse(constant):
            raise TypeError(
                f"{forward.__name__} does not take SciPy sparse matrices; a sparse "
                "matrix is supported as the left operand of matmul (@)."
            )

    if len(inspect.signature(forward).parameters) == 2:  # no options: lean

        def op(a, b):
            if isinstance(a, Tensor):
                av = a._value
                if type(av) is not _NDARRAY:
                    return _xp_apply(op, (a, b), {})
                if isinstance(b, Tensor):
                    bv = b._value
                    if type(bv) is not _NDARRAY:
                        return _xp_apply(op, (a, b), {})
                    ans = forward(av, bv)
                    if type(ans) is not np.ndarray:
                        ans = np.asarray(ans)
                    shape, dtype = ans.shape, ans.dtype
                    pulls = pulls_ab[
                        av.shape == shape and av.dtype == dtype,
                        bv.shape == shape and bv.dtype == dtype,
                    ]
                    parents = (a, b)
                elif type(b) in _NUMBERS:  # keeps a's shape and dtype
                    if convert:
                        bv = _CONSTANTS.get(av.dtype, _NO_CONSTANTS).get(b)
                        if bv is None:
                            bv = _constant(b, av.dtype)
                    else:
                        bv = b
                    ans = forward(av, bv)
                    if type(ans) is not np.ndarray:
                        ans = np.asarray(ans)
                    parents, pulls = (a,), raw_a
                else:
                    if type(b) is not np.ndarray and _is_foreign(b):
                        return _xp_apply(op, (a, b), {})
                    refuse_sparse(b)
                    bv = _operand(b)
                    ans = _real(forward(av, bv), forward)
                    exact = ans.shape == av.shape and ans.dtype == av.dtype
                    parents, pulls = (a,), raw_a if exact else fit_a
            elif isinstance(b, Tensor):
                bv = b._value
                if type(bv) is not _NDARRAY:
                    return _xp_apply(op, (a, b), {})
                if type(a) in _NUMBERS:
                    if convert:
                        av = _CONSTANTS.get(bv.dtype, _NO_CONSTANTS).get(a)
                        if av is None:
                            av = _constant(a, bv.dtype)
                    else:
                        av = a
                    ans = forward(av, bv)
                    if type(ans) is not np.ndarray:
                        ans = np.asarray(ans)
                    parents, pulls = (b,), raw_b
                else:
                    if type(a) is not np.ndarray and _is_foreign(a):
                        return _xp_apply(op, (a, b), {})
                    refuse_sparse(a)
                    av = _operand(a)
                    ans = _real(forward(av, bv), forward)
                    exact = ans.shape == bv.shape and ans.dtype == bv.dtype
                    parents, pulls = (b,), raw_b if exact else fit_b
            else:
                if _is_foreign(a) or _is_foreign(b):
                    return _xp_apply(op, (a, b), {})
                ans = forward(_operand(a), _operand(b))
                return _recorded_value(forward, (a, b), ans) if _recorders else ans
            out = _new(Tensor)
            out._value = ans
            out.grad = None
            out._parents = parents
            out._vjps = pulls
            out._args = (av, bv)
            out._order = _next_order()
            if _recorders:
                _recorded(forward, (a, b), None, out)
            return out

        return op

    def op(a, b, *rest, **kwargs):  # type: ignore[no-redef]  # the general form
        # other: the input that is not a Tensor, when it is neither a Python
        # number nor a Tensor (an array, a list, a NumPy scalar, a sparse matrix)
        other = False
        if (
            type(_value(a)) is not np.ndarray
            and _is_foreign(_value(a))
            or type(_value(b)) is not np.ndarray
            and _is_foreign(_value(b))
        ):
            return _xp_apply(op, (a, b, *rest), kwargs)
        if isinstance(a, Tensor):
            av = a._value
            if isinstance(b, Tensor):
                bv = b._value
                parents = (a, b)
            else:
                if type(b) in _NUMBERS:
                    bv = _constant(b, av.dtype) if convert else b
                else:
                    bv, other = _operand(b), True
                parents = (a,)
        elif isinstance(b, Tensor):
            bv = b._value
            if type(a) in _NUMBERS:
                av = _constant(a, bv.dtype) if convert else a
            else:
                av, other = _operand(a), True
            parents = (b,)
        else:
            ans = forward(_operand(a), _operand(b), *rest, **kwargs)
            if _recorders:
                return _recorded_value(forward, (a, b, *rest), ans, kwargs)
            return ans
        plain = _plain(kwargs) if kwargs else kwargs
        ans = forward(av, bv, *rest, **plain)
        args = (av, bv, *rest)
        if type(ans) is not np.ndarray:
            ans = np.asarray(ans)
        if len(parents) == 2:
            shape, dtype = ans.shape, ans.dtype
            pulls = pulls_ab[
                av.shape == shape and av.dtype == dtype,
                bv.shape == shape and bv.dtype == dtype,
            ]
        else:  # options may broadcast (where's condition): compare the shapes
            if other:  # only a constant of another kind can make it complex
                refuse_sparse(a if parents[0] is b else b)
                ans = _real(ans, forward)
            shape, dtype = ans.shape, ans.dtype
            if parents[0] is a:
                pulls = raw_a if av.shape == shape and av.dtype == dtype else fit_a
            else:
                pulls = raw_b if bv.shape == shape and bv.dtype == dtype else fit_b
        if kwargs:
            pulls = _bind(pulls, plain)
        out = _new(Tensor)
        out._value = ans
        out.grad = None
        out._parents = parents
        out._vjps = pulls
        out._args = args
        out._order = _next_order()
        if _recorders:
            _recorded(forward, (a, b, *rest), kwargs, out)
        return out

    return op


def _variadic_op(forward, vjp):
    """The operation of a primitive whose positional inputs are all alike."""

    def op(*args, **kwargs):
        for arg in args:
            if type(_value(arg)) is not np.ndarray and _is_foreign(_value(arg)):
                return _xp_apply(op, args, kwargs)
        for arg in args:
            if isinstance(arg, Tensor):
                break
        else:
            ans = forward(*args, **kwargs)
            return _recorded_value(forward, args, ans, kwargs) if _recorders else ans
        values = tuple([_value(a) for a in args])
        plain = _plain(kwargs) if kwargs else kwargs
        ans = _real(forward(*values, **plain), forward)
        parents = tuple([a for a in args if isinstance(a, Tensor)])
        pulls = tuple(
            [
                functools.partial(vjp, i, **plain)
                for i, a in enumerate(args)
                if isinstance(a, Tensor)
            ]
        )
        out = _node(ans, parents, pulls, values)
        if _recorders:
            _recorded(forward, args, kwargs, out)
        return out

    return op


def _value(x):
    """The ndarray behind a Tensor, or ``x`` itself."""
    return x._value if isinstance(x, Tensor) else x


def _real(ans, forward):
    """``ans`` as a real floating-point ndarray, or a TypeError."""
    if type(ans) is not np.ndarray:
        ans = np.asarray(ans)
    if ans.dtype.kind != "f":
        raise TypeError(_result_error(forward, ans))
    return ans


def _result_error(forward, ans):
    """The message refusing a non-real result of ``forward``."""
    name = getattr(forward, "__name__", "an operation")
    if ans.dtype.kind == "c":
        return (
            f"{name} returned complex values: the engine differentiates real "
            "functions only (is a complex constant among the inputs?)."
        )
    return f"{name} returned {ans.dtype} values; the engine works on real floats."


def unbroadcast(grad, shape, dtype=None):
    """Sum ``grad`` over the axes that broadcasting added or stretched to fit.

    Parameters
    ----------
    grad : array-like
        A gradient with the broadcast result's shape.
    shape : tuple of int
        The shape of the input the gradient is for.
    dtype : dtype, optional
        The input's dtype: the gradient is cast to it.

    Returns
    -------
    grad : ndarray
        The gradient summed back to ``shape`` (``grad`` itself when it fits).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.tensor import unbroadcast
    >>> unbroadcast(np.ones((3, 4)), (1, 4))
    array([[3., 3., 3., 3.]])
    >>> unbroadcast(np.ones((3, 4)), ())
    array(12.)
    """
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        if extra > 0:
            grad = _sum_leading(grad, extra)
        stretched = tuple(
            [i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1]
        )
        if stretched == tuple(range(len(stretched))):  # leading axes (a bias row)
            grad = _sum_leading(grad, len(stretched)).reshape(shape)
        elif stretched:
            grad = grad.sum(axis=stretched, keepdims=True)
        grad = np.asarray(grad)
        if grad.shape != shape:
            raise ValueError(
                f"A gradient of shape {grad.shape} cannot belong to an input of "
                f"shape {shape}: a VJP returned the wrong shape."
            )
    if dtype is not None and grad.dtype != dtype:
        if grad.dtype.kind not in "biuf":
            raise TypeError(f"A VJP returned a {grad.dtype} gradient.")
        grad = grad.astype(dtype)
    return grad


_ONES: dict[
    tuple[int, Any], NDArray[Any]
] = {}  # (length, dtype) -> a read-only vector of ones


def _sum_leading(grad, n):
    """``grad`` summed over its first ``n`` axes.

    As a product with a vector of ones (BLAS) when ``grad`` is contiguous: for a
    bias's gradient, summing a tall matrix over its rows, NumPy's strided
    reduction is several times slower (5x on 10,000 x 25).
    """
    if n == 0:
        return grad
    rows = math.prod(grad.shape[:n])
    if rows < 2 or not grad.flags.c_contiguous or grad.dtype.kind != "f":
        return grad.sum(axis=tuple(range(n)))
    key = (rows, grad.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) >= 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(rows, grad.dtype)
        ones.flags.writeable = False
    total = ones @ grad.reshape(rows, -1)
    rest = grad.shape[n:]
    return total if total.shape == rest else total.reshape(rest)


def _released(kind):
    """The error for a pass that reached a node an earlier pass released."""
    if kind is _FAILED:
        return RuntimeError(
            "backward() was called on a result whose earlier backward() stopped "
            "at an error: that pass released the part of the graph it went "
            "through. Compute the result again, then call backward()."
        )
    return RuntimeError(
        "backward() reached a part of the graph that an earlier backward() "
        "already went through and released (completely, or up to an error). "
        "Each pass frees the graph it traverses; to differentiate several "
        "results that share a graph, differentiate their sum, or compute them "
        "again."
    )


_FAILED = False  # the ``_vjps`` of the root of a backward pass that raised


def _outside(tensor):
    """The error for a transform whose function uses a Tensor made before it."""
    return NotImplementedError(
        f"The differentiated function uses a Tensor of shape {tensor.shape} "
        "created outside it: the derivative returned would be a constant with "
        "respect to that Tensor, silently wrong if differentiated again "
        "(higher-order derivatives are not supported). Use t.value inside the "
        "function for a constant, or make the Tensor's data an argument."
    )


def _add(a, b):
    """``a + b`` as an ndarray (NumPy gives a scalar for 0-d operands)."""
    total = a + b
    if type(total) is np.ndarray or _is_foreign(total):
        return total
    return np.asarray(total)


def _check_reached(leaf, since):
    """Raise if a pass with ``since`` (see :func:`backward`) must not reach ``leaf``."""
    if leaf._order < since:
        raise _outside(leaf)
    if _traced_leaves and leaf in _traced_leaves:
        raise _higher_order(
            "backward() reached a Tensor that a transform (grad, vjp, ...) is "
            "differentiating in another thread"
        )


def backward(root, grad, retain=False, since=0):
    """Run the reverse pass from ``root`` seeded with ``grad``; release the graph.

    A Tensor is always created after its inputs, so taking the Tensors that
    received a gradient newest first (a heap on creation order) visits every
    Tensor after all of the Tensors made from it: each VJP is called once, with
    the complete gradient. The pass keeps track of the Tensors it is waiting
    for (never trusting a ``.grad`` the user may have set: it overwrites it);
    an intermediate Tensor accumulates its gradient in
    ``.grad``, leaves in a dict and receive their own array at the end. With
    ``retain`` the graph is kept (and intermediate ``.grad`` cleared), for one
    more pass.

    A transform passes ``since``, the creation number of its first leaf: a leaf
    created before it is one the function closes over, and reaching it raises
    (its derivative would be returned as a constant) before any leaf's gradient
    is written. A pass never writes the gradient of a leaf that a transform is
    tracing in another thread.
    """
    vjps = root._vjps
    if vjps is _LEAF:
        _check_reached(root, since)
        root.grad = grad
        return
    if not vjps:
        raise _released(vjps)
    root.grad = grad
    leaves: dict[Tensor, Any] = {}  # leaf -> gradient
    borrowed = set()  # leaves whose gradient is an array another Tensor holds
    visited = []
    # The Tensors given a gradient and waiting for their VJPs: a heap on creation
    # order (and the set of its Tensors), plus the newest one held apart (in a
    # chain, the only one: no heap operations).
    heap: list[Any]
    heap, queued = [], set()
    pending = root
    pop, push, leaf = heapq.heappop, heapq.heappush, _LEAF
    try:
        while True:
            if pending is not None and (not heap or pending._order > -heap[0][0]):
                node, pending = pending, None
            elif heap:
                node = pop(heap)[1]
                queued.discard(node)
            else:
                break
            g = node.grad
            parents, vjps, args = node._parents, node._vjps, node._args
            ans = node._value
            if retain:
                visited.append(node)
            else:
                node._parents = ()
                node._vjps = node._args = None
            # Parent by parent, without zip: most nodes have a single parent.
            n, i = len(parents), 0
            parent, vjp = parents[0], vjps[0]
            while True:
                pg = vjp(g, ans, *args)
                kind = parent._vjps
                if kind is leaf:
                    seen = leaves.get(parent)
                    if seen is None:
                        leaves[parent] = pg
                        if pg is g:
                            borrowed.add(parent)
                    else:
                        leaves[parent] = _add(seen, pg)
                        borrowed.discard(parent)
                elif not kind:
                    raise _released(kind)
                elif parent is pending or (queued and parent in queued):
                    parent.grad = _add(parent.grad, pg)
                else:  # first reached: its .grad, if any, is not of this pass
                    parent.grad = pg
                    if pending is None:
                        pending = parent
                    else:
                        push(heap, (-parent._order, parent))
                        queued.add(parent)
                if n == 1:
                    break
                i += 1
                if i == n:
                    break
                parent, vjp = parents[i], vjps[i]
        if since or _traced_leaves:
            for reached in leaves:
                _check_reached(reached, since)
    except BaseException:
        for _, node in heap:  # drop partial sums, so that nothing stale remains
            node.grad = None
        if pending is not None:
            pending.grad = None
        for node in visited:
            node.grad = None
        if not retain:
            root._vjps = _FAILED
        raise
    for node in visited:
        node.grad = None
    owners = set()
    for leaf, g in leaves.items():
        value = leaf._value
        if type(value) is not np.ndarray:
            leaf.grad = _xp_owned(g, value)
            continue
        if type(g) is not np.ndarray:  # a NumPy scalar, from 0-d arithmetic
            g = np.array(g, dtype=value.dtype)
        if g.shape != value.shape:
            raise ValueError(
                f"A gradient of shape {g.shape} reached a Tensor of shape "
                f"{value.shape}: an operation's VJP is wrong."
            )
        if g.dtype != value.dtype:
            g = g.astype(value.dtype)
        elif (
            g.base is not None  # a view (of g itself, of a broadcast, ...)
            or leaf in borrowed
            or id(g) in owners
            or not g.flags.writeable
        ):
            g = g.copy()
        owners.add(id(g))
        leaf.grad = g
