"""How the documentation's gallery runs the scripts in ``examples/``.

sphinx-gallery imports ``reset_argv`` by name, so the configuration holds no
function and Sphinx can cache it.
"""

import os
import re
import tempfile
from pathlib import Path

NOT_RUN = {}
"""Scripts the gallery shows without running them, each with the reason why.

Every other script runs, and its page shows the figures it draws with pyplot.
"""

OUTPUT_ROOT = Path(tempfile.gettempdir()) / "skvgrad_examples"
"""Where the examples write their files; ``conf.py`` points it into the build."""


def filename_pattern():
    """The ``filename_pattern`` of sphinx-gallery: every script but ``NOT_RUN``."""
    sep = re.escape(os.sep)
    if not NOT_RUN:
        return r"\.py$"
    skipped = "|".join(re.escape(name) for name in sorted(NOT_RUN))
    return rf"{sep}(?!(?:{skipped})$)[^{sep}]+\.py$"


def reset_argv(gallery_conf, script_vars):
    """The command-line arguments of each example: quick, output in the build.

    Every example takes ``--quick`` (seconds instead of minutes, so the
    documentation builds fast) and ``--output DIR`` (the files it writes go to
    a folder of its own under ``OUTPUT_ROOT``).
    """
    name = Path(script_vars["src_file"]).stem
    return ["--quick", "--output", str(OUTPUT_ROOT / name)]


def _peak_rss_mib():
    """This process's peak resident memory since the last reset, in MiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmHWM in /proc/self/status")


class PeakMemory:
    """sphinx-gallery's ``show_memory``: ``(peak memory in MiB, result)`` of ``func()``.

    The peak resident memory of the build's process while ``func`` runs (the
    gallery reports an example's peak less the memory at its start). Linux
    resets the peak through /proc; elsewhere tracemalloc measures the peak of
    Python's and NumPy's allocations instead. An instance, not a function, so
    that Sphinx can cache a configuration that holds it.
    """

    def __call__(self, func):
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # reset the peak to the current use
        except OSError:
            import tracemalloc

            tracemalloc.start()
            try:
                result = func()
                return tracemalloc.get_traced_memory()[1] / 2**20, result
            finally:
                tracemalloc.stop()
        result = func()
        return _peak_rss_mib(), result
