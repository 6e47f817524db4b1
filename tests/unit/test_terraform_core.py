"""Terraform itself (core, no provider download) plans the parts that need no Google provider.

`modules/keep` guards production data with `prevent_destroy`; it uses only the built-in
`terraform_data`, so real `terraform init/apply/plan` runs it here against a stand-in for the
data (another `terraform_data` whose replacement is forced the way a changed database would be).
`modules/gateway_openapi` is expressions only: Terraform renders the API Gateway documents here,
and variable validations run on the blocks copied verbatim.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from keluhan import topology
from tests.unit.test_terraform import MODULES, SYSTEM, named, resource, terraform

KEEP = MODULES / "keep"
PROTECTED = {  # what the guard watches → the module output it reads, and the resource behind it
    "database": ("${module.firestore.database_id}", MODULES / "firestore", "google_firestore_database.default.id"),
    "photos": ("${module.storage.photo_bucket_id}", MODULES / "storage", "google_storage_bucket.photos.id"),
    "analytics": ("${google_bigquery_dataset.analytics.id}", None, None),
}
REFUSED = "Instance cannot be destroyed"


def test_production_data_is_guarded_unless_the_environment_is_disposable():
    call = named(SYSTEM, "module")["keep"]
    assert call["source"] == "../keep"
    assert call["protect"] == "${!var.disposable}"
    assert set(call["ids"]) == set(PROTECTED)
    for name, (reference, module, value) in PROTECTED.items():
        assert call["ids"][name] == reference, name
        if module is not None:
            output = reference.removeprefix("${module.").removesuffix("}").split(".")[1]
            assert named(module, "output")[output]["value"] == f"${{{value}}}", name
    guard = resource(KEEP, "terraform_data", "guard")
    assert guard["lifecycle"] == [{"prevent_destroy": True}]
    assert guard["for_each"] == "${var.protect ? var.ids : {}}"
    assert guard["triggers_replace"] == "${each.value}"


# A root that calls the real guard module on a stand-in for the database: `generation` forces
# the stand-in's replacement (what a changed location would do to the real database), `note`
# changes it in place.
STAND_IN_ROOT = """
variable "protect" {
  type = bool
}
variable "generation" {
  type    = string
  default = "1"
}
variable "note" {
  type    = string
  default = "a"
}
module "data" {
  source     = "./data"
  generation = var.generation
  note       = var.note
}
module "keep" {
  source  = "./keep"
  protect = var.protect
  ids     = { database = module.data.database_id }
}
"""
STAND_IN_DATA = """
variable "generation" {
  type = string
}
variable "note" {
  type = string
}
resource "terraform_data" "database" {
  input            = var.note
  triggers_replace = var.generation
}
output "database_id" {
  value = terraform_data.database.id
}
"""


class Root:
    def __init__(self, directory: Path, protect: bool):
        self.directory, self.protect = directory, protect
        shutil.copytree(KEEP, directory / "keep")
        (directory / "data").mkdir()
        (directory / "data" / "main.tf").write_text(STAND_IN_DATA)
        (directory / "main.tf").write_text(STAND_IN_ROOT)
        (directory / "empty.tfrc").write_text("")
        self.env = {**os.environ, "TF_CLI_CONFIG_FILE": str(directory / "empty.tfrc"), "TF_IN_AUTOMATION": "1",
                    "CHECKPOINT_DISABLE": "1"}
        self.run("init", "-input=false", "-backend=false")
        self.run("apply", "-auto-approve", "-input=false", *self.vars())

    def vars(self, **values: str) -> list[str]:
        values = {"protect": str(self.protect).lower(), **values}
        return [f"-var={k}={v}" for k, v in values.items()]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([terraform(), *args, "-no-color"], cwd=self.directory, env=self.env,
                                capture_output=True, text=True, timeout=120)
        if check:
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return result

    def plan(self, *args: str, **values: str) -> subprocess.CompletedProcess:
        return self.run("plan", "-input=false", "-detailed-exitcode", *args, *self.vars(**values), check=False)


@pytest.fixture(scope="module")
def protected(tmp_path_factory) -> Root:
    return Root(tmp_path_factory.mktemp("keep-protected"), protect=True)


@pytest.fixture(scope="module")
def disposable(tmp_path_factory) -> Root:
    return Root(tmp_path_factory.mktemp("keep-disposable"), protect=False)


def refused(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == 1 and REFUSED in result.stderr and 'terraform_data.guard["database"]' in result.stderr


def test_a_plan_that_replaces_protected_data_is_refused(protected):
    assert refused(protected.plan(generation="2"))
    assert refused(protected.plan("-replace=module.data.terraform_data.database"))


def test_destroying_protected_data_is_refused_even_when_targeted(protected):
    assert refused(protected.plan("-destroy"))
    assert refused(protected.plan("-destroy", "-target=module.data.terraform_data.database"))


def test_an_in_place_change_of_protected_data_plans(protected):
    assert protected.plan().returncode == 0  # nothing to do
    result = protected.plan(note="b")
    assert result.returncode == 2, result.stderr  # changes, no error
    assert "1 to change, 0 to destroy" in result.stdout


def test_a_disposable_environment_may_replace_and_destroy_its_data(disposable):
    assert disposable.plan(generation="2").returncode == 2
    result = disposable.plan("-destroy")
    assert result.returncode == 2 and "0 to add, 0 to change, 1 to destroy" in result.stdout, result.stderr


# The API Gateway configuration: `modules/gateway_openapi` is expressions only, so Terraform
# itself renders the documents here, for every public function of the topology.

GATEWAY_OPENAPI = MODULES / "gateway_openapi"
HTTP_FUNCTIONS = [fn for fn in topology.FUNCTIONS if fn.trigger == "http"]


def uri(name: str) -> str:
    return f"https://{name.replace('_', '-')}-abc123-ts.a.run.app"


@pytest.fixture(scope="module")
def gateway_documents(tmp_path_factory) -> dict[str, dict]:
    directory = tmp_path_factory.mktemp("gateway-openapi")
    shutil.copytree(GATEWAY_OPENAPI, directory / "gateway_openapi")
    backends = ", ".join(f'{fn.name} = {{ address = "{uri(fn.name)}", deadline_s = {fn.timeout_s} }}'
                         for fn in HTTP_FUNCTIONS)
    (directory / "main.tf").write_text(
        f'module "openapi" {{\n  source   = "./gateway_openapi"\n  backends = {{ {backends} }}\n}}\n'
        'output "documents" {\n  value = module.openapi.documents\n}\n')
    root = Root.__new__(Root)
    root.directory, root.protect = directory, False
    (directory / "empty.tfrc").write_text("")
    root.env = {**os.environ, "TF_CLI_CONFIG_FILE": str(directory / "empty.tfrc"), "CHECKPOINT_DISABLE": "1"}
    root.run("init", "-input=false", "-backend=false")
    root.run("apply", "-auto-approve", "-input=false")
    rendered = json.loads(root.run("output", "-json", "documents").stdout)
    return {name: json.loads(text) for name, text in rendered.items()}


def test_each_public_function_gets_a_valid_openapi_2_document(gateway_documents):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV2SpecValidator

    assert sorted(gateway_documents) == sorted(fn.name for fn in HTTP_FUNCTIONS)
    for name, document in gateway_documents.items():
        # `{path=**}` (any depth) is Google's path-template extension of a path parameter
        # (https://cloud.google.com/api-gateway/docs/path-templating); a plain OpenAPI 2.0
        # validator reads it as the parameter `path`.
        plain = {**document, "paths": {key.replace("=**}", "}"): value for key, value in document["paths"].items()}}
        validate(plain, cls=OpenAPIV2SpecValidator)
        assert document["swagger"] == "2.0", name
        ids = [op["operationId"] for path in document["paths"].values() for key, op in path.items()
               if key != "parameters"]
        assert len(ids) == len(set(ids)) == 6, name  # `/` and `/{path=**}` × GET, POST, DELETE


@pytest.mark.parametrize("fn", HTTP_FUNCTIONS, ids=lambda fn: fn.name)
def test_the_gateway_sends_every_path_to_its_function_as_the_function_sees_it(gateway_documents, fn):
    """war_room's /stats.json and open311's /requests.json reach the function at those paths, with an
    ID token for the function's own URI (Cloud Run's invoker check) and the function's deadline."""
    document = gateway_documents[fn.name]
    assert document["x-google-backend"] == {"address": uri(fn.name), "jwt_audience": uri(fn.name),
                                            "path_translation": "APPEND_PATH_TO_ADDRESS",
                                            "deadline": fn.timeout_s}
    assert set(document["paths"]) == {"/", "/{path=**}"}  # every path, any depth
    for path in document["paths"].values():
        assert {"get", "post"} <= set(path)
    (parameter,) = document["paths"]["/{path=**}"]["parameters"]
    assert parameter == {"name": "path", "in": "path", "required": True, "type": "string"}
    assert "securityDefinitions" not in document  # the functions check tokens and keys themselves


def validation_root(directory: Path, variable: str) -> Root:
    """A root holding only one variable block of the system module, copied verbatim."""
    text = (SYSTEM / "variables.tf").read_text()
    start = text.index(f'variable "{variable}" {{')
    end = text.index("\n}\n", start) + 3
    (directory / "main.tf").write_text(text[start:end])
    (directory / "empty.tfrc").write_text("")
    root = Root.__new__(Root)
    root.directory, root.protect = directory, False
    root.env = {**os.environ, "TF_CLI_CONFIG_FILE": str(directory / "empty.tfrc"), "CHECKPOINT_DISABLE": "1"}
    root.run("init", "-input=false", "-backend=false")
    return root


@pytest.mark.parametrize(("value", "accepted"), [
    ("{}", True),
    ('{ kind = "api_gateway" }', True),
    ('{ kind = "api_gateway", region = "europe-west1" }', True),
    ('{ kind = "load_balancer" }', False),
    ('{ kind = "api_gateway", region = "asia-southeast2" }', False),  # no API Gateway in Jakarta
])
def test_the_public_front_is_validated_before_anything_is_planned(tmp_path, value, accepted):
    root = validation_root(tmp_path, "public_front")
    result = root.run("plan", "-input=false", f"-var=public_front={value}", check=False)
    assert (result.returncode == 0) == accepted, result.stderr
    if not accepted:
        assert "Invalid value for variable" in result.stderr
