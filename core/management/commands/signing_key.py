"""Create a signing key file, or show the configured key's id and public key."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.evidence import generate_private_key, key_id, private_key_pem, public_key_pem
from core.signing import signer


class Command(BaseCommand):
    help = (
        "`signing_key create PATH` writes a new Ed25519 private key (PEM, mode 0600) for REGISTRY_SIGNING_KEY_FILE; "
        "`signing_key show` prints the configured key's id and public key."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="write a new private key to PATH (refuses to overwrite)")
        create.add_argument("path", type=Path)
        commands.add_parser("show", help="the configured key's id and public key (PEM)")

    def handle(self, *args, **options):
        if options["command"] == "show":
            current = signer()
            self.stdout.write(f"key id {current.key_id}\n{public_key_pem(current.public_key).decode()}")
            return
        path: Path = options["path"]
        if path.exists():
            raise CommandError(f"{path} exists: a signing key is never overwritten (rotate with a new file)")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = generate_private_key()
        # Created 0600 before any byte of the key is written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_key_pem(key))
        self.stdout.write(f"wrote {path}\nkey id {key_id(key.public_key())}\n")
        self.stdout.write(
            f"set REGISTRY_SIGNING_KEY_FILE={path} and restart; the key it replaces stays published, retired\n"
        )
