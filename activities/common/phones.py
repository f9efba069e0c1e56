"""Phone keys: how the ledger finds the leads a number was texted from, with no number
stored in clear. Written when delivery texts a lead, read when a text comes back."""

import hashlib
import re

_E164 = re.compile(r"\+[1-9]\d{6,14}")


def phone_key(number: str) -> str:
    """SHA-256 hex of an E.164 number: the key of a phone → lead index with no phone in clear.

    Unsalted, so it hides the number from a casual reader, not from someone who hashes
    every possible number; keep the index as private as the leads themselves.
    """
    if not _E164.fullmatch(number):
        raise ValueError("a phone key needs an E.164 number such as +13125550142")
    return hashlib.sha256(number.encode()).hexdigest()
