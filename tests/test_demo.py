"""Tests of skvgrad.demo, the demo behind ``python -m skvgrad``, run in-process."""

import re
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pytest

from skvgrad import demo

ROWS = re.compile(
    r"^(moons|digits)\s+(skvgrad|MLPClassifier)\s+([0-9.]+)\s+([0-9.]+) s\s+(\d+)$",
    re.M,
)


def assert_valid_png(path):
    """The file is a PNG image that matplotlib can read."""
    import matplotlib.image

    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert np.ptp(image) > 0


def test_quick_demo_prints_the_table_and_writes_the_figure(tmp_path, capsys):
    output = tmp_path / "new folder" / "demo.png"
    assert demo.main(["--quick", "--output", str(output)]) == 0
    out = capsys.readouterr().out

    rows = ROWS.findall(out)
    assert [(dataset, estimator) for dataset, estimator, *_ in rows] == [
        ("moons", "skvgrad"),
        ("moons", "MLPClassifier"),
        ("digits", "skvgrad"),
        ("digits", "MLPClassifier"),
    ], out
    assert all(float(accuracy) >= 0.85 for _, _, accuracy, _, _ in rows), out
    # Same parameters, same initial weights, same algorithm: same accuracy.
    for i in (0, 2):
        assert rows[i][2] == rows[i + 1][2], out
    assert f"Figure saved to {output}" in out
    assert_valid_png(output)


def test_default_output_is_in_the_temporary_folder(tmp_path, monkeypatch, capsys):
    # The default must not dirty the folder the demo runs in (a checkout, say).
    temp, cwd = tmp_path / "temp", tmp_path / "cwd"
    temp.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.chdir(cwd)
    assert demo.default_output() == str(temp / demo.DEFAULT_FILENAME)
    assert demo.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert f"Figure saved to {temp / demo.DEFAULT_FILENAME}" in out
    assert_valid_png(temp / demo.DEFAULT_FILENAME)
    assert list(cwd.iterdir()) == []


def test_runs_without_matplotlib_and_tqdm(tmp_path, monkeypatch, capsys):
    # A module that is None in sys.modules cannot be imported: as if missing.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert demo.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert len(ROWS.findall(out)) == 4
    assert "[1/4] fitting skvgrad on moons ..." in out
    assert "[4/4] fitting MLPClassifier on digits ..." in out
    # An install command for every way skvgrad may have been installed.
    assert "pip install matplotlib" in out
    assert 'pip install "skvgrad[plot]" from a package index' in out
    assert 'pip install -e ".[plot]" in a checkout' in out
    assert "Figure saved" not in out
    assert list(tmp_path.iterdir()) == []


def test_the_plot_extra_named_in_the_message_installs_matplotlib():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("matplotlib") for req in extras["plot"])


def test_shows_a_progress_bar_with_tqdm(tmp_path, capsys):
    pytest.importorskip("tqdm")
    demo.main(["--quick", "--output", str(tmp_path / "demo.png")])
    captured = capsys.readouterr()
    assert "Training" in captured.err and "4/4" in captured.err
    assert "fitting" not in captured.out


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m skvgrad")
    assert "--output PATH" in out and "--quick" in out
    assert demo.DEFAULT_FILENAME in out  # where the figure goes by default


def test_both_estimators_get_the_same_parameters():
    for _, X_train, X_test, _, _, params in demo._datasets(quick=True):
        models = [cls(**params) for cls in demo.ESTIMATORS.values()]
        assert models[0].get_params().items() >= models[1].get_params().items()
        assert len(X_test) == pytest.approx(len(X_train) / 3, abs=1)


def test_format_table_aligns_columns():
    results = [
        dict(dataset="moons", estimator="skvgrad", accuracy=0.95, fit_time=0.123),
        dict(dataset="digits", estimator="MLPClassifier", accuracy=1.0, fit_time=12.5),
    ]
    results[0]["epochs"], results[1]["epochs"] = 85, 300
    assert demo._format_table(results).splitlines() == [
        "dataset  estimator      accuracy  fit time  epochs",
        "-------  -------------  --------  --------  ------",
        "moons    skvgrad           0.950    0.12 s      85",
        "digits   MLPClassifier     1.000   12.50 s     300",
    ]
