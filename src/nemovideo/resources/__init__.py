"""API resources. Each holds a ``Requestor`` and is usable without the ``Session`` handle."""

from .credits import CreditsResource
from .projects import ProjectsResource
from .render import RenderResource, Video
from .sessions import SessionsResource
from .state import StateResource
from .uploads import UploadsResource

__all__ = [
    "CreditsResource",
    "ProjectsResource",
    "RenderResource",
    "SessionsResource",
    "StateResource",
    "UploadsResource",
    "Video",
]
