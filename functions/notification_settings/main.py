"""HTTP: the signed-in user's push devices (register, unregister) and notification preferences."""

import functions_framework

from keluhan import bootstrap, http
from keluhan.bootstrap import Deps, utc_now
from keluhan.domain.push import MAX_DEVICES, Preferences, RegisterDevice, SetPreferences, UnregisterDevice
from keluhan.domain.views import DeviceAnswer, UnregisterAnswer
from keluhan.domain.workflow import Role
from keluhan.usecases.push import register_device, set_preferences, unregister_device

METHODS = {"/devices": ("POST",), "/devices/remove": ("POST",), "/preferences": ("GET", "POST")}


@functions_framework.http
@http.endpoint(("GET", "POST"), bootstrap.get_deps)
def notification_settings(call: http.Call[Deps]) -> http.Response:
    deps, path = call.deps, call.request.path.rstrip("/")
    if path not in METHODS:
        return http.error(404, "not_found", "Tidak ada / Not found", field="path")
    if call.request.method not in METHODS[path]:
        return http.error(405, "method_not_allowed", "Metode tidak diizinkan / Method not allowed", field="method")
    actor = call.actor
    if actor.anonymous or actor.role in (Role.CHANNEL, Role.SYSTEM):  # nobody to tell: no person behind it
        return http.error(403, "forbidden", "Akun ini tidak menerima notifikasi / This account receives no "
                          "notifications (anonymous sign-in or a channel service)", field="Authorization")
    if path == "/devices":
        device, new = register_device(actor.id, call.body(RegisterDevice), devices=deps.devices, clock=utc_now)
        return http.answer(DeviceAnswer(device_id=device.device_id, platform=device.platform, lang=device.lang,
                                        registered_at=device.registered_at, max_devices=MAX_DEVICES),
                           201 if new else 200)
    if path == "/devices/remove":
        removed = unregister_device(actor.id, call.body(UnregisterDevice).token, devices=deps.devices)
        return http.answer(UnregisterAnswer(removed=removed), 200)
    if call.request.method == "GET":
        return http.answer(Preferences.model_validate(deps.preferences.get(actor.id).model_dump()), 200)
    changed = set_preferences(actor.id, call.body(SetPreferences), preferences=deps.preferences, clock=utc_now)
    return http.answer(Preferences.model_validate(changed.model_dump()), 200)
