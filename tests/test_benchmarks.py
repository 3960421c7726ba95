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
