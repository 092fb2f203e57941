"""`python -m nemovideo.emulator`: serve the emulator until Ctrl-C or SIGTERM.

The first line printed is the API base URL, the second the CDN origin; scripts read them to find the ports.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from ._accounts import KEY_RE
from ._server import Emulator


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m nemovideo.emulator",
        description="A local NemoVideo API for tests and offline demos. Its agent is a deterministic "
        "rule-based stand-in, not an AI.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="API port (0: a free one)")
    p.add_argument("--cdn-port", type=int, default=0, help="CDN origin port (0: a free one)")
    p.add_argument(
        "--data-dir", default=None, help="where uploads and renders go (default: a temp dir removed at exit)"
    )
    p.add_argument("--credits", type=int, default=100, help="credits of a new anonymous token (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of ids, silent edits and fault probabilities")
    p.add_argument(
        "--silent-share", type=float, default=0.3, help="share of edits streaming no text (default 0.3)"
    )
    p.add_argument(
        "--generation-seconds", type=float, default=3.0, help="how long a generation works (default 3)"
    )
    p.add_argument(
        "--edit-fraction", type=float, default=0.1, help="an edit works this share of a generation"
    )
    p.add_argument(
        "--heartbeat-interval", type=float, default=1.0, help="seconds between heartbeats (default 1)"
    )
    p.add_argument(
        "--error-transport", choices=("json", "http"), default="json", help="how codes 1001..4002 travel"
    )
    p.add_argument(
        "--message-key", choices=("msg", "message", "error"), default="msg", help="error message key"
    )
    p.add_argument(
        "--poll-shape", choices=("data", "output"), default="data", help="render poll response shape"
    )
    p.add_argument(
        "--max-upload-mb", type=float, default=500, help="largest accepted upload, MB (default 500)"
    )
    p.add_argument(
        "--tokens-per-ip", type=int, default=10, help="anonymous tokens per IP every 7 days (default 10)"
    )
    p.add_argument(
        "--job-progression", choices=("real", "immediate", "manual"), default="real", help="render job timing"
    )
    p.add_argument(
        "--render-quality", choices=("high", "medium", "draft"), default=None, help="force a preset"
    )
    p.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="register a gateway API key (repeatable); with --strict-keys only these are accepted",
    )
    p.add_argument(
        "--strict-keys",
        action="store_true",
        help="gateway: refuse keys not registered (default: any well-formed nmv_usr_ key)",
    )
    p.add_argument(
        "--gateway-envelope",
        choices=("code", "success", "bare"),
        default="code",
        help="gateway REST body shape (default code)",
    )
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "credits": args.credits,
        "seed": args.seed,
        "silent_share": args.silent_share,
        "generation_seconds": args.generation_seconds,
        "edit_fraction": args.edit_fraction,
        "heartbeat_interval": args.heartbeat_interval,
        "error_transport": args.error_transport,
        "message_key": args.message_key,
        "poll_shape": args.poll_shape,
        "max_upload_bytes": int(args.max_upload_mb * 1024 * 1024),
        "tokens_per_ip": args.tokens_per_ip,
        "job_progression": args.job_progression,
        "render_quality": args.render_quality,
        "gateway_strict_keys": args.strict_keys,
        "gateway_envelope": args.gateway_envelope,
    }


_EMULATOR_LIBRARIES = {"starlette", "uvicorn", "multipart", "python_multipart", "imageio_ffmpeg", "wsproto"}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _serve(argv)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _EMULATOR_LIBRARIES:
            raise
        print(
            "error: the emulator needs the 'emulator' extra: pip install \"nemovideo[emulator]\"",
            file=sys.stderr,
        )
        return 2


def _serve(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    bad = [key for key in args.api_key if not KEY_RE.fullmatch(key)]
    if bad:
        print(
            f"error: --api-key: {len(bad)} malformed key(s): an API key is 'nmv_usr_' and 8..128 letters, "
            "digits, - or _",
            file=sys.stderr,
        )
        return 2
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            cdn_port=args.cdn_port,
            data_dir=args.data_dir,
            **settings_from(args),
        )
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        emulator.start()
    except OSError as exc:
        print(f"error: cannot listen: {exc}", file=sys.stderr)
        return 1
    for key in args.api_key:
        emulator.add_api_key(key)
    print(emulator.url, flush=True)
    print(emulator.cdn_url, flush=True)
    print(
        "NemoVideo emulator running (a deterministic stand-in, not an AI). Ctrl-C to stop.", file=sys.stderr
    )
    try:
        while not stop.wait(0.2):
            pass
    finally:
        emulator.stop()
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
