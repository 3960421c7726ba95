"""The documentation builds with warnings as errors, and its pages are there.

The build is the one a user runs, ``python -m sphinx -W -b html docs
docs/_build/html``, on a copy of ``docs/`` and ``examples/`` in a temporary
folder (so the checkout gets no generated pages, and no earlier build's gallery
is reused). It runs every example in its quick mode. The code blocks of the
pages run too.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import skvgrad
from skvgrad import engine

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GENERATED = ("_build", "auto_examples", "generated", "sg_execution_times.rst")

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
def build(tmp_path_factory):
    """Build the HTML documentation once; the build folder and its log."""
    source = tmp_path_factory.mktemp("docs_source")
    shutil.copytree(
        ROOT / "docs", source / "docs", ignore=shutil.ignore_patterns(*GENERATED)
    )
    shutil.copytree(
        ROOT / "examples",
        source / "examples",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "-b",
        "html",
        "docs",
        "docs/_build/html",
    ]
    start = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=source,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.perf_counter() - start
    log = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, (
        f"exit code {result.returncode} after {elapsed:.0f} s\n{log}"
    )
    return source / "docs" / "_build", log


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
