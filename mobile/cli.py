"""``jcerp mobile --home DIR``: open the tablet app on an enrolled device's replica.

The device is enrolled as any other (``jcerp edge --home DIR init …``); the app then works on
that replica, offline or not, and syncs in the background. Kivy is imported only when the
command runs, so the rest of ``jcerp`` works without it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_mobile(args: argparse.Namespace) -> int:
    from mobile.headless import prepare

    try:
        width, _, height = args.size.lower().partition("x")
        size = (int(width), int(height))
    except ValueError:
        print(f"error: --size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1280x800", file=sys.stderr)
        return 2
    prepare(headless=True if args.headless else None, size=size)
    from edge_client.client import EdgeClient
    from sync.errors import JcerpError

    try:
        client = EdgeClient(args.home)
        client.identity  # an unenrolled home has nothing to show
    except JcerpError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from mobile.app import TabletApp
    from mobile.tablet import Tablet

    try:
        TabletApp(Tablet(client), language=args.lang, background_sync=not args.no_sync).run()
    finally:
        client.close()
    return 0


def add_mobile_command(commands: argparse._SubParsersAction) -> None:
    mobile = commands.add_parser("mobile", help="the tablet app for warehouse and shop-floor staff (Kivy)")
    mobile.add_argument("--home", type=Path, default=Path(os.environ.get("JCERP_EDGE_HOME", "jcerp-edge")),
                        help="directory of an enrolled device's replica (default ./jcerp-edge or $JCERP_EDGE_HOME)")
    mobile.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN", help="language (default zh_CN)")
    mobile.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT (default 1280x800)")
    mobile.add_argument("--headless", action="store_true", help="render offscreen (no display needed)")
    mobile.add_argument("--no-sync", action="store_true", help="do not sync in the background (work stays queued)")
    mobile.set_defaults(handler=cmd_mobile)
