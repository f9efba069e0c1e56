"""A minimal codec endpoint (`/encode`, `/decode`) on loopback, for the stock `temporal` CLI
in tests (`--codec-endpoint`). The product's endpoint is the web app's; this one only
lets the CLI tests read and write encrypted payloads with the tests' codec."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from tests.support.servers import LOOPBACK


@contextmanager
def codec_server(codec: PayloadCodec) -> Iterator[str]:
    """Serve `codec` on a free loopback port; yields the endpoint URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path not in ("/encode", "/decode"):
                self.send_error(404)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payloads = json_format.Parse(body, Payloads())
            run = codec.encode if self.path == "/encode" else codec.decode
            result = Payloads(payloads=asyncio.run(run(list(payloads.payloads))))
            answer = json_format.MessageToJson(result).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass  # payloads never reach a log

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
