"""pytest only: configure Django before ``--doctest-modules`` imports this package's modules.

The settings read the environment; tests get a throw-away data folder, a fixed secret key and
production mode (tests/web/conftest.py does the same for the tests). Without Django installed
(prt installed without its ``web`` extra) the package's modules are not collected.
"""

import importlib.util

if importlib.util.find_spec("django") is None:
    collect_ignore_glob = ["*.py"]  # fnmatch: * spans folders too
else:
    from prt.web.testing import configure_django_for_tests

    configure_django_for_tests()
