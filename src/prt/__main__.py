"""``python -m prt``: the same command line as ``prt``."""

import sys

from prt.cli import main

if __name__ == "__main__":
    sys.exit(main())
