"""The workflow of a report as data: statuses, who may make which move, and from where to where.

Every status change, the pipeline's included, is one of these moves; the report aggregate
(`keluhan.domain.report.Report`) applies them and writes the timeline entry in the same change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    """The citizen-visible workflow status of a report."""

    RECEIVED = "received"            # accepted for processing, no photo needed
    AWAITING_PHOTO = "awaiting_photo"
    PHOTO_EXPIRED = "photo_expired"
    PHOTO_REJECTED = "photo_rejected"
    IN_MODERATION = "in_moderation"
    VERIFIED = "verified"            # photo accepted, on its way to enrichment
    LOCATED = "located"
    ROUTED = "routed"                # in an SKPD's queue
    FORWARDED = "forwarded"          # handed to an external body (delivery tracked apart)
    TRIAGE = "triage"                # operators' triage queue
    ACCEPTED = "accepted"            # the SKPD has taken it on
    IN_PROGRESS = "in_progress"
    RESOLVING = "resolving"          # the SKPD says it is fixed; its proof photo is being checked
    RESOLVED = "resolved"            # proof accepted; the reporter may confirm or reopen
    REOPENED = "reopened"            # the reporter disputes the fix
    CLOSED = "closed"
    REJECTED = "rejected"            # not a problem, with the SKPD's reason
    DUPLICATE = "duplicate"          # the same problem as a parent report
    SCHEDULED = "scheduled"          # the SKPD named a date and a reason (budget, major works, another body)
    AWAITING_REPORTER = "awaiting_reporter"  # the SKPD asked the reporter a question; the SLA clock pauses
    AWAITING_VALIDATION = "awaiting_validation"  # a sampled fix: someone other than the SKPD checks it


STATUS_TEXT: dict[Status, str] = {
    Status.RECEIVED: "Laporan diterima / Report received",
    Status.AWAITING_PHOTO: "Menunggu foto / Waiting for the photo",
    Status.PHOTO_EXPIRED: "Foto tidak diunggah tepat waktu / The photo was not uploaded in time",
    Status.PHOTO_REJECTED: "Foto ditolak / Photo rejected",
    Status.IN_MODERATION: "Sedang diperiksa moderator / Being checked by a moderator",
    Status.VERIFIED: "Foto terverifikasi / Photo verified",
    Status.LOCATED: "Lokasi ditemukan / Location found",
    Status.ROUTED: "Diteruskan ke SKPD / Assigned to a city agency",
    Status.FORWARDED: "Diteruskan ke instansi lain / Forwarded to another authority",
    Status.TRIAGE: "Diperiksa operator / With the operators for triage",
    Status.ACCEPTED: "Diterima SKPD / Accepted by the agency",
    Status.IN_PROGRESS: "Sedang dikerjakan / Work in progress",
    Status.RESOLVING: "Bukti penyelesaian sedang diperiksa / The proof of the fix is being checked",
    Status.RESOLVED: "Selesai dikerjakan, menunggu konfirmasi / Fixed, awaiting your confirmation",
    Status.REOPENED: "Dibuka kembali oleh pelapor / Reopened by the reporter",
    Status.CLOSED: "Ditutup / Closed",
    Status.REJECTED: "Ditolak SKPD / Rejected by the agency",
    Status.DUPLICATE: "Duplikat laporan lain / Duplicate of another report",
    Status.SCHEDULED: "Dijadwalkan / Scheduled",
    Status.AWAITING_REPORTER: "Menunggu jawaban pelapor / Waiting for the reporter's answer",
    Status.AWAITING_VALIDATION: "Menunggu validasi / Awaiting validation",
}


class Role(StrEnum):
    """Who acts: from the caller's Firebase custom claims, or the pipeline itself."""

    WARGA = "warga"          # a citizen (no claim)
    SKPD = "skpd"            # staff of one assignee (claim `skpd: <assignee id>`)
    OPERATOR = "operator"    # Diskominfo's War Room
    CHANNEL = "channel"      # an intake channel's service identity (claim `channel: <code>`)
    SYSTEM = "system"        # a pipeline function or the sweep tick


@dataclass(frozen=True)
class Actor:
    """Who makes a move: a role, an id (uid or function name) and the role's scope."""

    role: Role
    id: str
    skpd: str | None = None
    channel: str | None = None
    # Signed in with Firebase's anonymous provider: no account behind it, so it may not submit.
    anonymous: bool = False

    @property
    def label(self) -> str:
        """How the timeline names the actor (never a citizen's uid: SKPD tools read it)."""
        if self.role == Role.WARGA:
            return "reporter"
        if self.role == Role.SYSTEM:
            return self.id
        if self.role == Role.SKPD:
            return f"skpd:{self.skpd}"
        if self.role == Role.CHANNEL:
            return f"channel:{self.channel}"
        return f"operator:{self.id}"


# `rtrw_head`: the kelurahan kode of a Smart RT/RW head (a citizen account), subscribed to it by default.
ROLE_CLAIMS = ("role", "skpd", "channel", "head", "rtrw_head")


def claims_for(role: Role, *, skpd: str | None = None, channel: str | None = None, head: bool = False,
               skpd_ids: frozenset[str] = frozenset(),
               channel_codes: frozenset[str] = frozenset(), rtrw_head: str | None = None,
               kelurahan_codes: frozenset[str] = frozenset()) -> dict[str, str | bool]:
    """The custom claims that make a Firebase user act in `role`; ValueError naming what is wrong."""
    if rtrw_head is not None:
        if role != Role.WARGA:
            raise ValueError("--rtrw-head is for a Smart RT/RW head's own account (with --role warga)")
        if rtrw_head not in kelurahan_codes:
            raise ValueError(f"--rtrw-head must name a kelurahan of Kota Makassar by its kode, e.g. 73.71.01.1001 "
                             f"({len(kelurahan_codes)} known)")
        return {"rtrw_head": rtrw_head}
    if role == Role.SYSTEM:
        raise ValueError("system is the pipeline's own role, never a user's")
    if role == Role.SKPD and skpd not in skpd_ids:
        raise ValueError(f"--skpd must name an SKPD assignee (one of {', '.join(sorted(skpd_ids))})")
    if role == Role.CHANNEL and channel not in channel_codes:
        raise ValueError(f"--channel must name an intake channel (one of {', '.join(sorted(channel_codes))})")
    if role == Role.WARGA:
        return {}
    if head and role != Role.SKPD:
        raise ValueError("--head is for the head of an SKPD (with --role skpd)")
    claims: dict[str, str | bool] = {"role": role.value}
    if role == Role.SKPD and skpd is not None:
        claims["skpd"] = skpd
        if head:  # told of escalations to the head of the SKPD (keluhan.domain.notify)
            claims["head"] = True
    if role == Role.CHANNEL and channel is not None:
        claims["channel"] = channel
    return claims


def system(function: str) -> Actor:
    return Actor(Role.SYSTEM, function)


class Action(StrEnum):
    # the pipeline
    SUBMIT = "submit"
    VERIFY_PHOTO = "verify_photo"
    EXPIRE_PHOTO = "expire_photo"
    LOCATE = "locate"
    ROUTE = "route"
    # operators
    REASSIGN = "reassign"
    APPROVE = "approve"              # moderation: the photo is fine
    DISAPPROVE = "disapprove"        # moderation: the photo is fake or unfit
    # the assigned SKPD
    ACCEPT = "accept"
    START = "start"
    RESOLVE = "resolve"
    REJECT = "reject"
    PROOF_ACCEPTED = "proof_accepted"
    PROOF_REJECTED = "proof_rejected"
    # the reporter
    CONFIRM = "confirm"
    REOPEN = "reopen"
    DISPUTE = "dispute"              # the reporter contests a rejection: the operators look again
    AUTO_CLOSE = "auto_close"
    # honest states (issue 21)
    SCHEDULE = "schedule"            # the SKPD: not now, on this date, for this reason
    RESUME = "resume"                # the sweep: the scheduled date has come, back to the queue
    ASK_REPORTER = "ask_reporter"    # the SKPD asks the reporter a question (the SLA clock pauses)
    ANSWER = "answer"                # the reporter answers (the clock resumes)
    CLOSE_UNANSWERED = "close_unanswered"  # the sweep: no answer in time
    VALIDATE = "validate"            # an operator confirms a sampled fix
    REFUSE_VALIDATION = "refuse_validation"  # "tindak lanjut ditolak": back to work with the reason


@dataclass(frozen=True)
class Move:
    """One row of the table: from which statuses, to which, and who may.

    `outcomes` names the one resulting status of each outcome the domain can compute (a routing
    decision's kind, a reject reason, a photo verdict); a move with a single result has the one
    outcome `DONE`. No caller picks a status: it names the outcome, the table gives the status.
    """

    sources: frozenset[Status | None]
    outcomes: Mapping[str, Status]
    roles: frozenset[Role]
    assignee_only: bool = False   # an SKPD only on a report currently assigned to it
    reporter_only: bool = False   # a citizen only on their own report

    @property
    def targets(self) -> frozenset[Status]:
        return frozenset(self.outcomes.values())

    def target(self, outcome: str = "") -> Status:
        """The one status this move leads to for `outcome` (KeyError for an outcome it does not know)."""
        return self.outcomes[outcome or DONE]


DONE = "done"  # the outcome of a move with a single result


def _move(sources: Iterable[Status | None], targets: Status | Mapping[str, Status], roles: Iterable[Role],
          **kw: bool) -> Move:
    outcomes = MappingProxyType({DONE: targets} if isinstance(targets, Status) else dict(targets))
    return Move(frozenset(sources), outcomes, frozenset(roles), **kw)


S = Status
SYSTEM_ONLY = (Role.SYSTEM,)
# Where a routing decision puts the report, by the kind of assignee.
BY_KIND = {"skpd": S.ROUTED, "external": S.FORWARDED, "triage": S.TRIAGE}
QUEUED = tuple(BY_KIND.values())
# Where a photo verdict puts a report awaiting its photo ("held": accepted, but the reporter is held).
BY_VERDICT = {"accepted": S.VERIFIED, "rejected": S.PHOTO_REJECTED, "needs_moderation": S.IN_MODERATION,
              "held": S.IN_MODERATION}
# Where a new report starts: awaiting its photo, received, or (reporter held) in moderation.
BY_SUBMISSION = {"photo": S.AWAITING_PHOTO, "no_photo": S.RECEIVED, "held": S.IN_MODERATION}
# Where an accepted proof puts the report: resolved, or held for a validation audit when sampled.
BY_AUDIT = {"not_sampled": S.RESOLVED, "sampled": S.AWAITING_VALIDATION}
# A scheduled report, or one waiting for the reporter's answer, goes back to the status it left
# (the outcome names it; the report keeps it as `schedule.resume_to` / `question.resume_to`).
SCHEDULABLE = (S.ACCEPTED, S.IN_PROGRESS, S.REOPENED)
ASKABLE = (S.ROUTED, *SCHEDULABLE)
BY_RESUME = {s.value: s for s in ASKABLE}

# The one transition table.
MOVES: dict[Action, Move] = {
    Action.SUBMIT: _move([None], BY_SUBMISSION, [Role.WARGA, Role.CHANNEL, Role.OPERATOR]),
    Action.VERIFY_PHOTO: _move([S.AWAITING_PHOTO], BY_VERDICT, SYSTEM_ONLY),
    Action.EXPIRE_PHOTO: _move([S.AWAITING_PHOTO], S.PHOTO_EXPIRED, SYSTEM_ONLY),
    Action.LOCATE: _move([S.RECEIVED, S.VERIFIED], S.LOCATED, SYSTEM_ONLY),
    Action.ROUTE: _move([S.LOCATED], BY_KIND, SYSTEM_ONLY),
    Action.REASSIGN: _move([*QUEUED, S.ACCEPTED], BY_KIND, [Role.OPERATOR]),
    Action.APPROVE: _move([S.IN_MODERATION], S.VERIFIED, [Role.OPERATOR]),
    Action.DISAPPROVE: _move([S.IN_MODERATION], S.PHOTO_REJECTED, [Role.OPERATOR]),
    Action.ACCEPT: _move([S.ROUTED], S.ACCEPTED, [Role.SKPD], assignee_only=True),
    Action.START: _move([S.ACCEPTED, S.REOPENED, S.SCHEDULED], S.IN_PROGRESS, [Role.SKPD], assignee_only=True),
    Action.RESOLVE: _move([S.IN_PROGRESS], S.RESOLVING, [Role.SKPD], assignee_only=True),
    # By the reason (RejectReason): not ours → back to triage; not a problem; a duplicate of a parent.
    Action.REJECT: _move([S.ROUTED, S.ACCEPTED], {"not_ours": S.TRIAGE, "not_a_problem": S.REJECTED,
                                                  "duplicate": S.DUPLICATE}, [Role.SKPD], assignee_only=True),
    Action.PROOF_ACCEPTED: _move([S.RESOLVING], BY_AUDIT, SYSTEM_ONLY),
    Action.PROOF_REJECTED: _move([S.RESOLVING], S.IN_PROGRESS, SYSTEM_ONLY),
    Action.CONFIRM: _move([S.RESOLVED], S.CLOSED, [Role.WARGA], reporter_only=True),
    Action.REOPEN: _move([S.RESOLVED], S.REOPENED, [Role.WARGA], reporter_only=True),
    Action.DISPUTE: _move([S.REJECTED, S.DUPLICATE], S.TRIAGE, [Role.WARGA], reporter_only=True),
    Action.AUTO_CLOSE: _move([S.RESOLVED], S.CLOSED, SYSTEM_ONLY),
    Action.SCHEDULE: _move([*SCHEDULABLE, S.SCHEDULED], S.SCHEDULED, [Role.SKPD], assignee_only=True),
    Action.RESUME: _move([S.SCHEDULED], {k: v for k, v in BY_RESUME.items() if v in SCHEDULABLE}, SYSTEM_ONLY),
    Action.ASK_REPORTER: _move(ASKABLE, S.AWAITING_REPORTER, [Role.SKPD], assignee_only=True),
    Action.ANSWER: _move([S.AWAITING_REPORTER], BY_RESUME, [Role.WARGA], reporter_only=True),
    Action.CLOSE_UNANSWERED: _move([S.AWAITING_REPORTER], S.CLOSED, SYSTEM_ONLY),
    Action.VALIDATE: _move([S.AWAITING_VALIDATION], S.RESOLVED, [Role.OPERATOR]),
    Action.REFUSE_VALIDATION: _move([S.AWAITING_VALIDATION], S.IN_PROGRESS, [Role.OPERATOR]),
}

# What the HTTP endpoint accepts; the rest are made by the pipeline and the sweep tick.
HUMAN_ACTIONS: tuple[Action, ...] = tuple(a for a, m in MOVES.items()
                                          if a != Action.SUBMIT and Role.SYSTEM not in m.roles)


class RejectReason(StrEnum):
    """Why an SKPD rejects a report, and where the report goes."""

    NOT_OURS = "not_ours"            # back to triage; the SKPD's clock stops
    NOT_A_PROBLEM = "not_a_problem"
    DUPLICATE = "duplicate"          # linked to a parent report


REJECT_TEXT: dict[RejectReason, str] = {
    RejectReason.NOT_OURS: "Bukan kewenangan SKPD ini / Not this agency's responsibility",
    RejectReason.NOT_A_PROBLEM: "Bukan masalah yang perlu ditangani / Not a problem to be handled",
    RejectReason.DUPLICATE: "Sama dengan laporan lain / The same problem as another report",
}


class ScheduleReason(StrEnum):
    """Why an SKPD schedules a report for a later date instead of working it now."""

    BUTUH_ANGGARAN = "butuh_anggaran"            # it needs budget (next year's)
    PEKERJAAN_BESAR = "pekerjaan_besar"          # major works, planned
    MENUNGGU_PIHAK_LAIN = "menunggu_pihak_lain"  # waiting on another body


SCHEDULE_TEXT: dict[ScheduleReason, str] = {
    ScheduleReason.BUTUH_ANGGARAN: "Butuh anggaran / Needs budget",
    ScheduleReason.PEKERJAAN_BESAR: "Pekerjaan besar / Major works",
    ScheduleReason.MENUNGGU_PIHAK_LAIN: "Menunggu pihak lain / Waiting on another body",
}


class Denied(Exception):
    """The actor may never make this move on this report (403)."""


class NotAllowedNow(Exception):
    """The move is not allowed from the report's current status (409)."""


def authorise(action: Action, actor: Actor, *, assignee: str | None, is_reporter: bool) -> Move:
    """The table row for `action`, if `actor` may make it on a report with this assignee."""
    move = MOVES[action]
    if actor.role not in move.roles:
        raise Denied(f"peran {actor.role.value} tidak boleh {action.value} / role "
                     f"{actor.role.value} may not {action.value}")
    if move.assignee_only and actor.role == Role.SKPD and actor.skpd != assignee:
        raise Denied("laporan ini bukan milik SKPD Anda / this report is not assigned to your agency")
    if move.reporter_only and actor.role == Role.WARGA and not is_reporter:
        raise Denied("hanya pelapor / only the reporter")
    return move


def check_move(action: Action, current: Status | None, target: Status) -> None:
    """Raise NotAllowedNow unless the table allows `action` from `current` to `target`."""
    move = MOVES[action]
    if current not in move.sources:
        raise NotAllowedNow(f"{action.value} tidak bisa dari status {current} / {action.value} is not "
                            f"possible from status {current}")
    if target not in move.targets:
        raise NotAllowedNow(f"{action.value} tidak bisa ke {target} / {action.value} cannot lead to {target}")


def allowed_actions(current: Status, actor: Actor, *, assignee: str | None,
                    is_reporter: bool) -> list[str]:
    """The moves this actor could make now: what a 409 offers instead."""
    out = []
    for action in HUMAN_ACTIONS:
        move = MOVES[action]
        if current not in move.sources:
            continue
        try:
            authorise(action, actor, assignee=assignee, is_reporter=is_reporter)
        except Denied:
            continue
        out.append(action.value)
    return out


def can_transition(current: str | None, new: str) -> bool:
    """Whether any move of the table leads from `current` to `new`."""
    source = Status(current) if current is not None else None
    return any(source in m.sources and Status(new) in m.targets for m in MOVES.values())


def replay(timeline: Sequence[Mapping[str, object]]) -> Status | None:
    """The status a timeline leads to, checking every entry against the table."""
    status: Status | None = None
    for entry in timeline:
        if "action" not in entry:
            continue  # an escalation or a note: no status change
        if entry.get("from") != (status.value if status else None):
            raise NotAllowedNow(f"timeline entry {entry} does not follow {status}")
        check_move(Action(str(entry["action"])), status, Status(str(entry["status"])))
        status = Status(str(entry["status"]))
    return status
