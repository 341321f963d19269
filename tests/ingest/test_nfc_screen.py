"""The readers tell a column is in NFC from its UTF-8 bytes when every character is below U+0300 or in
U+1E00-U+1EFF (issue 18: decoding and testing the text of every Vietnamese column was most of the NFC
check). That is right only if each such character is NFC_QC=Yes with combining class 0: checked here for
every one of them against Python's Unicode database, and the screen against every code point."""
from __future__ import annotations

import unicodedata

import pyarrow as pa
from hypothesis import given, settings, strategies as st

from survey.ingest.readers import _surely_nfc

SCREENED = [c for c in range(0x110000) if c < 0x300 or 0x1E00 <= c <= 0x1EFF]


def _combining_second() -> set[int]:
    """Characters NFC_QC=Maybe: the second of a pair that composes (a canonical decomposition of two
    characters whose composition NFC keeps)."""
    found = set()
    for c in range(0x30000):  # no character from U+30000 on has a canonical decomposition
        parts = unicodedata.decomposition(chr(c)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            a, b = (chr(int(x, 16)) for x in parts)
            if unicodedata.normalize("NFC", a + b) == chr(c):
                found.add(ord(b))
    return found


def test_every_screened_character_is_nfc_quick_check_yes_with_combining_class_0():
    maybe = _combining_second()
    assert 0x301 in maybe and 0x309 in maybe  # the check finds the Vietnamese marks (acute, hook above)
    for c in SCREENED:
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        assert unicodedata.normalize("NFC", ch) == ch, hex(c)  # not NFC_QC=No
        assert unicodedata.combining(ch) == 0, hex(c)
        assert c not in maybe, hex(c)  # not NFC_QC=Maybe


def test_the_screen_passes_exactly_the_screened_characters():
    """Every code point below U+3000 (each edge of the screen and of UTF-8's byte lengths), then one in
    97 up to the last."""
    inside = set(SCREENED)
    for c in [*range(0x3000), *range(0x3000, 0x110000, 97), 0xFFFF, 0x10000, 0x10FFFF]:
        if 0xD800 <= c <= 0xDFFF:
            continue
        assert _surely_nfc(pa.array(["ab" + chr(c) + "c"])) == (c in inside), hex(c)


def test_vietnamese_answers_pass_and_combining_marks_do_not():
    assert _surely_nfc(pa.array(["Thủ tục cấp phép kéo dài", None, "", "Đất cho khu xử lý chưa được giao"]))
    decomposed = unicodedata.normalize("NFD", "Thủ tục")
    assert not _surely_nfc(pa.array(["ok", decomposed]))
    assert not _surely_nfc(pa.array(["giá – 5 €"]))  # other characters: the exact check decides
    # a mark whose second byte looks like a Vietnamese letter's (U+0338: CC B8), beside a letter (E1 BA A5)
    assert not _surely_nfc(pa.array(["ấ", "=\u0338"]))
    # a slice is judged by its own texts, not the buffer's others
    both = pa.array([decomposed, "Thủ tục", "abc"])
    assert _surely_nfc(both.slice(1)) and not _surely_nfc(both.slice(0, 1))
    assert _surely_nfc(pa.array(["Thủ tục"], pa.large_string()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=8))
def test_what_the_screen_passes_is_nfc(texts):
    if _surely_nfc(pa.array(texts, pa.string())):
        assert all(t is None or unicodedata.is_normalized("NFC", t) for t in texts)
