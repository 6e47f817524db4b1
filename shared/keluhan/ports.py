"""The ports use cases take: report storage, an event publisher, photo storage, a forwarder."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Protocol, TypedDict

if TYPE_CHECKING:
    from keluhan.domain.comments import Comment, Hidden
    from keluhan.domain.dead_letter import DeadLetterDoc, StoredDeadLetter
    from keluhan.domain.nearby import Spot
    from keluhan.domain.notify import Lang, Message
    from keluhan.domain.push import Device, Preferences, PushSend
    from keluhan.domain.report import Report, Submission
    from keluhan.domain.subscriptions import AreaSubscription
    from keluhan.domain.whatsapp import Conversation, Reply


class PermanentError(Exception):
    """Bad data: record it on the report and acknowledge; retrying cannot help."""


class TransientError(Exception):
    """A dependency is down: let Pub/Sub redeliver."""


class Contention(Exception):
    """Too many concurrent changes of one document: the change was not made (409, re-read)."""


class Unauthenticated(Exception):
    """No token, or one that does not verify (401)."""


class AuthUnavailable(Exception):
    """Tokens cannot be checked right now: certificates or the user lookup unreachable (503)."""


class UnsafeEmulatorConfig(RuntimeError):
    """The Auth emulator is configured where forged tokens would be accepted for real (503)."""


class QuotaWindow(Protocol):
    """One submission counter (quotas/{key}): at most `limit` new reports until `resets_at`."""

    @property
    def key(self) -> str: ...

    @property
    def limit(self) -> int: ...

    @property
    def resets_at(self) -> datetime: ...


class QuotaExceeded(Exception):
    """A new report would take a counter past its limit: nothing was stored (429)."""

    def __init__(self, window: Any):  # Any: the very window create() was given (a domain.quota.Window)
        super().__init__(window.key)
        self.window = window


class PhotoTooLarge(Exception):
    """The stored object exceeds the byte limit: it is never downloaded whole."""


class DeliveryError(Exception):
    """A send that did not reach an accepting receiver."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: timeout, connection error, 5xx, 408, 409, 429."""


class PermanentDeliveryError(DeliveryError):
    """Retrying the same request cannot help: 4xx, a redirect, a bad URL."""


class TokenUnregistered(PermanentDeliveryError):
    """The push service no longer knows the device token (FCM `UNREGISTERED`): forget the token."""


# The report times a count can be taken on (top-level fields of reports/{id}).
TimeField = Literal["received_at", "status_changed_at", "resolved_at", "closed_at"]

# A change of one report: the report as stored → the report as it is to be stored, or None for
# no change (a typed change set; the adapter turns it into field paths, see Report.changed).
Mutation = Callable[["Report"], "Report | None"]


class Reports(Protocol):
    """reports/{report_id} and submissions/{key}."""

    def create(self, report: Report, *, submission_key: str, submission: Submission,
               quotas: Sequence[QuotaWindow] = ()) -> tuple[Report, Submission, bool]:
        """Store a new report and its submission unless the key exists, counting it in `quotas`.

        One atomic step: an existing key returns the stored report and counts nothing; a new one
        raises QuotaExceeded (storing nothing) when any counter is at its limit, else stores the
        report and the submission and adds one to every counter.
        Returns (stored report, stored submission, created).
        """

    def remember_upload(self, submission_key: str, upload: dict[str, Any],  # Any: as Submission.upload
                        expires_at: datetime) -> None:
        """Keep the upload URL handed out for this submission, to hand out again on a retry."""

    def remember_published(self, submission_key: str, at: datetime) -> None:
        """Record that the new report's events were published (`published_at`): retries skip them."""

    def submission(self, submission_key: str) -> Submission | None:
        """Who submitted: reporter_uid, client_id, request_hash (never shown to SKPDs)."""

    def get(self, report_id: str) -> Report | None: ...

    def get_many(self, report_ids: Sequence[str]) -> list[Report]:
        """The reports of `report_ids` that exist, in that order: one call, one read per id."""

    def due(self, *, status: str, field: str, before: datetime, limit: int,
            where: Mapping[str, str] | None = None,
            start_after: tuple[datetime, str] | None = None) -> list[Report]:
        """Reports in `status` whose time `field` (a dotted path) is before `before`, oldest first.

        `where` adds equality filters on other fields; `start_after` = (`field` value, report id)
        of the previous page's last report continues after it (ties ordered by report id).
        """

    def mutate(self, report_id: str, mutation: Mutation) -> Report | None:
        """Atomically apply `mutation` (report → the changed report, or None for no change).

        Returns the report after the change, or None if it does not exist.
        """

    def all(self) -> Iterable[Report]:
        """Every report, streamed (for `keluhan stats rebuild`)."""
        ...

    def listed(self, *, tag: str, start: datetime, end: datetime, categories: Sequence[str], limit: int,
               offset: int = 0, after: tuple[datetime, str] | None = None,
               updated_after: datetime | None = None) -> list[Report]:
        """At most `limit` reports whose Open311 listing (`keluhan.domain.open311.listing`) holds
        `tag`, received in [start, end), of `categories` (all when empty), newest first (ties by
        report id, descending); after skipping `offset` of them, or after the report `after` =
        (received_at, report id). Filtered, ordered and cut in the store: one read per report
        returned or skipped. With `updated_after`: those whose status changed after it, latest
        change first (`after` = (status_changed_at, id)), whenever received ([start, end) unused).
        """

    def overdue(self, *, limit: int) -> list[Report]:
        """Open reports flagged overdue, most overdue first (by `sla.due_at`)."""

    def assigned(self, *, assignee: str, statuses: Collection[str], limit: int) -> list[Report]:
        """At most `limit` reports of one assignee in `statuses` (an SKPD's queue), newest first."""

    def in_cell(self, cell: str, *, tag: str, categories: Sequence[str], limit: int,
                after: tuple[str, str] | None = None) -> list[Spot]:
        """The spots of at most `limit` reports whose `geohash` starts with `cell` and whose Open311
        listing holds `tag`, of `categories` (all when empty), in (geohash, report id) order after
        `after`: one range query of only the spot's fields, one read per report returned (at least
        one per query)."""

    def of_reporter(self, key: str, *, statuses: Sequence[str], limit: int,
                    after: tuple[datetime, str] | None = None) -> list[Report]:
        """At most `limit` reports whose `reporter_key` is `key`, in `statuses` (all when empty),
        newest first (ties by report id, descending), after the report `after` = (received_at, id)."""

    def changed_between(self, *, start: datetime, end: datetime, limit: int,
                        start_after: tuple[datetime, str] | None = None) -> list[Report]:
        """Reports whose status changed in [start, end), oldest change first (ties by report id),
        after the report `start_after` = (status_changed_at, report id)."""

    def count_since(self, *, field: TimeField, since: datetime) -> int:
        """How many reports have the time `field` at or after `since`."""


class Open311Key(TypedDict):
    """open311_keys/{sha256(key)}: the channel and name a GeoReport api key stands for."""

    channel: str
    name: str
    created_at: datetime
    revoked: bool
    key_prefix: NotRequired[str]
    """The key's first characters, to tell keys apart in a listing (keys issued before it lack it)."""
    revoked_at: NotRequired[datetime]


class ListedOpen311Key(Open311Key):
    """A key's record with its document id, the key's sha256."""

    digest: str


class Open311Keys(Protocol):
    """open311_keys/{sha256(key)}: each an `Open311Key`; the key itself is never stored."""

    def get(self, digest: str) -> Open311Key | None: ...

    def add(self, digest: str, record: Open311Key) -> None: ...

    def list(self) -> list[ListedOpen311Key]:
        """Every key's record, its digest included as `digest`."""

    def revoke(self, digest: str, at: datetime) -> bool:
        """Mark the key revoked; False if there is no such key."""


class StatsState(Protocol):
    seq: int
    contribution: dict[str, dict[str, int]]
    support_seq: int  # the report's support_seq the contribution reflects (supports add no timeline entry)


class Stats(Protocol):
    """stats/{key} (the figures per group) and stats_reports/{report_id} (what each report adds)."""

    def report_state(self, report_id: str) -> StatsState | None:
        """The applied (seq, contribution, version) of a report, or None."""

    def replace(self, report_id: str, *, seq: int, contribution: dict[str, dict[str, int]],
                delta: dict[str, dict[str, int]],
                expected: Any,  # Any: what this store's report_state returned (its own version type)
                support_seq: int = 0) -> bool:
        """Atomically store the report's new contribution and add `delta` to the groups, if the
        stored state is still `expected`; False if it changed meanwhile."""

    def groups(self, *, dim: str | None = None, month: str | None = None) -> dict[str, dict[str, int]]:
        """stats key → counters, optionally only one dimension and month."""

    def group(self, key: str) -> dict[str, int]:
        """The counters of one group (empty when it has none): one read."""

    def overwrite(self, totals: dict[str, dict[str, int]], states: dict[str, tuple[int, dict[str, dict[str, int]]]]) -> None:
        """Replace every figure and report state (the rebuild)."""


class Hold(TypedDict):
    """holds/{uid}: who held the reporter, when, why, and over which report."""

    at: datetime
    by: str
    note: str
    report_id: str


class Holds(Protocol):
    """holds/{uid}: reporters an operator holds; their new reports go to moderation."""

    def is_held(self, uid: str) -> bool: ...

    def hold(self, uid: str, record: Hold) -> None: ...

    def unhold(self, uid: str) -> None: ...


class Publisher(Protocol):
    def __call__(self, topic: str, data: Mapping[str, object], attributes: dict[str, str]) -> None:
        """Publish one message and wait until the broker has it."""


@dataclass(frozen=True)
class ObjectStat:
    """What the bucket says of one object: its live generation and content type."""

    generation: int
    content_type: str | None


class PhotoStore(Protocol):
    """The private photo bucket."""

    def upload_url(self, object_name: str, *, content_types: tuple[str, ...], max_bytes: int,
                   expires_at: datetime) -> dict[str, Any]: ...  # Any: as Submission.upload

    def read(self, object_name: str, *, generation: int | None, max_bytes: int) -> bytes: ...

    def write(self, object_name: str, data: bytes, *, content_type: str) -> None: ...

    def download_url(self, object_name: str, *, expires_at: datetime) -> str:
        """A GET URL of one EXIF-free derivative, valid until `expires_at`."""
        ...

    def download_link(self, object_name: str, *, expires_at: datetime) -> tuple[str, datetime]:
        """As download_url, with when the URL really expires: a link signed earlier and still
        good may be handed out again, so it can expire before `expires_at`, never after."""
        ...

    def stat(self, object_name: str) -> ObjectStat | None:
        """The live generation of an object, or None when there is none (the reconciler's check)."""


class RulesDoc(Protocol):
    """routing_rules/current: the routing rules operators loaded, if any."""

    def load(self) -> Mapping[str, object] | None:
        """The stored document, unvalidated: `RuleSet.from_dict` checks it."""


class DeadLetters(Protocol):
    """dead_letters/{id}: each a `domain.dead_letter.DeadLetterRecord` document, open until replayed."""

    def add(self, dead_letter_id: str, record: DeadLetterDoc) -> bool:
        """Store once per id; False if it was already there, and then it is open again."""
        ...

    def list(self, *, include_replayed: bool = False) -> list[StoredDeadLetter]:
        """The open dead letters (all with `include_replayed`), oldest first, each with its `id`."""
        ...

    def get(self, dead_letter_id: str) -> StoredDeadLetter | None: ...

    def mark_replayed(self, dead_letter_id: str, at: datetime) -> None: ...


class DeadLetter(Protocol):
    """A message the broker gave up on, as the dead-letter use case reads it."""

    @property
    def data(self) -> bytes: ...

    @property
    def attributes(self) -> Mapping[str, str]: ...

    @property
    def topic(self) -> str:
        """The topic it arrived on (a dead-letter topic)."""

    def report_id(self) -> str:
        """The report it is about; raises PermanentError when it names none."""

    def fingerprint(self) -> str:
        """A stable key for the message's content, independent of the broker's message id."""


class Delivered(Protocol):
    """What a receiver that accepted a forwarded report answered."""

    @property
    def receiver_ref(self) -> str | None:
        """The receiver's own reference for the forwarded report, if it gave one."""


class Send(Protocol):
    """Forwarding to an external body's receiver."""

    def __call__(self, target: Mapping[str, str],
                 payload: dict[str, Any],  # Any: plain JSON, as requests' json= takes it
                 *, idempotency_key: str, timeout_s: float) -> Delivered:
        """POST once to an external receiver.

        Raises TransientDeliveryError or PermanentDeliveryError when the receiver did not accept.
        """


class PhotoIndex(Protocol):
    """Perceptual hashes of recently accepted photos, for the reuse check."""

    def candidates(self, phash: str, *, since: datetime, exclude_report: str) -> list[tuple[str, str]]:
        """(key, phash) of photos since `since`, none of `exclude_report`'s (its photo or proof),
        that may be within hash_bands.MAX_DISTANCE bits of `phash`; never misses one that is."""

    def remember_hash(self, report_id: str, phash: str, at: datetime) -> None:
        """Index an accepted photo's hash under `report_id`, or a proof's under
        hash_bands.proof_key(report_id); idempotent per key."""


@dataclass(frozen=True)
class Recipient:
    """Who is told: a Firebase uid, in their language."""

    uid: str
    lang: Lang = "id"


class Directory(Protocol):
    """Who works where, for notifications: staff/{uid} (written by `keluhan users grant`)."""

    def staff(self, skpd: str, *, heads_only: bool = False) -> list[Recipient]:
        """The staff of one SKPD assignee (only its heads with `heads_only`)."""

    def operators(self) -> list[Recipient]:
        """The War Room operators."""


class Notified(Protocol):
    """notifications/{report_id}: the timeline positions whose messages are all stored, for the
    reconciler to find a status change whose announcement was lost."""

    def record(self, report_id: str, seq: int, at: datetime) -> None: ...

    def positions(self, report_ids: Sequence[str]) -> dict[str, set[int]]:
        """The told positions of each report (an empty set for a report nothing is recorded of)."""

    def checked_until(self) -> datetime | None:
        """How far the reconciler found every report told: reports whose timeline last grew before
        this need no reading again (None: it has not got anywhere yet)."""

    def check_through(self, at: datetime) -> None:
        """Keep how far the reconciler found every report told."""


class Inbox(Protocol):
    """inbox/{uid}/messages/{message_id}: the in-app inbox, one document per message."""

    def deliver(self, messages: Sequence[Message]) -> int:
        """Store each message unless one with its id is there already; how many were new. One
        write for all of them when none is there (a notice's first delivery to all its recipients)."""


class Supporters(Protocol):
    """supports/{ref}: whom each support_ref of a report stands for (a uid and their language), so
    supporters can be told; reports/ keeps only the refs and their count."""

    def remember(self, ref: str, *, report_id: str, uid: str, at: datetime) -> None:
        """Keep who `ref` stands for (idempotent)."""

    def forget(self, ref: str) -> None:
        """The support was withdrawn: who it stood for is kept no longer."""

    def uids(self, refs: Sequence[str]) -> list[str]:
        """The uids the refs stand for (refs of a channel's duplicate stand for nobody)."""


class Comments(Protocol):
    """comments/{comment_id}: each report's thread (server only: apps read it through comment_on_report)."""

    def add(self, comment: Comment) -> tuple[Comment, bool]:
        """Store the comment unless its id exists; (the stored comment, created)."""

    def get(self, comment_id: str) -> Comment | None: ...

    def thread(self, report_id: str, *, limit: int) -> list[Comment]:
        """The report's newest `limit` comments, oldest first."""

    def posted_since(self, author_key: str, since: datetime) -> int:
        """How many comments the author posted at or after `since` (the per-user rate limit)."""

    def hide(self, comment_id: str, hidden: Hidden) -> Comment | None:
        """Mark the comment hidden (the first hiding stands); None if there is no such comment."""


class Devices(Protocol):
    """devices/{uid}/tokens/{device_id}: a user's push tokens, each a `domain.push.Device`."""

    def register(self, uid: str, device: Device, *, keep: int) -> bool:
        """Store the device (again: its registration time and language change); forget the oldest
        beyond `keep` devices. True if the token was new for this user."""

    def remove(self, uid: str, device_id: str) -> bool:
        """Forget one token; False if it was not there."""

    def of(self, uid: str) -> list[Device]:
        """The user's devices, oldest registration first."""

    def of_many(self, uids: Sequence[str]) -> dict[str, list[Device]]:
        """Each user's devices, as `of` gives them, read together (every uid is a key)."""


class PreferenceStore(Protocol):
    """preferences/{uid}: each a `domain.push.Preferences`; a user who set none has the defaults."""

    def get(self, uid: str) -> Preferences: ...

    def get_many(self, uids: Sequence[str]) -> dict[str, Preferences]:
        """Every user's preferences, in one read."""

    def put(self, uid: str, preferences: Preferences, at: datetime) -> None: ...


SendChange = Callable[["PushSend"], "PushSend | None"]


class Sends(Protocol):
    """sends/{message_id}: the delivery of each message on an external channel (pending → sent | failed)."""

    def create(self, send: PushSend) -> bool:
        """Store the send unless its message id is there already; True if it is new."""

    def mutate(self, message_id: str, change: SendChange) -> PushSend | None:
        """Apply `change` (the send as stored → the send to store, or None for no change) only if
        nobody changed it since it was read; the stored send after it, or None if unchanged."""

    def get(self, message_id: str) -> PushSend | None: ...

    def due(self, *, now: datetime, limit: int) -> list[PushSend]:
        """Pending sends whose next attempt is due at `now`, the longest waiting first."""


class Pusher(Protocol):
    """Firebase Cloud Messaging (HTTP v1): one notification to one device token."""

    def __call__(self, token: str, *, title: str, body: str, data: Mapping[str, str], collapse_key: str) -> str:
        """Send once; the service's message name. Raises TokenUnregistered, PermanentDeliveryError
        or TransientDeliveryError when it was not accepted."""
class WhatsAppApi(Protocol):
    """The WhatsApp Cloud API: sends (each tagged with our idempotency id) and media by id."""

    def send(self, to: str, reply: Reply, *, tracker: str) -> None:
        """One reply in the customer-service window; raises on failure."""

    def send_template(self, to: str, *, lang: str, params: list[str], tracker: str) -> None:
        """The approved status-update template (for when the 24-hour window has closed)."""

    def fetch_media(self, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """A medium's bytes and MIME type; PhotoTooLarge past `max_bytes`."""


@dataclass(frozen=True)
class WaUser:
    """wa_users/{number_hash}: the conversation store, the only place a number is kept."""

    address: str  # the phone number (or the business-scoped user id) to send to
    conversation: Conversation
    outbox: list[dict[str, Any]]  # Any: replies stored before they are sent ({"tracker", "reply"})
    last_inbound_at: datetime | None
    version: object = None  # the store's precondition token for a guarded write


class WaUsers(Protocol):
    """The conversation store, keyed by the hash of the number."""

    def get(self, user: str) -> WaUser | None: ...

    def put(self, user: str, record: WaUser, *, expires_at: datetime) -> bool:
        """Write the record if it is unchanged since read (`version`; None: must not exist); False if not."""

    def clear_outbox(self, user: str, trackers: Sequence[str]) -> None:
        """Drop the sent replies from the outbox."""


class WaSends(Protocol):
    """wa_sends/{message_id}: the WhatsApp message channel's send tracking."""

    def begin(self, message_id: str, record: dict[str, Any]) -> dict[str, Any] | None:  # Any: Firestore fields
        """Create the pending record; if one exists, return it instead (None: created)."""

    def update(self, message_id: str, fields: dict[str, Any]) -> None: ...  # Any: Firestore fields


Clock = Callable[[], datetime]


class Subscriptions(Protocol):
    """subscriptions/{uid}/areas/{subscription_id}: each user's area subscriptions, and the index
    a new report's subscribers are found by (their match keys)."""

    def of(self, uid: str) -> list[AreaSubscription]:
        """The user's subscriptions, oldest first."""

    def add(self, subscription: AreaSubscription, *, limit: int) -> bool:
        """Store it (replacing one with its id) unless the user holds `limit` others already;
        False then, and nothing is stored."""

    def remove(self, uid: str, subscription_id: str) -> bool:
        """False if the user had no such subscription."""

    def matching(self, keys: Sequence[str]) -> list[AreaSubscription]:
        """Every subscription holding any of `keys` (an indexed query, never a scan)."""


class Digests(Protocol):
    """digests/{uid}_{day}: the reports of one WITA day a digest subscriber is to hear of, in one
    message the next morning."""

    def add(self, uid: str, day: str, report_id: str, *, lang: Lang, due_at: datetime) -> None:
        """Count the report in the user's digest of `day` (once, however often it is added)."""

    def due(self, *, before: datetime, limit: int) -> list[tuple[str, str, Lang, list[str]]]:
        """Unsent digests due before `before`: (uid, day, lang, report ids)."""

    def mark_sent(self, uid: str, day: str, at: datetime) -> None: ...
