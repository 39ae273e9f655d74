"""Removing contact details from free text before it is stored or indexed.

    result = redact("Mail me at jo@example.com or +44 20 7946 0958")
    result.text    # "Mail me at [email] or [phone]"
    result.kinds   # {"email", "phone"}

Parents sometimes leave an email, a phone number, a link or a social handle in a
comment ("call me back on ..."). None of it may reach the database, the search
index or the logs, so the raw comment is redacted before anything else sees it.
The patterns lean towards redacting too much: a false positive costs a word of a
comment, a false negative leaks a parent's contact details. Ratings ("5/5"),
ages ("3-5 year olds"), dates and times are kept, because phone numbers need at
least 8 digits and never use "/" as a separator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDERS = {"email": "[email]", "url": "[url]", "phone": "[phone]", "handle": "[handle]"}

# Top-level domains recognised without a scheme. Words that are also TLDs ("me",
# "it", "be", "us") are left out: "the end.Me and my son" is a typo, not a link.
_TLD = r"(?:com|org|net|edu|gov|io|uk|info|biz|app|dev|ly|tv|fm|gg|xyz)"
_AT = r"(?:\[at\]|\(at\)|\{at\}|\sat\s)"
_DOT = r"(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s)"

# Plain addresses, and the spelled-out evasions people use ("jo at gmail dot com",
# "jo [at] gmail [dot] co [dot] uk"): the spelled form needs the word "dot".
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    rf"|[A-Za-z0-9._%+-]+\s*{_AT}\s*[A-Za-z0-9-]+(?:\s*{_DOT}\s*[A-Za-z0-9-]+)+\b",
    re.IGNORECASE,
)

# Scheme or www. links, and bare domains with a known TLD (example.com/page, bit.ly/x).
_URL = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s<>\"']+"
    r"|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\." + _TLD + r"\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)

# A phone number: optional +country code or 00 prefix, then digit groups separated
# by spaces, dots, dashes or parentheses, 8 to 15 digits in all (E.164 allows 15).
_PHONE_CANDIDATE = re.compile(r"(?<![\w/])(?:\+|00)?\(?\d[\d\s().-]{4,30}\d(?![\w/])")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_WORD_PHONE_HINT = re.compile(r"\b(?:tel|phone|call|text|whatsapp|mobile|cell|ring)\b", re.IGNORECASE)

# @handles, but not the middle of an email (already replaced by then) nor "@ 5pm".
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,29}[A-Za-z0-9_])?")
_TRAILING_PUNCT = ".,;:!?)]}'\""


@dataclass(frozen=True)
class Redaction:
    text: str
    kinds: set[str] = field(default_factory=set)

    @property
    def redacted(self) -> bool:
        return bool(self.kinds)


def redact(text: str) -> Redaction:
    """The text with every email, URL, phone number and @handle replaced by a placeholder."""
    kinds: set[str] = set()

    def sub(pattern: re.Pattern[str], kind: str, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            kept = ""
            if kind == "url":  # a sentence's final full stop is not part of the link
                stripped = found.rstrip(_TRAILING_PUNCT)
                kept = found[len(stripped) :]
            kinds.add(kind)
            return PLACEHOLDERS[kind] + kept

        return pattern.sub(replace, value)

    # Order matters: emails before URLs (the domain of an address looks like a
    # link) and before handles (the "@domain" part looks like a handle).
    out = sub(_EMAIL, "email", text)
    out = sub(_URL, "url", out)
    out = _redact_phones(out, kinds)
    out = sub(_HANDLE, "handle", out)
    return Redaction(out, kinds)


def _redact_phones(text: str, kinds: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = sum(c.isdigit() for c in found)
        if not _looks_like_phone(found, digits, text, match.start()):
            return found
        kinds.add("phone")
        # The candidate may have swallowed a closing parenthesis or a dot of the sentence.
        stripped = found.rstrip(" .-)")
        if stripped.count("(") < stripped.count(")"):
            stripped = stripped[:-1]
        return PLACEHOLDERS["phone"] + found[len(stripped) :]

    return _PHONE_CANDIDATE.sub(replace, text)


def _looks_like_phone(candidate: str, digits: int, text: str, start: int) -> bool:
    if digits < 8 or digits > 15:
        # Short numbers count only when the sentence says it is a phone number.
        return 6 <= digits < 8 and bool(_WORD_PHONE_HINT.search(text[max(0, start - 30) : start]))
    groups = [g for g in _PHONE_SEPARATORS.split(candidate) if g]
    # "in 2023 2024 2025" is years, not a number: a run of 4-digit groups 19xx/20xx.
    return not (len(groups) > 1 and all(len(g) == 4 and g[:2] in ("19", "20") for g in groups))
