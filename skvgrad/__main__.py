"""``python -m skvgrad``: the demo, see :mod:`skvgrad.demo`."""

import sys

from skvgrad.demo import main

if __name__ == "__main__":
    sys.exit(main())
