"""The Terraform under infra/terraform deploys exactly what keluhan.topology and Settings describe.

No provider can be downloaded here, so the HCL is parsed (python-hcl2) and compared with the code.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import hcl2
import pytest
from hcl2.utils import SerializationOptions
from pydantic import AliasChoices

from keluhan import topology
from keluhan.cli import package
from keluhan.settings import REPO_ROOT, Settings
from tests.unit.provider_schema import provider_version

TERRAFORM = REPO_ROOT / "infra" / "terraform"
MODULES = TERRAFORM / "modules"
ENVIRONMENTS = sorted(p for p in (TERRAFORM / "environments").iterdir() if p.is_dir())
ALL_ROOTS = sorted(p for p in TERRAFORM.rglob("*") if p.is_dir() and list(p.glob("*.tf")))
RUNTIME_ROOT = "/workspace/"  # where Cloud Functions puts the function's source
OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)


@cache
def load(directory: Path) -> dict[str, list]:
    """Every top-level block of a Terraform directory, all .tf files merged."""
    merged: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for kind, blocks in hcl2.load(handle, serialization_options=OPTIONS).items():
                merged.setdefault(kind, []).extend(blocks)
    return merged


def named(directory: Path, kind: str) -> dict[str, dict]:
    """Blocks with one label (variable, output, module) by label."""
    return {label: body for block in load(directory).get(kind, []) for label, body in block.items()}


def resource(directory: Path, rtype: str, name: str) -> dict:
    for block in load(directory).get("resource", []):
        if rtype in block and name in block[rtype]:
            return block[rtype][name]
    raise AssertionError(f"{directory.name}: no resource {rtype}.{name}")


def locals_of(directory: Path) -> dict:
    return {k: v for block in load(directory).get("locals", []) for k, v in block.items()}


def optional_defaults(type_expr: str) -> dict[str, str]:
    """`name = optional(type, default)` attributes of an object type expression."""
    return dict(re.findall(r"(\w+)\s*=\s*optional\(\w+(?:\(\w+\))?,\s*([^)]*)\)", type_expr))


def object_attributes(type_expr: str) -> dict[str, bool] | None:
    """Top-level attributes of an `object({...})` type (name: optional?), None for other types."""
    body = type_expr.removeprefix("${").removesuffix("}")
    if not body.startswith("object({"):
        return None
    attributes, depth = {}, 0
    for match in re.finditer(r"[({\[]|[)}\]]|(\w+)\s*=\s*(optional\()?", body[len("object({"):]):
        if match.group(1) and depth == 0:
            attributes[match.group(1)] = bool(match.group(2))
        if match.group(2) or match.group(0) in "({[":
            depth += 1
        elif match.group(0) in ")}]":
            depth -= 1
    return attributes


def env_names(field: str) -> set[str]:
    """The environment variables Settings reads a field from."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return set(alias.choices)
    return {f"KELUHAN_{field.upper()}"}


SYSTEM = MODULES / "keluhan"
FUNCTIONS = locals_of(SYSTEM)["functions"]
PUBSUB_FUNCTIONS = [fn for fn in topology.FUNCTIONS if fn.trigger == "pubsub"]


def deployed_environment() -> dict[str, set[str]]:
    """Every environment variable each function gets, literal names plus KELUHAN_<settings field>."""
    local = locals_of(SYSTEM)
    settings_type = named(SYSTEM, "variable")["settings"]["type"]
    shared = {f"KELUHAN_{field.upper()}" for field in optional_defaults(settings_type)}
    shared |= set(local["common_environment"])
    return {
        name: shared
        | set(local["function_environment"].get(name, {}))
        | set(local["secret_environment"].get(name, {}))
        for name in FUNCTIONS
    }


def test_every_topology_function_is_deployed_and_nothing_else():
    assert sorted(FUNCTIONS) == sorted(fn.name for fn in topology.FUNCTIONS)
    call = named(SYSTEM, "module")["function"]
    assert call["for_each"] == "${local.functions}"
    assert call["function"]["name"] == "${each.key}"
    assert call["function"]["source_dir"] == "${var.paths.build_dir}/${each.key}"


def test_each_function_is_built_from_its_folder_with_the_folder_name_as_entry_point():
    fn = resource(MODULES / "function", "google_cloudfunctions2_function", "this")
    build = fn["build_config"][0]
    assert build["entry_point"] == "${var.function.name}"
    assert build["runtime"] == "python311"
    source = build["source"][0]["storage_source"][0]
    assert source["object"] == "${google_storage_bucket_object.source.name}"
    archive = next(b["archive_file"]["source"] for b in load(MODULES / "function")["data"]
                   if "archive_file" in b)
    assert archive["source_dir"] == "${var.function.source_dir}"


def test_function_triggers_topics_publishes_and_timeouts_match_topology():
    for fn in topology.FUNCTIONS:
        deployed = FUNCTIONS[fn.name]
        assert deployed["trigger"] == fn.trigger, fn.name
        assert deployed["topics"] == list(fn.topics), fn.name
        assert deployed["publishes"] == list(fn.publishes), fn.name
        assert deployed["timeout_s"] == fn.timeout_s, fn.name
    call = named(SYSTEM, "module")["function"]["function"]
    assert call["timeout_s"] == "${each.value.timeout_s}"
    service = resource(MODULES / "function", "google_cloudfunctions2_function", "this")["service_config"][0]
    assert service["timeout_seconds"] == "${var.function.timeout_s}"


def test_pubsub_delivery_settings_match_topology():
    for fn in PUBSUB_FUNCTIONS:
        deployed = FUNCTIONS[fn.name]
        expected = {"ack_deadline_s": fn.ack_deadline_s, "min_backoff_s": fn.min_backoff_s,
                    "max_backoff_s": fn.max_backoff_s, "dead_letter": fn.dead_letter,
                    "max_delivery_attempts": fn.max_delivery_attempts}
        assert {k: deployed[k] for k in expected} == expected, fn.name


def test_subscriptions_match_topology_subscriptions():
    expected = {s.name: {"function": s.function, "topic": s.topic,
                         "dead_letter_topic": s.dead_letter_topic}
                for s in topology.subscriptions()}
    assert locals_of(SYSTEM)["subscriptions"] == expected


def test_each_subscription_pushes_to_its_function_with_that_functions_delivery_settings():
    passed = named(SYSTEM, "module")["pubsub"]["subscriptions"]
    assert passed.startswith("${{for name, sub in local.subscriptions : name => ")
    for attribute in ("ack_deadline_s", "min_backoff_s", "max_backoff_s", "max_delivery_attempts"):
        assert f"{attribute} = local.functions[sub.function].{attribute}" in passed
    # The topic path is what the code reads the topic from (the local stack pushes the same way).
    assert 'push_endpoint = "${module.function[sub.function].uri}/projects/${var.project.id}/topics/${sub.topic}"' \
        in passed
    assert "push_audience = module.function[sub.function].uri" in passed
    assert "dead_letter_topic = sub.dead_letter_topic" in passed

    sub = resource(MODULES / "pubsub", "google_pubsub_subscription", "push")
    assert sub["for_each"] == "${var.subscriptions}"
    assert sub["name"] == "${each.key}"
    assert sub["topic"] == "${google_pubsub_topic.this[each.value.topic].id}"
    assert sub["ack_deadline_seconds"] == "${each.value.ack_deadline_s}"
    assert sub["retry_policy"] == [{"minimum_backoff": "${each.value.min_backoff_s}s",
                                    "maximum_backoff": "${each.value.max_backoff_s}s"}]
    push = sub["push_config"][0]
    assert push["push_endpoint"] == "${each.value.push_endpoint}"
    assert push["oidc_token"][0]["audience"] == "${each.value.push_audience}"
    dead_letter = sub["dynamic"][0]["dead_letter_policy"]
    assert dead_letter["for_each"] == "${each.value.dead_letter_topic == null ? [] : [each.value]}"
    assert dead_letter["content"][0] == {
        "dead_letter_topic": "${google_pubsub_topic.this[dead_letter_policy.value.dead_letter_topic].id}",
        "max_delivery_attempts": "${dead_letter_policy.value.max_delivery_attempts}",
    }


def test_pubsub_service_agent_may_move_messages_to_dead_letter_topics():
    publisher = resource(MODULES / "pubsub", "google_pubsub_topic_iam_member", "dead_letter_publisher")
    subscriber = resource(MODULES / "pubsub", "google_pubsub_subscription_iam_member",
                          "dead_letter_subscriber")
    assert (publisher["role"], publisher["member"]) == ("roles/pubsub.publisher", "${local.pubsub_agent}")
    assert (subscriber["role"], subscriber["member"]) == ("roles/pubsub.subscriber", "${local.pubsub_agent}")


def test_every_topic_exists_dead_letter_topics_included():
    local = locals_of(SYSTEM)
    assert local["stage_topics"] + local["dead_letter_topics"] == topology.all_topics()
    assert named(SYSTEM, "module")["pubsub"]["topics"] == \
        "${concat(local.stage_topics, local.dead_letter_topics)}"
    for fn in FUNCTIONS.values():
        assert set(fn["topics"] + fn["publishes"]) <= set(topology.all_topics())


def test_every_environment_variable_is_a_settings_field():
    known = set().union(*(env_names(field) for field in Settings.model_fields))
    for name, variables in deployed_environment().items():
        assert variables <= known, f"{name}: not Settings fields: {sorted(variables - known)}"


def test_required_settings_and_demo_defaults_are_set_for_every_function():
    must_set = {field for field, info in Settings.model_fields.items()
                if info.is_required() or str(info.default).startswith("demo-")}
    assert {"project_id", "photo_bucket"} <= must_set
    for name, variables in deployed_environment().items():
        for field in must_set:
            assert env_names(field) & variables, f"{name}: {field} is not set"


def test_settings_defaults_in_terraform_equal_the_settings_defaults():
    defaults = optional_defaults(named(SYSTEM, "variable")["settings"]["type"])
    assert defaults
    for field, value in defaults.items():
        assert float(value) == Settings.model_fields[field].default, field


def test_environments_declare_only_the_project_and_take_tunables_from_the_module():
    for root in ENVIRONMENTS:
        assert set(named(root, "variable")) == {"project"}, root


def test_emulator_and_local_signing_settings_never_reach_production():
    forbidden = env_names("firebase_auth_emulator_host") | env_names("signing_key_file")
    for name, variables in deployed_environment().items():
        assert not variables & forbidden, name
        assert not [v for v in variables if v.endswith("_EMULATOR_HOST")], name


def test_forward_targets_come_from_secret_manager_and_only_forward_report_reads_them():
    secret = locals_of(SYSTEM)["secret_environment"]
    assert {fn for fn, names in secret.items() if "KELUHAN_FORWARD_TARGETS" in names} == {"forward_report"}
    assert env_names("forward_targets") == set(secret["forward_report"])
    # The WhatsApp secrets: the webhook reads all three, notify only the access token it sends with.
    assert set(secret) == {"forward_report", "whatsapp", "notify"}
    assert set(secret["whatsapp"]) == {"KELUHAN_WHATSAPP_APP_SECRET", "KELUHAN_WHATSAPP_VERIFY_TOKEN",
                                       "KELUHAN_WHATSAPP_ACCESS_TOKEN"}
    assert set(secret["notify"]) == {"KELUHAN_WHATSAPP_ACCESS_TOKEN"}
    service = resource(MODULES / "function", "google_cloudfunctions2_function", "this")["service_config"][0]
    assert service["dynamic"][0]["secret_environment_variables"]["for_each"] == \
        "${var.function.secret_environment}"


def test_data_files_named_in_the_environment_are_the_ones_keluhan_package_copies():
    env = locals_of(SYSTEM)["function_environment"]
    rules = env["route_report"]["KELUHAN_ROUTING_RULES_FILE"]
    assert rules.startswith(RUNTIME_ROOT)
    assert rules.removeprefix(RUNTIME_ROOT) in package.DATA_FILES["route_report"]
    for name in package.GEO_FUNCTIONS:
        assert env[name]["KELUHAN_GEO_DIR"] == RUNTIME_ROOT + package.GEO_DIR
        assert f"{RUNTIME_ROOT}{package.GEO_DIR}/${{var.geo.bundle_file}}" in env[name]["KELUHAN_GEO_BUNDLE"]


def test_photo_and_source_buckets_are_private():
    for name in ("photos", "sources"):
        bucket = resource(MODULES / "storage", "google_storage_bucket", name)
        assert bucket["uniform_bucket_level_access"] is True, name
        assert bucket["public_access_prevention"] == "enforced", name
    tf_text = "\n".join(p.read_text() for p in TERRAFORM.rglob("*.tf"))
    for block in re.findall(r'resource "google_storage_bucket_iam\w*".*?\n}', tf_text, re.S):
        assert "allUsers" not in block and "allAuthenticatedUsers" not in block


def test_photo_uploads_notify_the_photo_uploaded_topic_in_the_gcs_format():
    notification = resource(MODULES / "storage", "google_storage_notification", "photo_uploaded")
    assert notification["payload_format"] == "JSON_API_V1"
    assert notification["event_types"] == ["OBJECT_FINALIZE"]
    assert notification["object_name_prefix"] == "${var.photo.incoming_prefix}"
    topic = named(SYSTEM, "module")["storage"]["notification_topic_id"]
    assert topic == f'${{module.pubsub.topic_ids["{topology.PHOTO_UPLOADED}"]}}'


def test_functions_scale_to_zero_and_only_http_functions_are_public():
    fn = resource(MODULES / "function", "google_cloudfunctions2_function", "this")
    service = fn["service_config"][0]
    assert service["min_instance_count"] == 0
    assert service["ingress_settings"] == '${var.function.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"}'
    call = named(SYSTEM, "module")["function"]["function"]
    assert call["public"] == '${each.value.trigger == "http"}'
    assert call["invokers"].startswith('${each.value.trigger == "http" ? local.http_invokers : ')


def test_public_http_functions_are_invoked_by_all_users_or_by_the_api_gateway_only():
    front = named(SYSTEM, "variable")["public_front"]
    assert optional_defaults(front["type"])["kind"] == '"all_users"'  # the default where allowed
    assert [v["condition"] for v in front["validation"]][0] == \
        '${contains(["all_users", "api_gateway"], var.public_front.kind)}'
    local = locals_of(SYSTEM)
    assert local["api_gateway"] == '${var.public_front.kind == "api_gateway"}'
    assert local["fronted"] == "${local.api_gateway ? local.http_functions : {}}"
    assert local["http_functions"] == '${{for name, fn in local.functions : name => fn if fn.trigger == "http"}}'
    # allUsers only without the gateway; with it, the gateway's account is the only invoker.
    assert local["http_invokers"] == ('${local.api_gateway ? {for account in google_service_account.gateway : '
                                      '"api_gateway" => account.member} : {public = "allUsers"}}')
    account = resource(SYSTEM, "google_service_account", "gateway")
    assert account["count"] == "${local.api_gateway ? 1 : 0}"
    for rtype in ("google_api_gateway_api", "google_api_gateway_api_config", "google_api_gateway_gateway"):
        block = resource(SYSTEM, rtype, "front")
        assert block["for_each"] == "${local.fronted}", rtype
        assert block["provider"] == "google-beta", rtype
    config = resource(SYSTEM, "google_api_gateway_api_config", "front")
    assert config["gateway_config"][0]["backend_config"][0]["google_service_account"] == \
        "${google_service_account.gateway[0].email}"
    document = config["openapi_documents"][0]["document"][0]
    assert document["contents"] == "${base64encode(module.gateway_openapi.documents[each.key])}"
    assert config["lifecycle"] == [{"create_before_destroy": True}]  # configs are immutable
    backends = named(SYSTEM, "module")["gateway_openapi"]["backends"]
    assert "for name, fn in local.fronted" in backends
    assert "address = module.function[name].uri" in backends and "deadline_s = fn.timeout_s" in backends
    assert resource(SYSTEM, "google_api_gateway_gateway", "front")["api_config"] == \
        "${google_api_gateway_api_config.front[each.key].id}"
    # The functions read the caller's token where the gateway puts it, exactly when it is there.
    assert local["common_environment"]["KELUHAN_FORWARDED_AUTHORIZATION"] == "${tostring(local.api_gateway)}"
    apis = resource(SYSTEM, "google_project_service", "api")["for_each"]
    assert apis.endswith(', local.api_gateway ? ["apigateway.googleapis.com", "servicecontrol.googleapis.com", '
                         '"servicemanagement.googleapis.com"] : []))}')
    assert resource(SYSTEM, "google_project_service", "front")["service"] == "${each.value.managed_service}"


def test_clients_are_given_the_front_url_of_each_public_function():
    outputs = named(SYSTEM, "output")
    for name in ("submit_report", "get_report", "open311"):
        assert outputs[f"{name}_url"]["value"] == f'${{local.public_urls["{name}"]}}', name
    urls = locals_of(SYSTEM)["public_urls"]
    assert "module.function[name].url" in urls and "google_api_gateway_gateway.front" in urls
    assert "gateway.default_hostname" in urls


def test_each_function_publishes_only_to_its_topology_topics():
    publisher = resource(SYSTEM, "google_pubsub_topic_iam_member", "publisher")
    assert publisher["for_each"] == "${local.publishers}"
    assert publisher["topic"] == "${module.pubsub.topic_ids[each.value.topic]}"
    assert "for topic in fn.publishes" in locals_of(SYSTEM)["publishers"]


@pytest.mark.parametrize("root", ALL_ROOTS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_variable_and_output_has_a_description(root):
    for kind in ("variable", "output"):
        for label, body in named(root, kind).items():
            assert str(body.get("description", "")).strip(), f"{kind} {label} has no description"


@pytest.mark.parametrize("root", ALL_ROOTS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_reference_resolves(root):
    """What `terraform validate` would catch first: unknown variables, locals and modules."""
    text = "\n".join(p.read_text() for p in root.glob("*.tf"))
    text = re.sub(r"#.*", "", text)
    declared = {"var": set(named(root, "variable")), "local": set(locals_of(root)),
                "module": set(named(root, "module"))}
    for kind, names in declared.items():
        used = set(re.findall(rf"(?<!\.)\b{kind}\.(\w+)", text))  # not module.a.module.b
        assert used <= names, f"undeclared {kind}: {sorted(used - names)}"
    for name, body in named(root, "variable").items():
        attributes = object_attributes(body["type"])
        used = set(re.findall(rf"\bvar\.{name}\.(\w+)", text))
        if attributes is not None:
            assert used <= set(attributes), f"var.{name} has no {sorted(used - set(attributes))}"


@pytest.mark.parametrize("root", ALL_ROOTS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_module_calls_pass_exactly_the_variables_the_module_declares(root):
    meta = {"source", "for_each", "count", "depends_on", "providers"}
    for label, call in named(root, "module").items():
        target = (root / call["source"]).resolve()
        variables = named(target, "variable")
        passed = set(call) - meta
        assert passed <= set(variables), f"{label}: unknown inputs {sorted(passed - set(variables))}"
        required = {name for name, body in variables.items() if "default" not in body}
        assert required <= passed, f"{label}: missing inputs {sorted(required - passed)}"
        for name in passed:
            attributes = object_attributes(variables[name]["type"])
            if attributes is None or not isinstance(call[name], dict):
                continue
            given = set(call[name])
            assert given <= set(attributes), f"{label}.{name}: unknown {sorted(given - set(attributes))}"
            mandatory = {a for a, optional in attributes.items() if not optional}
            assert mandatory <= given, f"{label}.{name}: missing {sorted(mandatory - given)}"


def resolve_address(root: Path, address: str) -> dict:
    """The resource block a root-module address such as module.a.module.b.type.name names."""
    directory, parts = root, address.split(".")
    while parts[0] == "module":
        directory = (directory / named(directory, "module")[parts[1]]["source"]).resolve()
        parts = parts[2:]
    rtype, name = parts
    return resource(directory, rtype, name.split("[")[0])


@pytest.mark.parametrize("root", ENVIRONMENTS, ids=lambda p: p.name)
def test_an_existing_firestore_database_is_imported_not_created(root):
    imports = {block["to"].removeprefix("${").removesuffix("}").split("[")[0].rsplit(".", 1)[-1]: block
               for block in load(root)["import"]}
    assert set(imports) == {"default", "firestore", "composite"}
    block = imports["default"]
    database = resolve_address(root, block["to"].removeprefix("${").removesuffix("}"))
    assert database["name"] == "(default)"
    assert block["id"] == "projects/${var.project.id}/databases/${each.value}"
    assert block["for_each"] == '${var.project.firestore_exists ? toset(["(default)"]) : toset([])}'
    # Its rules release exists with it ("already exists" otherwise), and so may its indexes.
    release = imports["firestore"]
    assert resolve_address(root, release["to"].removeprefix("${").removesuffix("}"))["name"] == "cloud.firestore"
    assert release["id"] == "projects/${var.project.id}/releases/${each.value}"
    assert release["for_each"] == '${var.project.firestore_exists ? toset(["cloud.firestore"]) : toset([])}'
    indexes = imports["composite"]
    assert indexes["to"] == "${module.keluhan.module.firestore.google_firestore_index.composite[each.key]}"
    assert indexes["for_each"] == "${var.project.existing_indexes}"


def test_staging_can_be_destroyed_and_recreated_and_production_keeps_its_data():
    calls = {root.name: named(root, "module")["keluhan"] for root in ENVIRONMENTS}
    assert (calls["staging"]["disposable"], calls["prod"]["disposable"]) == (True, False)
    for name in ("photos", "sources"):
        bucket = resource(MODULES / "storage", "google_storage_bucket", name)
        assert bucket["force_destroy"] == "${var.disposable}", name
    database = resource(MODULES / "firestore", "google_firestore_database", "default")
    assert database["deletion_policy"] == '${var.database.disposable ? "DELETE" : "ABANDON"}'
    assert calls["staging"]["firestore"]["delete_protection"] is False


@pytest.mark.parametrize("root", ENVIRONMENTS, ids=lambda p: p.name)
def test_each_environment_locks_the_providers_it_requires(root):
    lock = (root / ".terraform.lock.hcl").read_text()
    required = load(root)["terraform"][0]["required_providers"][0]
    for name, spec in required.items():
        block = re.search(rf'provider "registry.terraform.io/{spec["source"]}" {{(.*?)\n}}', lock, re.S)
        assert block, f"{name} is not locked"
        assert re.search(r'version\s+=\s+"[\d.]+"', block.group(1)), name
        assert len(re.findall(r'"zh:[0-9a-f]{64}"', block.group(1))) >= 10, f"{name}: no hashes"
    version = re.search(r'hashicorp/google" {\s+version\s+=\s+"([\d.]+)"', lock).group(1)
    assert version == provider_version(), "the lock and the schema the tests check must agree"


@pytest.mark.parametrize("root", ENVIRONMENTS, ids=lambda p: p.name)
def test_the_provider_bills_client_apis_to_the_project(root):
    (provider,) = [b["google"] for b in load(root)["provider"] if "google" in b]
    assert provider["user_project_override"] is True
    assert provider["billing_project"] == "${var.project.id}"


def test_terraform_fmt_is_clean():
    terraform = shutil.which("terraform")
    if terraform is None:
        if os.environ.get("CI") == "true":
            pytest.fail("terraform is not on PATH")
        pytest.skip("terraform is not on PATH")
    result = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# What each photo-store call needs of the calling account, and where (keluhan.adapters.photo_store).
PHOTO_CALLS = {
    "upload_url": (topology.PhotoAccess(topology.INCOMING_PREFIX, "create"), True),  # signed PUT
    "download_url": (topology.PhotoAccess(topology.DERIVED_PREFIX, "read"), True),  # signed GET
    "download_link": (topology.PhotoAccess(topology.DERIVED_PREFIX, "read"), True),  # signed GET, its expiry
    "read": (topology.PhotoAccess(topology.INCOMING_PREFIX, "read"), False),
    "write": (topology.PhotoAccess(topology.DERIVED_PREFIX, "write"), False),
    "stat": (topology.PhotoAccess(topology.INCOMING_PREFIX, "read"), False),  # the reconciler's lookup
}
PHOTO_CALL = re.compile(r"\bphotos\.(\w+)\(")
# The permissions of the predefined roles (cloud.google.com/storage/docs/access-control/iam-roles,
# cloud.google.com/iam/docs/roles-permissions/iam), and what each access mode needs: a write of a
# derivative may overwrite the copy of a redelivery, which takes delete.
ROLE_PERMISSIONS = {
    "roles/storage.objectViewer": {"storage.objects.get", "storage.objects.list"},
    "roles/storage.objectCreator": {"storage.objects.create"},
    "roles/storage.objectUser": {"storage.objects.create", "storage.objects.delete", "storage.objects.get",
                                 "storage.objects.list", "storage.objects.update"},
}
MODE_NEEDS = {"read": {"storage.objects.get"}, "create": {"storage.objects.create"},
              "write": {"storage.objects.create", "storage.objects.delete", "storage.objects.get"}}


# Proof photos of a fix live under resolution/: the handling use case signs PUTs there, and
# photo verification reads them (recognised by the use-case code that handles them).
PROOF_CALLS = {
    "upload_url": ("request_proof", topology.PhotoAccess(topology.RESOLUTION_PREFIX, "create")),
    "read": ("def verify_proof", topology.PhotoAccess(topology.RESOLUTION_PREFIX, "read")),
    "stat": ("def _proof", topology.PhotoAccess(topology.RESOLUTION_PREFIX, "read")),
}


# The WhatsApp webhook writes the photo it fetched from the Cloud API where the app's signed PUT
# puts it: under incoming/, not a derivative.
INTAKE_WRITE = ("def handle_message", topology.PhotoAccess(topology.INCOMING_PREFIX, "create"))


def _photo_modules(function: str) -> list[str]:
    """The adapter's source and that of every module the photo store is passed on to, transitively."""
    seen: list[str] = []
    queue = [(REPO_ROOT / "functions" / topology.FUNCTION_BY_NAME[function].source_dir / "main.py").read_text()]
    while queue:
        source = queue.pop()
        if source in seen:
            continue
        seen.append(source)
        tree = ast.parse(source)
        imported = {alias.asname or alias.name: node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in imported
                    and any(k.arg in ("photos", "ports") for k in node.keywords)):
                queue.append(inspect.getsource(importlib.import_module(imported[node.func.id])))
    return seen


def photo_sources(function: str) -> str:
    """The adapter's source and that of every use case it passes the photo store to."""
    return "\n".join(_photo_modules(function))


def photo_calls(function: str) -> set[str]:
    """The photo-store methods a function calls: in its adapter, or in a use case it passes them to."""
    return {call for source in _photo_modules(function) for call in PHOTO_CALL.findall(source)}


def needs_from_code(function: str) -> tuple[set[topology.PhotoAccess], bool]:
    calls = photo_calls(function)
    assert calls <= set(PHOTO_CALLS), f"{function}: unknown photo calls {calls - set(PHOTO_CALLS)}"
    source = photo_sources(function)
    needs = set()
    for call in calls:
        if call == "write" and INTAKE_WRITE[0] in source:
            needs.add(INTAKE_WRITE[1])
            continue
        marker, proof_access = PROOF_CALLS.get(call, (None, None))
        if marker and marker in source:
            needs.add(proof_access)
            if call == "upload_url":
                continue  # act_on_report signs proof uploads only
        needs.add(PHOTO_CALLS[call][0])
    return needs, any(PHOTO_CALLS[c][1] for c in calls)


def test_the_photo_prefixes_are_the_ones_the_code_writes():
    from keluhan.domain.report import photo_object_name
    from keluhan.usecases.photo import StoredObject, derived_objects

    assert photo_object_name("r1").startswith(topology.INCOMING_PREFIX)
    stored = StoredObject(bucket="b", name=photo_object_name("r1"), generation=7, content_type="image/jpeg")
    assert all(name.startswith(topology.DERIVED_PREFIX) for name in derived_objects(stored, "r1"))


# Code deployed again with a part of its paths switched off: what those paths call is not granted.
# open311_intake serves no reads of requests, the only paths that sign media_url thumbnail links.
PATHS_OFF = {"open311_intake": {topology.PhotoAccess(topology.DERIVED_PREFIX, "read")}}


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_the_access_table_is_what_the_code_calls(fn):
    access, signs = needs_from_code(fn.name)
    assert set(fn.photo_access) == access - PATHS_OFF.get(fn.name, set())
    assert fn.signs_urls == signs


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_terraform_grants_each_function_exactly_its_access(fn):
    deployed = FUNCTIONS[fn.name]
    assert deployed["photo_access"] == {a.prefix: a.mode for a in fn.photo_access}
    assert deployed["signs_urls"] == fn.signs_urls


def test_photo_grants_are_scoped_to_their_prefix_with_a_role_that_carries_the_mode():
    local = locals_of(SYSTEM)
    assert "for prefix, mode in fn.photo_access" in local["photo_grants"]
    for mode, role in local["photo_roles"].items():
        assert MODE_NEEDS[mode] <= ROLE_PERMISSIONS[role], mode
    grant = resource(SYSTEM, "google_storage_bucket_iam_member", "photos")
    assert grant["for_each"] == "${local.photo_grants}"
    assert grant["role"] == "${local.photo_roles[each.value.mode]}"
    assert grant["member"] == "${google_service_account.function[each.value.function].member}"
    assert grant["condition"][0]["expression"] == (
        'resource.name.startsWith("projects/_/buckets/${module.storage.photo_bucket}'
        '/objects/${each.value.prefix}")')
    tf_text = "\n".join(p.read_text() for p in TERRAFORM.rglob("*.tf"))
    assert len(re.findall(r'resource "google_storage_bucket_iam', tf_text)) == 1, "one way to grant photos"
    assert "roles/storage.objectAdmin" not in (SYSTEM / "topology.tf").read_text()


def test_functions_that_sign_urls_may_sign_blobs_as_themselves_and_no_other():
    signer = resource(SYSTEM, "google_service_account_iam_member", "signs_urls")
    assert signer["for_each"] == "${{for name, fn in local.functions : name => fn if fn.signs_urls}}"
    assert signer["service_account_id"] == "${google_service_account.function[each.key].name}"
    assert signer["member"] == "${google_service_account.function[each.key].member}"
    # A custom role with signBlob alone (issue 23): not Token Creator, which also mints tokens.
    assert signer["role"] == "${google_project_iam_custom_role.sign_blob.id}"
    role = resource(SYSTEM, "google_project_iam_custom_role", "sign_blob")
    assert role["permissions"] == ["iam.serviceAccounts.signBlob"]
    assert role["project"] == "${local.project_id}"  # created once the IAM API is on


def test_no_account_is_given_token_creator():
    """Token Creator mints access tokens as the account; nothing here needs more than one permission."""
    tf_text = re.sub(r"#.*", "", "\n".join(p.read_text() for p in TERRAFORM.rglob("*.tf")))
    assert "roles/iam.serviceAccountTokenCreator" not in tf_text
    # Pub/Sub's service agent mints only the push requests' OIDC ID tokens as the push account.
    push = resource(MODULES / "pubsub", "google_service_account_iam_member", "push_token_creator")
    assert (push["role"], push["member"]) == ("roles/iam.serviceAccountOpenIdTokenCreator", "${local.pubsub_agent}")
    assert push["service_account_id"] == \
        "projects/${var.project_id}/serviceAccounts/${var.push_service_account_email}"


def test_firestore_access_matches_topology_and_read_only_functions_get_the_viewer_role():
    for fn in topology.FUNCTIONS:
        assert FUNCTIONS[fn.name]["firestore"] == fn.firestore, fn.name
    assert {fn.name for fn in topology.FUNCTIONS if fn.firestore == "read"} == {
        "war_room", "photo_links", "list_my_reports", "nearby_reports"}
    firestore = resource(SYSTEM, "google_project_iam_member", "firestore")
    assert (firestore["for_each"], firestore["role"]) == \
        ("${local.functions}", "${local.firestore_roles[each.value.firestore]}")
    assert locals_of(SYSTEM)["firestore_roles"] == {"read": "roles/datastore.viewer",
                                                    "write": "roles/datastore.user"}


def test_every_function_publishes_only_its_topics():
    for fn in topology.FUNCTIONS:
        assert FUNCTIONS[fn.name]["publishes"] == list(fn.publishes)


def test_builds_run_with_the_roles_google_documents_for_a_build_account():
    build = resource(SYSTEM, "google_project_iam_member", "build")
    assert set(re.findall(r'"([\w/.]+)"', build["for_each"])) == {
        "roles/artifactregistry.writer", "roles/logging.logWriter", "roles/storage.objectAdmin"}
    call = named(SYSTEM, "module")["function"]["function"]
    # The build account reaches the functions through the wait for its grants to propagate.
    assert call["build_service_account"] == '${time_sleep.iam_propagation.triggers["build_account"]}'
    wait = resource(SYSTEM, "time_sleep", "iam_propagation")
    assert wait["triggers"] == {"build_account": "${google_service_account.build.id}"}
    assert "${google_project_iam_member.build}" in wait["depends_on"]


def test_build_storage_role_holds_on_the_source_and_build_buckets_only():
    (condition,) = resource(SYSTEM, "google_project_iam_member", "build")["dynamic"]
    assert condition["condition"]["for_each"] == \
        '${each.value == "roles/storage.objectAdmin" ? [local.source_bucket] : []}'
    expression = condition["condition"]["content"][0]["expression"]
    # An allow list of bucket prefixes, joined by ||: never the photos, never the Terraform state.
    prefixes = re.findall(r'resource\.name\.startsWith\("projects/_/buckets/([^"]+)"\)', expression)
    assert prefixes == ["${condition.value}", "gcf-v2-"]
    assert expression.count("||") == 1 and "!" not in expression


def test_apply_order_is_by_reference_with_no_module_level_depends_on():
    for directory in ALL_ROOTS:
        for label, call in named(directory, "module").items():
            assert "depends_on" not in call, f"{directory.name}: module {label} has depends_on"
    assert locals_of(SYSTEM)["project_id"] == \
        "${one(distinct([for api in google_project_service.api : api.project]))}"
    for label in ("pubsub", "storage", "firestore"):
        assert named(SYSTEM, "module")[label]["project_id"] == "${local.project_id}", label
    assert resource(SYSTEM, "google_project_iam_audit_config", "storage")["project"] == "${local.project_id}"
    identity = resource(SYSTEM, "google_project_service_identity", "pubsub")
    assert (identity["service"], identity["project"]) == ("pubsub.googleapis.com", "${local.project_id}")
    assert named(SYSTEM, "module")["pubsub"]["service_agent"] == \
        "serviceAccount:${google_project_service_identity.pubsub.email}"
    # The source zips are read at plan time whatever else changes: nothing of theirs waits on IAM.
    archive = next(b["archive_file"]["source"] for b in load(MODULES / "function")["data"] if "archive_file" in b)
    assert "depends_on" not in archive


def test_the_apis_the_deployment_calls_are_enabled():
    apis = set(re.findall(r'"([\w.]+)"', resource(SYSTEM, "google_project_service", "api")["for_each"]))
    assert {"iam.googleapis.com", "cloudresourcemanager.googleapis.com", "iamcredentials.googleapis.com",
            "firebaserules.googleapis.com", "cloudbuild.googleapis.com",
            "identitytoolkit.googleapis.com"} <= apis


def test_reads_users_matches_topology():
    for fn in topology.FUNCTIONS:
        assert FUNCTIONS[fn.name]["reads_users"] == fn.reads_users, fn.name


def test_sends_push_matches_topology_and_gets_the_fcm_role():
    for fn in topology.FUNCTIONS:
        assert FUNCTIONS[fn.name].get("sends_push", False) == fn.sends_push, fn.name
    grant = resource(SYSTEM, "google_project_iam_member", "sends_push")
    assert grant["role"] == "roles/firebasecloudmessaging.admin"


def test_the_bigquery_stream_never_expires_and_its_data_is_protected_unless_disposable():
    subscription = resource(SYSTEM, "google_pubsub_subscription", "status_changes_to_bigquery")
    assert subscription["expiration_policy"] == [{"ttl": ""}]
    table = resource(SYSTEM, "google_bigquery_table", "status_changes")
    assert table["deletion_protection"] == "${!var.disposable}"
    dataset = resource(SYSTEM, "google_bigquery_dataset", "analytics")
    assert dataset["delete_contents_on_destroy"] == "${var.disposable}"


def test_browsers_may_send_the_headers_a_signed_upload_binds():
    (cors,) = [d["cors"] for d in resource(MODULES / "storage", "google_storage_bucket", "photos")["dynamic"]
               if "cors" in d]
    headers = {h.lower() for h in cors["content"][0]["response_header"]}
    assert {"content-type", "x-goog-content-length-range"} <= headers


def test_inputs_are_validated_before_anything_is_planned():
    for name in ("environment", "photo", "settings", "scaling"):
        assert named(SYSTEM, "variable")[name].get("validation"), name
    for root in ENVIRONMENTS:
        conditions = [v["condition"] for v in named(root, "variable")["project"]["validation"]]
        assert any("var.project.id" in c for c in conditions), root
        assert any("existing_indexes" in c and "firestore_exists" in c for c in conditions), root


def terraform() -> str:
    """The terraform binary (the core-level checks run it offline; CI must have it)."""
    found = shutil.which("terraform")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("terraform is not on PATH")
        pytest.skip("terraform is not on PATH")
    return found
