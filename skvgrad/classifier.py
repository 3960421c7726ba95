"""MLPAutogradClassifier: scikit-learn's MLPClassifier, trained by skvgrad's engine."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils._param_validation import Interval, Options, StrOptions
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
        Validation accuracy after every epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation accuracy with early stopping, else None.
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
    >>> clf.predict(X[:5])
    array([0, 0, 1, 1, 1])
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(nn.ACTIVATIONS))],
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

    # Public API ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
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

        Returns
        -------
        self : MLPAutogradClassifier
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPAutogradClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.n_layers_, clf.out_activation_, [c.shape for c in clf.coefs_]
        (3, 'softmax', [(4, 100), (100, 3)])
        """
        return self._fit(X, y, sample_weight, classes=None, incremental=False)

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
        >>> clf.n_iter_, list(clf.classes_)
        (1, ['no', 'yes'])
        """
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

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
        >>> clf = MLPAutogradClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:1]).round(2)
        array([[1., 0., 0.]])
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        proba = nn.predict_proba(
            self.coefs_,
            self.intercepts_,
            X,
            nn.ACTIVATIONS[self.activation],
            self.out_activation_,
        )
        if self.n_outputs_ == 1 and self._target_type != "multilabel-indicator":
            proba = np.hstack([1 - proba, proba])
        return proba

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
        >>> clf = MLPAutogradClassifier(solver="lbfgs", random_state=0).fit(X, y)
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
        >>> clf = MLPAutogradClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict(X[[0, 50, 100]])
        array([0, 1, 2])
        """
        proba = self.predict_proba(X)
        if self._target_type == "multilabel-indicator":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

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

    def _validate_targets(self, y, classes, first_fit, incremental):
        """Set or check ``classes_``; return y as an indicator matrix (float)."""
        y_type = type_of_target(y, input_name="y")
        if y_type == "multilabel-indicator":
            new_classes = np.arange(y.shape[1])
        else:
            check_classification_targets(y)
            if y.ndim == 2:
                y = column_or_1d(y, warn=True)
            new_classes = np.unique(y)
        if incremental and not hasattr(self, "classes_"):
            if classes is None and y_type != "multilabel-indicator":
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            if classes is not None:
                new_classes = np.unique(classes)
        if first_fit or not hasattr(self, "classes_"):
            if len(new_classes) < 2 and y_type != "multilabel-indicator":
                raise ValueError(
                    "The training data needs samples of at least 2 classes; got 1 "
                    f"class: {new_classes[0]!r}."
                )
            target_type = (
                y_type
                if y_type == "multilabel-indicator"
                else ("binary" if len(new_classes) == 2 else "multiclass")
            )
            classes_, self_target_type = new_classes, target_type
        else:
            classes_, self_target_type = self.classes_, self._target_type
            if (self_target_type == "multilabel-indicator") != (
                y_type == "multilabel-indicator"
            ) or (y_type == "multilabel-indicator" and y.shape[1] != len(classes_)):
                raise ValueError(
                    f"y is {y_type} but the model was fitted on {self_target_type} "
                    "targets."
                )
            if (
                incremental
                and classes is not None
                and not np.array_equal(np.unique(classes), classes_)
            ):
                raise ValueError(
                    f"classes={np.unique(classes)!r} is not the same as on the "
                    f"previous call to partial_fit, was: {classes_!r}."
                )
            unseen = np.setdiff1d(new_classes, classes_)
            if (
                self.warm_start
                and not incremental
                and not np.array_equal(new_classes, classes_)
            ):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {classes_}, `y` "
                    f"has {new_classes}"
                )
            if len(unseen):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{classes_}. 'y' has {new_classes}."
                )
        if self_target_type == "multilabel-indicator":
            Y = np.asarray(y, dtype=np.float64)
        elif self_target_type == "binary":
            Y = (y == classes_[1]).astype(np.float64)[:, np.newaxis]
        else:
            Y = np.searchsorted(classes_, y)[:, np.newaxis] == np.arange(len(classes_))
            Y = Y.astype(np.float64)
        return Y, classes_, self_target_type

    # Training -----------------------------------------------------------------------

    def _fit(self, X, y, sample_weight, classes, incremental):
        """Validate, train, and commit the fitted state only if all went well."""
        before = self.__dict__.copy()
        try:
            return self._fit_unsafe(X, y, sample_weight, classes, incremental)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_unsafe(self, X, y, sample_weight, classes, incremental):
        """The body of fit and partial_fit."""
        hidden = self._hidden_layer_sizes()
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
        Y, self.classes_, self._target_type = self._validate_targets(
            y, classes, first_fit, incremental
        )
        dtype = X.dtype if first_fit else self.coefs_[0].dtype
        X = X.astype(dtype, copy=False)
        if sp.issparse(X):
            X = X.tocsr()
        Y = Y.astype(dtype, copy=False)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
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
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, sample_weight)
            else:
                self._fit_stochastic(X, Y, y, sample_weight, rng, incremental)
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
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _objective(self, X, Y, sample_weight):
        """``params -> (loss, grads)`` for the network on this data."""
        loss_and_grad = value_and_grad(nn.objective)
        activation = nn.ACTIVATIONS[self.activation]

        def fun(params):
            return loss_and_grad(
                params,
                X,
                Y,
                sample_weight,
                self.alpha,
                activation,
                self.out_activation_,
            )

        return fun

    def _raise_diverged(self):
        """Stop training whose loss or weights are no longer finite."""
        raise ValueError(
            "Training diverged: the loss or the weights became non-finite (NaN or "
            "infinity). Scale the inputs (e.g. with StandardScaler) or lower "
            f"learning_rate_init (now {self.learning_rate_init})."
        )

    def _fit_lbfgs(self, X, Y, sample_weight):
        """Minimise the objective on all the data with SciPy's L-BFGS-B."""
        fun = self._objective(X, Y, sample_weight)
        curve = []
        result = optim.lbfgs(
            fun,
            self.coefs_ + self.intercepts_,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            callback=curve.append,
        )
        if not np.isfinite(result.loss):
            self._raise_diverged()
        n = len(self.coefs_)
        self.coefs_, self.intercepts_ = result.params[:n], result.params[n:]
        self.n_iter_ = result.n_iter
        self.loss_ = float(result.loss)
        self.loss_curve_ = curve
        self.best_loss_ = min(curve, default=self.loss_)

    def _fit_stochastic(self, X, Y, y, sample_weight, rng, incremental):
        """Mini-batch training with SGD or Adam, with optional early stopping."""
        params = self.coefs_ + self.intercepts_
        optimizer = self._make_optimizer(params, incremental)
        X_val = y_val = sw_val = None
        if self.early_stopping:
            X, X_val, Y, y_val, sample_weight, sw_val = self._validation_split(
                X, Y, y, sample_weight, rng
            )
        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped",
                    stacklevel=4,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        activation = nn.ACTIVATIONS[self.activation]
        loss_and_grad = value_and_grad(nn.objective)
        weight_total = n_samples if sample_weight is None else sample_weight.sum()
        self.loss_curve_ = list(self.loss_curve_)
        if self.validation_scores_ is not None:
            self.validation_scores_ = list(self.validation_scores_)
        sample_idx = np.arange(n_samples)
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=rng)
                accumulated = 0.0
                for batch in gen_batches(n_samples, batch_size):
                    idx = sample_idx[batch] if self.shuffle else batch
                    sw = None if sample_weight is None else sample_weight[idx]
                    batch_weight = batch.stop - batch.start if sw is None else sw.sum()
                    if batch_weight == 0:
                        continue
                    loss, grads = loss_and_grad(
                        params,
                        X[idx],
                        Y[idx],
                        sw,
                        self.alpha,
                        activation,
                        self.out_activation_,
                    )
                    if not np.isfinite(loss):
                        self._raise_diverged()
                    accumulated += float(loss) * batch_weight
                    params = optimizer.update_params(params, grads)
                n = len(self.coefs_)
                self.coefs_, self.intercepts_ = params[:n], params[n:]
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_ = accumulated / weight_total
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                if self._epoch_ends(optimizer, X_val, y_val, sw_val):
                    break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        self._optimizer_state = dict(vars(optimizer))
        if self.early_stopping:
            self.coefs_, self.intercepts_ = self._best_coefs, self._best_intercepts

    def _make_optimizer(self, params, incremental):
        """A new optimizer, or the one saved by the previous partial_fit."""
        cls = _OPTIMIZERS[self.solver]
        if incremental and self._optimizer_state is not None:
            optimizer = cls.__new__(cls)
            optimizer.__dict__.update(self._optimizer_state)
            return optimizer
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
        X_train, X_val, Y_train, _, _, y_val = parts[:6]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[6:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or "
                "the size of your dataset."
            )
        self._best_coefs, self._best_intercepts = self.coefs_, self.intercepts_
        return X_train, X_val, Y_train, y_val, sw_train, sw_val

    def _epoch_ends(self, optimizer, X_val, y_val, sw_val):
        """Track improvement after an epoch; return True when training should stop."""
        if self.early_stopping:
            score = accuracy_score(y_val, self.predict(X_val), sample_weight=sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            improved = score >= self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_coefs, self._best_intercepts = self.coefs_, self.intercepts_
        else:
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

