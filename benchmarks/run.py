"""Run skvgrad's benchmarks and print one table per benchmark.

Usage::

    python benchmarks/run.py [NAME ...] [--quick] [--repeat N]

Without names every benchmark runs. ``--quick`` uses tiny sizes and one round
(a smoke run, well under 30 seconds). ``--repeat N`` overrides each benchmark's
number of interleaved rounds. Ratios are ``skvgrad / peer``: below 1 means
skvgrad is faster. A target that is missed is printed as MISS but does not fail
the run; an error in a benchmark does (exit code 1, after the others ran).
"""

import argparse
import platform
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (  # noqa: E402
    bench_engine,
    bench_fit,
    bench_gemm,
    bench_predict,
    bench_seed,
)

BENCHMARKS = {
    module.NAME: module
    for module in (
        bench_seed,
        bench_engine,
        bench_fit.Digits,
        bench_fit.Large,
        bench_predict,
        bench_gemm,
    )
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 round")
    parser.add_argument("--repeat", type=int, help="interleaved rounds per benchmark")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def describe_machine():
    import numpy as np
    import sklearn

    import skvgrad

    return (
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, skvgrad {skvgrad.__version__}, "
        f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPU(s)"
    )


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(describe_machine())
    failed = []
    for name in args.names or BENCHMARKS:
        start = time.perf_counter()
        try:
            BENCHMARKS[name].run(quick=args.quick, repeat=args.repeat)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"  ({name} took {time.perf_counter() - start:.1f} s)")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
