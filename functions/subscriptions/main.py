"""HTTP GET / (list), POST / (add), POST /remove: the signed-in user's area subscriptions (a kelurahan
or a circle ≤ 2 km). POST, not DELETE, for removing: API Gateway passes GET and POST."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.subscriptions import (
    MAX_PER_USER,
    NewSubscription,
    RemoveSubscription,
    SubscriptionList,
    SubscriptionRemoved,
    SubscriptionView,
)
from keluhan.usecases.subscriptions import (
    NotPermittedToSubscribe,
    TooManySubscriptions,
    UnknownArea,
    add_subscription,
    list_subscriptions,
    remove_subscription,
)


@functions_framework.http
@http.endpoint(("GET", "POST"), bootstrap.get_deps)
def subscriptions(call: http.Call[Deps]) -> http.Response:
    try:
        return _handle(call)
    except NotPermittedToSubscribe:
        return http.error(403, "forbidden", "Akun ini tidak dapat berlangganan / This account cannot subscribe",
                          field="Authorization")


def _handle(call: http.Call[Deps]) -> http.Response:
    deps, actor = call.deps, call.actor
    path = call.request.path.rstrip("/") or "/"
    if path not in ("/", "/remove"):
        return http.error(404, "not_found", "Tidak ada / Not found", field="path")
    if call.request.method == "GET" and path == "/":
        held = list_subscriptions(actor, subscriptions=deps.subscriptions)
        return http.answer(SubscriptionList(subscriptions=[SubscriptionView.of(s) for s in held],
                                            limit=MAX_PER_USER), 200)
    if call.request.method != "POST":
        return http.error(405, "method_not_allowed", "Gunakan POST / Use POST", field="method")
    if path == "/remove":
        subscription_id = call.body(RemoveSubscription).subscription_id
        if not remove_subscription(actor, subscription_id, subscriptions=deps.subscriptions):
            return http.error(404, "not_found", "Langganan tidak ditemukan / No such subscription",
                              field="subscription_id")
        return http.answer(SubscriptionRemoved(subscription_id=subscription_id, removed=True), 200)
    request = call.body(NewSubscription)
    try:
        stored, new = add_subscription(request, actor=actor, subscriptions=deps.subscriptions,
                                       kelurahan=deps.kelurahan_names(), locate=deps.locate, clock=utc_now)
    except UnknownArea as exc:
        return http.error(422, "invalid_field", f"{exc.field}: {exc}", field=exc.field)
    except TooManySubscriptions:
        return http.error(409, "too_many_subscriptions", f"Maksimal {MAX_PER_USER} langganan / At most "
                          f"{MAX_PER_USER} subscriptions; remove one first", field="subscription_id",
                          limit=MAX_PER_USER)
    return http.answer(SubscriptionView.of(stored), 201 if new else 200)
