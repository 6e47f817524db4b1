"""The WhatsApp Cloud API through pywa: the webhook's signature and messages, sends, media by id.

pywa (PyPI) owns the wire formats: `webhook_updates_validator` checks `X-Hub-Signature-256`,
`Message` / `CallbackSelection.from_update` read a delivery, `send_message` (with a `SectionList`),
`request_location` and `send_template` write the sends (each with `tracker`, the Cloud API's
`biz_opaque_callback_data`, set to our idempotency id), `get_media_url` + `stream_media` fetch a
photo. Locally (`KELUHAN_WHATSAPP_API_URL`) every request pywa makes to graph.facebook.com goes to
the dev stack's stand-in instead (`keluhan.devstack.wa_standin`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from pywa.client import WhatsApp
from pywa.types.base_update import RawUpdate
from pywa.types.callback import CallbackSelection, Section, SectionList, SectionRow
from pywa.types.message import Message
from pywa.types.templates import TemplateLanguage
from pywa.utils import webhook_updates_validator

from keluhan.domain.sla import aware
from keluhan.domain.whatsapp import Inbound, Reply
from keluhan.ports import PhotoTooLarge

LIST_ROWS = 10  # the Cloud API's limit of rows in one list message


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    return webhook_updates_validator(app_secret, body, header)


class _ToStandIn(httpx.HTTPTransport):
    """Sends every request to another origin (the local stand-in), path and query kept."""

    def __init__(self, base: str):
        super().__init__()
        self._base = httpx.URL(base)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self._base.scheme, host=self._base.host, port=self._base.port)
        request.headers["Host"] = self._base.netloc.decode()
        return super().handle_request(request)


def cloud_client(*, phone_id: str, token: str, api_url: str = "", timeout_s: float = 10.0) -> WhatsApp:
    """A pywa client; with `api_url` every call goes there (the local stand-in)."""
    transport = _ToStandIn(api_url) if api_url else None
    session = httpx.Client(timeout=timeout_s, transport=transport)
    return WhatsApp(phone_id=phone_id, token=token, session=session)


def inbound_messages(client: WhatsApp, delivery: dict[str, Any]) -> Iterator[tuple[str, Inbound]]:  # Any: JSON
    """(sender address, message) for each message of a webhook delivery; statuses and other
    fields are skipped. The address is the phone number (wa_id), else the business-scoped user id."""
    for entry in delivery.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages" or not value.get("messages"):
                continue
            contacts = value.get("contacts") or [{}]
            for raw in value["messages"]:
                one = {"object": delivery.get("object"), "entry": [{"id": entry.get("id"), "changes": [
                    {"field": "messages", "value": {**value, "contacts": contacts[:1], "messages": [raw]}}]}]}
                update = RawUpdate(json.dumps(one).encode(), hmac_header=None, update_hash=str(raw.get("id")))
                yield _inbound(client, update, raw)


def _inbound(client: WhatsApp, update: RawUpdate, raw: dict[str, Any]) -> tuple[str, Inbound]:  # Any: JSON
    if raw.get("type") == "interactive":
        selection = CallbackSelection.from_update(client, update)
        return _address(selection.from_user), Inbound(message_id=selection.id, at=aware(selection.timestamp),
                                                      kind="choice", choice=str(selection.data))
    message = Message.from_update(client, update)
    at, mid, address = aware(message.timestamp), message.id, _address(message.from_user)
    if message.location is not None:
        loc = message.location
        return address, Inbound(message_id=mid, at=at, kind="location", lat=loc.latitude, lon=loc.longitude,
                                place_named=bool(loc.name or loc.address))
    if message.image is not None:
        return address, Inbound(message_id=mid, at=at, kind="image", media_id=message.image.id,
                                mime_type=message.image.mime_type)
    if message.text is not None:
        return address, Inbound(message_id=mid, at=at, kind="text", text=message.text)
    return address, Inbound(message_id=mid, at=at, kind="other")


def _address(user: Any) -> str:  # Any: pywa's User
    return str(user.wa_id or user.bsuid)



class CloudApi:
    """Sends and media over the Cloud API (the port `keluhan.ports.WhatsAppApi`)."""

    def __init__(self, client: WhatsApp, *, template: str, app_secret: str = ""):
        self._wa = client
        self._template = template
        self._app_secret = app_secret

    def signed(self, body: bytes, header: str | None) -> bool:
        """Whether a webhook body carries Meta's signature with our app secret."""
        return signature_ok(self._app_secret, body, header)

    def messages(self, delivery: dict[str, Any]) -> Iterator[tuple[str, Inbound]]:  # Any: JSON
        """The messages of one (signature-checked) webhook delivery."""
        return inbound_messages(self._wa, delivery)

    def send(self, to: str, reply: Reply, *, tracker: str) -> None:
        if reply.kind == "location_request":
            self._wa.request_location(to=to, text=reply.text, tracker=tracker)
            return
        if reply.kind == "category_list":
            pages = [reply.choices[i:i + LIST_ROWS] for i in range(0, len(reply.choices), LIST_ROWS)]
            for n, page in enumerate(pages):
                rows = [SectionRow(title=title, callback_data=cid) for cid, title in page]
                self._wa.send_message(to=to, text=reply.text if n == 0 else "…",
                                      buttons=SectionList(button_title="Kategori / Category",
                                                          sections=[Section(title=f"{n + 1}/{len(pages)}", rows=rows)]),
                                      tracker=f"{tracker}.{n}")
            return
        self._wa.send_message(to=to, text=reply.text, tracker=tracker)

    def send_template(self, to: str, *, lang: str, params: list[str], tracker: str) -> None:
        """The approved status-update template (outside the 24-hour customer-service window)."""
        language = TemplateLanguage.ENGLISH_US if lang == "en" else TemplateLanguage.INDONESIAN
        body = {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
        self._wa.send_template(to=to, name=self._template, language=language, params=[body], tracker=tracker)

    def fetch_media(self, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """The media's bytes and type, refused past `max_bytes` (declared or read)."""
        media = self._wa.get_media_url(media_id)
        if media.file_size and int(media.file_size) > max_bytes:
            raise PhotoTooLarge(f"{media.file_size} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in self._wa.stream_media(media.url):
            size += len(chunk)
            if size > max_bytes:
                raise PhotoTooLarge(f"more than {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks), media.mime_type
