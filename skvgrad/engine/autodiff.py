"""Function transformations: ``grad``, ``value_and_grad``, ``elementwise_grad``,
``vjp``, ``jacobian`` and ``check_grad``.

The argument to differentiate may be an ndarray, a number, or a nested list /
tuple / dict of them (a pytree); gradients come back in the same structure,
shapes and dtypes. First-order only: a transform called while another one is
tracing (``grad(grad(f))``, a Tensor as the argument) raises
NotImplementedError rather than return a wrong number.
"""

from __future__ import annotations

import functools
import numbers
import threading
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.externals import array_api_compat

from skvgrad.engine.tensor import (
    Tensor,
    _as_real_array,
    _higher_order,
    _ones,
    _refuse_nested,
    _seed,
    _traced_leaves,
    _tracing,
    _xp_fit,
    backward,
)

# The positional argument(s) a transform differentiates.
Argnum: TypeAlias = int | tuple[int, ...]
# Values and gradients: an ndarray or a number, or a list / tuple / dict of them
# (a pytree) of the differentiated argument's structure, so Any.


def _flatten(tree):
    """Leaves of a nested list / tuple / dict of arrays, and how to rebuild it."""
    if isinstance(tree, (list, tuple)):
        if all(type(item) is np.ndarray for item in tree):  # the common, flat case
            return list(tree), (list if isinstance(tree, list) else tuple)
        parts = [_flatten(item) for item in tree]
        leaves = [leaf for part_leaves, _ in parts for leaf in part_leaves]
        counts = [len(part_leaves) for part_leaves, _ in parts]

        def rebuild(new_leaves):
            items, start = [], 0
            for (_, sub), n in zip(parts, counts):
                items.append(sub(new_leaves[start : start + n]))
                start += n
            return type(tree)(items) if isinstance(tree, list) else tuple(items)

        return leaves, rebuild
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, rebuild_values = _flatten([tree[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, rebuild_values(new)))
    if isinstance(tree, numbers.Number) and not isinstance(tree, np.generic):
        return (
            [tree],
            lambda new: (
                new[0] if isinstance(new[0], Tensor) else float(np.asarray(new[0]))
            ),
        )
    return [tree], lambda new: new[0]


def _leaf(value):
    """A new leaf Tensor for ``value``, refusing what cannot be differentiated."""
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return Tensor(value)
    if isinstance(value, Tensor):
        raise _higher_order("A Tensor was passed as the argument to differentiate")
    if value is None:
        raise TypeError("Cannot differentiate with respect to None.")
    return Tensor(value)


def _argnums(argnum, n_args):
    """``argnum`` (an int or a tuple of ints) checked against ``n_args``."""
    several = isinstance(argnum, (tuple, list))
    argnums = tuple(argnum) if several else (argnum,)
    for a in argnums:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"argnum must be an int or a tuple of ints, not {a!r}.")
        if not -n_args <= a < n_args:
            raise ValueError(
                f"argnum={a} but the function was called with "
                f"{n_args} positional argument(s)."
            )
    positions = [a % n_args for a in argnums]
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnum={argnum} names an argument twice.")
    return positions, several


def _trace_call(fun, args, kwargs, argnum):
    """Call ``fun`` with the arguments ``argnum`` replaced by leaf Tensors.

    Returns ``(out, tensors, rebuild)``: ``rebuild`` turns one array per leaf
    back into the structure of the differentiated argument(s).
    """
    _refuse_nested("grad was called")
    positions, several = _argnums(argnum, len(args))
    tree = tuple([args[i] for i in positions]) if several else args[positions[0]]
    leaves, rebuild = _flatten(tree)
    tensors = [_leaf(leaf) for leaf in leaves]
    new_args = list(args)
    traced = rebuild(tensors)
    for k, i in enumerate(positions):
        new_args[i] = traced[k] if several else traced
    thread = threading.get_ident()
    _tracing.add(thread)
    _traced_leaves.update(tensors)
    try:
        out = fun(*new_args, **kwargs)
    finally:
        _tracing.discard(thread)
        _traced_leaves.difference_update(tensors)
    return out, tensors, rebuild


def _since(tensors):
    """The creation number of the first leaf: older Tensors are outside ``fun``."""
    return min([t._order for t in tensors], default=0)


def _pull_back(out, seed, tensors, rebuild, retain=False):
    """Run the backward pass from ``out``; gradients per leaf, rebuilt."""
    if isinstance(out, Tensor):
        backward(out, seed, retain=retain, since=_since(tensors))
    grads = []
    for t in tensors:
        g, value = t.grad, t._value
        if g is None:
            g = (
                np.zeros(value.shape, value.dtype)
                if type(value) is np.ndarray
                else _xp_fit(array_api_compat.array_namespace(value), None, value)
            )
        grads.append(g)
        t.grad = None
    return rebuild(grads)


def _own(value, tensors):
    """``value``, copied if it shares memory with an argument's data."""
    if type(value) is not np.ndarray:  # another namespace: always a copy
        return array_api_compat.array_namespace(value).asarray(value, copy=True)
    for t in tensors:
        if np.may_share_memory(value, t._value):
            return value.copy()
    return value


def _constant(out):
    """``out``, which is not a Tensor, as real numbers, or a TypeError."""
    if (type(out) is np.ndarray and out.dtype == object) or isinstance(
        out, (list, tuple, dict)
    ):
        raise TypeError(
            "The function to differentiate must return a Tensor (or real "
            f"numbers), but it returned {type(out).__name__}"
            f"{' of dtype object' if isinstance(out, np.ndarray) else ''}: "
            "Tensors inside a container are invisible to the backward pass. "
            "Return one Tensor (engine.stack([...]) joins several; X @ t rather "
            "than X.dot(t))."
        )
    value = np.asarray(out)
    if value.dtype.kind not in "biuf":
        raise TypeError(
            "The function to differentiate must return real numbers, but it "
            f"returned {type(out).__name__} of dtype {value.dtype}."
        )
    return value


def _scalar(out):
    """Check that ``out`` (what the function returned) holds one real value."""
    if isinstance(out, Tensor):
        if out.size != 1:
            raise ValueError(
                "The function to differentiate must return a scalar, but it "
                f"returned a Tensor of shape {out.shape}; reduce it, e.g. with "
                ".sum() or .mean(), or use elementwise_grad or jacobian."
            )
        return out
    value = _constant(out)
    if value.size != 1:
        raise ValueError(
            "The function to differentiate must return a scalar, but it "
            f"returned {type(out).__name__} of shape {value.shape}."
        )
    return out


def value_and_grad(
    fun: Callable[..., Any], argnum: Argnum = 0
) -> Callable[..., tuple[Any, Any]]:
    """Transform ``fun`` into a function returning its value and its gradient.

    Parameters
    ----------
    fun : callable
        A function returning a single real value (a Tensor of size 1, of any
        shape), built from engine operations or NumPy functions on Tensors.
    argnum : int or tuple of int, default=0
        The positional argument(s) to differentiate. Each may be an ndarray, a
        number, or a (nested) list / tuple / dict of them; integer data is
        differentiated as float64.

    Returns
    -------
    value_and_grad_fun : callable
        Takes the same arguments as ``fun`` and returns ``(value, gradient)``;
        the gradient has the structure, shapes and dtypes of argument
        ``argnum`` (a tuple of them for a tuple ``argnum``). Each array is the
        caller's own.

    Raises
    ------
    ValueError
        If ``fun`` does not return a single value.
    TypeError
        If ``fun`` returns complex values, or an argument to differentiate is
        None or not numeric.
    NotImplementedError
        For higher-order derivatives: when called while another transform is
        differentiating (``grad(grad(f))``) or given a Tensor to differentiate.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import value_and_grad
    >>> def loss(params, x):
    ...     return ((x @ params["w"] + params["b"]) ** 2).sum()
    >>> params = {"w": np.array([1.0, -1.0]), "b": np.array(0.5)}
    >>> value, g = value_and_grad(loss)(params, np.array([[1.0, 2.0]]))
    >>> float(value), g["w"], g["b"]
    (0.25, array([-1., -2.]), array(-1.))
    >>> value_and_grad(lambda x, y: x * y, argnum=(0, 1))(3.0, 4.0)
    (array(12.), (4.0, 3.0))
    """

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        out, tensors, rebuild = _trace_call(fun, args, kwargs, argnum)
        out = _scalar(out)
        seed = None
        if isinstance(out, Tensor):
            seed = _ones(out._value)
        grads = _pull_back(out, seed, tensors, rebuild)
        return (_own(out._value, tensors) if isinstance(out, Tensor) else out), grads

    return wrapped


def grad(fun: Callable[..., Any], argnum: Argnum = 0) -> Callable[..., Any]:
    """Transform ``fun`` into a function returning its gradient.

    Parameters
    ----------
    fun : callable
        A function returning a single real value, built from engine operations.
    argnum : int or tuple of int, default=0
        The positional argument(s) to differentiate (an ndarray, a number, or a
        list / tuple / dict of them).

    Returns
    -------
    grad_fun : callable
        Takes the same arguments as ``fun`` and returns the gradient with the
        structure, shapes and dtypes of argument ``argnum``.

    See Also
    --------
    value_and_grad : The value and the gradient in one pass.

    Notes
    -----
    First-order only: ``grad(grad(f))`` raises NotImplementedError.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import grad, tanh
    >>> grad(lambda x: tanh(x).sum())(np.array([0.0, 1.0]))
    array([1.        , 0.41997434])
    >>> grad(lambda x: np.sum(np.exp(x)))(np.zeros(2))  # NumPy functions work too
    array([1., 1.])
    """
    value_and_grad_fun = value_and_grad(fun, argnum)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        return value_and_grad_fun(*args, **kwargs)[1]

    return wrapped


def elementwise_grad(fun: Callable[..., Any], argnum: Argnum = 0) -> Callable[..., Any]:
    """The gradient of ``sum(fun(x))``: the derivative of an elementwise ``fun``.

    For a function applied elementwise the Jacobian is diagonal, and this
    returns its diagonal in one backward pass. In general it returns the sum of
    the Jacobian's rows (a vector-Jacobian product with ones).

    Parameters
    ----------
    fun : callable
        A function of Tensors returning a Tensor of any shape.
    argnum : int or tuple of int, default=0
        The positional argument(s) to differentiate.

    Returns
    -------
    callable
        Takes the arguments of ``fun``, returns the gradient(s).

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import elementwise_grad, sigmoid
    >>> elementwise_grad(sigmoid)(np.array([0.0, 2.0]))
    array([0.25      , 0.10499359])
    """

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        out, tensors, rebuild = _trace_call(fun, args, kwargs, argnum)
        if not isinstance(out, Tensor):
            _constant(out)
            return _pull_back(out, None, tensors, rebuild)
        return _pull_back(out, _ones(out._value), tensors, rebuild)

    return wrapped


def vjp(
    fun: Callable[..., Any], *args: Any
) -> tuple[NDArray[Any], Callable[[ArrayLike], Any]]:
    """The value of ``fun(*args)`` and its vector-Jacobian product function.

    Parameters
    ----------
    fun : callable
        A function of Tensors returning a Tensor of any shape.
    *args : ndarray, number, or list / tuple / dict of them
        The point; every positional argument is differentiated.

    Returns
    -------
    value : ndarray
        ``fun(*args)``.
    vjp_fun : callable
        ``vjp_fun(cotangent)``, with ``cotangent`` of the shape of ``value``,
        returns a tuple with ``cotangent``'s product with the Jacobian of each
        argument (the gradient of ``sum(cotangent * fun(*args))``). It may be
        called any number of times.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import vjp
    >>> value, pull = vjp(lambda x, y: x * y, np.array([1.0, 2.0]), 3.0)
    >>> value
    array([3., 6.])
    >>> pull(np.array([1.0, 10.0]))
    (array([ 3., 30.]), 21.0)
    """
    argnum = tuple(range(len(args)))
    out, tensors, rebuild = _trace_call(fun, args, {}, argnum)
    if not isinstance(out, Tensor):
        value = _constant(out)
        return value, lambda cotangent: _pull_back(None, None, tensors, rebuild)

    def vjp_fun(cotangent):
        if isinstance(cotangent, Tensor):
            raise _higher_order("A Tensor was passed as the cotangent")
        _refuse_nested("A vector-Jacobian product was requested")
        if type(out._value) is not np.ndarray:
            seed = _seed(cotangent, out._value)
        else:
            seed = np.array(np.broadcast_to(cotangent, out.shape), dtype=out.dtype)
        return _pull_back(out, seed, tensors, rebuild, retain=True)

    return _own(out._value, tensors), vjp_fun


def jacobian(fun: Callable[..., Any], argnum: Argnum = 0) -> Callable[..., Any]:
    """Transform ``fun`` into a function returning its Jacobian.

    One forward pass, then one backward pass per element of the result.

    Parameters
    ----------
    fun : callable
        A function of Tensors returning a Tensor of any shape.
    argnum : int, default=0
        The positional argument to differentiate: an ndarray or a number.

    Returns
    -------
    jacobian_fun : callable
        Takes the arguments of ``fun`` and returns an array of shape
        ``out.shape + x.shape`` (``out = fun(...)``, ``x`` the argument):
        entry ``[i, j]`` is the derivative of ``out[i]`` with respect to
        ``x[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import jacobian
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> jacobian(lambda x: A @ x)(np.zeros(2))
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    """

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        if not isinstance(argnum, (int, np.integer)):
            raise TypeError("jacobian differentiates one argument: argnum is an int.")
        x = args[argnum] if -len(args) <= argnum < len(args) else None
        if isinstance(x, (list, tuple, dict)):
            raise TypeError("jacobian differentiates an array or a number.")
        out, (t,), _ = _trace_call(fun, args, kwargs, argnum)
        x_shape, x_dtype = t._value.shape, t._value.dtype
        if type(t._value) is not np.ndarray:
            return _namespace_jacobian(out, t, x_shape)
        if not isinstance(out, Tensor):
            return np.zeros(_constant(out).shape + x_shape, x_dtype)
        rows = np.zeros((out.size,) + x_shape, x_dtype)
        for i in range(out.size):
            seed = np.zeros(out.size, out.dtype)
            seed[i] = 1
            rows[i] = _pull_back(
                out, seed.reshape(out.shape), [t], lambda g: g[0], retain=True
            )
        return rows.reshape(out.shape + x_shape)

    return wrapped


def _namespace_jacobian(out, t, x_shape):
    """The Jacobian of ``out`` for a leaf ``t`` whose value is of another
    namespace than NumPy: rows stacked on its device."""
    value = t._value
    xp = array_api_compat.array_namespace(value)
    device = array_api_compat.device(value)
    x_shape = tuple(x_shape)
    if not isinstance(out, Tensor):
        shape = tuple(getattr(out, "shape", ()))
        return xp.zeros(shape + x_shape, dtype=value.dtype, device=device)
    shape, n = tuple(out.shape), out.size
    rows = []
    for i in range(n):
        seed = xp.zeros(n, dtype=out.dtype, device=device)
        seed[i] = 1
        seed = xp.reshape(seed, shape)
        rows.append(_pull_back(out, seed, [t], lambda g: g[0], retain=True))
    if not rows:
        return xp.zeros(shape + x_shape, dtype=value.dtype, device=device)
    return xp.reshape(xp.stack(rows), shape + x_shape)


def check_grad(
    fun: Callable[..., Any],
    *args: Any,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> float:
    """Compare the engine's gradient of ``fun`` with central finite differences.

    Every positional argument is checked, one entry at a time. Use it to test
    an operation or a loss of your own.

    Parameters
    ----------
    fun : callable
        A scalar-valued function built from engine operations.
    *args : ndarray, number, or list / tuple / dict of them
        The point at which to check; each argument is differentiated in turn.
    eps : float, optional
        The finite-difference step. Defaults to 1e-6 in float64 and 1e-3 in
        float32 (the dtype of each array).
    rtol, atol : float, optional
        Tolerances of the comparison. Default to 1e-5 and 1e-7 in float64,
        2e-2 and 1e-3 in float32.

    Returns
    -------
    max_error : float
        The largest absolute difference found.

    Raises
    ------
    AssertionError
        If an entry differs by more than ``atol + rtol * |numeric|``; the
        message names the argument, the entry and both values.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import check_grad, sigmoid
    >>> def silu(z):
    ...     return (z * sigmoid(z)).sum()
    >>> err = check_grad(silu, np.array([-2.0, 0.5, 3.0]))
    >>> err < 1e-7
    True
    """
    worst_error, worst_excess, report = 0.0, 0.0, None
    _refuse_nested("check_grad was called")
    for argnum in range(len(args)):
        analytic = grad(fun, argnum)(*args)
        leaves, rebuild = _flatten(args[argnum])
        grad_leaves, _ = _flatten(analytic)
        for leaf_index, (leaf, g) in enumerate(zip(leaves, grad_leaves)):
            x = _as_real_array(leaf)
            single = x.dtype == np.float32
            step = eps if eps is not None else (1e-3 if single else 1e-6)
            r = rtol if rtol is not None else (2e-2 if single else 1e-5)
            a = atol if atol is not None else (1e-3 if single else 1e-7)
            for idx in np.ndindex(x.shape):
                values = []
                for delta in (step, -step):
                    moved_leaves = list(leaves)
                    moved_leaves[leaf_index] = moved = x.copy()
                    moved[idx] += delta
                    moved_args = list(args)
                    moved_args[argnum] = rebuild(moved_leaves)
                    out = fun(*moved_args)
                    values.append(float(out._value if isinstance(out, Tensor) else out))
                numeric = (values[0] - values[1]) / (2 * step)
                engine = float(np.asarray(g)[idx])
                err = abs(engine - numeric)
                worst_error = max(worst_error, err)
                excess = err - (a + r * abs(numeric))
                if not excess <= worst_excess:  # also catches NaN
                    worst_excess = excess if excess == excess else np.inf
                    leaf_name = f", leaf {leaf_index}" if len(leaves) > 1 else ""
                    report = (
                        f"Gradient mismatch for argument {argnum}{leaf_name} at "
                        f"index {idx}: engine {engine!r}, finite differences "
                        f"{numeric!r} (absolute error {err:.3g} > atol {a:g} + "
                        f"rtol {r:g} * |numeric|)."
                    )
    if report is not None:
        raise AssertionError(report)
    return worst_error
