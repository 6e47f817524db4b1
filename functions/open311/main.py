"""HTTP: Open311 GeoReport v2 (services, requests, tokens) over the report pipeline."""

import functools
import hashlib
import logging
import time

import functions_framework
from pydantic import ValidationError

from keluhan import bootstrap
from keluhan.adapters import georeport as geo
from keluhan.bootstrap import new_report_id, utc_now
from keluhan.domain import open311 as georeport_v2
from keluhan.domain.quota import retry_after_s
from keluhan.domain.throttle import ReadThrottle
from keluhan.ports import QuotaExceeded
from keluhan.usecases.open311 import BadApiKey, find_requests, get_request, key_actor
from keluhan.usecases.submission import IdempotencyConflict
from keluhan.usecases.submission import submit_report as submit

NOT_FOUND = "tidak ditemukan / not found"


@functions_framework.http
def open311(request):
    found = geo.route(request.path)
    if found is None:
        return geo.error(404, "Alamat tidak dikenal / Unknown path")
    fmt = found.format
    try:
        if request.method == "GET":
            return _get(request, found)
        if request.method == "POST" and found.resource == "requests" and found.key is None:
            return _post(request, fmt)
        return geo.error(405, "Metode tidak didukung / Method not allowed", fmt=fmt)
    except Exception:  # a dependency is down: the same request later completes
        logging.exception("open311 failed", extra={"stage": "open311"})
        return geo.error(503, "Coba lagi sebentar / Please retry shortly", fmt=fmt, headers={"Retry-After": "2"})


@functools.cache
def _throttle(per_minute: float, burst: int) -> ReadThrottle:
    """This instance's read throttle (built on the first read)."""
    return ReadThrottle(per_minute=per_minute, burst=burst)


def _get(request, found):
    fmt, key = found.format, found.key
    if found.resource == "services":
        if key is None:
            return geo.answer(georeport_v2.services(), 200, fmt=fmt, resource="services")
        definition = georeport_v2.service_definition(key)
        if definition is None:
            return geo.error(404, f"service_code {NOT_FOUND}", fmt=fmt)
        return geo.answer(definition, 200, fmt=fmt, resource="services")
    deps = bootstrap.get_deps()
    throttle = _throttle(deps.settings.open311_reads_per_minute, deps.settings.open311_read_burst)
    wait = throttle.take(geo.client_address(request), now=time.monotonic())
    if wait:
        return geo.error(429, f"Terlalu banyak permintaan; coba lagi dalam {wait} detik / Too many requests; "
                              f"retry in {wait} s", fmt=fmt, headers={"Retry-After": str(wait)})
    if key is not None:  # requests/{id} or tokens/{token}: the token is the report id
        view = get_request(key, reports=deps.reports)
        if view is None:
            return geo.error(404, f"service_request_id {NOT_FOUND}", fmt=fmt)
        body = view if found.resource == "requests" else {"service_request_id": key, "token": key}
        return geo.answer([body], 200, fmt=fmt, resource=found.resource, headers=geo.PUBLIC_CACHE)
    if found.resource == "tokens":
        return geo.error(404, f"token {NOT_FOUND}", fmt=fmt)
    try:
        query = georeport_v2.RequestQuery.model_validate(request.args.to_dict())
        found = find_requests(query, reports=deps.reports, now=utc_now())
    except ValidationError as exc:
        return geo.validation_error(exc, fmt=fmt)
    except georeport_v2.BadRange as exc:
        return geo.error(400, str(exc), fmt=fmt)
    more = {"X-Next-Cursor": found.next_cursor} if found.next_cursor else {}
    return geo.answer(found.requests, 200, fmt=fmt, resource="requests", headers={**geo.PUBLIC_CACHE, **more})


def _post(request, fmt):
    deps = bootstrap.get_deps()
    try:  # a few small fields (georeport.MAX_POST_BYTES): the key is checked before any validation
        fields = geo.read_fields(request)
    except geo.BadBody as exc:
        return geo.error(400, str(exc), fmt=fmt)
    try:
        # From the body only: a query string lands in every request log on the way.
        actor = key_actor(fields.get("api_key"), keys=deps.open311_keys)
    except BadApiKey:
        return geo.error(403, "api_key tidak valid atau dicabut / api_key invalid or revoked", fmt=fmt)
    try:
        posted = georeport_v2.PostRequest.model_validate(fields)
        # Without the channel's own id, the same content is the same request: a retry never doubles it.
        fallback = "o311-" + hashlib.sha256(posted.model_dump_json().encode()).hexdigest()[:40]
        cmd = posted.to_submission(channel=actor.channel or "", fallback_client_id=fallback)
    except ValidationError as exc:
        return geo.validation_error(exc, fmt=fmt)
    try:
        result = submit(cmd, actor=actor, reports=deps.reports, holds=deps.holds, publish=deps.publish,
                        photos=deps.photos, clock=utc_now, new_id=new_report_id,
                        policy=deps.upload_policy(), quota=deps.quota_policy())
    except QuotaExceeded as exc:
        wait = retry_after_s(exc.window, now=utc_now())
        return geo.error(429, f"Batas laporan tercapai; coba lagi dalam {wait} detik / Report limit reached; "
                              f"retry in {wait} s", fmt=fmt, headers={"Retry-After": str(wait)})
    except IdempotencyConflict:
        return geo.error(409, "client_request_id sudah dipakai untuk laporan lain / client_request_id was "
                              "already used for a different request", fmt=fmt)
    body = georeport_v2.posted(result.report, result.upload)
    return geo.answer([body], 201 if result.created else 200, fmt=fmt, resource="requests")
