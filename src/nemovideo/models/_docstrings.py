"""Field descriptions from attribute docstrings, read with one parse of each module.

pydantic's ``use_attribute_docstrings`` does the same, but on Python < 3.13 it finds each class's source
by walking the call stack and asking ``inspect.getmodule`` of every frame: about half the time it takes
to define the SDK's models. This reads each module's source once and keeps pydantic's rule: a string
statement right after an annotated attribute describes it, unless the field has a description already.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any


def describe_fields(cls: Any) -> None:
    """Give the fields of a model class just defined the descriptions its attribute docstrings hold."""
    docs = _module_docs(cls.__module__).get(cls.__qualname__)
    if not docs:
        return
    for name, field in cls.__pydantic_fields__.items():
        if field.description is None and name in docs:
            field.description = docs[name]


@functools.cache
def _module_docs(module: str) -> dict[str, dict[str, str]]:
    """For each class of the module (by qualified name): its attributes' docstrings."""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (KeyError, OSError, TypeError, SyntaxError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                found[prefix + node.name] = _attribute_docs(node)
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _attribute_docs(node: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    target: str | None = None
    for statement in node.body:
        if (
            target is not None
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            docs[target] = inspect.cleandoc(statement.value.value)
        target = None
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            target = statement.target.id
    return docs
