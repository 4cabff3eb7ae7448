"""Subjects keep every space when folded (issue 9 item 11), on every supported Python.

Python 3.11 and 3.12's header folder puts the space it folds at *between* two encoded words,
where RFC 2047 §6.2 says a decoder must drop it. The check here is a strict decoder written from
the RFC (not the email package's lenient one), applied to the Subject line exactly as it goes on
the wire."""

from __future__ import annotations

import base64
import binascii
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from feedkit.digest.compose import MESSAGE_POLICY

# RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _decode_word(charset: str, encoding: str, text: str) -> str:
    if encoding in "bB":
        raw = base64.b64decode(text, validate=True)  # strict: no stray characters
    else:
        raw = binascii.a2b_qp(text.replace("_", " "), header=True)
    return raw.decode(charset, "strict")


def strict_decode(folded: bytes) -> str:
    """A header field's value as RFC 2047 defines it: unfold (RFC 5322 §2.2.3: remove CRLF
    before WSP), decode each encoded-word, and drop linear white space that separates two
    adjacent encoded-words (§6.2); any other text is taken as it is."""
    line = folded.decode("ascii")
    assert line.endswith("\r\n")
    name, _, value = line[:-2].partition(":")
    assert name == "Subject"
    value = re.sub(r"\r\n(?=[ \t])", "", value).lstrip(" ")
    out: list[str] = []
    pos, previous_was_word = 0, False
    for m in _WORD.finditer(value):
        between = value[pos:m.start()]
        if not (previous_was_word and between.strip(" \t") == ""):
            out.append(between)
        out.append(_decode_word(*m.groups()))
        pos, previous_was_word = m.end(), True
    out.append(value[pos:])
    return "".join(out)


def fold(subject: str) -> bytes:
    name, value = MESSAGE_POLICY.header_store_parse("Subject", subject)
    return MESSAGE_POLICY.fold_binary(name, value)


SUBJECTS = [
    "보령시 주간 소식 · 12월 다섯째 주 (12월 29일 – 2026년 1월 4일)",
    "보령시 주간 소식 2025년 12월 30일 – 12월 31일 행사 안내와 12월 30일 시민 참여 "
    "설명회 개최 결과",
    "대천해수욕장 머드축제 개막 안내 · 보령시 문화관광과 · 2025년 7월 18일 금요일 오후 7시 개막식",
    "Boryeong weekly 2025-W49: 머드 축제 Mud Festival opens on 18 July at Daecheon Beach",
    "보령시 새소식 Weekly digest – December 2025 (12월 1일 – 7일) with English words in between",
    "단어 " * 40,
    "a" * 30 + " 한글 " + "b" * 60 + " 끝",
    "이모지도 괜찮습니다 🎉 보령 머드축제 🌊 해수욕장 개장 안내 드립니다 — 시민 여러분",
]


def test_long_korean_and_mixed_subjects_decode_exactly() -> None:
    for subject in SUBJECTS:
        folded = fold(subject)
        assert strict_decode(folded) == subject, folded
        # folded to the 78-column limit of RFC 5322 §2.1.1
        assert all(len(line) <= 78 for line in folded.split(b"\r\n")), folded


def test_the_strict_decoder_catches_the_bug_it_is_for() -> None:
    # what Python 3.11's folder emits for "12월 30일" folded at the space: the space is the
    # folding white space between two encoded-words, which RFC 2047 drops
    wrong = (b"Subject: =?utf-8?b?" + base64.b64encode("12월".encode()) + b"?=\r\n"
             b" =?utf-8?b?" + base64.b64encode("30일".encode()) + b"?=\r\n")
    assert strict_decode(wrong) == "12월30일"
    right = (b"Subject: =?utf-8?b?" + base64.b64encode("12월 ".encode()) + b"?=\r\n"
             b" =?utf-8?b?" + base64.b64encode("30일".encode()) + b"?=\r\n")
    assert strict_decode(right) == "12월 30일"


_TEXT = st.text(alphabet=st.sampled_from(list("보령시 주간소식 12월30일–()·abcXYZ ,.:")),
                min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_any_subject_survives_folding(subject: str) -> None:
    subject = " ".join(subject.split())  # what a subject line holds: single spaces, no ends
    if not subject:
        return
    folded = fold(subject)
    assert strict_decode(folded) == subject
    assert all(len(line) <= 78 for line in folded.split(b"\r\n"))
