"""Builds the real adapters from settings, once per process, on first use."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from keluhan.domain.report import valid_report_id
from keluhan.domain.workflow import Actor
from keluhan.ports import (
    Comments,
    DeadLetters,
    Devices,
    Digests,
    Directory,
    Holds,
    Inbox,
    Notified,
    Open311Keys,
    PhotoIndex,
    PhotoStore,
    PreferenceStore,
    Publisher,
    Pusher,
    Reports,
    RulesDoc,
    Send,
    Sends,
    Stats,
    Subscriptions,
    Supporters,
    WaSends,
    WaUsers,
    WhatsAppApi,
)
from keluhan.settings import Settings, get_settings

if TYPE_CHECKING:
    from keluhan.adapters.photo_store import GcsPhotoStore
    from keluhan.adapters.whatsapp_cloud import CloudApi
    from keluhan.domain.location import Location
    from keluhan.domain.notify import Message
    from keluhan.domain.routing import RoutingDecision
    from keluhan.domain.sla import SlaPolicy
    from keluhan.rules_provider import RulesProvider
    from keluhan.usecases.comments import CommentLimits
    from keluhan.usecases.handling import HandlingPolicy
    from keluhan.usecases.nearby import DuplicatePolicy
    from keluhan.usecases.photo import Auditor
    from keluhan.usecases.push import PushPorts
    from keluhan.usecases.reconcile import ReconcilePolicy
    from keluhan.usecases.submission import PhotoUploadPolicy, QuotaPolicy
    from keluhan.usecases.whatsapp import WhatsAppPorts


def utc_now() -> datetime:
    """Now; on the local stack shifted by the offset in settings.clock_file when that file exists."""
    now = datetime.now(UTC)
    clock_file = get_settings().clock_file
    if clock_file:
        try:
            with open(clock_file, encoding="ascii") as handle:
                return now + timedelta(seconds=float(handle.read().strip() or 0))
        except FileNotFoundError:
            pass
    return now


def new_report_id() -> str:
    """Unguessable, URL- and Firestore-safe: a token the server's own id check accepts."""
    while True:  # about one token in 16.8 million is __…__; drawing again keeps the ids uniform
        report_id = secrets.token_urlsafe(18)
        if valid_report_id(report_id):
            return report_id


@dataclass(frozen=True)
class Deps:
    """The adapters a function runs on, each typed by the port its use cases take."""

    settings: Settings
    reports: Reports
    publish: Publisher
    photo_index: PhotoIndex
    dead_letters: DeadLetters
    rules_doc: RulesDoc
    authenticate: Callable[[str | None], Actor]  # Authorization header → Actor, or raises Unauthenticated
    holds: Holds
    stats: Stats
    open311_keys: Open311Keys
    inbox: Inbox
    directory: Directory
    notified: Notified
    supporters: Supporters
    comments: Comments
    subscriptions: Subscriptions
    digests: Digests
    devices: Devices
    preferences: PreferenceStore
    sends: Sends

    @functools.cached_property
    def pusher(self) -> Pusher:
        """Firebase Cloud Messaging (the stand-in locally, `settings.fcm_endpoint`)."""
        from keluhan.adapters.fcm import FcmPusher

        return FcmPusher(self.settings.project_id, endpoint=self.settings.fcm_endpoint,
                         timeout_s=self.settings.fcm_timeout_s)

    def push(self) -> PushPorts:
        """What pushing a message needs: devices, send records, FCM."""
        from keluhan.usecases.push import PushPorts

        return PushPorts(devices=self.devices, sends=self.sends, pusher=self.pusher)

    @functools.cached_property
    def photos(self) -> PhotoStore:
        return _photo_store(self.settings)

    @property
    def send_report(self) -> Send:
        """Delivers a report to an external body's receiver over HTTP."""
        from keluhan.adapters.forward_http import send_report

        return send_report

    @functools.cached_property
    def rules(self) -> RulesProvider:
        """The routing rules in force: routing_rules/current, else the bundled fixture."""
        from keluhan.rules_provider import RulesProvider, default_rules_path

        return RulesProvider(load_doc=self.rules_doc.load, fixture_path=default_rules_path(self.settings),
                             ttl_s=self.settings.routing_rules_ttl_s)

    def decide(self, *, category: str, location: Location | None) -> RoutingDecision:
        """The routing decision under the rules in force now."""
        from keluhan.domain.routing import decide

        return decide(category=category, location=location, rules=self.rules.current())

    def kelurahan_names(self) -> dict[str, str]:
        """Every kelurahan of the city: kode → name, from the geo data in force."""
        from keluhan.geodata import geo_index_from_settings

        return {area.kode: area.nama for area in geo_index_from_settings(self.settings).kelurahan}

    def locate(self, lat: float, lon: float) -> Location:
        """Where a point is (kelurahan, inside the city), as enrich_geo says."""
        from keluhan.geodata import geo_index_from_settings

        return geo_index_from_settings(self.settings).locate(lat, lon)

    def upload_policy(self) -> PhotoUploadPolicy:
        from keluhan.usecases.submission import PhotoUploadPolicy

        return PhotoUploadPolicy(url_ttl=timedelta(seconds=self.settings.upload_url_ttl_s),
                                 wait=timedelta(seconds=self.settings.photo_wait_s),
                                 max_bytes=self.settings.photo_max_bytes,
                                 reuse_margin=timedelta(seconds=self.settings.upload_url_reuse_margin_s))

    def quota_policy(self) -> QuotaPolicy:
        from keluhan.domain.quota import Limits
        from keluhan.usecases.submission import QuotaPolicy

        s = self.settings
        return QuotaPolicy(citizen=Limits(s.submit_per_hour, s.submit_per_day),
                           service=Limits(s.service_submit_per_hour, s.service_submit_per_day))

    def duplicate_policy(self) -> DuplicatePolicy:
        from keluhan.usecases.nearby import DuplicatePolicy

        return DuplicatePolicy(radius_m=self.settings.duplicate_radius_m,
                               max_age=timedelta(days=self.settings.duplicate_max_age_days))

    @functools.cached_property
    def whatsapp_cloud(self) -> CloudApi:
        """The WhatsApp Cloud API through pywa (locally the dev stack's stand-in)."""
        from keluhan.adapters.whatsapp_cloud import CloudApi, cloud_client

        s = self.settings
        client = cloud_client(phone_id=s.whatsapp_phone_id, token=s.whatsapp_access_token.get_secret_value(),
                              api_url=s.whatsapp_api_url)
        return CloudApi(client, template=s.whatsapp_template, app_secret=s.whatsapp_app_secret.get_secret_value())

    @property
    def whatsapp_api(self) -> WhatsAppApi:
        return self.whatsapp_cloud

    @functools.cached_property
    def whatsapp_ports(self) -> WhatsAppPorts:
        """What the conversation runs on: the submission's ports, the Cloud API, the conversation store."""
        from keluhan.domain.quota import Limits
        from keluhan.geodata import geo_index_from_settings
        from keluhan.usecases.submission import QuotaPolicy
        from keluhan.usecases.whatsapp import WhatsAppPorts

        s = self.settings
        limits = Limits(s.whatsapp_submit_per_hour, s.whatsapp_submit_per_day)  # per number, not the channel's
        return WhatsAppPorts(
            users=self.wa_users, api=self.whatsapp_api, reports=self.reports, publish=self.publish,
            photos=self.photos, holds=self.holds, clock=utc_now, new_id=new_report_id,
            upload_policy=self.upload_policy(), quota=QuotaPolicy(citizen=limits, service=limits),
            locate=geo_index_from_settings(s).locate, max_media_bytes=s.whatsapp_media_max_bytes,
            keep_for=timedelta(days=s.whatsapp_keep_days))

    def whatsapp_sender(self) -> Callable[[Message], bool] | None:
        """notify's WhatsApp message channel, when a WhatsApp number is configured."""
        if not self.settings.whatsapp_phone_id:
            return None
        from keluhan.usecases.whatsapp import deliver_whatsapp

        return functools.partial(deliver_whatsapp, users=self.wa_users, sends=self.wa_sends,
                                 api=self.whatsapp_api, clock=utc_now)

    @functools.cached_property
    def wa_users(self) -> WaUsers:
        from keluhan.adapters.firestore_counting import firestore_client
        from keluhan.adapters.whatsapp_store import FirestoreWaUsers

        return FirestoreWaUsers(firestore_client(self.settings.project_id))

    @functools.cached_property
    def wa_sends(self) -> WaSends:
        from keluhan.adapters.firestore_counting import firestore_client
        from keluhan.adapters.whatsapp_store import FirestoreWaSends

        return FirestoreWaSends(firestore_client(self.settings.project_id))

    @functools.cached_property
    def sla(self) -> SlaPolicy:
        from keluhan.workdays import sla_policy

        return sla_policy(self.settings.holidays_file)

    def reconcile_policy(self) -> ReconcilePolicy:
        from keluhan.usecases.reconcile import ReconcilePolicy

        s = self.settings
        return ReconcilePolicy(pipeline_after=timedelta(seconds=s.stall_after_s),
                               forwarding_after=timedelta(seconds=s.stall_forward_after_s),
                               max_republish=s.stall_max_republish, limit=s.reconcile_limit)

    def comment_limits(self) -> CommentLimits:
        from keluhan.usecases.comments import CommentLimits

        return CommentLimits(per_hour=self.settings.comment_per_hour, per_day=self.settings.comment_per_day)

    def handling_policy(self) -> HandlingPolicy:
        from keluhan.usecases.handling import HandlingPolicy

        return HandlingPolicy(proof_wait=timedelta(seconds=self.settings.proof_wait_s),
                              reopen_window=timedelta(seconds=self.settings.reopen_window_s),
                              url_ttl=timedelta(seconds=self.settings.upload_url_ttl_s),
                              max_bytes=self.settings.photo_max_bytes, sla=self.sla,
                              answer_wait=timedelta(days=self.settings.answer_wait_days),
                              schedule_max_ahead=timedelta(days=self.settings.schedule_max_days))

    @functools.cached_property
    def auditor(self) -> Auditor:
        """Samples accepted fixes for validation audits (one random source per process)."""
        import random

        from keluhan.domain.audit import AuditPolicy
        from keluhan.usecases.photo import Auditor

        s = self.settings
        policy = AuditPolicy(rate=s.audit_rate, high_rate=s.audit_rate_high,
                             reopen_threshold=s.audit_reopen_threshold, min_fixes=s.audit_min_fixes,
                             by_skpd=dict(s.audit_rate_by_skpd))
        source = random.Random(s.audit_seed) if s.audit_seed is not None else random.SystemRandom()
        return Auditor(policy=policy, stats=self.stats, draw=source.random)


@functools.cache
def get_deps() -> Deps:
    from google.cloud import pubsub_v1

    from keluhan.adapters.auth import verify_bearer
    from keluhan.adapters.firestore_counting import firestore_client
    from keluhan.adapters.firestore_push import FirestoreDevices, FirestorePreferences, FirestoreSends
    from keluhan.adapters.firestore_store import (
        FirestoreComments,
        FirestoreDeadLetters,
        FirestoreDigests,
        FirestoreDirectory,
        FirestoreHolds,
        FirestoreInbox,
        FirestoreNotified,
        FirestoreOpen311Keys,
        FirestorePhotoIndex,
        FirestoreReports,
        FirestoreRulesDoc,
        FirestoreStats,
        FirestoreSubscriptions,
        FirestoreSupporters,
    )
    from keluhan.adapters.pubsub_publisher import PubSubPublisher
    from keluhan.logs import setup_logging

    settings = get_settings()
    setup_logging(settings.project_id)  # once per process: get_deps is cached
    db = firestore_client(settings.project_id)  # counts its operations in the local stack only
    return Deps(
        settings=settings,
        reports=FirestoreReports(db),
        publish=PubSubPublisher(pubsub_v1.PublisherClient(), settings.project_id),
        photo_index=FirestorePhotoIndex(db),
        dead_letters=FirestoreDeadLetters(db),
        rules_doc=FirestoreRulesDoc(db),
        authenticate=functools.partial(verify_bearer, settings=settings),
        holds=FirestoreHolds(db),
        stats=FirestoreStats(db),
        open311_keys=FirestoreOpen311Keys(db),
        inbox=FirestoreInbox(db),
        directory=FirestoreDirectory(db),
        notified=FirestoreNotified(db),
        supporters=FirestoreSupporters(db),
        comments=FirestoreComments(db),
        subscriptions=FirestoreSubscriptions(db),
        digests=FirestoreDigests(db),
        devices=FirestoreDevices(db),
        preferences=FirestorePreferences(db),
        sends=FirestoreSends(db),
    )


def _photo_store(settings: Settings) -> GcsPhotoStore:
    import os

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from keluhan.adapters.photo_store import GcsPhotoStore

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        # google-cloud-storage and google-auth leave these constructors unannotated.
        client = storage.Client(project=settings.project_id,
                                credentials=AnonymousCredentials())  # type: ignore[no-untyped-call, unused-ignore]  # as above
    else:
        client = storage.Client(project=settings.project_id)  # type: ignore[no-untyped-call, unused-ignore]  # unannotated
    if settings.signing_key_file:
        from google.oauth2 import service_account

        signer = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call, unused-ignore]  # unannotated in google-auth
            settings.signing_key_file)
        return GcsPhotoStore(client, settings.photo_bucket, signing_credentials=signer, clock=utc_now)
    # On Cloud Functions the runtime service account signs through IAM signBlob.
    import google.auth

    credentials, _ = google.auth.default()
    return GcsPhotoStore(client, settings.photo_bucket, runtime_credentials=credentials, clock=utc_now)
