"""model.tar.gz round trip and safe extraction."""

from __future__ import annotations

import io
import tarfile

import pytest

from algorithms.artifacts import ArtifactError, pack_model, unpack_model


def test_a_packed_model_directory_unpacks_identically(tmp_path) -> None:
    model_dir = tmp_path / "model"
    (model_dir / "nested").mkdir(parents=True)
    (model_dir / "sagebrush-model.json").write_text('{"algorithm": "pca"}')
    (model_dir / "nested" / "weights.bin").write_bytes(bytes(range(256)))
    archive = pack_model(model_dir, tmp_path / "model.tar.gz")
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["nested/weights.bin", "sagebrush-model.json"]
    out = unpack_model(archive, tmp_path / "out")
    assert (out / "nested" / "weights.bin").read_bytes() == bytes(range(256))
    assert (out / "sagebrush-model.json").read_text() == '{"algorithm": "pca"}'


def _archive_with(tmp_path, member: tarfile.TarInfo, data: bytes = b"x"):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/escape.txt", "a/../../escape.txt"])
def test_members_escaping_the_destination_are_refused(tmp_path, name: str) -> None:
    archive = _archive_with(tmp_path, tarfile.TarInfo(name))
    with pytest.raises(ArtifactError, match="outside the destination"):
        unpack_model(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_links_are_refused(tmp_path) -> None:
    link = tarfile.TarInfo("model.txt")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    with pytest.raises(ArtifactError, match=r"'model\.txt' is not a regular file"):
        unpack_model(_archive_with(tmp_path, link), tmp_path / "out")


def test_a_file_that_is_not_an_archive_is_refused(tmp_path) -> None:
    bogus = tmp_path / "model.tar.gz"
    bogus.write_bytes(b"not a tarball")
    with pytest.raises(ArtifactError, match="cannot be read as a tar archive"):
        unpack_model(bogus, tmp_path / "out")
