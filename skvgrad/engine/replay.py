"""Replay: run a traced function's forward and backward passes without a graph.

A :class:`~skvgrad.engine.tracing.Trace` lists the primitives a function ran.
A :class:`Plan` turns it into two flat lists of kernel calls, the forward
pass and the backward pass of the inputs it differentiates, and runs them on
new arrays of the traced shapes and dtypes: no Tensor, no graph, no heap of
pending nodes, and buffers allocated once. The values and gradients are those
of the graph (:func:`~skvgrad.engine.value_and_grad`), computed by the same
VJPs.

Each primitive is run from its declaration (``op.declaration``): its forward
and VJPs on plain arrays. A primitive may also declare ``into`` forms
(:class:`Into`), which write into buffers the plan owns, say what its backward
pass reads, and which inputs its result may overwrite: the plan then writes a
result over an input that nothing reads any more. A primitive without them
allocates its results, as on the graph.

:func:`replayed` is the opt-in path for users: ``value_and_grad`` that traces
once per shapes, dtypes and options and replays every later call, falling back
to the graph for functions that cannot be traced.

Examples
--------
>>> import numpy as np
>>> from skvgrad import engine
>>> from skvgrad.engine.replay import Plan
>>> def loss(w, x):
...     return engine.tanh(x @ w).sum()
>>> w, x = np.ones(3), np.ones((4, 3))
>>> plan = Plan(engine.trace(loss, w, x), wrt=[0])
>>> value, (g,) = plan(w, x)
>>> float(value), g.round(4)
(3.9802, array([0.0395, 0.0395, 0.0395]))
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from skvgrad.engine.tensor import Into, Tensor, unbroadcast
from skvgrad.engine.tracing import Trace, TraceError, Var, trace

__all__ = ["Into", "Plan", "replayed", "same_trace"]


_COMPILED: dict[
    str, Any
] = {}  # a plan's source -> its code (plans of one structure share it)


def _declaration(op):
    """The declaration of a recorded operation (None for gradient-free ones)."""
    return getattr(op, "declaration", None)


def _refs(step):
    """The traced values a step reads."""
    refs = [a for a in step.args if isinstance(a, Var)]
    refs += [v for v in step.kwargs.values() if isinstance(v, Var)]
    return refs


def _fit(part, shape, dtype):
    """A VJP's gradient fitted to its input's shape and dtype."""
    if type(part) is np.ndarray and part.shape == shape and part.dtype == dtype:
        return part
    return unbroadcast(part, shape, dtype)


class Plan:
    """A trace made into forward and backward kernel calls on planned buffers.

    The plan is one generated Python function: the forward pass as a straight
    list of calls (a primitive's ``into.forward`` writing into a buffer made
    once, or its forward), then the backward pass of the differentiated inputs
    (``into.backward`` into buffers, or the declared VJPs), with gradients
    accumulated where a value feeds several steps.

    Parameters
    ----------
    record : Trace
        The trace (see :func:`skvgrad.engine.trace`); its output must be a
        single traced value holding one number.
    wrt : sequence of int
        The positions, among ``record.inputs``, of the inputs to differentiate.

    Raises
    ------
    TraceError
        If the trace cannot be replayed: its output is not a traced value of
        size one, or a traced value hides inside a list argument.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad import engine
    >>> from skvgrad.engine.replay import Plan
    >>> plan = Plan(engine.trace(lambda x: (x * x).sum(), np.ones(3)), wrt=[0])
    >>> value, (g,) = plan(np.array([1.0, 2.0, 3.0]))
    >>> float(value), g
    (14.0, array([2., 4., 6.]))
    """

    def __init__(self, record: Trace, wrt: Sequence[int]) -> None:
        output = record.output
        if not isinstance(output, Var) or int(np.prod(output.shape)) != 1:
            raise TraceError(
                "A plan needs a function whose result is one number computed "
                "from its inputs."
            )
        self.record = record
        self.inputs = list(record.inputs)
        self.wrt = [self.inputs[i] for i in wrt]
        self.output = output
        self.source, self._run = _Compiler(record, self.wrt).compile()

    def __call__(
        self, *arrays: NDArray[Any], grads: list[NDArray[Any]] | None = None
    ) -> tuple[NDArray[Any], list[NDArray[Any]]]:
        """The output and the gradients of the differentiated inputs.

        Parameters
        ----------
        *arrays : ndarray
            One per traced input, of the traced shapes and dtypes.
        grads : list of ndarray, optional
            Where to write the gradients, one per differentiated input, of its
            shape and dtype (written in place). By default the plan's own
            buffers, which the next call may overwrite.

        Returns
        -------
        value : ndarray
            The output (0-d or of size one).
        grads : list of ndarray
            The gradients, in the order of ``wrt``.
        """
        if len(arrays) != len(self.inputs):
            raise ValueError(
                f"This plan takes {len(self.inputs)} array(s), got {len(arrays)}."
            )
        for var, array in zip(self.inputs, arrays):
            if (
                type(array) is not np.ndarray
                or array.shape != var.shape
                or array.dtype != var.dtype
            ):
                raise ValueError(
                    f"Input {var.index} was traced as an ndarray of shape "
                    f"{var.shape} and dtype {var.dtype}; got "
                    f"{type(array).__name__} of shape {np.shape(array)} and "
                    f"dtype {getattr(array, 'dtype', None)}."
                )
        return self._run(grads, *arrays)


class _Compiler:
    """Writes a plan's Python source: one line per kernel call."""

    def __init__(self, record, wrt):
        self.record, self.wrt = record, wrt
        self.namespace = {"np": np, "_fit": _fit}
        self.lines = []

    def name(self, value, prefix="c"):
        """A name in the generated function's namespace bound to ``value``."""
        key = f"{prefix}{len(self.namespace)}"
        self.namespace[key] = value
        return key

    def arg(self, item):
        """Source of an argument: a value's variable or a bound constant."""
        if isinstance(item, Var):
            return f"v{item.index}"
        if type(item) in (tuple, list) and any(isinstance(i, Var) for i in item):
            raise TraceError("A traced value inside a list argument is not replayed.")
        if item is None or type(item) in (bool, int, str):
            return repr(item)
        if type(item) is float and math.isfinite(item):  # repr(inf) is no literal
            return repr(item)
        return self.name(item)

    def call(self, function, step, extra=(), memo=False):
        """Source of ``function(*extra, *args, **kwargs)`` of a step."""
        parts = list(extra) + [self.arg(a) for a in step.args]
        parts += [f"{k}={self.arg(v)}" for k, v in step.kwargs.items()]
        if memo:
            parts.append(f"memo=m{step.out.index}")
        return f"{self.name(function, 'f')}({', '.join(parts)})"

    def compile(self):
        record, wrt = self.record, self.wrt
        out_index = record.output.index
        n_values = len(record.inputs) + len(record.steps)
        needs = [False] * n_values  # needs a gradient
        for var in wrt:
            needs[var.index] = True
        for step in record.steps:
            if _declaration(step.op) is not None:
                needs[step.out.index] = any(needs[r.index] for r in _refs(step))
        useful = [False] * n_values  # the output depends on it
        useful[out_index] = True
        for step in reversed(record.steps):
            if useful[step.out.index]:
                for ref in _refs(step):
                    useful[ref.index] = True
        steps = [s for s in record.steps if useful[s.out.index]]
        # The backward pass: the steps whose result receives a gradient.
        reached = {out_index} if needs[out_index] else set()
        backward = []
        for step in reversed(steps):
            if step.out.index in reached and _declaration(step.op) is not None:
                backward.append(step)
                for ref in step.args:
                    if isinstance(ref, Var) and needs[ref.index]:
                        reached.add(ref.index)
        # What the backward pass reads, and the last forward step reading each
        # value: a value nothing reads after a step may be overwritten by it.
        kept = {out_index}
        for step in backward:
            into = _declaration(step.op).into
            reads = None if into is None else into.reads
            for item in ("ans", *range(len(step.args))) if reads is None else reads:
                ref = step.out if item == "ans" else step.args[item]
                if isinstance(ref, Var):
                    kept.add(ref.index)
        last_read = {}
        for position, step in enumerate(steps):
            for ref in _refs(step):
                last_read[ref.index] = position
        lines = self.lines
        lines.append(
            f"def run(grads, {', '.join(f'v{v.index}' for v in record.inputs)}):"
        )
        # Forward. A step whose primitive writes into buffers gets one for its
        # result, made once, or the buffer of an input it may overwrite.
        into_steps = set()
        storage: dict[
            int, str
        ] = {}  # value index -> the name of the plan's buffer holding it
        for position, step in enumerate(steps):
            decl = _declaration(step.op)
            out = f"v{step.out.index}"
            into = decl.into if decl is not None else None
            if into is not None and into.forward is not None:
                buffer = None
                for i in into.inplace:
                    ref = step.args[i] if i < len(step.args) else None
                    if (
                        isinstance(ref, Var)
                        and ref.index in storage
                        and ref.index not in kept
                        and last_read.get(ref.index) == position
                        and ref.shape == step.out.shape
                        and ref.dtype == step.out.dtype
                    ):
                        buffer = storage.pop(ref.index)
                        break
                if buffer is None:
                    buffer = self.name(np.empty(step.out.shape, step.out.dtype), "b")
                storage[step.out.index] = buffer
                extra = [buffer]
                if into.memo:
                    self.namespace[f"m{step.out.index}"] = {}
                call = self.call(into.forward, step, extra, memo=into.memo)
                lines.append(f"    {call}")
                lines.append(f"    {out} = {buffer}")
                into_steps.add(step.out.index)
            elif decl is None:  # a recorded comparison or cast: no gradient
                lines.append(f"    {out} = {self.call(step.op, step)}")
            elif decl.closures:
                call = self.call(decl.forward, step)
                if step.out.index in reached:
                    lines.append(f"    {out}, k{step.out.index} = {call}")
                else:
                    lines.append(f"    {out} = {call}[0]")
                lines.append(f"    {out} = np.asarray({out})")
            else:
                lines.append(f"    {out} = np.asarray({self.call(decl.forward, step)})")
        # Backward, newest step first. A value's gradient is its first
        # contribution, then the sum with the others: in place when the plan
        # owns the array (a buffer an into form wrote), else a new array.
        owned: dict[
            int, bool | str
        ] = {}  # value index -> its gradient array belongs to the plan
        wrt_index = {var.index: k for k, var in enumerate(wrt)}
        seed = self.name(np.ones(record.output.shape, record.output.dtype), "s")
        if backward:
            copy = backward[0].out.index in into_steps
            lines.append(f"    g{out_index} = {seed}{'.copy()' if copy else ''}")
            owned[out_index] = copy
        for step in backward:
            decl = _declaration(step.op)
            g, ans = f"g{step.out.index}", f"v{step.out.index}"
            targets = [
                (i, a)
                for i, a in enumerate(step.args)
                if isinstance(a, Var) and needs[a.index]
            ]
            into = decl.into
            if into is not None and into.backward is not None:
                if not owned[step.out.index]:
                    lines.append(f"    {g} = {g}.copy()")  # it will be overwritten
                slots = ["None"] * len(step.args)
                for i, var in targets:
                    if var.index not in owned and var.index in wrt_index:
                        slots[i] = f"o{var.index}"  # the first: the result itself
                    else:
                        slots[i] = self.name(np.empty(var.shape, var.dtype), "t")
                call = self.call(
                    into.backward,
                    step,
                    [f"({', '.join(slots)},)", g, ans],
                    memo=into.memo,
                )
                lines.append(f"    {call}")
                for i, var in targets:
                    self.accumulate(var, slots[i], True, owned)
                continue
            for i, var in targets:
                if decl.closures:
                    part = f"k{step.out.index}[{i}]({g})"
                elif decl.variadic:
                    part = self.call(decl.vjps[0], step, [str(i), g, ans])
                else:
                    part = self.call(decl.vjps[i], step, [g, ans])
                shape, dtype = self.name(var.shape), self.name(var.dtype)
                lines.append(f"    p = _fit({part}, {shape}, {dtype})")
                self.accumulate(var, "p", False, owned)
        # The differentiated inputs' gradients, into the caller's arrays.
        prologue, results = [], []
        for k, var in enumerate(wrt):
            buffer = self.name(np.empty(var.shape, var.dtype), "b")
            prologue.append(
                f"    o{var.index} = {buffer} if grads is None else grads[{k}]"
            )
            if var.index not in owned:
                lines.append(f"    o{var.index}.fill(0)")
            elif owned[var.index] != "out":
                lines.append(f"    np.copyto(o{var.index}, g{var.index})")
            results.append(f"o{var.index}")
        lines.append(f"    return v{out_index}, [{', '.join(results)}]")
        lines[1:1] = prologue
        source = "\n".join(lines) + "\n"
        code = _COMPILED.get(source)
        if code is None:
            if len(_COMPILED) >= 64:
                _COMPILED.clear()
            code = _COMPILED[source] = compile(source, "<replay plan>", "exec")
        exec(code, self.namespace)  # noqa: S102
        # Taken out of its namespace (its globals): no reference cycle, so a plan
        # is freed as soon as it is dropped, by reference counting alone.
        return source, self.namespace.pop("run")

    def accumulate(self, var, part, by_into, owned):
        """Add a contribution ``part`` (source) to ``var``'s gradient."""
        g = f"g{var.index}"
        if var.index not in owned:  # the first contribution
            self.lines.append(f"    {g} = {part}")
            if by_into and part == f"o{var.index}":
                owned[var.index] = "out"  # written straight into the result
            else:
                owned[var.index] = by_into
        elif owned[var.index]:
            self.lines.append(f"    np.add({g}, {part}, out={g})")
        else:
            self.lines.append(f"    {g} = {g} + {part}")


def same_trace(first: Trace, second: Trace) -> bool:
    """Whether two traces record the same operations on the same constants.

    Two traces of one function on the same arguments differ only if the
    function computes something the trace holds as a constant differently each
    time (it draws random numbers of its own, reads a clock, ...): replaying
    either would freeze it.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad import engine
    >>> from skvgrad.engine.replay import same_trace
    >>> def noisy(x):
    ...     return x * np.random.random_sample(x.shape)
    >>> x = np.ones(3)
    >>> same_trace(engine.trace(noisy, x), engine.trace(noisy, x))
    False
    >>> same_trace(engine.trace(engine.exp, x), engine.trace(engine.exp, x))
    True
    """
    if len(first.steps) != len(second.steps):
        return False
    pairs = [(first.output, second.output)]
    for a, b in zip(first.steps, second.steps):
        if a.op is not b.op or a.kwargs.keys() != b.kwargs.keys():
            return False
        pairs += list(zip(a.args, b.args)) + [
            (a.kwargs[k], b.kwargs[k]) for k in a.kwargs
        ]
        pairs.append((a.out, b.out))
        if len(a.args) != len(b.args):
            return False
    return all(_same(a, b) for a, b in pairs)


def _same(a, b):
    """Whether two recorded arguments are the same value or constant."""
    if isinstance(a, Var) or isinstance(b, Var):
        return (
            isinstance(a, Var)
            and isinstance(b, Var)
            and (a.index, a.shape, a.dtype) == (b.index, b.shape, b.dtype)
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if type(a) in (tuple, list):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 (incomparable objects are not the same)
        return False


def replayed(
    fun: Callable[..., Any], argnum: int | tuple[int, ...] = 0
) -> Callable[..., tuple[Any, Any]]:
    """``value_and_grad`` of ``fun`` that traces once and replays after.

    The first call with given shapes, dtypes and options traces ``fun`` (see
    :func:`skvgrad.engine.trace`) and plans its replay; later calls with the
    same shapes, dtypes and options replay it: the same values and gradients
    as :func:`~skvgrad.engine.value_and_grad`, without building a graph. A
    function that cannot be traced (it reads values: an ``if`` on a Tensor,
    ``.value``, ...) is differentiated on the graph every time.

    Parameters
    ----------
    fun : callable
        A function returning one number. Its arguments are floating-point
        arrays or lists / tuples / dicts of them (traced: any values of the
        same shapes and dtypes replay), and options (anything else, compared
        by value, or by identity when they cannot be hashed).
    argnum : int or tuple of int, default=0
        The positional argument(s) to differentiate.

    Returns
    -------
    callable
        ``(value, gradient)`` as :func:`~skvgrad.engine.value_and_grad`.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad import engine
    >>> from skvgrad.engine.replay import replayed
    >>> f = replayed(lambda w, x: engine.sigmoid(x @ w).sum())
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> value, g = f(np.zeros(2), x)
    >>> value, g = f(np.zeros(2), x)  # replayed
    >>> float(value), g
    (1.0, array([1. , 1.5]))
    """
    from skvgrad.engine.autodiff import _argnums, _flatten, value_and_grad

    graph = value_and_grad(fun, argnum)
    plans: dict[Any, Any] = {}  # key of a call -> its plan, or False (not traceable)

    @functools.wraps(fun)
    def wrapped(*args):
        positions, several = _argnums(argnum, len(args))
        flat = [_flatten(arg) for arg in args]
        key, inputs = [], []
        for k, (leaves, _) in enumerate(flat):
            for leaf in leaves:
                if type(leaf) is np.ndarray and leaf.dtype.kind == "f":
                    key.append(leaf.shape)
                    key.append(leaf.dtype)
                    inputs.append(leaf)
                elif k in positions or isinstance(leaf, Tensor):
                    return graph(*args)  # a number to differentiate, a Tensor
                else:
                    key.append(_option(leaf))
        key.append(positions[0] if len(positions) == 1 else tuple(positions))
        key = tuple(key)
        plan = plans.get(key)
        if plan is None:
            if len(plans) >= 32:
                plans.clear()
            plan = plans[key] = _make_plan(fun, args, flat, positions)
        if plan is False:
            return graph(*args)
        # The gradients go straight into new arrays: the caller's own.
        fresh = [np.empty(v.shape, v.dtype) for v in plan.wrt]
        value, grads = plan(*inputs, grads=fresh)
        results, start = [], 0
        for k in positions:
            leaves, rebuild = flat[k]
            results.append(rebuild(grads[start : start + len(leaves)]))
            start += len(leaves)
        return value.copy(), tuple(results) if several else results[0]

    return wrapped


def _option(value):
    """The part of a replay key that an argument other than an array gives."""
    if isinstance(value, np.ndarray):  # integer data: a constant of the trace
        return ("array", value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return ("value", type(value), value)


def _make_plan(fun, args, flat, positions):
    """A plan for ``fun`` on these arguments, or False if it cannot be traced."""
    arrays: list[Any]
    arrays, wrt, slots = [], [], []
    for k, (leaves, _) in enumerate(flat):
        for j, leaf in enumerate(leaves):
            if type(leaf) is np.ndarray:
                if k in positions:
                    wrt.append(len(arrays))
                slots.append((k, j))
                arrays.append(leaf)
    # Differentiated leaves first in the order of ``positions``.
    order = {k: n for n, k in enumerate(positions)}
    wrt.sort(key=lambda i: (order[slots[i][0]], slots[i][1]))

    def traced(*tensors):
        leaves = [list(f[0]) for f in flat]
        for (k, j), tensor in zip(slots, tensors):
            leaves[k][j] = tensor
        return fun(*[f[1](new) for f, new in zip(flat, leaves)])

    try:
        return Plan(trace(traced, *arrays), wrt=wrt)
    except TraceError:
        return False
