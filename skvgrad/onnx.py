"""ONNX export of skvgrad's estimators, custom activations included.

Importing this module registers converters for :class:`~skvgrad.MLPAutogradClassifier`
and :class:`~skvgrad.MLPAutogradRegressor` with skl2onnx, so that
``skl2onnx.to_onnx(model, X_sample)`` converts a fitted estimator, or a Pipeline
or ColumnTransformer that holds one; onnxruntime (or any ONNX runtime) then
serves it. It needs the ``onnx`` extra (``pip install skvgrad[onnx]``);
``import skvgrad`` alone imports none of skl2onnx, onnx or onnxruntime.
scikit-learn's own MLP converters are left as they are.

The graph computes what ``predict`` and ``predict_proba`` compute, with the
same formulas: a float32 sample gives a float graph, a float64 sample a double
graph (as skl2onnx does), whatever the model's dtype. The hidden activation,
built-in or your own, is traced through the engine (:func:`skvgrad.engine.trace`)
and each recorded primitive becomes ONNX operators, looked up in one table by
the engine's operation object. Branches written with ``engine.where`` on
comparisons stay data-dependent in the graph. A function that the graph
cannot reproduce is refused with an :class:`ExportError` that says why: a
primitive with no ONNX counterpart (named), a value that depends on the batch
size or is drawn at random inside the function, an index that depends on the
data.

The classifier takes skl2onnx's options of MLPClassifier: ``zipmap`` (True,
False or "columns"), ``nocl`` and ``output_class_labels``. Its outputs are
``label`` and ``probabilities`` with ``zipmap=False``; the labels are those of
``predict`` (the classes, in their own type: int64, string, double or bool;
for multilabel models each label in the two values it was coded with). The
regressor's output ``variable`` has shape ``(n_samples, n_outputs)``.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import load_iris
>>> import skvgrad.onnx  # registers the converters
>>> from skvgrad import MLPAutogradClassifier, engine
>>> def swish(z):
...     return z * engine.sigmoid(z)
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPAutogradClassifier((8,), activation=swish, solver="lbfgs",
...                             max_iter=500, random_state=0).fit(X, y)
>>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
>>> session = ort.InferenceSession(onx.SerializeToString(),
...                                providers=["CPUExecutionProvider"])
>>> label, proba = session.run(None, {"X": X})
>>> bool(np.array_equal(label, clf.predict(X)))
True
>>> bool(np.allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-10))
True
"""

import functools
import inspect
from typing import Any

import numpy as np
from onnx import TensorProto, numpy_helper
from skl2onnx import update_registered_converter
from skl2onnx._parse import _parse_sklearn_classifier
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.utils import check_input_and_output_numbers
from sklearn.utils.validation import check_is_fitted

from skvgrad import engine, nn
from skvgrad.classifier import MLPAutogradClassifier
from skvgrad.engine import ops, tracing
from skvgrad.engine.tensor import _is_foreign
from skvgrad.engine.tracing import Var
from skvgrad.regressor import MLPAutogradRegressor
from skvgrad.tabular import TabularMLPClassifier, TabularMLPRegressor

__all__ = ["ExportError"]

CLASSIFIER_ALIAS = "SkvgradMLPAutogradClassifier"
REGRESSOR_ALIAS = "SkvgradMLPAutogradRegressor"
MIN_OPSET = 13

FLOAT, DOUBLE = TensorProto.FLOAT, TensorProto.DOUBLE
INT64, BOOL, STRING = TensorProto.INT64, TensorProto.BOOL, TensorProto.STRING
_NUMPY = {FLOAT: np.float32, DOUBLE: np.float64, INT64: np.int64, BOOL: np.bool_}
_TENSOR_TYPES = {
    FLOAT: FloatTensorType,
    DOUBLE: DoubleTensorType,
    INT64: Int64TensorType,
    BOOL: BooleanTensorType,
    STRING: StringTensorType,
}


class ExportError(ValueError):
    """A model cannot be exported to ONNX as it is; the message says why.

    Raised at conversion, never replaced by a graph that computes something
    else: for a primitive with no ONNX counterpart, a custom activation whose
    trace depends on the batch size or on random draws, or labels ONNX cannot
    hold.

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> import skvgrad.onnx
    >>> from skvgrad import MLPAutogradRegressor, engine
    >>> @engine.primitive
    ... def softsign(x):
    ...     return x / (1 + np.abs(x)), (lambda g: g / (1 + np.abs(x)) ** 2,)
    >>> X = np.linspace(-1, 1, 20)[:, np.newaxis]
    >>> reg = MLPAutogradRegressor(hidden_layer_sizes=(3,), activation=softsign,
    ...                            solver="lbfgs", random_state=0)
    >>> reg = reg.fit(X, 2 * X.ravel())
    >>> to_onnx(reg, X[:1])
    Traceback (most recent call last):
    ...
    skvgrad.onnx.ExportError: The activation softsign uses the primitive softsign ...
    """


# Writing nodes ----------------------------------------------------------------------


class _Graph:
    """Adds nodes and constants to skl2onnx's container; floats in one type."""

    def __init__(self, scope, container, float_type):
        if container.target_opset < MIN_OPSET:
            raise ExportError(
                f"skvgrad's converters need ONNX opset {MIN_OPSET} or later; "
                f"target_opset is {container.target_opset}."
            )
        self.scope, self.container = scope, container
        self.float = float_type
        self.opset = container.target_opset

    def node(self, op_type, inputs, output=None, **attrs):
        """The name of the output of a new ``op_type`` node."""
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        name = self.scope.get_unique_operator_name(op_type)
        self.container.add_node(op_type, list(inputs), output, name=name, **attrs)
        return output

    def constant(self, value, elem=None):
        """The name of an initializer holding ``value`` as ``elem`` (the float type
        by default)."""
        elem = self.float if elem is None else elem
        name = self.scope.get_unique_variable_name("constant")
        shape = list(np.shape(value))
        if elem == STRING:
            content = [str(v).encode("utf-8") for v in np.ravel(value).tolist()]
        else:
            content = numpy_helper.from_array(np.asarray(value, dtype=_NUMPY[elem]))
        self.container.add_initializer(name, elem, shape, content)
        return name

    def cast(self, name, elem):
        return self.node("Cast", [name], to=elem)

    def reduce(self, op_type, x, axis, keepdims):
        """``op_type`` (ReduceSum, ...) of ``x`` over ``axis`` (None: all axes)."""
        keepdims = int(bool(keepdims))
        if axis is None:
            return self.node(op_type, [x], keepdims=keepdims)
        axes = [int(a) for a in np.atleast_1d(axis)]
        if self.opset >= (13 if op_type == "ReduceSum" else 18):  # axes as input
            return self.node(
                op_type, [x, self.constant(axes, INT64)], keepdims=keepdims
            )
        return self.node(op_type, [x], axes=axes, keepdims=keepdims)

    # Stable forms of the engine's kernels, from operators with float and double
    # kernels in onnxruntime (its Softplus has none for double, and its Sigmoid
    # loses the relative accuracy of the tails that skvgrad's kernels keep).

    def log1p(self, u):
        """``log(1 + u)`` to full relative accuracy, as ``u log(w) / (w - 1)``
        with ``w = 1 + u`` (Goldberg)."""
        one = self.constant(1.0)
        w = self.node("Add", [one, u])
        ratio = self.node("Div", [self.node("Log", [w]), self.node("Sub", [w, one])])
        tiny = self.node("Equal", [w, one])  # 1 + u rounds to 1: log1p(u) is u
        exact = self.node("Where", [tiny, u, self.node("Mul", [u, ratio])])
        return self.node("Where", [self.node("IsInf", [w]), w, exact])

    def expm1(self, x):
        """``exp(x) - 1`` to full relative accuracy (Kahan: ``(u - 1) x / log u``)."""
        one = self.constant(1.0)
        u = self.node("Exp", [x])
        um1 = self.node("Sub", [u, one])
        kahan = self.node("Mul", [um1, self.node("Div", [x, self.node("Log", [u])])])
        kahan = self.node("Where", [self.node("IsInf", [u]), u, kahan])
        minus_one = self.node("Neg", [one])
        kahan = self.node(
            "Where", [self.node("Equal", [um1, minus_one]), minus_one, kahan]
        )
        return self.node("Where", [self.node("Equal", [u, one]), x, kahan])

    def log1p_exp_neg_abs(self, x):
        """``log(1 + exp(-|x|))``, the smooth part of softplus."""
        return self.log1p(self.node("Exp", [self.node("Neg", [self.node("Abs", [x])])]))

    def sigmoid(self, x):
        """``exp(min(x, 0)) / (1 + exp(-|x|))``, as the engine's kernel."""
        zero, one = self.constant(0.0), self.constant(1.0)
        tail = self.node("Exp", [self.node("Neg", [self.node("Abs", [x])])])
        numerator = self.node("Exp", [self.node("Min", [x, zero])])
        return self.node("Div", [numerator, self.node("Add", [one, tail])])


# Primitives to ONNX: one entry per operation of the engine's record ------------------


class _Emitter:
    """Writes the steps of one trace as nodes; knows each Var's name and type."""

    def __init__(self, graph, function):
        self.g, self.function = graph, function
        self.names = {}  # Var index -> (name, elem)
        self.casts = {}  # (Var index, elem) -> name

    def elem(self, dtype):
        """The ONNX type of values of ``dtype`` in this graph."""
        kind = np.dtype(dtype).kind
        if kind == "f":
            return self.g.float
        if kind == "b":
            return BOOL
        if kind in "iu":
            return INT64
        raise ExportError(f"The activation computes {np.dtype(dtype)} values.")

    def get(self, item, elem):
        """The name of ``item`` (a Var or a constant) as a value of type ``elem``."""
        if isinstance(item, Var):
            name, have = self.names[item.index]
            if have == elem:
                return name
            key = (item.index, elem)
            if key not in self.casts:
                self.casts[key] = self.g.cast(name, elem)
            return self.casts[key]
        if isinstance(item, (bool, int, float, np.ndarray, np.generic)):
            if np.asarray(item).dtype.kind not in "biuf":
                raise ExportError(f"The activation uses a constant {item!r}.")
            return self.g.constant(item, elem)
        raise ExportError(f"The activation uses an operand {item!r} ONNX cannot hold.")

    def common(self, items):
        """The type that values of ``items`` are compared in."""
        kinds = {
            np.dtype(i.dtype).kind if isinstance(i, Var) else np.asarray(i).dtype.kind
            for i in items
        }
        if "f" in kinds:
            return self.g.float
        return INT64 if kinds & set("iu") else BOOL

    def run(self, record, input_name):
        """Write ``record`` with its input named ``input_name``; its output's name."""
        (var,) = record.inputs
        self.names[var.index] = (input_name, self.elem(var.dtype))
        for step in record.steps:
            emit = _PRIMITIVES.get(step.op)
            if emit is None:
                raise ExportError(
                    f"The activation {_name(self.function)} uses "
                    f"{_describe_op(step.op)}, which has no ONNX counterpart: it "
                    "cannot be exported. Write it with engine operations that have "
                    "one (listed in the user guide's page on ONNX)."
                )
            out_elem = self.elem(step.out.dtype)
            name = emit(self, _Arguments(step), out_elem)
            self.names[step.out.index] = (name, out_elem)
        return self.get(record.output, self.g.float)


class _Arguments(dict):
    """A step's arguments by parameter name (ufuncs: ``args``), defaults filled in."""

    def __init__(self, step):
        if isinstance(step.op, np.ufunc):  # positional operands
            super().__init__(args=step.args, **step.kwargs)
        else:
            bound = inspect.signature(step.op).bind(*step.args, **step.kwargs)
            bound.apply_defaults()
            super().__init__(bound.arguments)

    def operands(self):
        """The operands, in order (of an elementwise operation)."""
        return list(self["args"]) if "args" in self else list(self.values())


def _describe_op(op):
    """How an error names an operation: the primitive ``cube`` of ``module``."""
    name = getattr(op, "__qualname__", None) or repr(op)
    module = getattr(op, "__module__", None)
    return f"the primitive {name}" + (f" (from {module})" if module else "")


def _elementwise(op_type):
    """``op_type`` on the operands, each cast to the result's type."""

    def emit(em, a, out):
        return em.g.node(op_type, [em.get(x, out) for x in a.operands()])

    return emit


def _composite(method):
    """A composite of :class:`_Graph` on the operand cast to the result's type."""

    def emit(em, a, out):
        (x,) = a.operands()
        return getattr(em.g, method)(em.get(x, out))

    return emit


def _square(em, a, out):
    x = em.get(a["x"], out)
    return em.g.node("Mul", [x, x])


def _softplus(em, a, out):
    x = em.get(a["x"], out)
    positive = em.g.node("Max", [x, em.g.constant(0.0)])
    return em.g.node("Add", [positive, em.g.log1p_exp_neg_abs(x)])


def _log_sigmoid(em, a, out):
    x = em.get(a["x"], out)
    negative = em.g.node("Min", [x, em.g.constant(0.0)])
    return em.g.node("Sub", [negative, em.g.log1p_exp_neg_abs(x)])


def _logaddexp(em, a, out):
    """``max(a, b) + log1p(exp(-|a - b|))``; ``a + log 2`` where ``a == b``."""
    g = em.g
    x, y = em.get(a["a"], out), em.get(a["b"], out)
    spread = g.log1p_exp_neg_abs(g.node("Sub", [x, y]))
    general = g.node("Add", [g.node("Max", [x, y]), spread])
    tie = g.node("Add", [x, g.constant(np.log(2.0))])
    return g.node("Where", [g.node("Equal", [x, y]), tie, general])


def _where(em, a, out):
    condition = em.get(a["condition"], BOOL)
    return em.g.node("Where", [condition, em.get(a["x"], out), em.get(a["y"], out)])


def _reduction(op_type):
    def emit(em, a, out):
        return em.g.reduce(op_type, em.get(a["x"], out), a["axis"], a["keepdims"])

    return emit


def _logsumexp(em, a, out):
    """``m + log(sum(exp(x - m)))`` with ``m`` the finite max (0 where it is not)."""
    g = em.g
    x = em.get(a["x"], out)
    m = g.reduce("ReduceMax", x, a["axis"], True)
    bad = g.node("Or", [g.node("IsInf", [m]), g.node("IsNaN", [m])])
    m = g.node("Where", [bad, g.constant(0.0), m])
    total = g.reduce("ReduceSum", g.node("Exp", [g.node("Sub", [x, m])]), a["axis"], 1)
    lse = g.node("Add", [m, g.node("Log", [total])])
    if a["keepdims"]:
        return lse
    if a["axis"] is None:
        return g.node("Reshape", [lse, g.constant(np.zeros(0, np.int64), INT64)])
    axes = g.constant([int(v) for v in np.atleast_1d(a["axis"])], INT64)
    return g.node("Squeeze", [lse, axes])


def _softmax(op_type):
    def emit(em, a, out):
        return em.g.node(op_type, [em.get(a["x"], out)], axis=int(a["axis"]))

    return emit


def _cumsum(em, a, out):
    x, axis = em.get(a["x"], out), a["axis"]
    if axis is None:
        x, axis = em.g.node("Reshape", [x, em.g.constant([-1], INT64)]), 0
    return em.g.node("CumSum", [x, em.g.constant(int(axis), INT64)])


def _reshape(em, a, out):
    shape = [int(n) for n in np.atleast_1d(a["shape"])]
    attrs = {"allowzero": 1} if em.g.opset >= 14 else {}
    return em.g.node(
        "Reshape", [em.get(a["x"], out), em.g.constant(shape, INT64)], **attrs
    )


def _transpose(em, a, out):
    x = a["x"]
    ndim = len(x.shape)
    axes = a["axes"]
    perm = list(range(ndim))[::-1] if axes is None else [int(i) % ndim for i in axes]
    return em.g.node("Transpose", [em.get(x, out)], perm=perm)


def _concatenate(em, a, out):
    names = [em.get(x, out) for x in a["arrays"]]
    return em.g.node("Concat", names, axis=int(a["axis"]))


def _pad(em, a, out):
    if np.ndim(a["values"]) != 0:
        raise ExportError("The activation pads with several values; ONNX takes one.")
    widths = a["widths"]
    pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
    g = em.g
    inputs = [
        em.get(a["x"], out),
        g.constant(pads, INT64),
        g.constant(a["values"], out),
    ]
    return g.node("Pad", inputs, mode="constant")


def _einsum(em, a, out):
    # Letters renamed to lowercase ones, the ones every ONNX runtime accepts.
    letters = sorted(set("".join(a["inputs"]) + a["output"]))
    if len(letters) > 26:
        raise ExportError("The activation's einsum uses more than 26 indices.")
    rename = str.maketrans(dict(zip(letters, "abcdefghijklmnopqrstuvwxyz")))
    equation = (",".join(a["inputs"]) + "->" + a["output"]).translate(rename)
    names = [em.get(x, out) for x in a["operands"]]
    return em.g.node("Einsum", names, equation=equation)


def _getitem(em, a, out):
    """Basic indexing (slices, integers, None, ...), or slices and one array."""
    g, x, index = em.g, a["x"], a["index"]
    if isinstance(index, Var):
        raise ExportError(
            "The activation indexes with a traced mask (z[z > 0]): the shape of "
            "the result depends on the data. Use engine.where instead."
        )
    items = list(index) if isinstance(index, tuple) else [index]
    arrays = [k for k, item in enumerate(items) if _is_array_index(item)]
    valid = all(
        item is None or item is Ellipsis or isinstance(item, slice) or _is_integer(item)
        for item in items
        if not _is_array_index(item)
    )
    mixed = arrays and any(item is None or _is_integer(item) for item in items)
    ndim = len(x.shape)
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    ellipses = [k for k, item in enumerate(items) if item is Ellipsis]
    if not valid or len(arrays) > 1 or mixed or len(ellipses) > 1 or used > ndim:
        raise ExportError(
            f"The activation indexes with {index!r}; ONNX export takes basic "
            "indices (slices, integers, None, ...), or slices and one array."
        )
    fill = [slice(None)] * (ndim - used)
    if ellipses:
        items[ellipses[0] : ellipses[0] + 1] = fill
    else:
        items += fill
    big = np.iinfo(np.int64).max
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    axis, gather_axis = 0, None
    for item in items:
        if item is None:
            continue
        if _is_integer(item):
            i = int(item)
            starts.append(i), ends.append(i + 1 if i != -1 else big)
            axes.append(axis), steps.append(1), squeeze.append(axis)
        elif isinstance(item, slice) and item != slice(None):
            step = 1 if item.step is None else int(item.step)
            start = item.start if item.start is not None else (0 if step > 0 else big)
            stop = item.stop if item.stop is not None else (big if step > 0 else -big)
            starts.append(int(start)), ends.append(int(stop))
            axes.append(axis), steps.append(step)
        elif _is_array_index(item):
            gather_axis = axis
        axis += 1
    name = em.get(x, out)
    if axes:
        bounds = [g.constant(v, INT64) for v in (starts, ends, axes, steps)]
        name = g.node("Slice", [name, *bounds])
    if gather_axis is not None:
        indices = np.asarray(items[arrays[0]])
        if indices.dtype == bool:
            indices = np.flatnonzero(indices)
        name = g.node("Gather", [name, g.constant(indices, INT64)], axis=gather_axis)
    if squeeze:
        name = g.node("Squeeze", [name, g.constant(squeeze, INT64)])
    kept = [item for item in items if not _is_integer(item)]
    new_axes = [k for k, item in enumerate(kept) if item is None]
    if new_axes:
        name = g.node("Unsqueeze", [name, g.constant(new_axes, INT64)])
    return name


def _is_array_index(item):
    """Whether an index item is an array (or list) of integers or booleans."""
    return isinstance(item, (list, np.ndarray)) and np.ndim(item) >= 1


def _is_integer(item):
    """Whether an index item is an integer (not a boolean)."""
    return isinstance(item, (int, np.integer)) and not isinstance(
        item, (bool, np.bool_)
    )


def _compare(op_type, negate=False):
    """A comparison, in the common type of its operands."""

    def emit(em, a, out):
        operands = list(a["args"])
        elem = em.common(operands)
        if elem == BOOL and op_type not in ("Equal",):
            elem = INT64
        name = em.g.node(op_type, [em.get(x, elem) for x in operands])
        return em.g.node("Not", [name]) if negate else name

    return emit


def _logical(op_type):
    """A logical operator on operands cast to bool; bitwise ones on bools only."""

    def emit(em, a, out):
        if out != BOOL:
            raise ExportError(
                f"The activation applies a bitwise operator to integers; only "
                f"booleans export ({op_type})."
            )
        return em.g.node(op_type, [em.get(x, BOOL) for x in a["args"]])

    return emit


def _float_test(*op_types):
    """``IsNaN`` / ``IsInf`` (or, for ``isfinite``, neither) of a float operand."""

    def emit(em, a, out):
        (x,) = a["args"]
        x = em.get(x, em.g.float)
        tests = [em.g.node(t, [x]) for t in op_types]
        if len(tests) == 1:
            return tests[0]
        return em.g.node("Not", [em.g.node("Or", tests)])

    return emit


def _astype(em, a, out):
    return em.get(a["x"], out)


def _private(name):
    """An operation of the engine's record that is not public (None if absent)."""
    return getattr(ops, name, None)


_PRIMITIVES = {
    engine.add: _elementwise("Add"),
    engine.subtract: _elementwise("Sub"),
    engine.multiply: _elementwise("Mul"),
    engine.divide: _elementwise("Div"),
    engine.power: _elementwise("Pow"),
    engine.maximum: _elementwise("Max"),
    engine.minimum: _elementwise("Min"),
    engine.logaddexp: _logaddexp,
    engine.negative: _elementwise("Neg"),
    engine.exp: _elementwise("Exp"),
    engine.log: _elementwise("Log"),
    engine.log1p: _composite("log1p"),
    engine.expm1: _composite("expm1"),
    engine.sqrt: _elementwise("Sqrt"),
    engine.square: _square,
    engine.abs: _elementwise("Abs"),
    engine.sign: _elementwise("Sign"),
    engine.sin: _elementwise("Sin"),
    engine.cos: _elementwise("Cos"),
    engine.tanh: _elementwise("Tanh"),
    engine.sigmoid: _composite("sigmoid"),
    engine.relu: _elementwise("Relu"),
    engine.softplus: _softplus,
    engine.log_sigmoid: _log_sigmoid,
    engine.matmul: _elementwise("MatMul"),
    engine.sum: _reduction("ReduceSum"),
    engine.mean: _reduction("ReduceMean"),
    engine.max: _reduction("ReduceMax"),
    engine.min: _reduction("ReduceMin"),
    engine.prod: _reduction("ReduceProd"),
    engine.cumsum: _cumsum,
    engine.logsumexp: _logsumexp,
    engine.softmax: _softmax("Softmax"),
    engine.log_softmax: _softmax("LogSoftmax"),
    engine.reshape: _reshape,
    engine.transpose: _transpose,
    _private("_where"): _where,
    _private("_getitem"): _getitem,
    _private("_concatenate"): _concatenate,
    _private("_pad"): _pad,
    _private("_einsum"): _einsum,
    np.less: _compare("Less"),
    np.less_equal: _compare("LessOrEqual"),
    np.greater: _compare("Greater"),
    np.greater_equal: _compare("GreaterOrEqual"),
    np.equal: _compare("Equal"),
    np.not_equal: _compare("Equal", negate=True),
    np.logical_and: _logical("And"),
    np.logical_or: _logical("Or"),
    np.logical_xor: _logical("Xor"),
    np.logical_not: _logical("Not"),
    np.bitwise_and: _logical("And"),
    np.bitwise_or: _logical("Or"),
    np.bitwise_xor: _logical("Xor"),
    np.invert: _logical("Not"),
    np.isnan: _float_test("IsNaN"),
    np.isinf: _float_test("IsInf"),
    np.isfinite: _float_test("IsInf", "IsNaN"),
    tracing.astype: _astype,
}
"""The ONNX form of each operation a trace records: ``emit(emitter, arguments,
result_type) -> name``. An operation missing here is refused at conversion."""
_PRIMITIVES.pop(None, None)


# Activations: traced, checked, written ------------------------------------------------


def _name(function):
    """How an error names a function (a lambda, a partial, an instance)."""
    if isinstance(function, str):
        return repr(function)
    if isinstance(function, functools.partial):
        return f"functools.partial({_name(function.func)}, ...)"
    name = getattr(function, "__qualname__", None)
    return name if name is not None else f"{type(function).__name__} instance"


def _trace_activation(function, n_units, dtype):
    """The trace of ``function`` on a (batch, n_units) input, checked to hold for
    any batch size and any values."""
    rng = np.random.default_rng(0)
    records = []
    for rows in (1, 3):
        sample = (3 * rng.standard_normal((rows, n_units))).astype(dtype)
        try:
            record = engine.trace(function, sample)
        except Exception as exc:
            raise ExportError(
                f"The activation {_name(function)} cannot be traced for ONNX "
                f"export: {exc}"
            ) from exc
        output = record.output
        if not isinstance(output, Var) or output.shape != sample.shape:
            what = (
                f"shape {output.shape}"
                if isinstance(output, Var)
                else "a value that does not depend on it"
            )
            raise ExportError(
                f"The activation {_name(function)} must return an array of its "
                f"input's shape computed from it; on an input of shape "
                f"{sample.shape} it returned {what}."
            )
        records.append(record)
    first, second = records
    n_steps = min(len(first.steps), len(second.steps))
    differ = next(
        (k for k in range(n_steps) if not _same(first.steps[k], second.steps[k])),
        None,
    )
    if differ is None and len(first.steps) == len(second.steps):
        if _same(first.output, second.output):
            _check_record(function, second, sample, rng)
            return first
    where = (
        "in its number of steps"
        if differ is None
        else f"at its step {differ + 1}, {_describe_op(first.steps[differ].op)}"
    )
    raise ExportError(
        f"The activation {_name(function)} records different operations or "
        f"constants on two inputs of different batch sizes and values ({where}): "
        "it depends on the batch size, or holds values of the traced input as "
        "constants (a random draw, an array of the input's shape, a result "
        "computed from the input outside engine operations), so one ONNX graph "
        "cannot compute it."
    )


def _check_record(function, record, sample, rng):
    """Refuse a record that does not compute ``function`` on other values: one
    that holds a value of the traced run the record did not see being made."""
    checks = [-sample, 10 * rng.standard_normal(sample.shape).astype(sample.dtype)]
    for check in checks:
        with np.errstate(all="ignore"):
            try:
                expected = np.asarray(function(check))
            except Exception as exc:
                raise ExportError(
                    f"The activation {_name(function)} fails on NumPy arrays, as "
                    f"predict calls it: {exc!r}"
                ) from exc
            got = record.run(check)
        scale = max(1.0, float(np.nanmax(np.abs(expected), initial=0.0)))
        tolerance = 1e-5 if sample.dtype == np.float32 else 1e-12
        if got.shape != expected.shape or not np.allclose(
            got, expected, rtol=tolerance, atol=tolerance * scale, equal_nan=True
        ):
            raise ExportError(
                f"The activation {_name(function)} computes, on other values, "
                "something else than its trace: the trace holds a value of the "
                "traced run as a constant (for instance engine.where on a "
                "comparison with two constant branches), so one ONNX graph cannot "
                "compute it."
            )


def _same(a, b):
    """Whether two recorded arguments are the same (Vars: by position and type)."""
    if isinstance(a, Var) or isinstance(b, Var):
        return (
            isinstance(a, Var)
            and isinstance(b, Var)
            and a.index == b.index
            and a.dtype == b.dtype
            and len(a.shape) == len(b.shape)
        )
    if isinstance(a, tracing.Step):
        return isinstance(b, tracing.Step) and a.op is b.op and _same(a[1:], b[1:])
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(
        b, (np.ndarray, np.generic)
    ):
        a, b = np.asarray(a), np.asarray(b)
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


def _activation(g, function, z, n_units, cache):
    """The name of ``function`` applied to the layer values ``z``."""
    if n_units not in cache:
        cache[n_units] = _trace_activation(function, n_units, _NUMPY[g.float])
    return _Emitter(g, function).run(cache[n_units], z)


# The network and the output layers -------------------------------------------------


def _check_numpy(model):
    """Refuse a model that is not fitted, or holds arrays other than NumPy's."""
    check_is_fitted(model)
    if _is_foreign(model.coefs_[0]):
        library = type(model.coefs_[0]).__module__.partition(".")[0]
        raise ExportError(
            f"The model holds {library} arrays (it was fitted under "
            "array_api_dispatch): ONNX export reads NumPy arrays. Move it to NumPy "
            "first with sklearn.utils._array_api.move_estimator_to(model, numpy, "
            '"cpu").'
        )


def _numpy(array):
    """A fitted array as a NumPy array."""
    return np.asarray(array)


def _network(g, model, operator):
    """The name of the raw outputs (the last layer's pre-activation)."""
    _check_numpy(model)
    source = operator.inputs[0]
    h = source.full_name
    if _elem_of(source.type) != g.float:
        h = g.cast(h, g.float)
    activation = model.activation
    function = nn.ACTIVATIONS[activation] if isinstance(activation, str) else activation
    cache: dict[Any, Any]
    last, cache = len(model.coefs_) - 1, {}
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        W, b = _numpy(W), _numpy(b)
        z = g.node("Gemm", [h, g.constant(W), g.constant(b)])
        if i == last:
            return z
        h = _activation(g, function, z, W.shape[1], cache)


def _elem_of(data_type):
    """The ONNX type of a skl2onnx variable type."""
    for elem, tensor_type in _TENSOR_TYPES.items():
        if isinstance(data_type, tensor_type):
            return elem
    return None


def _float_of(data_type):
    """The graph's float type: double for a double input, float otherwise."""
    return DOUBLE if isinstance(data_type, DoubleTensorType) else FLOAT


def _label_elem(values):
    """The ONNX type of labels like ``values`` (the type ``predict`` returns)."""
    values = np.asarray(values)
    kind = values.dtype.kind
    if kind == "b":
        return BOOL
    if kind in "iu":
        return INT64
    if kind == "f":
        return DOUBLE
    if kind in "US" or (kind == "O" and all(isinstance(v, str) for v in values.flat)):
        return STRING
    raise ExportError(
        f"Class labels of dtype {values.dtype} ({values.ravel()[:3].tolist()}...) "
        "cannot be ONNX labels: use integers, strings, floats or booleans."
    )


def _labels(scope, model):
    """The label values the graph picks from, and the class labels it lists,
    as the options (``nocl``, ``zipmap``) want them."""
    options = scope.get_options(model, dict(nocl=False, zipmap=True))
    multilabel = model._target_type == "multilabel-indicator"
    classes = np.asarray(model.classes_)
    if options["nocl"]:
        listed = np.arange(len(classes))
        return (np.arange(2) if multilabel else listed), listed
    values = np.asarray(model._label_values) if multilabel else classes
    zipmap = options["zipmap"]
    if not (isinstance(zipmap, bool) and not zipmap) and values.dtype.kind in "bf":
        # ZipMap's labels are int64 (skl2onnx refuses float labels that are not
        # integers before this point).
        values = values.astype(np.int64)
    return values, classes


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser, with ``output_class_labels`` typed as the
    labels (its own lists bool, float and unsigned labels as strings)."""
    _check_numpy(model)
    options = scope.get_options(model, dict(zipmap=True, output_class_labels=False))
    zipmap = options["zipmap"]
    if not (isinstance(zipmap, bool) and not zipmap):
        if isinstance(inputs[0].type, DoubleTensorType):
            raise ExportError(
                "zipmap needs a float graph: ONNX's ZipMap takes float32 "
                "probabilities only. Convert on a float32 sample, or pass "
                "options={'zipmap': False} for a double graph."
            )
        return _parse_sklearn_classifier(scope, model, inputs, custom_parsers)
    operator = scope.declare_local_operator(CLASSIFIER_ALIAS, model)
    operator.inputs = inputs
    names = ["label", "probabilities"]
    if options["output_class_labels"]:
        names.append("class_labels")
    for name in names:  # typed by the shape calculator
        operator.outputs.append(scope.declare_local_variable(name, Int64TensorType()))
    return list(operator.outputs)


def _classifier_shapes(operator):
    """Types and shapes of the classifier's outputs."""
    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=[2, 3]
    )
    model = operator.raw_operator
    check_is_fitted(model)
    n = operator.inputs[0].get_first_dimension()
    values, listed = _labels(operator.scope_inst, model)
    width = len(model.classes_)
    label_shape = [n, width] if model._target_type == "multilabel-indicator" else [n]
    float_type = _TENSOR_TYPES[_float_of(operator.inputs[0].type)]
    operator.outputs[0].type = _TENSOR_TYPES[_label_elem(values)](label_shape)
    operator.outputs[1].type = float_type([n, width])
    if len(operator.outputs) == 3:
        operator.outputs[2].type = _TENSOR_TYPES[_label_elem(listed)]([width])


def _convert_classifier(scope, operator, container):
    """ONNX nodes of ``predict`` and ``predict_proba``."""
    model = operator.raw_operator
    g = _Graph(scope, container, _float_of(operator.inputs[0].type))
    raw = _network(g, model, operator)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    kind = model._target_type
    values, listed = _labels(scope, model)
    elem = _label_elem(values)
    # Probabilities, as predict_proba computes them.
    if kind == "multiclass":
        g.node("Softmax", [raw], proba, axis=1)
    elif len(model.classes_) == 1:  # a single class: probability 1
        g.node("Expand", [g.constant([[1.0]]), g.node("Shape", [raw])], proba)
    else:
        eps = np.finfo(_NUMPY[g.float]).eps
        clipped = [g.sigmoid(raw), g.constant(eps), g.constant(1 - eps)]
        p = g.node("Clip", clipped, None if kind == "binary" else proba)
        if kind == "binary":
            g.node("Concat", [g.node("Sub", [g.constant(1.0), p]), p], proba, axis=1)
    # Labels, from the raw outputs as predict computes them.
    if kind == "multiclass":
        index = g.node("ArgMax", [raw], axis=1, keepdims=0)
        g.node("Gather", [g.constant(values, elem), index], label, axis=0)
    elif kind == "multilabel-indicator":
        low, high = (g.constant(v, elem) for v in values)
        g.node("Where", [g.node("Greater", [raw, g.constant(0.0)]), high, low], label)
    else:  # binary: raw > 0 picks classes_[1] (with one class, classes_[0])
        positive = g.node("Greater", [raw, g.constant(0.0)])
        index = g.cast(g.node("Reshape", [positive, g.constant([-1], INT64)]), INT64)
        values = np.concatenate([values, values[:1]])[:2]
        g.node("Gather", [g.constant(values, elem), index], label, axis=0)
    if len(operator.outputs) == 3:
        g.node(
            "Identity",
            [g.constant(listed, _label_elem(listed))],
            operator.outputs[2].full_name,
        )


_OUTPUTS = {"identity": "Identity", "exp": "Exp"}
"""The regressor's output layers (``nn.OUTPUTS``) as ONNX operators."""


def _regressor_shapes(operator):
    """Type and shape of the regressor's output: (n_samples, n_outputs)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    model = operator.raw_operator
    check_is_fitted(model)
    n = operator.inputs[0].get_first_dimension()
    float_type = _TENSOR_TYPES[_float_of(operator.inputs[0].type)]
    operator.outputs[0].type = float_type([n, model.n_outputs_])


def _convert_regressor(scope, operator, container):
    """ONNX nodes of ``predict``."""
    model = operator.raw_operator
    g = _Graph(scope, container, _float_of(operator.inputs[0].type))
    if model.out_activation_ not in _OUTPUTS:
        raise ExportError(f"Unknown output layer {model.out_activation_!r}.")
    raw = _network(g, model, operator)
    op_type = _OUTPUTS[model.out_activation_]
    g.node(op_type, [raw], operator.outputs[0].full_name)


def _register():
    """Register both converters with skl2onnx (next to its own MLP converters)."""
    update_registered_converter(
        MLPAutogradClassifier,
        CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        parser=_parse_classifier,
        options={
            "zipmap": [True, False, "columns"],
            "nocl": [True, False],
            "output_class_labels": [False, True],
        },
    )
    update_registered_converter(
        MLPAutogradRegressor, REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )
    for tabular in (TabularMLPClassifier, TabularMLPRegressor):
        update_registered_converter(
            tabular,
            f"Skvgrad{tabular.__name__}",
            _refuse_tabular,
            _refuse_tabular_converter,
            parser=_refuse_tabular_parser,
        )


def _refuse_tabular_parser(scope, model, inputs, custom_parsers=None):
    """Refuse a tabular estimator before skl2onnx reads anything of it."""
    _refuse_tabular(model)


def _refuse_tabular_converter(scope, operator, container):
    """Refuse a tabular estimator (skl2onnx checks a converter's signature)."""
    _refuse_tabular(operator)


def _refuse_tabular(operator):
    """Raise the ExportError that says why a tabular estimator has no graph."""
    model = getattr(operator, "raw_operator", operator)
    drop_in = type(model).__name__.replace("TabularMLP", "MLPAutograd")
    raise ExportError(
        f"{type(model).__name__} cannot be exported to ONNX: its built-in "
        "preprocessing (robust scaling, categorical encodings and embeddings, "
        "numerical embeddings) has no ONNX converter. Export a Pipeline of "
        f"scikit-learn preprocessing and {drop_in} instead."
    )


_register()
