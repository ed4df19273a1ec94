"""Export files: text sinks that hash while they write, and the zip that holds the files and their manifest."""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import shutil
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from common.evidence.export_layout import ENVELOPE, MANIFEST

# Flushing every 256 KiB keeps writes large (fast) and memory flat.
_BUFFER_CHARS = 256 * 1024
# Level 1: the CSV/JSON extracts are large and repetitive; faster compression matters more than 10% size.
COMPRESSLEVEL = 1


class HashingWriter:
    """A text sink (csv.writer and json can write to it) that encodes, hashes and counts what it passes on.

    With `background`, hashing and writing (zip compression) happen in a thread: zlib and hashlib release
    the GIL, so on a second core they cost the row loop almost nothing. The queue is bounded (a few MiB).
    """

    def __init__(self, raw: IO[bytes], *, background: bool = False):
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self.rows = 0
        self._parts: list[str] = []
        self._size = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue | None = None
        if background:
            self._queue = queue.Queue(maxsize=16)
            self._thread = threading.Thread(target=self._drain, name="export-writer", daemon=True)
            self._thread.start()

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _BUFFER_CHARS:
            self.flush()
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        self.flush()
        self._emit(data)

    def flush(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8")
            self._parts, self._size = [], 0
            self._emit(data)

    def _consume(self, data: bytes) -> None:
        self.sha256.update(data)
        self.raw.write(data)

    def _drain(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._consume(data)
                except BaseException as exc:  # re-raised in the writing thread
                    self._error = exc

    def _emit(self, data: bytes) -> None:
        self.bytes += len(data)
        if self._queue is None:
            self._consume(data)
            return
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def close(self) -> None:
        """Flush, and wait until the background thread (if any) has written everything."""
        self.flush()
        self.stop()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """End the background thread without flushing (also after an error)."""
        if self._queue is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def entry(self, name: str) -> dict[str, Any]:
        """The manifest line of the file this sink wrote."""
        self.close()
        return {"name": name, "sha256": self.sha256.hexdigest(), "bytes": self.bytes, "rows": self.rows}


class Bundle:
    """The export's zip, written entry by entry; a file is either streamed into it or copied from disk."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL)
        self.files: list[dict[str, Any]] = []
        self._writers: list[HashingWriter] = []
        self._open: list[IO[bytes]] = []

    def stream(self, name: str, *, background: bool = False) -> tuple[HashingWriter, IO[bytes]]:
        """Open an entry for writing: the sink to write to and the entry's handle (for `finish`)."""
        handle = self.zip.open(name, mode="w", force_zip64=True)
        self._open.append(handle)
        writer = HashingWriter(handle, background=background)
        self._writers.append(writer)
        return writer, handle

    def finish(self, writer: HashingWriter, name: str, handle) -> None:
        entry = writer.entry(name)
        handle.close()
        self._open.remove(handle)
        self.files.append(entry)

    def abort(self) -> None:
        """Stop every background writer, then close open entries and the zip after a failure; never raises.

        The caller re-raises the error that made it abort, and the partial file is discarded: closing must
        not replace that error with its own (zipfile refuses to close while an entry is open for writing).
        """
        for writer in self._writers:
            writer.stop()
        for handle in self._open:
            with contextlib.suppress(Exception):
                handle.close()
        self._open.clear()
        try:
            self.zip.close()
        except Exception:
            # Still holding the file (e.g. the disk filled up while writing the directory): let it go.
            if self.zip.fp is not None:
                with contextlib.suppress(Exception):
                    self.zip.fp.close()

    def add_file(self, name: str, source: Path, entry: dict[str, Any]) -> None:
        with source.open("rb") as src, self.zip.open(name, mode="w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        self.files.append(entry)

    def add_bytes(self, name: str, data: bytes, *, rows: int) -> None:
        """A small file written at once, listed in the manifest like the others."""
        self.zip.writestr(name, data)
        self.files.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "rows": rows})

    def close(self, manifest: dict[str, Any], envelope: Callable[[bytes], dict[str, Any]] | None = None) -> bytes:
        """Write manifest.json last (then its signature envelope, if given: the one file it cannot list) and
        close; return the manifest's bytes."""
        data = manifest_bytes(manifest)
        self.zip.writestr(MANIFEST, data)
        if envelope is not None:
            self.zip.writestr(ENVELOPE, json.dumps(envelope(data), indent=1, sort_keys=True).encode("utf-8"))
        self.zip.close()
        return data


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """manifest.json exactly as the zip holds it (its SHA-256 goes into the audit trail)."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
