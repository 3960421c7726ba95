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
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "sphinxext"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- API reference: autosummary pages from the numpydoc docstrings ------------
autosummary_generate = True
# A module's members are the names in its __all__ when it has one, so new
# engine functions appear in the reference without editing these pages.
autosummary_ignore_module_all = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

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
    "show_memory": False,
    "min_reported_time": 1,
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


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Document a class's own methods and get/set_params, none else of sklearn's.

    The docstrings of scikit-learn's other methods (``score``,
    ``set_fit_request``, ...) refer to pages of scikit-learn's documentation.
    """
    if what != "class" or skip:
        return None  # autodoc's own decision
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("skvgrad") or name in ("get_params", "set_params"):
        return None
    return True


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
