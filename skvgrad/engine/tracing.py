"""Traces: the record of the primitives a function runs, in order.

:func:`trace` runs a function once on leaf Tensors and records every primitive
that computes something from its arguments: which operation, on which earlier
values or constants, with which options. The record is the engine's own,
made where each operation creates its result, so it needs no guessing from the
graph afterwards. It is what the engine replays and what exporters read (for
instance :mod:`skvgrad.onnx` turns the trace of a custom activation into ONNX
nodes).

A trace is only valid for inputs of the shapes and dtypes it was recorded with,
and only if nothing the function does depends on the values it computes,
beyond what the record holds. Comparisons (``z > 0``), logical operators on
their results and ``.astype`` of them are recorded, so ``where(z > 0, z,
0.1 * z)`` stays data-dependent in the trace. Everything else that reads
values raises :class:`TraceError` while tracing: ``.value``, ``.item()``,
``bool(t)`` (an ``if`` on a Tensor), ``np.asarray(t)``, NumPy functions whose
result depends on values (``np.argmax``), and NumPy calls on a comparison's
result other than the recorded ones (``mask.any()``).

Examples
--------
>>> import numpy as np
>>> from skvgrad import engine
>>> from skvgrad.engine.tracing import trace
>>> def leaky(z):
...     return engine.where(z > 0, z, 0.1 * z)
>>> record = trace(leaky, np.array([-1.0, 2.0]))
>>> [step.op.__name__ for step in record.steps]
['greater', 'multiply', '_where']
>>> record.run(np.array([3.0, -4.0]))  # the same function, on other values
array([ 3. , -0.4])
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from skvgrad.engine import tensor as _tensor
from skvgrad.engine.numpy_api import VALUE_UFUNCS
from skvgrad.engine.ops import astype
from skvgrad.engine.tensor import Tensor

__all__ = ["Step", "Trace", "TraceError", "Var", "trace"]


class TraceError(Exception):
    """A function cannot be traced: what it computes depends on its values in a
    way the record cannot hold (an ``if`` on a Tensor, ``.value``, ...)."""


class Var:
    """A value in a trace: an input, or the result of a step.

    Attributes
    ----------
    shape : tuple of int
        Its shape when traced.
    dtype : numpy.dtype
        Its dtype.
    index : int
        Its position among the trace's values (inputs first).
    """

    __slots__ = ("shape", "dtype", "index")

    def __init__(
        self, shape: tuple[int, ...], dtype: np.dtype[Any], index: int
    ) -> None:
        self.shape, self.dtype, self.index = shape, dtype, index

    def __repr__(self) -> str:
        return f"Var({self.index}, shape={self.shape}, dtype={self.dtype})"


class Step(NamedTuple):
    """One operation of a trace: ``out = op(*args, **kwargs)``.

    ``op`` is the engine operation (``engine.exp``, ``engine.astype``, ...,
    which also casts a recorded ``mask.astype``), or a NumPy ufunc for the
    recorded comparisons and logical operators.
    ``args`` and ``kwargs`` hold :class:`Var` objects where they are traced
    values and constants elsewhere.
    """

    op: Any
    args: tuple
    kwargs: dict
    out: Var


class Trace:
    """The record of one run of a function: its inputs, steps and output.

    Attributes
    ----------
    inputs : list of Var
        The traced arguments, flattened (see :func:`trace`).
    steps : list of Step
        The operations, in the order they ran.
    output : Var, constant, or list / tuple / dict of them
        What the function returned, in its structure.
    """

    def __init__(self, inputs: list[Var], steps: list[Step], output: Any) -> None:
        self.inputs, self.steps, self.output = inputs, steps, output

    def __repr__(self) -> str:
        lines = [f"Trace(inputs={self.inputs},"]
        for step in self.steps:
            name = getattr(step.op, "__name__", repr(step.op))
            lines.append(f"  {step.out!r} = {name}{step.args}{step.kwargs or ''}")
        lines.append(f"  output={self.output!r})")
        return "\n".join(lines)

    def run(self, *arrays: ArrayLike) -> Any:
        """Compute the traced function on new arrays of the traced shapes.

        Parameters
        ----------
        *arrays : ndarray
            One per input, in the order of :attr:`inputs`.

        Returns
        -------
        The output, in its structure, as plain arrays.
        """
        if len(arrays) != len(self.inputs):
            raise ValueError(
                f"This trace takes {len(self.inputs)} array(s), got {len(arrays)}."
            )
        values: dict[int, Any] = {}
        for var, array in zip(self.inputs, arrays):
            array = np.asarray(array)
            if array.shape != var.shape or array.dtype != var.dtype:
                raise ValueError(
                    f"Input {var.index} was traced with shape {var.shape} and "
                    f"dtype {var.dtype}; got {array.shape} and {array.dtype}."
                )
            values[var.index] = array

        def get(item):
            if isinstance(item, Var):
                return values[item.index]
            if isinstance(item, (tuple, list)):
                return type(item)([get(i) for i in item])
            return item

        for step in self.steps:
            kwargs = {k: get(v) for k, v in step.kwargs.items()}
            # An ndarray, as a Tensor holds: NumPy computes some operations on
            # its scalars (0-d results) otherwise, with other roundings.
            values[step.out.index] = np.asarray(step.op(*get(step.args), **kwargs))
        return _map(self.output, get)


def _map(tree, function):
    """``tree`` (nested lists, tuples and dicts) with ``function`` on each leaf."""
    if isinstance(tree, (list, tuple)):
        return type(tree)([_map(item, function) for item in tree])
    if isinstance(tree, dict):
        return {key: _map(item, function) for key, item in tree.items()}
    return function(tree)


def trace(fun: Callable[..., Any], *args: Any) -> Trace:
    """Run ``fun`` once on Tensors and record the primitives it runs.

    Parameters
    ----------
    fun : callable
        A function of Tensors built from engine operations (or NumPy
        functions the engine runs).
    *args : ndarray, number, or list / tuple / dict of them
        Example arguments; each array becomes a traced input (a leaf Tensor).

    Returns
    -------
    Trace
        Valid for arguments of the same structure, shapes and dtypes.

    Raises
    ------
    TraceError
        If ``fun`` reads values in a way the record cannot hold.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad import engine
    >>> from skvgrad.engine.tracing import TraceError, trace
    >>> record = trace(lambda x, y: engine.tanh(x @ y), np.ones((2, 3)), np.ones(3))
    >>> [step.op.__name__ for step in record.steps]
    ['matmul', 'tanh']
    >>> def branchy(z):
    ...     return z if (z.sum() > 0) else -z
    >>> trace(branchy, np.ones(2))
    Traceback (most recent call last):
    ...
    skvgrad.engine.tracing.TraceError: The traced function takes bool() ...
    """
    from skvgrad.engine.autodiff import _flatten

    recorder = _Recorder()
    leaves, rebuild = _flatten(list(args))
    tensors = []
    for leaf in leaves:
        leaf = leaf if isinstance(leaf, Tensor) else Tensor(leaf)
        tensors.append(leaf)
        recorder.input(leaf)
    thread = threading.get_ident()
    if thread in _tensor._recorders:
        raise TraceError("trace() was called while another trace is recording.")
    _tensor._recorders[thread] = recorder
    try:
        out = fun(*rebuild(tensors))
    finally:
        del _tensor._recorders[thread]
    if recorder.escape_reason is not None:  # refused, but the error was caught
        raise TraceError(recorder.escape_reason)
    output = _map(out, recorder.resolve)
    return Trace(recorder.inputs, recorder.steps, output)


# Values the trace computes without a gradient (comparisons and what is made of
# them) are ndarrays of this subclass while the trace records: the recorder
# knows each, and NumPy calls on them outside the engine are refused.

_RECORDED_UFUNCS = VALUE_UFUNCS | {
    np.bitwise_and,
    np.bitwise_or,
    np.bitwise_xor,
    np.invert,
}
"""Ufuncs without a gradient that a trace records (their results are traced)."""


def _from_engine(frame):
    """Whether ``frame`` runs code of the engine itself."""
    return frame.f_globals.get("__name__", "").startswith("skvgrad.engine")


def _plain(item):
    """``item`` with traced arrays seen as plain ndarrays."""
    if isinstance(item, _Traced):
        return item.view(np.ndarray)
    if isinstance(item, (tuple, list)):
        return type(item)([_plain(i) for i in item])
    return item


class _Traced(np.ndarray):
    """A value computed from traced Tensors without a gradient (a mask)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(i, Tensor) for i in inputs):
            return NotImplemented  # the Tensor's protocol records it
        if "out" in kwargs:
            kwargs["out"] = _plain(kwargs["out"])
        result = getattr(ufunc, method)(*_plain(inputs), **kwargs)
        if _from_engine(sys._getframe(1)):
            return result
        recorder = _recorder()
        if method == "__call__" and ufunc in _RECORDED_UFUNCS and "out" not in kwargs:
            return recorder.value_step(ufunc, inputs, result)
        recorder.refuse(f"computes numpy.{ufunc.__name__} on a comparison's result")

    def __array_function__(self, func, types, args, kwargs):
        if any(issubclass(t, Tensor) for t in types):
            return NotImplemented
        if not _from_engine(sys._getframe(1)):
            _recorder().refuse(f"calls numpy.{func.__name__} on a comparison's result")
        return func(*_plain(args), **_plain(kwargs))

    def astype(self, dtype, *args, **kwargs):
        """Recorded cast (``mask.astype(float)``)."""
        result = self.view(np.ndarray).astype(dtype, *args, **kwargs)
        return _recorder().value_step(astype, (self, np.dtype(dtype)), result)

    def __bool__(self):
        _recorder().refuse("takes bool() of a comparison's result (an if on it)")

    def __getitem__(self, index):
        _recorder().refuse("indexes a comparison's result")

    def item(self, *args):
        """Refused: the value depends on the traced data."""
        _recorder().refuse("calls .item() on a comparison's result")

    def tolist(self):
        """Refused: the value depends on the traced data."""
        _recorder().refuse("calls .tolist() on a comparison's result")


def _recorder():
    """The recorder of this thread (a traced array exists only while it records)."""
    recorder = _tensor._recorders.get(threading.get_ident())
    if recorder is None:
        raise TraceError(
            "A comparison's result from a traced function was used after (or "
            "outside) the trace."
        )
    return recorder


class _Recorder:
    """Collects the steps of one trace (see :func:`trace`)."""

    def __init__(self):
        self.vars = {}  # id(Tensor or traced array) -> Var
        self.alive = []  # those objects, kept so that their ids stay theirs
        self.inputs = []
        self.steps = []
        self.escape_reason = None

    def _new(self, obj, value):
        var = Var(value.shape, value.dtype, len(self.vars))
        self.vars[id(obj)] = var
        self.alive.append(obj)
        return var

    def input(self, tensor):
        """Register a traced argument."""
        self.inputs.append(self._new(tensor, tensor._value))

    def resolve(self, item):
        """``item`` with traced values replaced by their Vars."""
        if isinstance(item, (Tensor, _Traced)):
            var = self.vars.get(id(item))
            if var is not None:
                return var
            if isinstance(item, Tensor):  # made outside the trace: a constant
                return item._value
            self.refuse("transforms a comparison's result with NumPy")
        if type(item) in (tuple, list):
            return type(item)([self.resolve(i) for i in item])
        return item

    def step(self, op, args, kwargs, out):
        """Record ``out = op(*args, **kwargs)``, unless it is a constant."""
        args = self.resolve(tuple(args))
        kwargs = {k: self.resolve(v) for k, v in (kwargs or {}).items()}
        if _traced(args) or _traced(tuple(kwargs.values())):
            self.steps.append(Step(op, args, kwargs, self._new(out, out._value)))

    def value_step(self, op, args, result, kwargs=None):
        """Record a step without a gradient; its result as a traced array."""
        resolved = self.resolve(tuple(args))
        options = {k: self.resolve(v) for k, v in (kwargs or {}).items()}
        if not (_traced(resolved) or _traced(tuple(options.values()))):
            return result
        traced = np.asarray(result).view(_Traced)
        self.steps.append(Step(op, resolved, options, self._new(traced, traced)))
        return traced

    def condition(self, condition, plain):
        """``where``'s condition: traced (cast to bool if needed) or ``plain``."""
        if isinstance(condition, (Tensor, _Traced)) and id(condition) in self.vars:
            if self.vars[id(condition)].dtype == bool and isinstance(
                condition, _Traced
            ):
                return condition
            return self.value_step(astype, (condition, np.dtype(bool)), plain)
        return plain

    def escape(self, tensor, what):
        """Refuse a value read of a traced Tensor (other Tensors are free)."""
        if id(tensor) in self.vars:
            self.refuse(what)

    def refuse(self, what):
        """Raise the TraceError saying what the function did."""
        self.escape_reason = (
            f"The traced function {what}: what it computes would depend on the "
            "values of this run, which a trace cannot record. Write it with "
            "engine operations (engine.where(z > 0, a, b) for a branch)."
        )
        raise TraceError(self.escape_reason)


def _traced(items):
    """Whether ``items`` (resolved) hold a Var."""
    for item in items:
        if isinstance(item, Var):
            return True
        if type(item) in (tuple, list) and _traced(item):
            return True
    return False
