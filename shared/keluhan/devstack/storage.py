"""The Cloud Storage emulator (gcp-storage-emulator) with the bucket's CORS, so a web page can PUT a
photo to a signed URL as it does in production (infra/terraform/modules/storage: `cors`, PUT with the
two headers the signed URL binds). The emulator itself answers no preflight and sends no CORS headers.

    python -m keluhan.devstack.storage start --host H --port P --in-memory --default-bucket B
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gcp_storage_emulator import server
from gcp_storage_emulator.__main__ import main

from keluhan.devstack.env import STORAGE_SIGNAL_ENV

# As the production bucket's cors block; locally any origin (every function has its own port).
CORS_METHODS = "PUT"
CORS_HEADERS = "Content-Type, x-goog-content-length-range"
CORS_MAX_AGE_S = 3600


class CorsRequestHandler(server.RequestHandler):  # type: ignore[misc]  # gcp-storage-emulator is untyped
    """The emulator's handler, answering preflights and naming the origin on every answer."""

    def end_headers(self) -> None:
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")
        super().end_headers()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        super().do_POST()
        _signal_write()

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        super().do_PUT()
        _signal_write()

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", CORS_METHODS)
        self.send_header("Access-Control-Allow-Headers", CORS_HEADERS)
        self.send_header("Access-Control-Max-Age", str(CORS_MAX_AGE_S))
        self.send_header("Content-Length", "0")
        self.end_headers()


def _signal_write() -> None:
    path = os.environ.get(STORAGE_SIGNAL_ENV)
    if path:
        try:
            Path(path).touch()
        except OSError:
            pass  # the state dir is being removed: nobody is watching


def run(args: list[str]) -> None:
    # The emulator's API thread builds its handler from this module global when it starts.
    server.RequestHandler = CorsRequestHandler
    main(args)


if __name__ == "__main__":
    run(sys.argv[1:])
