"""MLPAutogradClassifier: scikit-learn's MLPClassifier, trained by skvgrad's engine."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any, Literal, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import ClassifierMixin
from sklearn.externals import array_api_compat
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from skvgrad import engine, nn
from skvgrad.base import (
    ATTRIBUTES_DOC,
    EXTRA_PARAMETERS_DOC,
    PARAMETERS_DOC,
    Activation,
    BaseMLPAutograd,
    BatchSize,
    Dropout,
    HiddenLayerSizes,
    RandomState,
    Scoring,
    _fit_context,
    _placement,
    _ravel,
    _to_numpy,
    partial_fit_available,
    store_params,
)


class MLPAutogradClassifier(ClassifierMixin, BaseMLPAutograd):
    __doc__ = f"""Multi-layer perceptron classifier trained by an autodiff engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the same parameters with the same defaults and meaning, the same fitted
    attributes and methods, and with the same ``random_state`` the same
    results. The loss of the network is differentiated by
    :mod:`skvgrad.engine` and minimised by :mod:`skvgrad.optim` (SGD, Adam)
    or SciPy's L-BFGS-B.

    Parameters
    ----------
{PARAMETERS_DOC}    class_weight : dict, list of dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{{label: weight}}`` of finite non-negative weights; for multilabel
        targets, a list of one such dict per label, keyed by the two values
        ``y`` codes it with (``[{{0: 1, 1: 5}}, ...]``); or "balanced" for
        weights inversely proportional to the class frequencies in ``y`` (of
        each label, for multilabel targets; ``partial_fit`` is then
        unavailable: one batch does not know them).
{EXTRA_PARAMETERS_DOC}    loss : "log_loss" or callable, default="log_loss"
        The training loss. A callable ``loss(raw, Y)`` receives the output
        layer's pre-activation (the logits) and the indicator matrix of the
        targets, both of shape ``(n_samples, n_outputs)``, and returns one loss
        per sample, written with :mod:`skvgrad.engine` operations; sample
        weights, the penalty and the mean are applied by the estimator.
        Predictions still go through the logistic or softmax output.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, the label indices).
{ATTRIBUTES_DOC}    out_activation_ : str
        "logistic" for binary, single-class and multilabel targets, "softmax"
        for multiclass targets.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.
    MLPAutogradRegressor : The regressor.

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

    classes_: Any  # NumPy, or X's namespace for numeric labels under dispatch
    _target_type: str

    _parameter_constraints: dict = {
        **BaseMLPAutograd._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, list, None],
        "loss": [StrOptions({"log_loss"}), callable],
    }

    def __init__(
        self,
        hidden_layer_sizes: HiddenLayerSizes = (100,),
        activation: Activation = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: BatchSize = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: RandomState = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: float = 10,
        max_fun: int = 15000,
        class_weight: Mapping[Any, float]
        | Sequence[Mapping[Any, float]]
        | Literal["balanced"]
        | None = None,
        dropout: Dropout = None,
        scoring: Scoring = None,
        loss: str | Callable[[Any, Any], Any] = "log_loss",
    ) -> None:
        store_params(self, locals())

    @partial_fit_available
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> Self:
        """Update the model with one epoch over the given data.

        Only available for the stochastic solvers ("sgd", "adam") and without
        ``class_weight="balanced"``. Successive calls continue with the
        optimizer's state (Adam's moments, SGD's velocities); after the solver
        was changed with ``set_params``, the new solver starts afresh.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen; required on the first call
            unless ``y`` is a multilabel indicator matrix (whose classes are
            its column indices: MLPClassifier requires them, skvgrad reads them
            from ``y``).

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
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def decision_function(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
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
        raw = self._raw_predict(X, "decision_function")
        if self._target_type != "binary":
            return raw
        return raw.ravel() if type(raw) is np.ndarray else _ravel(raw)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Probability of each class for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_`` (for multilabel targets, the
            probability of each label); float32 when the model and X are.

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
        return self._probabilities(self._raw_predict(X, "predict_proba"), log=False)

    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Logarithm of :meth:`predict_proba`.

        Where a probability is below 0.5 its log is computed from the logits
        (log-sigmoid, log-softmax) rather than from the rounded probability:
        the same to the last bit where the probability is a normal number, and
        exact where it is subnormal (-inf where it underflows to 0).

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
        return self._probabilities(self._raw_predict(X, "predict_log_proba"), log=True)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predict class labels (an indicator matrix for multilabel models).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        y : ndarray or sparse matrix of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each sample; for multilabel targets,
            each label in the two values ``y`` was coded with (a CSR matrix if
            ``y`` was sparse, as MLPClassifier answers).

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
        labels = self._labels(self._raw_predict(X))
        sparse = getattr(self, "_sparse_targets", False)  # absent in older files
        return sp.csr_matrix(_to_numpy(labels)) if sparse else labels

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        For multilabel targets this is the subset accuracy: every label of a
        sample must be right.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            The (weighted) fraction of samples predicted right.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skvgrad import MLPAutogradClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPAutogradClassifier((10,), solver="lbfgs", random_state=0)
        >>> clf.set_params(max_iter=1000).fit(X, y).score(X, y) > 0.95
        True
        """
        if _placement(X) is not None:
            return self._score_on_host(X, y, sample_weight, accuracy_score)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # Hooks -------------------------------------------------------------------------

    def _partial_fit_unavailable(self):
        """Why partial_fit is unavailable: a batch cannot balance the classes."""
        if isinstance(self.class_weight, str):
            return (
                "partial_fit is not available with class_weight='balanced': one "
                "batch does not know the class frequencies of all the data. Pass a "
                "dict, e.g. from sklearn.utils.class_weight.compute_class_weight."
            )
        return super()._partial_fit_unavailable()

    def _output_activation(self):
        return "softmax" if self._target_type == "multiclass" else "logistic"

    def _loss(self):
        if callable(self.loss):
            return nn.per_sample(self.loss)
        softmax = self.out_activation_ == "softmax"
        return nn.LOSSES["log_loss" if softmax else "binary_log_loss"]

    def _default_score(self, raw, validation):
        # On the host: the labels of raw outputs of any namespace.
        return accuracy_score(
            validation.y,
            _to_numpy(self._labels(raw)),
            sample_weight=_to_numpy(validation.sw),
        )

    def _stratify(self, Y):
        # scikit-learn's MLP stratifies single-output (binary) targets only.
        return Y.astype(bool) if self.n_outputs_ == 1 else None

    def _weighted_classes(self):
        return self.class_weight is not None

    def _weight_samples(self, y, sample_weight, dtype):
        if self.class_weight is None:
            return sample_weight
        multilabel = self._target_type == "multilabel-indicator"
        if isinstance(self.class_weight, str):  # "balanced", on weighted frequencies
            weights = np.ones(len(y))
            for column in y.T if y.ndim == 2 else [y]:
                codes = np.unique(column, return_inverse=True)[1]
                totals = np.bincount(codes, weights=sample_weight)
                present = totals > 0  # a class of zero weight stays out
                per_class = np.zeros(len(totals))
                per_class[present] = totals.sum() / (present.sum() * totals[present])
                weights *= per_class[codes]
        else:
            self._check_class_weight(multilabel)
            weights = compute_sample_weight(self.class_weight, y)
        weights = weights.astype(dtype)
        return weights if sample_weight is None else sample_weight * weights

    def _check_class_weight(self, multilabel):
        """A dict of finite non-negative weights, or one per label (multilabel)."""
        class_weight = self.class_weight
        if multilabel != isinstance(class_weight, list):
            raise ValueError(
                "For multilabel targets, class_weight is a list of one dict per "
                f"label ({len(self.classes_)} here), each keyed by the two values "
                "y codes a label with, e.g. [{0: 1.0, 1: 5.0}, ...], or 'balanced'."
                if multilabel
                else "A list of dicts in class_weight is for multilabel targets, one "
                f"per label; for {self._target_type} targets, pass one dict "
                "{label: weight} or 'balanced'."
            )
        dicts = class_weight if multilabel else [class_weight]
        if multilabel and len(dicts) != len(self.classes_):
            raise ValueError(
                f"class_weight has {len(dicts)} dicts, but y has "
                f"{len(self.classes_)} labels: give one dict per label."
            )
        for weights in dicts:
            if not isinstance(weights, dict):
                raise ValueError(
                    f"class_weight must hold dicts of weights, got {weights!r}."
                )
            bad = {
                label: weight
                for label, weight in weights.items()
                if not (
                    isinstance(weight, Real) and math.isfinite(weight) and weight >= 0  # type: ignore[operator]  # a real number
                )
            }
            if bad:
                raise ValueError(
                    "class_weight must map labels to finite non-negative weights; "
                    f"got {bad}."
                )

    def _probabilities(self, raw, log):
        """Probabilities (or their logs) from raw outputs.

        As MLPClassifier: the logistic of each output, the softmax of the
        outputs for multiclass targets. A binary model's first column is the
        logistic of the negated logit rather than one minus the second, so it
        keeps its precision where it is small. Multilabel probabilities lie
        strictly inside (0, 1): where the logistic rounds to 0 or 1, they are
        the nearest number inside. The log is ``log(proba)``, computed from the
        logits where the probability is below 0.5: the same to the last bit
        where the probability is a normal number, and exact below. Computed in
        the namespace of ``raw``, on its device.
        """
        multiclass = self._target_type == "multiclass"
        if multiclass and not log and type(raw) is np.ndarray:
            # The engine's softmax, written out: a one-row call costs a third.
            proba = np.exp(raw - raw.max(axis=1, keepdims=True))  # raw is finite
            proba /= proba.sum(axis=1, keepdims=True)
            return proba
        xp = nn._namespace(raw)
        if self._target_type == "binary" and self.classes_.shape[0] == 1:
            return xp.zeros_like(raw) if log else xp.ones_like(raw)
        output = nn.OUTPUTS[self.out_activation_]
        finfo = np.finfo(np.float64 if raw.dtype == xp.float64 else np.float32)
        inside = (float(finfo.smallest_subnormal), float(1 - finfo.epsneg))
        if multiclass:
            proba = output(raw)
        elif self._target_type == "binary":
            proba = xp.concat([output(-raw), output(raw)], axis=1)
        else:
            proba = xp.clip(output(raw), *inside)
        if not log:
            return proba
        if multiclass:
            exact = engine.log_softmax(raw, axis=1)
        elif self._target_type == "binary":
            exact = xp.concat(
                [engine.log_sigmoid(-raw), engine.log_sigmoid(raw)], axis=1
            )
        else:
            exact = xp.clip(engine.log_sigmoid(raw), *map(math.log, inside))
        positive = proba > 0
        log_proba = xp.where(
            positive,
            xp.log(xp.where(positive, proba, xp.ones_like(proba))),
            xp.full_like(proba, -math.inf),
        )
        return xp.where((proba < 0.5) & positive, exact, log_proba)

    def _labels(self, raw):
        """Predicted labels from raw outputs: MLPClassifier's rule, a probability
        above 0.5 (of each label, for multilabel targets) or the largest."""
        if type(raw) is not np.ndarray:
            return self._labels_on_namespace(raw)
        if self._target_type == "multilabel-indicator":
            low, high = self._label_values
            return np.where(engine.sigmoid(raw) > 0.5, high, low)
        if self._target_type == "binary":
            positive = (engine.sigmoid(raw[:, 0]) > 0.5) & (self.classes_.shape[0] == 2)
            return self.classes_[positive.astype(np.intp)]
        return self.classes_[np.argmax(engine.softmax(raw, axis=1), axis=1)]

    def _labels_on_namespace(self, raw):
        """:meth:`_labels` on another Array API namespace: the choice on its
        device; numeric labels taken there, others (strings) on the host."""
        xp = nn._namespace(raw)
        if self._target_type == "multilabel-indicator":
            chosen = engine.sigmoid(raw) > 0.5
            low, high = self._label_values
            if np.asarray(high).dtype.kind not in "biuf":
                return np.where(_to_numpy(chosen), high, low)
            device = array_api_compat.device(raw)
            low, high = (
                xp.asarray(v.item(), device=device)
                for v in (np.asarray(low), np.asarray(high))
            )
            return xp.where(chosen, high, low)
        if self._target_type == "binary":
            positive = engine.sigmoid(raw[:, 0]) > 0.5
            if self.classes_.shape[0] == 1:
                positive = positive & False
            index = xp.astype(positive, xp.int64)
        else:
            index = xp.argmax(engine.softmax(raw, axis=1), axis=1)
        if type(self.classes_) is np.ndarray:  # labels NumPy cannot move
            return self.classes_[_to_numpy(index)]
        return xp.take(self.classes_, index)

    def _targets_on_host(self):
        if hasattr(self, "classes_"):
            self.classes_ = _to_numpy(self.classes_)

    def _targets_on_device(self, placement):
        # Numeric classes follow X, as in scikit-learn's classifiers; other
        # labels (strings) stay NumPy arrays.
        if self.classes_.dtype.kind in "biuf":
            (self.classes_,) = self._on_device(self.classes_, placement=placement)

    def _encode_targets(
        self, y, *, fitting, reset=False, incremental=False, classes=None, name="y"
    ):
        sparse = sp.issparse(y)
        if sparse:  # a sparse indicator matrix, as MLPClassifier takes it
            y = y.toarray()
            if y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name=name)
        if y_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                "Multioutput target data is not supported with label binarization "
                f"({name} is {y_type}: several outputs with more than two values "
                "each)."
            )
        multilabel = y_type == "multilabel-indicator"
        if fitting and (reset or not hasattr(self, "classes_")):
            self._set_classes(y, multilabel, incremental, classes)
            self._sparse_targets = sparse  # predict answers in the same form
        else:
            self._check_classes(y, multilabel, fitting, incremental, classes, name)
        if multilabel:
            Y = y == self._label_values[1]
        elif len(self.classes_) == 1:
            Y = np.ones((len(y), 1))
        elif self._target_type == "binary":
            Y = (y == self.classes_[1])[:, np.newaxis]
        else:
            Y = np.searchsorted(self.classes_, y)[:, np.newaxis] == np.arange(
                len(self.classes_)
            )
        return y, Y

    def _set_classes(self, y, multilabel, incremental, classes):
        """Learn the classes (or the labels and their coding) on a first fit."""
        if multilabel:
            self._label_values = _label_coding(y)
            self.classes_ = np.arange(y.shape[1])
            self._target_type = "multilabel-indicator"
            if classes is not None and not np.array_equal(
                np.unique(classes), self.classes_
            ):
                raise ValueError(
                    f"classes={np.unique(classes)!r} are not the labels of y: for "
                    "multilabel targets the classes are the indices of y's "
                    f"{y.shape[1]} columns, {self.classes_!r} (they may be omitted)."
                )
            return
        labels = np.unique(y)
        if incremental:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            self.classes_ = np.unique(classes)
            self._target_type = "binary" if len(self.classes_) <= 2 else "multiclass"
            self._check_known(labels)
            return
        self.classes_ = labels
        self._target_type = "binary" if len(labels) <= 2 else "multiclass"

    def _check_classes(self, y, multilabel, fitting, incremental, classes, name):
        """Check targets against the classes (or labels) of the fitted model."""
        fitted_multilabel = self._target_type == "multilabel-indicator"
        if multilabel != fitted_multilabel or (
            multilabel and y.shape[1] != len(self.classes_)
        ):
            labels = f" with {len(self.classes_)} labels" if fitted_multilabel else ""
            kind = "multilabel" if multilabel else "class"
            raise ValueError(
                f"{name} has shape {np.shape(y)} ({kind} targets), but the model is "
                f"fitted on {self._target_type} targets{labels}."
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
        if multilabel:
            values = set(np.unique(y).tolist())
            if not values <= set(np.asarray(self._label_values).tolist()):
                raise ValueError(
                    f"{name} codes its labels with {sorted(values)}, but the model "
                    f"was fitted with {np.asarray(self._label_values).tolist()}."
                )
            return
        labels = np.unique(y)
        if (
            fitting
            and self.warm_start
            and not incremental
            and not np.array_equal(labels, self.classes_)
        ):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as "
                f"in the previous call to fit. Previously got {self.classes_}, `y` "
                f"has {labels}"
            )
        self._check_known(labels)

    def _check_known(self, labels):
        """Raise if ``labels`` holds a class the model does not know."""
        if len(np.setdiff1d(labels, self.classes_)):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {np.unique(labels)}."
            )


def _label_coding(Y):
    """The two values a multilabel indicator matrix uses: (absent, present)."""
    values = np.unique(Y)
    if set(values.tolist()) <= {0, 1}:
        return (np.asarray(0, values.dtype)[()], np.asarray(1, values.dtype)[()])
    if len(values) == 2:
        return values[0], values[1]
    raise ValueError(
        f"A multilabel indicator matrix needs two values (absent, present), but y "
        f"holds only {values[0]!r}: it is ambiguous whether it means absent or "
        "present. Code the labels with 0 and 1."
    )
