"""A report's thread: the reporter, its supporters and the assignee's staff talk; operators moderate.

Each comment is public (everyone in the thread reads it) or internal (staff only: the assignee's
staff and the operators). Who wrote it is a role and a label, never a uid; an operator may hide a
comment with a reason, and then nobody but the operators reads its words.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from keluhan.domain.report import FIRESTORE_RESERVED_ID, REPORT_ID_SCHEMA_PATTERN
from keluhan.domain.text import FREE_TEXT_SCHEMA_PATTERN, free_text
from keluhan.domain.workflow import Actor, Role

Visibility = Literal["public", "internal"]
AuthorRole = Literal["reporter", "supporter", "skpd", "operator"]
COMMENT_MAX_CHARS = 1000
THREAD_MAX = 200  # the newest comments one GET returns


class CommentOnReport(BaseModel):
    """What the apps send to comment_on_report: a comment (`post`), or an operator's `hide`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    report_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                           json_schema_extra={"pattern": REPORT_ID_SCHEMA_PATTERN})
    action: Literal["post", "hide"] = "post"
    client_id: str | None = Field(default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                  description="The app's id of this comment: a retry posts nothing twice")
    text: str = Field(default="", max_length=COMMENT_MAX_CHARS,
                      json_schema_extra={"pattern": FREE_TEXT_SCHEMA_PATTERN})
    visibility: Visibility = Field(default="public", description="internal: staff only (SKPD staff, operators)")
    comment_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="The comment to hide (`hide`)")
    reason: str = Field(default="", max_length=500, json_schema_extra={"pattern": FREE_TEXT_SCHEMA_PATTERN},
                        description="Why it is hidden (`hide`)")

    @field_validator("text", "reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        return free_text(value) or ""

    @field_validator("report_id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if FIRESTORE_RESERVED_ID.fullmatch(value):
            raise PydanticCustomError("string_pattern_mismatch", "format tidak valid / has an invalid format")
        return value

    @model_validator(mode="after")
    def _what_each_action_needs(self) -> CommentOnReport:
        needed = {"post": ("client_id", "text"), "hide": ("comment_id", "reason")}[self.action]
        for name in needed:
            if not getattr(self, name):
                raise PydanticCustomError("missing", f"{name}: wajib untuk {self.action} / required to "
                                          f"{self.action}", {"field": name})
        return self


def comment_id(report_id: str, uid: str, client_id: str) -> str:
    """One comment per (report, author, the app's client_id): a retry finds it again."""
    return hashlib.sha256(f"comment\x00{report_id}\x00{uid}\x00{client_id}".encode()).hexdigest()[:32]


def author_key(uid: str) -> str:
    """The author as the rate limit counts them: a hash, so comments/ never holds a uid."""
    return hashlib.sha256(f"author\x00{uid}".encode()).hexdigest()[:32]


class Hidden(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str
    reason: str
    at: datetime


class Comment(BaseModel):
    """comments/{comment_id} as stored."""

    model_config = ConfigDict(extra="forbid")

    comment_id: str
    report_id: str
    author_key: str
    author_role: AuthorRole
    author: str = Field(description="pelapor, pendukung, skpd:<id> or operator: never a uid")
    visibility: Visibility
    text: str
    text_hash: str  # the posted words' hash: a retry with other words under the same client_id is 409
    at: datetime
    hidden: Hidden | None = None

    def to_doc(self) -> dict[str, object]:
        return self.model_dump(mode="python")


def text_hash(text: str, visibility: str) -> str:
    return hashlib.sha256(f"{visibility}\x00{text}".encode()).hexdigest()


class Participant(BaseModel):
    """Who is asking, as the thread sees them (None: not in this thread)."""

    model_config = ConfigDict(frozen=True)

    role: AuthorRole

    @property
    def staff(self) -> bool:
        return self.role in ("skpd", "operator")


def participant(actor: Actor, *, assignee: str | None, is_reporter: bool, is_supporter: bool
                ) -> Participant | None:
    """The actor's place in the report's thread: the reporter, a supporter, the assignee's staff or an
    operator; None for anyone else (another citizen, another SKPD, a channel)."""
    if actor.role == Role.OPERATOR:
        return Participant(role="operator")
    if actor.role == Role.SKPD:
        return Participant(role="skpd") if actor.skpd is not None and actor.skpd == assignee else None
    if actor.role == Role.WARGA and not actor.anonymous:
        if is_reporter:
            return Participant(role="reporter")
        if is_supporter:
            return Participant(role="supporter")
    return None


def author_label(who: Participant, actor: Actor) -> str:
    if who.role == "reporter":
        return "pelapor"
    if who.role == "supporter":
        return "pendukung"
    if who.role == "skpd":
        return f"skpd:{actor.skpd}"
    return "operator"  # which operator stays in the War Room's logs, as in the staff view


def may_post(who: Participant, visibility: Visibility) -> bool:
    """Citizens write in public only; staff write either."""
    return visibility == "public" or who.staff


def visible(comment: Comment, who: Participant) -> bool:
    """Whether `who` reads this comment in the thread: internal notes are staff only; a hidden
    comment is gone for citizens (staff see that it was hidden, and why)."""
    if comment.visibility == "internal" and not who.staff:
        return False
    return comment.hidden is None or who.staff


class CommentView(BaseModel):
    """One comment as a participant reads it; a hidden one's words only operators read."""

    model_config = ConfigDict(extra="forbid")

    comment_id: str
    author: str
    author_role: AuthorRole
    visibility: Visibility
    text: str | None
    at: datetime
    mine: bool = False
    hidden: bool = False
    hidden_reason: str | None = None


def comment_view(comment: Comment, who: Participant, *, reader_key: str) -> CommentView:
    hidden = comment.hidden is not None
    return CommentView(comment_id=comment.comment_id, author=comment.author, author_role=comment.author_role,
                       visibility=comment.visibility,
                       text=None if hidden and who.role != "operator" else comment.text,
                       at=comment.at, mine=comment.author_key == reader_key, hidden=hidden,
                       hidden_reason=comment.hidden.reason if comment.hidden else None)


class Thread(BaseModel):
    """comment_on_report GET: the report's thread as this reader may read it, oldest first."""

    model_config = ConfigDict(extra="forbid")

    report_id: str
    comments: list[CommentView]


class CommentAnswer(BaseModel):
    """comment_on_report POST: the comment as posted (201, or 200 for a retry) or hidden (200)."""

    model_config = ConfigDict(extra="forbid")

    comment: CommentView
