"""The Tensor, the primitive mechanism and the backward pass."""

import functools
import heapq
import itertools

import numpy as np

_next_order = itertools.count().__next__  # creation order: inputs before results


def _as_float_array(value):
    """Return ``value`` as an ndarray, integers and booleans cast to float64."""
    value = np.asarray(value)
    if value.dtype.kind not in "fc":
        value = value.astype(np.float64)
    return value


class Tensor:
    """An ndarray that records the operations applied to it, for reverse-mode AD.

    A Tensor created by the user is a leaf of the computation graph. Every engine
    operation that receives at least one Tensor returns a new Tensor that
    remembers its inputs and how to pull a gradient back to them.
    :meth:`backward` then fills ``.grad`` of every Tensor in the graph with the
    gradient of the (scalar) result with respect to it.

    NumPy arrays and Python numbers work on either side of every operator,
    including ``ndarray @ Tensor``: NumPy defers to the Tensor.

    Parameters
    ----------
    value : array-like
        The data. Integer and boolean data are stored as float64; float32 stays
        float32.

    Attributes
    ----------
    value : ndarray
        The data.
    grad : ndarray or None
        The gradient written by the last :meth:`backward` of a graph that
        contains this Tensor, with the shape and dtype of ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine import Tensor
    >>> x = Tensor(np.array([1.0, 2.0, 3.0]))
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    __slots__ = ("value", "grad", "_parents", "_vjps", "_order", "__weakref__")
    __array_ufunc__ = None  # NumPy's binary operators return NotImplemented

    def __init__(self, value):
        if isinstance(value, Tensor):
            value = value.value
        self.value = _as_float_array(value)
        self.grad = None
        self._parents = ()
        self._vjps = ()
        self._order = _next_order()

    @property
    def shape(self):
        """Shape of ``value``."""
        return np.shape(self.value)

    @property
    def ndim(self):
        """Number of dimensions of ``value``."""
        return np.ndim(self.value)

    @property
    def size(self):
        """Number of elements of ``value``."""
        return np.size(self.value)

    @property
    def dtype(self):
        """dtype of ``value``."""
        return self.value.dtype

    @property
    def T(self):
        """The transposed Tensor (axes reversed)."""
        return ops.transpose(self)

    def __repr__(self):
        text = np.array2string(np.asarray(self.value), separator=", ", prefix="Tensor(")
        return f"Tensor({text})"

    def __len__(self):
        return len(self.value)

    def item(self):
        """The value of a one-element Tensor as a Python number."""
        return self.value.item()

    def backward(self, grad=None):
        """Fill ``.grad`` of every Tensor this one depends on.

        Parameters
        ----------
        grad : array-like, optional
            The gradient of the final result with respect to this Tensor.
            Defaults to 1, which requires this Tensor to hold a single value.

        Notes
        -----
        The graph is released as it is traversed: intermediate results are
        freed once the pass is over, and calling ``backward`` again only
        reaches this Tensor itself.
        """
        if grad is None:
            value = np.asarray(self.value)
            if value.size != 1:
                raise ValueError(
                    "backward() without a gradient needs a Tensor with a single "
                    f"value; this one has shape {self.shape}. Pass grad= or "
                    "reduce it first, e.g. with .sum()."
                )
            grad = np.ones(value.shape, value.dtype)
        else:
            grad = np.broadcast_to(np.asarray(grad, dtype=self.dtype), self.shape)
        backward(self, grad)

    # Operators; the functions live in skvgrad.engine.ops.
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other):
        return self.value < _value(other)

    def __le__(self, other):
        return self.value <= _value(other)

    def __gt__(self, other):
        return self.value > _value(other)

    def __ge__(self, other):
        return self.value >= _value(other)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis``; see :func:`skvgrad.engine.sum`."""
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``; see :func:`skvgrad.engine.mean`."""
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        """A Tensor with the same data in another shape."""
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return ops.reshape(self, shape)

    def transpose(self, *axes):
        """A Tensor with permuted axes (reversed when none are given)."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return ops.transpose(self, axes or None)


def _value(x):
    """The ndarray behind a Tensor, or ``x`` itself."""
    return x.value if isinstance(x, Tensor) else x


def primitive(forward):
    """Make an engine operation from a forward function that states its VJPs.

    ``forward(*values, **kwargs)`` receives plain arrays and returns
    ``(result, vjps)``, where ``vjps[i](g)`` maps the gradient ``g`` of the
    result to the gradient of the ``i``-th positional input. Only the VJPs of
    inputs that are Tensors are ever called; inputs past the end of ``vjps``
    (or whose VJP is None) get no gradient. Results may be broadcast: the
    backward pass sums each gradient back to its input's shape.

    Called with no Tensor among its inputs, the operation returns the plain
    result and records nothing.

    Parameters
    ----------
    forward : callable
        The forward function with its VJPs, as described above.

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

    @functools.wraps(forward)
    def op(*args, **kwargs):
        tracked = False
        values = []
        for arg in args:
            if isinstance(arg, Tensor):
                tracked = True
                values.append(arg.value)
            else:
                values.append(arg)
        result, vjps = forward(*values, **kwargs)
        if not tracked:
            return result
        out = Tensor.__new__(Tensor)
        out.value = result
        out.grad = None
        out._parents = args
        out._vjps = vjps
        out._order = _next_order()
        return out

    return op


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to fit.

    Parameters
    ----------
    grad : ndarray
        A gradient with the broadcast result's shape.
    shape : tuple of int
        The shape of the input the gradient is for.

    Returns
    -------
    grad : ndarray
        The gradient summed back to ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvgrad.engine.tensor import unbroadcast
    >>> unbroadcast(np.ones((3, 4)), (1, 4))
    array([[3., 3., 3., 3.]])
    >>> unbroadcast(np.ones((3, 4)), ())
    array(12.)
    """
    grad = np.asarray(grad)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    grad = np.asarray(grad)
    if grad.shape != shape:
        raise ValueError(
            f"A gradient of shape {grad.shape} cannot belong to an input of shape "
            f"{shape}: a VJP returned the wrong shape."
        )
    return grad


def backward(root, grad):
    """Run the reverse pass from ``root`` seeded with ``grad``; release the graph.

    A Tensor is always created after its inputs, so taking the Tensors that
    received a gradient newest first (a heap on creation order) visits every
    Tensor after all of the Tensors made from it: each VJP is called once, with
    the complete gradient.
    """
    grads = {id(root): grad}
    heap = [(-root._order, root)]
    while heap:
        node = heapq.heappop(heap)[1]
        g = grads.pop(id(node))
        parents, vjps = node._parents, node._vjps
        node._parents = node._vjps = ()
        if g is None:  # nothing flowed back to this node
            node.grad = np.zeros_like(node.value)
            continue
        node.grad = g
        for parent, vjp in itertools.zip_longest(parents, vjps):
            if not isinstance(parent, Tensor):
                continue
            pg = None if vjp is None else vjp(g)
            if pg is not None:
                value = parent.value
                if pg.shape != value.shape:
                    pg = unbroadcast(pg, value.shape)
                if pg.dtype != value.dtype:
                    pg = pg.astype(value.dtype)
            key = id(parent)
            if key not in grads:
                grads[key] = pg
                heapq.heappush(heap, (-parent._order, parent))
            elif pg is not None:
                seen = grads[key]
                grads[key] = pg if seen is None else seen + pg


from skvgrad.engine import ops  # noqa: E402  (ops builds on Tensor)
