"""HTTP: Open311 GeoReport v2 (services, requests, tokens) over the report pipeline, and the same
code as the channels' own intake (`open311_intake`)."""

import functools
import hashlib
import logging
import time

import functions_framework
from flask import Request
from pydantic import ValidationError

from keluhan import bootstrap, http
from keluhan.adapters import georeport
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
def open311(request: Request) -> georeport.Answer:
    return _serve(request, "open311", public_reads=True)


@functions_framework.http
def open311_intake(request: Request) -> georeport.Answer:
    """The channels' intake: the same POST and catalogue, deployed as a function of its own so that
    public reads, however many, never take its instances. Reads of requests are open311's."""
    return _serve(request, "open311_intake", public_reads=False)


def _serve(request: Request, stage: str, *, public_reads: bool) -> georeport.Answer:
    """Every Open311 path, or (without `public_reads`) only the catalogue and posts."""
    found = georeport.route(request.path)
    fmt = found.format if found else "json"
    too_large = georeport.cap_body(request, fmt=fmt)  # first: no answer reads more than the cap of a body
    if too_large is not None:
        return too_large
    if found is None or not (public_reads or found.resource == "services" or found.key is None):
        return georeport.error(404, "Alamat tidak dikenal / Unknown path", fmt=fmt)
    try:
        if request.method == "GET" and (public_reads or found.resource == "services"):
            return _get(request, found)
        if request.method == "POST" and found.resource == "requests" and found.key is None:
            return _post(request, fmt)
        return georeport.error(405, "Metode tidak didukung / Method not allowed", fmt=fmt)
    except Exception:  # a dependency is down: the same request later completes
        logging.exception("%s failed", stage, extra={"stage": stage})
        http.leave_unread(request)
        return georeport.error(503, "Coba lagi sebentar / Please retry shortly", fmt=fmt, headers={"Retry-After": "2"})


@functools.cache
def _throttle(per_minute: float, burst: int) -> ReadThrottle:
    """This instance's read throttle (built on the first read)."""
    return ReadThrottle(per_minute=per_minute, burst=burst)


def _get(request: Request, found: georeport.Route) -> georeport.Answer:
    fmt, key = found.format, found.key
    if found.resource == "services":
        if key is None:
            return georeport.answer(georeport_v2.services(), 200, fmt=fmt, resource="services")
        definition = georeport_v2.service_definition(key)
        if definition is None:
            return georeport.error(404, f"service_code {NOT_FOUND}", fmt=fmt)
        return georeport.answer(definition, 200, fmt=fmt, resource="services")
    deps = bootstrap.get_deps()
    throttle = _throttle(deps.settings.open311_reads_per_minute, deps.settings.open311_read_burst)
    wait = throttle.take(georeport.client_address(request), now=time.monotonic())
    if wait:
        return georeport.error(429, f"Terlalu banyak permintaan; coba lagi dalam {wait} detik / Too many requests; "
                              f"retry in {wait} s", fmt=fmt, headers={"Retry-After": str(wait)})
    if key is not None:  # requests/{id} or tokens/{token}: the token is the report id
        view = get_request(key, reports=deps.reports, photos=deps.photos, now=utc_now())
        if view is None:
            return georeport.error(404, f"service_request_id {NOT_FOUND}", fmt=fmt)
        body = view if found.resource == "requests" else {"service_request_id": key, "token": key}
        return georeport.answer([body], 200, fmt=fmt, resource=found.resource, headers=georeport.PUBLIC_CACHE)
    if found.resource == "tokens":
        return georeport.error(404, f"token {NOT_FOUND}", fmt=fmt)
    try:
        query = georeport_v2.RequestQuery.model_validate(request.args.to_dict())
        page = find_requests(query, reports=deps.reports, now=utc_now(), photos=deps.photos)
    except ValidationError as exc:
        return georeport.validation_error(exc, fmt=fmt)
    except georeport_v2.BadRange as exc:
        return georeport.error(400, str(exc), fmt=fmt)
    more = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
    return georeport.answer(page.requests, 200, fmt=fmt, resource="requests", headers={**georeport.PUBLIC_CACHE, **more})


def _post(request: Request, fmt: str) -> georeport.Answer:
    deps = bootstrap.get_deps()
    try:  # a few small fields (georeport.MAX_POST_BYTES): the key is checked before any validation
        fields = georeport.read_fields(request)
    except georeport.BodyTooLarge as exc:
        return georeport.error(413, str(exc), fmt=fmt)
    except georeport.BadBody as exc:
        return georeport.error(400, str(exc), fmt=fmt)
    try:
        # From the body only: a query string lands in every request log on the way.
        actor = key_actor(fields.get("api_key"), keys=deps.open311_keys)
    except BadApiKey:
        return georeport.error(403, "api_key tidak valid atau dicabut / api_key invalid or revoked", fmt=fmt)
    try:
        posted = georeport_v2.PostRequest.model_validate(fields)
        # Without the channel's own id, the same content is the same request: a retry never doubles it.
        fallback = "o311-" + hashlib.sha256(posted.model_dump_json().encode()).hexdigest()[:40]
        cmd = posted.to_submission(channel=actor.channel or "", fallback_client_id=fallback)
    except ValidationError as exc:
        return georeport.validation_error(exc, fmt=fmt)
    try:
        result = submit(cmd, actor=actor, reports=deps.reports, holds=deps.holds, publish=deps.publish,
                        photos=deps.photos, clock=utc_now, new_id=new_report_id,
                        policy=deps.upload_policy(), quota=deps.quota_policy())
    except QuotaExceeded as exc:
        wait = retry_after_s(exc.window, now=utc_now())
        return georeport.error(429, f"Batas laporan tercapai; coba lagi dalam {wait} detik / Report limit reached; "
                              f"retry in {wait} s", fmt=fmt, headers={"Retry-After": str(wait)})
    except IdempotencyConflict:
        return georeport.error(409, "client_request_id sudah dipakai untuk laporan lain / client_request_id was "
                              "already used for a different request", fmt=fmt)
    body = georeport_v2.posted(result.report.to_doc(), result.upload)
    return georeport.answer([body], 201 if result.created else 200, fmt=fmt, resource="requests")
