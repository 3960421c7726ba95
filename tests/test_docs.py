"""The documentation builds with warnings as errors, and its pages are there.

The build is the one the README gives, ``pip install -e ".[docs]" && python -m
sphinx -W -b html docs docs/_build/html``, in a fresh venv with only the
``docs`` extra (see ``conftest.py``), on a copy of the checkout (so the
checkout gets no generated pages, and no earlier build's gallery is reused),
with every web address unreachable (the build must need no network). It runs
every example in its quick mode. The code blocks of the pages run too.
"""

import importlib.util
import os
import re
import subprocess
import sys
import time
import unittest.mock
from pathlib import Path

import numpy as np
import pytest

import skvgrad
from skvgrad import engine

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GENERATED = ("_build", "auto_examples", "generated", "sg_execution_times.rst")
DOCS_COMMAND = "python -m sphinx -W -b html docs docs/_build/html"

for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
    pytest.importorskip(module)


def load_gallery_settings():
    """docs/sphinxext/skvgrad_gallery.py, which says how the gallery runs."""
    path = ROOT / "docs" / "sphinxext" / "skvgrad_gallery.py"
    spec = importlib.util.spec_from_file_location("skvgrad_gallery", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOT_RUN = load_gallery_settings().NOT_RUN


def environment():
    """The environment of a user's shell, with the skvgrad under test."""
    env = dict(os.environ, MPLBACKEND="Agg")
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    package_root = str(Path(skvgrad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [package_root, env.get("PYTHONPATH")] if p
    )
    return env


@pytest.fixture(scope="module")
def build(fresh_venv, source_copy):
    """Build the HTML documentation once; the build folder and its log."""
    venv = fresh_venv("docs")
    start = time.perf_counter()
    # A proxy on a closed port: any attempt to fetch from the web fails at once.
    offline = "http://127.0.0.1:9"
    result = venv.run(
        DOCS_COMMAND.split()[1:],
        cwd=source_copy,
        timeout=900,
        check=False,
        http_proxy=offline,
        https_proxy=offline,
        HTTP_PROXY=offline,
        HTTPS_PROXY=offline,
        no_proxy="",
        NO_PROXY="",
    )
    elapsed = time.perf_counter() - start
    log = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, (
        f"exit code {result.returncode} after {elapsed:.0f} s\n{log}"
    )
    return source_copy / "docs" / "_build", log


def assert_valid_png(path):
    """The file is a PNG image that matplotlib can read, and not a blank one."""
    import matplotlib.image

    assert path.is_file(), f"{path} is missing"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert np.ptp(image) > 0, f"{path} is a blank image"


def test_build_has_no_warnings(build):
    _, log = build
    assert "WARNING" not in log and "ERROR" not in log, log
    assert "build succeeded" in log, log


def test_api_reference(build):
    html = build[0] / "html" / "generated"
    for module in ("skvgrad", "skvgrad.engine", "skvgrad.nn", "skvgrad.optim"):
        assert (html / f"{module}.html").is_file(), module
    # Every public name has a page, the engine's straight from its __all__.
    for name in skvgrad.__all__:
        assert (html / f"skvgrad.{name}.html").is_file(), name
    for name in engine.__all__:
        assert (html / f"skvgrad.engine.{name}.html").is_file(), name
    page = (html / "skvgrad.MLPAutogradClassifier.html").read_text()
    for method in ("fit", "partial_fit", "predict", "predict_proba", "get_params"):
        assert f'id="skvgrad.MLPAutogradClassifier.{method}"' in page, method
    assert "set_fit_request" not in page  # scikit-learn's routing methods


def test_user_guide(build):
    html = build[0] / "html"
    pages = ["index", "install", "api", "user_guide"] + [
        f"user_guide/{p.stem}" for p in (ROOT / "docs" / "user_guide").glob("*.rst")
    ]
    assert len(pages) >= 10
    for page in pages:
        text = (html / f"{page}.html").read_text()
        assert not re.search(r"\bTODO\b|\bFIXME\b|\bXXX\b", text), page
    install = (html / "install.html").read_text()
    assert "python -m sphinx -W -b html docs docs/_build/html" in install
    assert (html / "_images" / "demo.png").is_file()


def test_gallery_shows_every_example_with_a_figure(build):
    build_dir = build[0]
    html = build_dir / "html"
    assert (html / "auto_examples" / "index.html").is_file()
    scripts = sorted((ROOT / "examples").glob("*.py"))
    assert scripts
    assert set(NOT_RUN) <= {script.name for script in scripts}
    for script in scripts:
        page = html / "auto_examples" / f"{script.stem}.html"
        assert page.is_file(), f"no gallery page for {script.name}"
        if script.name in NOT_RUN:
            assert NOT_RUN[script.name], f"no reason why {script.name} is not run"
            continue
        images = re.findall(
            rf'src="\.\./(_images/sphx_glr_{script.stem}_\d+\.png)"', page.read_text()
        )
        assert images, f"no figure on the page of {script.name}"
        for image in images:
            assert_valid_png(html / image)
        # The gallery passed --output: the example's files went into the build.
        outputs = build_dir / "example_outputs" / script.stem
        assert any(outputs.iterdir()), f"{script.name} wrote nothing to {outputs}"


def test_the_readme_gives_this_build_command():
    readme = (ROOT / "README.md").read_text()
    assert f'pip install -e ".[docs]" && {DOCS_COMMAND}' in readme


def test_pages_show_the_version_and_the_changelog(build):
    html = build[0] / "html"
    title = f"skvgrad {skvgrad.__version__}"
    index = (html / "index.html").read_text()
    assert f"<title>{title}" in index and f"<h1>{title}" in index
    changelog = (html / "changelog.html").read_text()
    assert f"[{skvgrad.__version__}]" in changelog and "Keep a Changelog" in changelog


def test_names_of_other_projects_link_to_their_documentation(build):
    html = build[0] / "html"
    page = (html / "user_guide" / "when_to_use.html").read_text()
    for url in (
        "https://scikit-learn.org/stable/modules/generated/"
        "sklearn.neural_network.MLPClassifier.html",
        "https://scikit-learn.org/stable/modules/generated/"
        "sklearn.ensemble.HistGradientBoostingRegressor.html",
    ):
        assert f'href="{url}#' in page, url
    page = (html / "generated" / "skvgrad.MLPAutogradClassifier.html").read_text()
    for url in (
        "https://numpy.org/doc/stable/reference/generated/numpy.ndarray.html",
        "https://scikit-learn.org/stable/glossary.html#term-array-like",
    ):
        assert f'href="{url}' in page, url
    # Every inventory is a file of the checkout: the build reads no network.
    inventories = sorted(p.stem for p in (ROOT / "docs" / "_intersphinx").glob("*.inv"))
    for name in ("dask", "distributed", "joblib", "numpy", "scipy", "sklearn"):
        assert name in inventories


def test_class_pages_have_a_method_table_with_fit_first(build):
    html = build[0] / "html" / "generated"
    for name, methods in {
        "MLPAutogradClassifier": ["fit", "decision_function", "get_params"],
        "MLPAutogradRegressor": ["fit", "get_params", "partial_fit", "predict"],
    }.items():
        page = (html / f"skvgrad.{name}.html").read_text()
        table = page[page.index("Methods") :]
        table = table[: table.index("</table>")]
        listed = re.findall(rf'href="#skvgrad\.{name}\.(\w+)"', table)
        assert listed[: len(methods)] == methods, listed
        assert "set_fit_request" not in listed


def test_execution_times_show_time_and_memory(build):
    page = (build[0] / "html" / "sg_execution_times.html").read_text()
    rows = re.findall(r"<td><p>([0-9:.]+)</p></td>\s*<td><p>([0-9.]+)</p></td>", page)
    assert len(rows) == len(list((ROOT / "examples").glob("*.py"))) - len(NOT_RUN)
    memory = [float(mb) for _, mb in rows]
    assert all(mb >= 0 for mb in memory) and max(memory) > 1, rows


def test_gallery_pages_are_narrated(build):
    html = build[0] / "html" / "auto_examples"
    page = (html / "plot_loss_curves.html").read_text()
    code = [m.start() for m in re.finditer(r'class="highlight-Python', page)]
    figure = page.index("sphx_glr_plot_loss_curves_001.png")
    printed = page.index("accuracy = ")
    # Text and code cells, the printed lines after the code that prints them,
    # the figure after the code that draws it, and not at the top.
    assert len(code) >= 3
    assert code[1] < printed < code[2] < figure
    # A cell that ends with an estimator shows its HTML representation.
    page = (html / "plot_decision_boundaries.html").read_text()
    assert "sk-top-container" in page


def test_html_repr_links_to_the_api_page(build, monkeypatch):
    from email.message import Message

    clf = skvgrad.MLPAutogradClassifier()
    metadata = Message()
    metadata["Project-URL"] = "Documentation, https://docs.example.org/skvgrad/"
    monkeypatch.setattr(
        "importlib.metadata.metadata", unittest.mock.Mock(return_value=metadata)
    )
    skvgrad._api_page_template.cache_clear()
    try:
        link = clf._get_doc_link()
        assert link == (
            "https://docs.example.org/skvgrad/generated/"
            "skvgrad.MLPAutogradClassifier.html"
        )
        assert f'href="{link}"' in clf._repr_html_()
        # The page the link names is the one the build made.
        page = link.removeprefix("https://docs.example.org/skvgrad/")
        assert (build[0] / "html" / page).is_file()
        # Without a documentation URL in the metadata, no link at all.
        metadata.replace_header("Project-URL", "Source, https://example.org/src")
        skvgrad._api_page_template.cache_clear()
        assert clf._get_doc_link() == ""
        assert not re.search(r'<a[^>]+class="sk-estimator-doc-link', clf._repr_html_())
    finally:
        skvgrad._api_page_template.cache_clear()


TEST_ONLY_MODULES = ("torch", "array_api_strict")
"""Libraries a page's code may use that CI installs but skvgrad does not need."""


def python_code_blocks():
    """(page, index, code) of every ``.. code-block:: python`` in docs/."""
    blocks = []
    for page in sorted((ROOT / "docs").rglob("*.rst")):
        if set(page.relative_to(ROOT / "docs").parts) & set(GENERATED):
            continue
        text = page.read_text()
        for i, match in enumerate(
            re.finditer(r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text, re.M)
        ):
            code = re.sub(r"^   ", "", match.group(1), flags=re.M)
            blocks.append((page.relative_to(ROOT / "docs").as_posix(), i, code))
    return blocks


def expected_outputs(code):
    """What the comments of a code block say its print calls print.

    The comment after ``print(...)`` on the same line, or the comment line right
    below it: ``print(clf.predict(X[:3]))  # [0 1 2]``.
    """
    lines = code.splitlines()
    expected = []
    for line, following in zip(lines, lines[1:] + [""]):
        if not line.lstrip().startswith("print("):
            continue
        same_line = re.match(r"^\s*print\(.*\)\s+#\s(.+)$", line)
        below = re.match(r"^\s*#\s(.+)$", following)
        if same_line or below:
            expected.append((same_line or below).group(1).strip())
    return expected


def test_expected_outputs_are_found():
    assert expected_outputs(
        'x = 1\nprint(x)  # 1\nprint([x, x])\n# [1, 1]\nprint("no comment")\n'
    ) == ["1", "[1, 1]"]


@pytest.mark.parametrize(
    "page, index, code",
    python_code_blocks(),
    ids=[f"{page}-{i}" for page, i, _ in python_code_blocks()],
)
def test_code_blocks_run_and_print_what_they_say(page, index, code, tmp_path):
    for module in TEST_ONLY_MODULES:
        if re.search(rf"^(import|from) {module}\b", code, re.M):
            pytest.importorskip(
                module, reason=f"{module} (a test dependency) is absent"
            )
    script = tmp_path / "block.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, script],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    where = f"{page}, code block {index}"
    assert result.returncode == 0, f"{where}:\n{result.stderr}"
    assert "Warning" not in result.stderr, f"{where}:\n{result.stderr}"
    printed = " ".join(result.stdout.split())
    for expected in expected_outputs(code):
        assert " ".join(expected.split()) in printed, f"{where}:\n{result.stdout}"
