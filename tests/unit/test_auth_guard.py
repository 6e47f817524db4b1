"""Unsigned Auth-emulator tokens are accepted only for a local demo project on loopback."""

from __future__ import annotations

import base64
import json

import pytest

from keluhan.adapters.auth import Unauthenticated, UnsafeEmulatorConfig, check_emulator_guard, verify_bearer
from keluhan.settings import Settings

# The local stack's own addresses, blank whatever an e2e session (earlier in the same pytest run)
# left in os.environ: with K_SERVICE set, each is refused before the check a test is about.
LOCAL_ONLY = {"whatsapp_api_url": "", "fcm_endpoint": "", "clock_file": ""}


def settings(**kw) -> Settings:
    base = {"project_id": "demo-keluhan", "firebase_auth_emulator_host": "127.0.0.1:9099", "k_service": "",
            **LOCAL_ONLY}
    return Settings.model_validate({**base, **kw})


def unsigned_token(project: str = "demo-keluhan") -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    claims = {"iss": f"https://securetoken.google.com/{project}", "aud": project, "sub": "attacker",
              "user_id": "attacker", "iat": 1, "exp": 4102444800, "auth_time": 1}
    return f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(claims)}."


@pytest.mark.parametrize("host", ["127.0.0.1:9099", "localhost:9099", "[::1]:9099"])
def test_emulator_on_loopback_for_a_demo_project_is_allowed(host):
    check_emulator_guard(settings(firebase_auth_emulator_host=host))


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"project_id": "keluhan-prod"}, "not a demo- project"),
    ({"firebase_auth_emulator_host": "10.0.0.5:9099"}, "not loopback"),
    ({"firebase_auth_emulator_host": "auth.example.com:9099"}, "not loopback"),
    ({"k_service": "submit-report", "project_id": "keluhan-prod", "photo_bucket": "p"}, "K_SERVICE"),
])
def test_emulator_anywhere_else_is_refused(overrides, problem):
    with pytest.raises(UnsafeEmulatorConfig, match=problem):
        check_emulator_guard(settings(**overrides))


def test_refused_configuration_rejects_every_request_even_with_a_token():
    with pytest.raises(UnsafeEmulatorConfig):
        verify_bearer(f"Bearer {unsigned_token('keluhan-prod')}", settings(project_id="keluhan-prod"))


def test_without_the_emulator_an_unsigned_token_is_rejected(monkeypatch, tmp_path):
    from keluhan.devstack.seed import write_signing_key

    # A service-account credential as in production, but a throwaway one: nothing leaves the machine.
    write_signing_key(tmp_path / "sa.json", "keluhan-unit")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    with pytest.raises(Unauthenticated):
        verify_bearer(f"Bearer {unsigned_token('keluhan-unit')}",
                      settings(firebase_auth_emulator_host="", project_id="keluhan-unit"))


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer"])
def test_missing_or_malformed_authorization_is_unauthenticated(header):
    with pytest.raises(Unauthenticated):
        verify_bearer(header, settings(firebase_auth_emulator_host=""))


def test_settings_refuse_demo_values_on_cloud_run():
    with pytest.raises(ValueError, match="KELUHAN_PROJECT_ID"):
        Settings(k_service="submit-report", project_id="demo-keluhan", photo_bucket="real-bucket", **LOCAL_ONLY)
    Settings(k_service="submit-report", project_id="keluhan-prod", photo_bucket="keluhan-prod-photos", **LOCAL_ONLY)


def test_the_guard_checks_the_variable_firebase_admin_itself_reads():
    from firebase_admin import _auth_utils

    from keluhan.adapters.auth import EMULATOR_VARIABLE

    assert EMULATOR_VARIABLE == _auth_utils.EMULATOR_HOST_ENV_VAR


@pytest.mark.parametrize(("environ", "problem"), [
    ({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "not a demo- project"),
    ({"FIREBASE_AUTH_EMULATOR_HOST": "10.0.0.5:9099"}, "not loopback"),
])
def test_an_emulator_variable_set_after_settings_were_built_is_refused(environ, problem):
    prod = settings(project_id="keluhan-prod", firebase_auth_emulator_host="")
    with pytest.raises(UnsafeEmulatorConfig, match=problem):
        check_emulator_guard(prod, environ)


def test_k_service_in_the_process_environment_is_refused_with_the_emulator():
    with pytest.raises(UnsafeEmulatorConfig, match="K_SERVICE"):
        check_emulator_guard(settings(), {"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
                                          "K_SERVICE": "submit-report"})


def test_verify_refuses_when_only_the_process_environment_names_the_emulator(monkeypatch):
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "auth.example.com:9099")
    with pytest.raises(UnsafeEmulatorConfig):
        verify_bearer(f"Bearer {unsigned_token()}", settings(firebase_auth_emulator_host=""))


def _fake_verify(monkeypatch, outcome):
    from firebase_admin import auth

    from keluhan.adapters import auth as adapter

    calls = []

    def verify_id_token(token, app=None, check_revoked=False, clock_skew_seconds=0):
        calls.append({"check_revoked": check_revoked})
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setattr(auth, "verify_id_token", verify_id_token)
    monkeypatch.setattr(adapter, "_firebase_app", lambda project_id: None)
    return calls


def test_production_tokens_are_checked_for_revocation(monkeypatch):
    calls = _fake_verify(monkeypatch, {"uid": "alice", "firebase": {"sign_in_provider": "password"}})
    actor = verify_bearer("Bearer signed", settings(firebase_auth_emulator_host="", project_id="keluhan-prod"))
    assert actor.id == "alice" and not actor.anonymous
    assert calls == [{"check_revoked": True}]


def test_a_revoked_token_is_unauthenticated(monkeypatch):
    from firebase_admin import auth

    _fake_verify(monkeypatch, auth.RevokedIdTokenError("The Firebase ID token has been revoked."))
    with pytest.raises(Unauthenticated, match="RevokedIdTokenError"):
        verify_bearer("Bearer signed", settings(firebase_auth_emulator_host="", project_id="keluhan-prod"))


def test_an_anonymous_sign_in_is_an_anonymous_citizen_whatever_its_claims(monkeypatch):
    _fake_verify(monkeypatch, {"uid": "a1", "role": "operator", "firebase": {"sign_in_provider": "anonymous"}})
    actor = verify_bearer("Bearer signed", settings(firebase_auth_emulator_host="", project_id="keluhan-prod"))
    assert actor.anonymous and actor.role == "warga"
