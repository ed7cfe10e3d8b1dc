"""``manage.py objects``: list, copy and delete objects in the platform's store, like ``aws s3``.

Works the same on either backend (S3, or the local directory under ``DATA_DIR/objects``); all the
work goes through ``infra.storage.get_store()``.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from infra import storage
from infra.storage import ObjectInfo, StorageError, join_uri, parse_uri


def _is_uri(text: str) -> bool:
    return text.startswith("s3://")


def _as_folder(key: str) -> str:
    """A key prefix taken as a folder: ``data`` means ``data/`` (not ``database``)."""
    return key if not key or key.endswith("/") else key + "/"


def _human(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


class Command(BaseCommand):
    help = (
        "Work with the object store: ls, cp (local <-> s3://, s3:// -> s3://; folders and "
        "prefixes recursively), rm, mb."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        ls = actions.add_parser("ls", help="list buckets, or one level under a prefix")
        ls.add_argument("uri", nargs="?", help="s3://bucket/prefix (none: list the buckets)")
        ls.add_argument("-r", "--recursive", action="store_true", help="every object under it")
        cp = actions.add_parser("cp", help="copy a file, a folder, an object or a prefix")
        cp.add_argument("source", help="a local file or folder, or s3://bucket/key-or-prefix")
        cp.add_argument("destination", help="s3://bucket/key-or-prefix/, or a local path")
        rm = actions.add_parser("rm", help="delete an object, or everything under a prefix")
        rm.add_argument("uri")
        rm.add_argument("-r", "--recursive", action="store_true", help="delete a whole prefix")
        mb = actions.add_parser("mb", help="make a bucket")
        mb.add_argument("bucket", help="a bucket name or s3://bucket")

    def handle(self, *args, action: str, **options) -> None:
        self.store = storage.get_store()
        try:
            if action == "ls":
                self.ls(options["uri"], recursive=options["recursive"])
            elif action == "cp":
                self.cp(options["source"], options["destination"])
            elif action == "rm":
                self.rm(options["uri"], recursive=options["recursive"])
            elif action == "mb":
                self.mb(options["bucket"])
        except (StorageError, FileNotFoundError, NotADirectoryError) as error:
            raise CommandError(str(error)) from error

    # ls
    def ls(self, uri: str | None, *, recursive: bool) -> None:
        if uri is None:
            for bucket in self.store.list_buckets():
                self.stdout.write(join_uri(bucket, ""))
            return
        if recursive:
            count = total = 0
            for info in self.store.list(uri):
                self._write_object(info)
                count, total = count + 1, total + info.size
            self.stdout.write(f"{count} objects, {_human(total)}")
            return
        listing = self.store.browse(uri)
        for prefix in listing.prefixes:
            self.stdout.write(f"{'PRE':>32} {prefix}")
        for info in listing.objects:
            self._write_object(info)

    def _write_object(self, info: ObjectInfo) -> None:
        when = info.last_modified.strftime("%Y-%m-%d %H:%M:%S")
        self.stdout.write(f"{when} {info.size:>12} {info.uri}")

    # cp
    def cp(self, source: str, destination: str) -> None:
        if _is_uri(source) and _is_uri(destination):
            pairs = self._remote_pairs(source, destination)
            verb = "copy"
        elif _is_uri(destination):
            pairs = self._upload_pairs(Path(source), destination)
            verb = "upload"
        elif _is_uri(source):
            pairs = self._download_pairs(source, destination)
            verb = "download"
        else:
            raise CommandError("one side of cp must be an s3:// URI")
        count = total = 0
        for src, dst in pairs:
            if verb == "upload":
                size = self.store.upload_file(src, dst).size
            elif verb == "download":
                self.store.download_file(src, dst)
                size = Path(dst).stat().st_size
            else:
                size = self.store.copy(src, dst).size
            count, total = count + 1, total + size
            self.stdout.write(f"{verb}: {src} -> {dst} ({_human(size)})")
        self.stdout.write(f"{count} files, {_human(total)} ({total} bytes)")

    def _upload_pairs(self, path: Path, destination: str) -> list[tuple[str, str]]:
        bucket, key = parse_uri(destination)
        if not path.exists():
            raise CommandError(f"no such file or folder: {path}")
        self.store.create_bucket(bucket)
        if path.is_dir():
            prefix = _as_folder(key)
            files = sorted(p for p in path.rglob("*") if p.is_file())
            return [
                (str(p), join_uri(bucket, prefix + p.relative_to(path).as_posix())) for p in files
            ]
        if not key or key.endswith("/"):
            key += path.name
        return [(str(path), join_uri(bucket, key))]

    def _download_pairs(self, source: str, destination: str) -> list[tuple[str, str]]:
        target = Path(destination)
        into_folder = target.is_dir() or destination.endswith(("/", "\\"))
        if self._is_object(source):
            name = parse_uri(source)[1].rsplit("/", 1)[-1]
            return [(source, str(target / name if into_folder else target))]
        pairs = []
        for uri, relative in self._objects_under(source):
            if any(part in ("", ".", "..") for part in relative.split("/")):
                self.stderr.write(f"skip: {uri} has no safe local path")
            else:
                pairs.append((uri, str(target / relative)))
        return pairs

    def _remote_pairs(self, source: str, destination: str) -> list[tuple[str, str]]:
        dst_bucket, dst_key = parse_uri(destination)
        self.store.create_bucket(dst_bucket)
        if self._is_object(source):
            if not dst_key or dst_key.endswith("/"):
                dst_key += parse_uri(source)[1].rsplit("/", 1)[-1]
            return [(source, join_uri(dst_bucket, dst_key))]
        prefix = _as_folder(dst_key)
        return [
            (uri, join_uri(dst_bucket, prefix + relative))
            for uri, relative in self._objects_under(source)
        ]

    def _is_object(self, uri: str) -> bool:
        key = parse_uri(uri)[1]
        return bool(key) and not key.endswith("/") and self.store.exists(uri)

    def _objects_under(self, uri: str) -> list[tuple[str, str]]:
        """Every object under the URI taken as a folder, with its key relative to that folder."""
        bucket, key = parse_uri(uri)
        prefix = _as_folder(key)
        found = [
            (info.uri, info.key[len(prefix) :])
            for info in self.store.list(join_uri(bucket, prefix))
            if not info.key.endswith("/")  # "folder" markers made by other S3 tools
        ]
        if not found:
            raise CommandError(f"no object at {uri} and none under {join_uri(bucket, prefix)}")
        return found

    # rm
    def rm(self, uri: str, *, recursive: bool) -> None:
        bucket, key = parse_uri(uri)
        if recursive:
            prefix = join_uri(bucket, _as_folder(key))
            count = self.store.delete_prefix(prefix)
            self.stdout.write(f"deleted {count} objects under {prefix}")
            return
        if not self._is_object(uri):
            raise CommandError(f"no object at {uri} (use --recursive to delete a prefix)")
        self.store.delete(uri)
        self.stdout.write(f"delete: {uri}")

    # mb
    def mb(self, bucket: str) -> None:
        if _is_uri(bucket):
            bucket, key = parse_uri(bucket)
            if key.strip("/"):
                raise CommandError("mb takes a bucket, not a key")
        self.store.create_bucket(bucket)
        self.stdout.write(f"make_bucket: {join_uri(bucket, '')}")
