"""Lazy public names for package ``__init__`` files (PEP 562).

A package lists its entry points and the module defining each; they are imported on first use,
so importing a package's CLI module (``prt.analysis.cli``) does not load numpy, scipy and pandas
and ``prt --help`` stays instant, while ``prt.analysis.run_analysis`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, names: dict[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package`` whose public ``names`` map to defining modules."""

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = importlib.import_module(module)
        value = target if module == f"{package}.{name}" else getattr(target, name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
