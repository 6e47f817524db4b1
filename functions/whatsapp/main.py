"""HTTP: the WhatsApp Cloud API webhook: Meta's GET handshake, and signed POST deliveries of messages."""

import hmac
import json
import logging

import functions_framework
from flask import Request

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps
from keluhan.usecases.whatsapp import handle_message

SIGNATURE = "X-Hub-Signature-256"


@functions_framework.http
def whatsapp(request: Request) -> http.Response:
    try:
        deps = bootstrap.get_deps()
        too_large = http.cap_body(request, max_bytes=deps.settings.max_body_bytes)
        if too_large is not None:
            return too_large
        if request.method == "GET":
            return _handshake(request, deps)
        if request.method != "POST":
            return http.error(405, "method_not_allowed", "Gunakan GET atau POST / Use GET or POST", field="method")
        raw = http.read_capped(request.stream, deps.settings.max_body_bytes + 1)
        if len(raw) > deps.settings.max_body_bytes:  # a chunked body, whose length only reading tells
            return http.body_too_large(request, max_bytes=deps.settings.max_body_bytes)
        # Checked before anything of the body is parsed: a forged delivery is never read.
        if not deps.whatsapp_cloud.signed(raw, request.headers.get(SIGNATURE)):
            return http.error(403, "invalid_signature", "Tanda tangan tidak valid / Invalid or missing signature",
                              field=SIGNATURE)
        try:
            messages = list(deps.whatsapp_cloud.messages(json.loads(raw)))
        except (ValueError, KeyError, TypeError, AttributeError):
            # Signed by Meta but not a shape we read: acknowledged, or Meta redelivers it for days.
            logging.warning("whatsapp: unreadable signed delivery", extra={"stage": "whatsapp"})
            return http.json_response({"ok": True, "ignored": True}, 200)
        for address, message in messages:
            handle_message(address, message, ports=deps.whatsapp_ports)
        return http.json_response({"ok": True, "messages": len(messages)}, 200)
    except Exception:
        logging.exception("whatsapp failed; Meta redelivers", extra={"stage": "whatsapp"})
        http.leave_unread(request)
        return http.unavailable()


def _handshake(request: Request, deps: Deps) -> http.Response:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is ours."""
    expected = deps.settings.whatsapp_verify_token.get_secret_value()
    token = request.args.get("hub.verify_token", "")
    if request.args.get("hub.mode") != "subscribe" or not expected or not hmac.compare_digest(token, expected):
        return http.error(403, "invalid_verify_token", "Token verifikasi salah / Wrong verify token",
                          field="hub.verify_token")
    return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain; charset=utf-8"}
