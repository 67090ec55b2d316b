"""What each source delivers and how one day's folder becomes a PartitionLoad.

Pure functions of the landing folder: no warehouse, no Dagster, so tests call them directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from assets.ingestion import raw_tables as rt
from assets.ingestion.app_events import load_app_events
from assets.ingestion.delivery import Delivery, FileAudit, PartitionLoad
from assets.ingestion.duckdb_csv import read_clean_csv
from assets.ingestion.kano import load_kano
from assets.ingestion.survey_answers import with_longest_texts
from assets.ingestion.survey_api import survey_api_loader
from cxlake import landing
from cxlake.delivered_files import (
    DeliveredFileError,
    delimiter_hint,
    file_checksum,
    header_summary,
    json_value_text,
    landing_name,
    read_csv_records,
    read_delivered,
)
from cxlake.surveys.mapping import load_mappings, mapping_for_file, score_answer
from cxlake.surveys.readers import SurveyReadError, read_survey
from expectations.suites.base import RECORD_PROBLEM


@dataclass(frozen=True)
class Source:
    name: str
    tables: tuple[rt.RawTable, ...]
    load_partition: Callable[[Path, Path, str], PartitionLoad]  # (landing root, day folder, day)
    description: str


def csv_file_frame(
    path: Path, table: rt.RawTable, name: str, data: bytes | None = None
) -> tuple[pd.DataFrame, FileAudit, list[str]]:
    """One delivered CSV as the raw table's columns plus lineage, and its audit row: read by DuckDB
    when the file is clean (:func:`read_clean_csv`), else the careful way.

    A missing column fails the file; a malformed record (wrong field count, NUL byte, a field too
    long to read) is kept, fitted to the header and marked in ``_record_problem`` so the gate
    quarantines that row alone. ``data``: the bytes as :func:`read_delivered` returned them.
    """
    data = path.read_bytes() if data is None else data
    clean = read_clean_csv(data, table.columns)
    if clean is None:
        return careful_csv_file_frame(path, table, name, data)
    frame, header = clean
    frame = _with_lineage(frame, table, name, range(2, len(frame) + 2), None)  # one record per line
    audit = FileAudit(name, table.name, len(frame), len(frame), file_checksum(data))
    return frame, audit, _extra_columns(name, header, table)


def careful_csv_file_frame(
    path: Path, table: rt.RawTable, name: str, data: bytes
) -> tuple[pd.DataFrame, FileAudit, list[str]]:
    """:func:`csv_file_frame` by Python's csv module, for what DuckDB's reader does not read exactly:
    every encoding, records spanning lines, malformed records fitted to the header and marked."""
    records = read_csv_records(path, data)
    missing = [c for c in table.columns if c not in records.header]
    if missing:
        raise DeliveredFileError(
            path,
            f"missing column(s) {', '.join(missing)} (header: {header_summary(records.header)})"
            + delimiter_hint(records.header),
        )
    repeated = sorted({c for c in records.header if records.header.count(c) > 1})
    if repeated:
        raise DeliveredFileError(path, f"column(s) {', '.join(repeated)} appear more than once in the header")
    width = len(records.header)
    fitted = [row[:width] + [None] * (width - len(row)) for row in records.rows]
    frame = pd.DataFrame(fitted, columns=records.header, dtype="string")[list(table.columns)]
    frame = _with_lineage(frame, table, name, records.lines, records.problems)
    audit = FileAudit(name, table.name, len(records.rows), len(frame), records.checksum)
    warnings = _extra_columns(name, records.header, table)
    warnings += [f"{name}:{warning}" for warning in records.warnings]  # file:line:field: what changed
    return frame, audit, warnings


def _with_lineage(frame: pd.DataFrame, table: rt.RawTable, name: str, lines, problems) -> pd.DataFrame:
    """The table's columns plus where each row came from and, per row, why its record is malformed."""
    frame = frame[list(table.columns)]
    frame["_source_file"] = name
    frame["_source_row"] = list(lines)
    frame["_record_problem"] = pd.array(problems or [None] * len(frame), dtype="string")
    return frame


def _extra_columns(name: str, header: list[str], table: rt.RawTable) -> list[str]:
    extra = [c for c in header if c not in table.columns]
    return [f"{name}: extra column(s) not loaded: {', '.join(extra)}"] if extra else []


def csv_source_loader(files: dict[str, rt.RawTable]) -> Callable[[Path, Path, str], PartitionLoad]:
    """A loader for a source that delivers fixed-name CSV files, one per raw table."""

    def load(landing_root: Path, folder: Path, day: str) -> PartitionLoad:
        load = PartitionLoad(day)
        present = sorted(folder.iterdir()) if folder.is_dir() else []
        for path in present:
            table = files.get(path.name)
            if table is None:
                load.warnings.append(
                    f"{landing_name(path, landing_root)}: not a file this source delivers; left unread"
                )
                continue
            data = read_delivered(path, landing_root)
            frame, audit, warnings = csv_file_frame(path, table, landing_name(path, landing_root), data)
            load.add(table, frame)
            load.audits.append(audit)
            load.warnings.extend(warnings)
        return load

    return load


def survey_loader(tools: tuple[str, ...] | None, responses: rt.RawTable, answers: rt.RawTable):
    """A loader for survey exports: each file is matched to its survey's mapping by name, and read
    as the export of the tool the mapping names. ``tools``: the tools whose surveys this source's
    folder takes (``None``: every tool, the ``surveys`` source); one path for every layout."""

    def load(landing_root: Path, folder: Path, day: str) -> PartitionLoad:
        load = PartitionLoad(day)
        mappings = [m for m in load_mappings() if tools is None or m.tool in tools]
        present = sorted(folder.iterdir()) if folder.is_dir() else []
        for path in present:
            name = landing_name(path, landing_root)
            mapping = mapping_for_file(path, mappings)
            if mapping is None:
                load.warnings.append(f"{name}: no survey mapping matches this file; left unread")
                continue
            data = read_delivered(path, landing_root)
            export = read_survey(
                path, format=mapping.tool, survey_id=mapping.survey_id, timezone=mapping.timezone,
                data=data, nps_questions=mapping.nps_questions(),
            )  # fmt: skip
            load.warnings.extend(f"{name}: {warning}" for warning in export.warnings)
            answer_frame = export.answers.rename(columns={"source_row": "_source_row"}).assign(
                _source_file=name
            )
            # a row that does not fit its header keeps its answers and is quarantined by the gate's
            # well-formed-record rule, like a malformed POS record: never loaded, never the whole file
            response_frame = export.responses.rename(
                columns={"source_row": "_source_row", "record_problem": RECORD_PROBLEM}
            ).astype({RECORD_PROBLEM: "string"})
            response_frame = response_frame.assign(layout=export.layout, _source_file=name)
            response_frame = with_scores(response_frame, answer_frame, mapping)
            load.add(responses, response_frame)
            load.add(answers, answer_frame)
            checksum = file_checksum(data)
            load.audits.append(
                FileAudit(name, responses.name, len(response_frame), len(response_frame), checksum)
            )
        return load

    return load


def with_scores(responses: pd.DataFrame, answers: pd.DataFrame, mapping) -> pd.DataFrame:
    """Per response, what the quality gate judges through the mapping: _nps_score, _csat_min,
    _csat_max, _ces_score, _unscorable_answers, _store_id and _comment_length; and the length of its
    longest answer and question (id or text), since the answers are judged through their response."""
    roles = mapping.question_roles()
    role = answers["question_id"].map(roles)
    scored = answers.assign(_role=role)
    scored = scored[scored["_role"].isin(["nps", "csat", "ces"])]
    scores = [score_answer(a, r, mapping) for a, r in zip(scored["answer"], scored["_role"], strict=True)]
    scored = scored.assign(_score=pd.array(scores, dtype="Float64"))
    per_response = scored.groupby("response_id")
    summary = pd.DataFrame(
        {
            "_nps_score": scored[scored["_role"] == "nps"].groupby("response_id")["_score"].max(),
            "_csat_min": scored[scored["_role"] == "csat"].groupby("response_id")["_score"].min(),
            "_csat_max": scored[scored["_role"] == "csat"].groupby("response_id")["_score"].max(),
            "_ces_score": scored[scored["_role"] == "ces"].groupby("response_id")["_score"].max(),
            "_unscorable_answers": per_response["_score"].apply(lambda s: int(s.isna().sum())),
        }
    )
    texts = answers.assign(_role=role)
    store = texts[texts["_role"] == "store_id"].groupby("response_id")["answer"].first().str.strip()
    comment = texts[texts["_role"] == "comment"].groupby("response_id")["answer"].first()
    result = responses.join(summary, on="response_id")
    result["_unscorable_answers"] = result["_unscorable_answers"].fillna(0)
    result["_store_id"] = result["response_id"].map(store)
    if "store_id" in mapping.constants:
        result["_store_id"] = result["_store_id"].fillna(mapping.constants["store_id"])
    result["_comment_length"] = result["response_id"].map(comment).fillna("").str.len()
    return with_longest_texts(result, answers)


def load_reviews(landing_root: Path, folder: Path, day: str) -> PartitionLoad:
    """Review platforms deliver a JSON page per platform: {"platform", "fetched_at", "reviews": [...]}."""
    load = PartitionLoad(day)
    present = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in present:
        name = landing_name(path, landing_root)
        data = read_delivered(path, landing_root)
        try:
            page = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            reason = f"not valid UTF-8 JSON (undecodable byte at {error.start})"
            raise DeliveredFileError(path, reason) from None
        except json.JSONDecodeError as error:  # its message says where, never what
            raise DeliveredFileError(path, f"not valid UTF-8 JSON ({error})") from None
        if not isinstance(page, dict) or not isinstance(page.get("reviews"), list):
            raise DeliveredFileError(path, 'expected an object with a "reviews" list')
        not_objects = [n for n, review in enumerate(page["reviews"], start=1) if not isinstance(review, dict)]
        if not_objects:
            where = ", ".join(str(n) for n in not_objects[:5])
            raise DeliveredFileError(path, f"reviews list entry {where} is not an object")
        defaults = {"platform": page.get("platform") or path.stem, "fetched_at": page.get("fetched_at")}
        rows = [
            [
                json_value_text(review.get(c) if review.get(c) is not None else defaults.get(c))
                for c in rt.REVIEWS.columns
            ]
            for review in page["reviews"]
        ]
        frame = pd.DataFrame(rows, columns=list(rt.REVIEWS.columns), dtype="string")
        frame["_source_row"] = range(1, len(rows) + 1)  # position in the reviews list
        frame["_source_file"] = name
        load.add(rt.REVIEWS, frame)
        load.audits.append(FileAudit(name, rt.REVIEWS.name, len(rows), len(frame), file_checksum(data)))
    return load


GZIP_EXPANSION = 8  # a gzipped delivery is read decompressed: count it at about its inflated size


def configured_batch_bytes(document: dict | None = None) -> int:
    """``ingestion.batch_megabytes`` of cxlake/config/pipeline.yaml (or of ``document``) in bytes:
    how much delivered data one batch of days holds in memory (read, judged, written) before the
    next batch is read."""
    if document is None:
        text = resources.files("cxlake.config").joinpath("pipeline.yaml").read_text("utf-8")
        document = yaml.safe_load(text)
    value = ((document or {}).get("ingestion") or {}).get("batch_megabytes", 256)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"cxlake/config/pipeline.yaml: ingestion.batch_megabytes {value!r} "
            "is not a whole number of megabytes >= 1"
        )
    return value * 1024 * 1024


def batches_of_days(
    source: Source, landing_root: Path, days: Sequence[str], max_bytes: int | None = None
) -> list[list[str]]:
    """``days`` in order, cut into consecutive batches of at most ``max_bytes`` delivered (default:
    :func:`configured_batch_bytes`; a day larger than that is a batch of its own). Each batch is
    read, gated and written before the next is read, like a run of its own days: later batches see
    earlier ones as loaded history."""
    max_bytes = configured_batch_bytes() if max_bytes is None else max_bytes
    batches: list[list[str]] = []
    batch_bytes = 0
    for day in days:
        folder = landing_root / source.name / day
        size = sum(
            path.stat().st_size * (GZIP_EXPANSION if path.name.endswith(".gz") else 1)
            for path in (folder.rglob("*") if folder.is_dir() else ())
            if path.is_file()
        )
        if not batches or (size and batch_bytes and batch_bytes + size > max_bytes):
            batches.append([])
            batch_bytes = 0
        batches[-1].append(day)
        batch_bytes += size
    return batches


def read_days(source: Source, landing_root: Path, days: Sequence[str]) -> tuple[Delivery, ...]:
    """What ``source`` delivered for each of ``days``; a day whose file cannot be read says which
    and why, and nothing of that day is read."""
    deliveries = []
    for day in days:
        try:
            load = source.load_partition(landing_root, landing_root / source.name / day, day)
        except (DeliveredFileError, SurveyReadError) as error:
            deliveries.append(Delivery(day, unreadable=str(error)))
            continue
        deliveries.append(load.delivery())
    return tuple(deliveries)


SOURCES: tuple[Source, ...] = (
    Source(
        "reference",
        (rt.REFERENCE_STORES, rt.REFERENCE_STAFF),
        csv_source_loader(
            {landing.STORES.file_name: rt.REFERENCE_STORES, landing.STAFF.file_name: rt.REFERENCE_STAFF}
        ),
        "Region, store and staff roster.",
    ),
    Source(
        "crm",
        (rt.CRM_CUSTOMERS,),
        csv_source_loader({landing.CUSTOMERS.file_name: rt.CRM_CUSTOMERS}),
        "CRM customers.",
    ),
    Source(
        "pos",
        (rt.POS_TRANSACTIONS, rt.POS_TRANSACTION_LINES),
        csv_source_loader(
            {
                landing.TRANSACTIONS.file_name: rt.POS_TRANSACTIONS,
                landing.TRANSACTION_LINES.file_name: rt.POS_TRANSACTION_LINES,
            }
        ),
        "POS transactions and their lines.",
    ),
    Source(
        "survey_invitations",
        (rt.SURVEY_INVITATIONS,),
        csv_source_loader({landing.INVITATIONS.file_name: rt.SURVEY_INVITATIONS}),
        "Survey invitations.",
    ),
    Source(
        "qualtrics",
        (rt.QUALTRICS_RESPONSES, rt.QUALTRICS_ANSWERS),
        survey_loader(("qualtrics",), rt.QUALTRICS_RESPONSES, rt.QUALTRICS_ANSWERS),
        "Qualtrics survey exports (app and delivery orders).",
    ),
    Source(
        "wjx",
        (rt.WJX_RESPONSES, rt.WJX_ANSWERS),
        survey_loader(("wjx",), rt.WJX_RESPONSES, rt.WJX_ANSWERS),
        "问卷星 survey downloads (in-store QR surveys).",
    ),
    Source(
        "surveys",
        (rt.SURVEY_RESPONSES, rt.SURVEY_ANSWERS),
        survey_loader(None, rt.SURVEY_RESPONSES, rt.SURVEY_ANSWERS),
        "Survey exports of any tool `cxlake read-survey` reads (SurveyMonkey, 腾讯问卷, Qualtrics, "
        "问卷星, or a zipped download of one); each file's survey mapping names its tool.",
    ),
    Source("reviews", (rt.REVIEWS,), load_reviews, "Review platform API pages."),
    Source(
        "kano",
        (rt.KANO_RESPONSES, rt.KANO_ANSWERS),
        load_kano,
        "Kano survey downloads (问卷星, a few days a month).",
    ),
    Source(
        "survey_api",
        (rt.SURVEY_API_RESPONSES, rt.SURVEY_API_ANSWERS),
        survey_api_loader(with_scores),
        "Survey responses pulled from the survey platform's API, one row per version.",
    ),
    Source(
        "app_events",
        (rt.APP_EVENTS,),
        load_app_events,
        "Ordering-app events (JSON lines, one file per hour received).",
    ),
)
