"""Firebase Auth users and their role claims (the Auth emulator locally, the Admin SDK in production)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypedDict

from keluhan.domain.workflow import ROLE_CLAIMS

if TYPE_CHECKING:
    from firebase_admin import App, auth


class UserRoles(TypedDict):
    """A user and its custom claims (role, skpd, channel and any others)."""

    uid: str
    email: str | None
    claims: dict[str, object]


class Revocations(Protocol):
    """Where a role change is recorded for firestore.rules (revocations/{uid})."""

    def record(self, uid: str, at: datetime) -> None: ...


class StaffDirectory(Protocol):
    """Who works where (staff/{uid}), for notifications: kept with every role change."""

    def record(self, uid: str, claims: Mapping[str, object], at: datetime) -> None: ...


class UserNotFound(Exception):
    """No user with that uid or e-mail."""


class UnverifiedEmail(Exception):
    """A staff role for an account whose e-mail address nobody verified."""


STAFF_ROLES = frozenset({"skpd", "operator"})


class FirebaseUsers:
    def __init__(self, project_id: str, *, revocations: Revocations | None = None,
                 directory: StaffDirectory | None = None) -> None:
        import firebase_admin

        self._revocations = revocations
        self._directory = directory
        name = f"keluhan-users-{project_id}"
        try:
            self._app: App = firebase_admin.get_app(name)
        except ValueError:
            self._app = firebase_admin.initialize_app(options={"projectId": project_id}, name=name)

    def find(self, uid_or_email: str) -> auth.UserRecord:
        from firebase_admin import auth

        try:
            if "@" in uid_or_email:
                return auth.get_user_by_email(uid_or_email, app=self._app)
            return auth.get_user(uid_or_email, app=self._app)
        except auth.UserNotFoundError as exc:
            raise UserNotFound(uid_or_email) from exc

    def ensure(self, email: str, password: str) -> str:
        """The uid of the user with this e-mail, created with `password` if missing."""
        from firebase_admin import auth

        try:
            return str(self.find(email).uid)
        except UserNotFound:
            return str(auth.create_user(email=email, password=password, app=self._app).uid)

    def set_role(self, uid_or_email: str, claims: Mapping[str, object]) -> UserRoles:
        """Replace the role claims (other custom claims stay); tokens issued before are revoked.

        Raises UnverifiedEmail for a staff role (skpd, operator) on an unverified e-mail."""
        from firebase_admin import auth

        user = self.find(uid_or_email)
        if claims.get("role") in STAFF_ROLES and not user.email_verified:
            raise UnverifiedEmail(user.email or user.uid)
        kept = {k: v for k, v in (user.custom_claims or {}).items() if k not in ROLE_CLAIMS}
        auth.set_custom_user_claims(user.uid, {**kept, **claims} or None, app=self._app)
        auth.revoke_refresh_tokens(user.uid, app=self._app)
        now = datetime.now(UTC)
        if self._revocations is not None:  # the rules' view of it: tokens signed in before are stale
            self._revocations.record(user.uid, now)
        if self._directory is not None:  # who is told of a new assignment or an escalation
            self._directory.record(user.uid, {**kept, **claims}, now)
        return {"uid": user.uid, "email": user.email, "claims": {**kept, **claims}}

    def list(self) -> list[UserRoles]:
        from firebase_admin import auth

        return [{"uid": u.uid, "email": u.email, "claims": u.custom_claims or {}}
                for u in auth.list_users(app=self._app).iterate_all()]
