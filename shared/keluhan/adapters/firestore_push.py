"""Firestore adapters of push: devices/{uid}/tokens/{device_id}, preferences/{uid}, sends/{message_id}."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime

from google.api_core import exceptions as gexc
from google.cloud import firestore

from keluhan.adapters.firestore_store import DEVICE_TOKENS, DEVICES, PREFERENCES, SENDS, fields_of, readable
from keluhan.domain.push import Device, Preferences, PushSend
from keluhan.ports import Contention, SendChange

GUARDED_WRITE_ATTEMPTS = 8


class FirestoreDevices:
    """devices/{uid}/tokens/{device_id}: {device_id, token, platform, lang, registered_at}; and
    devices/{uid}: {ids: [device_id, …]}, the index of the user's tokens, changed in the same batch
    as they are. Finding a user's devices is then one document read, and none for a user who never
    registered one (most recipients of a notice): no query per recipient. A token written beside
    the index (by hand, or before it existed) is not pushed to; the apps register at every start."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def _index(self, uid: str) -> firestore.DocumentReference:
        index: firestore.DocumentReference = self._db.collection(DEVICES).document(uid)
        return index

    def _tokens(self, uid: str) -> firestore.CollectionReference:
        tokens: firestore.CollectionReference = self._index(uid).collection(DEVICE_TOKENS)
        return tokens

    def register(self, uid: str, device: Device, *, keep: int) -> bool:
        ref = self._tokens(uid).document(device.device_id)
        new = not ref.get().exists
        batch = self._db.batch()
        batch.set(ref, device.model_dump())
        batch.set(self._index(uid), {"ids": firestore.ArrayUnion([device.device_id])}, merge=True)
        batch.commit()
        mine = self.of(uid)
        self._forget(uid, [old.device_id for old in mine[:max(len(mine) - keep, 0)]])  # a reinstalled app's
        return new

    def remove(self, uid: str, device_id: str) -> bool:
        existed = self._tokens(uid).document(device_id).get().exists
        self._forget(uid, [device_id])
        return existed

    def _forget(self, uid: str, device_ids: Sequence[str]) -> None:
        if not device_ids:
            return
        batch = self._db.batch()
        for device_id in device_ids:
            batch.delete(self._tokens(uid).document(device_id))
        batch.set(self._index(uid), {"ids": firestore.ArrayRemove(list(device_ids))}, merge=True)
        batch.commit()

    def of(self, uid: str) -> list[Device]:
        """The user's devices, oldest first; a document that is not one is skipped (`readable`)."""
        return self.of_many([uid])[uid]

    def of_many(self, uids: Sequence[str]) -> dict[str, list[Device]]:
        """Every user's devices in two reads at most: their indexes together, then the tokens they
        name together (none for users who never registered one)."""
        found: dict[str, list[Device]] = {uid: [] for uid in uids}
        if not uids:
            return found
        owner: dict[str, str] = {}  # token document path → uid
        for index in self._db.get_all([self._index(uid) for uid in found]):
            ids = [i for i in ((index.to_dict() or {}).get("ids") or []) if isinstance(i, str) and i]
            owner |= {self._tokens(index.id).document(i).path: index.id for i in ids}
        if owner:
            tokens = [s for s in self._db.get_all([self._db.document(path) for path in owner]) if s.exists]
            for snap in tokens:
                found[owner[snap.reference.path]] += readable([snap], Device.model_validate)
        return {uid: sorted(devices, key=lambda d: d.registered_at) for uid, devices in found.items()}


class FirestorePreferences:
    """preferences/{uid}: `Preferences` as stored, with `updated_at`."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def get(self, uid: str) -> Preferences:
        return self.get_many([uid])[uid]

    def get_many(self, uids: Sequence[str]) -> dict[str, Preferences]:
        refs = [self._db.collection(PREFERENCES).document(u) for u in dict.fromkeys(uids)]
        found = {snap.id: Preferences.model_validate(fields_of(snap)) for snap in self._db.get_all(refs) if snap.exists}
        return {u: found.get(u, Preferences()) for u in uids}

    def put(self, uid: str, preferences: Preferences, at: datetime) -> None:
        self._db.collection(PREFERENCES).document(uid).set({**preferences.model_dump(mode="json"), "updated_at": at})


class FirestoreSends:
    """sends/{message_id}: a `PushSend` document; changed only by a write guarded on its update time."""

    def __init__(self, client: firestore.Client):
        self._db = client

    def create(self, send: PushSend) -> bool:
        try:
            self._db.collection(SENDS).document(send.message_id).create(send.to_doc())
        except (gexc.AlreadyExists, gexc.Conflict):
            return False
        return True

    def get(self, message_id: str) -> PushSend | None:
        snap = self._db.collection(SENDS).document(message_id).get()
        return PushSend.from_doc(fields_of(snap)) if snap.exists else None

    def mutate(self, message_id: str, change: SendChange) -> PushSend | None:
        ref = self._db.collection(SENDS).document(message_id)
        for attempt in range(1, GUARDED_WRITE_ATTEMPTS + 1):
            snap = ref.get()
            if not snap.exists:
                return None
            changed = change(PushSend.from_doc(fields_of(snap)))
            if changed is None:
                return None
            try:
                ref.update(changed.to_doc(), option=self._db.write_option(last_update_time=snap.update_time))
                return changed
            except (gexc.FailedPrecondition, gexc.Aborted, gexc.Conflict):
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # another attempt wrote first: read again
        raise Contention(f"sends/{message_id}: changed concurrently {GUARDED_WRITE_ATTEMPTS} times")

    def due(self, *, now: datetime, limit: int) -> list[PushSend]:
        query = (self._db.collection(SENDS).where(filter=firestore.FieldFilter("state", "==", "pending"))
                 .where(filter=firestore.FieldFilter("next_at", "<=", now)).order_by("next_at").limit(limit))
        return [PushSend.from_doc(fields_of(d)) for d in query.stream()]
