"""Stand-in for the WhatsApp Cloud API in the local stack: a real HTTP server that records every send.

What pywa calls, at the paths graph.facebook.com serves them (the adapter's transport sends them
here when KELUHAN_WHATSAPP_API_URL is set):

- `POST /v<version>/<phone_id>/messages`: a send (text, interactive list, location request,
  template); recorded with its `biz_opaque_callback_data` (our idempotency id), answered as the
  Cloud API answers. `POST /_control {"fail_sends": N}` makes the next N sends answer 500.
- `GET /v<version>/<media_id>`: the media's URL, type, size and sha256; `GET /media/<id>` its bytes.

For the resident's side (`keluhan wa …`): `POST /_media` (raw bytes, Content-Type) stores a medium
and answers its id, as a phone's upload would; `GET /_sent[?to=NUMBER]` lists what was sent.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from keluhan.devstack.standin import serve

Answer = Response | tuple[Response, int]


def create_app() -> Flask:
    app = Flask("wa_standin")
    lock = threading.Lock()
    sent: list[dict[str, Any]] = []  # Any: the send bodies as posted
    media: dict[str, tuple[bytes, str]] = {}
    ids = itertools.count(1)
    control = {"fail_sends": 0}

    @app.get("/")
    def index() -> Answer:
        return jsonify({"stand_in": "whatsapp-cloud-api", "sent": len(sent), "media": len(media)})

    @app.post("/v<version>/<phone_id>/messages")
    def send(version: str, phone_id: str) -> Answer:
        body = request.get_json(force=True, silent=True) or {}
        with lock:
            if control["fail_sends"] > 0:
                control["fail_sends"] -= 1
                return jsonify({"error": {"code": 131000, "message": "stand-in failure"}}), 500
            number = next(ids)
            to = body.get("to") or body.get("recipient") or ""
            sent.append({"n": number, "to": to, "phone_id": phone_id, "type": body.get("type"),
                         "tracker": body.get("biz_opaque_callback_data"), "at": datetime.now(UTC).isoformat(),
                         "text": _text_of(body), "body": body})
        return jsonify({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to, "user_id": to}],
                        "messages": [{"id": f"wamid.standin.{number}"}]})

    @app.get("/v<version>/<media_id>")
    def media_url(version: str, media_id: str) -> Answer:
        with lock:
            found = media.get(media_id)
        if found is None:
            return jsonify({"error": {"code": 100, "message": "unknown media id"}}), 404
        data, mime = found
        return jsonify({"messaging_product": "whatsapp", "id": media_id, "url": f"{request.host_url}media/{media_id}",
                        "mime_type": mime, "sha256": hashlib.sha256(data).hexdigest(), "file_size": len(data)})

    @app.get("/media/<media_id>")
    def media_bytes(media_id: str) -> Answer:
        with lock:
            found = media.get(media_id)
        if found is None:
            return jsonify({"error": "unknown media id"}), 404
        return Response(found[0], mimetype=found[1])

    @app.post("/_media")
    def upload() -> Answer:
        data = request.get_data()
        media_id = "media." + hashlib.sha256(data).hexdigest()[:24]
        with lock:
            media[media_id] = (data, request.mimetype or "image/jpeg")
        return jsonify({"id": media_id})

    @app.get("/_sent")
    def listing() -> Answer:
        to = request.args.get("to")
        with lock:
            found = [s for s in sent if to is None or s["to"] == to]
        return jsonify(found)

    @app.post("/_control")
    def set_control() -> Answer:
        body = request.get_json(force=True, silent=True) or {}
        with lock:
            control["fail_sends"] = int(body.get("fail_sends", 0))
        return jsonify(control)

    return app


def _text_of(body: dict[str, Any]) -> str:  # Any: a send body
    """The words the resident reads, whatever the kind of send."""
    kind = body.get("type")
    if kind == "text":
        return str((body.get("text") or {}).get("body", ""))
    if kind == "interactive":
        inner = body.get("interactive") or {}
        rows = [r.get("id") for s in (inner.get("action") or {}).get("sections") or [] for r in s.get("rows") or []]
        return str((inner.get("body") or {}).get("text", "")) + (f" [{', '.join(map(str, rows))}]" if rows else "")
    if kind == "template":
        template = body.get("template") or {}
        params = [p.get("text") for c in template.get("components") or [] for p in c.get("parameters") or []]
        return f"template {template.get('name')}: " + " | ".join(map(str, params))
    return ""


def main(argv: list[str] | None = None) -> int:
    return serve(create_app(), description=__doc__ or "", name="whatsapp stand-in", default_port=8106, argv=argv)

if __name__ == "__main__":
    raise SystemExit(main())
