"""truth.json: the planted parameters and the true comment labels, streamed so large runs stay bounded."""

from __future__ import annotations

import json
from pathlib import Path


class TruthWriter:
    """Comment labels go to a side file while generating; `finish` wraps them after the header."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / "truth.json"
        self._side = out_dir / ".truth_comments.jsonl"
        self._handle = self._side.open("w", encoding="utf-8")
        self.comments = 0

    def add_comment(self, response_key: str, aspects: dict[str, str], sentiment: str) -> None:
        entry = {"response_key": response_key, "aspects": aspects, "sentiment": sentiment}
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.comments += 1

    def finish(self, header: dict) -> None:
        self._handle.close()
        head = json.dumps(header, ensure_ascii=False, indent=2)
        with (
            self.path.open("w", encoding="utf-8", newline="\n") as out,
            self._side.open(encoding="utf-8") as side,
        ):
            out.write(head[:-2] + ',\n  "comments": [')
            for k, line in enumerate(side):
                out.write(("\n    " if k == 0 else ",\n    ") + line.rstrip("\n"))
            out.write("\n  ]\n}\n")
        self._side.unlink()
