"""nemovideo: a typed async SDK for the NemoVideo AI video API."""

from ._version import __version__

__all__ = ["__version__"]
