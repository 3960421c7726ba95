"""Function transformations: ``grad``, ``value_and_grad`` and ``check_grad``."""

import functools
import numbers

import numpy as np

from skvgrad.engine.tensor import Tensor, _as_float_array


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


def _own_arrays(grads, tensors):
    """Gradients as writable arrays, none shared between two leaves."""
    seen = set()
    out = []
    for g, t in zip(grads, tensors):
        g = np.zeros_like(t.value) if g is None else np.asarray(g)
        if not g.flags.writeable or id(g) in seen:
            g = g.copy()
        seen.add(id(g))
        out.append(g)
    return out


def value_and_grad(fun, argnum=0):
    """Transform ``fun`` into a function returning its value and its gradient.

    Parameters
    ----------
    fun : callable
        A function whose result is a scalar (a Tensor holding a single value
        with no dimensions), built from engine operations.
    argnum : int, default=0
        The positional argument to differentiate. It may be an ndarray, a
        number, or a (nested) list / tuple / dict of them; integer data is
        differentiated as float64.

    Returns
    -------
    value_and_grad_fun : callable
        Takes the same arguments as ``fun`` and returns ``(value, gradient)``;
        the gradient has the structure, shapes and dtypes of argument
        ``argnum``.

    Raises
    ------
    ValueError
        If ``fun`` does not return a scalar.

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
    """

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        if not -len(args) <= argnum < len(args):
            raise ValueError(
                f"argnum={argnum} but the function was called with "
                f"{len(args)} positional argument(s)."
            )
        leaves, rebuild = _flatten(args[argnum])
        tensors = [Tensor(leaf) for leaf in leaves]
        args = list(args)
        args[argnum] = rebuild(tensors)
        out = fun(*args, **kwargs)
        if isinstance(out, Tensor):
            if out.ndim != 0:
                raise ValueError(
                    "The function to differentiate must return a scalar, but it "
                    f"returned a Tensor of shape {out.shape}; reduce it, e.g. "
                    "with .sum() or .mean()."
                )
            out.backward()
            value = out.value
            grads = [t.grad for t in tensors]
        elif np.ndim(out) == 0 and np.isrealobj(out):  # does not depend on the input
            value = out
            grads = [np.zeros_like(t.value) for t in tensors]
        else:
            raise ValueError(
                "The function to differentiate must return a scalar, but it "
                f"returned {type(out).__name__} of shape {np.shape(out)}."
            )
        return value, rebuild(_own_arrays(grads, tensors))

    return wrapped


def grad(fun, argnum=0):
    """Transform ``fun`` into a function returning its gradient.

    Parameters
    ----------
    fun : callable
        A scalar-valued function built from engine operations.
    argnum : int, default=0
        The positional argument to differentiate (an ndarray, a number, or a
        list / tuple / dict of them).

    Returns
    -------
    grad_fun : callable
        Takes the same arguments as ``fun`` and returns the gradient with the
        structure, shapes and dtypes of argument ``argnum``.

    See Also
    --------
    value_and_grad : The value and the gradient in one pass.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import grad, tanh
    >>> grad(lambda x: tanh(x).sum())(np.array([0.0, 1.0]))
    array([1.        , 0.41997434])
    """
    value_and_grad_fun = value_and_grad(fun, argnum)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        return value_and_grad_fun(*args, **kwargs)[1]

    return wrapped


def check_grad(fun, *args, eps=None, rtol=None, atol=None):
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
    for argnum in range(len(args)):
        analytic = grad(fun, argnum)(*args)
        leaves, rebuild = _flatten(args[argnum])
        grad_leaves, _ = _flatten(analytic)
        for leaf_index, (leaf, g) in enumerate(zip(leaves, grad_leaves)):
            x = _as_float_array(leaf)
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
                    values.append(float(out.value if isinstance(out, Tensor) else out))
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
