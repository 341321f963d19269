"""A module imported when first used, not when the module naming it is imported.

Commands that never reach a heavy library (``pgi-survey --help``, ``pgi-survey loads``) should not
pay for importing it: scipy.stats, pyreadstat and pandera each cost a noticeable part of a
second at start-up (issue 18). ``stats = lazy_module("scipy.stats")`` reads like the import it
replaces; the first attribute looked up imports the module.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """Stands for a module until an attribute of it is needed."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        value = getattr(self._module, attr)
        # kept on the stand-in: the next look-up is a plain attribute, not this call (``pd.NA`` in a loop
        # over a million cells must not cost a million calls)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{'' if self._module is None else ' (imported)'}>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports the module at its first attribute look-up."""
    return _LazyModule(name)
