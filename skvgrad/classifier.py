"""MLPAutogradClassifier: scikit-learn's MLPClassifier, trained by skvgrad's engine."""

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, get_scorer
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skvgrad import nn, optim
from skvgrad.engine import value_and_grad

_STOCHASTIC_SOLVERS = ("sgd", "adam")
_LOSS_AND_GRAD = value_and_grad(nn.objective)
_OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam}


def _is_stochastic(estimator):
    """Whether the solver trains in mini-batches (partial_fit is available)."""
    if estimator.solver not in _STOCHASTIC_SOLVERS:
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. "
            f"{estimator.solver} is not stochastic."
        )
    return True


class MLPAutogradClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier trained by skvgrad's autodiff engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the same parameters with the same defaults and meaning, the same fitted
    attributes and methods. The log-loss of the network is differentiated by
    :mod:`skvgrad.engine` and minimised by :mod:`skvgrad.optim` (SGD, Adam) or
    SciPy's L-BFGS-B.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,) or int, default=(100,)
        The number of units of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
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
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved
        by ``tol`` for ``n_iter_no_change`` consecutive epochs.
    verbose : bool, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    momentum : float, default=0.9
        Momentum of "sgd", in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and
        stop when its accuracy stops improving; the best weights are kept.
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
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{label: weight}``, or "balanced" for weights inversely proportional to
        the class frequencies in ``y`` (not available in ``partial_fit``).
    dropout : float, list of float or None, default=None
        Probability of zeroing each hidden unit during training (one rate for
        every hidden layer, or one per layer). Predictions use the whole network.
        Stochastic solvers only.
    scoring : str, callable or None, default=None
        What the validation data is scored with and early stopping watches:
        None or "accuracy" (as MLPClassifier), "loss" (the negated validation
        log-loss), any scikit-learn scorer name, or a callable
        ``scorer(estimator, X, y)``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    loss_ : float
        The objective at the end of training.
    best_loss_ : float or None
        Lowest training loss reached; None with early stopping.
    loss_curve_ : list of float
        The objective after every epoch (every iteration for "lbfgs").
    validation_scores_ : list of float or None
        Validation score (see ``scoring``) after every epoch, when there is
        validation data (early stopping, or ``X_val`` given to fit); else None.
    validation_loss_curve_ : list of float or None
        Validation log-loss (weighted mean, without the penalty) after every
        epoch, when there is validation data; else None.
    best_validation_score_ : float or None
        Best validation score, when there is validation data; else None.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix of layer ``i``, ``(n_in, n_out)``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer ``i + 1``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X had string column names.
    n_iter_ : int
        Number of epochs (or lbfgs iterations) run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        "logistic" for binary and multilabel targets, "softmax" otherwise.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from skvgrad import MLPAutogradClassifier
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = MLPAutogradClassifier(
    ...     hidden_layer_sizes=(25, 25), solver="lbfgs", random_state=0
    ... ).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> clf.score(X, y) > 0.95
    True
    """

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
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
        "scoring": [str, callable, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        dropout=None,
        scoring=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.class_weight = class_weight
        self.dropout = dropout
        self.scoring = scoring

    # Public API ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the model to the data ``X`` and the labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, float64 or float32 (kept: a float32 model trains
            and predicts in float32).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel targets.
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
        self : MLPAutogradClassifier
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
        return self._fit(X, y, sample_weight, None, False, validation)

    @available_if(_is_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over the given data.

        Only available for the stochastic solvers ("sgd", "adam").

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels or a multilabel indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen; required on the first call
            unless ``y`` is a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : MLPAutogradClassifier
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from skvgrad import MLPAutogradClassifier
        >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
        >>> clf = MLPAutogradClassifier(random_state=0)
        >>> clf = clf.partial_fit(X, ["no", "yes"], classes=["no", "yes"])
        >>> clf.n_iter_, clf.classes_.tolist()
        (1, ['no', 'yes'])
        """
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: the class "
                "frequencies of all the data are unknown. Pass a dict, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight."
            )
        return self._fit(X, y, sample_weight, classes, True, None)

    def decision_function(self, X):
        """Pre-activation of the output layer (the logits).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For binary targets, the logit of ``classes_[1]``: positive where it
            is predicted. Otherwise one column per class (or label).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_moons
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = make_moons(100, noise=0.1, random_state=0)
        >>> clf = MLPAutogradClassifier((10,), solver="lbfgs", random_state=0)
        >>> clf = clf.set_params(max_iter=1000).fit(X, y)
        >>> bool(np.all((clf.decision_function(X) > 0) == (clf.predict(X) == 1)))
        True
        """
        check_is_fitted(self)
        logits = self._logits(self._validate_X(X))
        return logits.ravel() if self._target_type == "binary" else logits

    def predict_proba(self, X):
        """Probability of each class for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; in the dtype of the model.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPAutogradClassifier((10,), solver="lbfgs", random_state=0)
        >>> clf = clf.set_params(max_iter=1000).fit(X, y)
        >>> clf.predict_proba(X[:1]).round(2)
        array([[1., 0., 0.]])
        """
        check_is_fitted(self)
        return self._proba(self._logits(self._validate_X(X)))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPAutogradClassifier((10,), solver="lbfgs", random_state=0)
        >>> clf = clf.set_params(max_iter=1000).fit(X, y)
        >>> np.allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
        True
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def predict(self, X):
        """Predict class labels (an indicator matrix for multilabel models).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each sample.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPAutogradClassifier((10,), solver="lbfgs", random_state=0)
        >>> clf = clf.set_params(max_iter=1000).fit(X, y)
        >>> clf.predict(X[[0, 50, 100]])
        array([0, 1, 2])
        """
        check_is_fitted(self)
        return self._labels(self._logits(self._validate_X(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

    def __getstate__(self):
        activation = self.activation
        if callable(activation) and "<" in getattr(activation, "__qualname__", "<"):
            raise TypeError(
                f"Cannot pickle a model whose activation is {activation!r}: a lambda "
                "or a function defined inside another one cannot be saved. Define "
                "the activation as a module-level function (def my_activation(z): "
                "...) in an importable module and pass that instead."
            )
        return super().__getstate__()

    # Prediction internals ---------------------------------------------------------

    def _logits(self, X):
        """Output-layer logits of validated X, in chunks to bound memory."""
        activation = self.activation
        chunk = 1 << 16
        parts = [
            nn.forward(self.coefs_, self.intercepts_, X[i : i + chunk], activation)
            for i in range(0, X.shape[0], chunk)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _proba(self, logits):
        """Class probabilities from logits."""
        proba = nn.PROBABILITIES[self.out_activation_](logits)
        if self._target_type == "binary":
            proba = np.hstack([1 - proba, proba])
        return proba

    def _labels(self, logits):
        """Predicted labels from logits."""
        if self._target_type == "multilabel-indicator":
            return (logits > 0).astype(int)
        if self._target_type == "binary":
            return self.classes_[(logits[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(logits, axis=1)]

    # Validation --------------------------------------------------------------------

    def _validate_X(self, X):
        """Check X at prediction time and cast it to the model's dtype."""
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        return X.astype(self.coefs_[0].dtype, copy=False)

    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a list of positive ints, or a clear error."""
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if np.iterable(sizes) else [sizes]
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
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

    def _set_classes(self, y, classes, first_fit, incremental):
        """Set ``classes_`` and the target type, or check y against them."""
        y_type = type_of_target(y, input_name="y")
        multilabel = y_type == "multilabel-indicator"
        if multilabel:
            new_classes = np.arange(y.shape[1])
        else:
            check_classification_targets(y)
            new_classes = np.unique(y)
        if incremental and not hasattr(self, "classes_"):
            if classes is None and not multilabel:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            if classes is not None:
                seen, new_classes = new_classes, np.unique(classes)
        if first_fit or not hasattr(self, "classes_"):
            if len(new_classes) < 2 and not multilabel:
                raise ValueError(
                    "The training data needs samples of at least 2 classes; got 1 "
                    f"class: {new_classes[0]!r}."
                )
            self.classes_ = new_classes
            self._target_type = (
                y_type
                if multilabel
                else ("binary" if len(new_classes) == 2 else "multiclass")
            )
            if incremental and classes is not None:
                self._check_known(seen)
            return
        if multilabel != (self._target_type == "multilabel-indicator") or (
            multilabel and y.shape[1] != len(self.classes_)
        ):
            raise ValueError(
                f"y is {y_type} but the model was fitted on {self._target_type} "
                "targets."
            )
        if (
            incremental
            and classes is not None
            and not np.array_equal(np.unique(classes), self.classes_)
        ):
            raise ValueError(
                f"classes={np.unique(classes)!r} is not the same as on the "
                f"previous call to partial_fit, was: {self.classes_!r}."
            )
        if (
            self.warm_start
            and not incremental
            and not np.array_equal(new_classes, self.classes_)
        ):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as "
                f"in the previous call to fit. Previously got {self.classes_}, `y` "
                f"has {new_classes}"
            )
        self._check_known(new_classes)

    def _check_known(self, labels):
        """Raise if ``labels`` holds a class the model does not know."""
        if self._target_type != "multilabel-indicator" and len(
            np.setdiff1d(labels, self.classes_)
        ):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {np.unique(labels)}."
            )

    def _encode(self, y, dtype):
        """Targets as an indicator matrix of the output units."""
        if self._target_type == "multilabel-indicator":
            Y = np.asarray(y)
        elif self._target_type == "binary":
            Y = (y == self.classes_[1])[:, np.newaxis]
        else:
            Y = np.searchsorted(self.classes_, y)[:, np.newaxis] == np.arange(
                len(self.classes_)
            )
        return Y.astype(dtype)

    def _validate_validation(self, validation, dtype):
        """Check X_val, y_val, sample_weight_val against the fitted model."""
        X_val, y_val, sw_val = validation
        X_val = self._validate_X(X_val)
        y_val = np.asarray(y_val)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"X_val has {X_val.shape[0]}, y_val has {y_val.shape[0]}."
            )
        multilabel = self._target_type == "multilabel-indicator"
        if (y_val.ndim == 2) != multilabel or (
            multilabel and y_val.shape[1] != self.n_outputs_
        ):
            raise ValueError(
                f"y_val has shape {y_val.shape}, but the model is fitted on "
                f"{self._target_type} targets"
                + (f" with {self.n_outputs_} labels." if multilabel else ".")
            )
        self._check_known(y_val if y_val.ndim == 1 else np.array([]))
        if sw_val is not None:
            sw_val = _check_sample_weight(
                sw_val, X_val, dtype=dtype, ensure_non_negative=True
            )
        return X_val, self._encode(y_val, dtype), y_val, sw_val

    # Training -----------------------------------------------------------------------

    def _fit(self, X, y, sample_weight, classes, incremental, validation):
        """Validate, train, and commit the fitted state only if all went well."""
        before = self.__dict__.copy()
        try:
            return self._fit_unsafe(
                X, y, sample_weight, classes, incremental, validation
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_unsafe(self, X, y, sample_weight, classes, incremental, validation):
        """The body of fit and partial_fit."""
        hidden = self._hidden_layer_sizes()
        dropout = self._dropout_rates(len(hidden))
        if isinstance(self.scoring, str) and self.scoring not in ("accuracy", "loss"):
            self._scorer()  # an unknown name fails now, not after an epoch
        first_fit = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=first_fit,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self._set_classes(y, classes, first_fit, incremental)
        dtype = X.dtype if first_fit else self.coefs_[0].dtype
        X = X.astype(dtype, copy=False)
        if sp.issparse(X):
            X = X.tocsr()
        Y = self._encode(y, dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, y).astype(dtype)
            sample_weight = (
                weights if sample_weight is None else sample_weight * weights
            )
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number"
                + (" (after class_weight)." if self.class_weight is not None else ".")
            )
        layer_units = [X.shape[1], *hidden, Y.shape[1]]
        rng = check_random_state(self.random_state)
        if first_fit:
            self._initialize(layer_units, rng, dtype)
        elif [c.shape[0] for c in self.coefs_] + [self.n_outputs_] != layer_units:
            raise ValueError(
                "The network's layers do not match: the fitted model has layer "
                f"sizes {[c.shape[0] for c in self.coefs_] + [self.n_outputs_]}, "
                f"the data and hidden_layer_sizes give {layer_units}."
            )
        if validation is not None:
            validation = self._validate_validation(validation, dtype)
        if self.solver == "lbfgs":
            # A line search may try a step whose loss overflows; SciPy backs off.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._fit_lbfgs(X, Y, sample_weight)
        else:
            # Every step is kept: an overflow is divergence, reported at once.
            try:
                with np.errstate(over="raise", invalid="raise", divide="raise"):
                    self._fit_stochastic(
                        X, Y, y, sample_weight, rng, incremental, validation, dropout
                    )
            except FloatingPointError as error:
                self._raise_diverged(error)
        if not all(np.isfinite(p).all() for p in self.coefs_ + self.intercepts_):
            self._raise_diverged()
        return self

    def _initialize(self, layer_units, rng, dtype):
        """Fresh weights and training state."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = layer_units[-1]
        self.out_activation_ = (
            "softmax" if self._target_type == "multiclass" else "logistic"
        )
        self.coefs_, self.intercepts_ = nn.init_params(
            layer_units, self.activation, rng, dtype
        )
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._optimizer_state = None
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None
        self.best_loss_ = None if self.early_stopping else np.inf

    def _raise_diverged(self, cause=None):
        """Stop training whose loss or weights are no longer finite."""
        detail = f" ({cause})" if cause is not None else ""
        raise ValueError(
            "Training diverged: the loss or the weights became non-finite (NaN or "
            f"infinity){detail}. Scale the inputs (e.g. with StandardScaler) or "
            f"lower learning_rate_init (now {self.learning_rate_init})."
        ) from cause

    @contextlib.contextmanager
    def _progress(self, total):
        """Report each epoch: a tqdm bar when verbose and tqdm is installed."""
        bar = None
        if self.verbose:
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

        try:
            yield report
        finally:
            if bar is not None:
                bar.close()

    def _fit_lbfgs(self, X, Y, sample_weight):
        """Minimise the objective on all the data with SciPy's L-BFGS-B."""
        curve = []
        with self._progress(self.max_iter) as report:

            def record(loss):
                curve.append(loss)
                report(len(curve), loss)

            result = optim.lbfgs(
                lambda params: _LOSS_AND_GRAD(
                    params,
                    X,
                    Y,
                    sample_weight,
                    self.alpha,
                    self.activation,
                    self.out_activation_,
                ),
                self.coefs_ + self.intercepts_,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                callback=record,
            )
        if not np.isfinite(result.loss):
            self._raise_diverged()
        n = len(self.coefs_)
        self.coefs_, self.intercepts_ = result.params[:n], result.params[n:]
        self.n_iter_ = result.n_iter
        self.loss_ = float(result.loss)
        self.loss_curve_ = curve
        self.best_loss_ = min(curve, default=self.loss_)

    def _fit_stochastic(
        self, X, Y, y, sample_weight, rng, incremental, validation, dropout
    ):
        """Mini-batch training with SGD or Adam, scored on validation data."""
        # The optimizer sees one vector (one update for all layers); the network
        # sees views of it with the layers' shapes.
        shapes = [p.shape for p in self.coefs_ + self.intercepts_]
        flat = optim.pack(self.coefs_ + self.intercepts_)
        params = optim.unpack(flat, shapes)
        optimizer = self._make_optimizer([flat], incremental)
        self.n_iter_ = 0  # epochs of this call, as MLPClassifier counts them
        if validation is None and self.early_stopping:
            X, Y, sample_weight, validation = self._validation_split(
                X, Y, y, sample_weight, rng
            )
        if validation is not None:
            self.validation_scores_ = list(self.validation_scores_ or [])
            self.validation_loss_curve_ = list(self.validation_loss_curve_ or [])
            if self.best_validation_score_ is None:
                self.best_validation_score_ = -np.inf
            if self.early_stopping:
                self._best_params = params
        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped",
                    stacklevel=6,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        weight_total = n_samples if sample_weight is None else sample_weight.sum()
        self.loss_curve_ = list(self.loss_curve_)
        order = np.arange(n_samples) if self.shuffle else None
        n_epochs = 1 if incremental else self.max_iter
        with self._progress(n_epochs) as report:
            try:
                for _ in range(n_epochs):
                    if self.shuffle:
                        order = shuffle(order, random_state=rng)
                    flat, accumulated = self._fit_epoch(
                        X,
                        Y,
                        sample_weight,
                        order,
                        batch_size,
                        flat,
                        shapes,
                        optimizer,
                        dropout,
                        rng,
                    )
                    params = optim.unpack(flat, shapes)
                    n = len(self.coefs_)
                    self.coefs_, self.intercepts_ = params[:n], params[n:]
                    self.n_iter_ += 1
                    self.t_ += n_samples
                    self.loss_ = accumulated / weight_total
                    self.loss_curve_.append(self.loss_)
                    score = self._score_validation(validation, params)
                    report(self.n_iter_, self.loss_, score)
                    if self._epoch_ends(optimizer, params, score):
                        break
                    if not incremental and self.n_iter_ == self.max_iter:
                        warnings.warn(
                            f"Stochastic Optimizer: Maximum iterations "
                            f"({self.max_iter}) reached and the optimization "
                            "hasn't converged yet.",
                            ConvergenceWarning,
                            stacklevel=6,
                        )
            except KeyboardInterrupt:
                warnings.warn("Training interrupted by user.", stacklevel=6)
        self._optimizer_state = optimizer.state_dict()
        if self.early_stopping:
            n = len(self.coefs_)
            self.coefs_ = self._best_params[:n]
            self.intercepts_ = self._best_params[n:]

    def _fit_epoch(
        self,
        X,
        Y,
        sample_weight,
        order,
        batch_size,
        flat,
        shapes,
        optimizer,
        dropout,
        rng,
    ):
        """One pass over the data in mini-batches (in ``order`` when shuffling).

        Returns the new parameter vector and the weighted sum of batch losses.
        """
        accumulated = 0.0
        for batch in gen_batches(X.shape[0], batch_size):
            idx = batch if order is None else order[batch]
            sw = None if sample_weight is None else sample_weight[idx]
            weight = batch.stop - batch.start if sw is None else sw.sum()
            if weight == 0:  # nothing to learn from, and no loss to divide
                continue
            loss, flat = self._train_step(
                flat, shapes, optimizer, X[idx], Y[idx], sw, dropout, rng
            )
            accumulated += loss * weight
        return flat, accumulated

    def _train_step(self, flat, shapes, optimizer, X, Y, sample_weight, dropout, rng):
        """One update on one mini-batch; returns its loss and the new vector."""
        loss, grads = _LOSS_AND_GRAD(
            optim.unpack(flat, shapes),
            X,
            Y,
            sample_weight,
            self.alpha,
            self.activation,
            self.out_activation_,
            dropout,
            rng,
        )
        if not np.isfinite(loss):
            self._raise_diverged()
        [flat] = optimizer.update_params([flat], [optim.pack(grads)])
        return float(loss), flat

    def _make_optimizer(self, params, incremental):
        """A new optimizer, or the one saved by the previous partial_fit."""
        cls = _OPTIMIZERS[self.solver]
        if incremental and self._optimizer_state is not None:
            # It copies the saved buffers: a failed call leaves them as they were.
            return cls.from_state_dict(self._optimizer_state)
        if self.solver == "sgd":
            return cls(
                params,
                learning_rate_init=self.learning_rate_init,
                lr_schedule=self.learning_rate,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                power_t=self.power_t,
            )
        return cls(
            params,
            learning_rate_init=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    def _validation_split(self, X, Y, y, sample_weight, rng):
        """Hold out ``validation_fraction`` of the data, stratified when possible."""
        stratify = None
        if self._target_type != "multilabel-indicator":
            _, counts = np.unique(y, return_counts=True)
            n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
            if counts.min() >= 2 and n_val >= len(counts):
                stratify = y
        arrays = [X, Y, y] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(
            *arrays,
            random_state=rng,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, Y_val, _, y_val = parts[:6]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[6:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or "
                "the size of your dataset."
            )
        return X_train, Y_train, sw_train, (X_val, Y_val, y_val, sw_val)

    def _score_validation(self, validation, params):
        """Record the validation loss and score of this epoch; return the score."""
        if validation is None:
            return None
        X_val, Y_val, y_val, sw_val = validation
        logits = self._logits(X_val)
        loss = nn.mean_loss(logits, Y_val, sw_val, self.out_activation_)
        self.validation_loss_curve_.append(loss)
        if self.scoring in (None, "accuracy"):
            score = accuracy_score(y_val, self._labels(logits), sample_weight=sw_val)
        elif self.scoring == "loss":
            score = -loss
        else:
            kwargs = {} if sw_val is None else {"sample_weight": sw_val}
            with warnings.catch_warnings():
                # X_val is already validated: it has lost its column names.
                warnings.filterwarnings(
                    "ignore", message="X does not have valid feature names"
                )
                score = float(self._scorer()(self, X_val, y_val, **kwargs))
        self.validation_scores_.append(score)
        return score

    def _scorer(self):
        """The scorer of a ``scoring`` other than accuracy and loss."""
        return (
            get_scorer(self.scoring) if isinstance(self.scoring, str) else self.scoring
        )

    def _epoch_ends(self, optimizer, params, score):
        """Track improvement after an epoch; return True when training should stop."""
        if score is not None:
            improved = score >= self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                if self.early_stopping:
                    self._best_params = params
        if not self.early_stopping:
            improved = self.loss_ <= self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_)
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        optimizer.iteration_ends(self.t_)
        if self._no_improvement_count > self.n_iter_no_change:
            what = "Validation score" if self.early_stopping else "Training loss"
            msg = (
                f"{what} did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )
            if optimizer.trigger_stopping(msg, self.verbose):
                return True
            self._no_improvement_count = 0
        return False
