"""One page of a bucket listing, as ListObjectsV2 and ListObjects (v1) answer it: keys in order
after a marker, grouped under common prefixes by a delimiter, at most ``max_keys`` entries."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.storage import InvalidURI, ObjectInfo, ObjectStore, join_uri

MAX_KEYS = 1000


@dataclass
class Page:
    objects: list[ObjectInfo] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""  # the last key or common prefix on the page: where the next page starts


def list_page(
    store: ObjectStore, bucket: str, *, prefix: str, delimiter: str, after: str, max_keys: int
) -> Page:
    page = Page()
    try:
        infos = store.list(join_uri(bucket, prefix))
    except InvalidURI:
        return page  # no object can have a key under a prefix no object key could have
    for info in infos:
        key = info.key
        if after and key <= after:
            continue
        entry, is_prefix = key, False
        if delimiter and (cut := key.find(delimiter, len(prefix))) >= 0:
            entry, is_prefix = key[: cut + len(delimiter)], True
            if (after and entry <= after) or (page.prefixes and page.prefixes[-1] == entry):
                continue
        if len(page.objects) + len(page.prefixes) >= max_keys:
            page.truncated = True
            break
        if is_prefix:
            page.prefixes.append(entry)
        else:
            page.objects.append(info)
        page.last = entry
    return page
