"""`cxlake drivers` on files as analysts export them: the published example end to end, Chinese
headers in GB18030, empty cells, and errors that name the file, the line and the column."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlake.cli import app
from cxlake.insights.drivers import CLI_COLUMNS, load_settings

runner = CliRunner()

# A survey export with Chinese headers, an ID, a comment and unanswered touchpoints.
EXPORT = """编号,推荐意愿,口味,出餐速度,配送,评论
1,9,5,4,,很好喝
2,3,2,1,,等太久
3,7,4,3,4,
4,10,5,5,5,满意
5,6,3,3,2,一般
6,8,4,4,,
7,2,1,2,1,难喝
8,9,5,3,,
9,5,3,2,3,送餐慢
10,7,4,4,4,
"""


def _run(*args: str):
    return runner.invoke(app, ["drivers", *args])


def test_drivers_on_the_published_mtcars_example_writes_the_published_weights(tmp_path, published):
    source, out = tmp_path / "mtcars.csv", tmp_path / "drivers.csv"
    source.write_text(published.csv, encoding="utf-8")
    result = _run(str(source), "--outcome", "mpg", "--drivers", "cyl,disp,hp,gear", "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert tuple(table.columns) == CLI_COLUMNS
    weights = table.set_index("driver")["relative_weight"]
    for driver, expected in published.raw_weights.items():
        assert weights[driver] == pytest.approx(expected, abs=5e-4)
    assert f"R² {published.r_squared:.3f}" in result.output and "32 respondents" in result.output
    assert table["shapley_r2"].sum() == pytest.approx(published.r_squared, abs=5e-4)
    assert (table["ci_low"] <= table["relative_weight"]).all() and (
        table["relative_weight"] <= table["ci_high"]
    ).all()


def test_a_gb18030_export_with_chinese_headers_and_empty_cells(tmp_path):
    source, out = tmp_path / "export.csv", tmp_path / "drivers.csv"
    source.write_bytes(EXPORT.encode("gb18030"))
    result = _run(
        str(source), "--outcome", "推荐意愿", "--drivers", "口味,出餐速度,配送", "--out", str(out),
        "--encoding", "gb18030", "--bootstrap", "50",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(out.read_bytes().decode("gb18030"))).set_index("driver")
    assert list(table.index) == ["口味", "出餐速度", "配送"]
    assert table.loc["配送", "n"] == 6 and table.loc["口味", "n"] == 10  # empty = not answered
    assert table.loc["配送", "mean"] == pytest.approx((4 + 5 + 2 + 1 + 3 + 4) / 6)
    assert table["relative_weight"].sum() == pytest.approx(float(result.output.split("R² ")[1][:5]), abs=1e-3)


def test_without_drivers_every_other_all_numeric_column_is_one_and_the_output_says_which(tmp_path):
    source, out = tmp_path / "export.csv", tmp_path / "drivers.csv"
    lines = [line.split(",", 1)[1] for line in EXPORT.splitlines()]  # without the ID column
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run(str(source), "--outcome", "推荐意愿", "--out", str(out), "--bootstrap", "20")
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out)["driver"]) == ["口味", "出餐速度", "配送"]  # not the comment column
    assert "(口味, 出餐速度, 配送)" in result.output
    # 10 respondents: fitted as asked, with the warning the marts' threshold gives
    least = load_settings().min_responses
    assert f"warning: only 10 respondents; below {least} (key_drivers.min_responses" in result.output


def test_enough_respondents_get_no_warning_and_one_driver_is_one(tmp_path):
    source, out = tmp_path / "export.csv", tmp_path / "drivers.csv"
    rows = [f"{(i * 7) % 11},{(i * 3) % 5 + 1}" for i in range(load_settings().min_responses)]
    source.write_text("ltr,taste\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = _run(str(source), "--outcome", "ltr", "--out", str(out), "--bootstrap", "20")
    assert result.exit_code == 0, result.output
    assert "1 driver (taste)" in result.output and "warning" not in result.output


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        # a column that is not in the file: named, with the columns there are
        (None, ["--outcome", "推荐", "--drivers", "口味"], "no column '推荐' (columns: 编号, 推荐意愿"),
        (None, ["--outcome", "推荐意愿", "--drivers", "口味,服务"], "no column '服务'"),
        # a typo in a rating: the line and the column
        (("\n5,6,3,3,2,", "\n5,6,3,三,2,"), ["--outcome", "推荐意愿", "--drivers", "口味,出餐速度"],
         "line 6, column '出餐速度': '三' is not a number"),
        # a text column named as a driver
        (None, ["--outcome", "推荐意愿", "--drivers", "口味,评论"],
         "line 2, column '评论': '很好喝' is not a number"),
        # a record with a field too many
        (("\n3,7,4,3,4,", "\n3,7,4,3,4,,extra"), ["--outcome", "推荐意愿"], "line 4:"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_the_column(tmp_path, edit, args, message):
    source, out = tmp_path / "export.csv", tmp_path / "drivers.csv"
    text = EXPORT if edit is None else EXPORT.replace(*edit)
    source.write_text(text, encoding="utf-8")
    result = _run(str(source), *args, "--out", str(out), "--bootstrap", "20")
    assert result.exit_code == 1
    assert str(source) in result.output and message in result.output
    assert not out.exists()


def test_a_driver_without_variation_is_named(tmp_path):
    source, out = tmp_path / "flat.csv", tmp_path / "drivers.csv"
    source.write_text("ltr,taste,speed\n9,5,4\n3,5,2\n7,5,3\n", encoding="utf-8")
    result = _run(str(source), "--outcome", "ltr", "--out", str(out))
    assert result.exit_code == 1
    assert f"{source}: column 'taste' has no variation (every value is 5)" in result.output


def test_a_missing_file_is_named(tmp_path):
    result = _run(str(tmp_path / "nope.csv"), "--outcome", "ltr", "--out", str(tmp_path / "o.csv"))
    assert result.exit_code == 1 and "nope.csv" in result.output


def test_the_cli_uses_the_configured_shapley_limit():
    assert load_settings().shapley_max_drivers >= 4  # the published example gets its Shapley column
