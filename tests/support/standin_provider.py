"""A stand-in Terraform provider: plugin protocol 6 over gRPC, no cloud behind it.

Terraform core needs a provider binary for its plan: the schema, a planned state per resource,
an applied state. No real provider can be downloaded here, so this process plays each provider
the configuration names (google, google-beta, time, archive), with a schema derived from the
configuration itself (tests/unit/test_terraform_plan.py writes it): every argument, and every
attribute name the configuration reads anywhere, is an optional, computed attribute of type
`dynamic`; nested blocks are lists. Its behaviour is what core's checks need and no more:

- plan: a new resource's unset attributes are unknown (computed); an existing one's planned state
  is core's proposed state, and every attribute whose value changes forces replacement (the
  strictest provider: a source object or function that plans anything but no-op shows up);
- apply: unknowns become fabricated strings; read and upgrade return the state as stored;
- data sources: computed attributes get values derived from the configuration (an archive's
  `output_md5` stays the same while its configuration does).

Run as `python -m tests.support.standin_provider` by go-plugin (Terraform's plugin client): it
prints the handshake line and serves TLS with the client certificate Terraform passes
(PLUGIN_CLIENT_CERT, AutoMTLS).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import msgpack

# cty values as msgpack decodes them (str, int, float, bool, None, lists, dicts), with UNKNOWN
# and Dyn for unknown and dynamically typed values; cty types as their JSON ("string", ["list", …]).
Value = Any  # Any: a cty value of any type, decided by the configuration at run time
CtyType = Any  # Any: a cty type as JSON, a string or nested lists and objects
Block = dict[str, Any]  # Any: {"attributes": [names], "blocks": {name: Block}}, read from JSON
Fields = dict[int, list[Any]]  # Any: a protobuf field's values, ints (varints) or bytes

MAGIC_COOKIE = ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
SCHEMA_ENV = "KELUHAN_STANDIN_SCHEMA"  # the JSON the test writes: {provider: {resources, data, provider}}
NAME_ENV = "KELUHAN_STANDIN_PROVIDER"  # which provider this process plays
DYNAMIC = b'"dynamic"'


# -- protobuf wire format, just what the messages below use ------------------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, value: bytes | str | int | bool) -> bytes:
    if isinstance(value, bool | int):
        return _varint(number << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def parse(data: bytes) -> Fields:
    """Field number → its values (ints for varints, bytes for length-delimited)."""
    fields: Fields = {}
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 2:
            length, i = _read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7


def first(fields: Fields, number: int) -> bytes:
    value: bytes = fields.get(number, [b""])[0]
    return value


# -- cty values in msgpack, for a schema whose attributes are all dynamic -----------------------

class Unknown:
    def __repr__(self) -> str:
        return "Unknown"


UNKNOWN = Unknown()


@dataclass
class Dyn:
    """A value of a dynamic attribute: its cty type (JSON) and the value."""

    type: CtyType
    value: Value


def _is_unknown(raw: Value) -> bool:
    return isinstance(raw, msgpack.ExtType)


def decode(raw: Value, ty: CtyType) -> Value:
    if _is_unknown(raw):
        return UNKNOWN
    if raw is None:
        return None
    if ty == "dynamic":
        inner = json.loads(raw[0])
        return Dyn(inner, decode(raw[1], inner))
    if isinstance(ty, list):
        kind, element = ty
        if kind in ("list", "set"):
            return [decode(item, element) for item in raw]
        if kind == "map":
            return {k: decode(v, element) for k, v in raw.items()}
        if kind == "object":
            return {k: decode(raw.get(k), element[k]) for k in element}
        if kind == "tuple":
            return [decode(item, t) for item, t in zip(raw, element, strict=True)]
    return raw  # string, number, bool


def encode(value: Value, ty: CtyType) -> Value:
    if value is UNKNOWN:
        return msgpack.ExtType(0, b"\x00")
    if value is None:
        return None
    if ty == "dynamic":
        return [json.dumps(value.type).encode(), encode(value.value, value.type)]
    if isinstance(ty, list):
        kind, element = ty
        if kind in ("list", "set"):
            return [encode(item, element) for item in value]
        if kind == "map":
            return {k: encode(v, element) for k, v in value.items()}
        if kind == "object":
            return {k: encode(value.get(k), element[k]) for k in element}
        if kind == "tuple":
            return [encode(item, t) for item, t in zip(value, element, strict=True)]
    return value


def implied_type(block: Block) -> CtyType:
    """The cty object type of a block of the derived schema. A list of nested blocks whose
    attributes are dynamic is itself dynamic (a tuple of objects), as Terraform implies it."""
    attributes: dict[str, object] = {name: "dynamic" for name in block["attributes"]}
    attributes |= {name: "dynamic" for name in block["blocks"]}
    return ["object", attributes]


def _items(value: Value) -> list[Value]:
    """The objects of a nested block list (a Dyn tuple), or none."""
    return list(value.value) if isinstance(value, Dyn) and isinstance(value.value, list) else []


def unpack(dynamic_value: bytes, ty: CtyType) -> Value:
    fields = parse(dynamic_value)
    if 1 in fields:
        return decode(msgpack.unpackb(fields[1][0], raw=False, strict_map_key=False), ty)
    if 2 in fields:
        raise ValueError("JSON dynamic values are not expected here")
    return None


def pack(value: Value, ty: CtyType) -> bytes:
    return field(1, msgpack.packb(encode(value, ty), use_bin_type=True))


# -- the provider's behaviour -------------------------------------------------------------------

def fabricate(seed: str) -> Dyn:
    return Dyn("string", f"standin-{hashlib.sha256(seed.encode()).hexdigest()[:12]}")


def known_json(value: Value) -> str:
    def plain(v: Value) -> Value:
        if isinstance(v, Dyn):
            return plain(v.value)
        if v is UNKNOWN:
            return "<unknown>"
        if isinstance(v, list):
            return [plain(i) for i in v]
        if isinstance(v, dict):
            return {k: plain(i) for k, i in v.items()}
        return v
    return json.dumps(plain(value), sort_keys=True)


def unknown_where_unset(value: dict[str, Value], config: dict[str, Value] | None, block: Block) -> dict[str, Value]:
    """A new object's plan: every attribute the configuration leaves unset is computed (unknown)."""
    planned = dict(value)
    for name in block["attributes"]:
        if config is None or config.get(name) is None:
            planned[name] = UNKNOWN
    for name, nested in block["blocks"].items():
        items, configured = planned.get(name), _items((config or {}).get(name))
        if isinstance(items, Dyn):
            planned[name] = Dyn(items.type, [
                unknown_where_unset(item, configured[i] if i < len(configured) else None, nested)
                for i, item in enumerate(_items(items))])
    return planned


def filled(value: dict[str, Value], config: dict[str, Value] | None, block: Block, seed: str) -> dict[str, Value]:
    """An applied object: unknowns become the configuration's value, else a fabricated one."""
    out = dict(value)
    for name in block["attributes"]:
        if out.get(name) is UNKNOWN:
            configured = (config or {}).get(name)
            out[name] = configured if configured not in (None, UNKNOWN) else fabricate(f"{seed}.{name}")
    for name, nested in block["blocks"].items():
        items, configured = out.get(name), _items((config or {}).get(name))
        if isinstance(items, Dyn):
            out[name] = Dyn(items.type, [
                filled(item, configured[i] if i < len(configured) else None, nested, f"{seed}.{name}[{i}]")
                for i, item in enumerate(_items(items))])
    return out


class Provider:
    def __init__(self, schema: dict[str, Any]):  # Any: the derived schema's JSON
        self.schema = schema

    def block(self, kind: str, type_name: str) -> Block:
        found: Block = self.schema[kind][type_name]
        return found

    # Schema messages

    def _block_message(self, block: Block) -> bytes:
        out = b""
        for name in sorted(block["attributes"]):
            out += field(2, field(1, name) + field(2, DYNAMIC) + field(5, True) + field(6, True))
        for name in sorted(block["blocks"]):
            nested = self._block_message(block["blocks"][name])
            out += field(3, field(1, name) + field(2, nested) + field(3, 2))  # LIST
        return out

    def _schema_message(self, block: Block) -> bytes:
        return field(2, self._block_message(block))

    def GetProviderSchema(self, request: bytes) -> bytes:  # noqa: N802
        out = field(1, self._schema_message(self.schema["provider"]))
        for number, kind in ((2, "resources"), (3, "data")):
            for type_name, block in sorted(self.schema[kind].items()):
                out += field(number, field(1, type_name) + field(2, self._schema_message(block)))
        return out

    def empty(self, request: bytes) -> bytes:
        return b""

    # Managed resources

    def UpgradeResourceState(self, request: bytes) -> bytes:  # noqa: N802
        raw = parse(first(parse(request), 3))
        return field(1, field(2, first(raw, 1)))  # the stored JSON is already in the current schema

    def ReadResource(self, request: bytes) -> bytes:  # noqa: N802
        fields = parse(request)
        return field(1, first(fields, 2)) + field(3, first(fields, 3))

    def PlanResourceChange(self, request: bytes) -> bytes:  # noqa: N802
        fields = parse(request)
        type_name = first(fields, 1).decode()
        block = self.block("resources", type_name)
        ty = implied_type(block)
        prior = unpack(first(fields, 2), ty)
        proposed = unpack(first(fields, 3), ty)
        config = unpack(first(fields, 4), ty)
        if proposed is None:  # destroy
            return field(1, pack(None, ty)) + field(3, first(fields, 5))
        replace = b""
        if prior is None:
            planned = unknown_where_unset(proposed, config, block)
        else:
            planned = proposed
            for name in sorted(set(block["attributes"]) | set(block["blocks"])):
                if known_json(prior.get(name)) != known_json(planned.get(name)):
                    replace += field(2, field(1, field(1, name)))
        return field(1, pack(planned, ty)) + replace + field(3, first(fields, 5))

    def ApplyResourceChange(self, request: bytes) -> bytes:  # noqa: N802
        fields = parse(request)
        type_name = first(fields, 1).decode()
        block = self.block("resources", type_name)
        ty = implied_type(block)
        planned = unpack(first(fields, 3), ty)
        if planned is None:
            return field(1, pack(None, ty))
        config = unpack(first(fields, 4), ty)
        seed = f"{type_name}:{known_json(config)}"
        return field(1, pack(filled(planned, config, block, seed), ty)) + field(2, first(fields, 5))

    # Data sources

    def ReadDataSource(self, request: bytes) -> bytes:  # noqa: N802
        fields = parse(request)
        type_name = first(fields, 1).decode()
        block = self.block("data", type_name)
        ty = implied_type(block)
        config = unpack(first(fields, 2), ty)
        seed = f"{type_name}:{known_json(config)}"
        state = filled(unknown_where_unset(config, config, block), config, block, seed)
        return field(1, pack(state, ty))


EMPTY_METHODS = ("ValidateProviderConfig", "ValidateResourceConfig", "ValidateDataResourceConfig",
                 "ConfigureProvider", "StopProvider")
METHODS = ("GetProviderSchema", "UpgradeResourceState", "ReadResource", "PlanResourceChange",
           "ApplyResourceChange", "ReadDataSource")


def handlers(provider: Provider) -> list[Any]:  # Any: grpc ships no type information
    def unary(function: Callable[[bytes], bytes]) -> Any:  # Any: grpc's RpcMethodHandler, untyped
        def call(request: bytes, context: Any) -> bytes:  # Any: grpc.ServicerContext, untyped
            try:
                return function(request)
            except Exception as exc:  # a stand-in bug: tell Terraform, with the trace in its log
                import traceback

                traceback.print_exc(file=sys.stderr)
                context.abort(grpc.StatusCode.INTERNAL, f"stand-in provider: {exc!r}")
                raise
        return grpc.unary_unary_rpc_method_handler(call)

    methods = {name: unary(getattr(provider, name)) for name in METHODS}
    methods |= {name: unary(provider.empty) for name in EMPTY_METHODS}
    health = {"Check": grpc.unary_unary_rpc_method_handler(lambda request, context: field(1, 1))}  # SERVING
    # go-plugin ends a plugin with GRPCController.Shutdown, then waits 2 s before killing it.
    controller = {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown)}
    return [grpc.method_handlers_generic_handler("tfplugin6.Provider", methods),
            grpc.method_handlers_generic_handler("grpc.health.v1.Health", health),
            grpc.method_handlers_generic_handler("plugin.GRPCController", controller)]


def shutdown(request: bytes, context: Any) -> bytes:  # Any: grpc.ServicerContext, untyped
    import threading

    threading.Timer(0.05, lambda: os._exit(0)).start()  # after the answer is sent
    return b""


def server_certificate() -> tuple[bytes, bytes, bytes]:
    """(key PEM, certificate PEM, certificate DER): self-signed for localhost, as go-plugin expects."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                         content_commitment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


def main() -> None:
    if os.environ.get(MAGIC_COOKIE[0]) != MAGIC_COOKIE[1]:
        sys.exit("This is a Terraform plugin (a stand-in provider for tests); Terraform starts it.")
    schema = json.loads(Path(os.environ[SCHEMA_ENV]).read_text())[os.environ[NAME_ENV]]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(handlers(Provider(schema)))
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "").encode()
    address = "127.0.0.1:0"
    line_cert = ""
    if client_cert:
        key_pem, cert_pem, cert_der = server_certificate()
        # Terraform's client certificate is ECDSA P-521, a signature gRPC's TLS (BoringSSL) does not
        # verify, so the client's certificate is not asked for: a test process on the loopback.
        credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
        port = server.add_secure_port(address, credentials)
        line_cert = "|" + base64.b64encode(cert_der).decode().rstrip("=")
    else:
        port = server.add_insecure_port(address)
    server.start()
    print(f"1|6|tcp|127.0.0.1:{port}|grpc{line_cert}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop(0)


if __name__ == "__main__":
    main()
