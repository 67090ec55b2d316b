"""Keyed pseudonyms: a value (an IP address) replaced by a keyed hash wherever the models only need
to know whether two values are the same (integrity's "many answers from one device", duplicates).

Data minimisation (PIPL art. 6): the intermediate tables and marts never hold the address itself.
A plain hash would not do: every IPv4 address hashes in seconds, so the hash is keyed with a secret
that lives outside the warehouse (``$CXLAKE_PSEUDONYM_KEY``, else ``pseudonym.key`` in the home,
created owner-only on first use). Equal values under one key give equal pseudonyms; without the
key a pseudonym leads back to nothing. Losing the key only means later pseudonyms differ from
earlier ones (a device seen before and after counts as two): back the file up with the home.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "CXLAKE_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
PREFIX = "pn:"  # marks a value as a pseudonym, never an address


def pseudonym_key(home: Path) -> bytes:
    """The key: ``$CXLAKE_PSEUDONYM_KEY``, else the home's key file (made 0600 if missing)."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode("utf-8")
    path = Path(home) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def pseudonym(value: str | None, key: bytes) -> str | None:
    """``value``'s pseudonym (None for an empty value: no address is not one shared address)."""
    if value is None or not value.strip():
        return None
    return PREFIX + hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:32]
