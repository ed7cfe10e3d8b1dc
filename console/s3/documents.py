"""Reading the small XML documents S3 requests carry (DeleteObjects, CompleteMultipartUpload)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from console.s3.errors import S3Error


def parse(body: bytes, root: str) -> ElementTree.Element:
    """The document's root element, which must be ``root`` (in any namespace)."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise malformed("document type declarations are not accepted")
    try:
        element = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise malformed(str(exc)) from None
    if local_name(element) != root:
        raise malformed(f"the root element must be {root}")
    return element


def local_name(element: ElementTree.Element) -> str:
    return element.tag.rpartition("}")[2]


def children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if local_name(child) == name]


def text(element: ElementTree.Element, name: str) -> str | None:
    found = children(element, name)
    return None if not found else (found[0].text or "")


def malformed(why: str) -> S3Error:
    return S3Error(
        "MalformedXML",
        f"The XML you provided was not well-formed or did not validate against our published "
        f"schema: {why}.",
    )
