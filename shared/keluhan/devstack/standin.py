"""Running a stand-in (the forwarding receiver, FCM, the WhatsApp Cloud API) as its own process."""

from __future__ import annotations

import argparse
import threading
from typing import Self

from flask import Flask
from werkzeug.serving import make_server


def serve(app: Flask, *, description: str, name: str, default_port: int, argv: list[str] | None = None) -> int:
    """`--host`/`--port` from the command line, then serve `app` until interrupted."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"keluhan {name} on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


class InThread:
    """A stand-in serving from a background thread, for tests: `with Running…() as stand_in:`."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(host, port, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
