"""The leak helper itself: it must catch every encoding at every alignment, and never echo the secret."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.support.leaks import assert_no_leak, digest, find_leaks

SECRET = 'p4ss/w+rd with spaces&"quotes"-0123456789'


@pytest.mark.parametrize("prefix", ["", "x", "xy", "xyz"])
def test_base64_inside_a_longer_blob_is_found_at_every_alignment(prefix: str) -> None:
    blob = base64.b64encode(f'{{"a":"{prefix}{SECRET}","b":1}}'.encode()).decode()
    assert find_leaks(f"state: {blob}\n", [SECRET])
    urlsafe = base64.urlsafe_b64encode(f"{prefix}{SECRET}!".encode()).decode()
    assert find_leaks(urlsafe, [SECRET])


@pytest.mark.parametrize(
    "haystack",
    [
        f"log: {SECRET}",
        f"url: https://h/?k={quote(SECRET, safe='')}",
        f"json: {json.dumps({'k': SECRET})}",
        f"nested: {json.dumps(json.dumps({'k': SECRET}))}",
    ],
    ids=["raw", "url", "json", "json-in-json"],
)
def test_each_encoding_is_found(haystack: str) -> None:
    with pytest.raises(AssertionError) as info:
        assert_no_leak(haystack, [SECRET], where="probe")
    message = str(info.value)
    assert digest(SECRET) in message
    assert not find_leaks(message, [SECRET]), "the failure message must not carry the secret"


def test_clean_text_passes_and_other_secrets_do_not_match() -> None:
    assert_no_leak("nothing to see " * 100 + base64.b64encode(b"another value entirely").decode(), [SECRET])


def test_needs_something_to_look_for() -> None:
    with pytest.raises(AssertionError):
        assert_no_leak("x", [])
