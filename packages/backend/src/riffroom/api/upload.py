"""Streamed, capped multipart upload: bytes are counted and hashed as they arrive.

The cap holds whatever the client claims: a Content-Length over it is refused before reading,
and a lying or absent one (chunked) is cut as soon as the counted bytes pass it. Only the part
named `file` is kept, in a generated temporary name; the client's filename is kept as a label.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from riffroom.api.errors import ApiError
from riffroom.errors import is_disk_full, storage_full

MULTIPART_OVERHEAD = 64 * 1024  # headers, boundaries and small fields around the file


@dataclass
class UploadedFile:
    path: Path
    size: int
    sha256: str
    filename: str


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str = ""


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the upload is larger than the {limit / 1e6:.0f} MB limit")


def safe_label(filename: str) -> str:
    """A display name from a client filename: no directories, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name.strip(" .")[:200]


def _discard(out: BinaryIO, path: Path) -> None:
    """Close and remove a partial upload; closing can fail again on a full disk (buffered bytes)."""
    try:
        out.close()
    except OSError:
        pass
    path.unlink(missing_ok=True)


async def receive_upload(request: Request, tmp_dir: Path, limit: int) -> UploadedFile:
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(400, "bad_request", "send the song as multipart/form-data with a field named 'file'")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)

    path = tmp_dir / f"upload-{uuid.uuid4().hex}"
    out = open(path, "wb")
    digest = hashlib.sha256()
    state = {"size": 0, "found": False, "done_file": False}
    part = _Part()
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        part.headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disp.get(b"name", b"").decode("utf-8", "replace")
        part.filename = disp.get(b"filename", b"").decode("utf-8", "replace")
        if part.name == "file" and not state["found"]:
            state["found"] = True
            state["filename"] = part.filename  # type: ignore[assignment]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.name != "file" or state["done_file"]:
            return
        chunk = data[start:end]
        state["size"] += len(chunk)
        if state["size"] > limit:
            raise too_large(limit)
        digest.update(chunk)
        out.write(chunk)

    def on_part_end() -> None:
        if part.name == "file" and state["found"]:
            state["done_file"] = True

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MULTIPART_OVERHEAD:
                raise too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:
        _discard(out, path)
        raise ApiError(400, "bad_request", "the client disconnected during the upload") from None
    except ApiError:
        _discard(out, path)
        raise
    except Exception as exc:  # malformed multipart, or no room left for the bytes
        _discard(out, path)
        if is_disk_full(exc):
            raise storage_full("the upload") from None
        raise ApiError(400, "bad_request", f"malformed multipart body ({exc})") from None
    try:
        out.flush()
        os.fsync(out.fileno())
        out.close()
    except OSError as exc:
        _discard(out, path)
        if is_disk_full(exc):
            raise storage_full("the upload") from None
        raise
    if not state["found"]:
        path.unlink(missing_ok=True)
        raise ApiError(400, "bad_request", "no field named 'file' in the upload")
    return UploadedFile(path, int(state["size"]), digest.hexdigest(), str(state.get("filename", "")))
