"""Smoke tests: the demo, every example and the README's code run and do well.

Each runs in a fresh Python process as a user would start it (the demo and the
examples in ``--quick`` mode), with a non-interactive matplotlib backend and its
output in a temporary folder; the tests check the exit code, the accuracies
printed and the files written. The demo's own options are tested in
``test_demo.py``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import skvgrad

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# script: (files written to --output, lowest accuracy allowed, best accuracy needed)
EXAMPLE_CASES = {
    "plot_decision_boundaries.py": (["plot_decision_boundaries.png"], 0.75, 0.9),
    # plain SGD with an inverse-scaling rate learns slowly on purpose.
    "plot_loss_curves.py": (["plot_loss_curves.png"], 0.4, 0.95),
    "grid_search_pipeline.py": (["grid_search_pipeline.png"], 0.9, 0.95),
    "persistence.py": (["model.joblib", "model.skops"], 0.85, 0.85),
    "distributed_grid_search.py": (["distributed_grid_search.csv"], 0.9, 0.95),
    "custom_activation.py": (["custom_activation.png"], 0.9, 0.9),
    # "balanced" gives up accuracy for the recall of the minority class.
    "plot_class_weight.py": (["plot_class_weight.png"], 0.85, 0.94),
    "plot_validation.py": (["plot_validation.png"], 0.9, 0.94),
}


def run_python(args, cwd, timeout=300):
    """Run ``python ARGS`` the way a user would, with the skvgrad under test."""
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    # One BLAS thread per process, so a busy machine cannot slow the fits down
    # by oversubscription (small networks are fastest that way anyway).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    package_root = str(Path(skvgrad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [package_root, env.get("PYTHONPATH")] if p
    )
    result = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"exit code {result.returncode}\n--- stdout\n{result.stdout}\n"
        f"--- stderr\n{result.stderr}"
    )
    return result


def assert_valid_png(path):
    """The file is a PNG image that matplotlib can read."""
    import matplotlib.image

    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert np.ptp(image) > 0, f"{path} is a blank image"


def printed_figures(stdout):
    """The paths after 'Figure saved to' in the output."""
    return [Path(p) for p in re.findall(r"^Figure saved to (.+)$", stdout, re.M)]


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXAMPLE_CASES)


@pytest.mark.parametrize("script", sorted(EXAMPLE_CASES))
def test_example(script, tmp_path):
    files, lowest, best = EXAMPLE_CASES[script]
    out = tmp_path / "out"
    result = run_python([EXAMPLES / script, "--quick", "--output", out], tmp_path)

    accuracies = [float(a) for a in re.findall(r"accuracy = ([0-9.]+)", result.stdout)]
    assert accuracies, f"no accuracy printed:\n{result.stdout}"
    assert min(accuracies) >= lowest, result.stdout
    assert max(accuracies) >= best, result.stdout

    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    pngs = [out / f for f in files if f.endswith(".png")]
    assert [p.resolve() for p in printed_figures(result.stdout)] == [
        p.resolve() for p in pngs
    ]
    for png in pngs:
        assert_valid_png(png)
    assert list(tmp_path.iterdir()) == [out], "wrote outside --output"


def test_example_docstrings_and_help(tmp_path):
    for script in sorted(EXAMPLE_CASES):
        source = (EXAMPLES / script).read_text()
        assert source.startswith('"""'), f"{script} has no module docstring"
        assert 'if __name__ == "__main__":' in source
    result = run_python([EXAMPLES / "persistence.py", "--help"], tmp_path)
    assert "--output DIR" in result.stdout and "--quick" in result.stdout


def demo_rows(stdout):
    """(dataset, estimator, accuracy) of each row of the demo's table."""
    rows = re.findall(
        r"^(moons|digits)\s+(skvgrad|MLPClassifier)\s+([0-9.]+)\s+[0-9.]+ s\s+\d+$",
        stdout,
        re.M,
    )
    return [(dataset, estimator, float(acc)) for dataset, estimator, acc in rows]


def test_demo_quick(tmp_path):
    output = tmp_path / "figures" / "demo.png"
    result = run_python(["-m", "skvgrad", "--quick", "--output", output], tmp_path)

    rows = demo_rows(result.stdout)
    assert [(d, e) for d, e, _ in rows] == [
        ("moons", "skvgrad"),
        ("moons", "MLPClassifier"),
        ("digits", "skvgrad"),
        ("digits", "MLPClassifier"),
    ], result.stdout
    assert all(acc >= 0.85 for _, _, acc in rows), result.stdout
    assert printed_figures(result.stdout) == [output]
    assert_valid_png(output)
    assert "Training" in result.stderr  # the tqdm progress bar


def readme_python_blocks():
    """The ```python code blocks of README.md."""
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)


def test_readme_commands_come_first():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"^```\w*\n(.*?)^```$", text, re.M | re.S).group(1)
    assert first_block == (
        'pip install -e ".[plot,progress]" && python -m skvgrad\n'
        'pip install -e ".[test]" && SCIPY_ARRAY_API=1 python -m pytest\n'
    )
    assert "docs/demo.png" in text
    assert_valid_png(ROOT / "docs" / "demo.png")


def test_readme_code_runs(tmp_path):
    blocks = readme_python_blocks()
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        script = tmp_path / f"readme_block_{i}.py"
        script.write_text(block)
        result = run_python([script], tmp_path)
        assert "Warning" not in result.stderr, f"block {i}:\n{result.stderr}"
