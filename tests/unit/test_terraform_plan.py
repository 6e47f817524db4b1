"""Terraform core plans the production root with a stand-in provider (issue 24's "core-level plan
checks"): an IAM-only change replaces no function source object and redeploys no function.

No Google provider can be downloaded here, and `terraform test`'s `mock_provider` still needs the
real provider binary (its schema). So tests/support/standin_provider.py plays google,
google-beta, time and archive from a filesystem mirror, with a schema derived from the
configuration (every argument and every attribute the configuration reads: optional, computed,
dynamic). Terraform applies the copied production root once (the stand-in fabricates computed
values), then plans again after an IAM-only edit. The stand-in forces replacement on any changed
attribute, so "no-op" for every source object and function is the strictest reading. The same plan
with the module-level `depends_on` this issue removed shows why it mattered: every source object
and function is replaced.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest

from keluhan import topology
from keluhan.settings import REPO_ROOT
from tests.unit.hcl_body import META, OPTIONS, entries
from tests.unit.test_terraform import TERRAFORM, terraform

STANDIN = REPO_ROOT / "tests" / "support" / "standin_provider.py"
PROVIDERS = {"google": "6.50.0", "google-beta": "6.50.0", "time": "0.13.1", "archive": "2.7.1"}
PROJECT = '-var=project={ id = "keluhan-standin" }'
SOURCES = "module.keluhan.module.function[\"{}\"].google_storage_bucket_object.source"
FUNCTIONS = "module.keluhan.module.function[\"{}\"].google_cloudfunctions2_function.this"


def _new_block() -> dict:
    return {"attributes": set(), "blocks": {}}


def _merge(block: dict, body: dict, *, top: bool) -> None:
    for kind, name, value in entries(body, top=top):
        if kind == "block":
            for item in value:
                _merge(block["blocks"].setdefault(name, _new_block()), item, top=False)
        else:
            block["attributes"].add(name)


def _read_everywhere(block: dict, names: set[str]) -> None:
    block["attributes"] |= names - set(block["blocks"])
    for nested in block["blocks"].values():
        _read_everywhere(nested, names)


def _plain(block: dict) -> dict:
    return {"attributes": sorted(block["attributes"]),
            "blocks": {name: _plain(nested) for name, nested in block["blocks"].items()}}


# `google_x.name[...].attr[0].nested` and `data.archive_file.name.attr`: what is read of a resource.
READ = re.compile(r"\b(?:data\.)?(?:google|time|archive)_\w+\.\w+(?:\[[^\]]*\])?((?:\.\w+|\[\d+\])+)")
# `for account in google_service_account.gateway : account.member`: read through a loop variable.
LOOP = re.compile(r"\bfor (?:\w+, )?(\w+) in (?:google|time|archive)_\w+\.\w+")


def attributes_read(text: str) -> set[str]:
    text = re.sub(r"#.*", "", text)
    names = {name for chain in READ.findall(text) for name in re.findall(r"\.(\w+)", chain)}
    for variable in set(LOOP.findall(text)):
        names |= set(re.findall(rf"\b{variable}\.(\w+)", text))
    if re.search(r"for_each\s*=\s*(?:google|time|archive)_\w+\.\w+\s*$", text, re.M):  # each.value is a resource
        names |= set(re.findall(r"\beach\.value\.(\w+)", text))
    return names


def derived_schema(terraform_dir: Path) -> dict:
    """Per provider: its configuration block, and every resource and data source type the
    configuration uses, with the arguments it sets and every attribute name read of any resource."""
    schema = {name: {"provider": _new_block(), "resources": {}, "data": {}} for name in PROVIDERS}
    read: set[str] = {"id"}
    for path in sorted(terraform_dir.rglob("*.tf")):
        text = path.read_text(encoding="utf-8")
        read |= attributes_read(text)
        parsed = hcl2.loads(text, serialization_options=OPTIONS)
        for kind, key in (("resource", "resources"), ("data", "data")):
            for block in parsed.get(kind, []):
                for rtype, instances in block.items():
                    if rtype == "__is_block__" or rtype == "terraform_data":  # built into Terraform
                        continue
                    for name, body in instances.items():
                        if name == "__is_block__":
                            continue
                        chosen = str(body.get("provider", "")).removeprefix("${").removesuffix("}").split(".")[0]
                        provider = chosen or rtype.split("_")[0]
                        _merge(schema[provider][key].setdefault(rtype, _new_block()), body, top=True)
        for block in parsed.get("provider", []):
            for name, body in block.items():
                if name in schema:
                    _merge(schema[name]["provider"], body, top=True)
    read -= META
    for provider in schema.values():
        for kind in ("resources", "data"):
            for block in provider[kind].values():
                _read_everywhere(block, read)
    return {name: {"provider": _plain(p["provider"]),
                   "resources": {t: _plain(b) for t, b in p["resources"].items()},
                   "data": {t: _plain(b) for t, b in p["data"].items()}} for name, p in schema.items()}


class StandInRoot:
    """A copy of infra/terraform (and the rules and indexes files) whose prod root plans with the
    stand-in providers from a filesystem mirror, with local state."""

    def __init__(self, directory: Path):
        repo = directory / "repo"
        self.terraform_dir = repo / "infra" / "terraform"
        shutil.copytree(TERRAFORM, self.terraform_dir,
                        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
        for name in ("firestore.rules", "firestore.indexes.json"):
            shutil.copy(REPO_ROOT / name, repo / name)
        self.root = self.terraform_dir / "environments" / "prod"
        (self.root / "standin_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
        self.schema_file = directory / "schema.json"
        self.write_schema()
        mirror = directory / "mirror"
        for name, version in PROVIDERS.items():
            where = mirror / "registry.terraform.io" / "hashicorp" / name / version / "linux_amd64"
            where.mkdir(parents=True)
            executable = where / f"terraform-provider-{name}_v{version}_x5"
            executable.write_text(f"#!/bin/sh\nKELUHAN_STANDIN_PROVIDER={name} exec {sys.executable} {STANDIN}\n")
            executable.chmod(0o755)
        cli_config = directory / "terraformrc"
        cli_config.write_text('provider_installation {\n  filesystem_mirror {\n'
                              f'    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n'
                              "  }\n}\n")
        self.env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "KELUHAN_STANDIN_SCHEMA": str(self.schema_file),
                    "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
        self.run("init", "-input=false")

    def write_schema(self) -> None:
        self.schema_file.write_text(json.dumps(derived_schema(self.terraform_dir)))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([terraform(), *args, "-no-color"], cwd=self.root, env=self.env,
                                capture_output=True, text=True, timeout=600)
        if check:
            assert result.returncode == 0, f"terraform {args[0]}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result

    def apply(self) -> None:
        self.run("apply", "-input=false", "-auto-approve", "-parallelism=4", PROJECT)

    def plan(self) -> dict[str, list[str]]:
        """Every resource instance's planned actions, by address."""
        return {address: change["actions"] for address, change in self.planned().items()}

    def planned(self) -> dict[str, dict]:
        """Every resource instance's planned change (actions, before, after), by address."""
        self.run("plan", "-input=false", "-refresh=false", "-parallelism=4", "-out=tfplan", PROJECT)
        shown = json.loads(self.run("show", "-json", "tfplan").stdout)
        return {change["address"]: change["change"] for change in shown.get("resource_changes", [])}

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.terraform_dir / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative}: {old!r} not found"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        # The schema stays the one the state was written with, as a provider's would.


# The IAM-only change: every function's log writer role for another, and one grant more.
IAM_EDIT = ('  role     = "roles/logging.logWriter"\n  member   = google_service_account.function[each.key].member',
            '  role     = "roles/logging.bucketWriter"\n  member   = google_service_account.function[each.key].member')
NEW_GRANT = """
resource "google_project_iam_member" "standin_extra" {
  project = var.project.id
  role    = "roles/monitoring.metricWriter"
  member  = google_service_account.function["war_room"].member
}
"""


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> StandInRoot:
    terraform()
    root = StandInRoot(tmp_path_factory.mktemp("standin-plan"))
    root.apply()
    return root


def function_addresses() -> list[tuple[str, str]]:
    return [(SOURCES.format(fn.name), FUNCTIONS.format(fn.name)) for fn in topology.FUNCTIONS]


def test_the_applied_root_plans_no_changes(applied):
    changes = applied.plan()
    assert changes, "the plan lists no resources: the stand-in planned nothing"
    assert {a for a, actions in changes.items() if actions != ["no-op"]} == set()


def test_destroying_production_is_refused_by_the_data_guard(applied):
    """modules/keep in the real production root: `terraform destroy` stops at the plan."""
    result = applied.run("plan", "-destroy", "-input=false", "-refresh=false", PROJECT, check=False)
    assert result.returncode == 1
    assert "Instance cannot be destroyed" in result.stderr
    for name in ("database", "photos", "analytics"):
        assert f'module.keluhan.module.keep.terraform_data.guard["{name}"]' in result.stderr, name


def test_an_iam_only_change_replaces_no_source_object_and_redeploys_no_function(applied):
    applied.edit("modules/keluhan/iam.tf", *IAM_EDIT)
    path = applied.terraform_dir / "modules" / "keluhan" / "iam.tf"
    path.write_text(path.read_text(encoding="utf-8") + NEW_GRANT, encoding="utf-8")
    changes = applied.plan()
    # The IAM change itself is planned (the check cannot pass by planning nothing) ...
    log_writers = {a: c for a, c in changes.items() if "google_project_iam_member.log_writer[" in a}
    assert len(log_writers) == len(topology.FUNCTIONS)
    assert all(actions == ["delete", "create"] for actions in log_writers.values())
    assert changes["module.keluhan.google_project_iam_member.standin_extra"] == ["create"]
    # ... and nothing else: no source object, no function, no other resource.
    for source, function in function_addresses():
        assert changes[source] == ["no-op"], source
        assert changes[function] == ["no-op"], function
    changed = {a for a, actions in changes.items() if actions != ["no-op"]}
    assert changed == set(log_writers) | {"module.keluhan.google_project_iam_member.standin_extra"}


def test_a_module_level_depends_on_would_replace_every_source_object(applied):
    """The cause issue 24 removed, put back: the same IAM-only change now rebuilds everything."""
    applied.edit("modules/keluhan/main.tf", '  source        = "../function"\n',
                 '  source        = "../function"\n  depends_on    = [google_project_iam_member.log_writer]\n')
    changes = applied.plan()
    for source, function in function_addresses():
        assert sorted(changes[source]) == ["create", "delete"], source  # replaced (either order)
        assert sorted(changes[function]) == ["create", "delete"], function


HTTP = [fn.name for fn in topology.FUNCTIONS if fn.trigger == "http"]
INVOKER = 'module.keluhan.module.function["{}"].google_cloud_run_service_iam_member.invoker["{}"]'


def test_behind_the_api_gateway_nothing_is_public_and_each_public_function_has_its_gateway(tmp_path):
    """The production root planned from scratch with public_front = api_gateway."""
    root = StandInRoot(tmp_path)
    root.edit("environments/prod/main.tf", 'public_front = { kind = "all_users" }',
              'public_front = { kind = "api_gateway" }')
    planned = root.planned()
    invokers = {address: change for address, change in planned.items()
                if ".google_cloud_run_service_iam_member.invoker[" in address}
    assert invokers
    # The gateway account's member is known after apply only; no invoker is allUsers.
    assert "allUsers" not in [change["after"].get("member") for change in invokers.values()]
    for name in HTTP:
        assert INVOKER.format(name, "api_gateway") in planned, name
        assert INVOKER.format(name, "public") not in planned, name
        for rtype in ("google_api_gateway_api", "google_api_gateway_api_config", "google_api_gateway_gateway"):
            assert planned[f'module.keluhan.{rtype}.front["{name}"]']["actions"] == ["create"], (rtype, name)
        environment = planned[FUNCTIONS.format(name)]["after"]["service_config"][0]["environment_variables"]
        assert environment["KELUHAN_FORWARDED_AUTHORIZATION"] == "true", name
    assert planned["module.keluhan.google_service_account.gateway[0]"]["actions"] == ["create"]
    # (The documents name the functions' URIs, known after apply: test_terraform_core renders them.)


def test_without_the_gateway_the_public_functions_are_invoked_by_all_users(applied):
    planned = applied.planned()
    for name in HTTP:
        assert planned[INVOKER.format(name, "public")]["after"]["member"] == "allUsers", name
    assert not [a for a in planned if "google_api_gateway" in a]
