"""Who is calling: the uid of a verified Firebase ID token.

Unsigned Auth-emulator tokens are only ever accepted when the emulator is configured on a
loopback host for a `demo-` project and the code is not running on Cloud Run/Functions.
"""

from __future__ import annotations

import functools
import ipaddress

from keluhan.domain.workflow import Actor, Role
from keluhan.settings import Settings


class Unauthenticated(Exception):
    """No token, or one that does not verify."""


class AuthUnavailable(Exception):
    """Tokens cannot be checked right now (certificates or the user lookup unreachable)."""


class UnsafeEmulatorConfig(RuntimeError):
    """The Auth emulator is configured where forged tokens would be accepted for real."""


def check_emulator_guard(settings: Settings) -> None:
    """Refuse to run with the Auth emulator anywhere but a local demo project."""
    host = settings.firebase_auth_emulator_host
    if not host:
        return
    problems = []
    if settings.k_service:
        problems.append("K_SERVICE is set (running on Cloud Run/Functions)")
    if not settings.project_id.startswith("demo-"):
        problems.append(f"project {settings.project_id!r} is not a demo- project")
    if not _is_loopback(host.rsplit(":", 1)[0]):
        problems.append(f"emulator host {host!r} is not loopback")
    if problems:
        raise UnsafeEmulatorConfig("FIREBASE_AUTH_EMULATOR_HOST refused: " + "; ".join(problems))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.cache
def _firebase_app(project_id: str):
    import firebase_admin

    return firebase_admin.initialize_app(options={"projectId": project_id}, name=f"keluhan-{project_id}")


def verify_bearer(authorization: str | None, settings: Settings) -> Actor:
    """The caller (uid and role from custom claims) of an `Authorization: Bearer <Firebase ID token>`."""
    from firebase_admin import auth, exceptions
    from google.auth.exceptions import TransportError

    check_emulator_guard(settings)
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthenticated("missing bearer token")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        # In emulator mode, check_revoked looks the user up, which rejects forged tokens.
        claims = auth.verify_id_token(token, app=_firebase_app(settings.project_id),
                                      check_revoked=bool(settings.firebase_auth_emulator_host))
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError,
            auth.UserNotFoundError, auth.UserDisabledError) as exc:
        raise Unauthenticated(type(exc).__name__) from exc
    except (auth.CertificateFetchError, exceptions.FirebaseError, TransportError) as exc:
        raise AuthUnavailable(type(exc).__name__) from exc
    return actor_from_claims(claims)


def actor_from_claims(claims: dict) -> Actor:
    """The role a verified token carries: `role` (skpd, operator, channel) with its scope claim;
    no role claim, or one missing its scope, is a citizen."""
    uid = claims["uid"]
    role = claims.get("role")
    if role == Role.SKPD and isinstance(claims.get("skpd"), str) and claims["skpd"]:
        return Actor(Role.SKPD, uid, skpd=claims["skpd"])
    if role == Role.OPERATOR:
        return Actor(Role.OPERATOR, uid)
    if role == Role.CHANNEL and isinstance(claims.get("channel"), str) and claims["channel"]:
        return Actor(Role.CHANNEL, uid, channel=claims["channel"])
    return Actor(Role.WARGA, uid)
