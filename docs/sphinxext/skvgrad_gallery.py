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
