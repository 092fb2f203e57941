"""The answer envelopes the requestor decodes, as pydantic models.

A module of their own so that importing the client does not import pydantic's model machinery; the
requestor imports this on its first decode.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class CodeEnvelope(BaseModel, Generic[T]):
    code: int
    data: T | None = None
    msg: str | None = None
    message: str | None = None
    error: str | None = None


class ErrorBody(BaseModel):
    """Any error body: the documented envelope, the render envelope, or a framework's ``detail``."""

    code: int | str | None = None
    success: bool | None = None
    msg: str | None = None
    message: str | None = None
    error: str | None = None
    detail: Any = None


class RenderEnvelope(BaseModel, Generic[T]):
    success: bool
    data: T | None = None
    error: str | None = None
    message: str | None = None
