"""How erasure recognises a person's details in free text written in ways no fixture used: Chinese
numerals, full-width characters, an ideographic full stop in an address, spaced or dotted phones."""

from __future__ import annotations

import pytest

from cxlake.privacy.identity import IdentityError, Person, national_phone

PERSON = Person.of(
    customer_ids=["C000161"], phones=["18617433515"], emails=["echo33292@gmail.com", "张三@qq.com"]
)


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("打我 (+86)186 1743 3515 谢谢", "打我[erased] 谢谢"),
        ("电话１８６１７４３３５１５", "电话[erased]"),
        ("一八六一七四三三五一五", ""),
        ("电话幺八六 一七四三 三五一五，晚上打", "电话[erased]，晚上打"),
        ("0086-186-1743-3515", ""),
        ("186.1743.3515", ""),
        ("ECHO33292＠GMAIL。COM", ""),
        ("写信到 Echo33292@Gmail｡com 吧", "写信到 [erased] 吧"),
        ("张三@QQ.COM", ""),
    ],
)
def test_a_detail_written_another_way_is_erased(text, scrubbed):
    assert PERSON.matcher.scrubbed(text) == scrubbed


@pytest.mark.parametrize(
    "text",
    ["一二三", "共十二杯，186 元", "C0001610", "张3@qq.com", "18617433516", "tel 1861743351"],
)
def test_what_only_looks_like_them_stays(text):
    assert PERSON.matcher.scrubbed(text) == text


def test_their_id_becomes_the_same_pseudonym_everywhere():
    first = PERSON.matcher.scrubbed("客户C000161说")
    assert first.startswith("客户ERASED-") and first.endswith("说")
    assert PERSON.matcher.scrubbed("C000161") == first[2:-1]


@pytest.mark.parametrize(
    "written", ["(+86) 186-1743-3515", "+86 186 1743 3515", "８６１８６１７４３３５１５"]
)
def test_a_requested_phone_is_compared_by_its_national_number(written):
    assert national_phone(written) == "18617433515"


def test_a_phone_too_short_to_name_anyone_is_refused():
    with pytest.raises(IdentityError, match="has 2 digit"):
        national_phone("12")
