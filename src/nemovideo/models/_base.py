"""The one pydantic base every model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Plain, frozen data. Unknown keys are kept: the API grows fields over versions."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        populate_by_name=True,
        defer_build=True,
        use_attribute_docstrings=True,
    )
