"""``nemo.uploads``: put media into a session, from local files or from URLs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from .._errors import APIConnectionError, AuthenticationError, ServerError
from .._files import MAX_FILE_SIZE, FileInput, LocalFile, MultipartBody, ProgressHook, prepare
from ..models.upload import UploadedFile, UploadResult
from ._base import Resource

log = logging.getLogger("nemovideo")

MAY_HAVE_LANDED = (
    "The upload was not repeated because it may have landed: check the session's media "
    "(`await session.state()`, video_infos) before uploading again."
)


class UploadsResource(Resource):
    async def upload(
        self,
        session_id: str,
        *files: FileInput,
        on_progress: ProgressHook | None = None,
        max_file_size: int = MAX_FILE_SIZE,
    ) -> list[UploadedFile]:
        """Upload files in one request: paths, binary file objects, or ``(filename, content)`` pairs whose
        content is bytes, a binary file or an async byte iterator.

        Every file is checked first (exists and is readable, an accepted type by extension and by its first
        bytes, at most ``max_file_size`` bytes), so a bad one raises ``FileNotFoundError``,
        ``UnsupportedFileError`` or ``FileTooLargeError`` with nothing sent. Files are streamed from disk;
        content of unknown length (async iterators, pipes) is first spooled to a temporary file so its size
        is known. ``on_progress(bytes_sent, total)`` follows the request body. Once the body started to go
        out, a failure is not retried: the upload may have landed.
        """
        local = await prepare(files, max_file_size=max_file_size)
        try:
            per = self._requestor.api.traits.files_per_upload or len(local)
            batches = [local[i : i + per] for i in range(0, len(local), per)]
            done = 0
            total = sum(item.size for item in local)
            uploaded: list[UploadedFile] = []
            for batch in batches:
                size = sum(item.size for item in batch)
                hook = _offset(on_progress, done, size, total) if len(batches) > 1 else on_progress
                uploaded += await self._send(session_id, batch, hook)
                done += size
            return uploaded
        finally:
            for item in local:
                item.close()

    async def _send(
        self, session_id: str, local: list[LocalFile], on_progress: ProgressHook | None
    ) -> list[UploadedFile]:
        """One upload request (the skill API takes every file at once, the gateway one a request)."""
        requestor = self._requestor
        api = requestor.api
        path = api.upload_path(session_id)
        endpoint = f"POST {path}"

        async def once() -> list[UploadedFile]:
            # a fresh body per attempt: it is read as it is sent
            body = MultipartBody(
                local, on_progress, field=api.traits.upload_field, fields=api.upload_fields(session_id)
            )
            request = requestor.build(
                "POST", path, headers={"Content-Type": body.content_type, "Content-Length": str(body.length)}
            )
            request.stream = body
            try:
                response = await requestor.send(request)
            finally:
                await body.aclose()
            if api.traits.files_per_upload == 1:
                return [
                    requestor.decode(response, UploadedFile, envelope=api.traits.envelope, endpoint=endpoint)
                ]
            return requestor.decode(
                response, UploadResult, envelope=api.traits.envelope, endpoint=endpoint
            ).files

        async def refreshing() -> list[UploadedFile]:
            try:
                sent: list[UploadedFile] = await requestor.retrying(once, idempotent=False, what=endpoint)
            except AuthenticationError:
                if not requestor.auth.is_anonymous:
                    raise
                # The refused upload was not stored. The auth layer dropped the expired token but could not
                # repeat a streamed body itself: repeat it here, once, with a fresh body and a new token.
                log.info("anonymous token refused (1001) on %s; repeating the upload once", endpoint)
                sent = await requestor.retrying(once, idempotent=False, what=endpoint)
            return sent

        try:
            return await refreshing()
        except APIConnectionError as exc:
            if not exc.sent:
                raise
            raise type(exc)(f"{exc}. {MAY_HAVE_LANDED}", sent=True) from exc
        except ServerError as exc:
            exc.hint = f"{exc.hint} {MAY_HAVE_LANDED}"
            raise

    async def from_urls(self, session_id: str, urls: Sequence[str]) -> list[UploadedFile]:
        """Have the API fetch media from ``http(s)`` URLs. Not retried once sent (it may have landed)."""
        if isinstance(urls, str):
            urls = [urls]
        urls = list(urls)
        if not urls:
            raise ValueError("nothing to upload: pass one or more URLs")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"not an http(s) URL: {url!r}")
        api = self._requestor.api
        api.require("uploads.from_urls()", "skill")
        data = await self._requestor.request(
            "POST",
            api.upload_path(session_id),
            UploadResult,
            json={"urls": urls, "source_type": "url"},
            idempotent=False,
        )
        return data.files


def _offset(hook: ProgressHook | None, done: int, size: int, total: int) -> ProgressHook | None:
    """Progress over all files when they go in several requests, in bytes of file data: a body's bytes
    (its multipart framing included) are scaled to the ``size`` bytes of its files, so it never steps back."""
    if hook is None:
        return None

    def progressed(sent: int, length: int) -> None:
        hook(done + (sent * size // length if length else size), total)

    return progressed


__all__ = ["UploadsResource"]
