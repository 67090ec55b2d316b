"""`cxlake score-reviews`: any CSV in, the same rows and columns out, plus four score columns."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from cxlake.cli.text import score_reviews_command
from cxlake.text import scoring
from cxlake.text.keywords import DocumentFrequency, document_frequency
from cxlake.text.scoring import SCORE_COLUMNS, score_texts

HEADER = ["review_id", "store", "comment", "rating"]
ROWS = [
    ["r1", "SH001", "好吃但是太慢了", "3"],
    ["r2", "SH002", "服务态度很好，咖啡非常好喝", "5"],
    ["r3", "BJ001", "", "4"],  # no text: scores blank, row kept
    ["r4", "BJ001", "太难吃了，又贵，再也不来了", "1"],
    [
        "r5",
        "=1+1",
        "环境一般,\n座位有点挤",
        "NA",
    ],  # comma and newline in a quoted field; NA and =... stay text
    ["r6", "GZ001", "00123", ""],  # digits stay digits (no int conversion), empty rating stays empty
]


def _app() -> typer.Typer:
    """The command as the lead registers it on the main app."""
    app = typer.Typer()
    app.command("score-reviews")(score_reviews_command)
    app.command("noop")(lambda: None)  # two commands, so the name is part of the invocation
    return app


def _run(*args: str):
    return CliRunner().invoke(_app(), ["score-reviews", *args])


def _write_csv(path, rows, encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))


def _read_csv(path, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-8-sig"])
def test_every_row_and_column_comes_back_in_order_with_the_scores_appended(tmp_path, encoding):
    source, out = tmp_path / "export.csv", tmp_path / "scored.csv"
    _write_csv(source, ROWS, encoding)
    result = _run(str(source), "--text-column", "comment", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "6 rows scored" in result.stderr
    header, *rows = _read_csv(out)
    assert header == [*HEADER, *SCORE_COLUMNS]
    assert [row[:4] for row in rows] == ROWS  # values round-trip unchanged, quoted newline included
    scores = {row[0]: dict(zip(SCORE_COLUMNS, row[4:], strict=True)) for row in rows}
    assert scores["r3"] == dict.fromkeys(SCORE_COLUMNS, "")
    assert scores["r1"]["aspects"] == "speed:negative;taste:positive"
    assert scores["r2"]["aspects"] == "staff:positive;taste:positive"
    assert scores["r4"]["aspects"] == "value:negative;taste:negative"
    assert scores["r5"]["aspects"] == "environment:negative"  # 一般 is neutral, 挤 negative
    assert scores["r2"]["sentiment_label"] == "positive" and scores["r4"]["sentiment_label"] == "negative"
    for row_id in ("r1", "r2", "r4", "r5", "r6"):
        score = float(scores[row_id]["sentiment_score"])
        assert 0.0 <= score <= 1.0
        assert scores[row_id]["sentiment_label"] == ("positive" if score >= 0.5 else "negative")
    assert "咖啡" in scores["r2"]["keywords"].split(" ")


def test_the_output_encoding_can_be_chosen(tmp_path):
    source, out = tmp_path / "export.csv", tmp_path / "scored.csv"
    _write_csv(source, ROWS, "utf-8")
    result = _run(str(source), "--text-column", "comment", "--out", str(out), "--encoding", "gb18030")
    assert result.exit_code == 0, result.output
    with pytest.raises(UnicodeDecodeError):
        out.read_bytes().decode("utf-8")
    assert [row[:4] for row in _read_csv(out, "gb18030")[1:]] == ROWS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--text-column", "review"],
            "export.csv: no column 'review'; columns: review_id, store, comment, rating",
        ),
        (["--text-column", "comment", "--encoding", "klingon"], "unknown output encoding 'klingon'"),
    ],
)
def test_a_bad_request_exits_1_with_a_one_line_error_and_writes_nothing(tmp_path, args, message):
    source, out = tmp_path / "export.csv", tmp_path / "scored.csv"
    _write_csv(source, ROWS, "utf-8")
    result = _run(str(source), *args, "--out", str(out))
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_file_in_no_known_encoding_is_refused_with_its_name(tmp_path):
    source = tmp_path / "latin.csv"
    source.write_bytes(b"comment\n" + b"\xff\xfe\xfa\x80\n")
    result = _run(str(source), "--text-column", "comment", "--out", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    assert "latin.csv" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_process_pool_gives_the_same_scores_in_the_same_order(monkeypatch):
    texts = [
        f"第{i}杯咖啡{'很好喝' if i % 3 else '太苦了'}，出餐{'很快' if i % 2 else '太慢'}" for i in range(60)
    ]
    texts[7] = ""
    in_process = score_texts(texts, workers=1)
    monkeypatch.setattr(scoring, "POOL_MIN_ROWS", 10)
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 8)  # eight chunks over two workers
    pooled = score_texts(texts, workers=2)
    assert pooled.equals(in_process)
    assert pooled.loc[7].tolist() == ["", "", "", ""]
    assert pooled.loc[0, "aspects"] == "speed:negative;taste:negative"
    assert pooled.loc[1, "aspects"] == "speed:positive;taste:positive"


def _terms_background(texts: list[str]) -> DocumentFrequency:
    """The background the pipeline keeps: each scored row's keyword_terms, blank texts left out."""
    terms = score_texts(texts, workers=1, with_terms=True)["keyword_terms"].dropna()
    return document_frequency(value.split() for value in terms)


def test_stored_keyword_terms_rank_a_batch_as_the_whole_corpus_would():
    # the pipeline scores one day against the terms kept from earlier days: same keywords as
    # scoring every text at once
    texts = [row[2] for row in ROWS]
    together = score_texts(texts, workers=1)
    for split in (1, len(texts) // 2, len(texts) - 1):
        later = score_texts(texts[split:], workers=1, background=_terms_background(texts[:split]))
        assert later["keywords"].tolist() == together["keywords"].tolist()[split:]


def test_keyword_terms_are_each_rows_keywords_as_often_as_used_and_blank_texts_have_none():
    scored = score_texts(["拿铁很好喝，拿铁很香", "", "还行"], workers=1, with_terms=True)
    assert scored["keyword_terms"].tolist()[0] == "拿铁 拿铁 好喝"  # as often as used
    assert scored["keyword_terms"].isna().tolist() == [False, True, False]
    assert scored["keyword_terms"].tolist()[2] == ""
    assert "keyword_terms" not in score_texts(["还行"], workers=1).columns


def test_a_word_the_whole_corpus_uses_ranks_below_a_rare_one():
    # one day's reviews: 排队 and 拿铁 once each; over the corpus 拿铁 is in every review
    day = ["排队很久，拿铁很好喝"]
    earlier = [f"拿铁第{i}杯" for i in range(20)]
    assert score_texts(day, workers=1).loc[0, "keywords"] == "排队 拿铁 好喝"  # equal IDF: first seen first
    ranked = score_texts(day, workers=1, background=_terms_background(earlier))
    assert ranked.loc[0, "keywords"] == "排队 好喝 拿铁"
    assert _terms_background(["", "  "]) == DocumentFrequency(0, {})


HOST_THAT_DEFERS_SIGTERM = """
import signal
signal.signal(signal.SIGTERM, lambda *_: None)  # as a Dagster step does while it runs
from cxlake.text import scoring
scoring.POOL_MIN_ROWS, scoring.CHUNK_ROWS = 10, 8
for _ in range(60):
    scoring.score_texts(["好吃但是太慢了", "环境干净"] * 40, workers=2)
print("finished")
"""


def test_the_pool_ends_in_a_host_that_defers_sigterm():
    # regression: the demo's `cxlake run` hung after scoring comments: the pool's workers had
    # inherited Dagster's SIGTERM handler, so terminate() left one waiting forever
    try:
        done = subprocess.run(
            [sys.executable, "-c", HOST_THAT_DEFERS_SIGTERM], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("score_texts hung: a pool worker never ended")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "finished"


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        # keyword lists and word clouds are shown unmasked: no piece of a contact detail may become one
        ("咖啡很好喝，有问题加微信 zhang_san88", {"zhang", "san88"}),
        ("邮箱 zhangsan@163.com 随时联系，拿铁不错", {"zhangsan", "com"}),
        ("蛋糕好吃，联系 Li.Wei＠qq。com", {"li", "wei", "qq"}),
        ("QQ号 12345678，服务很热情", {"12345678"}),
    ],
)
def test_no_piece_of_a_contact_detail_becomes_a_keyword(text, pieces):
    scored = score_texts([text], with_terms=True, workers=1)
    terms = set(scored.loc[0, "keyword_terms"].split()) | set(scored.loc[0, "keywords"].split())
    assert terms and not terms & pieces
