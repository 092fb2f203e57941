"""API resources. Each holds a ``Requestor`` and is usable without the ``Session`` handle."""

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:
    from .credits import CreditsResource
    from .projects import ProjectsResource
    from .render import RenderResource, Video
    from .sessions import SessionsResource
    from .state import StateResource
    from .uploads import UploadsResource

_LAZY = {
    "CreditsResource": (".credits", "CreditsResource"),
    "ProjectsResource": (".projects", "ProjectsResource"),
    "RenderResource": (".render", "RenderResource"),
    "SessionsResource": (".sessions", "SessionsResource"),
    "StateResource": (".state", "StateResource"),
    "UploadsResource": (".uploads", "UploadsResource"),
    "Video": (".render", "Video"),
}
"""Each name loaded on first use, so using one resource does not import the others."""

if not TYPE_CHECKING:
    __getattr__, __dir__ = attach(__name__, _LAZY)

__all__ = [
    "CreditsResource",
    "ProjectsResource",
    "RenderResource",
    "SessionsResource",
    "StateResource",
    "UploadsResource",
    "Video",
]
