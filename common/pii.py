"""Contact details in free text: emails, phone numbers, web addresses.

    contact_detail_in("write to ana@example.com")   # "an email address"
    contact_detail_in("wifi")                        # None

Used where a client may send free text that is stored with analytics data (the
allow-listed string extras of an event): such a value is refused, not cleaned,
since it has no business holding contact details at all.
"""

from __future__ import annotations

import re

_KINDS = (
    ("an email address", re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")),
    ("a web address", re.compile(r"(?i)\b(?:https?://|www\.)\S+")),
    # 7+ digits, possibly split by spaces, dots, dashes or brackets, optionally after "+".
    ("a phone number", re.compile(r"\+?\d(?:[\s().-]*\d){6,}")),
)


def contact_detail_in(text: str) -> str | None:
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None
