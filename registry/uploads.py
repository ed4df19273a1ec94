"""An upload handler that stages files on disk, hashes them while they arrive, and enforces the size limit."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from .storage import discard, new_staging_file


class StagedUpload(UploadedFile):
    """A received file already in the staging area, with its SHA-256 and size."""

    def __init__(self, *, path: Path, name: str, content_type: str, size: int, sha256: str):
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.staged_path = path
        self.sha256 = sha256

    def open(self, mode="rb"):
        self.file = open(self.staged_path, mode)  # noqa: SIM115 - the UploadedFile owns the handle
        return self

    def temporary_file_path(self) -> str:
        return str(self.staged_path)

    def close(self):
        # Never opened is closed: Django closes every received file when a later part fails the parse.
        if self.file is not None:
            self.file.close()


MAX_FILES_PER_REQUEST = 2  # a registration has one file; an evaluation a reference and a holdout


class StagingUploadHandler(FileUploadHandler):
    """Streams every file part to the staging area; aborts once the request's total passes the limit."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.REGISTRY_MAX_UPLOAD_BYTES
        self._path: Path | None = None
        self._handle = None
        self._digest = None
        self._size = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        count = getattr(self.request, "upload_file_count", 0) + 1
        if self.request is not None:
            self.request.upload_file_count = count
        if count > MAX_FILES_PER_REQUEST:
            if self.request is not None:
                self.request.upload_too_many_files = True
            raise StopUpload(connection_reset=False)
        self._path = new_staging_file(suffix=".upload")
        self._handle = open(self._path, "wb")  # noqa: SIM115 - closed in file_complete/upload_interrupted
        self._digest = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        total = getattr(self.request, "upload_bytes_total", 0) + len(raw_data)
        if self.request is not None:
            self.request.upload_bytes_total = total
        if total > self.limit:
            self._abort()
            if self.request is not None:
                self.request.upload_too_large = True
                self.request.upload_too_large_field = self.field_name
            raise StopUpload(connection_reset=False)
        self._digest.update(raw_data)
        self._handle.write(raw_data)
        return None

    def file_complete(self, file_size):
        self._handle.close()
        upload = StagedUpload(
            path=self._path,
            name=self.file_name,
            content_type=self.content_type,
            size=self._size,
            sha256=self._digest.hexdigest(),
        )
        if self.request is not None:
            self.request.staged_paths = [*getattr(self.request, "staged_paths", []), self._path]
        return upload

    def upload_interrupted(self):
        self._abort()

    def _abort(self):
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
        discard(self._path)
