"""The one pydantic base every model shares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ._docstrings import describe_fields


class Model(BaseModel):
    """Plain, frozen data. Unknown keys are kept: the API grows fields over versions.

    Attribute docstrings become the fields' descriptions (``_docstrings``, in place of pydantic's slower
    ``use_attribute_docstrings``); schemas build on first use (``defer_build``).
    """

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        populate_by_name=True,
        defer_build=True,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        describe_fields(cls)
