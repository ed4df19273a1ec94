"""The offline verifier of an export zip: nothing but the zip, the trusted public key(s) and, optionally, the
checkpoints an auditor kept from earlier exports. No server, no database, no Django.

Checks, each reported on its own line (a check whose input is unusable is reported as not checked):

1. manifest signature: manifest.dsse.json verifies with a trusted key and its payload is manifest.json's bytes;
2. manifest: readable, and the registry's own verification of the whole chain at export time held;
3. files: every file the manifest lists is there with its SHA-256 and size, and no other file is;
4. checkpoint: checkpoint.json verifies with a trusted key and is the one the manifest names;
5. audit chain: every exported event's hash recomputed from its content (``common.evidence.auditlog``, the
   definition the registry hashes with), consecutive events linked by ``prev_hash``;
6. inclusion: the batch proof puts exactly those events (by their recomputed hashes) under the checkpoint's root;
7. per earlier checkpoint: signed by a trusted key, of the same log, and the export's trail extends it (equal
   roots at equal sizes, else the consistency proof the export carries from that size). A checkpoint newer
   than the export's, or one the export carries no proof from, fails: what cannot be shown is not verified.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from common.evidence import export_layout as layout
from common.evidence.auditlog import GENESIS_HASH, event_hash, event_leaf, is_chain_hash
from common.evidence.checkpoint import Checkpoint, verify_checkpoint
from common.evidence.dsse import verify_envelope
from common.evidence.errors import Reason, SigningKeyError, VerificationError
from common.evidence.export_events import csv_events, json_events
from common.evidence.keys import key_id, load_public_key
from common.evidence.merkle import verify_batch_inclusion, verify_consistency

# Metadata files are read whole; nothing of ours comes near this, a hostile zip may.
_MAX_METADATA_BYTES = 256 * 1024 * 1024


class _NotChecked(Exception):
    """A check's input is unusable because of an earlier failure: reported, not counted as a verdict."""


@dataclass(frozen=True)
class Check:
    """One line of the verdict: ``ok`` True (held), False (failed, with ``reason``) or None (not checked)."""

    name: str
    ok: bool | None
    detail: str
    reason: str | None = None

    def line(self) -> str:
        status = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{status}  {self.name}: {self.detail}" + (f" [{self.reason}]" if self.reason else "")


@dataclass
class ExportVerification:
    """Every check's outcome; ``ok`` only when every check ran and held."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok is True for check in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((check for check in self.checks if check.ok is not True), None)

    def lines(self) -> list[str]:
        """One line per check, then ``VERIFIED`` or ``FAILED: <the first failing check and why>``."""
        failure = self.first_failure
        verdict = "VERIFIED" if failure is None else f"FAILED: {failure.name}: {failure.detail}"
        return [*(check.line() for check in self.checks), verdict]


@dataclass
class _State:
    archive: zipfile.ZipFile
    keys: Mapping[str, Ed25519PublicKey]
    manifest_bytes: bytes | None = None
    manifest: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    proof: dict[str, Any] | None = None
    sequences: list[int] | None = None
    leaves: list[bytes] | None = None

    def read(self, name: str) -> bytes:
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise VerificationError(Reason.MISSING, f"the export holds no {name}") from None
        if info.file_size > _MAX_METADATA_BYTES:
            raise VerificationError(Reason.MALFORMED, f"{name} is implausibly large ({info.file_size} bytes)")
        return self.archive.read(info)

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except (ValueError, UnicodeDecodeError):
            raise VerificationError(Reason.MALFORMED, f"{name} is not JSON") from None

    def need(self, value: Any, what: str) -> Any:
        if value is None:
            raise _NotChecked(f"needs {what}")
        return value


def _signature(state: _State) -> str:
    state.manifest_bytes = state.read(layout.MANIFEST)
    envelope = state.json(layout.ENVELOPE)
    payload = verify_envelope(envelope, state.keys, payload_type=layout.MANIFEST_PAYLOAD_TYPE)
    if not hmac.compare_digest(payload, state.manifest_bytes):
        raise VerificationError(Reason.MISMATCH, "manifest.json is not the manifest the envelope signs")
    signers = sorted({s.get("keyid") for s in envelope["signatures"] if s.get("keyid") in state.keys})
    return f"DSSE envelope over manifest.json verifies with key {', '.join(signers) or 'a trusted key'}"


def _manifest(state: _State) -> str:
    data = state.manifest_bytes if state.manifest_bytes is not None else state.read(layout.MANIFEST)
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError(Reason.MALFORMED, "manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise VerificationError(Reason.MALFORMED, "manifest.json has no list of files")
    state.manifest = manifest
    chain = manifest.get("chain_verification")
    if not isinstance(chain, dict) or chain.get("ok") is not True:
        reason = chain.get("reason") if isinstance(chain, dict) else "no chain verification"
        raise VerificationError(Reason.CHAIN_BROKEN, f"the registry found the chain broken when exporting: {reason}")
    scope = manifest.get("scope")
    project = scope.get("project") if isinstance(scope, dict) else None
    return (
        f"{manifest.get('format')} export of {project}; the registry verified the whole chain when exporting "
        f"({chain.get('checked')} events, head #{chain.get('head_sequence')})"
    )


def _sha256(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _files(state: _State) -> str:
    manifest = state.need(state.manifest, "a readable manifest")
    names = Counter(state.archive.namelist())
    twice = sorted(name for name, count in names.items() if count > 1)
    if twice:
        raise VerificationError(Reason.MALFORMED, f"the zip holds {twice[0]} more than once")
    listed = set()
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise VerificationError(Reason.MALFORMED, "a manifest entry has no file name")
        name = entry["name"]
        if name in listed or name in (layout.MANIFEST, layout.ENVELOPE):
            raise VerificationError(Reason.MALFORMED, f"the manifest lists {name} twice or lists itself")
        listed.add(name)
        if name not in names:
            raise VerificationError(Reason.MISSING, f"{name} is in the manifest but not in the zip")
        digest, size = _sha256(state.archive, name)
        if digest != entry.get("sha256"):
            raise VerificationError(Reason.MISMATCH, f"{name}: SHA-256 {digest} is not the manifest's")
        if size != entry.get("bytes"):
            raise VerificationError(Reason.MISMATCH, f"{name}: {size} bytes, the manifest says {entry.get('bytes')}")
    extra = sorted(set(names) - listed - {layout.MANIFEST, layout.ENVELOPE})
    if extra:
        raise VerificationError(Reason.UNLISTED, f"{extra[0]} is in the zip but not in the manifest")
    return f"{len(listed)} files, each with the SHA-256 and size the manifest lists; none missing, none extra"


def _checkpoint(state: _State) -> str:
    manifest = state.need(state.manifest, "a readable manifest")
    named = manifest.get("audit_checkpoint")
    if not isinstance(named, dict):
        why = manifest.get("audit_checkpoint_error") or "the manifest names none"
        raise VerificationError(Reason.MISSING, f"the export carries no signed checkpoint ({why})")
    checkpoint = verify_checkpoint(state.json(layout.CHECKPOINT), state.keys)
    if (checkpoint.tree_size, checkpoint.root_hash.hex()) != (named.get("tree_size"), named.get("root_hash")):
        raise VerificationError(Reason.MISMATCH, "checkpoint.json is not the checkpoint the manifest names")
    state.checkpoint = checkpoint
    return (
        f"{checkpoint.origin}: {checkpoint.tree_size:,} events, root {checkpoint.root_hash.hex()}, signed "
        f"{checkpoint.timestamp:%Y-%m-%dT%H:%M:%SZ} by key {checkpoint.key_id}"
    )


def _load_proof(state: _State) -> dict[str, Any]:
    if state.proof is None:
        proof = state.json(layout.AUDIT_PROOF)
        if not isinstance(proof, dict) or proof.get("format") != layout.PROOF_FORMAT:
            raise VerificationError(Reason.MALFORMED, f"audit_proof.json is not {layout.PROOF_FORMAT}")
        state.proof = proof
    return state.proof


def _events_file(state: _State) -> str:
    """Where the exported events are: export.json in a JSON export, audit_events.csv in CSV and PDF ones."""
    manifest = state.need(state.manifest, "a readable manifest")
    return layout.JSON_EVENTS if manifest.get("format") == "json" else layout.CSV_EVENTS


def _chain(state: _State) -> str:
    name = _events_file(state)
    if name not in state.archive.namelist():
        raise VerificationError(Reason.MISSING, f"the export holds no {name}")
    stream = state.archive.open(name)
    events = csv_events(stream, name) if name == layout.CSV_EVENTS else json_events(stream, name)
    sequences: list[int] = []
    leaves: list[bytes] = []
    links, previous = 0, None
    for payload, stored in events:
        sequence = payload["sequence"]
        if sequences and sequence <= sequences[-1]:
            raise VerificationError(Reason.MALFORMED, f"{name}: event {sequence} comes after event {sequences[-1]}")
        if sequence < 1 or not is_chain_hash(stored) or not isinstance(payload["prev_hash"], str):
            raise VerificationError(Reason.MALFORMED, f"{name}: event {sequence} has no valid sequence or hashes")
        if event_hash(payload) != stored:
            raise VerificationError(
                Reason.CHAIN_BROKEN, f"event {sequence}: its hash does not match its content (changed after hashing)"
            )
        if sequence == 1 and payload["prev_hash"] != GENESIS_HASH:
            raise VerificationError(Reason.CHAIN_BROKEN, "event 1 does not start from the genesis hash")
        if sequences and sequences[-1] == sequence - 1:
            if payload["prev_hash"] != previous:
                raise VerificationError(Reason.CHAIN_BROKEN, f"event {sequence} does not link to event {sequence - 1}")
            links += 1
        sequences.append(sequence)
        leaves.append(event_leaf(stored))
        previous = stored
    state.sequences, state.leaves = sequences, leaves
    return (
        f"{len(sequences):,} exported events recomputed from {name} (SHA-256 of prev_hash + canonical JSON), "
        f"{links:,} consecutive pairs linked by prev_hash"
    )


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list) or not all(is_chain_hash(value) for value in values):
        raise VerificationError(Reason.MALFORMED, f"{what} is not a list of hex SHA-256 hashes")
    return [bytes.fromhex(value) for value in values]


def _inclusion(state: _State) -> str:
    checkpoint = state.need(state.checkpoint, "a verified checkpoint")
    sequences = state.need(state.sequences, "the recomputed events")
    proof = _load_proof(state)
    if (proof.get("tree_size"), proof.get("root_hash")) != (checkpoint.tree_size, checkpoint.root_hash.hex()):
        raise VerificationError(Reason.MISMATCH, "audit_proof.json is not about the signed checkpoint")
    try:
        indexes = layout.expand_ranges(proof.get("leaf_index_ranges"), checkpoint.tree_size)
    except ValueError as exc:
        raise VerificationError(Reason.MALFORMED, f"audit_proof.json: {exc}") from None
    if proof.get("events_file") != _events_file(state) or indexes != [sequence - 1 for sequence in sequences]:
        raise VerificationError(Reason.MISMATCH, f"audit_proof.json names other events than {_events_file(state)}")
    batch = _hashes(proof.get("batch_proof"), "batch_proof")
    if not verify_batch_inclusion(indexes, checkpoint.tree_size, state.leaves, batch, checkpoint.root_hash):
        raise VerificationError(
            Reason.NOT_INCLUDED, "the exported events are not in the signed checkpoint's tree (batch proof fails)"
        )
    return (
        f"{len(indexes):,} events in the checkpoint's tree of {checkpoint.tree_size:,} "
        f"(one batch proof, {len(batch):,} hashes)"
    )


def _earlier(state: _State, data: Any) -> str:
    checkpoint = state.need(state.checkpoint, "the export's verified checkpoint")
    old = verify_checkpoint(data, state.keys)
    if old.origin != checkpoint.origin:
        raise VerificationError(Reason.WRONG_ORIGIN, f"it is a checkpoint of {old.origin}, not {checkpoint.origin}")
    size, new_size = old.tree_size, checkpoint.tree_size
    if size > new_size:
        raise VerificationError(
            Reason.NO_PROOF, f"it covers {size:,} events, this export's checkpoint {new_size:,}: check a later export"
        )
    if size == new_size:
        if old.root_hash != checkpoint.root_hash:
            raise VerificationError(Reason.INCONSISTENT, f"two different roots signed for {size:,} events")
        return f"{size:,} events, the same root as this export's checkpoint"
    proofs = _load_proof(state).get("consistency_proofs")
    proofs = proofs if isinstance(proofs, list) else []
    entry = next((p for p in proofs if isinstance(p, dict) and p.get("tree_size") == size), None)
    if entry is None:
        carried = sorted(p["tree_size"] for p in proofs if isinstance(p, dict) and type(p.get("tree_size")) is int)
        raise VerificationError(
            Reason.NO_PROOF,
            f"the export carries no consistency proof from {size:,} events (it has proofs from the checkpoints of "
            f"the project's earlier exports: {', '.join(map(str, carried)) or 'none'})",
        )
    path = _hashes(entry.get("proof"), "proof")
    if not verify_consistency(size, new_size, old.root_hash, checkpoint.root_hash, path):
        raise VerificationError(
            Reason.INCONSISTENT,
            f"the trail of {size:,} events this checkpoint signed is not a prefix of this export's trail of "
            f"{new_size:,}: it was rewritten",
        )
    return f"{size:,} events signed {old.timestamp:%Y-%m-%d %H:%M:%SZ}; this export's trail of {new_size:,} extends it"


def _run(name: str, check: Callable[[], str]) -> Check:
    try:
        return Check(name, True, check())
    except VerificationError as exc:
        return Check(name, False, str(exc), str(exc.reason))
    except _NotChecked as exc:
        return Check(name, None, f"not checked: {exc}")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a damaged member (bad CRC, truncated deflate)
        return Check(name, False, f"the zip is damaged ({exc})", str(Reason.MALFORMED))
    except (ValueError, csv.Error, RecursionError) as exc:  # undecodable text, a broken CSV, absurd nesting
        return Check(name, False, f"unreadable content ({exc})", str(Reason.MALFORMED))


def verify_export(
    source: str | Path | IO[bytes],
    public_keys: Mapping[str, Ed25519PublicKey],
    earlier: Sequence[tuple[str, Any]] = (),
) -> ExportVerification:
    """Verify an export zip with trusted keys; ``earlier`` is (label, checkpoint JSON) pairs an auditor kept."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        return ExportVerification([Check("zip", False, f"not a readable zip ({exc})", str(Reason.MALFORMED))])
    with archive:
        state = _State(archive, dict(public_keys))
        checks = [
            _run("manifest signature", lambda: _signature(state)),
            _run("manifest", lambda: _manifest(state)),
            _run("files", lambda: _files(state)),
            _run("checkpoint", lambda: _checkpoint(state)),
            _run("audit chain", lambda: _chain(state)),
            _run("inclusion", lambda: _inclusion(state)),
        ]
        for label, data in earlier:
            checks.append(_run(f"earlier checkpoint {label}", lambda data=data: _earlier(state, data)))
    return ExportVerification(checks)


def load_keys(paths: Sequence[str | Path]) -> dict[str, Ed25519PublicKey]:
    """Trusted public keys from PEM files, by key id; ValueError naming the file that is not one."""
    keys = {}
    for path in paths:
        try:
            key = load_public_key(Path(path).read_bytes())
        except (OSError, SigningKeyError) as exc:
            raise ValueError(f"{path}: not a readable Ed25519 public key ({exc})") from exc
        keys[key_id(key)] = key
    return keys


def load_checkpoints(paths: Sequence[str | Path]) -> list[tuple[str, Any]]:
    """Earlier checkpoints from JSON files (an export's checkpoint.json, or the API's or audit_checkpoint's)."""
    loaded = []
    for path in paths:
        try:
            loaded.append((str(path), json.loads(Path(path).read_bytes())))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable checkpoint JSON file ({exc})") from exc
    return loaded


def verify_export_files(
    export: str | Path, key_paths: Sequence[str | Path], checkpoint_paths: Sequence[str | Path] = ()
) -> ExportVerification:
    """``verify_export`` from file paths, as the command line and ``manage.py verify_export`` call it."""
    return verify_export(export, load_keys(key_paths), load_checkpoints(checkpoint_paths))
