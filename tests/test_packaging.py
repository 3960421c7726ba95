"""What a user installs: the wheel, its licence, metadata and version, each extra.

Every ``pip install -e ".[EXTRAS]"`` that the README gives is run in a fresh
venv (see ``conftest.py``) followed by what the README says that install is
for: the demo here, the README's code with the extras its section names here,
the documentation's build in ``test_docs.py``, each example with the extras the
README's table of examples gives it in ``test_examples.py``, and the test suite
itself in CI (``.ci/run``).
"""

import email.parser
import re
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest

import skvgrad

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
