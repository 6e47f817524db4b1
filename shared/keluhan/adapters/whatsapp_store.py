"""Firestore adapters of the WhatsApp channel: the conversation store and the send tracking.

wa_users/{number_hash} is the only document that holds a phone number (`address`); it expires
(Firestore TTL on `expires_at`) a while after the resident's last message. wa_sends/{message_id}
tracks each notice sent on WhatsApp. Neither is readable by any client (firestore.rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from keluhan.domain.whatsapp import Conversation
from keluhan.ports import WaUser

WA_USERS = "wa_users"
WA_SENDS = "wa_sends"


class FirestoreWaUsers:
    """wa_users/{number_hash}: {address, conversation, outbox, last_inbound_at, expires_at}."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def get(self, user: str) -> WaUser | None:
        snap = self._db.collection(WA_USERS).document(user).get()
        if not snap.exists:
            return None
        data = snap.to_dict() or {}
        return WaUser(address=data["address"], conversation=Conversation.model_validate(data.get("conversation") or {}),
                      outbox=list(data.get("outbox") or []), last_inbound_at=data.get("last_inbound_at"),
                      version=snap.update_time)

    def put(self, user: str, record: WaUser, *, expires_at: datetime) -> bool:
        ref = self._db.collection(WA_USERS).document(user)
        doc = {"address": record.address, "conversation": record.conversation.model_dump(mode="json"),
               "outbox": record.outbox, "last_inbound_at": record.last_inbound_at, "expires_at": expires_at}
        try:
            if record.version is None:
                ref.create(doc)
            else:
                ref.update(doc, option=self._db.write_option(last_update_time=record.version))
        except (gexc.AlreadyExists, gexc.Conflict, gexc.FailedPrecondition, gexc.Aborted, gexc.NotFound):
            return False  # another message of the same resident got there first: read again
        return True

    def clear_outbox(self, user: str, trackers: Sequence[str]) -> None:
        ref = self._db.collection(WA_USERS).document(user)
        snap = ref.get()
        if not snap.exists:
            return
        outbox = [o for o in (snap.to_dict() or {}).get("outbox") or [] if o.get("tracker") not in set(trackers)]
        try:
            ref.update({"outbox": outbox}, option=self._db.write_option(last_update_time=snap.update_time))
        except (gexc.FailedPrecondition, gexc.Aborted, gexc.Conflict, gexc.NotFound):
            pass  # a newer message rewrote the outbox; a duplicate delivery only re-sends what is left


class FirestoreWaSends:
    """wa_sends/{message_id}: pending → sent | failed, with attempts and the last error."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def begin(self, message_id: str, record: dict[str, Any]) -> dict[str, Any] | None:  # Any: Firestore fields
        ref = self._db.collection(WA_SENDS).document(message_id)
        try:
            ref.create(record)
        except (gexc.AlreadyExists, gexc.Conflict):
            return ref.get().to_dict() or {}
        return None

    def update(self, message_id: str, fields: dict[str, Any]) -> None:  # Any: Firestore fields
        self._db.collection(WA_SENDS).document(message_id).set(fields, merge=True)
