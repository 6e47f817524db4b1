"""Which function listens to what, and which topics and subscriptions exist: one place.

The launcher's Pub/Sub bootstrap, the README's map and the Terraform checks all read this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEAD_LETTER_SUFFIX = "-dead-letter"
# Where photos live in the private bucket (keluhan.domain.report, keluhan.usecases.photo).
INCOMING_PREFIX = "incoming/"
DERIVED_PREFIX = "derived/"
RESOLUTION_PREFIX = "resolution/"  # SKPD proof photos of a fix


@dataclass(frozen=True)
class PhotoAccess:
    """What a function does to objects under one prefix of the photo bucket.

    read: get an object (also what a V4 signed GET URL needs of its signer); create: write new
    objects (what a signed PUT URL needs); write: create, overwrite and read (a redelivery
    rewrites a derivative).
    """

    prefix: str
    mode: Literal["read", "create", "write"]


@dataclass(frozen=True)
class Function:
    name: str
    trigger: Literal["http", "pubsub"]
    signature: Literal["http", "cloudevent"]
    topics: tuple[str, ...] = ()
    publishes: tuple[str, ...] = ()
    description: str = ""
    # Pub/Sub push delivery: ack deadline well above the handler's timeout, retry backoff.
    ack_deadline_s: int = 60
    min_backoff_s: int = 1
    max_backoff_s: int = 10
    max_delivery_attempts: int = 5
    dead_letter: bool = True
    timeout_s: int = 30
    # What the code calls beyond Firestore and publishing `publishes`; Terraform grants exactly this.
    photo_access: tuple[PhotoAccess, ...] = ()
    signs_urls: bool = False  # V4 signed URLs through IAM signBlob as its own service account
    reads_users: bool = False  # verifies ID tokens with check_revoked=True: a Firebase Auth user lookup
    sends_push: bool = False  # Firebase Cloud Messaging (roles/firebasecloudmessaging.admin)
    # "read": queries and gets only (roles/datastore.viewer); "write": transactions and commits too.
    firestore: Literal["read", "write"] = "write"
    # The code is functions/<source>/main.py when it is another function's code deployed again
    # under this entry point (its own service, instances and account); else functions/<name>/.
    source: str = ""

    @property
    def source_dir(self) -> str:
        """The folder under functions/ whose main.py defines this function's entry point."""
        return self.source or self.name


PHOTO_UPLOADED = "photo-uploaded"
REPORT_ACCEPTED = "report-accepted"
REPORT_LOCATED = "report-located"
REPORT_ROUTED = "report-routed"
# Every status change (report id, from, to, by role, at, seq); the figures consume it.
REPORT_STATUS_CHANGED = "report-status-changed"

STAGE_TOPICS = (PHOTO_UPLOADED, REPORT_ACCEPTED, REPORT_LOCATED, REPORT_ROUTED, REPORT_STATUS_CHANGED)
# Published by Cloud Scheduler every few minutes; a missed tick is simply caught up by the next.
SWEEP_TICK = "sweep-tick"


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "submit_report", "http", "http",
        publishes=(REPORT_ACCEPTED, REPORT_STATUS_CHANGED),
        description="POST a report; returns report_id, status and the photo upload URL",
        # ... and possible duplicates nearby, with signed GET links of their public thumbnails.
        photo_access=(PhotoAccess(INCOMING_PREFIX, "create"), PhotoAccess(DERIVED_PREFIX, "read")),
        signs_urls=True,
        reads_users=True,
    ),
    Function(
        "get_report", "http", "http",
        # Expiring an overdue photo wait on read announces the status change.
        publishes=(REPORT_STATUS_CHANGED,),
        description="GET ?report_id=…: the reporter's own report, status and timeline",
        # A signed GET link of the proof photo's EXIF-free copy, signed as this account.
        photo_access=(PhotoAccess(DERIVED_PREFIX, "read"),),
        signs_urls=True,
        reads_users=True,
    ),
    Function(
        "act_on_report", "http", "http",
        publishes=(REPORT_ACCEPTED, REPORT_ROUTED, REPORT_STATUS_CHANGED),
        description="POST a move on a report: SKPD accept/start/resolve/reject, reporter "
                    "confirm/reopen, operator reassign/moderate/hold",
        # `resolve` hands out a signed PUT URL for the proof photo.
        photo_access=(PhotoAccess(RESOLUTION_PREFIX, "create"),),
        signs_urls=True,
        reads_users=True,
    ),
    Function(
        "open311", "http", "http",
        publishes=(REPORT_ACCEPTED, REPORT_STATUS_CHANGED),
        description="Open311 GeoReport v2: services, requests (POST with an api_key, through the "
                    "submission use case) and their public view, tokens",
        # media_url: a signed GET link of the public thumbnail (EXIF-free), signed as this account.
        photo_access=(PhotoAccess(INCOMING_PREFIX, "create"), PhotoAccess(DERIVED_PREFIX, "read")),
        signs_urls=True,
    ),
    Function(
        # The same code as open311, deployed apart: channels post here, on instances of their own
        # that a crowd of anonymous public reads of open311 cannot take (docs/open311.md).
        "open311_intake", "http", "http", source="open311",
        publishes=(REPORT_ACCEPTED, REPORT_STATUS_CHANGED),
        description="Open311 channel intake: POST requests.json with an api_key, and services; "
                    "open311's code on instances of its own",
        # No reads of requests here, so no media_url links: only the posted photo's upload.
        photo_access=(PhotoAccess(INCOMING_PREFIX, "create"),),
        signs_urls=True,
    ),
    Function(
        # The WhatsApp Cloud API webhook (docs/whatsapp.md): a signed delivery moves the sender's
        # conversation; a confirmed one is submitted as submit_report submits, channel `whatsapp`.
        "whatsapp", "http", "http",
        publishes=(REPORT_ACCEPTED, REPORT_STATUS_CHANGED),
        description="WhatsApp Cloud API webhook: GET handshake, signed POST deliveries → the conversation → "
                    "a report (channel whatsapp)",
        # Writes the photo fetched from the Cloud API where the app's signed PUT would put it; the
        # submission use case signs that PUT URL too (unused here, as submit_report's answer is).
        photo_access=(PhotoAccess(INCOMING_PREFIX, "create"),),
        signs_urls=True,
    ),
    Function(
        "support_report", "http", "http",
        # The figures count supporters: the report's latest change is announced again.
        publishes=(REPORT_STATUS_CHANGED,),
        description="POST {report_id} supports a report (\"dukung\"); `undo` or DELETE ?report_id= withdraws",
        reads_users=True,
    ),
    Function(
        "comment_on_report", "http", "http",
        # A staff reply is a timeline entry the reporter is told of (notify).
        publishes=(REPORT_STATUS_CHANGED,),
        description="GET ?report_id= the report's thread; POST a comment (public or internal), or hide one",
        reads_users=True,
    ),
    Function(
        "war_room", "http", "http",
        description="GET the War Room page, kelurahan.geojson, and stats.json (operators' token)",
        reads_users=True,
        firestore="read",
    ),
    Function(
        "subscriptions", "http", "http",
        description="GET, POST (add), POST /remove the signed-in user's area subscriptions (a kelurahan or a circle "
                    "≤ 2 km, optional categories, a daily digest): subscriptions/{uid}/areas/{id}",
        reads_users=True,
    ),
    Function(
        "photo_links", "http", "http",
        description="GET ?report_id=…: signed read links (≤ 15 min) of the report's EXIF-free photo, "
                    "thumbnail and proof, for its SKPD's staff and operators",
        # Signed GET links of derivatives only (never incoming/), signed as this account.
        photo_access=(PhotoAccess(DERIVED_PREFIX, "read"),),
        signs_urls=True,
        reads_users=True,
        firestore="read",
    ),
    Function(
        "list_my_reports", "http", "http",
        description="GET the signed-in reporter's own reports, newest first, paged by cursor, by status",
        reads_users=True,
        firestore="read",
    ),
    Function(
        "nearby_reports", "http", "http",
        description="GET ?lat=&lon=&radius_m=&category=: open public reports near a point (geohash "
                    "ranges, a bounded number of reads), with short-lived thumbnail links",
        # Signed GET links of the EXIF-free thumbnails, signed as this account.
        photo_access=(PhotoAccess(DERIVED_PREFIX, "read"),),
        signs_urls=True,
        reads_users=True,
        firestore="read",
    ),
    Function(
        "work", "http", "http",
        # act_on_report's code for SKPD staff only: their moves announce a status change, and
        # `resolve` hands out the proof's signed PUT URL (operators' moves, which publish more, are refused).
        publishes=(REPORT_STATUS_CHANGED,),
        description="GET the work page for SKPD staff, their queue.json and report.json; POST a move (act)",
        # The proof's signed PUT URL; signed GET links of the EXIF-free photos (as photo_links).
        photo_access=(PhotoAccess(RESOLUTION_PREFIX, "create"), PhotoAccess(DERIVED_PREFIX, "read")),
        signs_urls=True,
        reads_users=True,
    ),
    Function(
        "notification_settings", "http", "http",
        description="POST /devices, /devices/remove: the signed-in user's push tokens; GET/POST "
                    "/preferences: language, quiet hours, muted reports",
        reads_users=True,
    ),
    Function(
        "verify_photo", "pubsub", "cloudevent", topics=(PHOTO_UPLOADED,),
        publishes=(REPORT_ACCEPTED, REPORT_STATUS_CHANGED),
        description="Object-finalize notification → photo checks, EXIF-free copy, thumbnail",
        photo_access=(PhotoAccess(INCOMING_PREFIX, "read"), PhotoAccess(RESOLUTION_PREFIX, "read"),
                      PhotoAccess(DERIVED_PREFIX, "write")),
    ),
    Function(
        "enrich_geo", "pubsub", "cloudevent", topics=(REPORT_ACCEPTED,),
        publishes=(REPORT_LOCATED, REPORT_STATUS_CHANGED),
        description="Point → kelurahan, kecamatan, road status",
    ),
    Function(
        "route_report", "pubsub", "cloudevent", topics=(REPORT_LOCATED,),
        publishes=(REPORT_ROUTED, REPORT_STATUS_CHANGED),
        description="Routing rules → assignee (SKPD queue, external body, or triage)",
    ),
    Function(
        "forward_report", "pubsub", "cloudevent", topics=(REPORT_ROUTED,),
        publishes=(REPORT_STATUS_CHANGED,),  # a delivery given up on (the operators are told)
        description="Deliver reports routed to an external body (Baruga, BBPJN, regencies)",
        max_backoff_s=5,
        timeout_s=30,
        # The receiver fetches the EXIF-free copy through a signed GET URL signed as this account.
        photo_access=(PhotoAccess(DERIVED_PREFIX, "read"),),
        signs_urls=True,
    ),
    Function(
        "record_figures", "pubsub", "cloudevent", topics=(REPORT_STATUS_CHANGED,),
        description="Every status change → the report's part of stats/… (idempotent per report and seq)",
    ),
    Function(
        "notify", "pubsub", "cloudevent", topics=(REPORT_STATUS_CHANGED,),
        description="Every status change → one message per recipient and channel (the reporter, "
                    "supporters, the SKPD's staff and head, the operators): inbox/{uid}/messages/{id}, "
                    "and a push through FCM to their devices (sends/{id})",
        sends_push=True,
    ),
    Function(
        "sweep_reports", "pubsub", "cloudevent", topics=(SWEEP_TICK,),
        # The reconciler re-publishes the event of a stage a report got stuck in.
        publishes=(PHOTO_UPLOADED, REPORT_ACCEPTED, REPORT_LOCATED, REPORT_ROUTED, REPORT_STATUS_CHANGED),
        description="Cloud Scheduler tick → expire photo and proof waits, auto-close resolved reports, "
                    "escalate overdue ones, re-publish the stage of reports that stopped moving",
        # Looks for uploads whose notification was lost.
        photo_access=(PhotoAccess(INCOMING_PREFIX, "read"), PhotoAccess(RESOLUTION_PREFIX, "read")),
        dead_letter=False,
        max_delivery_attempts=0,
        sends_push=True,  # attempts the pushes that are due
    ),
    Function(
        "record_dead_letter", "pubsub", "cloudevent",
        topics=tuple(dead_letter_topic(t) for t in STAGE_TOPICS),
        publishes=(REPORT_STATUS_CHANGED,),  # a failed forwarding's timeline entry (the operators are told)
        description="Dead-lettered messages → dead_letters/{id}; a failed forwarding is marked failed",
        dead_letter=False,
        max_delivery_attempts=0,
    ),
)

FUNCTION_BY_NAME = {f.name: f for f in FUNCTIONS}


@dataclass(frozen=True)
class Subscription:
    name: str
    topic: str
    function: str
    dead_letter_topic: str | None


def subscriptions() -> list[Subscription]:
    """One push subscription per (function, topic), named `<function>--<topic>`."""
    subs = []
    for fn in FUNCTIONS:
        for topic in fn.topics:
            dlt = dead_letter_topic(topic) if fn.dead_letter else None
            subs.append(Subscription(f"{fn.name}--{topic}", topic, fn.name, dlt))
    return subs


def all_topics() -> list[str]:
    """Every topic, dead-letter topics included."""
    topics = [*STAGE_TOPICS, SWEEP_TICK]
    topics += [dead_letter_topic(t) for t in STAGE_TOPICS]
    return topics


def stage_of_topic(topic: str) -> str:
    """The stage a (dead-letter) topic feeds: the name of the function that consumes it."""
    base = topic.removesuffix(DEAD_LETTER_SUFFIX)
    for fn in FUNCTIONS:
        if base in fn.topics and fn.dead_letter:
            return fn.name
    return base
