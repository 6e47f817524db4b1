"""The Google provider's own schema, read from the `@cdktf/provider-google` package.

That package is generated from the provider's schema (`terraform providers schema -json`). Its
jsii assembly (`.jsii`) holds, for every resource, data source and the provider itself, a config
type whose properties are the arguments and nested blocks, optional or required. The Terraform
(snake_case) names come from the generated code's `...ToTerraform` mappings, which is what cdktf
writes into real Terraform JSON: `kms_key_name: cdktf.stringToTerraform(this._kmsKeyName)`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from keluhan.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "node_modules" / "@cdktf" / "provider-google"
# Every provider whose schema is checked: its package and the prefix of its Terraform types.
PACKAGES = {
    "google": (PACKAGE, "google"),
    "google-beta": (REPO_ROOT / "node_modules" / "@cdktf" / "provider-google-beta", "google"),
    "time": (REPO_ROOT / "node_modules" / "@cdktf" / "provider-time", "time"),
}
KINDS = {"cdktf.TerraformResource": "resource", "cdktf.TerraformDataSource": "data",
         "cdktf.TerraformProvider": "provider"}
DOC_LINK = re.compile(r"hashicorp/[\w-]+/[\d.]+/docs/(resources|data-sources)/(\w+)")
# `kms_key_name: cdktf.stringToTerraform(this._kmsKeyName)`, `bucket: ...(struct.bucket)`
MAPPING = re.compile(r"^\s+(\w+): .*?\b(?:this\._|struct\.)(\w+)\b", re.M)
TO_TERRAFORM = re.compile(r"^function (\w+)ToTerraform\(struct\) \{\n(.*?)^\}", re.M | re.S)
SYNTHESIZE = re.compile(r"^    synthesizeAttributes\(\) \{\n(.*?)^    \}", re.M | re.S)


@dataclass
class Block:
    """One resource body or nested block: its arguments and blocks, each marked required or not."""

    arguments: dict[str, bool] = field(default_factory=dict)
    blocks: dict[str, Block] = field(default_factory=dict)
    required_blocks: set[str] = field(default_factory=set)


def provider_version(provider: str = "google") -> str:
    """The provider release the package was generated from (e.g. 6.50.0)."""
    package = PACKAGES[provider][0]
    return json.loads((package / "package.json").read_text())["cdktf"]["provider"]["version"]


@cache
def _assembly(provider: str = "google") -> dict:
    """The jsii assembly (about 100 MB for google): parsed once per test session."""
    with (PACKAGES[provider][0] / ".jsii").open(encoding="utf-8") as handle:
        return json.load(handle)["types"]


@cache
def _classes(provider: str = "google") -> dict[tuple[str, str], dict]:
    """(kind, Terraform type) → the generated class: ("resource", "google_pubsub_topic") → …"""
    found = {}
    prefix = PACKAGES[provider][1]
    for jsii_type in _assembly(provider).values():
        kind = KINDS.get(jsii_type.get("base", ""))
        if kind == "provider":
            found[(kind, provider)] = jsii_type
        elif kind:
            link = DOC_LINK.search(jsii_type["docs"]["summary"])
            name = link.group(2)  # google-beta's links carry the prefix, google's and time's do not
            found[(kind, name if name.startswith(f"{prefix}_") else f"{prefix}_{name}")] = jsii_type
    return found


def types(kind: str, provider: str = "google") -> set[str]:
    """Every Terraform type of one kind ("resource", "data") the provider has."""
    return {name for k, name in _classes(provider) if k == kind}


@cache
def schema(kind: str, type_name: str, provider: str = "google") -> Block | None:
    """The arguments and nested blocks of one resource, data source or provider; None if unknown."""
    cls = _classes(provider).get((kind, type_name))
    if cls is None:
        return None
    package = PACKAGES[provider][0]
    source = package / "lib" / Path(cls["locationInModule"]["filename"]).parent.name / "index.js"
    names = _terraform_names(source.read_text(encoding="utf-8"))
    config = cls["initializer"]["parameters"][-1]["type"]["fqn"]
    return _block(config, names, names[cls["name"]], provider)


def _terraform_names(code: str) -> dict[str, dict[str, str]]:
    """Per generated type name, its properties' Terraform names: {"Topic": {"kmsKeyName": …}}."""
    names = {}
    for function, body in TO_TERRAFORM.findall(code):
        names[function[0].upper() + function[1:]] = {camel: snake for snake, camel in MAPPING.findall(body)}
    classes = re.findall(r"^class (\w+) extends cdktf\.Terraform(?:Resource|DataSource|Provider) ",
                         code, re.M)
    (cls,) = classes
    (body,) = SYNTHESIZE.findall(code)
    names[cls] = {camel: snake for snake, camel in MAPPING.findall(body)}
    return names


def _block(fqn: str, names: dict[str, dict[str, str]], own: dict[str, str], provider: str) -> Block:
    block = Block()
    for prop in _assembly(provider)[fqn].get("properties", []):
        if prop["name"] not in own:
            raise LookupError(f"{fqn}.{prop['name']}: no Terraform name in the generated code")
        name, required = own[prop["name"]], not prop.get("optional", False)
        nested = _nested_type(prop["type"], provider)
        if nested is None:
            block.arguments[name] = required
            continue
        struct = _assembly(provider)[nested]["name"]
        block.blocks[name] = _block(nested, names, names[struct], provider)
        if required:
            block.required_blocks.add(name)
    return block


def _nested_type(jsii_type: dict, provider: str) -> str | None:
    """The struct of a nested block (single, or a list of them), None for a plain argument."""
    if "fqn" in jsii_type and _assembly(provider).get(jsii_type["fqn"], {}).get("kind") == "interface":
        return jsii_type["fqn"]
    for option in jsii_type.get("union", {}).get("types", []):
        element = option.get("collection", {}).get("elementtype", {})
        if "fqn" in element and _assembly(provider).get(element["fqn"], {}).get("kind") == "interface":
            return element["fqn"]
    return None
