"""The blob store's tests: the filesystem backend's protocol and crashes, the database
backend, private modes."""

from __future__ import annotations

from workflow.runtime import Runtime
from workflow.storage.blobs import FileBlobStore


def fs(rt: Runtime) -> FileBlobStore:
    """The runtime's filesystem blob store (the default backend)."""
    assert isinstance(rt.blobs, FileBlobStore), "this test is about the filesystem backend"
    return rt.blobs
