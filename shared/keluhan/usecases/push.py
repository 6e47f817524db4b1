"""Push notifications: register a device, set preferences, and deliver each push once.

A push is a send record (`sends/{message_id}`, the message id carrying the channel) created once
per (report, timeline position, recipient) and then attempted: the attempt claims the send (one
attempt in flight, under a lease), pushes to each of the recipient's devices not yet done, and
stores the outcome: sent, failed, or pending again after a backoff. A token FCM answers
`UNREGISTERED` for is removed. `resend_due` on the sweep tick attempts every pending send that is
due: held through quiet hours, retried after a passing failure, or stalled by a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keluhan.domain.notify import Message
from keluhan.domain.push import (
    MAX_DEVICES,
    Attempt,
    Device,
    Preferences,
    PushSend,
    RegisterDevice,
    SetPreferences,
    after_attempt,
    claim,
    device_id,
    new_send,
)
from keluhan.ports import (
    Clock,
    Devices,
    PermanentDeliveryError,
    PreferenceStore,
    Pusher,
    Sends,
    TokenUnregistered,
    TransientDeliveryError,
)


@dataclass(frozen=True)
class PushPorts:
    """What pushing needs: the users' devices, the send records, and FCM."""

    devices: Devices
    sends: Sends
    pusher: Pusher


def register_device(uid: str, request: RegisterDevice, *, devices: Devices, clock: Clock) -> tuple[Device, bool]:
    """Store the caller's token (bounded per user); (the device, whether the token was new)."""
    device = Device(device_id=device_id(request.token), token=request.token, platform=request.platform,
                    lang=request.lang, registered_at=clock())
    return device, devices.register(uid, device, keep=MAX_DEVICES)


def unregister_device(uid: str, token: str, *, devices: Devices) -> bool:
    """Forget the caller's token; False if it was not theirs."""
    return devices.remove(uid, device_id(token))


def set_preferences(uid: str, change: SetPreferences, *, preferences: PreferenceStore, clock: Clock) -> Preferences:
    """Apply a change to the caller's preferences and store them."""
    changed = change.apply(preferences.get(uid))
    preferences.put(uid, changed, clock())
    return changed


def queue_push(message: Message, other_lang: Message, *, urgent: bool, prefs: Preferences,
               devices: Sequence[Device], push: PushPorts, clock: Clock) -> PushSend:
    """The push of an inbox message to the recipient's `devices` (the caller leaves out a recipient who
    muted the report or has none), recorded then attempted; a non-urgent one waits out their quiet hours."""
    send = new_send(message, other_lang, urgent=urgent, quiet=prefs.quiet_hours, now=clock())
    push.sends.create(send)  # False on a redelivery: the attempt below finishes what is left
    return attempt(send.message_id, push=push, clock=clock, devices=devices) or send


def attempt(message_id: str, *, push: PushPorts, clock: Clock, devices: Sequence[Device] | None = None) -> PushSend | None:
    """One attempt at a pending send that is due, if nobody else is attempting it; the send after it."""
    now = clock()
    claimed = push.sends.mutate(message_id, lambda s: claim(s, now) if s.state == "pending" and s.next_at <= now
                                else None)
    if claimed is None:
        return None
    targets = [d for d in (devices if devices is not None else push.devices.of(claimed.recipient))
               if d.device_id not in claimed.done]
    result = Attempt()
    for device in targets:
        title, body = claimed.words(device.lang)
        try:
            push.pusher(device.token, title=title, body=body, collapse_key=claimed.message_id,
                        data={"report_id": claimed.report_id, "event": claimed.event,
                              "message_id": claimed.message_id, "seq": str(claimed.seq)})
            result.reached.append(device.device_id)
        except TokenUnregistered as exc:
            push.devices.remove(claimed.recipient, device.device_id)
            result.dropped.append(device.device_id)
            result.errors.append(f"{device.device_id[:8]}: {exc}")
        except PermanentDeliveryError as exc:
            result.permanent.append(device.device_id)
            result.errors.append(f"{device.device_id[:8]}: {exc}")
        except TransientDeliveryError as exc:
            result.transient.append(device.device_id)
            result.errors.append(f"{device.device_id[:8]}: {exc}")
    after = after_attempt(claimed, result, left=len(result.transient), now=clock())
    # Stored only if this attempt still holds the send (a lease that ran out let another start).
    return push.sends.mutate(message_id, lambda s: after if s.attempts == claimed.attempts else None)


def resend_due(*, push: PushPorts, clock: Clock, limit: int = 200) -> int:
    """Attempt every pending send that is due (after quiet hours, a backoff, or a crash); how many."""
    return sum(attempt(s.message_id, push=push, clock=clock) is not None
               for s in push.sends.due(now=clock(), limit=limit))

