"""What the readers build while reading one day's folder, before it becomes an immutable Delivery."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from assets.ingestion.raw_tables import RawTable
from expectations.gate import Delivery, FileAudit

__all__ = ["Delivery", "FileAudit", "PartitionLoad"]


@dataclass
class PartitionLoad:
    """Everything one source delivered for one day, gathered file by file."""

    day: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    audits: list[FileAudit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, table: RawTable, frame: pd.DataFrame) -> None:
        previous = self.frames.get(table.name)
        self.frames[table.name] = (
            frame if previous is None else pd.concat([previous, frame], ignore_index=True)
        )

    def delivery(self) -> Delivery:
        return Delivery(self.day, dict(self.frames), tuple(self.audits), tuple(self.warnings))
