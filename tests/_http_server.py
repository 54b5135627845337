"""A real HTTP file server on 127.0.0.1 for the fetch tests: Range requests, and scripted failures.

It serves bytes registered under a path, answers ``Range: bytes=N-`` with 206 (honouring
``If-Range`` against its ETag), and can misbehave per path: drop the connection half-way
through the first response, stall after a few bytes, or answer with a web page, as download
hosts do. Every request is recorded (path and Range header) so tests can check a resume.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    files: dict[str, bytes] = field(default_factory=dict)
    #: path -> "drop-once" | "stall" | "html"
    behaviour: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    base: str = ""

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            try:
                self._get()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a size check refused the response): as a real host sees it

        def _get(self) -> None:
            path = self.path
            served.requests.append((path, self.headers.get("Range")))
            behaviour = served.behaviour.get(path)
            if behaviour == "html":
                body = b"<html><body>Google Drive can't scan this file for viruses.</body></html>"
                self._head(200, len(body), "text/html; charset=utf-8")
                self.wfile.write(body)
                return
            data = served.files.get(path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            start = 0
            wanted = self.headers.get("Range")
            if wanted and wanted.startswith("bytes=") and self.headers.get("If-Range", etag) == etag:
                start = int(wanted[len("bytes="):].split("-")[0])
            if start:
                self._head(206, len(data) - start, extra={"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}",
                                                          "ETag": etag})
            else:
                self._head(200, len(data), extra={"ETag": etag, "Accept-Ranges": "bytes"})
            body = data[start:]
            if behaviour == "drop-once":
                del served.behaviour[path]
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if behaviour == "stall":
                self.wfile.write(body[:100])
                self.wfile.flush()
                served.stop.wait(30)
                return
            self.wfile.write(body)

        def _head(self, code: int, length: int, kind: str = "application/octet-stream", extra: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(length))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()

    return Handler


@contextmanager
def file_server() -> Iterator[Served]:
    """Start the server on a free loopback port; stop it (and any stalled handler) afterwards."""
    served = Served()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
