"""Security properties, against the emulator where it applies.

- No token in log records at any level (the SDK's, httpx's and httpcore's loggers at DEBUG), in exception
  strings, reprs or tracebacks, in any URL the API saw, nor on the CDN (which never sees Authorization).
- The token file is 0600 in a 0700 directory: proved in tests/sdk/test_config.py
  (``test_token_store_files_are_private``) and tests/sdk/test_client.py
  (``test_token_file_is_private_and_reused``); here only a directory that existed with looser modes.
- A download stays in its target's directory whatever the file name or URL the server hands out.
- TLS verification stays on unless ``verify=False`` is passed: environment variables do not turn it off.
- Plain ``http://`` off loopback is refused before any request, unless ``allow_insecure_http=True``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import ssl
import stat
import subprocess
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import certifi
import httpx
import pytest
from anyio.abc import ByteStream, Listener
from anyio.streams.tls import TLSListener

import nemovideo
from nemovideo import (
    APIConnectionError,
    ConfigurationError,
    DownloadError,
    NemoError,
    Recovery,
    RenderJob,
)
from nemovideo._transport import GatedTransport
from nemovideo.emulator import Emulator

from ..sdk._media import GENERATE, png, rendered

pytestmark = pytest.mark.anyio

TOKEN_PREFIX = "nmv_usr_"
FAST = Recovery(first_wait=0.05, wait=0.05, max_reads=2)


def transport_context(nemo: nemovideo.NemoClient) -> ssl.SSLContext:
    """The SSL context the client's connection pool will use for https."""
    transport = nemo._requestor.http._transport
    if isinstance(transport, GatedTransport):  # the gate in front of the pool
        transport = transport._inner
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    context = transport._pool._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def texts_of(error: BaseException) -> list[str]:
    """What a user or a crash report could see of an error: str, repr and the whole traceback chain."""
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


# --- no token anywhere ----------------------------------------------------------------------------


async def test_no_token_in_logs_errors_reprs_urls_or_on_the_cdn(
    nemo_emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, waits: list[float]
) -> None:
    """A whole generate -> upload -> export -> download flow, a token replaced half-way, and one error of
    each kind, with every logger at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in ("nemovideo", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    emulator = nemo_emulator
    emulator.configure(credits=1000, silent_share=0.0, generation_seconds=0.2, job_progression="immediate")
    seen: list[str] = []
    errors: list[BaseException] = []

    async def expect_error(call: object) -> None:
        assert callable(call)
        with pytest.raises(NemoError) as info:
            await call()
        errors.append(info.value)

    out = tmp_path / "out"
    out.mkdir()
    async with nemovideo.NemoClient(api_url=emulator.url, config_dir=tmp_path / "cfg") as nemo:
        session = await nemo.sessions.create()
        uploaded = await session.upload(("logo.png", png()))
        reply = await session.send(GENERATE)
        events = []
        async with session.stream("Set the music volume to 60%") as stream:
            events = [event async for event in stream]
        emulator.faults.add("state", "expire_token")  # the first token expires mid-flow: a new one follows
        state = await session.state()
        video = await session.export(quality="draft", poll_interval=0.01, download_to=out / "a.mp4")
        emulator.faults.add("cdn", "status", status=503)  # the API's authenticated download route
        await video.download(out / "b.mp4")
        credits = await nemo.credits.balance()
        seen += [repr(x) for x in (nemo, nemo.config, nemo._requestor.auth, session, reply, state, video)]
        seen += [repr(x) for x in (state.draft, video.job, credits, *uploaded, *events)]
        seen += [str(x) for x in (nemo, session, reply, video)]

        # one error of each kind the flow can meet
        emulator.faults.add("state", "status", status=503, count=5)
        await expect_error(session.state)
        emulator.faults.add("credits", "rate_limit", retry_after=120)
        await expect_error(nemo.credits.balance)
        emulator.faults.add("create_session", "drop_before_headers")
        await expect_error(nemo.sessions.create)
        emulator.faults.add("credits", "malformed_json")
        await expect_error(nemo.credits.balance)
        emulator.faults.add("run_sse", "drop_before_headers")
        await expect_error(lambda: session.send("hello there", recovery=FAST))
        emulator.faults.add("run_sse", "malformed_json")
        await expect_error(lambda: session.send("hello there"))
        emulator.faults.add("run_sse", "expire_token")
        await expect_error(lambda: session.send("hello there"))
        emulator.faults.add("cdn", "drop_after_headers", count=None)  # every resume cut too
        emulator.faults.add("render_download", "drop_after_headers")
        await expect_error(lambda: video.download(out / "c.mp4"))
        await expect_error(lambda: nemo.render.wait("render_unknown", poll_interval=0.01))
    async with nemovideo.NemoClient(api_url=emulator.url, token=TOKEN_PREFIX + "mine0123456789") as own:
        await expect_error(own.credits.balance)
        seen.append(repr(own))

    tokens = [*emulator.ctx.store.tokens, TOKEN_PREFIX + "mine0123456789"]
    assert len(tokens) >= 3  # the first anonymous token, its replacement, the caller's own
    assert {type(e).__name__ for e in errors} >= {
        "ServerError",
        "RateLimitError",
        "APIConnectionError",
        "ProtocolError",
        "StreamDisconnected",
        "AgentError",
        "AuthenticationError",
        "DownloadError",
    }
    for error in errors:
        seen += texts_of(error)
    records = caplog.records
    assert {r.name.split(".")[0] for r in records} >= {"nemovideo", "httpx", "httpcore"}
    assert any(r.levelno == logging.DEBUG for r in records)
    seen += [caplog.text, *(r.getMessage() for r in records), *(repr(r.args) for r in records)]
    for entry in emulator.log:
        seen.append(f"{entry.path}?{entry.query}")
        seen += [value for name, value in entry.headers.items() if name != "authorization"]
    for text in seen:
        assert TOKEN_PREFIX not in text, text[:300]
        for token in tokens:
            assert token[len(TOKEN_PREFIX) :] not in text

    cdn = [e for e in emulator.log if e.origin == "cdn"]
    assert len(cdn) >= 3  # two good downloads' worth of tries and a broken one
    assert not any(e.has_authorization or "authorization" in e.extra.get("rejected", "") for e in cdn)
    api = [e for e in emulator.log if e.origin == "api" and e.endpoint != "anonymous_token"]
    assert all(e.has_authorization for e in api)  # the token went where it belongs, in a header


# --- the token file -------------------------------------------------------------------------------


async def test_a_loose_config_directory_is_tightened(nemo_emulator: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir(mode=0o755)
    os.chmod(config, 0o755)
    (config / "tokens.json").write_text("{}")
    os.chmod(config / "tokens.json", 0o644)
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=config) as nemo:
        await nemo.credits.balance()
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    assert stat.S_IMODE((config / "tokens.json").stat().st_mode) == 0o600
    assert TOKEN_PREFIX in (config / "tokens.json").read_text()


# --- downloads stay in their directory ------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (symlinks as their target), by path, with a hash of its content."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[str(path)] = "-> " + os.readlink(path)
        elif path.is_file():
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


async def test_a_download_cannot_leave_its_directory(nemo_emulator: Emulator, tmp_path: Path) -> None:
    nemo_emulator.configure(job_progression="immediate")
    root = tmp_path / "root"
    out = root / "a" / "b" / "out"
    out.mkdir(parents=True)
    outside = root / "a" / "precious.mp4"
    outside.write_bytes(b"precious")
    (out / "planted.mp4").symlink_to(outside)
    async with nemovideo.NemoClient(api_url=nemo_emulator.url, config_dir=tmp_path / "cfg") as nemo:
        job = await rendered(nemo)
        assert job.output_url is not None
        good = job.output_url
        before = {k: v for k, v in snapshot(root).items() if not k.startswith(str(out))}

        # names the server could hand out, as a render id or inside a finished job
        for crafted in ("../../../escape", "..\\..\\escape2", "/etc/escape3", "..", "%2e%2e%2fescape4"):
            forged = RenderJob(id=crafted, status="completed", progress=100, output_url=good)
            saved = await nemo.render.download(forged, out)
            assert saved.parent == out
        # output URLs with dot segments, encoded separators, or a path in a query or fragment
        for url in (
            f"{good}/../../../x.mp4",
            f"{nemo_emulator.cdn_url}/renders/..%2F..%2F..%2Fescape5.mp4",
            f"{good}?name=../../escape6.mp4",
            f"{good}#/../../escape7.mp4",
        ):
            with suppress(DownloadError):
                saved = await nemo.render.download(url, out, overwrite=True)
                assert saved.parent == out
        # a symlink planted at the target is replaced, never written through
        await nemo.render.download(job, out / "planted.mp4", overwrite=True)
        # a render id with a path in it is a lookup of that id (quoted in the URL), not a file name
        with pytest.raises(NemoError):
            await nemo.render.download("../../../etc/passwd", out)

    assert {k: v for k, v in snapshot(root).items() if not k.startswith(str(out))} == before
    assert outside.read_bytes() == b"precious"
    assert not (out / "planted.mp4").is_symlink()
    names = sorted(p.name for p in out.iterdir())
    assert {"escape.mp4", "escape2.mp4", "escape3.mp4", "planted.mp4"} <= set(names), names
    assert all(not n.startswith(".") for n in names), names  # no dot-names, no leftover temporary files
    assert not [p for p in snapshot(tmp_path) if p.endswith(".part")]


# --- TLS verification -----------------------------------------------------------------------------

INSECURE_ENVIRONMENT = {
    "PYTHONHTTPSVERIFY": "0",
    "HTTPX_VERIFY": "0",
    "HTTPX_SSL_VERIFY": "false",
    "REQUESTS_CA_BUNDLE": "",
    "CURL_CA_BUNDLE": "",
    "SSL_VERIFY": "false",
    "NODE_TLS_REJECT_UNAUTHORIZED": "0",
}


@pytest.fixture
def insecure_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variable someone might hope turns verification off."""
    for name, value in INSECURE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def test_verification_is_on_by_default_and_the_environment_cannot_turn_it_off(
    insecure_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for extra in ({}, {"SSL_CERT_FILE": certifi.where(), "SSL_CERT_DIR": str(tmp_path)}):
        for name, value in extra.items():
            monkeypatch.setenv(name, value)  # these choose which authorities are trusted, not whether
        context = transport_context(nemovideo.NemoClient(api_url="https://api.example.com"))
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(FileNotFoundError):  # a broken trust store fails loudly, never falls back to none
        nemovideo.NemoClient(api_url="https://api.example.com")
    monkeypatch.delenv("SSL_CERT_FILE")
    context = transport_context(nemovideo.NemoClient(api_url="https://api.example.com", verify=False))
    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no public CA signed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def _pipe(source: ByteStream, sink: ByteStream) -> None:
    with suppress(anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        async for chunk in source:
            await sink.send(chunk)


@asynccontextmanager
async def relay(
    target: str, *, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """A TCP relay to ``target`` (an emulator URL), optionally terminating TLS: yields its port."""
    target_port = httpx.URL(target).port
    assert target_port is not None
    listener = await anyio.create_tcp_listener(local_host=host, local_port=0)
    port = listener.listeners[0].extra(anyio.abc.SocketAttribute.local_port)
    serving: Listener[Any] = listener
    if tls is not None:
        serving = TLSListener(listener, tls, standard_compatible=False)

    async def handle(client: ByteStream) -> None:
        async with (
            client,
            await anyio.connect_tcp("127.0.0.1", target_port) as upstream,
            anyio.create_task_group() as tg,
        ):

            async def one_way(a: ByteStream, b: ByteStream) -> None:
                await _pipe(a, b)
                tg.cancel_scope.cancel()

            tg.start_soon(one_way, client, upstream)
            tg.start_soon(one_way, upstream, client)

    async with serving, anyio.create_task_group() as tg:
        tg.start_soon(serving.serve, handle)
        try:
            yield port
        finally:
            tg.cancel_scope.cancel()


async def test_a_certificate_no_one_trusts_is_refused_whatever_the_environment(
    nemo_emulator: Emulator,
    self_signed: tuple[Path, Path],
    insecure_environment: None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cert, key = self_signed
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    caplog.set_level(logging.CRITICAL, logger="anyio")  # the relay's failed handshakes are expected
    async with relay(nemo_emulator.url, tls=server) as port:
        url = f"https://127.0.0.1:{port}"
        async with nemovideo.NemoClient(api_url=url, config_dir=tmp_path / "a", max_retries=0) as nemo:
            with pytest.raises(APIConnectionError, match=r"(?i)certificate"):
                await nemo.credits.balance()
        assert nemo_emulator.log == []  # no request, not even the token request, went through
        trusting = ssl.create_default_context(cafile=str(cert))
        async with nemovideo.NemoClient(api_url=url, config_dir=tmp_path / "b", verify=trusting) as nemo:
            assert (await nemo.credits.balance()).total == 100
        async with nemovideo.NemoClient(api_url=url, config_dir=tmp_path / "c", verify=False) as nemo:
            assert (await nemo.credits.balance()).total == 100
    assert [e.endpoint for e in nemo_emulator.log] == ["anonymous_token", "credits"] * 2


# --- plain http off loopback ----------------------------------------------------------------------


def outward_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def off_loopback() -> str:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address off loopback")
    return address


async def test_plain_http_off_loopback_sends_nothing_unless_allowed(
    nemo_emulator: Emulator, off_loopback: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with relay(nemo_emulator.url, host=off_loopback) as port:
        url = f"http://{off_loopback}:{port}"
        with pytest.raises(ConfigurationError, match="plain http"):
            nemovideo.NemoClient(api_url=url, config_dir=tmp_path)
        monkeypatch.setenv("NEMO_API_URL", url)
        with pytest.raises(ConfigurationError, match="allow_insecure_http=True"):
            nemovideo.NemoClient(config_dir=tmp_path)
        assert nemo_emulator.log == []
        async with nemovideo.NemoClient(config_dir=tmp_path, allow_insecure_http=True) as nemo:
            assert (await nemo.credits.balance()).total == 100
    assert [e.endpoint for e in nemo_emulator.log] == ["anonymous_token", "credits"]
