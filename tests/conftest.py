"""Test set-up of the suite: Hypothesis profiles and fresh virtual environments.

Hypothesis profiles, shared by the property and differential tests: ``ci``, the
default, keeps every property test bounded (Hypothesis's 100 examples where a
test does not set its own count; the differential tests scale theirs from
it). ``long`` draws fifty times as many:
``SKVGRAD_HYPOTHESIS_PROFILE=long python -m pytest ...``. Neither has a
deadline (the machines that run the suite are shared) or an example database.

Fresh virtual environments with skvgrad and some of its extras: every command
that the README and the documentation give, ``pip install -e ".[EXTRAS]"`` and
then what that install is for, must work with only what the install brings.
The tests run such commands in a new venv per set of extras: made by uv (an
installer that stands in for pip: the same requirements, from the same package
index, in seconds from its shared cache), without the system's site-packages,
with skvgrad installed in editable mode from a copy of the checkout (so the
checkout gets no build files). Each venv is made once per test session and
shared by the tests that need the same extras.
"""

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("long", max_examples=5_000, **_COMMON)
settings.load_profile(os.environ.get("SKVGRAD_HYPOTHESIS_PROFILE", "ci"))

# To report a failing example, Hypothesis imports libcst, whose import warns
# of a deprecation in mypy_extensions: with every warning an error, that
# would turn the report into an internal error that hides the failure.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import libcst  # noqa: F401
    except ImportError:  # then Hypothesis does without
        pass

ROOT = Path(__file__).resolve().parents[1]
# What a fresh clone does not have: build output, caches, generated pages.
NOT_COPIED = (
    ".git",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".mypy_cache",
    ".coverage",
    "_build",
    "auto_examples",
    "generated",
    "sg_execution_times.rst",
)


def uv_command():
    """The uv executable (the ``uv`` package of the test extra)."""
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            pytest.fail("uv is not installed: pip install -e '.[test]' brings it")
        return found
    return find_uv_bin()


def venv_environment(venv):
    """The environment of a shell in which ``venv`` is activated, and nothing else.

    No PYTHONPATH (it would import the checkout or the test runner's packages),
    no user site-packages, matplotlib without a screen and one BLAS thread (so
    a busy machine does not slow the fits by oversubscription).
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    }
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["PYTHONNOUSERSITE"] = "1"
    env["MPLBACKEND"] = "Agg"
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


class Venv:
    """A venv with skvgrad installed: its folder, python and environment."""

    def __init__(self, path, extras):
        self.path = Path(path)
        self.extras = extras
        self.python = self.path / ("Scripts" if os.name == "nt" else "bin") / "python"
        self.env = venv_environment(self.path)

    def run(self, args, cwd, timeout=600, check=True, **extra_env):
        """Run ``python ARGS`` with the venv's python, as a user would."""
        command = [str(self.python), *map(str, args)]
        result = subprocess.run(
            command,
            cwd=cwd,
            env=dict(self.env, **extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check:
            assert result.returncode == 0, (
                f"{' '.join(command)} in a venv with skvgrad[{','.join(self.extras)}] "
                f"exited with {result.returncode}\n--- stdout\n{result.stdout}\n"
                f"--- stderr\n{result.stderr}"
            )
        return result


@pytest.fixture(scope="session")
def uv():
    """The uv executable."""
    return uv_command()


@pytest.fixture(scope="session")
def source_copy(tmp_path_factory):
    """A copy of the checkout, as a fresh clone would have it."""
    copy = tmp_path_factory.mktemp("checkout") / "skvgrad"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_COPIED))
    return copy


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory, source_copy, uv):
    """``fresh_venv(*extras)``: a venv after ``pip install -e ".[EXTRAS]"``."""
    made = {}

    def make(*extras):
        key = tuple(sorted(extras))
        if key not in made:
            path = tmp_path_factory.mktemp("venv_" + "_".join(key or ("base",)))
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            requirement = f"{source_copy}[{','.join(key)}]" if key else str(source_copy)
            for command in (
                [uv, "venv", "--quiet", "--python", sys.executable, str(path)],
                [
                    uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(Venv(path, key).python),
                    "-e",
                    requirement,
                ],
            ):
                result = subprocess.run(
                    command, env=env, capture_output=True, text=True, timeout=900
                )
                assert result.returncode == 0, (
                    f"{' '.join(command)} failed (uv needs the package index, or "
                    f"its cache, to install):\n{result.stdout}\n{result.stderr}"
                )
            made[key] = Venv(path, key)
        return made[key]

    return make


@pytest.fixture(scope="session")
def example_extras():
    """{script: extras it needs}, from the README's table of examples."""
    rows = re.findall(
        r"^\| \[`(\w+\.py)`\]\(examples/\1\) \| ([^|]*) \|",
        (ROOT / "README.md").read_text(),
        flags=re.M,
    )
    return {script: tuple(re.findall(r"`(\w+)`", needs)) for script, needs in rows}
