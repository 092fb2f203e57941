"""Field descriptions come from attribute docstrings, exactly as pydantic's ``use_attribute_docstrings``.

The SDK reads them with one parse per module (``models/_docstrings``) instead of pydantic's stack walk;
a fresh interpreter with pydantic's own extraction turned back on must describe every model alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

DUMP = """
import importlib, json, pkgutil, sys
if sys.argv[1] == "pydantic":
    import nemovideo.models._docstrings as ours
    ours.describe_fields = lambda cls: None
    from nemovideo.models._base import Model
    Model.model_config["use_attribute_docstrings"] = True
import nemovideo.models
from nemovideo.models._base import Model
for info in pkgutil.iter_modules(nemovideo.models.__path__):
    importlib.import_module("nemovideo.models." + info.name)
importlib.import_module("nemovideo._api._frontend")

def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)

out = {}
for cls in every(Model):
    if "[" in cls.__name__:
        continue  # a parametrized generic, described by its origin
    key = cls.__module__ + "." + cls.__qualname__
    out[key] = {
        "fields": {name: f.description for name, f in cls.model_fields.items()},
        "schema": cls.model_json_schema(),
    }
print(json.dumps(out, sort_keys=True))
"""


def _dump(how: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", DUMP, how], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_descriptions_and_schemas_match_pydantics_own_extraction() -> None:
    ours, theirs = _dump("ours"), _dump("pydantic")
    assert ours.keys() == theirs.keys()
    described = [k for k, v in ours.items() if any(v["fields"].values())]
    assert len(described) >= 5  # the models do document their fields
    for key in ours:
        assert ours[key] == theirs[key], key
