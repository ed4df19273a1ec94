"""The evidence command line: ``python -m common.evidence verify-export EXPORT.zip --key PUBLIC.pem
[--checkpoint EARLIER.json ...]``, and the same command as ``manage.py verify_export``.

Verifies an export zip offline (see ``common.evidence.export_check``): one line per check, then VERIFIED
(exit 0) or FAILED with the first reason (exit 1); unreadable arguments exit 2. Needs only this package and
PyCA ``cryptography``: no Django, no database, no server.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from common.evidence.export_check import verify_export_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The verify-export arguments, shared with ``manage.py verify_export``."""
    parser.add_argument("export", help="the export zip")
    parser.add_argument(
        "--key",
        action="append",
        required=True,
        metavar="PUBLIC.pem",
        help="a trusted Ed25519 public key (PEM), obtained apart from the export; repeat for rotated keys",
    )
    parser.add_argument(
        "--checkpoint",
        action="extend",
        nargs="+",
        default=[],
        metavar="EARLIER.json",
        help="checkpoints kept from earlier exports (their checkpoint.json): the trail must still extend each",
    )


def verify_export_command(export: str, keys: Sequence[str], checkpoints: Sequence[str], write) -> int:
    """Run the verification, ``write`` each line; 0 when verified, 1 when not, 2 when an argument is unreadable."""
    try:
        result = verify_export_files(export, keys, checkpoints)
    except ValueError as exc:
        write(f"error: {exc}")
        return 2
    for line in result.lines():
        write(line)
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m common.evidence", description="Verify the registry's signed evidence offline."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_arguments(commands.add_parser("verify-export", help="verify an export zip offline"))
    args = parser.parse_args(argv)
    return verify_export_command(args.export, args.key, args.checkpoint, print)
