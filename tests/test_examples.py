"""Smoke tests: the demo and every example run and do well.

Each example runs as a user would start it, in ``--quick`` mode, in a fresh
venv with only the extras that the README's table of examples says it needs
(see ``conftest.py``), with a non-interactive matplotlib backend and its output
in a temporary folder; the tests check the exit code, the accuracies printed
and the files written. The demo's own options are tested in ``test_demo.py``,
the README's commands and code in ``test_packaging.py``; the documentation's
gallery, which runs the same examples, in ``test_docs.py``.
"""

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# script: (files written to --output, lowest accuracy allowed, best accuracy needed)
EXAMPLE_CASES = {
    "plot_decision_boundaries.py": (["plot_decision_boundaries.png"], 0.75, 0.9),
    # plain SGD with an inverse-scaling rate learns slowly on purpose.
    "plot_loss_curves.py": (["plot_loss_curves.png"], 0.4, 0.95),
    "grid_search_pipeline.py": (["grid_search_pipeline.png"], 0.9, 0.95),
    "persistence.py": (["model.joblib", "model.skops", "persistence.png"], 0.85, 0.85),
    "distributed_grid_search.py": (
        ["distributed_grid_search.csv", "distributed_grid_search.png"],
        0.9,
        0.95,
    ),
    "custom_activation.py": (["custom_activation.png"], 0.9, 0.9),
    # "balanced" gives up accuracy for the recall of the minority class.
    "plot_class_weight.py": (["plot_class_weight.png"], 0.85, 0.94),
    "plot_validation.py": (["plot_validation.png"], 0.9, 0.94),
    # The seed task: a sigmoid MLP trained by gradient descent on two moons.
    "seed_network.py": (["seed_network.png"], 0.9, 0.9),
    "plot_callbacks.py": (["plot_callbacks.png"], 0.75, 0.9),
    "out_of_core_dask.py": (["out_of_core_dask.png"], 0.85, 0.85),
    "onnx_serving.py": (["onnx_serving.png", "pipeline.onnx"], 0.9, 0.95),
    # A regressor: no accuracy, see OTHER_FIGURES.
    "plot_quantile_and_huber.py": (["plot_quantile_and_huber.png"], None, None),
}
# script: [(pattern of a printed number, lowest allowed, highest allowed)]
OTHER_FIGURES = {
    "plot_quantile_and_huber.py": [
        (r"band coverage ([0-9.]+)", 0.72, 0.88),
        (r"huber\s+distance ([0-9.]+)", 0.0, 1.0),
        (r"squared_error distance ([0-9.]+)", 2.0, 100.0),
    ],
    "out_of_core_dask.py": [(r"held-out R2 ([0-9.]+)", 0.7, 1.0)],
}
PRESENT_CASES = sorted(
    script for script in EXAMPLE_CASES if (EXAMPLES / script).exists()
)
ACCURACY = re.compile(r"accuracy(?: =)? ([0-9.]+)")
# Written as one script, main() with its output after all of its code, rather
# than in narrated cells.
NOT_NARRATED = {"plot_callbacks.py"}


def run_example(fresh_venv, example_extras, script, args, cwd, **extra_env):
    """Run an example in a venv with the extras the README gives it."""
    venv = fresh_venv(*example_extras[script])
    return venv.run([EXAMPLES / script, *args], cwd, timeout=300, **extra_env)


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
    lines = re.findall(r"^Figure saved to (.+)$", stdout, re.M | re.I)
    return [Path(p) for p in lines]


def printed_paths(stdout):
    """Every path after '... saved to' in the output ('A and B' is two)."""
    lines = re.findall(r"^[\w ]+ saved to (.+)$", stdout, re.M | re.I)
    return [Path(p) for line in lines for p in line.split(" and ")]


def test_every_example_is_tested(example_extras):
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == PRESENT_CASES
    assert sorted(example_extras) == PRESENT_CASES


@pytest.mark.parametrize("script", PRESENT_CASES)
def test_example(script, fresh_venv, example_extras, tmp_path):
    files, lowest, best = EXAMPLE_CASES[script]
    out = tmp_path / "out"
    result = run_example(
        fresh_venv, example_extras, script, ["--quick", "--output", out], tmp_path
    )

    accuracies = [float(a) for a in ACCURACY.findall(result.stdout)]
    if lowest is None:
        assert not accuracies
    else:
        assert accuracies, f"no accuracy printed:\n{result.stdout}"
        assert min(accuracies) >= lowest, result.stdout
        assert max(accuracies) >= best, result.stdout
    for pattern, low, high in OTHER_FIGURES.get(script, []):
        [value] = re.findall(pattern, result.stdout)
        assert low <= float(value) <= high, (pattern, result.stdout)

    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    # Every file written is announced with its full path.
    assert sorted(p.resolve() for p in printed_paths(result.stdout)) == sorted(
        (out / f).resolve() for f in files
    )
    pngs = [out / f for f in files if f.endswith(".png")]
    assert [p.resolve() for p in printed_figures(result.stdout)] == [
        p.resolve() for p in pngs
    ]
    for png in pngs:
        assert_valid_png(png)
    assert list(tmp_path.iterdir()) == [out], "wrote outside --output"


def checkout_listing():
    """The names in the checkout's top folder and in examples/."""
    return sorted(p.name for p in ROOT.iterdir()), sorted(
        p.name for p in EXAMPLES.iterdir() if p.name != "__pycache__"
    )


def test_example_default_output_is_in_the_temporary_folder(
    fresh_venv, example_extras, tmp_path
):
    # Run from a folder of its own, with the system's temporary folder pointed
    # at another: by default an example writes there, and not into the
    # checkout (next to itself) or the current folder.
    temp, cwd = tmp_path / "temp", tmp_path / "cwd"
    temp.mkdir()
    cwd.mkdir()
    before = checkout_listing()
    result = run_example(
        fresh_venv,
        example_extras,
        "persistence.py",
        ["--quick"],
        cwd,
        TMPDIR=temp,
        TEMP=temp,
        TMP=temp,
    )
    expected = temp / "skvgrad_examples"
    assert sorted(p.resolve() for p in printed_paths(result.stdout)) == sorted(
        (expected / f).resolve() for f in EXAMPLE_CASES["persistence.py"][0]
    )
    for path in printed_paths(result.stdout):
        assert path.is_file(), f"{path} was printed but not written"
    assert_valid_png(expected / "persistence.png")
    assert list(cwd.iterdir()) == []
    assert checkout_listing() == before


def test_examples_are_narrated_cells_that_name_their_extras(example_extras):
    extras = example_extras
    for script in PRESENT_CASES:
        source = (EXAMPLES / script).read_text()
        assert source.startswith('"""'), f"{script} has no module docstring"
        # The gallery's page title: a first line, underlined with "=".
        title, underline = source[3:].splitlines()[:2]
        assert title.strip() and set(underline) == {"="}, script
        assert len(underline) >= len(title), script
        # The gallery runs the scripts with neither __file__ nor a docstring.
        assert "__file__" not in source and "__doc__" not in source, script
        if script in NOT_NARRATED:
            continue
        docstring = source[: source.index('"""', 3)]
        # Cells of text and code, in reading order (sphinx-gallery's format),
        # and the install command of the extras the README gives the example.
        assert source.count("\n# %%\n") >= 3, script
        assert "def main(" not in source, script
        command = f'pip install -e ".[{",".join(extras[script])}]"'
        assert command in " ".join(docstring.split()), (script, command)
        # Seen as prose by the gallery: no matplotlib backend forced either.
        assert 'matplotlib.use("Agg")' not in source, script


def test_example_help(fresh_venv, example_extras, tmp_path):
    result = run_example(
        fresh_venv, example_extras, "persistence.py", ["--help"], tmp_path
    )
    assert "--output DIR" in result.stdout and "--quick" in result.stdout
    assert "skvgrad_examples" in result.stdout  # the default output folder


def demo_rows(stdout):
    """(dataset, estimator, accuracy) of each row of the demo's table."""
    rows = re.findall(
        r"^(moons|digits)\s+(skvgrad|MLPClassifier)\s+([0-9.]+)\s+[0-9.]+ s\s+\d+$",
        stdout,
        re.M,
    )
    return [(dataset, estimator, float(acc)) for dataset, estimator, acc in rows]


def test_demo_quick(fresh_venv, tmp_path):
    output = tmp_path / "figures" / "demo.png"
    venv = fresh_venv("plot", "progress")
    result = venv.run(["-m", "skvgrad", "--quick", "--output", output], tmp_path)

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


def test_readme_commands_come_first():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"^```\w*\n(.*?)^```$", text, re.M | re.S).group(1)
    assert first_block == (
        'pip install -e ".[plot,progress]" && python -m skvgrad\n'
        'pip install -e ".[test]" && python -m pytest\n'
    )
    assert "docs/demo.png" in text
    assert_valid_png(ROOT / "docs" / "demo.png")


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_plot_callbacks_shows_what_ended_the_fit_and_whole_progress_rows(
    quick, fresh_venv, example_extras, tmp_path
):
    # What the gallery shows (--quick) and the full run: the title and the
    # printed line say what ended the fit, and rich's rows are not cut to "1…"
    # in a log (or the gallery's page).
    args = ["--output", tmp_path / "out"] + (["--quick"] if quick else [])
    result = run_example(
        fresh_venv, example_extras, "plot_callbacks.py", args, tmp_path
    )
    output = result.stdout + result.stderr
    max_iter = 20 if quick else 100
    [(epochs, loss)] = re.findall(
        r"^StopBelowLoss\(0\.1\) stopped the fit after (\d+) epochs; training loss "
        r"(0\.0\d+)$",
        result.stdout,
        re.M,
    )
    assert int(epochs) < max_iter and float(loss) < 0.1
    rows = [line for line in output.splitlines() if "GridSearchCV - " in line]
    assert len(rows) == 9, output  # the search, its 6 fits, the refit
    assert all(row.rstrip().split()[-2] == "100%" for row in rows), output
    assert "…" not in output
