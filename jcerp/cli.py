"""Entry point of the ``jcerp`` console script; each tier adds its own subcommands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from edge_client.cli import add_edge_commands
    from jcerp.demo import add_demo_command
    from jcerp.tls import add_tls_commands
    from mobile.cli import add_mobile_command
    from server.cli import add_server_commands

    parser = argparse.ArgumentParser(prog="jcerp", description="Jiangcheng ERP 江城 ERP")
    commands = parser.add_subparsers(dest="command", required=True)
    add_server_commands(commands)
    add_edge_commands(commands)
    add_demo_command(commands)
    add_tls_commands(commands)
    add_mobile_command(commands)
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
