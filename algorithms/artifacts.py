"""``model.tar.gz``: a model directory packed for object storage, and unpacked safely.

Unpacking refuses any member that would land outside the destination (absolute paths, ``..``,
links, devices), since the archive may come from a user's ``ModelDataUrl``.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from algorithms.base import AlgorithmError


class ArtifactError(AlgorithmError, ValueError):
    """A model archive that cannot be unpacked safely; names the archive and the member."""

    def __init__(self, archive: Path, member: str, rule: str) -> None:
        super().__init__(f"{archive}: member {member!r} {rule}")
        self.archive = archive
        self.member = member


def pack_model(model_dir: Path, tar_path: Path) -> Path:
    """Write every file of ``model_dir`` into ``tar_path`` (gzip), paths relative to the root."""
    model_dir, tar_path = Path(model_dir), Path(tar_path)
    partial = tar_path.with_name(tar_path.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for path in sorted(model_dir.rglob("*")):
            if path.is_file():
                archive.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    partial.replace(tar_path)  # readers never see half an archive
    return tar_path


def unpack_model(tar_path: Path, dest_dir: Path) -> Path:
    """Extract ``tar_path`` into ``dest_dir``; only regular files and directories inside it."""
    tar_path, dest_dir = Path(tar_path), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    root = dest_dir.resolve()
    try:
        with tarfile.open(tar_path, "r:*") as archive:
            members = archive.getmembers()
            for member in members:
                _check_member(tar_path, member, root)
            # The "data" filter re-checks the same rules inside tarfile and drops unsafe modes.
            archive.extractall(root, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ArtifactError(tar_path, "", f"cannot be read as a tar archive: {error}") from None
    return dest_dir


def _check_member(tar_path: Path, member: tarfile.TarInfo, root: Path) -> None:
    if not (member.isfile() or member.isdir()):
        raise ArtifactError(tar_path, member.name, "is not a regular file or directory")
    if not (root / member.name).resolve().is_relative_to(root):
        raise ArtifactError(tar_path, member.name, "would extract outside the destination")
