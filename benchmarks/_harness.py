"""Shared benchmark machinery: interleaved timing, tables, targets, peak RSS.

Every benchmark module defines ``NAME``, ``TITLE`` and ``run(quick, repeat)``.
Times are medians over ``repeat`` rounds; within each round every peer runs
once, in turn (round-robin), so slow drifts of the machine hit all peers alike.
Ratios are reported as the median over the rounds with their spread (min-max
of the per-round ratios), and a target is judged on the median.
Objects alive before the timing starts are frozen (``gc.freeze``), so the
garbage collector's cost reflects what each peer allocates, not what the process
happened to import. Ratios are always ``skvgrad / peer`` (skvgrad's time over
the peer's): below 1 means skvgrad is faster.
"""

import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RATIO = "skvgrad / peer"
THREADS = None  # set by run.py --threads: the cap on BLAS / OpenMP threads


# Optional peers ---------------------------------------------------------------


def import_torch():
    """``torch``, or None after printing a one-line notice."""
    try:
        import torch
    except ImportError as exc:
        print(f"notice: PyTorch not importable ({exc}); its rows are skipped.")
        return None
    if THREADS is not None:
        torch.set_num_threads(THREADS)
    return torch


def import_classifier():
    """``skvgrad.MLPAutogradClassifier``, or None after a one-line notice."""
    try:
        from skvgrad import MLPAutogradClassifier
    except ImportError as exc:
        print(
            f"notice: skvgrad.MLPAutogradClassifier not importable ({exc}); "
            "its rows are skipped."
        )
        return None
    return MLPAutogradClassifier


# Timing -------------------------------------------------------------------------


def time_once(fn):
    """Seconds taken by one call of ``fn()``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(peers, repeat, min_time=0.2, warmup=True):
    """Median seconds per call of each peer, peers interleaved in every round.

    Parameters
    ----------
    peers : dict of str to callable
        Zero-argument callables.
    repeat : int
        Number of rounds; each round measures every peer once.
    min_time : float
        Target duration of one measurement: a measurement is the mean over
        enough calls to last about this long.
    warmup : bool
        Call each peer once first (a warm-up that also sets the number of
        calls per measurement). Without it every measurement is one call:
        use that for long runs such as a whole fit.

    Returns
    -------
    times : dict of str to float
        Median over the rounds of the mean time per call.
    """
    # Objects that exist now (modules of every peer, data) are frozen: the cyclic
    # garbage collector then only traverses what the peers create while timed,
    # so importing PyTorch does not slow down a pure-Python engine's timing.
    gc.collect()
    gc.freeze()
    try:
        number = dict.fromkeys(peers, 1)
        if warmup:
            for name, fn in peers.items():
                first = time_once(fn)
                number[name] = max(1, math.ceil(min_time / max(first, 1e-9)))
        samples = {name: [] for name in peers}
        for _ in range(repeat):
            for name, fn in peers.items():
                n = number[name]
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[name].append((time.perf_counter() - start) / n)
    finally:
        gc.unfreeze()
    return Timings(samples)


class Timings(dict):
    """Median seconds per peer (the dict), with every round's sample kept."""

    def __init__(self, samples):
        super().__init__({name: statistics.median(s) for name, s in samples.items()})
        self.samples = samples

    def spread(self, ours, peer):
        """(min, median, max) over the rounds of the ratio ``ours / peer``.

        Both were measured in every round, one after the other, so each round's
        ratio compares them under the same conditions.
        """
        if ours not in self.samples or peer not in self.samples:
            return None
        ratios = [a / b for a, b in zip(self.samples[ours], self.samples[peer])]
        return min(ratios), statistics.median(ratios), max(ratios)


def speed_spread(times, ours, peer):
    """(min, median, max) of ``peer``'s time over ``ours``: our relative speed."""
    spread = times.spread(ours, peer)
    return None if spread is None else tuple(1 / v for v in reversed(spread))


def spread_of(values):
    """(min, median, max) of a list of numbers, or None when it is empty."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return min(values), statistics.median(values), max(values)


def ratio(skvgrad_time, peer_time):
    """``skvgrad_time / peer_time``, or None when either is missing."""
    if skvgrad_time is None or peer_time is None:
        return None
    return skvgrad_time / peer_time


@contextlib.contextmanager
def quiet():
    """A context in which warnings (ConvergenceWarning, ...) are not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# Tables and targets --------------------------------------------------------------


@dataclass
class Target:
    """A goal ``value <op> limit``, printed with PASS / MISS (n/a when missing).

    ``value`` may be a (min, median, max) spread: the median decides, and the
    spread is printed beside it.
    """

    label: str
    value: float | tuple | None
    limit: float
    op: str = "<="

    def line(self):
        if self.value is None:
            return f"  target {self.label} {self.op} {self.limit:g}: n/a"
        if isinstance(self.value, tuple):
            low, mid, high = self.value
            verdict = Target(self.label, mid, self.limit, self.op).line().split()[-1]
            return (
                f"  target {self.label} {self.op} {self.limit:g}: median {mid:.3g} "
                f"(spread {low:.3g}-{high:.3g})  {verdict}"
            )
        ok = {
            "<=": self.value <= self.limit,
            "<": self.value < self.limit,
            ">=": self.value >= self.limit,
        }[self.op]
        verdict = "PASS" if ok else "MISS"
        return (
            f"  target {self.label} {self.op} {self.limit:g}: "
            f"{self.value:.3g}  {verdict}"
        )


def fmt(value):
    """A table cell: ``-`` for None, strings as they are, numbers readably.

    A (min, median, max) triple prints as ``median (min-max)``.
    """
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        low, mid, high = value
        return f"{mid:.3g} ({low:.3g}-{high:.3g})"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def header(name, title):
    """The line that opens a benchmark's table (tests look for it)."""
    return f"=== {name}: {title} ==="


def print_table(name, title, columns, rows, notes=(), targets=()):
    """Print one plain-text table: header, aligned rows, notes, targets."""
    cells = [[str(c) for c in columns]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]

    def line(row):
        first = row[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return "  ".join([first, *rest])

    print()
    print(header(name, title))
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    for note in notes:
        print(f"  note: {note}")
    for target in targets:
        print(target.line())
    sys.stdout.flush()


# Peak memory in a fresh process ---------------------------------------------------


def _status_kib(field):
    """A ``kB`` field of /proc/self/status (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Reset the process's peak RSS (Linux); return the current RSS in MiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    rss = _status_kib("VmRSS")
    return None if rss is None else rss / 1024


def peak_rss_mib():
    """Peak RSS of this process in MiB (since the last reset, on Linux)."""
    hwm = _status_kib("VmHWM")
    if hwm is None:  # no /proc: whole-process peak (kB on Linux, bytes on macOS)
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)
    return hwm / 1024


def run_in_subprocess(target, **kwargs):
    """Call ``target`` (``"module:function"``) with ``kwargs`` in a fresh process.

    The function returns a JSON-serialisable dict, which is returned here.
    It usually builds its data, calls :func:`reset_peak_rss`, runs the measured
    work and reports :func:`peak_rss_mib`, so the peak excludes data generation.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p
    )
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._harness", target, json.dumps(kwargs)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"subprocess {target}({kwargs}) failed:\n{proc.stdout}{proc.stderr}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child_main():
    """Entry point of :func:`run_in_subprocess`'s child process."""
    import importlib

    target, kwargs = sys.argv[1], json.loads(sys.argv[2])
    module, function = target.split(":")
    result = getattr(importlib.import_module(module), function)(**kwargs)
    print(json.dumps(result))


if __name__ == "__main__":
    _child_main()
