"""Sphinx configuration of skvgrad's documentation.

Build it with ``python -m sphinx -W -b html docs docs/_build/html``.
"""

import os
import re
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

import skvgrad

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "sphinxext"))

import skvgrad_gallery  # noqa: E402

project = "skvgrad"
author = "the skvgrad developers"
copyright = "the skvgrad developers"
version = release = skvgrad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # the changelog page includes CHANGELOG.md
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "sphinxext"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- Links to scikit-learn, NumPy, SciPy, joblib and dask ---------------------
# Each inventory (the objects.inv that maps a project's names to its pages) is
# a copy kept in docs/_intersphinx, so the build reads no network: it neither
# fails nor waits where the network is slow or absent, and every build links
# the same way. The links go to each project's online documentation. The
# copies come from Debian 13's documentation packages (Python 3.13,
# scikit-learn 1.4, NumPy 2.2, SciPy 1.15, joblib 1.4, dask and distributed
# 2024.12); a name added to a project since then shows as plain text.
# Refresh a copy with, for example, ``curl -o docs/_intersphinx/sklearn.inv
# https://scikit-learn.org/stable/objects.inv``.
INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "sklearn": "https://scikit-learn.org/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "joblib": "https://joblib.readthedocs.io/en/stable/",
    "dask": "https://docs.dask.org/en/stable/",
    "distributed": "https://distributed.dask.org/en/stable/",
}
intersphinx_mapping = {
    name: (url, (str(DOCS / "_intersphinx" / f"{name}.inv"),))
    for name, url in INVENTORIES.items()
}

# -- API reference: autosummary pages from the numpydoc docstrings ------------
autosummary_generate = True
# A module's members are the names in its __all__ when it has one, so new
# engine functions appear in the reference without editing these pages.
autosummary_ignore_module_all = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Types in parameter lists link to their pages ("ndarray", "array-like", ...).
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "array-like": ":term:`array-like <sklearn:array-like>`",
    "sparse matrix": ":term:`sparse matrix <sklearn:sparse matrix>`",
    "RandomState": "numpy.random.RandomState",
    "Tensor": "skvgrad.engine.Tensor",
}
# The class pages' table of methods (see _templates): the methods documented
# on the page (_skip_foreign_member), fit first, then in alphabetical order.
autosummary_context = {"class_methods": {}}  # filled in below

# -- Gallery: every script in examples/, run in its quick mode ---------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every script, not only those named plot_*, except those listed in
    # skvgrad_gallery.NOT_RUN (shown, not run).
    "filename_pattern": skvgrad_gallery.filename_pattern(),
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    # --quick and --output DIR for every example, see sphinxext/skvgrad_gallery.py.
    "reset_argv": "skvgrad_gallery.reset_argv",
    "doc_module": ("skvgrad",),
    "backreferences_dir": "generated/backreferences",
    "abort_on_example_error": True,
    "remove_config_comments": True,
    # Each example's peak memory, for the execution-times page.
    "show_memory": skvgrad_gallery.PeakMemory(),
    "min_reported_time": 1,
    # A cell that ends with an estimator shows its HTML repr, as in a notebook.
    "capture_repr": ("_repr_html_", "__repr__"),
    "reference_url": {"skvgrad": None},
}

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skvgrad {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_context = {"default_mode": "light"}

# The examples run in this process: with a non-interactive matplotlib, and with
# one BLAS thread, on which small networks train fastest (see the Performance
# page of the user guide).
os.environ.setdefault("MPLBACKEND", "Agg")
threadpool_limits(limits=1, user_api="blas")


def _is_documented(name, obj):
    """A class's own members and get/set_params are documented, none else of sklearn's.

    The docstrings of scikit-learn's other methods (``score``,
    ``set_fit_request``, ...) refer to pages of scikit-learn's documentation.
    """
    module = getattr(obj, "__module__", None) or ""
    return module.startswith("skvgrad") or name in ("get_params", "set_params")


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Skip the members of a class that :func:`_is_documented` leaves out."""
    if what != "class" or skip:
        return None  # autodoc's own decision
    return None if _is_documented(name, obj) else True


def _methods_of_public_classes():
    """{class path: its documented public methods, fit first, then alphabetical}."""
    import inspect

    modules = [skvgrad, *(getattr(skvgrad, m) for m in ("engine", "nn", "optim"))]
    methods = {}
    for module in modules:
        for name in getattr(module, "__all__", dir(module)):
            cls = getattr(module, name)
            if not inspect.isclass(cls) or name.startswith("_"):
                continue
            names = sorted(
                member
                for member, value in inspect.getmembers(cls, callable)
                if not member.startswith("_") and _is_documented(member, value)
            )
            if "fit" in names:
                names.remove("fit")
                names.insert(0, "fit")
            methods[f"{module.__name__}.{name}"] = names
    return methods


autosummary_context["class_methods"] = _methods_of_public_classes()


# numpydoc renders a parameter or an attribute as "**name** : type"; a name
# that ends in "_" in the type, as in "ndarray of shape (n_features_in_,)",
# would be read by reStructuredText as a link target.
_TYPE_LINE = re.compile(r"^(\s*\*\*[^*]+\*\* : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_fitted_names_in_types(app, what, name, obj, options, lines):
    """Put names such as ``n_features_in_`` in type specifications in quotes."""
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            head, spec = match.groups()
            lines[i] = head + _TRAILING_UNDERSCORE.sub(r"``\1``", spec)


def setup(app):
    """Send the examples' files into the build folder; tidy up autodoc."""
    skvgrad_gallery.OUTPUT_ROOT = Path(app.outdir).parent / "example_outputs"
    app.connect("autodoc-skip-member", _skip_foreign_member)
    # After numpydoc (priority 500) has turned the sections into these lines.
    app.connect("autodoc-process-docstring", _quote_fitted_names_in_types, 600)
