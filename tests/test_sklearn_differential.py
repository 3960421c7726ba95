"""Differential test: skvgrad's estimators against scikit-learn's MLPs.

Hypothesis draws a configuration (the parameters, the kind of data: binary,
multiclass, multilabel or sparse multilabel targets, one or two regression
outputs, float64, float32, sparse or pandas X, with or without sample weights)
and a sequence of calls (fit, partial_fit on all or part of the data,
set_params between them, and calls that must fail), and runs it step by step
on ``MLPAutogradClassifier`` and ``MLPClassifier`` (``MLPAutogradRegressor``
and ``MLPRegressor``):

* where scikit-learn's call succeeds, skvgrad's gives the same result: with
  ``sgd`` and ``adam`` in float64 the same ``loss_curve_``, weights and
  predictions to a relative 1e-9; in float32 and with ``lbfgs`` (whose line
  search amplifies rounding) to looser tolerances;
* where scikit-learn's call raises, skvgrad's raises an error of its own (not
  from inside NumPy) or does what the README's comparison table says it does;
* a call of skvgrad's that raises leaves the model bitwise unchanged.

Every difference the test lets through is one of ``DOCUMENTED``, each the
first words of a row of the README's comparison table (checked below). For
what scikit-learn does not have (class weights, the huber, quantile and
callable losses, dropout, validation data of one's own) the test asserts
invariants instead.

CI runs a bounded number of examples, derandomized (the same ones every
run). ``SKVGRAD_HYPOTHESIS_PROFILE=long`` runs many more, freshly drawn.
"""

import contextlib
import copy
import math
import os
import pickle
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.class_weight import compute_sample_weight

import skvgrad
from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor, engine

# Hypothesis's report of a failing example imports libcst, which warns on
# import; with every warning an error, the report itself would fail.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401

PROFILE = os.environ.get("SKVGRAD_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    raise ValueError(f"SKVGRAD_HYPOTHESIS_PROFILE is 'ci' or 'long', not {PROFILE!r}")


def note(text):
    """Count ``text`` in hypothesis's statistics (when run by hypothesis)."""
    if currently_in_test_context():
        event(text)


def examples(ci, long):
    """Hypothesis settings: ``ci`` examples (always the same), or ``long``."""
    return settings(
        max_examples=ci if PROFILE == "ci" else long,
        derandomize=PROFILE == "ci",
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ROOT = Path(__file__).resolve().parents[1]
SKVGRAD_DIR = str(Path(skvgrad.__file__).parent)
SKLEARN_DIR = str(Path(sklearn.__file__).parent)
PEERS = {"classifier": MLPClassifier, "regressor": MLPRegressor}
OURS = {"classifier": MLPAutogradClassifier, "regressor": MLPAutogradRegressor}

# The differences the test accepts, each the opening words of a row of the
# README's comparison table (the first cell after "| ").
DOCUMENTED = {
    "diverged": "A fit that diverges",
    "lbfgs_partial_fit": '`partial_fit` with `solver="lbfgs"`',
    "solver_change": "`partial_fit` after `set_params(solver=...)`",
    "loss_change": "`warm_start` or `partial_fit` after changing `loss`",
    "layers_change": "`warm_start` or `partial_fit` after changing `hidden_layer",
    "early_stopping_switch": "`early_stopping` changed between fits",
    "warm_early_stopping": "`warm_start` with `early_stopping`",
    "lbfgs_curve": "`loss_curve_`",
    "weighted_curve": "`loss_curve_`",
    "float32_lbfgs": "float32 data",
    "poisson_start": "`poisson`'s start",
    "multi_output_lbfgs": "`lbfgs` with several outputs",
    "binary_proba": "Binary `predict_proba`",
    "multilabel_partial_fit": "`partial_fit`'s first call on multilabel targets",
    "bad_input": "Bad input",
    "zero_weight_batch": "A mini-batch whose sample weights are all zero",
    "warm_partial_fit": "`partial_fit` with `warm_start=True`",
    "clipped_log_loss": "The reported log-loss",
}


def test_every_documented_difference_is_a_row_of_the_readme():
    rows = [
        line[2:]
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| ")
    ]
    for key, opening in DOCUMENTED.items():
        assert any(row.startswith(opening) for row in rows), (key, opening)


# Data -------------------------------------------------------------------------------


def make_data(task, target, x_kind, weights, n, n_features, seed):
    """Training data, a probe for predictions, and its sample weights (or None)."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n + 15, n_features))
    if task == "classifier":
        if target in ("multilabel", "sparse-multilabel"):
            Y = (rng.uniform(size=(n, 3)) < 0.5).astype(np.int64)
            Y[:2] = [[0, 1, 0], [1, 0, 1]]  # each label takes both values
            y = sp.csr_matrix(Y) if target == "sparse-multilabel" else Y
        else:
            y = rng.permutation(np.arange(n) % (2 if target == "binary" else 3))
    else:
        coef = rng.standard_normal((n_features, 2 if target == "multi" else 1))
        y = X[:n] @ coef + 0.1 * rng.standard_normal((n, coef.shape[1]))
        y = y if target == "multi" else y.ravel()
        if target == "counts":
            y = rng.poisson(np.exp(0.5 * np.tanh(y))).astype(float)
    if x_kind == "sparse":
        X[np.abs(X) < 0.7] = 0.0
    X = X.astype(np.float32) if x_kind == "float32" else X
    X_train, X_probe = X[:n], X[n:]
    if x_kind == "sparse":
        X_train, X_probe = sp.csr_matrix(X_train), sp.csr_matrix(X_probe)
    elif x_kind == "pandas":
        pd = pytest.importorskip("pandas")
        columns = [f"x{i}" for i in range(n_features)]
        X_train = pd.DataFrame(X_train, columns=columns)
        X_probe = pd.DataFrame(X_probe, columns=columns)
    sample_weight = None
    if weights == "float":
        sample_weight = rng.uniform(0.2, 3.0, n)
    elif weights == "int":
        sample_weight = rng.randint(0, 4, n).astype(float)
        sample_weight[0] = 1.0
    return X_train, y, X_probe, sample_weight


def rows(data, part):
    """The rows of the training data a call uses: all, or one half."""
    X, y, _, w = data
    n = X.shape[0]
    index = {"all": slice(None), "head": slice(0, n // 2), "tail": slice(n // 2, n)}
    take = index[part]
    X_part = X.iloc[take] if hasattr(X, "iloc") else X[take]
    return X_part, y[take], None if w is None else w[take]


def with_nan(X):
    if hasattr(X, "iloc"):
        X = X.copy()
        X.iloc[1, 0] = np.nan
        return X
    X = X.copy()
    if sp.issparse(X):
        X.data[0] = np.nan
    else:
        X[1, 0] = np.nan
    return X


def fewer_features(X):
    if hasattr(X, "iloc"):
        return X.iloc[:, :-1] if X.shape[1] > 1 else X.assign(extra=1.0)
    if X.shape[1] > 1:
        return X[:, :-1]
    return sp.hstack([X, X]).tocsr() if sp.issparse(X) else np.hstack([X, X])


# Configurations and call sequences -----------------------------------------------


def parameters(task):
    """Hypothesis: the parameters both estimators are built with."""
    params = {
        "solver": st.sampled_from(["adam", "sgd", "lbfgs"]),
        "hidden_layer_sizes": st.sampled_from([(3,), (5,), (4, 3)]),
        "activation": st.sampled_from(["identity", "logistic", "tanh", "relu"]),
        "alpha": st.sampled_from([0.0, 1e-4, 0.1]),
        "batch_size": st.sampled_from(["auto", "auto", 7, 16]),
        "learning_rate": st.sampled_from(["constant", "invscaling", "adaptive"]),
        "learning_rate_init": st.sampled_from([1e-3, 1e-2, 0.1]),
        "power_t": st.sampled_from([0.5, 0.25]),
        "max_iter": st.integers(1, 8),
        "shuffle": st.booleans(),
        "random_state": st.integers(0, 2**16),
        "tol": st.sampled_from([1e-4, 1e-2, 0.0]),
        "warm_start": st.booleans(),
        "momentum": st.sampled_from([0.0, 0.5, 0.9]),
        "nesterovs_momentum": st.booleans(),
        "early_stopping": st.sampled_from([False, False, True]),
        "validation_fraction": st.sampled_from([0.2, 0.3]),
        "beta_1": st.sampled_from([0.9, 0.5]),
        "beta_2": st.sampled_from([0.999, 0.9]),
        "epsilon": st.sampled_from([1e-8, 1e-3]),
        "n_iter_no_change": st.sampled_from([1, 2, 10]),
        "max_fun": st.sampled_from([15000, 15000, 8]),
    }
    return st.fixed_dictionaries(params)


def steps(task):
    """Hypothesis: one call (or a change of parameters) of a sequence."""
    changes = {
        "warm_start": st.booleans(),
        "max_iter": st.integers(1, 6),
        "learning_rate_init": st.sampled_from([1e-3, 0.05]),
        "alpha": st.sampled_from([0.0, 1e-3]),
        "solver": st.sampled_from(["adam", "sgd", "lbfgs"]),
        "early_stopping": st.booleans(),
        "batch_size": st.sampled_from(["auto", 5]),
        "hidden_layer_sizes": st.sampled_from([(3,), (5,), (4, 3)]),
        "activation": st.sampled_from(["tanh", "relu"]),
        "shuffle": st.booleans(),
        "n_iter_no_change": st.sampled_from([1, 10]),
    }
    if task == "regressor":
        changes["loss"] = st.sampled_from(["squared_error", "poisson"])
    set_params = st.sampled_from(sorted(changes)).flatmap(
        lambda name: changes[name].map(lambda value: ("set_params", {name: value}))
    )
    return st.one_of(
        st.sampled_from(
            [
                ("fit", "all"),
                ("fit", "all"),
                ("fit", "head"),
                ("partial_fit", "all"),
                ("partial_fit", "head"),
                ("partial_fit", "tail"),
                # Calls that fail in both.
                ("fit", "nan"),
                ("fit", "fewer_features"),
                ("partial_fit", "fewer_features"),
                ("predict", "fewer_features"),
            ]
        ),
        set_params,
    )


@st.composite
def scenarios(draw, task):
    targets = {
        "classifier": ["binary", "multiclass", "multilabel", "sparse-multilabel"],
        "regressor": ["single", "multi", "counts"],
    }[task]
    target = draw(st.sampled_from(targets))
    params = draw(parameters(task))
    if task == "regressor" and target == "counts":
        params["loss"] = draw(st.sampled_from(["poisson", "squared_error"]))
    data = dict(
        target=target,
        x_kind=draw(st.sampled_from(["dense", "dense", "float32", "sparse", "pandas"])),
        weights=draw(st.sampled_from([None, None, "float", "int"])),
        n=draw(st.integers(24, 60)),
        n_features=draw(st.integers(1, 4)),
        seed=draw(st.integers(0, 2**16)),
    )
    calls = draw(st.lists(steps(task), min_size=1, max_size=5))
    return params, data, calls


# Running a step on both --------------------------------------------------------------


def inputs(step, data):
    """The X, y, sample weights and probe X of a call."""
    method, arg = step
    X, y, X_probe, w = data
    if arg == "nan":
        X = with_nan(X)
    elif arg == "fewer_features":
        X, X_probe = fewer_features(X), fewer_features(X_probe)
    else:
        X, y, w = rows(data, arg)
    return X, y, w, X_probe


def call(est, step, data, task, peer):
    """Run one step on ``est``; return the exception it raised, or None.

    A peer's warnings are ignored; skvgrad's fail the call (pytest makes them
    errors), except the convergence and batch-size warnings both give.
    """
    method, arg = step
    X, y, w, X_probe = inputs(step, data)
    kwargs = {} if w is None else {"sample_weight": w}
    if method == "partial_fit" and task == "classifier":
        multilabel = y.ndim == 2
        kwargs["classes"] = np.arange(3) if multilabel else np.unique(data[1])
    try:
        with warnings.catch_warnings():
            if peer:
                warnings.simplefilter("ignore")
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message=".*batch_size.*clipped")
            if method == "predict":
                est.predict(X_probe)
            else:
                getattr(est, method)(X, y, **kwargs)
    except Exception as exc:  # noqa: BLE001 (every exception is compared)
        return exc
    return None


def assert_clear(exc):
    """skvgrad's error is raised by skvgrad or scikit-learn, not inside NumPy."""
    assert isinstance(exc, (ValueError, TypeError, AttributeError)), repr(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    origin = frames[-1].filename if frames else ""
    assert origin.startswith((SKVGRAD_DIR, SKLEARN_DIR)), (
        f"{type(exc).__name__}({exc}) raised inside {origin}"
    )


def state(est):
    """Every attribute of ``est``, pickled: a bitwise fingerprint."""
    return {key: pickle.dumps(value) for key, value in vars(est).items()}


def documented_refusal(exc, theirs, task, differs_by):
    """Why skvgrad may raise where scikit-learn's call succeeded, or None.

    ``differs_by`` names a documented difference that made the two models
    differ before the call: then one of them may diverge and not the other.
    """
    message = str(exc)
    diverged = isinstance(exc, ValueError) and "Training diverged" in message
    if diverged and differs_by is not None:
        return differs_by
    if "output layer" in message and "cannot change" in message:
        return "loss_change"
    if "layers do not match" in message:
        return "layers_change"  # MLP* keeps training the old layers
    if "needs non-negative targets" in message:
        return "bad_input"  # MLPRegressor's poisson loss trains to NaN
    if task == "regressor" and "only available for stochastic" in message:
        return "lbfgs_partial_fit"
    weights = getattr(theirs, "coefs_", []) + getattr(theirs, "intercepts_", [])
    loss = getattr(theirs, "loss_", 0.0)
    finite = all(np.isfinite(p).all() for p in weights) and np.isfinite(loss)
    if isinstance(exc, ValueError) and not finite:
        return "diverged"  # MLP* returns NaN weights, skvgrad names the cause
    return None


def documented_success(exc, method, multilabel, differs_by):
    """Why skvgrad's call may succeed where scikit-learn's raised, or None.

    ``differs_by``: see :func:`documented_refusal`.
    """
    message = str(exc)
    if method == "partial_fit" and "warm_start can only be used" in message:
        return "warm_partial_fit"  # MLPClassifier checks fit's rule in partial_fit
    if "non-finite parameter weights" in message and differs_by is not None:
        return differs_by
    if isinstance(exc, TypeError) and "'NoneType' and 'float'" in message:
        return "early_stopping_switch"  # best_loss_ is None after early stopping
    if isinstance(exc, AttributeError) and "'NoneType' object has no" in message:
        return "early_stopping_switch"  # validation_scores_ is None without it
    if isinstance(exc, AttributeError) and "loss_curve_" in message:
        return "lbfgs_curve"  # MLP*'s lbfgs leaves no loss_curve_ to extend
    if isinstance(exc, ZeroDivisionError) and "Weights sum to zero" in message:
        return "zero_weight_batch"  # MLP* divides by the batch's weights
    if isinstance(exc, ValueError) and "classes must be passed" in message:
        return "multilabel_partial_fit" if multilabel else None
    return None


def compare(ours, theirs, X_probe, task, exactness, history):
    """The fitted models agree: attributes, weights and predictions."""
    if not hasattr(theirs, "coefs_"):
        assert not hasattr(ours, "coefs_")
        return
    for name in ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    if hasattr(theirs, "feature_names_in_"):
        assert_array_equal(ours.feature_names_in_, theirs.feature_names_in_)
    if task == "classifier":
        assert_array_equal(ours.classes_, theirs.classes_)
    assert all(np.isfinite(p).all() for p in ours.coefs_ + ours.intercepts_)
    assert np.isfinite(ours.loss_) and ours.n_iter_ <= ours.max_iter
    if ours.n_iter_:  # the last entry of the curve is this call's loss
        assert ours.loss_curve_[-1] == pytest.approx(ours.loss_, rel=1e-9)
    if exactness is None:
        return
    rtol, atol = exactness
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    if not history["lbfgs_seen"]:
        assert ours.t_ == theirs.t_
        assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol)
        if theirs.best_loss_ is None:
            assert ours.best_loss_ is None
        else:
            assert_allclose(ours.best_loss_, theirs.best_loss_, rtol=rtol)
        if theirs.validation_scores_ is None:
            assert ours.validation_scores_ is None
        else:
            assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol)
            assert_allclose(
                ours.best_validation_score_, theirs.best_validation_score_, rtol
            )
    for p, q in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        assert p.shape == q.shape
        assert_allclose(p, q, rtol=rtol, atol=atol)
    if task == "regressor":
        assert_allclose(ours.predict(X_probe), theirs.predict(X_probe), rtol, atol)
        return
    proba, their_proba = ours.predict_proba(X_probe), theirs.predict_proba(X_probe)
    # MLPClassifier's binary first column is 1 - p: within eps of ours
    # ("binary_proba"), and its log loses the precision of small values.
    eps = np.finfo(ours.coefs_[0].dtype).eps
    assert_allclose(proba, their_proba, rtol, atol + eps)
    log_proba = ours.predict_log_proba(X_probe)
    assert np.isfinite(log_proba).all()
    reliable = their_proba > 1e-6
    with np.errstate(divide="ignore"):
        their_log = np.log(their_proba)
    assert_allclose(log_proba[reliable], their_log[reliable], rtol, 1e3 * atol)
    predicted, their_predicted = ours.predict(X_probe), theirs.predict(X_probe)
    if sp.issparse(their_predicted):
        assert sp.issparse(predicted)
        predicted, their_predicted = predicted.toarray(), their_predicted.toarray()
    if ours.out_activation_ == "softmax":
        top_two = np.sort(their_proba, axis=1)[:, -2:]
        margin = top_two[:, 1] - top_two[:, 0]
    else:  # every probability against 0.5
        margin = np.abs(their_proba - 0.5).min(axis=1)
    decided = margin > 1e3 * (rtol + atol + eps)
    assert_array_equal(predicted[decided], their_predicted[decided])


def true_label_probability(model, X, y):
    """The smallest probability ``model`` gives a training label."""
    proba = model.predict_proba(X)
    if sp.issparse(y):
        y = y.toarray()
    if y.ndim == 2:  # each label: p where present, 1 - p where absent
        return np.where(y == 1, proba, 1 - proba).min()
    return proba[np.arange(len(y)), np.searchsorted(model.classes_, y)].min()


def exactness_of(ours, task, x_kind, history):
    """The tolerances the models agree to, or None where they may differ."""
    if history["differs_by"] is not None:
        return None
    if task == "regressor" and ours.loss == "poisson":
        return None  # "poisson_start": the output intercepts start elsewhere
    if history["lbfgs_seen"]:
        if task == "regressor" and ours.n_outputs_ > 1:
            return None  # "multi_output_lbfgs"
        if x_kind == "float32":
            return None  # "float32_lbfgs": MLP*'s lbfgs weights are float64
        if history["lbfgs_iterations"] > 6 or history["lbfgs_kinked"]:
            # The line searches amplify rounding of 1e-16, and relu's kinks
            # turn it into another path.
            return None
        return (1e-5, 1e-8)
    if x_kind == "float32":
        return (1e-4, 1e-5)
    return (1e-9, 1e-12)


def fresh_history(multilabel):
    return {
        "multilabel": multilabel,
        "lbfgs_seen": False,  # MLP*'s lbfgs keeps no loss_curve_ or best_loss_
        "lbfgs_iterations": 0,
        "lbfgs_kinked": False,  # an lbfgs fit of a relu network
        "differs_by": None,  # a documented difference that changed the models
        "last_solver": None,  # of the last training call
        "early_stopped_fit": False,
        "probe": None,
    }


def run(task, scenario):
    """Run the scenario on both estimators, comparing them after every step."""
    params, data_kind, calls = scenario
    data = make_data(task, **data_kind)
    multilabel = task == "classifier" and data[1].ndim == 2
    ours, theirs = OURS[task](**params), PEERS[task](**params)
    history = fresh_history(multilabel)
    for step in calls:
        method, arg = step
        if method == "set_params":
            ours.set_params(**arg)
            theirs.set_params(**arg)
            continue
        solver = ours.solver
        if method == "fit" and not ours.warm_start:
            history = fresh_history(multilabel)  # a new model
        elif method == "partial_fit" and history["last_solver"] not in (None, solver):
            history["differs_by"] = "solver_change"  # MLP* keeps its optimizer
        elif (
            method == "fit"
            and ours.early_stopping
            and history["early_stopped_fit"]
            and solver != "lbfgs"
        ):
            history["differs_by"] = "warm_early_stopping"  # MLP* keeps its best
        if (
            data[3] is not None
            and ours.batch_size != "auto"
            and solver != "lbfgs"
            and method != "predict"
        ):
            history["differs_by"] = "weighted_curve"  # MLP* weighs batches by size
        differs_by = history["differs_by"]
        if task == "regressor" and ours.loss == "poisson":
            differs_by = "poisson_start"  # the output intercepts start elsewhere
        before, saved = state(ours), copy.deepcopy(theirs)
        their_exc = call(theirs, step, data, task, peer=True)
        our_exc = call(ours, step, data, task, peer=False)
        if our_exc is not None:
            assert_clear(our_exc)
            assert state(ours) == before, "a failed call changed the model"
        if their_exc is not None:
            note(f"{method} raised {type(their_exc).__name__} in scikit-learn")
            theirs = saved  # scikit-learn's failed call may have changed it
            if our_exc is None:
                reason = documented_success(their_exc, method, multilabel, differs_by)
                assert reason in DOCUMENTED, (
                    f"{type(their_exc).__name__}({their_exc}) from scikit-learn, "
                    f"but skvgrad's {method} succeeded"
                )
                return reason
            continue
        if our_exc is not None:
            reason = documented_refusal(our_exc, theirs, task, differs_by)
            assert reason in DOCUMENTED, (
                f"scikit-learn's {method} succeeded, skvgrad raised "
                f"{type(our_exc).__name__}({our_exc})"
            )
            return reason
        if method == "predict":
            continue
        # Both trained: what the call did to the comparison.
        X, y = inputs(step, data)[:2]
        if task == "classifier":
            eps = np.finfo(ours.coefs_[0].dtype).eps
            models = [ours]
            if (method == "partial_fit" or ours.warm_start) and hasattr(
                saved, "coefs_"
            ):
                models.append(saved)  # the model the call started from
            if min(true_label_probability(m, X, y) for m in models) < 1e3 * eps:
                # MLPClassifier clips the probabilities at eps in the log-loss
                # it reports (and stops on): its loss_ is smaller.
                history["differs_by"] = "clipped_log_loss"
        history["last_solver"] = solver
        history["probe"] = inputs(step, data)[3]
        if solver == "lbfgs":
            history["lbfgs_seen"] = True
            history["lbfgs_iterations"] += theirs.n_iter_
            history["lbfgs_kinked"] |= ours.activation == "relu"
        if method == "fit":
            history["early_stopped_fit"] = ours.early_stopping and solver != "lbfgs"
        exactness = exactness_of(ours, task, data_kind["x_kind"], history)
        note(f"compared {method} ({'no numbers' if exactness is None else exactness})")
        compare(ours, theirs, history["probe"], task, exactness, history)
    return history["differs_by"] or "agreed"


@examples(ci=200, long=10_000)
@given(scenario=scenarios("classifier"))
def test_classifier_follows_mlpclassifier(scenario):
    note(f"ended: {run('classifier', scenario)}")


@examples(ci=200, long=10_000)
@given(scenario=scenarios("regressor"))
def test_regressor_follows_mlpregressor(scenario):
    note(f"ended: {run('regressor', scenario)}")


def found(**changes):
    """The parameters of an example the long profile found: defaults but these."""
    return {
        "solver": "adam",
        "hidden_layer_sizes": (3,),
        "activation": "identity",
        "alpha": 0.0,
        "batch_size": "auto",
        "learning_rate": "constant",
        "learning_rate_init": 0.001,
        "power_t": 0.5,
        "max_iter": 1,
        "shuffle": False,
        "random_state": 0,
        "tol": 1e-4,
        "warm_start": False,
        "momentum": 0.0,
        "nesterovs_momentum": False,
        "early_stopping": False,
        "validation_fraction": 0.2,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
        "n_iter_no_change": 1,
        "max_fun": 15000,
        **changes,
    }


def data_kind(target, x_kind="dense", weights=None, n=24, n_features=2, seed=0):
    return dict(
        target=target, x_kind=x_kind, weights=weights, n=n, n_features=n_features,
        seed=seed,
    )  # fmt: skip


# The examples the long profile found, each ending as the README says.
FOUND = {
    "zero-weight-batch": (
        "classifier",
        (
            found(),
            data_kind("binary", weights="int"),
            [("set_params", {"batch_size": 5}), ("partial_fit", "tail")],
        ),
        "zero_weight_batch",
    ),
    "zero-weight-batch-regressor": (
        "regressor",
        (
            found(early_stopping=True, loss="poisson", random_state=1),
            data_kind("counts", weights="int", n=33, seed=59),
            [("set_params", {"batch_size": 5}), ("fit", "all")],
        ),
        "zero_weight_batch",
    ),
    "partial-fit-under-warm-start": (
        "classifier",
        (
            found(warm_start=True),
            data_kind("multiclass", n_features=1, seed=189),
            [("partial_fit", "tail")],
        ),
        "warm_partial_fit",
    ),
    "float32-log-loss-clipped": (
        "classifier",
        (
            found(hidden_layer_sizes=(4, 3), random_state=4473),
            data_kind("multiclass", x_kind="float32", n=53, seed=45),
            [("fit", "fewer_features")],
        ),
        "clipped_log_loss",
    ),
    "poisson-diverges-in-skvgrad": (
        "regressor",
        (
            found(
                solver="sgd",
                hidden_layer_sizes=(5,),
                learning_rate_init=0.1,
                max_iter=2,
                random_state=29235,
                early_stopping=True,
                loss="poisson",
            ),
            data_kind("counts"),
            [("fit", "all")],
        ),
        "poisson_start",
    ),
    "poisson-diverges-in-mlpregressor": (
        "regressor",
        (
            found(
                solver="sgd",
                learning_rate_init=0.01,
                batch_size=7,
                random_state=21908,
                loss="poisson",
            ),
            data_kind("counts", n_features=4),
            [("fit", "fewer_features")],
        ),
        "poisson_start",
    ),
    "lbfgs-relu-warm-start": (
        "classifier",
        (
            found(
                solver="lbfgs",
                hidden_layer_sizes=(4, 3),
                activation="relu",
                max_iter=2,
                random_state=1684,
                warm_start=True,
            ),
            data_kind("multilabel", weights="int", n_features=1, seed=29),
            [("fit", "head"), ("fit", "head")],
        ),
        "agreed",  # lbfgs on a relu network: compared without numbers
    ),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_the_differences_found_stay_documented(name):
    task, scenario, outcome = FOUND[name]
    assert run(task, scenario) == outcome


# Invariants of what scikit-learn's MLPs do not have ------------------------------


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def assert_same_weights(a, b, rtol=0.0, atol=0.0):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        if rtol == atol == 0.0:
            assert_array_equal(p, q, strict=True)
        else:
            assert_allclose(p, q, rtol=rtol, atol=atol)


def half_squared_error(raw, y):
    """The squared_error loss written by hand: one value per sample."""
    return 0.5 * ((raw - y) ** 2).sum(axis=1)


def logistic_log_loss(raw, Y):
    """The binary (multilabel) log-loss written by hand."""
    return (engine.softplus(raw) - Y * raw).sum(axis=1)


def softmax_log_loss(raw, Y):
    """The multinomial log-loss written by hand."""
    return -(Y * engine.log_softmax(raw, axis=1)).sum(axis=1)


@st.composite
def small_fits(draw, task, solvers=("adam", "sgd", "lbfgs")):
    """A configuration and data for one of our estimators (float64, dense)."""
    target = draw(
        st.sampled_from(
            ["binary", "multiclass", "multilabel"]
            if task == "classifier"
            else ["single", "multi"]
        )
    )
    params = dict(
        solver=draw(st.sampled_from(solvers)),
        hidden_layer_sizes=draw(st.sampled_from([(3,), (5,), (4, 3)])),
        activation=draw(st.sampled_from(["tanh", "relu", "logistic", "gelu"])),
        alpha=draw(st.sampled_from([0.0, 1e-4, 0.1])),
        learning_rate_init=draw(st.sampled_from([1e-3, 1e-2])),
        max_iter=draw(st.integers(1, 6)),
        shuffle=draw(st.booleans()),
        random_state=draw(st.integers(0, 2**16)),
    )
    if task == "regressor":
        params["loss"] = draw(
            st.sampled_from(["squared_error", "huber", "quantile", "poisson"])
        )
        if params["loss"] == "poisson":
            target = "counts"
    data = make_data(
        task,
        target,
        "dense",
        None,
        n=draw(st.integers(20, 50)),
        n_features=draw(st.integers(1, 4)),
        seed=draw(st.integers(0, 2**16)),
    )
    return params, data


@examples(ci=30, long=3000)
@given(task=st.sampled_from(["classifier", "regressor"]), data=st.data())
def test_integer_sample_weights_equal_repeated_rows(task, data):
    params, (X, y, _, _) = data.draw(small_fits(task))
    rng = np.random.RandomState(params["random_state"])
    weights = rng.randint(0, 4, len(X))
    weights[:4] = np.maximum(weights[:4], 1)  # rows whose classes and labels vary
    if task == "classifier" and y.ndim == 1:
        for label in np.unique(y):  # every class keeps a row
            weights[np.flatnonzero(y == label)[0]] = 1
    repeated = np.repeat(np.arange(len(X)), weights)
    # One batch for both (batch_size="auto" is min(200, n)), so that only the
    # order of the sums differs.
    weighted = quiet_fit(OURS[task](**params), X, y, sample_weight=weights)
    copies = quiet_fit(OURS[task](**params), X[repeated], y[repeated])
    iterations = min(weighted.n_iter_, copies.n_iter_)
    rtol = 1e-4 if params["solver"] == "lbfgs" else 1e-7
    if params["solver"] == "lbfgs" and iterations > 3:
        assert_allclose(weighted.loss_, copies.loss_, rtol=1e-3)
    else:
        assert weighted.n_iter_ == copies.n_iter_
        assert_same_weights(weighted, copies, rtol=rtol, atol=rtol * 1e-2)


@examples(ci=25, long=2000)
@given(
    params_data=small_fits("classifier"),
    weighted=st.booleans(),
    form=st.sampled_from(["dict", "balanced"]),
)
def test_class_weight_equals_the_matching_sample_weights(params_data, weighted, form):
    params, (X, y, _, _) = params_data
    rng = np.random.RandomState(params["random_state"])
    sample_weight = rng.uniform(0.5, 2.0, len(X)) if weighted else None
    if form == "balanced":
        class_weight = "balanced"
        sample_weight = None  # "balanced" counts the weighted frequencies
        per_sample = compute_sample_weight("balanced", y)
    elif y.ndim == 2:  # a list of one dict per label
        class_weight = [{0: 1.0, 1: w} for w in rng.uniform(0.2, 5.0, y.shape[1])]
        per_sample = compute_sample_weight(class_weight, y)
    else:
        class_weight = {c: w for c, w in zip(np.unique(y), rng.uniform(0.2, 5.0, 3))}
        per_sample = compute_sample_weight(class_weight, y)
    by_class = quiet_fit(
        MLPAutogradClassifier(class_weight=class_weight, **params),
        X,
        y,
        sample_weight=sample_weight,
    )
    expected = per_sample if sample_weight is None else sample_weight * per_sample
    by_sample = quiet_fit(MLPAutogradClassifier(**params), X, y, sample_weight=expected)
    if form == "balanced":  # the same weights, computed in another order
        assert_same_weights(by_class, by_sample, rtol=1e-9, atol=1e-12)
    else:
        assert_same_weights(by_class, by_sample)


@examples(ci=15, long=1500)
@given(
    quantile=st.floats(0.05, 0.95),
    distribution=st.sampled_from(["normal", "exponential", "uniform"]),
    n=st.integers(100, 400),
    seed=st.integers(0, 2**16),
)
def test_quantile_loss_fits_the_quantile_of_a_known_distribution(
    quantile, distribution, n, seed
):
    import scipy.stats

    law = {
        "normal": scipy.stats.norm(),
        "exponential": scipy.stats.expon(),
        "uniform": scipy.stats.uniform(),
    }[distribution]
    y = law.rvs(size=n, random_state=np.random.RandomState(seed))
    X = np.zeros((n, 1))  # nothing to learn but the distribution of y
    est = quiet_fit(
        MLPAutogradRegressor(
            loss="quantile",
            quantile=quantile,
            hidden_layer_sizes=(3,),
            solver="lbfgs",
            alpha=0.0,
            max_iter=500,
            random_state=seed,
        ),
        X,
        y,
    )
    [prediction] = est.predict(X[:1])
    # The minimiser of the pinball loss: an empirical quantile of y...
    assert abs(np.mean(y <= prediction) - quantile) <= 1.5 / n

    # ...whose pinball loss is the least any constant reaches (the sample's
    # own quantiles are among the minimisers)...
    def pinball(c):
        return np.mean(np.maximum(quantile * (y - c), (quantile - 1) * (y - c)))

    best = pinball(np.quantile(y, quantile, method="inverted_cdf"))
    assert pinball(prediction) <= best * (1 + 1e-4)  # L-BFGS on a kink
    # ...and near the distribution's (six standard errors: a sample drawn far
    # in the tail of its law is not the model's error).
    true = law.ppf(quantile)
    error = math.sqrt(quantile * (1 - quantile) / n) / law.pdf(true)
    assert abs(prediction - true) < 6 * error


@examples(ci=25, long=2000)
@given(params_data=small_fits("regressor", solvers=("adam", "sgd")))
def test_huber_with_a_large_delta_trains_as_the_squared_error(params_data):
    params, (X, y, _, _) = params_data
    params = dict(params, loss="squared_error")
    y = y if y.ndim == 2 else y - y.mean()
    squared = quiet_fit(MLPAutogradRegressor(**params), X, y)
    huber = quiet_fit(
        MLPAutogradRegressor(**dict(params, loss="huber", huber_delta=1e6)), X, y
    )
    assert_same_weights(huber, squared, rtol=1e-7, atol=1e-10)


@examples(ci=25, long=2000)
@given(
    task=st.sampled_from(["classifier", "regressor"]),
    data=st.data(),
)
def test_a_callable_loss_trains_as_the_same_builtin(task, data):
    params, (X, y, _, _) = data.draw(small_fits(task, solvers=("adam", "sgd")))
    if task == "regressor":
        params["loss"], y = "squared_error", y - y.mean(axis=0)
        by_hand = half_squared_error
    else:
        by_hand = softmax_log_loss if np.ndim(y) == 1 and y.max() > 1 else None
        by_hand = by_hand or logistic_log_loss
    builtin = quiet_fit(OURS[task](**params), X, y)
    custom = quiet_fit(OURS[task](**dict(params, loss=by_hand)), X, y)
    assert custom.n_iter_ == builtin.n_iter_
    assert_same_weights(custom, builtin, rtol=1e-7, atol=1e-10)


@examples(ci=15, long=1500)
@given(
    task=st.sampled_from(["classifier", "regressor"]),
    rate=st.floats(0.05, 0.6),
    data=st.data(),
)
def test_dropout_is_reproducible_and_off_at_prediction(task, rate, data):
    params, (X, y, X_probe, _) = data.draw(small_fits(task, solvers=("adam", "sgd")))
    first = quiet_fit(OURS[task](dropout=rate, **params), X, y)
    again = quiet_fit(OURS[task](dropout=rate, **params), X, y)
    assert_same_weights(first, again)
    assert_array_equal(first.predict(X_probe), first.predict(X_probe))
    without = quiet_fit(OURS[task](**params), X, y)
    zero = quiet_fit(OURS[task](dropout=0.0, **params), X, y)
    assert_same_weights(zero, without)


@examples(ci=15, long=1500)
@given(
    task=st.sampled_from(["classifier", "regressor"]),
    scoring=st.sampled_from([None, "loss"]),
    data=st.data(),
)
def test_validation_data_of_ones_own_only_watches(task, scoring, data):
    params, (X, y, X_probe, _) = data.draw(small_fits(task, solvers=("adam", "sgd")))
    params = dict(params, scoring=scoring)
    n_val = len(X) // 3
    X_val, y_val, X, y = X[:n_val], y[:n_val], X[n_val:], y[n_val:]
    plain = quiet_fit(OURS[task](**params), X, y)
    watched = quiet_fit(OURS[task](**params), X, y, X_val=X_val, y_val=y_val)
    # Scoring validation data changes nothing in training...
    assert_same_weights(watched, plain)
    assert len(watched.validation_scores_) == watched.n_iter_
    if scoring == "loss":
        assert watched.validation_scores_ == [
            -loss for loss in watched.validation_loss_curve_
        ]
    # ...and with early stopping, the weights kept score the best score.
    stopped = quiet_fit(
        OURS[task](**dict(params, early_stopping=True, n_iter_no_change=2)),
        X,
        y,
        X_val=X_val,
        y_val=y_val,
    )
    assert stopped.best_validation_score_ == max(stopped.validation_scores_)
    best = int(np.argmax(stopped.validation_scores_))
    replay = OURS[task](**dict(params, max_iter=best + 1, n_iter_no_change=np.inf))
    assert_same_weights(stopped, quiet_fit(replay, X, y))
