"""Run skvgrad's benchmarks and print one table per benchmark.

Usage::

    python benchmarks/run.py [NAME ...] [--quick] [--repeat N]

Without names every benchmark runs but the opt-in ones (``tabular``: five-fold
cross-validation on a dozen data sets, about an hour; name it to run it).
``--quick`` uses tiny sizes and one round
(a smoke run, well under 30 seconds). ``--repeat N`` overrides each benchmark's
number of interleaved rounds. ``--threads N`` caps BLAS / OpenMP threads of every
peer (PyTorch included, subprocesses too): steadier figures on a shared machine.
Ratios are ``skvgrad / peer``: below 1 means
skvgrad is faster. A target that is missed is printed as MISS but does not fail
the run; an error in a benchmark does (exit code 1, after the others ran).
"""

import argparse
import os
import platform
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (  # noqa: E402
    _harness,
    bench_array_api,
    bench_compare,
    bench_engine,
    bench_fit_digits,
    bench_fit_large,
    bench_gemm,
    bench_onnx,
    bench_predict,
    bench_seed,
    bench_tabular,
)

BENCHMARKS = {
    module.NAME: module
    for module in (
        bench_seed,
        bench_engine,
        bench_fit_digits,
        bench_fit_large,
        bench_predict,
        bench_gemm,
        bench_compare,
        bench_onnx,
        bench_array_api,
        bench_tabular,
    )
}
OPT_IN = (bench_tabular.NAME,)  # long: run only when named


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 round")
    parser.add_argument("--repeat", type=int, help="interleaved rounds per benchmark")
    parser.add_argument(
        "--threads", type=int, help="cap BLAS / OpenMP threads (default: no cap)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def describe_machine():
    """One line on the software and the machine, with its current load."""
    import numpy as np
    import sklearn

    try:
        from skvgrad import __version__ as version
    except ImportError:
        version = "(not importable)"
    load = load_average()
    cap = _harness.THREADS
    threads = "no thread cap" if cap is None else f"{cap} BLAS thread(s)"
    line = (
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, skvgrad {version}; "
        f"{platform.machine()}, {os.cpu_count()} CPU(s), {threads}, "
        f"load average {load:.1f}"
    )
    if load > (os.cpu_count() or 1) - 0.5:
        line += " (busy machine: figures are noisy"
        line += "; --threads 1 steadies them)" if cap is None else ")"
    return line


def load_average():
    """The 1-minute load average (NaN where the OS does not report it)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def limit_threads(n):
    """At most ``n`` BLAS / OpenMP threads here, in PyTorch and in subprocesses."""
    from threadpoolctl import threadpool_limits

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    threadpool_limits(n)
    _harness.THREADS = n


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.threads:
        limit_threads(args.threads)
    print(describe_machine())
    failed = []
    for name in args.names or [n for n in BENCHMARKS if n not in OPT_IN]:
        start, load = time.perf_counter(), load_average()
        try:
            BENCHMARKS[name].run(quick=args.quick, repeat=args.repeat)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        took = time.perf_counter() - start
        print(f"  ({name} took {took:.1f} s; load average {load:.1f} at its start)")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
