"""Supporting a report ("dukung"): which reports a resident may support, and what they are told."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from keluhan.domain.report import REPORT_ID_SCHEMA_PATTERN
from keluhan.domain.workflow import Status

# Reports the public sees being handled: a resident adds their voice instead of reporting again.
# Before routing (awaiting a photo, in moderation, …) a report is nobody's to see; once closed,
# rejected or a duplicate there is nothing left to support (a duplicate's parent is).
# Issue 21's honest states are still being handled: scheduled, waiting for the reporter, or a fix
# awaiting its validation audit.
SUPPORTABLE = frozenset({Status.ROUTED, Status.FORWARDED, Status.TRIAGE, Status.ACCEPTED, Status.IN_PROGRESS,
                         Status.RESOLVING, Status.RESOLVED, Status.REOPENED, Status.SCHEDULED,
                         Status.AWAITING_REPORTER, Status.AWAITING_VALIDATION})
# Reports that exist for the public at all (a support of anything else is 404: nothing is revealed).
PUBLIC = SUPPORTABLE | {Status.CLOSED, Status.REJECTED, Status.DUPLICATE}


class SupportReport(BaseModel):
    """What the app sends to support_report (POST): `undo: true` withdraws, as DELETE does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                           json_schema_extra={"pattern": REPORT_ID_SCHEMA_PATTERN})
    undo: bool = Field(default=False, strict=True, description="Withdraw the support (as DELETE)")


class SupportAnswer(BaseModel):
    """support_report: whether the caller supports the report now, and how many do."""

    model_config = ConfigDict(extra="forbid")

    report_id: str
    supported: bool
    supporters: int
    status: Status
