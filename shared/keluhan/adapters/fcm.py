"""Firebase Cloud Messaging (HTTP v1) through firebase-admin's `messaging`: one push to one token.

In production the app signs in with the runtime service account. Locally settings name the
stand-in FCM endpoint of the dev stack (`keluhan.devstack.fcm`), which speaks the same HTTP v1 API
and answers the same errors; firebase-admin has no setting for its FCM URL, so the adapter points
its messaging service there, and sends without credentials (the stand-in checks none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from keluhan.ports import PermanentDeliveryError, TokenUnregistered, TransientDeliveryError

if TYPE_CHECKING:
    from firebase_admin import App


class FcmPusher:
    """A `Pusher` over firebase-admin; `endpoint` (locally) replaces https://fcm.googleapis.com."""

    def __init__(self, project_id: str, *, endpoint: str = "", timeout_s: float = 10.0) -> None:
        import firebase_admin
        from firebase_admin import messaging

        name = f"keluhan-fcm-{project_id}"
        try:
            self._app: App = firebase_admin.get_app(name)
        except ValueError:
            credential = None
            if endpoint:
                from google.auth.credentials import AnonymousCredentials

                credential = AnonymousCredentials()  # type: ignore[no-untyped-call, unused-ignore]  # unannotated
            self._app = firebase_admin.initialize_app(
                credential, options={"projectId": project_id, "httpTimeout": timeout_s}, name=name)
        if endpoint:
            service = messaging._get_messaging_service(self._app)  # noqa: SLF001 - no public setting for it
            service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"  # noqa: SLF001

    def __call__(self, token: str, *, title: str, body: str, data: Mapping[str, str], collapse_key: str) -> str:
        from firebase_admin import exceptions, messaging

        # `token`: the registration token the app registered (HTTP v1's `message.token`; the SDK
        # now suggests Firebase installation ids, which the apps do not send).
        # The message id as collapse key and tag: should a send be repeated after a crash, the
        # device replaces the notification instead of showing it twice.
        message = messaging.Message(
            token=token, data=dict(data), notification=messaging.Notification(title=title, body=body),
            android=messaging.AndroidConfig(collapse_key=collapse_key,
                                            notification=messaging.AndroidNotification(tag=collapse_key)),
            apns=messaging.APNSConfig(headers={"apns-collapse-id": collapse_key}),
            webpush=messaging.WebpushConfig(notification=messaging.WebpushNotification(tag=collapse_key)),
        )
        try:
            return str(messaging.send(message, app=self._app))
        except (messaging.UnregisteredError, messaging.SenderIdMismatchError) as exc:
            raise TokenUnregistered(f"UNREGISTERED: {exc}") from exc
        except exceptions.InvalidArgumentError as exc:
            raise PermanentDeliveryError(f"INVALID_ARGUMENT: {exc}") from exc
        except exceptions.FirebaseError as exc:  # unavailable, internal, quota, deadline, auth: try later
            raise TransientDeliveryError(f"{exc.code}: {exc}") from exc
