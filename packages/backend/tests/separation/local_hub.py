"""Enough of the HuggingFace hub, on 127.0.0.1, for `hf_hub_download`: HEAD and GET on
`/{repo}/resolve/{revision}/{filename}` with the `X-Repo-Commit` and `ETag` headers it reads
(file_download.get_hf_file_metadata), and `Range` for resumed downloads. It serves a randomly
initialised HTDemucs in the hub's layout (`<name>.yaml` naming `<sig>.safetensors`, whose
metadata holds the class and its arguments, as demucs.hf.load_safetensors_model reads them).

`gate`: when set, a GET of the `gated` file sends half of it and waits until the gate opens, so
a test can watch a download in progress (huggingface_hub reports bytes in 10 MB steps: a bag of
two small models shows progress between its files).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SMALL_HTDEMUCS: dict[str, Any] = {"channels": 8, "bottom_channels": 0, "t_layers": 1, "segment": Fraction(39, 5)}


def _json_value(value: Any) -> Any:
    if isinstance(value, Fraction):
        return {"_type": "fraction", "numerator": value.numerator, "denominator": value.denominator}
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def hub_files(name: str, *bag: Any) -> dict[str, bytes]:
    """`{filename: bytes}` of a bag of models as the hub's demucs repositories hold it
    (`<name>.yaml`, then `0badc0d0.safetensors`, `0badc0d1.safetensors`, ...)."""
    from safetensors.torch import save

    files: dict[str, bytes] = {}
    for i, model in enumerate(bag):
        args, kwargs = model._init_args_kwargs
        state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
        cls = type(model)
        metadata = {
            "klass": f"{cls.__module__}.{cls.__name__}",
            "args": json.dumps(_json_value(list(args))),
            "kwargs": json.dumps(_json_value(kwargs)),
        }
        files[f"0badc0d{i}.safetensors"] = save(state, metadata=metadata)
    sigs = [f.removesuffix(".safetensors") for f in files]
    return {f"{name}.yaml": yaml.safe_dump({"models": sigs}).encode(), **files}


class LocalHub:
    def __init__(self) -> None:
        self.files: dict[tuple[str, str], bytes] = {}
        self.requests: list[str] = []
        self.gate: threading.Event | None = None
        self.gated = ""
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                hub._answer(self, body=False)

            def do_GET(self) -> None:
                hub._answer(self, body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, repo: str, files: dict[str, bytes]) -> None:
        for filename, data in files.items():
            self.files[(repo, filename)] = data

    def __enter__(self) -> LocalHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, req: BaseHTTPRequestHandler, *, body: bool) -> None:
        self.requests.append(f"{req.command} {req.path}")
        match = re.fullmatch(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>[^?]+)", req.path)
        data = self.files.get((match["repo"], match["file"])) if match else None
        if data is None:
            req.send_response(404)
            req.send_header("X-Error-Code", "EntryNotFound")
            req.send_header("X-Repo-Commit", COMMIT)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        start = 0
        ranged = re.fullmatch(r"bytes=(\d+)-", req.headers.get("Range", ""))
        if ranged:
            start = min(int(ranged[1]), len(data))
        req.send_response(206 if ranged else 200)
        req.send_header("X-Repo-Commit", COMMIT)
        req.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        req.send_header("Content-Length", str(len(data) - start))
        req.send_header("Content-Type", "application/octet-stream")
        req.end_headers()
        if not body:
            return
        part = data[start:]
        gate = self.gate if match and match["file"] == self.gated else None
        try:
            if gate is not None and not gate.is_set():
                half = len(part) // 2
                req.wfile.write(part[:half])
                req.wfile.flush()
                gate.wait(120)
                part = part[half:]
            req.wfile.write(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
