"""Typed data returned by the API. Models hold data only, never a client."""

from .credits import Credits

__all__ = ["Credits"]
