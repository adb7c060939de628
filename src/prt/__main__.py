import sys

from prt.cli import main

sys.exit(main())
