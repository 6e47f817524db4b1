"""The one validated settings object, built once per process on first use and passed in."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_GEO = REPO_ROOT.parent / "shared" / "geo"


class Settings(BaseSettings):
    """Process configuration, from KELUHAN_* environment variables (and the usual GCP ones)."""

    model_config = SettingsConfigDict(env_prefix="KELUHAN_", extra="ignore", frozen=True, populate_by_name=True)

    project_id: str = Field(
        default="demo-keluhan",
        validation_alias=AliasChoices("KELUHAN_PROJECT_ID", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"),
    )
    photo_bucket: str = "demo-keluhan-photos"
    # Upload URL lifetime and how long a report waits for its photo.
    upload_url_ttl_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    photo_wait_s: int = Field(default=24 * 3600, ge=60)
    # A service-account JSON key file used to sign upload URLs (locally a generated key);
    # empty in production, where the runtime service account signs through IAM signBlob.
    signing_key_file: str = ""
    # A retry of the same submission gets the URL already issued while it stays valid this long.
    upload_url_reuse_margin_s: int = Field(default=300, ge=0)
    photo_max_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)

    # New reports per reporter per clock hour and per WITA day (429 beyond), counted in Firestore
    # with the report; channel services (Call Center 112 …) and operators have their own limits.
    submit_per_hour: int = Field(default=10, ge=1)
    submit_per_day: int = Field(default=30, ge=1)
    service_submit_per_hour: int = Field(default=600, ge=1)
    service_submit_per_day: int = Field(default=6000, ge=1)
    # Comments per author in any hour and any day (429 beyond), counted over comments/.
    comment_per_hour: int = Field(default=20, ge=1)
    comment_per_day: int = Field(default=100, ge=1)
    # How long before the report a photo may have been taken (an offline citizen is not punished).
    photo_max_age_h: float = Field(default=24, gt=0)
    photo_gps_max_distance_m: float = Field(default=300, gt=0)

    # Handling: how long an SKPD's proof upload is awaited, how long the reporter may reopen a fix.
    proof_wait_s: int = Field(default=24 * 3600, ge=60)
    reopen_window_s: int = Field(default=7 * 24 * 3600, ge=60)

    # Honest states (docs/handling.md): how long the reporter has to answer an SKPD's question before
    # the sweep closes the report, and how far ahead an SKPD may schedule work.
    answer_wait_days: float = Field(default=14, gt=0, le=365)
    schedule_max_days: int = Field(default=730, ge=1, le=3650)
    # Validation audits: the share of accepted fixes held at awaiting_validation, a higher share for
    # an SKPD whose reopen rate is above the threshold (with at least audit_min_fixes fixes), per-SKPD
    # rates set outright (JSON {"dinas-pu": 0.5}), and a seed that makes the draws repeatable (tests).
    audit_rate: float = Field(default=0.10, ge=0, le=1)
    audit_rate_high: float = Field(default=0.30, ge=0, le=1)
    audit_reopen_threshold: float = Field(default=0.20, ge=0, le=1)
    audit_min_fixes: int = Field(default=10, ge=1)
    audit_rate_by_skpd: dict[str, float] = Field(default_factory=dict)
    audit_seed: int | None = None

    # Extra non-working days (CSV `date,name`) beyond Indonesia's calendar; empty: the packaged file.
    holidays_file: str = ""

    # The reconciler on the sweep tick: how long a report may sit in a pipeline stage (received,
    # verified, located; a pending forwarding) before its event is published again, how often.
    stall_after_s: int = Field(default=120, ge=5)
    stall_forward_after_s: int = Field(default=600, ge=5)
    stall_max_republish: int = Field(default=5, ge=1, le=50)
    reconcile_limit: int = Field(default=200, ge=1, le=2000)

    # Geo data: a directory holding makassar_kelurahan.geojson, makassar_tetangga.geojson and,
    # when ops have one, roads.geojson; or an imported bundle written by `keluhan geo import`.
    geo_dir: str = ""
    geo_bundle: str = ""
    geo_roads_file: str = ""  # a road layer outside geo_dir (else geo_dir/roads.geojson if present)
    geo_snap_distance_m: float = Field(default=150.0, ge=0, le=1000)
    geo_near_border_m: float = Field(default=20.0, ge=0, le=500)
    geo_road_snap_m: float = Field(default=25.0, ge=0, le=200)

    # Routing rules: the fixture file; Firestore overrides it when a rules document exists.
    routing_rules_file: str = ""
    routing_rules_ttl_s: int = Field(default=30, ge=0, le=60)

    # Forwarding receivers, JSON: {"baruga": {"url": "...", "format": "open311", "token": "..."}}.
    forward_targets: dict[str, dict[str, str]] = Field(default_factory=dict)
    forward_timeout_s: float = Field(default=10.0, gt=0, le=30)

    # Push: Firebase Cloud Messaging HTTP v1. Empty in production (https://fcm.googleapis.com with
    # the runtime service account); locally the dev stack's stand-in (keluhan.devstack.fcm).
    fcm_endpoint: str = ""
    fcm_timeout_s: float = Field(default=10.0, gt=0, le=30)

    # Auth emulator (never set in production; see auth guard).
    firebase_auth_emulator_host: str = Field(
        default="", validation_alias=AliasChoices("FIREBASE_AUTH_EMULATOR_HOST")
    )
    # The Cloud Storage emulator's URL (local stack only): where signed photo URLs point.
    storage_emulator_host: str = Field(default="", validation_alias=AliasChoices("STORAGE_EMULATOR_HOST"))
    k_service: str = Field(default="", validation_alias=AliasChoices("K_SERVICE"))
    # Behind API Gateway (Terraform `public_front = { kind = "api_gateway" }`): the gateway puts its
    # own ID token in Authorization and the caller's in X-Forwarded-Authorization, which is then
    # the only header the caller's Firebase token is read from. Off, only Authorization is read,
    # so a client can never pick the header itself.
    forwarded_authorization: bool = False

    # Local stack only: a file holding a clock offset in seconds (tests replay months of history);
    # refused on Cloud Run.
    clock_file: str = ""

    # Large enough that an over-long field is named by validation (422), small enough to parse cheaply.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=4096)

    # Open311's anonymous reads, per client address and instance (keluhan.domain.throttle).
    open311_reads_per_minute: float = Field(default=120.0, gt=0, le=6000)
    open311_read_burst: int = Field(default=60, ge=1, le=1000)

    # WhatsApp Cloud API (functions/whatsapp and notify's WhatsApp channel; docs/whatsapp.md). The app
    # secret signs every webhook delivery, the verify token answers Meta's GET handshake, the access
    # token (a system user's) sends; in production all three come from Secret Manager.
    whatsapp_app_secret: SecretStr = SecretStr("")
    whatsapp_verify_token: SecretStr = SecretStr("")
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_phone_id: str = ""
    whatsapp_api_url: str = ""  # local stack only: the Cloud API stand-in instead of graph.facebook.com
    whatsapp_template: str = "keluhan_status_update"  # approved template for notices outside 24 h
    whatsapp_media_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)  # the Cloud API's image limit
    whatsapp_submit_per_hour: int = Field(default=5, ge=1)
    whatsapp_submit_per_day: int = Field(default=15, ge=1)
    whatsapp_keep_days: int = Field(default=180, ge=1)  # a resident's record after their last message
    # Duplicates while reporting: open reports of the same category this near and this recent are
    # offered in the submit answer (never blocking); nearby_reports reads at most this many documents.
    duplicate_radius_m: float = Field(default=75.0, gt=0, le=1000)
    duplicate_max_age_days: float = Field(default=30.0, gt=0, le=365)
    nearby_read_cap: int = Field(default=300, ge=20, le=2000)

    @field_validator("audit_rate_by_skpd")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= rate <= 1 for rate in value.values()):
            raise ValueError("every rate must be between 0 and 1")
        return value

    @field_validator("photo_bucket", "project_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _no_demo_values_in_production(self) -> Settings:
        """On Cloud Run/Functions (K_SERVICE set) the local demo defaults are a misconfiguration."""
        if self.k_service and self.whatsapp_api_url:
            raise ValueError("KELUHAN_WHATSAPP_API_URL is for the local stack only")
        if self.k_service and self.clock_file:
            raise ValueError("KELUHAN_CLOCK_FILE is for the local stack only")
        if self.k_service and self.fcm_endpoint:
            raise ValueError("KELUHAN_FCM_ENDPOINT is for the local stack only")
        if self.k_service and (self.project_id.startswith("demo-") or self.photo_bucket.startswith("demo-")):
            raise ValueError("running on Cloud Run with demo project or bucket: set KELUHAN_PROJECT_ID "
                             "and KELUHAN_PHOTO_BUCKET")
        return self

    def resolved_geo_dir(self) -> Path:
        """Where the boundary files live: the setting, else ../shared/geo beside the repo."""
        return Path(self.geo_dir) if self.geo_dir else SHARED_GEO


@functools.cache
def get_settings() -> Settings:
    """The process's settings, built on first use."""
    return Settings()
