"""The erasure record: what the audit log keeps of an erasure, without the personal data.

It says who erased, when (the audit row's time), what kind of detail was named, how many rows and
files each place had, and a salted scrypt hash of the named detail: enough to answer "was this phone
erased, and when?" for someone who is given the phone, not enough to recover it. A plain SHA-256 of
an 11-digit mobile is reversed by trying the 10^9 numbers of a prefix in seconds; scrypt at these
settings costs about 50 ms per try, so the same search would take years, and the random salt per
record stops one search from serving every record.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cxlake.access.audit import AuditLog
from cxlake.app_state import AppState

ACTION = "erasure"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class SubjectHash:
    salt: str  # hex
    digest: str  # hex scrypt of the normalised detail

    def matches(self, normalised: str) -> bool:
        return secrets.compare_digest(self.digest, subject_hash(normalised, bytes.fromhex(self.salt)).digest)


def subject_hash(normalised: str, salt: bytes | None = None) -> SubjectHash:
    """The salted scrypt hash of a normalised detail (a national phone number, a lower-case e-mail)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(normalised.encode("utf-8"), salt=salt, maxmem=64 * 1024 * 1024, **_SCRYPT)
    return SubjectHash(salt.hex(), digest.hex())


def write_record(
    state: AppState,
    *,
    erasure_id: str,
    actor: str,
    kind: str,
    normalised: str,
    counts: Mapping[str, int],
) -> None:
    """Append the erasure record to the audit log."""
    hashed = subject_hash(normalised)
    detail: dict[str, object] = {
        "erasure_id": erasure_id,
        "named_by": kind,
        "subject_salt": hashed.salt,
        "subject_scrypt": hashed.digest,
        "counts": dict(counts),
    }
    AuditLog(state).record(actor, ACTION, detail)
