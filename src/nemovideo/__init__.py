"""nemovideo: a typed async SDK for the NemoVideo AI video API.

``import nemovideo`` loads the client and its models only; the emulator and the command line load when
used.
"""

from ._client import NemoClient
from ._config import Config
from ._errors import (
    ACCEPTED_FORMATS,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ExportBlockedError,
    FileTooLargeError,
    InsufficientCreditsError,
    MissingClientIdError,
    NemoError,
    ProtocolError,
    RateLimitError,
    ServerError,
    SessionNotFoundError,
    TransportError,
    UnsupportedFileError,
)
from ._version import __version__
from .models import Credits

__all__ = [
    "ACCEPTED_FORMATS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Config",
    "ConfigurationError",
    "Credits",
    "ExportBlockedError",
    "FileTooLargeError",
    "InsufficientCreditsError",
    "MissingClientIdError",
    "NemoClient",
    "NemoError",
    "ProtocolError",
    "RateLimitError",
    "ServerError",
    "SessionNotFoundError",
    "TransportError",
    "UnsupportedFileError",
    "__version__",
]
