"""What each recorded Google API method needs of IAM, what each granted role carries, and what
Terraform grants each function's service account.

Three small tables, each row with its source:

- METHODS: API method (as keluhan.devstack.api_calls records it) → the permissions it needs and
  where the grant must be (the project, one topic, the photo bucket, the account itself).
- ROLES: the predefined roles Terraform grants → the permissions among those that matter here;
  the module's custom roles are added from the Terraform itself (exactly the permissions it lists).
- PLATFORM: calls the platform makes as the runtime account, which no function process can record.

`grants(function)` reads infra/terraform/modules/keluhan and says which roles the function's account
gets, and where; tests/unit/test_permissions.py checks recorded ⊆ granted and that every grant is used.
`python -m tests.support.permissions` rewrites the generated part of docs/deploy.md.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from keluhan.settings import REPO_ROOT

SYSTEM = REPO_ROOT / "infra" / "terraform" / "modules" / "keluhan"
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"

FIRESTORE_IAM = "https://cloud.google.com/firestore/docs/security/iam#required_permissions"
PUBSUB_IAM = "https://cloud.google.com/pubsub/docs/access-control#permissions_and_roles"
STORAGE_JSON_IAM = "https://cloud.google.com/storage/docs/access-control/iam-json"
SIGN_BLOB_DOC = "https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/signBlob"
AUTH_IAM = "https://firebase.google.com/docs/projects/iam/permissions#auth"
SECRETS_IAM = "https://cloud.google.com/secret-manager/docs/access-control"
ROLES_REF = "https://cloud.google.com/iam/docs/roles-permissions"


@dataclass(frozen=True)
class Need:
    permissions: frozenset[str]
    scope: str  # project | topic | photos | self | secret | none (public, no IAM)
    source: str


def _need(permissions: str, scope: str, source: str) -> Need:
    return Need(frozenset(permissions.split()), scope, source)


FIRESTORE = "google.firestore.v1.Firestore."
# Method → what it needs. Firestore's writes are all in Commit: a create, an update or a delete.
METHODS: dict[str, Need] = {
    FIRESTORE + "GetDocument": _need("datastore.entities.get", "project", FIRESTORE_IAM),
    FIRESTORE + "BatchGetDocuments": _need("datastore.entities.get", "project", FIRESTORE_IAM),
    FIRESTORE + "RunQuery": _need("datastore.entities.get datastore.entities.list", "project", FIRESTORE_IAM),
    FIRESTORE + "RunAggregationQuery": _need("datastore.entities.list", "project", FIRESTORE_IAM),
    FIRESTORE + "ListDocuments": _need("datastore.entities.list", "project", FIRESTORE_IAM),
    FIRESTORE + "BeginTransaction": _need("datastore.databases.get", "project", FIRESTORE_IAM),
    FIRESTORE + "Rollback": _need("datastore.databases.get", "project", FIRESTORE_IAM),
    FIRESTORE + "Commit": _need("datastore.entities.create datastore.entities.update datastore.entities.delete",
                                "project", FIRESTORE_IAM),
    FIRESTORE + "BatchWrite": _need("datastore.entities.create datastore.entities.update "
                                    "datastore.entities.delete", "project", FIRESTORE_IAM),
    "google.pubsub.v1.Publisher.Publish": _need("pubsub.topics.publish", "topic", PUBSUB_IAM),
    "storage.objects.get": _need("storage.objects.get", "photos", STORAGE_JSON_IAM),
    "storage.objects.list": _need("storage.objects.list", "photos", STORAGE_JSON_IAM),
    "storage.objects.insert": _need("storage.objects.create", "photos", STORAGE_JSON_IAM),
    "storage.objects.patch": _need("storage.objects.update", "photos", STORAGE_JSON_IAM),
    "storage.objects.delete": _need("storage.objects.delete", "photos", STORAGE_JSON_IAM),
    # google-cloud-storage ≥ 3.x fetches the bucket's metadata in a background thread for its
    # telemetry and caches a fallback on 403 (google/cloud/storage/_bucket_metadata_cache.py):
    # no grant needed, none given.
    "storage.buckets.get": _need("", "none", "google-cloud-storage _bucket_metadata_cache._fetch_background"),
    "iamcredentials.projects.serviceAccounts.signBlob": _need("iam.serviceAccounts.signBlob", "self",
                                                              SIGN_BLOB_DOC),
    # check_revoked=True: firebase_admin looks the user up (identitytoolkit accounts:lookup).
    "identitytoolkit.projects.accounts.lookup": _need("firebaseauth.users.get", "project", AUTH_IAM),
    "identitytoolkit.accounts.lookup": _need("firebaseauth.users.get", "project", AUTH_IAM),
    "secretmanager.projects.secrets.versions.access": _need("secretmanager.versions.access", "secret",
                                                            SECRETS_IAM),
    # Push: FCM HTTP v1 messages:send (firebase-admin messaging).
    "fcm.projects.messages.send": _need("cloudmessaging.messages.create", "project",
                                        "https://firebase.google.com/docs/cloud-messaging/auth-server"),
    # Public: Firebase's token-signing certificates, and the metadata server's own token.
    "securetoken.publicKeys": _need("", "none", "https://firebase.google.com/docs/auth/admin/verify-id-tokens"),
    "metadata.server": _need("", "none", "https://cloud.google.com/compute/docs/metadata/overview"),
}

# Role → the permissions it carries that matter here (each role's full list is longer).
ROLES: dict[str, tuple[frozenset[str], str]] = {
    "roles/datastore.user": (frozenset({
        "datastore.databases.get", "datastore.databases.getMetadata", "datastore.entities.allocateIds",
        "datastore.entities.create", "datastore.entities.delete", "datastore.entities.get",
        "datastore.entities.list", "datastore.entities.update", "datastore.indexes.list"}),
        f"{ROLES_REF}/datastore#datastore.user"),
    "roles/datastore.viewer": (frozenset({
        "datastore.databases.get", "datastore.databases.getMetadata", "datastore.entities.get",
        "datastore.entities.list", "datastore.indexes.list"}),
        f"{ROLES_REF}/datastore#datastore.viewer"),
    "roles/pubsub.publisher": (frozenset({"pubsub.topics.publish"}), f"{ROLES_REF}/pubsub#pubsub.publisher"),
    "roles/storage.objectViewer": (frozenset({"storage.objects.get", "storage.objects.list"}),
                                   f"{ROLES_REF}/storage#storage.objectViewer"),
    "roles/storage.objectCreator": (frozenset({"storage.objects.create"}),
                                    f"{ROLES_REF}/storage#storage.objectCreator"),
    "roles/storage.objectUser": (frozenset({"storage.objects.create", "storage.objects.delete",
                                            "storage.objects.get", "storage.objects.list",
                                            "storage.objects.update"}),
                                 f"{ROLES_REF}/storage#storage.objectUser"),
    "roles/firebaseauth.viewer": (frozenset({"firebaseauth.users.get", "firebaseauth.configs.get"}),
                                  f"{ROLES_REF}/firebaseauth#firebaseauth.viewer"),
    "roles/secretmanager.secretAccessor": (frozenset({"secretmanager.versions.access"}),
                                           f"{ROLES_REF}/secretmanager#secretmanager.secretAccessor"),
    "roles/firebasecloudmessaging.admin": (frozenset({"cloudmessaging.messages.create"}),
                                           f"{ROLES_REF}/firebasecloudmessaging#firebasecloudmessaging.admin"),
    "roles/logging.logWriter": (frozenset({"logging.logEntries.create"}), f"{ROLES_REF}/logging#logging.logWriter"),
}

# Calls the platform makes as the runtime account (no function process makes or records them):
# method → (why, source). Which functions they apply to is read from Terraform (see platform_calls).
PLATFORM: dict[str, tuple[Need, str]] = {
    "secretmanager.projects.secrets.versions.access": (
        METHODS["secretmanager.projects.secrets.versions.access"],
        "Cloud Run reads a secret environment variable as the runtime account when an instance starts "
        "(https://cloud.google.com/run/docs/configuring/services/secrets#access-secret)"),
    "logging.entries.write": (
        _need("logging.logEntries.create", "project", f"{ROLES_REF}/logging#logging.logWriter"),
        "the JSON lines a function prints become Cloud Logging entries of its service; the runtime "
        "account keeps the log writer role Google's guides give a user-managed runtime account"),
}


@dataclass(frozen=True, order=True)
class Grant:
    role: str
    scope: str  # project | topic:<name> | photos:<prefix> | self | secret:<id>

    @property
    def kind(self) -> str:
        return self.scope.split(":", 1)[0]


OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
# Any: python-hcl2's reading of a Terraform block: strings, lists and nested blocks as written.
Block = dict[str, Any]


@cache
def _blocks() -> dict[str, list[Block]]:
    merged: dict[str, list[Block]] = {}
    for path in sorted(SYSTEM.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for kind, blocks in hcl2.load(handle, serialization_options=OPTIONS).items():
                merged.setdefault(kind, []).extend(blocks)
    return merged


def _locals() -> Block:
    return {k: v for block in _blocks().get("locals", []) for k, v in block.items()}


def _resources(rtype: str) -> dict[str, Block]:
    return {name: body for block in _blocks().get("resource", []) if rtype in block
            for name, body in block[rtype].items()}


def functions() -> dict[str, Block]:
    found: dict[str, Block] = _locals()["functions"]
    return found


CUSTOM_ROLES_DOC = "https://cloud.google.com/iam/docs/understanding-custom-roles"
CUSTOM_ROLE = re.compile(r"\$\{google_project_iam_custom_role\.(\w+)\.id\}")


def custom_role_name(label: str) -> str:
    """The role a `google_project_iam_custom_role` of the module defines, as IAM names it."""
    return f"projects/<project>/roles/{_resources('google_project_iam_custom_role')[label]['role_id']}"


def custom_roles() -> dict[str, tuple[frozenset[str], str]]:
    """The module's custom roles: exactly the permissions the Terraform lists, nothing implied."""
    return {custom_role_name(label): (frozenset(body["permissions"]), CUSTOM_ROLES_DOC)
            for label, body in _resources("google_project_iam_custom_role").items()}


ROLES.update(custom_roles())


def _role(expression: str, function: str, where: str) -> str:
    """A grant's role for one function: a literal, a custom role, or `local.<table>[each.value.<attr>]`."""
    if match := CUSTOM_ROLE.fullmatch(expression):
        return custom_role_name(match.group(1))
    if match := re.fullmatch(r"\$\{local\.(\w+)\[each\.value\.(\w+)\]\}", expression):
        return str(_locals()[match.group(1)][functions()[function][match.group(2)]])
    assert "${" not in expression, f"{where}: a role this reader does not know: {expression}"
    return expression


def _members_of(resource: Block, where: str) -> list[str]:
    """The functions a per-function grant is for, from its for_each (the forms the module uses)."""
    every = functions()
    for_each = resource["for_each"]
    if for_each == "${local.functions}":
        return list(every)
    if match := re.fullmatch(r"\$\{\{for name, fn in local\.functions : name => fn if fn\.(\w+)\}\}", for_each):
        return [name for name, fn in every.items() if fn[match.group(1)]]
    if match := re.fullmatch(r"\$\{\{for name, fn in local\.functions : name => fn if try\(fn\.(\w+), false\)\}\}",
                             for_each):  # an attribute only some functions name
        return [name for name, fn in every.items() if fn.get(match.group(1), False)]
    if for_each == "${local.secret_environment}":
        return list(_locals()["secret_environment"])
    raise AssertionError(f"{where}: a for_each this reader does not know: {for_each}")


@cache
def grants() -> dict[str, frozenset[Grant]]:
    """Function → the roles Terraform grants its service account, and where."""
    found: dict[str, set[Grant]] = {name: set() for name in functions()}
    member = "${google_service_account.function[each.key].member}"
    for name, body in _resources("google_project_iam_member").items():
        if body.get("member") == member:
            for fn in _members_of(body, name):
                found[fn].add(Grant(_role(body["role"], fn, name), "project"))
    publisher = _resources("google_pubsub_topic_iam_member")["publisher"]
    assert publisher["for_each"] == "${local.publishers}" and publisher["role"] == "roles/pubsub.publisher"
    assert "for topic in fn.publishes" in _locals()["publishers"]
    for fn, body in functions().items():
        found[fn] |= {Grant("roles/pubsub.publisher", f"topic:{topic}") for topic in body["publishes"]}
    photos = _resources("google_storage_bucket_iam_member")["photos"]
    assert photos["for_each"] == "${local.photo_grants}"
    roles = _locals()["photo_roles"]
    for fn, body in functions().items():
        found[fn] |= {Grant(roles[mode], f"photos:{prefix}") for prefix, mode in body["photo_access"].items()}
    signer = _resources("google_service_account_iam_member")["signs_urls"]
    assert signer["service_account_id"] == "${google_service_account.function[each.key].name}"
    for fn in _members_of(signer, "signs_urls"):
        found[fn].add(Grant(_role(signer["role"], fn, "signs_urls"), "self"))
    secrets = _resources("google_secret_manager_secret")
    for name, body in _resources("google_secret_manager_secret_iam_member").items():
        secret = re.fullmatch(r"\$\{google_secret_manager_secret\.(\w+)\.secret_id\}", body["secret_id"])
        assert secret, f"{name}: a secret this reader does not know: {body['secret_id']}"
        for fn in _members_of(body, name):
            found[fn].add(Grant(_role(body["role"], fn, name), f"secret:{secrets[secret.group(1)]['secret_id']}"))
    return {fn: frozenset(g) for fn, g in found.items()}


def platform_calls(function: str) -> set[str]:
    """The platform's calls as this function's account: secrets read at start, logs written."""
    calls = {"logging.entries.write"}
    if _locals()["secret_environment"].get(function):
        calls.add("secretmanager.projects.secrets.versions.access")
    return calls


def need_of(method: str) -> tuple[Need, str]:
    """(need, resource) of a recorded method: `…Publish:<topic>` names its topic."""
    base, _, resource = method.partition(":")
    if method in PLATFORM:
        return PLATFORM[method][0], ""
    if base.startswith("unknown"):
        raise KeyError(method)
    return METHODS[base], resource


def covering(need: Need, resource: str, granted: frozenset[Grant]) -> set[Grant]:
    """The grants that give the permissions of one call where the call needs them."""
    def where(grant: Grant) -> bool:
        if need.scope == "topic":
            return grant.scope in ("project", f"topic:{resource}")
        if need.scope == "photos":  # the object's prefix, as the grant's IAM condition
            return grant.scope == f"photos:{resource}"
        if need.scope == "secret":
            return grant.kind in ("project", "secret")
        return grant.kind == need.scope
    return {g for g in granted if where(g) and need.permissions & ROLES[g.role][0]}


def uncovered(need: Need, resource: str, granted: frozenset[Grant]) -> set[str]:
    """Permissions of one call that no grant in the right place carries."""
    have: set[str] = set()
    for grant in covering(need, resource, granted):
        have |= ROLES[grant.role][0]
    return set(need.permissions) - have


def render(recorded: dict[str, dict[str, str]]) -> str:
    """The generated table of docs/deploy.md: per function, each role, where, and the calls that need it."""
    lines = ["| function | role | where | because it calls |", "| --- | --- | --- | --- |"]
    for fn in functions():
        calls = {**recorded.get(fn, {}), **{c: "(platform)" for c in platform_calls(fn)}}
        for grant in sorted(grants()[fn]):
            why = sorted({method for method in calls
                          if grant in covering(*need_of(method), grants()[fn])})
            lines.append(f"| {fn} | `{grant.role}` | {grant.scope} | {', '.join(f'`{w}`' for w in why)} |")
    return "\n".join(lines)


BEGIN, END = "<!-- permissions:begin (python -m tests.support.permissions) -->", "<!-- permissions:end -->"


def rendered_doc(doc: str, recorded: dict[str, dict[str, str]]) -> str:
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{render(recorded)}\n{END}{tail}"


def main() -> None:
    from tests.support.api_calls import checked_in

    doc = DEPLOY_DOC.read_text(encoding="utf-8")
    if BEGIN not in doc:
        sys.exit(f"{DEPLOY_DOC} has no {BEGIN} marker")
    Path(DEPLOY_DOC).write_text(rendered_doc(doc, checked_in()), encoding="utf-8")


if __name__ == "__main__":
    main()
