"""Public names load on first use (``_lazy``), yet resolve exactly as eager imports would.

The packages list their lazy names twice: under ``if TYPE_CHECKING:`` (what mypy sees) and in ``_LAZY``
(what runs). These tests check that both lists agree, that every name of ``__all__`` resolves in a fresh
interpreter to the very object its defining module holds, under ``from ... import *`` too, and that the
import stays light: no pydantic model machinery for the client, no model until it is used.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nemovideo

PACKAGES = ("nemovideo", "nemovideo.models", "nemovideo.resources")


def _run(code: str) -> Any:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


Names = dict[str, tuple[str, str]]
"""A public name -> the absolute module that defines it, and its name there."""


def _names(node: ast.ImportFrom, package: str) -> Names:
    where = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
    return {a.asname or a.name: (where, a.name) for a in node.names}


def _imports(package: str) -> tuple[Names, Names]:
    """The package's ``if TYPE_CHECKING:`` imports, and its eager ones."""
    module = importlib.import_module(package)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    typed: Names = {}
    eager: Names = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.body:
                assert isinstance(child, ast.ImportFrom), ast.dump(child)
                typed.update(_names(child, package))
        elif isinstance(node, ast.ImportFrom):
            eager.update(_names(node, package))
    return typed, eager


@pytest.mark.parametrize("package", PACKAGES)
def test_type_checking_imports_and_lazy_table_name_the_same_objects(package: str) -> None:
    module = importlib.import_module(package)
    typed, eager = _imports(package)
    lazy = {
        name: (importlib.util.resolve_name(where, package), attribute)
        for name, (where, attribute) in vars(module)["_LAZY"].items()
    }
    assert lazy == typed
    public = set(module.__all__)
    assert public == (set(typed) | set(eager)) & public
    assert set(typed) <= public
    assert list(module.__all__) == sorted(module.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_public_name_resolves_alone_in_a_fresh_interpreter(package: str) -> None:
    """Each name with the package's modules unloaded first, so no name resolves thanks to another one."""
    typed, eager = _imports(package)
    code = f"""
import importlib, json, sys
problems = []
for name in {sorted(importlib.import_module(package).__all__)!r}:
    for loaded in [m for m in sys.modules if m == "nemovideo" or m.startswith("nemovideo.")]:
        del sys.modules[loaded]
    namespace = {{}}
    exec("from {package} import " + name, namespace)
    where, attribute = { ({**eager, **typed})!r}[name]
    if namespace[name] is not getattr(importlib.import_module(where), attribute):
        problems.append(name)
    if name not in dir(importlib.import_module({package!r})):
        problems.append("dir: " + name)
print(json.dumps(problems))
"""
    assert _run(code) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_star_import_and_dir_list_every_public_name(package: str) -> None:
    code = f"""
import json
namespace = {{}}
exec("from {package} import *", namespace)
import {package} as package
names = sorted(k for k in namespace if not k.startswith("__") or k == "__version__")
same = all(namespace[n] is getattr(package, n) for n in package.__all__)
print(json.dumps([names, sorted(package.__all__), same, sorted(set(package.__all__) - set(dir(package)))]))
"""
    names, public, same, missing = _run(code)
    assert names == public
    assert same is True
    assert missing == []


def test_a_missing_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'nemovideo' has no attribute 'NoSuchName'"):
        nemovideo.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError, match="NoSuchModel"):
        exec("from nemovideo.models import NoSuchModel", {})


def test_subpackages_are_attributes_before_being_imported() -> None:
    code = """
import json, nemovideo
print(json.dumps([nemovideo.models.Draft.__module__, nemovideo.resources.Video.__module__,
                  nemovideo.session.Session is nemovideo.Session]))
"""
    assert _run(code) == ["nemovideo.models.draft", "nemovideo.resources.render", True]


def test_the_client_imports_without_models_and_loads_a_resource_on_first_use() -> None:
    """What ``from nemovideo import NemoClient`` and making a client (either API) leave unloaded, until a
    resource is used."""
    code = """
import json, sys
def loaded():
    lazy = ("nemovideo.models", "nemovideo.resources", "nemovideo._sse", "nemovideo._sync",
            "nemovideo.session")
    return sorted(m for m in sys.modules if m == "pydantic.main" or m.startswith(lazy))
import nemovideo
bare = loaded() + (["httpx"] if "httpx" in sys.modules else [])
from nemovideo import NemoClient
imported = loaded()
client = NemoClient(token="t", api_url="http://127.0.0.1:9")
NemoClient(api_key="nv_test", api="gateway", api_url="http://127.0.0.1:9")
made = loaded()
credits = client.credits
print(json.dumps([bare, imported, made, loaded(), client.credits is credits]))
"""
    bare, imported, made, used, cached = _run(code)
    assert bare == []
    assert imported == []
    assert made == []
    assert "nemovideo.resources.credits" in used
    assert "nemovideo.resources.render" not in used
    assert "nemovideo._sse" not in used
    assert cached is True
