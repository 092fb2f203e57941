"""Public names loaded on first use (PEP 562): ``import nemovideo`` costs little more than its dependencies.

A package lists, for each name, the module that defines it; ``attach`` returns the module's
``__getattr__`` and ``__dir__``. The first access imports that module and stores the value in the
package's namespace, so later accesses are plain attribute lookups. Type checkers see the same names
through the package's ``if TYPE_CHECKING:`` imports (tests/sdk/test_lazy_import.py checks both lists agree).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping


def attach(
    package: str, names: Mapping[str, tuple[str, str]], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    ``names`` maps a public name to ``(module, attribute)``, the module relative to the package (``"._x"``);
    ``submodules`` are subpackages reachable as attributes without importing them first.
    """
    table = dict(names)
    modules = frozenset(submodules)

    def __getattr__(name: str) -> object:
        if name in table:
            module, attribute = table[name]
            value: object = getattr(_load(package + module), attribute)
        elif name in modules:
            value = _load(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | table.keys() | modules)

    return __getattr__, __dir__


def _load(module: str) -> object:
    """Import by the ``import`` statement's own path (``__import__``), which ``-X importtime`` reports."""
    __import__(module)
    return sys.modules[module]
