"""``jcerp edge …``: enroll a device, sign users in, run inventory operations, sync, and work the inbox.

Operations take what people type or scan (SKU, barcode, location code) and resolve it in the
local replica, so they work offline. They record the user signed in on the device
(``sign-in``) unless ``--user`` names another. A password is never a command-line argument
(it would be in the shell history and the process list): it is typed at a prompt, or read
from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

import httpx

from edge_client.client import EdgeClient, SyncReport
from edge_client.lookup import find_item, find_location, on_hand_rows
from edge_client.transport import ServerRefused, Unreachable, server_verification
from erp.inventory.stock_count import Count
from erp.inventory.stock_move import Adjust, Issue, Receive, Reverse, Transfer
from sync.errors import JcerpError
from sync.ids import new_id


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _progress_bar():
    from tqdm import tqdm

    bar = tqdm(total=0, unit="rows", desc="bootstrap", disable=not sys.stderr.isatty())

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def _print_report(report: SyncReport) -> None:
    print(f"pushed {report.pushed} (applied {report.applied}, rejected {report.rejected}, "
          f"already applied {report.duplicates}); pulled {report.pages} page(s); "
          f"bootstrapped {report.bootstrapped_rows} rows; pending {report.pending}")


def cmd_init(args: argparse.Namespace) -> int:
    try:
        return _init(args)
    except (JcerpError, ServerRefused, Unreachable, httpx.HTTPError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _read_ca(path: Path | None, server: str) -> str | None:
    """The CA certificate to pin, read and checked before anything goes over the network."""
    if path is None:
        return None
    try:
        ca_pem = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise JcerpError(f"cannot read the CA certificate {path}: {getattr(error, 'strerror', None) or error}",
                         code="edge.bad_ca") from None
    try:
        server_verification(server, ca_pem)
    except ValueError as error:
        raise JcerpError(f"{path}: {error}", code="edge.bad_ca") from None
    return ca_pem


def _init(args: argparse.Namespace) -> int:
    ca_pem = _read_ca(args.ca, args.server)
    # The server takes the site's code or id, so enrolling needs no HQ account.
    client = EdgeClient.enroll(args.home, server_url=args.server, site_id=args.site, device_name=args.name,
                               enrollment_code=args.code, ca_pem=ca_pem)
    print(f"enrolled device {client.identity.device_id} for site {client.identity.site_id}")
    bar, update = _progress_bar()
    with bar:
        _print_report(client.sync_once(progress=update))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")  # the line's end, not spaces someone chose
    else:
        password = getpass.getpass(f"password for {args.username}: ")
    if not password:
        raise JcerpError("no password given", code="edge.password_missing")
    return password


def cmd_sign_in(client: EdgeClient, args: argparse.Namespace) -> int:
    user = client.sign_in(args.username, _read_password(args))
    how = (f"checked offline by this device (it may do so until {user.valid_until})" if user.offline
           else "checked by headquarters")
    print(f"signed in as {user.display_name} ({user.username}), roles {', '.join(user.roles) or '-'}; {how}")
    return 0


def cmd_sign_out(client: EdgeClient, args: argparse.Namespace) -> int:
    username = client.sign_out()
    print(f"signed out {username}" if username else "nobody was signed in")
    return 0


def cmd_whoami(client: EdgeClient, args: argparse.Namespace) -> int:
    user = client.current_user()
    if user is None:
        print("nobody is signed in on this device")
        return 1
    for key, value in (("username", user.username), ("display_name", user.display_name), ("user_id", user.user_id),
                       ("site_id", user.site_id or "(every site)"), ("roles", ", ".join(user.roles)),
                       ("permissions", ", ".join(sorted(user.grants))), ("signed_in_at", user.signed_in_at),
                       ("checked", "offline, by this device" if user.offline else "by headquarters"),
                       ("offline_sign_in_until", user.valid_until)):
        print(f"{key:22} {value}")
    return 0


def cmd_status(client: EdgeClient, args: argparse.Namespace) -> int:
    status = client.status()
    for key, value in vars(status).items():
        print(f"{key:26} {value}")
    return 0


def cmd_sync(client: EdgeClient, args: argparse.Namespace) -> int:
    if not args.watch:
        bar, update = _progress_bar()
        with bar:
            _print_report(client.sync_once(progress=update))
        return 0
    from edge_client.runner import SyncRunner

    runner = SyncRunner(client, on_report=_print_report)
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop()
    if runner.last_error:
        print(f"sync stopped: {runner.last_error}", file=sys.stderr)
        return 1
    return 0


def cmd_verify(client: EdgeClient, args: argparse.Namespace) -> int:
    """Sync, then compare the replica's fingerprints with the server's. Exit 0 only on a match."""
    for _ in range(3):  # someone else's change between our pull and the server's reading: pull again
        client.sync_once()
        report = client.verify()
        if report.comparable:
            break
    if not report.comparable:
        print(f"not comparable: {report.pending} mutation(s) pending, replica at version {report.local_cursor}, "
              f"server at {report.server_version}; sync and try again", file=sys.stderr)
        return 1
    for name in sorted(report.local.keys() | report.server.keys()):
        local, server = report.local.get(name), report.server.get(name)
        verdict = "ok" if local == server else "DIFFERS"
        print(f"{name:24} {verdict:8} rows {local.rows if local else '-'} here, {server.rows if server else '-'} on the server")
    if report.differing:
        print(f"the replica differs from the server in: {', '.join(report.differing)}", file=sys.stderr)
        return 1
    print(f"the replica matches the server at version {report.server_version}")
    return 0


MOVE_MUTATIONS = {Receive: "inventory.receive", Issue: "inventory.issue", Adjust: "inventory.adjust",
                  Count: "inventory.count"}


def _item_location(client: EdgeClient, item: str, location: str) -> tuple[str, str]:
    with client.engine.begin() as conn:
        return find_item(conn, item).id, find_location(conn, location, client.identity.site_id).id


def _at_location(build, describe):
    """A command for one item at one location: resolve both locally, build the arguments, run."""

    def command(client: EdgeClient, a: argparse.Namespace) -> int:
        item_id, location_id = _item_location(client, a.item, a.location)
        args = build(a, item_id, location_id)
        seq = client.run(MOVE_MUTATIONS[type(args)], args, user=a.user)
        print(f"{describe(a)} (mutation #{seq}, pending sync)")
        return 0

    return command


cmd_receive = _at_location(
    lambda a, item, location: Receive(new_id(), item, location, a.qty, _now(), a.ref, lot_no=a.lot,
                                      expires_on=a.expires, serial_no=a.serial),
    lambda a: f"received {a.qty} × {a.item} at {a.location}")
cmd_issue = _at_location(
    lambda a, item, location: Issue(new_id(), item, location, a.qty, _now(), a.ref, lot_no=a.lot,
                                    serial_no=a.serial),
    lambda a: f"issued {a.qty} × {a.item} from {a.location}")
cmd_adjust = _at_location(
    lambda a, item, location: Adjust(new_id(), item, location, a.qty, _now(), a.reason),
    lambda a: f"adjusted {a.item} at {a.location} by {a.qty}")
cmd_count = _at_location(
    lambda a, item, location: Count(new_id(), item, location, a.counted, _now()),
    lambda a: f"counted {a.counted} × {a.item} at {a.location}")


def cmd_transfer(client: EdgeClient, a: argparse.Namespace) -> int:
    item_id, source = _item_location(client, a.item, a.source)
    _, target = _item_location(client, a.item, a.target)
    seq = client.run("inventory.transfer", Transfer(new_id(), new_id(), new_id(), item_id, source, target, a.qty,
                                                    _now(), a.ref), user=a.user)
    print(f"moved {a.qty} × {a.item} from {a.source} to {a.target} (mutation #{seq}, pending sync)")
    return 0


def cmd_reverse(client: EdgeClient, a: argparse.Namespace) -> int:
    seq = client.run("inventory.reverse", Reverse(new_id(), a.move, _now(), a.reason), user=a.user)
    print(f"reversed move {a.move} (mutation #{seq}, pending sync)")
    return 0


def cmd_onhand(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        rows = on_hand_rows(conn, client.identity.site_id)
    for sku, location, quantity in rows:
        print(f"{sku:20} {location:16} {quantity:>14}")
    return 0


def cmd_inbox(client: EdgeClient, a: argparse.Namespace) -> int:
    entries = client.inbox()
    if not entries:
        print("inbox empty")
    for entry in entries:
        print(f"[{entry.kind}] {entry.id}  {entry.title}\n    {entry.code}: {entry.message}\n    {entry.details}")
    return 0


def cmd_discard(client: EdgeClient, a: argparse.Namespace) -> int:
    client.discard(a.id)
    print("discarded; the server will close it at the next sync")
    return 0


def cmd_resubmit(client: EdgeClient, a: argparse.Namespace) -> int:
    changes = dict(pair.split("=", 1) for pair in a.set)
    seq = client.resubmit(a.id, changes, user=a.user)
    print(f"resubmitted as mutation #{seq}")
    return 0


def cmd_ack(client: EdgeClient, a: argparse.Namespace) -> int:
    client.acknowledge(a.id)
    print("acknowledged")
    return 0


def _with_client(command):
    def run(args: argparse.Namespace) -> int:
        try:
            client = EdgeClient(args.home)
        except JcerpError as error:  # e.g. a device that wiped itself when HQ revoked it
            print(f"error: {error}", file=sys.stderr)
            return 2
        try:
            return command(client, args)
        except (JcerpError, ServerRefused, Unreachable) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        finally:
            client.close()

    return run


def add_edge_commands(commands: argparse._SubParsersAction) -> None:
    edge = commands.add_parser("edge", help="a device's local replica and sync")
    edge.add_argument("--home", type=Path, default=Path(os.environ.get("JCERP_EDGE_HOME", "jcerp-edge")),
                      help="directory of the local replica (default ./jcerp-edge or $JCERP_EDGE_HOME)")
    sub = edge.add_subparsers(dest="edge_command", required=True)

    init = sub.add_parser("init", help="enroll this device for a site and download its data")
    init.add_argument("--server", required=True)
    init.add_argument("--site", required=True, help="site code or id")
    init.add_argument("--name", required=True, help="device name")
    init.add_argument("--code", required=True, help="one-time enrollment code from HQ (fixes site and role)")
    init.add_argument("--ca", type=Path, metavar="FILE",
                      help="pin this CA certificate (PEM, from `jcerp tls init-ca`) for an https:// server; "
                           "without it an https:// server is checked against the system trust store")
    init.set_defaults(handler=cmd_init)

    sign_in = sub.add_parser("sign-in", help="sign a user in on this shared device (offline too, after a first "
                                             "sign-in with the network)")
    sign_in.add_argument("username", help="an HQ user name")
    sign_in.add_argument("--password-stdin", action="store_true",
                         help="read the password from the first line of standard input instead of a prompt")
    sign_in.set_defaults(handler=_with_client(cmd_sign_in))
    sub.add_parser("sign-out", help="sign the current user out of this device").set_defaults(
        handler=_with_client(cmd_sign_out))
    sub.add_parser("whoami", help="who is signed in on this device, and what they may do").set_defaults(
        handler=_with_client(cmd_whoami))

    sub.add_parser("status", help="pending work, cursor, last sync, inbox size").set_defaults(
        handler=_with_client(cmd_status))
    sync = sub.add_parser("sync", help="sync once, or keep syncing with --watch")
    sync.add_argument("--watch", action="store_true", help="stay connected; back off while the server is away")
    sync.set_defaults(handler=_with_client(cmd_sync))
    sub.add_parser("verify", help="sync, then check the replica row for row against the server's fingerprints"
                   ).set_defaults(handler=_with_client(cmd_verify))

    def operation(name: str, help_text: str, handler, *fields: tuple[str, dict]) -> None:
        parser = sub.add_parser(name, help=help_text)
        for flag, options in fields:
            parser.add_argument(flag, **options)
        parser.add_argument("--user", help="who is acting on a shared device (an HQ user name; checked by the server); "
                                           "default: the user signed in on this device")
        parser.set_defaults(handler=_with_client(handler))

    item = ("--item", {"required": True, "help": "SKU, barcode or id"})
    location = ("--location", {"required": True, "help": "location code or id"})
    qty = ("--qty", {"required": True, "type": _decimal})
    ref = ("--ref", {"default": None})
    lot = ("--lot", {"default": None, "help": "lot (批次) number, for lot-tracked items"})
    serial = ("--serial", {"default": None, "help": "serial number, for serial-tracked items (one unit a move)"})
    expires = ("--expires", {"default": None, "type": date.fromisoformat, "metavar": "YYYY-MM-DD",
                             "help": "the lot's expiry printed on the goods"})
    operation("receive", "goods arrived", cmd_receive, item, location, qty, ref, lot, expires, serial)
    operation("issue", "goods left", cmd_issue, item, location, qty, ref, lot, serial)
    operation("transfer", "move goods between locations", cmd_transfer, item,
              ("--from", {"dest": "source", "required": True}), ("--to", {"dest": "target", "required": True}), qty, ref)
    operation("adjust", "signed correction with a reason", cmd_adjust, item, location, qty,
              ("--reason", {"required": True}))
    operation("count", "record a counted quantity", cmd_count, item, location,
              ("--counted", {"required": True, "type": _decimal}))
    operation("reverse", "reverse a stock move", cmd_reverse, ("--move", {"required": True}),
              ("--reason", {"required": True}))

    sub.add_parser("onhand", help="on-hand in this site, as this device sees it").set_defaults(
        handler=_with_client(cmd_onhand))
    sub.add_parser("inbox", help="rejections, conflicts and local errors").set_defaults(handler=_with_client(cmd_inbox))
    discard = sub.add_parser("discard", help="discard a rejected mutation")
    discard.add_argument("id")
    discard.set_defaults(handler=_with_client(cmd_discard))
    resubmit = sub.add_parser("resubmit", help="resubmit a rejected mutation, optionally with changes")
    resubmit.add_argument("id")
    resubmit.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    resubmit.add_argument("--user", help="who is acting; default: the user signed in on this device")
    resubmit.set_defaults(handler=_with_client(cmd_resubmit))
    ack = sub.add_parser("ack", help="acknowledge a field conflict")
    ack.add_argument("id")
    ack.set_defaults(handler=_with_client(cmd_ack))

    # Each area's commands live in their own file, which imports this one's helpers: import late.
    from edge_client import cli_inventory, cli_lots, cli_manufacturing, cli_purchasing, cli_quality, cli_sales

    for add_commands in (cli_lots.add_lot_commands, cli_purchasing.add_purchasing_commands,
                         cli_manufacturing.add_manufacturing_commands, cli_inventory.add_inventory_commands,
                         cli_sales.add_sales_commands, cli_quality.add_quality_commands):
        add_commands(sub)
