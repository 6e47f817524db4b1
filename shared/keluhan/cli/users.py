"""`keluhan users grant|revoke|list`: who acts as an SKPD, an operator or an intake channel."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from keluhan.cli import CliError, Commands
from keluhan.cli.ops import connection_options, use_emulators

if TYPE_CHECKING:
    from keluhan.adapters.users import FirebaseUsers


def register(commands: Commands) -> None:
    users = commands.add_parser("users", help="roles of Firebase users (custom claims)")
    sub = users.add_subparsers(dest="users_command", required=True)
    grant = sub.add_parser("grant", help="give a user a role")
    grant.add_argument("user", help="uid or e-mail")
    grant.add_argument("--role", required=True, choices=["warga", "skpd", "operator", "channel"])
    grant.add_argument("--skpd", help="the SKPD's assignee id, e.g. dinas-pu (with --role skpd)")
    grant.add_argument("--channel", help="the intake channel, e.g. call_center_112 (with --role channel)")
    grant.add_argument("--head", action="store_true",
                       help="the head of the SKPD (with --role skpd): told of escalations to the head")
    grant.add_argument("--rtrw-head", metavar="KODE_KELURAHAN",
                       help="a Smart RT/RW head (with --role warga): subscribed to this kelurahan by default, "
                            "e.g. 73.71.01.1001 (Kel. Bontorannu)")
    connection_options(grant)
    grant.set_defaults(func=_grant)
    revoke = sub.add_parser("revoke", help="take a user's role away (a citizen again)")
    revoke.add_argument("user", help="uid or e-mail")
    connection_options(revoke)
    revoke.set_defaults(func=_revoke)
    listing = sub.add_parser("list", help="users and their roles")
    listing.add_argument("--json", action="store_true")
    connection_options(listing)
    listing.set_defaults(func=_list)


def grant_claims(role: str, *, skpd: str | None, channel: str | None, head: bool = False,
                 rtrw_head: str | None = None) -> dict[str, str | bool]:
    """The claims for a role, checked against the known SKPDs, channels and kelurahan."""
    from typing import get_args

    from keluhan.domain.assignees import ASSIGNEES
    from keluhan.domain.report import Channel
    from keluhan.domain.workflow import Role, claims_for

    skpd_ids = frozenset(a.id for a in ASSIGNEES.values() if a.kind == "skpd")
    channels = frozenset(c for c in get_args(Channel) if c != "warga")
    try:
        return claims_for(Role(role), skpd=skpd, channel=channel, head=head, skpd_ids=skpd_ids,
                          channel_codes=channels, rtrw_head=rtrw_head,
                          kelurahan_codes=frozenset(_kelurahan_names()) if rtrw_head is not None else frozenset())
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _kelurahan_names() -> dict[str, str]:
    """kode → name of every kelurahan in the geo data in force."""
    from keluhan.geodata import geo_index_from_settings
    from keluhan.settings import get_settings

    return {area.kode: area.nama for area in geo_index_from_settings(get_settings()).kelurahan}


def _users(args: argparse.Namespace) -> FirebaseUsers:
    from keluhan.adapters.users import FirebaseUsers
    from keluhan.settings import get_settings

    use_emulators(args)
    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreDirectory, FirestoreRevocations

    project = get_settings().project_id
    db = firestore.Client(project=project)
    return FirebaseUsers(project, revocations=FirestoreRevocations(db), directory=FirestoreDirectory(db))


def _set(args: argparse.Namespace, claims: Mapping[str, str | bool]) -> int:
    from keluhan.adapters.users import UnverifiedEmail, UserNotFound

    try:
        users = _users(args)
        result = users.set_role(args.user, claims)
    except UserNotFound as exc:
        raise CliError(f"no user {exc}") from exc
    except UnverifiedEmail as exc:
        raise CliError(f"{exc}: e-mail not verified; staff roles go only to verified accounts "
                       "(or a configured identity provider)") from exc
    _keep_rtrw_default(result["uid"], result["claims"].get("rtrw_head"))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _keep_rtrw_default(uid: str, kelurahan_id: object) -> None:
    """A Smart RT/RW head is subscribed to their own kelurahan; without the claim, no longer."""
    from datetime import UTC, datetime

    from google.cloud import firestore

    from keluhan.adapters.firestore_store import FirestoreSubscriptions
    from keluhan.settings import get_settings
    from keluhan.usecases.subscriptions import keep_rtrw_default

    subscriptions = FirestoreSubscriptions(firestore.Client(project=get_settings().project_id))
    kode = kelurahan_id if isinstance(kelurahan_id, str) else None
    keep_rtrw_default(uid, kode, subscriptions=subscriptions, kelurahan=_kelurahan_names() if kode else {},
                      clock=lambda: datetime.now(UTC))


def _grant(args: argparse.Namespace) -> int:
    return _set(args, grant_claims(args.role, skpd=args.skpd, channel=args.channel, head=args.head,
                                   rtrw_head=args.rtrw_head))


def _revoke(args: argparse.Namespace) -> int:
    return _set(args, {})


def _list(args: argparse.Namespace) -> int:
    users = _users(args).list()
    for user in sorted(users, key=lambda u: u["email"] or u["uid"]):
        if args.json:
            print(json.dumps(user, ensure_ascii=False))
        else:
            role = user["claims"].get("role", "warga")
            scope = (user["claims"].get("skpd") or user["claims"].get("channel") or user["claims"].get("rtrw_head")
                     or "")
            print(f"{user['uid']:<30} {user['email'] or '-':<36} {role:<9} {scope}")
    return 0
