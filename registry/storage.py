"""Where the registry reads and keeps bytes: the content-addressed store, staging, and allowed data roots."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

from core.errors import InvalidInput

FORMAT_SUFFIXES = {"csv": ".csv", "csv.gz": ".csv.gz", "parquet": ".parquet"}


def storage_root() -> Path:
    return Path(settings.REGISTRY_STORAGE_ROOT)


def staging_dir() -> Path:
    path = storage_root() / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_staging_file(suffix: str = "") -> Path:
    """An empty, uniquely named file in the staging area (same filesystem as the store: moves are renames)."""
    fd, name = tempfile.mkstemp(dir=staging_dir(), suffix=suffix)
    os.close(fd)
    return Path(name)


def object_relpath(fingerprint: str, fmt: str) -> str:
    return f"objects/{fingerprint[:2]}/{fingerprint}{FORMAT_SUFFIXES.get(fmt, '')}"


def store_object(staged: Path, *, fingerprint: str, fmt: str) -> str:
    """Move a staged file into the content-addressed store; return its path relative to the store."""
    relpath = object_relpath(fingerprint, fmt)
    target = storage_root() / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        # Same fingerprint, same bytes: the store already holds them.
        staged.unlink(missing_ok=True)
    else:
        try:
            os.replace(staged, target)
        except OSError:
            shutil.copyfile(staged, target)
            staged.unlink(missing_ok=True)
    return relpath


def stored_path(relpath: str) -> Path:
    """Absolute path of a stored object, refusing anything that would leave the store."""
    root = storage_root().resolve()
    path = (root / relpath).resolve()
    if not path.is_relative_to(root):
        raise InvalidInput("stored file path leaves the storage root", field="stored_file")
    return path


def discard(path: Path | str | None) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


def project_data_roots(project) -> list[Path]:
    """A project reads files only under `<data root>/<project slug>/`: one team never reads another's data."""
    return [Path(root).resolve() / project.slug for root in settings.REGISTRY_DATA_ROOTS]


def resolve_data_uri(uri: str, *, project, field: str = "storage_uri") -> Path:
    """The local file a file:// URI names, only if it resolves under one of the project's data roots.

    Symlinks and '..' are resolved before the check, so neither can escape a root.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise InvalidInput(
            f"the registry can only read file:// URIs (got scheme {parsed.scheme or 'none'!r}); "
            "for other storage declare fingerprint, schema and counts instead",
            field=field,
        )
    if parsed.netloc not in ("", "localhost"):
        raise InvalidInput(f"file URIs must name a local path, not host {parsed.netloc!r}", field=field)
    raw_path = unquote(parsed.path)
    if "\x00" in raw_path or not raw_path.startswith("/"):
        raise InvalidInput("the file URI must hold an absolute path", field=field)
    roots = project_data_roots(project)
    if not roots:
        raise InvalidInput("no data roots are configured (REGISTRY_DATA_ROOTS): file URIs are disabled", field=field)
    try:
        path = Path(raw_path).resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        # Say "not allowed" before "not found" so the error does not probe the filesystem outside the roots.
        if not any(Path(os.path.normpath(raw_path)).is_relative_to(root) for root in roots):
            raise InvalidInput("the path is outside the allowed data roots", field=field) from None
        raise InvalidInput("no such file under the allowed data roots", field=field) from None
    except (OSError, RuntimeError) as exc:
        raise InvalidInput(f"the path cannot be resolved: {exc}", field=field) from exc
    if not any(path.is_relative_to(root) for root in roots):
        raise InvalidInput("the path is outside the allowed data roots", field=field)
    if not path.is_file():
        raise InvalidInput("the path is not a regular file", field=field)
    return path
