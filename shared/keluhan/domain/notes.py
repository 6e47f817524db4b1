"""Which timeline notes the public may read: an allow-list of actions, and contact details redacted.

A note is internal unless its action is listed here: an operator's reassign reason, a moderation
note, an SKPD's accept/start remark and the reason a reporter is held stay with staff. Public
views (the reporter's, Open311's) read notes only through `public_note`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from keluhan.domain.workflow import Action

PUBLIC_NOTE_ACTIONS: frozenset[str] = frozenset({
    Action.VERIFY_PHOTO, Action.EXPIRE_PHOTO, Action.LOCATE, Action.ROUTE, Action.RESOLVE, Action.REJECT,
    Action.PROOF_ACCEPTED, Action.PROOF_REJECTED, Action.REOPEN, Action.DISPUTE, Action.AUTO_CLOSE,
    # the reporter is told the date and reason of a schedule, and must read the SKPD's question
    Action.SCHEDULE, Action.RESUME, Action.ASK_REPORTER, Action.ANSWER, Action.CLOSE_UNANSWERED,
})
PUBLIC_NOTE_EVENTS: frozenset[str] = frozenset({"escalation", "delivery_failed"})

# Indonesian mobile and landline numbers (08…, +62…, 62…, (0411) …) and e-mail addresses.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w(])\(?(?:\+?62|0)[\s.\-()]*\d(?:[\s.\-()]*\d){6,13}(?!\w)")
REDACTED = "[disembunyikan / redacted]"


def redact_contacts(text: str) -> str:
    """`text` with phone numbers and e-mail addresses replaced, for every public view."""
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def public_note(entry: Mapping[str, object]) -> str:
    """The entry's note if the public may read it (redacted), else ""."""
    if entry.get("action") not in PUBLIC_NOTE_ACTIONS and entry.get("event") not in PUBLIC_NOTE_EVENTS:
        return ""
    return redact_contacts(str(entry.get("note") or "").strip())


MANUAL_ROUTING = "Dialihkan oleh petugas / Reassigned by an operator"


def public_routing_reason(routing: Mapping[str, object]) -> str | None:
    """Why the report is with its assignee, for the public: a rule's reason, never an operator's
    own words for a manual reassignment (those stay in `reassignments`)."""
    if not routing:
        return None
    if routing.get("rule") == "manual":
        return MANUAL_ROUTING
    return redact_contacts(str(routing.get("reason") or "")) or None
