"""What every MLP estimator of skvgrad does, whatever its task.

:class:`BaseMLPAutograd` holds the parameters the estimators share, checks the
data, initialises the network, trains it (mini-batch SGD or Adam, or L-BFGS),
scores validation data and stops early, reports progress to the user and to
scikit-learn's callbacks, restores the previous model when a fit fails, and
computes the network's raw outputs. A task-specific subclass supplies its
targets' encoding, its output layer and loss, its default score and
``predict``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import inspect
import math
import os
import pickle
import sys
import sysconfig
import types
import warnings
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    Self,
    TypeAlias,
    TypeVar,
    overload,
)

import joblib
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn import (  # type: ignore[attr-defined]  # exported lazily
    config_context,
    get_config,
)
from sklearn.base import BaseEstimator
from sklearn.callback import CallbackSupportMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skvgrad import nn, optim
from skvgrad.engine.tensor import _is_foreign

_F = TypeVar("_F", bound=Callable[..., Any])
_S = TypeVar("_S")
_P = ParamSpec("_P")

# Types of the constructor parameters the estimators share.
HiddenLayerSizes: TypeAlias = int | Sequence[int] | NDArray[np.integer[Any]]
Activation: TypeAlias = str | Callable[[Any], Any]
BatchSize: TypeAlias = int | Literal["auto"]
RandomState: TypeAlias = int | np.random.RandomState | None
Dropout: TypeAlias = float | Sequence[float] | NDArray[np.floating[Any]] | None
Scoring: TypeAlias = str | Callable[..., float] | None

if TYPE_CHECKING:  # scikit-learn's decorator, typed: the method keeps its signature

    def _fit_context(*, prefer_skip_nested_validation: bool) -> Callable[[_F], _F]: ...
else:
    from sklearn.base import _fit_context

_STOCHASTIC_SOLVERS = ("sgd", "adam")
# Code that runs a user's call but is not the user's: these packages (found
# by module or by file: a worker process runs joblib's code as __main__), and
# Python's own library (pickling, copying, worker processes, threads).
_LIBRARIES = ("skvgrad", "sklearn", "joblib", "skops", "cloudpickle")
_LIBRARY_DIRS = tuple(
    os.path.join(location, "")
    for spec in map(importlib.util.find_spec, _LIBRARIES)
    if spec is not None
    for location in spec.submodule_search_locations or ()
)
_STDLIB_DIR = os.path.join(sysconfig.get_paths()["stdlib"], "")
_SITE_DIRS = tuple(
    os.path.join(sysconfig.get_paths()[key], "") for key in ("purelib", "platlib")
)


def _in_library(frame):
    """Whether ``frame`` runs code of skvgrad's libraries or of Python's own."""
    module = frame.f_globals.get("__name__") or ""
    filename = frame.f_code.co_filename
    return (
        module.partition(".")[0] in _LIBRARIES
        or filename.startswith(_LIBRARY_DIRS)
        or filename.startswith("<frozen ")
        or (filename.startswith(_STDLIB_DIR) and not filename.startswith(_SITE_DIRS))
    )


def warn(message, category=UserWarning):
    """Issue a warning attributed to the first caller outside the libraries.

    Frames of skvgrad, scikit-learn, joblib, skops, cloudpickle and Python's
    standard library are skipped, so that the warning points at the user's line
    whatever the path (``fit``, a Pipeline, a search, ``joblib.dump``). Where no
    code of the user's is on the stack (a worker process of a parallel search),
    it points at skvgrad's line that warns.
    """
    frame, level = sys._getframe(1), 2  # level 2: warn's caller
    while frame is not None and _in_library(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=2 if frame is None else level)


def store_params(estimator, arguments):
    """Store an ``__init__``'s arguments (its ``locals()``) as they are.

    scikit-learn's estimators keep each constructor parameter in an attribute
    of the same name and do nothing else in ``__init__``.
    """
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


# Saving a model: each format must be able to load back the callables it holds.


def _pickle_round_trip(obj):
    return pickle.loads(pickle.dumps(obj))


def _skops_round_trip(obj):
    import skops.io as sio

    data = sio.dumps(obj)
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


_FORMATS = {
    "pickle": (
        _pickle_round_trip,
        "pickle stores a function by reference (its module and qualified name)",
        "Lambdas, functions defined inside other functions and staticmethod "
        "objects cannot be saved",
    ),
    "skops": (
        _skops_round_trip,
        "skops stores a function by its module and name",
        "Lambdas, functions defined inside other functions or on a class, and "
        "staticmethod objects cannot be saved with skops (joblib and pickle "
        "also find functions defined on a class)",
    ),
}


def _pickler_on_stack():
    """The Python-level pickler that is pickling the caller, or None.

    A C pickler called by ``pickle.dump``/``pickle.dumps`` has no frame, but
    joblib's and cloudpickle's picklers run Python code around it.
    """
    frame = sys._getframe(2)
    while frame is not None:
        obj = frame.f_locals.get("self")
        if isinstance(obj, (pickle.Pickler, pickle._Pickler)):
            return obj
        frame = frame.f_back
    return None


def _stores_functions_by_value(pickler):
    """Whether ``pickler`` is cloudpickle's (loky's, dask's): it sends lambdas and
    nested functions by value, so they load back wherever cloudpickle is."""
    cloudpickle = sys.modules.get("cloudpickle")
    return cloudpickle is not None and isinstance(pickler, cloudpickle.Pickler)


def _discard_file_of_failed_dump():
    """Remove the file that a failed ``joblib.dump`` on the stack opened by name.

    ``joblib.dump(model, path)`` opens the file before pickling; when the model
    refuses to be saved, no partial file is left behind. A file object given
    to it is the caller's: it is left as it is.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is joblib.numpy_pickle.dump.__code__:
            if frame.f_locals.get("is_filename"):
                with contextlib.suppress(OSError):
                    os.remove(frame.f_locals["filename"])
            return
        frame = frame.f_back


def _same_callable(loaded, obj):
    """Whether a callable loaded back is the one stored: the same function (a
    format that finds functions by name may find another), or of the same type."""
    if isinstance(obj, functools.partial):
        return isinstance(loaded, functools.partial) and _same_callable(
            loaded.func, obj.func
        )
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc)):
        return loaded is obj
    return type(loaded) is type(obj)


def _check_saveable(obj, what, fmt):
    """Raise a TypeError unless the format ``fmt`` can store ``obj`` and load it
    back; warn when it loads back only where ``__main__`` defines it."""
    round_trip, how, which = _FORMATS[fmt]
    try:
        loaded = round_trip(obj)
        if not _same_callable(loaded, obj):
            raise ValueError(f"it loads {loaded!r} instead")
    except Exception as error:
        _discard_file_of_failed_dump()
        raise TypeError(
            f"Cannot save a model whose {what} is {obj!r}: {how}, and cannot load "
            f"it back ({type(error).__name__}: {error}). {which}: define the "
            f"{what} as a module-level function (or an instance of a module-level "
            "class) in an importable module and pass that."
        ) from error
    module = getattr(getattr(obj, "func", obj), "__module__", None)
    if module == "__main__":
        warn(
            f"The {what} {obj!r} is defined in __main__: the saved model loads "
            f"only in a program whose __main__ defines it too. Define the {what} "
            "in an importable module to load the model anywhere."
        )


def _name(function):
    """A function's name for a message."""
    return getattr(function, "__name__", repr(function))


def _takes_sample_weight(scorer):
    """Whether ``scorer(estimator, X, y, ...)`` accepts ``sample_weight``."""
    try:
        parameters = inspect.signature(scorer).parameters.values()
    except (TypeError, ValueError):  # no signature to read
        return False
    return any(p.name == "sample_weight" or p.kind is p.VAR_KEYWORD for p in parameters)


def _check_weight_range(sample_weight, what, after=""):
    """Refuse weights whose sum is zero or overflows, or whose nonzero values are
    subnormal: the objective divides by the sum of the weights."""
    dtype = sample_weight.dtype
    with np.errstate(over="ignore"):
        total = sample_weight.sum()
    if not total > 0:
        raise ValueError(f"{what} must contain at least one non-zero number{after}.")
    rescale = (
        "the model is the same with alpha {} by the same constant (alpha is "
        "divided by the sum of the weights; without alpha only their ratios matter)"
    )
    if not np.isfinite(total):
        raise ValueError(
            f"{what}{after} are too large: their sum overflows {dtype}. Divide them "
            f"by a constant: {rescale.format('divided')}."
        )
    tiny = np.finfo(dtype).tiny
    smallest = sample_weight[sample_weight > 0].min()
    if smallest < tiny:
        raise ValueError(
            f"{what}{after} are too small: {smallest:.3g} is below {dtype}'s "
            f"smallest normal number {tiny:.3g}, where numbers lose their "
            "precision, and the objective divides by the sum of the weights. "
            f"Multiply them by a constant: {rescale.format('multiplied')}."
        )


def _targets_in_dtype(Y, dtype, name):
    """The encoded targets in the model's dtype; an error if they overflow it."""
    with np.errstate(over="ignore"):
        converted = Y.astype(dtype)
    if not np.isfinite(converted).all():
        raise ValueError(
            f"{name} holds values beyond the range of {np.dtype(dtype)}, the dtype "
            f"the model computes in (the largest |{name}| is {np.abs(Y).max():.3g}, "
            f"{np.dtype(dtype)}'s largest number {np.finfo(dtype).max:.3g}). Scale "
            f"{name}, or fit the model on float64 data."
        )
    return converted


def _placement(X):
    """The Array API namespace and device of ``X`` when scikit-learn's
    ``array_api_dispatch`` is on and ``X`` is not a NumPy array, else None."""
    if not get_config()["array_api_dispatch"] or sp.issparse(X):
        return None
    xp, _, device = get_namespace_and_device(X)
    return None if _is_numpy_namespace(xp) else (xp, device)


def _to_numpy(array):
    """An array of another Array API namespace as a NumPy array; anything
    else (None, NumPy arrays, lists, sparse matrices) as it is."""
    if array is None or type(array) is np.ndarray or not _is_foreign(array):
        return array
    return move_to(array, xp=np, device="cpu")


def _ravel(array):
    """An array of another Array API namespace as a 1-D array."""
    return nn._namespace(array).reshape(array, (-1,))


def _numpy_dtype(xp, dtype):
    """The NumPy dtype of a floating dtype of ``xp``."""
    return np.dtype(np.float64 if dtype == xp.float64 else np.float32)


def _float_dtypes(X):
    """The floating dtypes X may keep: NumPy's, or its namespace's under
    ``array_api_dispatch``."""
    placement = _placement(X)
    if placement is None:
        return (np.float64, np.float32)
    xp = placement[0]
    return [xp.float64, xp.float32]


def _all_finite(arrays):
    """Whether every value of every array (of any namespace) is finite."""
    for a in arrays:
        if type(a) is np.ndarray:
            if not np.isfinite(a).all():
                return False
        else:
            xp = nn._namespace(a)
            if not bool(xp.all(xp.isfinite(a))):
                return False
    return True


PARAMETERS_DOC = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,) or int, default=(100,)
        The number of units of each hidden layer.
    activation : str or callable, default="relu"
        Activation of the hidden layers: "identity", "logistic", "tanh",
        "relu" (scikit-learn's four, computed by fused layers), "gelu",
        "silu", "softplus", "elu", "leaky_relu", or a function of one array
        written with :mod:`skvgrad.engine` operations, whose gradient the
        engine derives. A model with a custom activation can be saved if the
        function is defined at module level in an importable module.
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        The optimiser: L-BFGS on the whole data set, or mini-batch SGD or Adam.
    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights, divided by the sum of sample
        weights (the number of samples without weights) in the objective.
    batch_size : int or "auto", default="auto"
        Mini-batch size of the stochastic solvers; "auto" is
        ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of ``solver="sgd"``.
    learning_rate_init : float, default=0.001
        Initial step size of "sgd" and "adam".
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Whether to shuffle the samples every epoch (stochastic solvers).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling, the validation split and
        the dropout masks.
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved
        by ``tol`` for ``n_iter_no_change`` consecutive epochs.
    verbose : bool or int, default=False
        Show the progress of training. ``True`` (or 1): a progress bar of the
        epochs with the loss when tqdm is installed (the ``progress`` extra),
        otherwise the loss of each epoch printed as scikit-learn's MLP prints
        it; 2 or more: always those printed lines.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    momentum : float, default=0.9
        Momentum of "sgd", in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    early_stopping : bool, default=False
        Stop when the validation score stops improving and keep the best
        epoch's weights. The validation data is ``X_val`` given to ``fit``,
        or else ``validation_fraction`` of the training data, held out as
        scikit-learn's MLP holds it out.
    validation_fraction : float, default=0.1
        Proportion of the data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (stochastic solvers).
    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs".
"""

EXTRA_PARAMETERS_DOC = """\
    dropout : float, list of float or None, default=None
        Probability of zeroing each hidden unit during training (one rate for
        every hidden layer, or one per layer). Predictions use the whole network.
        Stochastic solvers only.
    scoring : str, callable or None, default=None
        What the validation data is scored with and early stopping watches:
        None (the estimator's default: the accuracy for the classifier; R² for
        the regressor's "squared_error" and "poisson" losses, as MLPRegressor,
        and the negated validation loss for its "huber", "quantile" and
        callable losses, whose best epoch by R² would not be the best estimate
        of what they estimate), "loss" (the negated validation loss), any
        scikit-learn scorer name, or a callable ``scorer(estimator, X, y)``,
        given ``sample_weight=`` too when it accepts it and the validation
        data is weighted.
"""

ATTRIBUTES_DOC = """\
    loss_ : float
        The loss at the end of training.
    best_loss_ : float or None
        Lowest training loss in ``loss_curve_`` (since the last fit with early
        stopping, if any); None after a fit with early stopping, which watches
        the validation score instead.
    loss_curve_ : list of float
        The loss after every epoch (every iteration for "lbfgs"), with every
        solver under one rule: warm-start fits and ``partial_fit`` extend the
        curve, a fit without ``warm_start`` starts it anew.
    validation_scores_ : list of float or None
        Validation score (see ``scoring``) after every epoch, when there is
        validation data (early stopping, or ``X_val`` given to fit); else None.
    validation_loss_curve_ : list of float or None
        Validation loss (weighted mean, without the penalty) after every
        epoch, when there is validation data; else None.
    best_validation_score_ : float or None
        Best validation score of the last fit, when there is validation data;
        else None.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix of layer ``i``, ``(n_in, n_out)``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer ``i + 1``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X had string column names.
    n_iter_ : int
        Number of epochs (or lbfgs iterations) run by the last call.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
"""


class BaseMLPAutograd(CallbackSupportMixin, BaseEstimator):
    """Base class of skvgrad's MLP estimators; not to be used directly.

    Subclasses define ``__init__`` with their parameters, and the hooks
    :meth:`_encode_targets`, :meth:`_output_activation`, :meth:`_loss`,
    :meth:`_default_score` and ``predict``; optionally :meth:`_check_X_y` and
    :meth:`_check_X` (how the data becomes the network's input), :meth:`_front`
    (trained layers before the MLP) and ``_fixed_epochs``.
    """

    _fixed_epochs = False  # True: max_iter is a budget, no ConvergenceWarning

    # scikit-learn's HTML repr links an estimator to its page of the API
    # reference, on the documentation site named in the package metadata.
    _doc_link_module = "skvgrad"

    @property
    def _doc_link_template(self):
        from skvgrad import _api_page_template

        return _api_page_template()

    # Fitted state whose type mypy cannot infer through the device moves.
    coefs_: list[Any]
    intercepts_: list[Any]

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(nn.ACTIVATIONS)), callable],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
        "scoring": [str, callable, None],
    }

    _replay = True  # trace the objective once per batch shape and replay it

    # Public API ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        X_val: ArrayLike | None = None,
        y_val: ArrayLike | None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> Self:
        """Fit the model to the data ``X`` and the targets ``y``.

        Training follows scikit-learn's MLP step for step: with the same
        ``random_state``, the same initial weights, batches and updates. If
        the fit fails, the estimator is left as it was before the call. An
        interrupt (Ctrl-C) after at least one completed epoch (or L-BFGS
        iteration) keeps the model of the last completed one, with a warning;
        an interrupt before that restores the previous model and re-raises.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, float64 or float32 (kept: a float32 model trains
            and predicts in float32).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets: class labels or a multilabel indicator matrix for a
            classifier, values for a regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.
        X_val, y_val : array-like, default=None
            Validation data of one's own (stochastic solvers). It is scored
            after every epoch (``validation_scores_``,
            ``validation_loss_curve_``) and, with ``early_stopping=True``, used
            for early stopping instead of a split of the training data.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPAutogradClassifier((10,), solver="lbfgs", random_state=0)
        >>> clf = clf.set_params(max_iter=1000).fit(X, y)
        >>> clf.n_layers_, clf.out_activation_, [c.shape for c in clf.coefs_]
        (3, 'softmax', [(4, 10), (10, 3)])
        """
        validation = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            if self.solver == "lbfgs":
                raise ValueError(
                    "X_val is used by the stochastic solvers only; "
                    "solver='lbfgs' has no epochs to validate."
                )
            validation = (X_val, y_val, sample_weight_val)
        elif sample_weight_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        return self._fit(X, y, sample_weight, validation=validation)

    def _partial_fit_unavailable(self):
        """Why partial_fit is unavailable in this configuration, or None."""
        if self.solver not in _STOCHASTIC_SOLVERS:
            return (
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return None

    def _raw_predict(self, X, method="predict"):
        """The network's raw outputs on ``X`` (validated here), in chunks of rows.

        Computed in the wider of X's and the model's dtypes (float32 only when
        both are), and never silently non-finite. Arrays of another Array API
        namespace (under ``array_api_dispatch``) are computed there; ``method``
        names the caller in the error refusing another namespace than the fit's.
        """
        check_is_fitted(self)
        if _placement(X) is not None:
            self._check_array_api_support()
        self._check_fitted_namespace(X, method)
        X = self._check_X(X)
        if sp.issparse(X):
            X = X.tocsr()
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            raw = nn.predict(
                self.coefs_, self.intercepts_, self._network_input(X), self.activation
            )
        if type(raw) is not np.ndarray:
            if not _all_finite([raw]):
                raise ValueError(
                    "The network's output is not finite for some samples of X: the "
                    "input values are too large for this model. Scale X the way "
                    "the training data was scaled."
                )
            return raw
        if not np.isfinite(raw).all():
            rows = np.flatnonzero(~np.isfinite(raw).all(axis=1))
            raise ValueError(
                f"The network's output is not finite for {len(rows)} sample(s) of X "
                f"(the first is row {rows[0]}): the input values are too large for "
                f"this model (largest |X| is {abs(X).max():.3g}). Scale X the way "
                "the training data was scaled."
            )
        return raw

    def _check_X(self, X, name="X"):
        """Hook: ``X`` (or validation data, named ``name`` in errors) checked
        against the fitted model, as the network takes it."""
        if name == "X":
            return validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=_float_dtypes(X),
                reset=False,
            )
        X_checked = check_array(
            X,
            accept_sparse=["csr", "csc"],
            dtype=_float_dtypes(X),
            estimator=self,
            input_name=name,
        )
        if X_checked.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} has {X_checked.shape[1]} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input."
            )
        validate_data(self, X, skip_check_array=True, reset=False)  # its names
        return X_checked

    def _check_X_y(self, X, y, reset):
        """Hook: the training data checked (``reset`` on a first fit), as the
        network takes it."""
        return validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=_float_dtypes(X),
            reset=reset,
        )

    def _on_device(self, *arrays, placement=None):
        """NumPy arrays (or lists of them) moved to the fit's namespace and
        device (``placement``, by default the one of the fit running)."""
        xp, device = placement or self._placement

        def move(a):
            if a is None:
                return None
            if isinstance(a, list):
                return [move(item) for item in a]
            return xp.asarray(a, device=device)

        return tuple([move(a) for a in arrays])

    def _check_fitted_namespace(self, X, method):
        """Refuse ``X`` of another namespace or device than the fitted model's,
        with scikit-learn's "must use the same namespace" message."""
        if sp.issparse(X):
            return
        if get_config()["array_api_dispatch"]:
            fitted_xp, _, fitted_device = get_namespace_and_device(self.coefs_[0])
            xp, _, device = get_namespace_and_device(X)
            if _is_numpy_namespace(xp) and _is_numpy_namespace(fitted_xp):
                return
            if xp != fitted_xp or device != fitted_device:
                what = (
                    f"Array namespaces used during fit ({fitted_xp.__name__}) and "
                    f"{method} ({xp.__name__}) differ."
                    if xp != fitted_xp
                    else f"Devices used during fit ({fitted_device}) and {method} "
                    f"({device}) differ."
                )
                raise ValueError(
                    f"Inputs passed to {type(self).__name__}.{method}() must use "
                    "the same namespace and the same device as those passed to "
                    f"fit(). {what} Move the estimator to X's namespace and device "
                    "with sklearn.utils._array_api.move_estimator_to(estimator, "
                    "xp, device)."
                )
        elif _is_foreign(self.coefs_[0]):
            library = type(self.coefs_[0]).__module__.partition(".")[0]
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the "
                "same namespace and the same device as those passed to fit(): the "
                f"model holds {library} arrays, and array API dispatch is off. "
                "Enable it with sklearn.config_context(array_api_dispatch=True), "
                "or move the model to NumPy with "
                "sklearn.utils._array_api.move_estimator_to(estimator, numpy, "
                '"cpu").'
            )

    def _check_array_api_support(self):
        """Refuse Array API inputs where the estimator does not support them."""
        if not self.__sklearn_tags__().array_api_support:
            raise TypeError(
                f"{type(self).__name__} does not support Array API inputs (arrays "
                "other than NumPy's under array_api_dispatch=True): convert them "
                "to NumPy arrays, or use MLPAutogradClassifier / "
                "MLPAutogradRegressor."
            )

    def _front(self):
        """Hook: an :class:`skvgrad.nn.InputEmbedding` before the first layer, or
        None. Its parameters are trained with the network (``front_params_``)."""
        return None

    def _network_input(self, X):
        """``X`` through the fitted front, if the network has one."""
        front = self._front()
        return X if front is None else front(self.front_params_, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags

    # Copying and saving: a copy stores nothing, cloudpickle (joblib's worker
    # processes, dask) sends functions by value, and a file written by pickle,
    # joblib or skops must load back the callables the model holds.

    def __copy__(self):
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        return copied

    def __deepcopy__(self, memo):
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    def __reduce_ex__(self, protocol):
        if not _stores_functions_by_value(_pickler_on_stack()):
            self._check_saveable("pickle")
        return super().__reduce_ex__(protocol)

    def __getstate__(self):
        frame: Any = sys._getframe(1)
        while frame.f_globals.get("__name__", "").startswith("skvgrad."):
            frame = frame.f_back  # a subclass's __getstate__
        if frame.f_globals.get("__name__", "").startswith("skops."):
            self._check_saveable("skops")  # skops reads the state to write it
        return super().__getstate__()

    def _check_saveable(self, fmt):
        """Refuse to be saved in ``fmt`` with a callable it cannot load back, or
        with arrays of another namespace than NumPy (which would load only
        where that library and device are)."""
        coefs = self.__dict__.get("coefs_")
        if coefs and _is_foreign(coefs[0]):
            library = type(coefs[0]).__module__.partition(".")[0]
            raise TypeError(
                f"Cannot save a model whose arrays are {library} arrays: move it to "
                "NumPy first, with sklearn.utils._array_api.move_estimator_to("
                'model, numpy, "cpu"), then save the moved model (it predicts '
                "the same)."
            )
        for what in ("activation", "loss"):
            value = getattr(self, what, None)
            if callable(value):
                _check_saveable(value, what, fmt)

    # Checks --------------------------------------------------------------------------

    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a list of positive ints, or a clear error."""
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if np.iterable(sizes) else [sizes]
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0  # type: ignore[operator]  # an integer
            for s in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must contain positive integers, got {sizes}."
            )
        return [int(s) for s in sizes]

    def _dropout_rates(self, n_hidden):
        """``dropout`` as one rate per hidden layer, or None."""
        if self.dropout is None:
            return None
        rates = np.asarray(self.dropout, dtype=float)
        if rates.ndim == 0:
            rates = np.full(n_hidden, rates)
        if rates.shape != (n_hidden,) or not np.all((rates >= 0) & (rates < 1)):
            raise ValueError(
                "dropout must be a rate in [0, 1) or one such rate per hidden layer "
                f"({n_hidden}), got {self.dropout!r}."
            )
        if not rates.any():
            return None
        if self.solver == "lbfgs":
            raise ValueError(
                "dropout needs a stochastic solver ('sgd' or 'adam'): L-BFGS "
                "requires a deterministic objective."
            )
        return [float(r) for r in rates]

    def _scorer(self):
        """The scorer of a ``scoring`` other than None and "loss"."""
        return (
            get_scorer(self.scoring) if isinstance(self.scoring, str) else self.scoring
        )

    def _check_weights(self, sample_weight, X, y, dtype):
        """Validated sample weights (times class weights), or None."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        sample_weight = self._weight_samples(y, sample_weight, dtype)
        if sample_weight is None:
            return None
        after = " (after class_weight)" if self._weighted_classes() else ""
        _check_weight_range(sample_weight, "Sample weights", after)
        return sample_weight

    def _weight_samples(self, y, sample_weight, dtype):
        """Hook: combine sample weights with per-target weights (none here)."""
        return sample_weight

    def _weighted_classes(self):
        """Whether class weights are multiplied into the sample weights."""
        return False

    def _check_validation(self, validation, dtype):
        """X_val, Y_val (encoded), y_val and sample_weight_val, checked before
        training, each named in its errors."""
        X_val, y_val, sw_val = validation
        X_checked = self._check_X(X_val, name="X_val")
        if self._placement is None:
            X_checked = X_checked.astype(dtype, copy=False)
        else:  # dtype is the NumPy twin of the model's
            xp = self._placement[0]
            wanted = xp.float64 if dtype == np.float64 else xp.float32
            if X_checked.dtype != wanted:
                X_checked = xp.astype(X_checked, wanted)
            y_val, sw_val = _to_numpy(y_val), _to_numpy(sw_val)
        if not sp.issparse(y_val):
            y_val = np.asarray(y_val)
            if y_val.ndim == 2 and y_val.shape[1] == 1:
                y_val = column_or_1d(y_val, warn=True)
        if y_val.shape[0] != X_checked.shape[0]:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"X_val has {X_checked.shape[0]}, y_val has {y_val.shape[0]}."
            )
        y_val, Y_val = self._encode_targets(y_val, fitting=False, name="y_val")
        if Y_val.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {Y_val.shape[1]} output(s), but the model has "
                f"{self.n_outputs_}, as y had."
            )
        Y_val = _targets_in_dtype(Y_val, dtype, "y_val")
        if sw_val is not None:
            sw_val = check_array(
                sw_val,
                ensure_2d=False,
                dtype=dtype,
                estimator=self,
                input_name="sample_weight_val",
            )
            if sw_val.ndim == 0:
                sw_val = np.full(X_checked.shape[0], sw_val, dtype=dtype)
            if sw_val.shape != (X_checked.shape[0],):
                raise ValueError(
                    f"sample_weight_val.shape == {sw_val.shape}, expected "
                    f"({X_checked.shape[0]},) (one weight per row of X_val)."
                )
            if (sw_val < 0).any():
                raise ValueError("Negative values in data passed to sample_weight_val.")
            _check_weight_range(sw_val, "sample_weight_val")
        if self._placement is not None:
            Y_val, sw_val = self._on_device(Y_val, sw_val)
        return _Validation(X_checked, Y_val, y_val, sw_val, X_val)

    # Training ------------------------------------------------------------------------

    def _fit(
        self, X, y, sample_weight, *, incremental=False, classes=None, validation=None
    ):
        """Validate, train, and keep the new state only if all went well."""
        n_tasks = 1 if incremental else self.max_iter + (self.solver == "lbfgs")
        observed = getattr(self, "_skl_callbacks", None) or hasattr(
            self, "_parent_callback_ctx"
        )
        ctx = self._init_callback_context(max_subtasks=n_tasks) if observed else None
        if _placement(X) is not None:
            self._check_array_api_support()
        before = self.__dict__.copy()
        try:
            self._train(X, y, sample_weight, incremental, classes, validation, ctx)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _train(self, X, y, sample_weight, incremental, classes, validation, ctx):
        """The body of fit and partial_fit."""
        hidden = self._hidden_layer_sizes()
        dropout = self._dropout_rates(len(hidden))
        if isinstance(self.scoring, str) and self.scoring != "loss":
            self._scorer()  # an unknown name fails now, not after an epoch
        first_fit = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X_given, y_given = X, y
        placement = _placement(X)
        if not first_fit:
            self._check_fitted_namespace(X, "partial_fit" if incremental else "fit")
        if placement is not None:
            # Targets and weights are checked and encoded on the host, then
            # moved to X's namespace and device with the data.
            y, sample_weight = _to_numpy(y), _to_numpy(sample_weight)
            self._targets_on_host()
        self._placement = placement
        X, y = self._check_X_y(X, y, reset=first_fit)
        if y.ndim == 2 and y.shape[1] == 1 and not sp.issparse(y):
            y = column_or_1d(y, warn=True)
        y, Y = self._encode_targets(
            y, fitting=True, reset=first_fit, incremental=incremental, classes=classes
        )
        if not first_fit:
            self._check_output_layer(incremental)
        dtype = X.dtype if first_fit else self.coefs_[0].dtype
        if placement is None:
            X = X.astype(dtype, copy=False)
        else:
            xp = placement[0]
            if X.dtype != dtype:
                X = xp.astype(X, dtype)
            dtype = _numpy_dtype(xp, dtype)
        if sp.issparse(X):
            X = X.tocsr()
        Y = _targets_in_dtype(Y, dtype, "y")
        with config_context(array_api_dispatch=False):  # on the host
            sample_weight = self._check_weights(sample_weight, X, y, dtype)
        front = self._front()
        n_inputs = X.shape[1] if front is None else front.n_outputs
        layer_units = [n_inputs, *hidden, Y.shape[1]]
        rng = check_random_state(self.random_state)
        if first_fit:
            self._initialize(layer_units, rng, dtype, Y, sample_weight)
            if front is not None:
                self.front_params_ = front.init(rng, dtype)
            if placement is not None:  # NumPy's draws, moved to the device
                self.coefs_, self.intercepts_ = self._on_device(
                    self.coefs_, self.intercepts_, placement=placement
                )
        elif [c.shape[0] for c in self.coefs_] + [self.n_outputs_] != layer_units:
            raise ValueError(
                "The network's layers do not match: the fitted model has layer "
                f"sizes {[c.shape[0] for c in self.coefs_] + [self.n_outputs_]}, "
                f"the data and hidden_layer_sizes give {layer_units}."
            )
        if validation is not None:
            validation = self._check_validation(validation, dtype)
        if placement is not None:
            Y, sample_weight = self._on_device(Y, sample_weight)
            self._targets_on_device(placement)
        self._objective = nn.Objective(
            layer_units,
            self.activation,
            self._loss(),
            self.alpha,
            dropout,
            rng,
            front=front,
            replay=self._replay,
        )
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        hooks = _Hooks(ctx, self, X_given, y_given, metadata)
        hooks.begin(root=True)
        try:
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, sample_weight, hooks)
            else:
                self._fit_stochastic(
                    X, Y, y, sample_weight, rng, incremental, validation, hooks
                )
            if not _all_finite(self.coefs_ + self.intercepts_):
                self._raise_diverged(X, Y, sample_weight)
        finally:
            del self._objective, self._placement
        hooks.end(root=True)

    def _check_output_layer(self, incremental):
        """Refuse to continue a model whose output layer the parameters changed."""
        needed = self._output_activation()
        if needed != self.out_activation_:
            how = "partial_fit" if incremental else "warm_start"
            raise ValueError(
                f"The parameters now need the output layer {needed!r}, but the "
                f"fitted model's is {self.out_activation_!r} (loss="
                f"{getattr(self, 'loss', None)!r} was changed since the fit): {how} "
                "continues the fitted "
                "model, whose output layer cannot change. Fit a new model "
                "(warm_start=False), or set the loss back."
            )

    def _initialize(self, layer_units, rng, dtype, Y, sample_weight):
        """Fresh weights and training state."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = layer_units[-1]
        self.out_activation_ = self._output_activation()
        self.coefs_, self.intercepts_ = nn.init_params(
            layer_units, self.activation, rng, dtype
        )
        self._init_output(Y, sample_weight)
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._optimizer_state = None
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None
        self.best_loss_ = None if self.early_stopping else np.inf

    def _init_output(self, Y, sample_weight):
        """Hook: adjust the initial output layer to the targets (nothing here)."""

    def _parameter_vector(self):
        """The weights, the intercepts, then the front's parameters, raveled into
        one new vector."""
        params = self.coefs_ + self.intercepts_ + getattr(self, "front_params_", [])
        if type(params[0]) is not np.ndarray:  # another Array API namespace
            xp = nn._namespace(params[0])
            return xp.concat([xp.reshape(p, (-1,)) for p in params])
        return np.concatenate([p.ravel() for p in params])

    def _set_params(self, vector):
        """Make ``coefs_`` and ``intercepts_`` (and ``front_params_``) views of a
        parameter vector."""
        if self._placement is not None and type(vector) is np.ndarray:
            (vector,) = self._on_device(vector)  # from SciPy's L-BFGS
        self.coefs_, self.intercepts_ = self._objective.params(vector)
        if self._objective.front is not None:
            self.front_params_ = self._objective.front_params(vector)

    def _reported_loss(self, data, penalty):
        """The loss as ``loss_curve_`` reports it (hook: the regressor rescales)."""
        return data + penalty

    def _fit_lbfgs(self, X, Y, sample_weight, hooks):
        """Minimise the objective on all the data with SciPy's L-BFGS-B."""
        evaluated: dict[str, Any] = {}

        def fun(x):
            # On another namespace: SciPy's vector moved to the device and the
            # gradient back, one transfer each way per evaluation.
            on_device = x if self._placement is None else self._on_device(x)[0]
            data, penalty, grad = self._objective(on_device, X, Y, sample_weight)
            evaluated.update(x=x, loss=self._reported_loss(data, penalty))
            return data + penalty, _to_numpy(grad)

        curve = []
        self.n_iter_ = 0
        hooks.begin()

        def iteration_ends(loss, x):
            if not math.isfinite(loss):
                return False
            self._set_params(x)
            self.n_iter_ += 1
            same = np.array_equal(evaluated.get("x"), x)  # type: ignore[arg-type]  # None at first
            self.loss_ = (
                evaluated["loss"] if same else self._evaluate(X, Y, sample_weight)
            )
            curve.append(self.loss_)
            report(self.n_iter_, self.loss_)
            stop = hooks.end()
            hooks.begin()
            return stop

        flat = _to_numpy(self._parameter_vector())
        with (
            self._progress(self.max_iter) as report,
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            # A line search may try a step whose loss overflows; SciPy backs off.
            try:
                result = optim.lbfgs(
                    fun,
                    flat,
                    max_iter=self.max_iter,
                    max_fun=self.max_fun,
                    tol=self.tol,
                    callback=iteration_ends,
                )
            except KeyboardInterrupt:
                self._interrupted(curve)
                result = None
            finally:
                hooks.close()
        # One rule for every solver: the curve grows over warm-start fits.
        self.loss_curve_ = list(self.loss_curve_) + curve
        previous = np.inf if self.best_loss_ is None else self.best_loss_
        self.best_loss_ = min([previous, *curve])
        if result is None:
            return
        if not math.isfinite(result.loss):
            self._raise_diverged(X, Y, sample_weight)
        self._set_params(result.x)
        self.n_iter_ = result.n_iter
        self.loss_ = (
            curve[-1]
            if curve and np.array_equal(evaluated["x"], result.x)
            else self._evaluate(X, Y, sample_weight)
        )
        self.best_loss_ = min(self.best_loss_, self.loss_)
        if result.status not in (0, 99):
            msg = (
                f"lbfgs failed to converge after {result.n_iter} iteration(s) "
                f"(status={result.status}):\n{result.message}\n"
            )
            if result.n_iter == self.max_iter:
                msg += (
                    "\nIncrease the number of iterations to improve the "
                    f"convergence (max_iter={self.max_iter})."
                )
            msg += (
                "\nYou might also want to scale the data as shown in:\n"
                "    https://scikit-learn.org/stable/modules/preprocessing.html"
            )
            warn(msg, ConvergenceWarning)

    def _evaluate(self, X, Y, sample_weight):
        """The reported loss at the current parameters."""
        vector = self._parameter_vector()
        data, penalty, _ = self._objective(vector, X, Y, sample_weight)
        return self._reported_loss(data, penalty)

    def _fit_stochastic(
        self, X, Y, y, sample_weight, rng, incremental, validation, hooks
    ):
        """Mini-batch training with SGD or Adam, scored on validation data."""
        flat = self._parameter_vector()
        optimizer = self._make_optimizer(flat, incremental)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if validation is None and self.early_stopping:
            X, Y, sample_weight, validation = self._split_validation(
                X, Y, y, sample_weight, rng
            )
        stopper = _EarlyStopping(self, validation is not None, flat)
        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        self.loss_curve_ = list(self.loss_curve_)
        order = np.arange(n_samples) if self.shuffle else None
        n_epochs = 1 if incremental else self.max_iter
        self.n_iter_ = 0  # epochs of this call, as scikit-learn's MLP counts them
        with (
            self._progress(n_epochs) as report,
            np.errstate(over="raise", invalid="raise", divide="raise"),
        ):
            try:
                for _ in range(n_epochs):
                    hooks.begin()
                    if self.shuffle:
                        order = _shuffled(order, rng)
                    flat, loss = self._fit_epoch(
                        X, Y, sample_weight, order, batch_size, flat, optimizer
                    )
                    self._set_params(flat)
                    self.n_iter_ += 1
                    self.t_ += n_samples
                    self.loss_ = loss
                    self.loss_curve_.append(loss)
                    score = stopper.score(validation)
                    report(self.n_iter_, loss, score)
                    stop = stopper.update(flat, score, optimizer)
                    if hooks.end() or stop:
                        break
                    if (
                        not incremental
                        and self.n_iter_ == self.max_iter
                        and not self._fixed_epochs
                    ):
                        warn(
                            f"Stochastic Optimizer: Maximum iterations "
                            f"({self.max_iter}) reached and the optimization "
                            "hasn't converged yet.",
                            ConvergenceWarning,
                        )
            except FloatingPointError as error:
                self._raise_diverged(X, Y, sample_weight, error)
            except KeyboardInterrupt:
                self._interrupted(
                    self.loss_curve_[len(self.loss_curve_) - self.n_iter_ :]
                )
                optimizer = None  # its state is mid-epoch: start afresh next time
        self._optimizer_state = (
            None if optimizer is None else (self.solver, optimizer.state_dict())
        )
        if stopper.keeps_best:
            self._set_params(stopper.best)

    def _fit_epoch(self, X, Y, sample_weight, order, batch_size, flat, optimizer):
        """One pass over the data in mini-batches (in ``order`` when shuffling).

        Returns the new parameter vector and the epoch's loss: the mean of the
        batch losses weighted by the batches' weights (their sizes without
        sample weights, which is scikit-learn's MLP's mean). The steps update
        a private copy of ``flat`` in place; what is returned is a new array,
        never written to afterwards (``coefs_`` and the early-stopping best
        may be views of it).
        """
        if type(flat) is np.ndarray:
            work = flat.copy()
            grad = np.empty_like(work)
            weight_of = functools.partial(_total, np)
        else:  # another Array API namespace
            xp = nn._namespace(flat)
            work, grad = xp.asarray(flat, copy=True), xp.empty_like(flat)
            weight_of = functools.partial(_total, xp)
        batches = _Batches(X, Y, sample_weight, self._placement)
        accumulated = total = 0.0
        for batch in gen_batches(X.shape[0], batch_size):
            idx = batch if order is None else order[batch]
            X_batch, Y_batch, sw = batches.take(idx)
            weight = batch.stop - batch.start if sw is None else weight_of(sw)
            if weight == 0:
                continue  # nothing to learn from, and no loss to divide
            loss = self._train_step(work, grad, optimizer, X_batch, Y_batch, sw)
            accumulated += loss * weight
            total += weight
        return work, accumulated / total

    def _train_step(self, work, grad, optimizer, X, Y, sample_weight):
        """One update of ``work`` in place on one mini-batch; returns its loss."""
        data, penalty, grad = self._objective(work, X, Y, sample_weight, grad=grad)
        if not math.isfinite(data + penalty):  # NaN or inf without an overflow
            raise FloatingPointError(f"the loss is {data + penalty}")
        optimizer.step([work], [grad])
        return self._reported_loss(data, penalty)

    def _make_optimizer(self, flat, incremental):
        """A new optimizer, or the one saved by the previous call for the solver."""
        cls: Any = {"sgd": optim.SGD, "adam": optim.Adam}[self.solver]
        saved = getattr(self, "_optimizer_state", None)
        if incremental and saved is not None and saved[0] == self.solver:
            # It copies the saved buffers: a failed call leaves them as they were.
            return cls.from_state_dict(saved[1])
        if self.solver == "sgd":
            return cls(
                [flat],
                learning_rate_init=self.learning_rate_init,
                lr_schedule=self.learning_rate,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                power_t=self.power_t,
            )
        return cls(
            [flat],
            learning_rate_init=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    def _split_validation(self, X, Y, y, sample_weight, rng):
        """Hold out ``validation_fraction`` of the data, as scikit-learn's MLP."""
        if self._placement is not None:
            # The rows are drawn on the host (the same draws as for NumPy
            # arrays) and gathered on the device.
            xp, device = self._placement
            train, test = train_test_split(
                np.arange(X.shape[0]),
                random_state=rng,
                test_size=self.validation_fraction,
                stratify=self._stratify(_to_numpy(Y)),
            )
            rows = [xp.asarray(index, device=device) for index in (train, test)]
            parts = []
            for a in [X, Y, y] + ([] if sample_weight is None else [sample_weight]):
                for index, on_device in zip((train, test), rows):
                    parts.append(
                        a[index]
                        if type(a) is np.ndarray
                        else xp.take(a, on_device, axis=0)
                    )
        else:
            arrays = [X, Y, y] + ([] if sample_weight is None else [sample_weight])
            parts = train_test_split(
                *arrays,
                random_state=rng,
                test_size=self.validation_fraction,
                stratify=self._stratify(Y),
            )
        X_train, X_val, Y_train, Y_val, _, y_val = parts[:6]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[6:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or "
                "the size of your dataset."
            )
        return X_train, Y_train, sw_train, _Validation(X_val, Y_val, y_val, sw_val)

    def _stratify(self, Y):
        """Hook: the labels to stratify the validation split on (none here)."""
        return None

    def _validation_loss(self, raw, validation):
        """The weighted mean loss of raw outputs on validation data (no penalty)."""
        weight_sum = (
            validation.Y.shape[0]
            if validation.sw is None
            else _total(nn._namespace(validation.sw), validation.sw)
        )
        data = self._objective.loss(
            raw, validation.Y, validation.sw, scale=1.0 / weight_sum
        )
        return self._reported_loss(float(data), 0.0)

    def _validation_score(self, validation):
        """Record this epoch's validation loss and score; return the score."""
        raw = nn.forward(
            self.coefs_,
            self.intercepts_,
            self._network_input(validation.X),
            self.activation,
        )
        loss = self._validation_loss(raw, validation)
        self.validation_loss_curve_.append(loss)  # type: ignore[union-attr]  # a list here
        scoring = self._default_scoring() if self.scoring is None else self.scoring
        if scoring is None:
            score = self._default_score(raw, validation)
        elif scoring == "loss":
            score = -loss
        else:
            scorer = self._scorer()
            # As scikit-learn calls a scorer: weights only to one that takes them.
            weighted = validation.sw is not None and _takes_sample_weight(scorer)
            kwargs = {"sample_weight": validation.sw} if weighted else {}
            y = validation.y
            if self._placement is not None and y.dtype.kind in "biuf":
                (y,) = self._on_device(y)  # everything follows X
            with warnings.catch_warnings():
                # A split of the training data has lost its column names.
                warnings.filterwarnings(
                    "ignore", message="X does not have valid feature names"
                )
                score = float(scorer(self, validation.X_given, y, **kwargs))
        if math.isnan(score):
            name = "the default score" if self.scoring is None else repr(self.scoring)
            raise ValueError(
                f"The validation score ({name}) is NaN at epoch {self.n_iter_}: it "
                "is undefined on this validation data (for example roc_auc with a "
                "single class in y_val), so early stopping and the best epoch "
                "cannot be chosen. Use another scoring or other validation data."
            )
        self.validation_scores_.append(score)  # type: ignore[union-attr]  # a list here
        return score

    def _interrupted(self, curve):
        """Keep the model of the last completed epoch, or re-raise (none done)."""
        if not curve:
            raise KeyboardInterrupt
        warn(
            f"Training interrupted by user after {len(curve)} completed "
            f"{'iteration' if self.solver == 'lbfgs' else 'epoch'}(s): the model "
            "is the one at the end of the last of them."
        )

    def _raise_diverged(self, X, Y, sample_weight, cause=None):
        """Stop training whose loss or weights are no longer finite, naming why."""
        detail = " Training diverged" + ("." if cause is None else f": {cause}.")
        raise ValueError(
            f"{self._divergence_cause(X, Y, sample_weight)}{detail}"
        ) from cause

    def _divergence_cause(self, X, Y, sample_weight):
        """What made training diverge, found at the last parameters that were
        finite: the penalty, the loss function or the targets, else X's scale
        (or the learning rate). Found on the host for other namespaces."""
        vector = _to_numpy(self._parameter_vector())
        X, Y, sample_weight = _to_numpy(X), _to_numpy(Y), _to_numpy(sample_weight)
        dtype = vector.dtype
        weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        with np.errstate(all="ignore"):
            # The penalty's gradient is alpha * W / sum(w), and Adam squares it:
            # with weights of order 1, an overflow of its square is the cause.
            penalty = np.asarray(self.alpha, dtype) / np.asarray(weight_sum, dtype)
            if not np.isfinite(np.square(penalty)):
                small = sample_weight is not None and weight_sum < 1
                by_weights = (
                    f", divided by the sum of the sample weights ({weight_sum:.3g}),"
                    if small
                    else ""
                )
                return (
                    f"Solver produced non-finite parameter weights. The L2 penalty "
                    f"alpha={self.alpha:g}{by_weights} is too large for these "
                    "weights: its value or its gradient overflows. Use a smaller "
                    "alpha" + (", or larger sample weights." if small else ".")
                )
            raw = self._objective.outputs(vector, X)
            loss = self._objective.loss(raw, Y, sample_weight, scale=1.0)
            if not np.isfinite(loss):
                # Not finite where the network answers 0 too: the targets (or
                # the loss function); else the outputs are too large.
                zero = self._objective.loss(0 * Y, Y, sample_weight, scale=1.0)
                if not np.isfinite(zero):
                    return self._loss_cause(float(zero), Y)
        scale = float(abs(X).max()) if X.shape[0] else 0.0
        y_scale = float(np.abs(Y).max()) if Y.size else 0.0
        targets = f", the largest |y| is {y_scale:.3g}" if y_scale > 1 else ""
        activation = (
            f", or the activation {_name(self.activation)} overflows"
            if callable(self.activation)
            else ""
        )
        rate = (
            ""
            if self.solver == "lbfgs"
            else f", or learning_rate_init={self.learning_rate_init:g} is too large"
        )
        return (
            "Solver produced non-finite parameter weights. The input data may "
            "contain large values and need to be preprocessed (the largest |X| is "
            f"{scale:.3g}{targets}; scale it, e.g. with StandardScaler){activation}"
            f"{rate}."
        )

    def _loss_cause(self, value, Y):
        """Why the loss is ``value`` (not finite) where the network's outputs are
        finite: the user's loss function, or targets too large for the loss."""
        if callable(self.loss):
            return (
                f"The loss function {_name(self.loss)} returned {value} where the "
                "network's outputs are finite, so training cannot go on. Check it "
                "for a log or a division at 0, or an overflow, on these targets."
            )
        return (
            f"The {self.loss} loss is {value} on these targets: they are too large "
            f"for it (the largest |y| is {float(np.abs(Y).max()):.3g}). Scale y, "
            "e.g. divide it by its standard deviation."
        )

    @contextlib.contextmanager
    def _progress(self, total):
        """Report each epoch: a tqdm bar (``verbose=1`` and tqdm installed), or a line.

        Warnings raised while the bar is shown are issued after it closes.
        """
        bar = None
        if self.verbose == 1:  # True too; 2 and more print every epoch
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                bar = tqdm(total=total, desc=type(self).__name__, unit="epoch")

        def report(n_iter, loss, score=None):
            if bar is not None:
                postfix = {"loss": f"{loss:.6f}"}
                if score is not None:
                    postfix["validation"] = f"{score:.4f}"
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
            elif self.verbose:
                print(f"Iteration {n_iter}, loss = {loss:.8f}")
                if score is not None:
                    print(f"Validation score: {score:f}")

        if bar is None:
            yield report
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield report
            finally:
                bar.close()
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    # Hooks of the subclasses ---------------------------------------------------------

    def _encode_targets(
        self, y, *, fitting, reset=False, incremental=False, classes=None, name="y"
    ):
        """Check the targets and encode them as a 2-D float matrix ``Y``.

        Returns ``(y, Y)``: the checked targets and one column per output unit.
        With ``fitting=True`` it may set the fitted target attributes
        (``reset`` on a first fit); otherwise it checks ``y`` against them.
        """
        raise NotImplementedError

    def _output_activation(self):
        """The name of the output layer in :data:`skvgrad.nn.OUTPUTS`."""
        raise NotImplementedError

    def _targets_on_host(self):
        """Hook: fitted target attributes as NumPy arrays, for encoding targets
        on the host (nothing here)."""

    def _targets_on_device(self, placement):
        """Hook: fitted target attributes moved to the fit's namespace and
        device (nothing here)."""

    def _score_on_host(self, X, y, sample_weight, metric):
        """``metric`` of the predictions on ``X`` (of another namespace), on the
        host in float64: a Python float equal to the NumPy fit's score."""
        predicted = _to_numpy(self.predict(X))
        if predicted.dtype.kind == "f":
            predicted = predicted.astype(np.float64)
        y, sample_weight = _to_numpy(y), _to_numpy(sample_weight)
        with config_context(array_api_dispatch=False):
            return float(metric(y, predicted, sample_weight=sample_weight))

    def _loss(self):
        """The reduced training loss (see :class:`skvgrad.nn.Objective`)."""
        raise NotImplementedError

    def _default_score(self, raw, validation):
        """The score of raw outputs on validation data when ``scoring=None``."""
        raise NotImplementedError

    def _default_scoring(self):
        """What ``scoring=None`` means: None for :meth:`_default_score`, or
        "loss" (the negated validation loss)."""
        return None


class _Validation:
    """Validation data: X, encoded Y, targets y, weights, and X as given."""

    def __init__(self, X, Y, y, sw, X_given=None):
        self.X, self.Y, self.y, self.sw = X, Y, y, sw
        self.X_given = X if X_given is None else X_given


class _EarlyStopping:
    """Tracks improvement epoch by epoch, as scikit-learn's MLP does."""

    def __init__(self, estimator, validated, flat):
        self.estimator = est = estimator
        self.on_validation = est.early_stopping
        self.keeps_best = est.early_stopping
        self.best = flat
        if est.best_loss_ is None and not self.on_validation:
            est.best_loss_ = np.inf  # the previous fit stopped early
        if validated:
            # The history grows over warm starts; the best is this fit's own.
            est.validation_scores_ = list(est.validation_scores_ or [])
            est.validation_loss_curve_ = list(est.validation_loss_curve_ or [])
            est.best_validation_score_ = -np.inf
            if self.on_validation:
                est._no_improvement_count = 0
        self.validated = validated

    def score(self, validation):
        """This epoch's validation score, or None without validation data."""
        return self.estimator._validation_score(validation) if self.validated else None

    def update(self, flat, score, optimizer):
        """Count epochs without improvement; return True when training stops."""
        est = self.estimator
        if score is not None:
            improved = score >= est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best = flat
        if not self.on_validation:
            improved = est.loss_ <= est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, est.loss_)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        optimizer.iteration_ends(est.t_)
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.on_validation else "Training loss"
            msg = (
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs."
            )
            if optimizer.trigger_stopping(msg, est.verbose):
                return True
            est._no_improvement_count = 0
        return False


class _Hooks:
    """scikit-learn's callbacks: the fit a task, each epoch (or L-BFGS iteration)
    a subtask. Without callbacks (``ctx`` None) every hook does nothing."""

    def __init__(self, ctx, estimator, X, y, metadata):
        self.ctx, self.estimator = ctx, estimator
        self.data = {"X": X, "y": y, "metadata": metadata}
        self.task: Any = None

    def begin(self, root=False):
        """Start the fit (``root``) or its next subtask."""
        if self.ctx is None:
            return
        self.task = self.ctx if root else self.ctx.subcontext(task_name="epoch")
        self.task.call_on_fit_task_begin(estimator=self.estimator, **self.data)

    def end(self, root=False):
        """End the current task; True when a callback asks to stop."""
        if self.ctx is None:
            return False
        est = self.estimator
        state = {
            "coefs_": est.coefs_,
            "intercepts_": est.intercepts_,
            "n_iter_": est.n_iter_,
            "loss_": est.loss_,
        }
        task, self.task = (self.ctx if root else self.task), None
        return bool(
            task.call_on_fit_task_end(
                estimator=est, reconstruction_attributes=state, **self.data
            )
        )

    def close(self):
        """End a subtask that was begun but did not run (L-BFGS's last)."""
        if self.task is not None:
            self.task.call_on_fit_task_end(estimator=self.estimator)
            self.task = None


class partial_fit_available(Generic[_P]):  # noqa: N801 (a decorator)
    """Decorator: ``partial_fit`` exists only where the configuration allows it.

    On an estimator whose ``_partial_fit_unavailable()`` gives a reason, the
    attribute raises an AttributeError with that reason (so ``hasattr`` is
    False); on the class it is the plain function.
    """

    def __init__(self, method: Callable[Concatenate[Any, _P], Any]) -> None:
        self.method = method
        functools.update_wrapper(self, method)  # type: ignore[arg-type]  # a descriptor

    # partial_fit returns the estimator it is called on.
    @overload
    def __get__(
        self, estimator: None, owner: type | None = None
    ) -> Callable[Concatenate[Any, _P], Any]: ...
    @overload
    def __get__(self, estimator: _S, owner: type | None = None) -> Callable[_P, _S]: ...
    def __get__(self, estimator: Any, owner: type | None = None) -> Any:
        if estimator is None:
            return self.method
        reason = estimator._partial_fit_unavailable()
        if reason:
            raise AttributeError(reason)
        return types.MethodType(self.method, estimator)


def _shuffled(order, rng):
    """``order`` permuted as ``sklearn.utils.shuffle(order, random_state=rng)``
    permutes it (the same draws from ``rng``), without its checks."""
    indices = np.arange(len(order))
    rng.shuffle(indices)
    return order[indices]


def _total(xp, values):
    """The sum of an array of namespace ``xp``, as a Python float."""
    return float(xp.sum(values))


class _Batches:
    """Mini-batches of the training data, gathered into buffers made once (on
    another Array API namespace, ``placement``, gathered there)."""

    def __init__(self, X, Y, sample_weight, placement=None):
        self.arrays = [X, Y] + ([] if sample_weight is None else [sample_weight])
        self.weighted = sample_weight is not None
        self.buffers = {}  # batch size -> one buffer per array
        self.placement = placement

    def take(self, idx):
        """X, Y and the sample weights (or None) of the rows ``idx``."""
        if isinstance(idx, slice):
            parts = [a[idx] for a in self.arrays]
        elif self.placement is not None:
            xp, device = self.placement
            rows = xp.asarray(idx, device=device)
            parts = [xp.take(a, rows, axis=0) for a in self.arrays]
        else:
            buffers = self.buffers.get(len(idx))
            if buffers is None:
                buffers = self.buffers[len(idx)] = [
                    None
                    if sp.issparse(a)
                    else np.empty((len(idx),) + a.shape[1:], a.dtype)
                    for a in self.arrays
                ]
            parts = [
                a[idx] if out is None else np.take(a, idx, axis=0, out=out)
                for a, out in zip(self.arrays, buffers)
            ]
        return parts[0], parts[1], parts[2] if self.weighted else None
