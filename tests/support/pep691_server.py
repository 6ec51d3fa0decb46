"""A PEP 691 package index on 127.0.0.1 for tests, with faults on demand.

Serves /simple/<project>/ (JSON, or HTML when asked), PEP 658 `.metadata`
files, and wheel files with Range support. `faults[path]` is a list of faults
used up one per request: a status such as "500" or "503", "429:<seconds>", "reset", "delay:<seconds>",
"truncate", "badjson", "redirect:<location>". Any other path is served from
`blobs` (an upstream pyproject, say), with the same faults.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional


def make_wheel(name: str, version: str, metadata: str, padding: int = 0) -> bytes:
    """A real wheel zip; `padding` bytes of incompressible data make it big."""
    buf = io.BytesIO()
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if padding:
            import random

            rnd = random.Random(0)
            zf.writestr(f"{name.replace('-', '_')}/blob.bin", bytes(rnd.getrandbits(8) for _ in range(padding)))
        zf.writestr(f"{dist}/METADATA", metadata)
        zf.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        zf.writestr(f"{dist}/RECORD", "")
    return buf.getvalue()


class Index:
    def __init__(self):
        self.projects: Dict[str, List[dict]] = {}
        self.blobs: Dict[str, bytes] = {}
        self.faults: Dict[str, List[str]] = {}
        self.hits: Dict[str, int] = {}
        self.headers_seen: Dict[str, List[dict]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay: Dict[str, float] = {}  # a steady delay for every request of a path
        # called with the path of every request, in its handler thread, once it counts as in flight
        self.hold: Optional[Callable[[str], None]] = None
        self.lock = threading.Lock()
        self.server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple/"

    def add_file(self, project: str, filename: str, body: bytes, metadata: Optional[str] = None,
                 requires_python: Optional[str] = None, yanked: bool = False) -> None:
        path = f"/files/{filename}"
        self.blobs[path] = body
        if metadata is not None:
            self.blobs[path + ".metadata"] = metadata.encode("utf-8")
        entry = {"filename": filename, "url": path, "hashes": {"sha256": hashlib.sha256(body).hexdigest()}}
        if requires_python:
            entry["requires-python"] = requires_python
        if yanked:
            entry["yanked"] = True
        if metadata is not None:
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata.encode()).hexdigest()}
        self.projects.setdefault(project, []).append(entry)

    def page(self, project: str) -> bytes:
        return json.dumps({"meta": {"api-version": "1.1"}, "name": project,
                           "files": self.projects[project]}).encode("utf-8")

    def __enter__(self) -> "Index":
        index = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with index.lock:
                    index.hits[self.path] = index.hits.get(self.path, 0) + 1
                    index.headers_seen.setdefault(self.path, []).append(dict(self.headers))
                    fault = index.faults.get(self.path, []).pop(0) if index.faults.get(self.path) else None
                    index.in_flight += 1
                    index.max_in_flight = max(index.max_in_flight, index.in_flight)
                try:
                    if index.hold is not None:
                        index.hold(self.path)
                    self.answer(fault)
                finally:
                    with index.lock:
                        index.in_flight -= 1

            def answer(self, fault):
                if self.path in index.delay:
                    time.sleep(index.delay[self.path])
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault and fault.startswith("delay:"):
                    time.sleep(float(fault.split(":")[1]))
                if fault and fault.startswith("redirect:"):
                    return self.send(302, b"", "text/plain", {"Location": fault.split(":", 1)[1]})
                if fault and fault.isdigit():  # "500", "503": that status
                    return self.send(int(fault), b"oops", "text/plain")
                if fault and fault.startswith("429:"):
                    return self.send(429, b"slow down", "text/plain", {"Retry-After": fault.split(":")[1]})
                body, ctype = self.lookup()
                if body is None:
                    return self.send(404, b"not found", "text/plain")
                if fault == "badjson":
                    body = b"{not json"
                etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, b"", ctype, {"ETag": etag})
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    return self.ranged(body, rng[6:], ctype)
                extra = {"ETag": etag, "Last-Modified": "Mon, 24 Nov 2025 10:00:00 GMT"}
                if fault == "truncate":
                    return self.send(200, body[: len(body) // 2], ctype, extra, length=len(body))
                self.send(200, body, ctype, extra)

            def lookup(self):
                if self.path.startswith("/simple/"):
                    project = self.path[len("/simple/"):].strip("/")
                    if project not in index.projects:
                        return None, ""
                    if "application/vnd.pypi.simple.v1+json" not in self.headers.get("Accept", ""):
                        links = "".join(f'<a href="{f["url"]}">{f["filename"]}</a>' for f in index.projects[project])
                        return f"<html><body>{links}</body></html>".encode(), "text/html"
                    return index.page(project), "application/vnd.pypi.simple.v1+json"
                return index.blobs.get(self.path), "application/octet-stream"

            def ranged(self, body, spec, ctype):
                start, _, end = spec.partition("-")
                if start == "":
                    lo, hi = max(0, len(body) - int(end)), len(body) - 1
                else:
                    lo, hi = int(start), min(len(body) - 1, int(end) if end else len(body) - 1)
                self.send(206, body[lo:hi + 1], ctype, {"Content-Range": f"bytes {lo}-{hi}/{len(body)}"})

            def send(self, code, body, ctype, headers=None, length=None):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if code != 304:
                    self.wfile.write(body)
                if length is not None:
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
