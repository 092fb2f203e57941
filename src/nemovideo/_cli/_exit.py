"""Exit codes and error messages of the command line: one code per kind of failure, a hint for each.

A script can branch on the code without parsing text; a person reads ``error:`` and ``hint:`` on stderr.
Documented errors never print a traceback.
"""

from __future__ import annotations

from typing import Any

from .. import _errors as e

OK = 0
USAGE = 2
INTERRUPTED = 130

EXIT_CODES: tuple[tuple[int, tuple[type[BaseException], ...], str], ...] = (
    (
        3,
        (e.ConfigurationError, e.UnsupportedOnThisAPI),
        "the settings cannot work (e.g. plain http off loopback), or the feature is on the other API only",
    ),
    (
        4,
        (e.AuthenticationError, e.MissingClientIdError),
        "the token was refused (1001) or no client id (400)",
    ),
    (5, (e.SessionNotFoundError,), "the session does not exist (1002)"),
    (6, (e.InsufficientCreditsError,), "not enough credits (2001)"),
    (7, (e.ExportBlockedError,), "the plan cannot export (402): a plan issue, not credits"),
    (8, (e.RateLimitError,), "rate limited (429)"),
    (
        9,
        (e.UnsupportedFileError, e.FileTooLargeError, OSError),
        "a local file problem: type not accepted (4001), too large (4002), missing, unreadable, in the way",
    ),
    (10, (e.AgentError,), "the agent's turn failed"),
    (11, (e.DraftNotReadyError,), "nothing to export yet: the timeline is empty"),
    (12, (e.RenderError,), "the render failed, was cancelled or did not finish in time"),
    (13, (e.DownloadError,), "the video could not be saved"),
    (14, (e.TransportError, e.ServerError), "no usable answer: network, timeout, server failure"),
    (15, (e.APIError,), "the API refused the request (another code)"),
    (1, (e.NemoError,), "any other error of the SDK"),
)
"""(exit code, error classes, meaning), most specific first: the first match wins."""

_HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (e.RenderTimeoutError, "The job may still be running: `nemovideo export <session> --render-id <id>`."),
    (e.RenderError, "Export again: `nemovideo export <session>`."),
    (e.DraftNotReadyError, "Ask the agent for a video first, e.g. `generate a 10-second video about ...`."),
    (
        e.StreamDisconnected,
        "The message was not re-sent. Check `nemovideo state <session>`; send it again if nothing changed.",
    ),
    (e.StreamTimeout, "The agent may still finish: check `nemovideo state <session>` in a minute."),
    (e.AgentError, "Rephrase the request, or try again."),
    (e.DownloadError, "Download again with `nemovideo export <session> --render-id <id>`."),
    (e.ProtocolError, "The server answered in an unexpected shape; check NEMO_API_URL."),
    (e.APIConnectionError, "Check your network and NEMO_API_URL, or use --emulator to work offline."),
    (e.ConfigurationError, "Check NEMO_API_URL and NEMO_TOKEN."),
    (
        e.UnsupportedOnThisAPI,
        "Set NEMO_API_KEY for the gateway, or unset it for the skill API (docs/which-api.md).",
    ),
    (FileExistsError, "Choose another path with -o, or remove the file."),
    (OSError, "Check the path."),
    (e.NemoError, "Try again; if it keeps failing, report the message above."),
)


def exit_code(exc: BaseException) -> int:
    for code, classes, _ in EXIT_CODES:
        if isinstance(exc, classes):
            return code
    return 1


def hint(exc: BaseException) -> str | None:
    """The error's own hint (API errors carry one), else ours for its kind."""
    own = getattr(exc, "hint", None)
    if isinstance(own, str) and own:
        return own
    for cls, text in _HINTS:
        if isinstance(exc, cls):
            return text
    return None


def message(exc: BaseException) -> str:
    """The message without the hint (an ``APIError``'s ``str`` appends it; it is printed apart)."""
    if isinstance(exc, e.APIError):
        tags = [f"code {exc.code}"] if exc.code is not None else []
        if exc.request_id:
            tags.append(f"request {exc.request_id}")
        return exc.message + (f" ({', '.join(tags)})" if tags else "")
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, e.ConfigurationError):
        text = _speak_cli(text)
    return text


_PYTHON_TO_CLI = (
    ("API URL ", "NEMO_API_URL "),
    (
        "Use https, or pass allow_insecure_http=True if you really mean it.",
        "Set NEMO_API_URL to an https URL; plain http works only on this machine (127.0.0.1, localhost).",
    ),
)


def _speak_cli(text: str) -> str:
    """A settings error as a command-line user can act on it: variables, not Python arguments."""
    for python, cli in _PYTHON_TO_CLI:
        text = text.replace(python, cli)
    return text


def as_json(exc: BaseException) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": message(exc),
        "hint": hint(exc),
        "exit_code": exit_code(exc),
    }
    for name in ("code", "http_status", "request_id", "render_id", "retry_after", "registration_url"):
        value = getattr(exc, name, None)
        if value is not None:
            data[name] = value
    return data
