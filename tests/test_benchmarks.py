"""Smoke test of the benchmark suite: ``python benchmarks/run.py --quick``."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "seed",
    "engine_overhead",
    "fit_digits",
    "fit_large",
    "predict",
    "gemm",
    "compare",
    "onnx",
    "array_api",
]


def test_quick_run_prints_every_table():
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in BENCHMARKS:
        assert f"=== {name}: " in proc.stdout, f"no table for {name}"
    assert "=== tabular" not in proc.stdout  # opt-in: only when named


def test_tabular_benchmark_is_opt_in_and_its_quick_run_prints_its_tables():
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "tabular", "--quick", "--threads", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for table in ("tabular-regression", "tabular-classification"):
        assert f"=== {table}: " in proc.stdout, f"no table {table}"
    assert "TabularMLP" in proc.stdout and "HistGradientBoosting" in proc.stdout
