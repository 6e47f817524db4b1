"""Every resource, data source and provider block under infra/terraform fits the Google provider's
real schema: no unknown argument or block, no required one missing (what `terraform validate`
checks first, without downloading the provider).
"""

from __future__ import annotations

import copy
from functools import cache

import hcl2

from keluhan.settings import REPO_ROOT
from tests.unit import provider_schema
from tests.unit.hcl_body import OPTIONS, entries
from tests.unit.provider_schema import Block

TERRAFORM = REPO_ROOT / "infra" / "terraform"
# hashicorp/archive zips the function sources; time waits; terraform is Terraform's built-in
# provider (terraform_data, the prevent_destroy guard of modules/keep)
OTHER_PROVIDERS = {"archive", "time", "terraform"}
# No schema package: hashicorp/archive's two arguments are checked in test_terraform; the built-in
# terraform_data is planned by real Terraform in test_terraform_core.
UNCHECKED = {"archive", "terraform"}


def problems(body: dict, block: Block, where: str, *, top: bool = False) -> list[str]:
    """What `terraform validate` would reject in one body: unknown, misplaced or missing names."""
    found, present = [], set()
    for kind, key, value in entries(body, top=top):
        present.add(key)
        if kind == "block":
            found += _nested(key, value, block, where)
        elif key in block.blocks:
            found.append(f"{where}: {key} is a block, not an argument")
        elif key not in block.arguments:
            found.append(f"{where}: unknown argument {key}")
    found += [f"{where}: missing required argument {name}"
              for name, required in block.arguments.items() if required and name not in present]
    found += [f"{where}: missing required block {name}" for name in block.required_blocks - present]
    return found


def _nested(name: str, bodies: list[dict], parent: Block, where: str) -> list[str]:
    if name not in parent.blocks:
        kind = "an argument, not a block" if name in parent.arguments else "an unknown block"
        return [f"{where}: {name} is {kind}"]
    return [problem for body in bodies for problem in problems(body, parent.blocks[name], f"{where}.{name}")]


@cache
def declared() -> list[tuple[str, str, str, dict]]:
    """(file, kind, type, body) of every resource, data and provider block under infra/terraform."""
    found = []
    for path in sorted(TERRAFORM.rglob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle, serialization_options=OPTIONS)
        where = str(path.relative_to(TERRAFORM))
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for rtype, instances in block.items():
                    for name, body in instances.items():
                        if name != "__is_block__":
                            found.append((f"{where}: {kind} {rtype}.{name}", kind, rtype, body))
        for block in parsed.get("provider", []):
            for name, body in block.items():
                found.append((f"{where}: provider {name}", "provider", name, body))
    return found


def provider_of(kind: str, rtype: str, body: dict) -> str:
    """The provider whose schema a block must fit: its `provider` meta-argument, else its type's prefix."""
    if kind == "provider":
        return rtype
    chosen = str(body.get("provider", "")).removeprefix("${").removesuffix("}").split(".")[0]
    return chosen or rtype.split("_")[0]


def check(label: str, kind: str, rtype: str, body: dict) -> list[str]:
    provider = provider_of(kind, rtype, body)
    block = provider_schema.schema(kind, rtype, provider)
    if block is None:
        return [f"{label}: the {provider} provider {provider_schema.provider_version(provider)} has no {kind} {rtype}"]
    return problems(body, block, label, top=kind != "provider")


def google_blocks():
    """Every block of a provider whose schema is known (google, google-beta, time)."""
    return [b for b in declared() if provider_of(b[1], b[2], b[3]) not in UNCHECKED]


def test_every_block_is_either_google_or_of_a_declared_other_provider():
    others = {rtype.split("_")[0] for _, kind, rtype, _ in declared()
              if kind != "provider" and not rtype.startswith("google_")}
    assert others <= OTHER_PROVIDERS


def test_every_argument_and_block_exists_in_the_provider_schema_and_nothing_required_is_missing():
    blocks = google_blocks()
    assert len(blocks) >= 30
    found = [problem for block in blocks for problem in check(*block)]
    assert found == []


def test_the_schema_knows_the_arguments_a_reviewer_would_look_up():
    function = provider_schema.schema("resource", "google_cloudfunctions2_function")
    assert function.arguments["location"] is True
    assert function.blocks["service_config"].arguments["max_instance_count"] is False
    assert "storage_source" in function.blocks["build_config"].blocks["source"].blocks
    ruleset = provider_schema.schema("resource", "google_firebaserules_ruleset")
    assert ruleset.required_blocks == {"source"}
    assert provider_schema.schema("provider", "google").arguments["user_project_override"] is False


def real(rtype: str, label: str) -> tuple[str, str, str, dict]:
    (block,) = [b for b in declared() if b[2] == rtype and b[0].endswith(label)]
    return copy.deepcopy(block)


def test_a_misnamed_argument_is_reported():
    label, kind, rtype, body = real("google_cloudfunctions2_function", ".this")
    service = body["service_config"][0]
    service["max_instances_count"] = service.pop("max_instance_count")
    assert check(label, kind, rtype, body) == [
        f"{label}.service_config: unknown argument max_instances_count"]


def test_a_misnamed_block_is_reported():
    label, kind, rtype, body = real("google_cloudfunctions2_function", ".this")
    body["build_configuration"] = body.pop("build_config")
    assert check(label, kind, rtype, body) == [f"{label}: build_configuration is an unknown block"]


def test_a_misnamed_dynamic_block_is_reported():
    label, kind, rtype, body = real("google_pubsub_subscription", ".push")
    (dynamic,) = body["dynamic"]
    dynamic["dead_letter"] = dynamic.pop("dead_letter_policy")
    assert check(label, kind, rtype, body) == [f"{label}: dead_letter is an unknown block"]


def test_a_missing_required_argument_and_block_are_reported():
    label, kind, rtype, body = real("google_cloudfunctions2_function", ".this")
    del body["location"]
    assert check(label, kind, rtype, body) == [f"{label}: missing required argument location"]
    label, kind, rtype, body = real("google_firebaserules_ruleset", ".firestore")
    del body["source"][0]["files"][0]["content"]
    assert check(label, kind, rtype, body) == [
        f"{label}.source.files: missing required argument content"]
    del body["source"]
    assert check(label, kind, rtype, body) == [f"{label}: missing required block source"]


def test_a_block_written_as_an_argument_is_reported():
    label, kind, rtype, body = real("google_pubsub_subscription", ".push")
    body["retry_policy"] = body["retry_policy"][0]
    body["retry_policy"].pop("__is_block__")
    assert check(label, kind, rtype, body) == [f"{label}: retry_policy is a block, not an argument"]


def test_an_unknown_resource_type_is_reported():
    label, kind, _, body = real("google_pubsub_subscription", ".push")
    assert check(label, kind, "google_pubsub_subscriptions", body) == [
        f"{label}: the google provider {provider_schema.provider_version()} has no resource "
        "google_pubsub_subscriptions"]
