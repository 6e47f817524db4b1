"""Who is calling: the uid of a verified Firebase ID token.

Unsigned Auth-emulator tokens are only ever accepted when the emulator is configured on a
loopback host for a `demo-` project and the code is not running on Cloud Run/Functions.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from keluhan.domain.workflow import Actor, Role
from keluhan.settings import Settings

if TYPE_CHECKING:
    import firebase_admin

EMULATOR_VARIABLE = "FIREBASE_AUTH_EMULATOR_HOST"  # the name firebase_admin.auth reads


class Unauthenticated(Exception):
    """No token, or one that does not verify."""


class AuthUnavailable(Exception):
    """Tokens cannot be checked right now (certificates or the user lookup unreachable)."""


class UnsafeEmulatorConfig(RuntimeError):
    """The Auth emulator is configured where forged tokens would be accepted for real."""


def check_emulator_guard(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Refuse to run with the Auth emulator anywhere but a local demo project.

    firebase_admin reads FIREBASE_AUTH_EMULATOR_HOST from the process environment itself, on
    every verify: the guard checks that exact variable (and K_SERVICE) there as well as the copy
    settings made at start-up, so a variable set after settings were built is caught too.
    """
    environ = os.environ if environ is None else environ
    live_host = environ.get(EMULATOR_VARIABLE, "")
    configured = settings.firebase_auth_emulator_host
    if not live_host and not configured:
        return
    problems = []
    if settings.k_service or environ.get("K_SERVICE"):
        problems.append("K_SERVICE is set (running on Cloud Run/Functions)")
    if not settings.project_id.startswith("demo-"):
        problems.append(f"project {settings.project_id!r} is not a demo- project")
    for host in {live_host, configured} - {""}:
        if not _is_loopback(host.rsplit(":", 1)[0]):
            problems.append(f"emulator host {host!r} is not loopback")
    if problems:
        raise UnsafeEmulatorConfig(f"{EMULATOR_VARIABLE} refused: " + "; ".join(problems))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.cache
def _firebase_app(project_id: str) -> firebase_admin.App:
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
        # check_revoked looks the user up (one Auth API call per request): a revoked session, a
        # disabled or deleted account is refused at once instead of for the token's last hour,
        # and in emulator mode the lookup is what rejects forged unsigned tokens.
        claims = auth.verify_id_token(token, app=_firebase_app(settings.project_id), check_revoked=True)
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError,
            auth.UserNotFoundError, auth.UserDisabledError) as exc:
        raise Unauthenticated(type(exc).__name__) from exc
    except (auth.CertificateFetchError, exceptions.FirebaseError, TransportError) as exc:
        raise AuthUnavailable(type(exc).__name__) from exc
    return actor_from_claims(claims)


def actor_from_claims(claims: Mapping[str, object]) -> Actor:
    """The role a verified token carries: `role` (skpd, operator, channel) with its scope claim;
    no role claim, or one missing its scope, is a citizen. An anonymous sign-in is never more
    than an anonymous citizen, whatever claims it carries."""
    uid = str(claims["uid"])
    role, skpd, channel = claims.get("role"), claims.get("skpd"), claims.get("channel")
    firebase = claims.get("firebase")
    if isinstance(firebase, dict) and firebase.get("sign_in_provider") == "anonymous":
        return Actor(Role.WARGA, uid, anonymous=True)
    if role == Role.SKPD and isinstance(skpd, str) and skpd:
        return Actor(Role.SKPD, uid, skpd=skpd)
    if role == Role.OPERATOR:
        return Actor(Role.OPERATOR, uid)
    if role == Role.CHANNEL and isinstance(channel, str) and channel:
        return Actor(Role.CHANNEL, uid, channel=channel)
    return Actor(Role.WARGA, uid)
