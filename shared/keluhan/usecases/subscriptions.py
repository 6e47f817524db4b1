"""Area subscriptions of a signed-in user: list, add (bounded per user), remove; and the default
subscription of a Smart RT/RW head to their own kelurahan (kept by `keluhan users grant`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from keluhan.domain.location import Location
from keluhan.domain.subscriptions import (
    MAX_PER_USER,
    RTRW_HEAD,
    AreaSubscription,
    Lang,
    NewSubscription,
    subscription,
)
from keluhan.domain.workflow import Actor, Role
from keluhan.ports import Clock, Subscriptions


class NotPermittedToSubscribe(Exception):
    """An anonymous sign-in or an intake channel's service identity (403)."""


class UnknownArea(Exception):
    """No such kelurahan, or a circle whose centre is outside Kota Makassar (422 naming `field`)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class TooManySubscriptions(Exception):
    """The user holds MAX_PER_USER subscriptions already (409)."""


def _check(actor: Actor) -> None:
    """Subscriptions belong to people with an account: not an anonymous sign-in, not a service."""
    if actor.anonymous or actor.role in (Role.CHANNEL, Role.SYSTEM):
        raise NotPermittedToSubscribe(actor.role.value)


def list_subscriptions(actor: Actor, *, subscriptions: Subscriptions) -> list[AreaSubscription]:
    _check(actor)
    return subscriptions.of(actor.id)


def add_subscription(request: NewSubscription, *, actor: Actor, subscriptions: Subscriptions,
                     kelurahan: Mapping[str, str], locate: Callable[[float, float], Location],
                     clock: Clock, limit: int = MAX_PER_USER) -> tuple[AreaSubscription, bool]:
    """Store the subscription (the same area and categories again replace it: digest, language);
    (subscription, new). `kelurahan` maps each kode of the city to its name; `locate` checks a
    circle's centre is in the city."""
    _check(actor)
    name = None
    if request.kelurahan_id is not None:
        name = kelurahan.get(request.kelurahan_id)
        if name is None:
            raise UnknownArea("kelurahan_id", "kelurahan_id bukan kelurahan Kota Makassar / not a kelurahan of "
                                              "Kota Makassar")
    else:
        assert request.lat is not None and request.lon is not None
        if not locate(request.lat, request.lon).inside_city:
            raise UnknownArea("lat", "titik pusat di luar Kota Makassar / the centre is outside Kota Makassar")
    held = {s.subscription_id for s in subscriptions.of(actor.id)}
    stored = subscription(request, uid=actor.id, kelurahan=name, now=clock())
    if not subscriptions.add(stored, limit=limit):
        raise TooManySubscriptions(str(limit))
    return stored, stored.subscription_id not in held


def remove_subscription(actor: Actor, subscription_id: str, *, subscriptions: Subscriptions) -> bool:
    _check(actor)
    return subscriptions.remove(actor.id, subscription_id)


def keep_rtrw_default(uid: str, kelurahan_id: str | None, *, subscriptions: Subscriptions,
                      kelurahan: Mapping[str, str], clock: Clock, lang: Lang = "id") -> Literal["added", "removed", "none"]:
    """A Smart RT/RW head is subscribed to their own kelurahan; one who is no longer a head is not.
    The default subscription does not count against the bound (it is added whatever the user holds)."""
    if kelurahan_id is None:
        return "removed" if subscriptions.remove(uid, RTRW_HEAD) else "none"
    if kelurahan_id not in kelurahan:
        raise ValueError(f"{kelurahan_id} bukan kelurahan Kota Makassar / not a kelurahan of Kota Makassar")
    request = NewSubscription(kelurahan_id=kelurahan_id, lang=lang)
    subscriptions.add(subscription(request, uid=uid, kelurahan=kelurahan[kelurahan_id], now=clock(),
                                   source=RTRW_HEAD), limit=MAX_PER_USER + 1)
    return "added"
