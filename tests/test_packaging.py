"""What a user installs: the wheel, its licence, metadata and version, each extra.

Every ``pip install -e ".[EXTRAS]"`` that the README gives is run in a fresh
venv (see ``conftest.py``) followed by what the README says that install is
for: the demo here, the README's code with the extras its section names here,
the documentation's build in ``test_docs.py``, each example with the extras the
README's table of examples gives it in ``test_examples.py``, and the test suite
itself in CI (``.ci/run``).

The package is typed (PEP 561: the wheel carries ``py.typed``): its public API
is annotated, mypy (pinned in the test extra) finds no error in it with the
configuration of pyproject.toml, and the annotations catch mistakes in code
that uses the package. These checks are of the package as its users' type
checkers see it, not of one module, so they live here.
"""

import ast
import email.parser
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

import skvgrad
from skvgrad.base import partial_fit_available

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
INSTALL = re.compile(r'pip install -e "\.\[([\w,]*)\]"')
# Each README command that installs an extra, and the test that runs it.
README_COMMANDS = {
    ("plot,progress", "python -m skvgrad"): "test_readme_first_command_runs_the_demo",
    ("test", "python -m pytest"): ".ci/run, the whole suite on a fresh machine",
    (
        "docs",
        "python -m sphinx -W -b html docs docs/_build/html",
    ): "test_docs.py, its build fixture",
}
CHANGELOG_SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def pyproject():
    """pyproject.toml, parsed."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def readme_sections():
    """(heading, text) of each ``## `` section of the README, its subsections in it."""
    parts = re.split(r"^## (.+)$", README, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def readme_commands():
    """(extras, command) of each ``pip install -e ".[EXTRAS]" && python ...``."""
    return re.findall(r'pip install -e "\.\[([\w,]*)\]" && (python [^`\n]+)', README)


def test_wheel_carries_the_licence_and_the_metadata(uv, source_copy, tmp_path):
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", tmp_path],
        cwd=source_copy,
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("*.whl")
    dist_info = f"skvgrad-{skvgrad.__version__}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        licence = archive.read(f"{dist_info}/licenses/LICENSE")
        metadata = email.parser.Parser().parsestr(
            archive.read(f"{dist_info}/METADATA").decode()
        )
    assert licence == (ROOT / "LICENSE").read_bytes()
    assert b"BSD 3-Clause License" in licence
    assert metadata["Version"] == skvgrad.__version__
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]
    summary = metadata["Summary"]
    for name in ("MLPAutogradClassifier", "MLPAutogradRegressor", "autodiff engine"):
        assert name in summary, summary
    # One classifier per minor version that requires-python admits, up to the
    # newest one listed; none for a version it excludes.
    classifiers = metadata.get_all("Classifier")
    minors = sorted(
        int(c.rsplit(".", 1)[1])
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    lowest = int(re.fullmatch(r">=3\.(\d+)", metadata["Requires-Python"]).group(1))
    assert minors == list(range(lowest, minors[-1] + 1))
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639
    # The wheel holds the package and its metadata, nothing else of the checkout.
    assert "skvgrad/__init__.py" in names and "skvgrad/engine/__init__.py" in names
    assert "skvgrad/py.typed" in names  # PEP 561: type checkers read the annotations
    assert "Typing :: Typed" in classifiers
    assert all(n.startswith(("skvgrad/", dist_info + "/")) for n in names), names
    # Every extra of pyproject.toml is in the metadata.
    assert set(metadata.get_all("Provides-Extra")) == set(
        pyproject()["project"]["optional-dependencies"]
    )


def test_the_version_is_written_in_one_place():
    init = (ROOT / "skvgrad" / "__init__.py").read_text()
    assert re.findall(r'^__version__ = "(.+)"$', init, flags=re.M) == [
        skvgrad.__version__
    ]
    project = pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "skvgrad.__version__"
    }
    written = re.compile(rf"""["']{re.escape(skvgrad.__version__)}["']""")
    for path in [*ROOT.glob("skvgrad/**/*.py"), ROOT / "docs" / "conf.py"]:
        if path != ROOT / "skvgrad" / "__init__.py":
            assert not written.search(path.read_text()), path


def test_the_installed_version_is_the_metadata_version(fresh_venv, source_copy):
    venv = fresh_venv()
    printed = venv.run(
        [
            "-c",
            "import importlib.metadata, skvgrad; print(skvgrad.__version__); "
            "print(importlib.metadata.version('skvgrad')); print(skvgrad.__file__)",
        ],
        cwd=venv.path,
    ).stdout.split()
    version, metadata_version, module_file = printed
    assert version == metadata_version == skvgrad.__version__
    assert Path(module_file).is_relative_to(source_copy)  # the editable install


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    releases = re.findall(r"^## \[(.+?)\](?: - (.+))?$", text, flags=re.M)
    assert releases[0] == ("Unreleased", "")
    version, date = releases[1]
    assert version == skvgrad.__version__  # the newest entry is this version
    for version, date in releases[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}|Unreleased", date), date
    assert set(re.findall(r"^### (.+)$", text, flags=re.M)) <= CHANGELOG_SECTIONS


def test_a_fresh_venv_sees_only_what_it_installed(fresh_venv):
    venv = fresh_venv()
    for module in ("pytest", "matplotlib"):  # the test runner has both
        result = venv.run(["-c", f"import {module}"], cwd=venv.path, check=False)
        assert result.returncode == 1, module
        assert f"No module named '{module}'" in result.stderr
    venv.run(["-c", "import sklearn, scipy, joblib, skvgrad"], cwd=venv.path)


def test_every_readme_command_is_checked():
    assert sorted(readme_commands()) == sorted(README_COMMANDS)
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert 'python -m pip install --quiet -e ".[test]"' in ci
    assert ci[-1] == "python -m pytest"


def test_every_extra_is_checked(example_extras):
    extras = set(pyproject()["project"]["optional-dependencies"])
    checked = {e for extras, _ in README_COMMANDS for e in extras.split(",")}
    for _, text in readme_sections():
        if "```python" in text:
            checked.update(
                e for found in INSTALL.findall(text) for e in found.split(",")
            )
    checked.update(e for needs in example_extras.values() for e in needs)
    assert checked == extras


def test_readme_first_command_runs_the_demo(fresh_venv, tmp_path):
    first_block = re.search(r"^```\w*\n(.*?)^```$", README, re.M | re.S).group(1)
    extras, command = readme_commands()[0]
    assert first_block.splitlines()[0] == f'pip install -e ".[{extras}]" && {command}'
    venv = fresh_venv(*extras.split(","))
    temp = tmp_path / "temp"
    temp.mkdir()
    result = venv.run(
        command.split()[1:], cwd=tmp_path, TMPDIR=temp, TEMP=temp, TMP=temp
    )
    rows = re.findall(
        r"^(moons|digits)\s+(skvgrad|MLPClassifier)\s+([0-9.]+)\s+[0-9.]+ s\s+\d+$",
        result.stdout,
        flags=re.M,
    )
    assert len(rows) == 4 and all(float(r[2]) >= 0.9 for r in rows), result.stdout
    figure = temp / "skvgrad_demo.png"
    assert f"Figure saved to {figure}" in result.stdout  # matplotlib: plot
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Training" in result.stderr  # tqdm's progress bar: progress


@pytest.mark.parametrize(
    "heading", [h for h, t in readme_sections() if "```python" in t]
)
def test_readme_code_runs_with_the_extras_its_section_names(
    heading, fresh_venv, tmp_path
):
    text = dict(readme_sections())[heading]
    extras = sorted({e for found in INSTALL.findall(text) for e in found.split(",")})
    venv = fresh_venv(*extras)
    for i, block in enumerate(re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)):
        script = tmp_path / f"block_{i}.py"
        script.write_text(block)
        result = venv.run([script], cwd=tmp_path)
        assert "Warning" not in result.stderr, f"block {i}:\n{result.stderr}"


# Type checking ----------------------------------------------------------------------

needs_mypy = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (the test extra pins it: pip install -e '.[test]')",
)
# The modules whose public names users import, and the names' owners.
PUBLIC_MODULES = (
    "skvgrad",
    "skvgrad.engine",
    "skvgrad.engine.tracing",
    "skvgrad.engine.replay",
    "skvgrad.nn",
    "skvgrad.optim",
    "skvgrad.onnx",
)


@pytest.fixture
def mypy_cache(request, tmp_path_factory):
    """``mypy_cache(name)``: a cache folder kept by pytest between runs (a warm
    run takes a fraction of a second, a cold one several), or a new one."""
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider

    def folder(name):
        if cache is None:
            return tmp_path_factory.mktemp(name)
        return cache.mkdir(name)

    return folder


def run_mypy(*args, cwd, cache_dir, **env):
    """``python -m mypy ARGS`` in ``cwd``, its output kept."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache_dir), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_mypy_is_pinned_and_configured():
    project = pyproject()
    pins = [r for r in project["project"]["optional-dependencies"]["test"]]
    assert [r for r in pins if r.startswith("mypy")] == [
        next(r for r in pins if re.fullmatch(r"mypy==\d+\.\d+\.\d+", r))
    ]
    config = project["tool"]["mypy"]
    assert config["files"] == ["skvgrad"]
    assert config["check_untyped_defs"] and config["disallow_incomplete_defs"]
    assert "Typing :: Typed" in project["project"]["classifiers"]
    assert project["tool"]["setuptools"]["package-data"]["skvgrad"] == ["py.typed"]
    assert (ROOT / "skvgrad" / "py.typed").is_file()


@needs_mypy
def test_the_package_type_checks(mypy_cache):
    result = run_mypy(
        "--config-file", "pyproject.toml", cwd=ROOT, cache_dir=mypy_cache("mypy")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found"), result.stdout


# Code using the package as documented: no error under mypy --strict.
USER_CODE = """
import numpy as np
from numpy.typing import NDArray

from skvgrad import MLPAutogradClassifier, MLPAutogradRegressor, engine, optim
from skvgrad.engine import Tensor

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = (X[:, 0] > 0).astype(int)

clf = MLPAutogradClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
clf = clf.fit(X, y).partial_fit(X, y, classes=[0, 1])
proba: NDArray[np.floating] = clf.predict_proba(X)
accuracy: float = clf.score(X, y)
reg = MLPAutogradRegressor(loss="huber", huber_delta=0.5).fit(X, X[:, 0])
predicted: NDArray[np.floating] = reg.predict(X)


def loss(w: Tensor) -> Tensor:
    return ((X @ w - y) ** 2).mean() + 0.1 * w.tanh().sum()


value, gradient = engine.value_and_grad(loss)(np.zeros(3))
t = Tensor(np.ones(3))
(np.ones(3) * t.exp() + 1.0).sum().backward()
g: NDArray[np.floating] | None = t.grad
adam = optim.Adam([np.zeros(3)], learning_rate_init=0.01)
params = adam.update_params([np.zeros(3)], [np.ones(3)])
"""
# Mistakes, each flagged by its error code.
USER_MISTAKES = """
import numpy as np

from skvgrad import MLPAutogradClassifier, engine, optim

X = np.zeros((4, 2))
y = np.array([0, 1, 0, 1])
MLPAutogradClassifier(hidden_layer_sizes="a")  # arg-type
MLPAutogradClassifier(solverr="adam")  # call-arg
MLPAutogradClassifier().partial_fit(X, y, clases=[0, 1])  # call-arg
MLPAutogradClassifier().fit(X, y).predict_proba(X, y)  # call-arg
engine.grad(1)  # arg-type
engine.Tensor(X).sum(axis="0")  # arg-type
engine.Tensor(X).backward(grad=engine.Tensor(X))  # arg-type
(np.ones(2) @ engine.Tensor(X).T).item().backward()  # attr-defined
optim.Adam([X], learning_rate_init="fast")  # arg-type
"""


@needs_mypy
def test_the_annotations_check_user_code(tmp_path, mypy_cache):
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\nstrict = True\n"
        # skvgrad is read from the checkout (MYPYPATH), for its types only.
        "[mypy-skvgrad.*]\nfollow_imports = silent\n"
    )
    (tmp_path / "user.py").write_text(textwrap.dedent(USER_CODE))
    (tmp_path / "mistakes.py").write_text(USER_MISTAKES)
    cache = mypy_cache("mypy_user_code")
    result = run_mypy("user.py", cwd=tmp_path, cache_dir=cache, MYPYPATH=str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_mypy("mistakes.py", cwd=tmp_path, cache_dir=cache, MYPYPATH=str(ROOT))
    expected = {
        (i, line.rsplit("# ", 1)[1])
        for i, line in enumerate(USER_MISTAKES.splitlines(), start=1)
        if "  # " in line
    }
    found = set(
        (int(n), code)
        for n, code in re.findall(
            r"^mistakes\.py:(\d+): error: .*\[([\w-]+)\]$", result.stdout, re.M
        )
    )
    assert found == expected, result.stdout + result.stderr


def _public(module):
    """(name, object) of each public name of ``module`` defined in skvgrad."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return [
        (name, obj)
        for name, obj in ((n, getattr(module, n)) for n in names)
        if getattr(obj, "__module__", "").startswith("skvgrad")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
    ]


def _unannotated(function, method):
    """The parameters of ``function`` (and "return") without an annotation."""
    parameters = list(inspect.signature(function).parameters.values())
    missing = [
        p.name for p in parameters[1 if method else 0 :] if p.annotation is p.empty
    ]
    if inspect.signature(function).return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def _methods(cls):
    """The public methods and properties of ``cls`` written in skvgrad's classes
    (``__init__`` and ``__call__`` included), by name."""
    found = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("skvgrad"):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") and name not in ("__init__", "__call__"):
                continue
            member = getattr(member, "fget", member)  # a property
            member = getattr(member, "__func__", member)  # static or class method
            if isinstance(member, partial_fit_available):
                member = member.method
            # Defined in the class body (Tensor's operators and methods are
            # attached by the engine and declared in the class: tested below).
            if inspect.isfunction(member) and member.__qualname__.startswith(
                klass.__qualname__ + "."
            ):
                found[name] = member
    return found


def test_the_public_api_is_annotated():
    missing = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name, obj in _public(module):
            if inspect.isclass(obj):
                for method_name, method in _methods(obj).items():
                    if gaps := _unannotated(method, method=True):
                        missing[f"{module_name}.{name}.{method_name}"] = gaps
            elif gaps := _unannotated(obj, method=False):
                missing[f"{module_name}.{name}"] = gaps
    assert not missing, missing


def test_tensor_declares_what_the_engine_attaches_to_it():
    from skvgrad.engine import Tensor, numpy_api, ops

    tree = ast.parse((ROOT / "skvgrad" / "engine" / "tensor.py").read_text())
    [tensor] = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == "Tensor"
    ]
    [block] = [
        node
        for node in tensor.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    declared = {n.name for n in block.body if isinstance(n, ast.FunctionDef)}
    # Operators and methods (ops), truth helpers and NumPy's dispatch
    # (numpy_api); __array__ is left out on purpose (see the declarations).
    attached = set(ops._METHODS) | {
        name
        for name, value in vars(Tensor).items()
        if value in (numpy_api._any, numpy_api._all)
        or name in ("__array_ufunc__", "__array_function__")
    }
    assert declared == attached
