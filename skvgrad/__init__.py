"""skvgrad: scikit-learn MLP estimators trained by their own autodiff engine."""

import functools

from skvgrad.classifier import MLPAutogradClassifier
from skvgrad.regressor import MLPAutogradRegressor
from skvgrad.tabular import TabularMLPClassifier, TabularMLPRegressor

__all__ = [
    "MLPAutogradClassifier",
    "MLPAutogradRegressor",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
]
# The one place the version is written: pyproject.toml reads it from here into
# the package metadata, and the documentation shows it.
__version__ = "0.1.0"


@functools.cache
def _api_page_template():
    """Address template of an estimator's API page, or "" without a docs site.

    The site is the "Documentation" project URL of the installed package's
    metadata (``[project.urls]`` in pyproject.toml); scikit-learn's HTML repr
    links each estimator to its page with it.
    """
    from importlib import metadata

    try:
        urls = metadata.metadata("skvgrad").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:  # run from a checkout, not installed
        return ""
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation":
            return url.strip().rstrip("/") + "/generated/skvgrad.{estimator_name}.html"
    return ""
