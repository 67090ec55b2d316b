"""The one masker of personal data: contact details in customers' text, in every form they write them.

Two tables pin it: forms that must be masked (each with the exact text an analyst then reads) and
texts that must come back unchanged, so masking never destroys what a comment says. When a new form
turns up in the data, add it to the first table.
"""

from __future__ import annotations

import duckdb
import pytest

from cxlake.access import pii
from cxlake.access.pii import Finding, find_contacts, mask_free_text

MUST_MASK = [
    # --- mobiles: ASCII, with every separator customers use ---
    ("请回电13800138000", "请回电[phone]"),
    ("请回电 138 0013 8000 谢谢", "请回电 [phone] 谢谢"),
    ("138-0013-8000", "[phone]"),
    ("138.0013.8000", "[phone]"),
    ("138_0013_8000", "[phone]"),
    ("138/0013/8000", "[phone]"),
    ("138·0013·8000", "[phone]"),
    ("138、0013、8000", "[phone]"),
    ("(138)0013-8000", "[phone]"),
    ("【138】【0013】【8000】", "[phone]"),
    ("138 - 0013 - 8000", "[phone]"),
    ("1 3 8 0 0 1 3 8 0 0 0", "[phone]"),
    ("我的手机号是一三八，零零一三，八零零零", "我的手机号是[phone]"),  # full-width commas
    ("138\n0013\n8000", "[phone]"),  # across lines
    ("tel13800138000", "tel[phone]"),
    ("13800138000abc", "[phone]abc"),
    # --- mobiles in other widths, scripts and numerals ---
    ("１３８００１３８０００", "[phone]"),  # full-width digits
    ("１３８－００１３－８０００", "[phone]"),  # full-width hyphens too
    ("１３８\u3000００１３\u3000８０００", "[phone]"),  # ideographic spaces
    ("一三八零零一三八零零零", "[phone]"),  # Chinese numerals
    ("一三八〇〇一三八〇〇〇", "[phone]"),  # 〇 for zero
    ("幺三八洞洞幺三八洞洞洞", "[phone]"),  # spoken forms: 幺 one, 洞 zero
    ("壹叁捌零零壹叁捌零零零", "[phone]"),  # financial numerals
    ("一三八 ○○一三 八○○○", "[phone]"),  # ○ (white circle) for zero, spaced
    ("138零零一三8000", "[phone]"),  # mixed
    ("①③⑧⓪⓪①③⑧⓪⓪⓪", "[phone]"),  # circled digits
    ("𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", "[phone]"),  # mathematical bold digits
    ("١٣٨٠٠١٣٨٠٠٠", "[phone]"),  # Arabic-Indic digits
    ("1\u200b3\u200b8\u200b0\u200b0\u200b1\u200b3\u200b8\u200b0\u200b0\u200b0", "[phone]"),  # zero-width
    ("138\u00ad0013\u00ad8000", "[phone]"),  # soft hyphens
    # --- country prefixes, landlines, other countries ---
    ("+86 138 0013 8000", "[phone]"),
    ("+86-13800138000", "[phone]"),
    ("＋８６ １３８００１３８０００", "[phone]"),
    ("0086 13800138000", "[phone]"),
    ("8613800138000", "[phone]"),
    ("010-1234 5678", "[phone]"),
    ("(010)12345678", "[phone]"),
    ("（0755）8765 4321", "[phone]"),
    ("021-6123456", "[phone]"),
    ("+86 10 1234 5678", "[phone]"),
    ("+1 415 555 0100", "[phone]"),
    ("+44 20 7946 0958", "[phone]"),
    ("+852 9123 4567", "[phone]"),
    ("0912-345-678", "[phone]"),  # a Taiwanese mobile
    ("fax 021 6123 4567 ext 89", "fax [phone] ext 89"),
    # --- a number after a word that announces one, whatever its shape ---
    ("电话：6234 5678", "电话：[phone]"),
    ("手机号码是 62345678", "手机号码是 [phone]"),
    ("call me 5556 1234", "call me [phone]"),
    ("有事拨打 95588 转 1", "有事拨打 [phone] 转 1"),
    # --- e-mail addresses ---
    ("写信到 wf@example.com 吧", "写信到 [email] 吧"),
    ("WF.Li+cx@Mail.Example.COM", "[email]"),
    ("wf＠example．com", "[email]"),  # full-width @ and dot
    ("ｗｆ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[email]"),  # all full-width
    ("wf@example。com", "[email]"),  # ideographic full stop as the dot
    ("wf﹫example.com", "[email]"),  # small @
    ("wf @ example . com", "[email]"),
    ("wf(at)example(dot)com", "[email]"),
    ("wf [at] example [dot] com", "[email]"),
    ("wf（at）example（dot）com", "[email]"),
    ("wf at example dot com", "[email]"),
    ("wf#qq.com", "[email]"),  # '#' for '@' to get past filters
    ("wf@@example.com", "[email]"),
    ("wf艾特qq点com", "[email]"),
    ("张三@qq.com", "[email]"),  # non-Latin local part (三 is a name here, not a digit)
    ("用户名@163。com", "[email]"),
    ("иван@mail.ru", "[email]"),
    ("写信wf@example.com。谢谢", "写信[email]。谢谢"),  # the CJK before and the 。 after are kept
    ("13800138000@163.com", "[email]"),
    ("123456@qq", "[email]"),  # provider without its top-level domain
    ("邮箱 wf@例子.中国 不对, wf@example.中国", "邮箱 wf@例子.中国 不对, [email]"),
    # --- WeChat, QQ ---
    ("加我微信：wxid_abc123", "加我微信：[wechat]"),
    ("微信号 Cx-Lover_88", "微信号 [wechat]"),
    ("wechat id：Cx2026lover", "wechat id：[wechat]"),
    ("加V：cx2026", "加V：[wechat]"),
    ("vx: abc12345", "vx: [wechat]"),
    ("VX abc12345", "VX [wechat]"),
    ("ｖｘ：ａｂｃ１２３４５", "ｖｘ：[wechat]"),  # full-width keyword and id
    ("v：wf_2026_cafe", "v：[wechat]"),
    ("微信 13800138000", "微信 [phone]"),  # a WeChat id that is a phone is a phone
    ("QQ 123456789", "QQ [qq]"),
    ("qq号：1234 5678", "qq号：[qq]"),
    ("扣扣 一二三四五六七八九", "扣扣 [qq]"),
    ("ＱＱ：１２３４５６７８", "ＱＱ：[qq]"),
    # --- ID cards and bank cards ---
    ("身份证11010119900307123X", "身份证[id]"),
    ("110101 19900307 123x", "[id]"),
    ("１１０１０１１９９００３０７１２３Ｘ", "[id]"),
    ("退款到 6222 0212 3456 7890 128", "退款到 [card]"),  # passes Luhn
    ("卡号4111-1111-1111-1111", "卡号[card]"),
    # --- several in one text, and the rest kept ---
    ("太慢了，请回电 138 0000 1234 或 wf@example.com", "太慢了，请回电 [phone] 或 [email]"),
    ("wf@example.com,13900139000 13800138000", "[email],[phone] [phone]"),
    ("2026-03-04 10:30 电话13800138000", "2026-03-04 10:30 电话[phone]"),
    # --- letters standing in for digits inside a digit run ---
    ("l38OOl38OOO", "[phone]"),
    ("138OO138OOO", "[phone]"),
    ("I3800I38000", "[phone]"),
    ("l3800138000", "[phone]"),
    ("|38OO|38OOO", "[phone]"),
    ("l38-OOl3-8OOO", "[phone]"),
    ("电话 I38 OOI3 8OOO", "电话 [phone]"),
    # --- digits said in English or pinyin ---
    ("one three eight zero zero one three eight zero zero zero", "[phone]"),
    ("Oh, one three eight oh oh one three eight oh oh oh", "Oh, [phone]"),  # "oh" for zero, not the "Oh,"
    ("my number is one three eight double oh one three eight triple oh", "my number is [phone]"),
    ("one three eight, zero zero one three, eight zero zero zero", "[phone]"),
    ("138 zero zero one three eight zero zero zero", "[phone]"),  # digits, then words
    ("yao san ba ling ling yao san ba ling ling ling", "[phone]"),
    ("yi san ba, ling ling yi san, ba ling ling ling", "[phone]"),
    ("yaosanbalinglingyaosanbalinglingling", "[phone]"),  # pinyin written without spaces
    ("Yāo sān bā líng líng yāo sān bā líng líng líng", "[phone]"),  # with tone marks
    ("我的手机 yao san ba ling ling yao san ba ling ling ling", "我的手机 [phone]"),
    # --- WeChat under the names that get past a filter, ids with no colon ---
    ("加v cx2026", "加v [wechat]"),
    ("+v：cx2026", "+v：[wechat]"),
    ("➕V cx2026", "➕V [wechat]"),
    ("vx号 abc12345", "vx号 [wechat]"),
    ("威信 abc12345", "威信 [wechat]"),
    ("薇信abc12345", "薇信[wechat]"),
    ("微x abc12345", "微x [wechat]"),
    ("V信 cx2026", "V信 [wechat]"),
    ("徽信 cx2026", "徽信 [wechat]"),
    ("卫星号：cx2026", "卫星号：[wechat]"),  # "satellite", said like 微信
    ("绿泡泡 cx2026", "绿泡泡 [wechat]"),  # "green bubble"
    ("加薇 cx_2026", "加薇 [wechat]"),
    ("加我v：cx2026，备注咖啡", "加我v：[wechat]，备注咖啡"),
    ("wechat: cx2026", "wechat: [wechat]"),
    ("We Chat: cx2026", "We Chat: [wechat]"),
    ("wei xin: cx2026", "wei xin: [wechat]"),
    ("我的微信是 wxid_ab12cd34ef，有空聊", "我的微信是 [wechat]，有空聊"),
    ("微信 123456789", "微信 [wechat]"),  # a WeChat id of digits (a QQ number)
    ("微信号 一二三四五六七八", "微信号 [wechat]"),
    # --- a local number without its area code, right after a word that dials it ---
    ("打 6234 5678 找王经理", "打 [phone] 找王经理"),
    ("有事拨 6234-5678", "有事拨 [phone]"),
    ("座机8765 4321", "座机[phone]"),
    ("tel：62345678", "tel：[phone]"),
    # --- more forms customers write ---
    ("1三8零0一3八0零0", "[phone]"),  # digits and numerals interleaved
    ("1️⃣3️⃣8️⃣0️⃣0️⃣1️⃣3️⃣8️⃣0️⃣0️⃣0️⃣", "[phone]"),  # keycap emoji
    ("138❤️0013❤️8000", "[phone]"),  # emoji as separators
    ("138🌟0013🌟8000", "[phone]"),
    ("📞13800138000", "📞[phone]"),
    ("☎ 6234 5678", "☎ [phone]"),  # a phone emoji announces a number as 电话 does
    ("📱：138-0013-8000", "📱：[phone]"),
    ("一三八 零零一三 八零零零谢谢", "[phone]谢谢"),
    ("电话 138 0013 8000 谢谢！", "电话 [phone] 谢谢！"),
    ("13800138000一般不接", "[phone]一般不接"),  # 一 of 一般 is no 12th digit
    ("13800138000，13900139000两个号都可以", "[phone]，[phone]两个号都可以"),
    ("一三八零零一三八零零零一般不接", "[phone]一般不接"),
    ("幺三八洞洞幺三八洞洞洞两个号都行", "[phone]两个号都行"),
    ("13800138000（微信同号）", "[phone]（微信同号）"),
    ("有问题请联系店长（电话13800138000）谢谢", "有问题请联系店长（电话[phone]）谢谢"),
    ("Tel.: 6234 5678", "Tel.: [phone]"),
    ("TEL：021－61234567", "TEL：[phone]"),
    ("021-61234567转808", "[phone]转808"),
    ("电话:+86(21)6123-4567", "电话:[phone]"),
    ("QQ邮箱：123456789#qq.com", "QQ邮箱：[email]"),
    ("邮箱 123456789艾特qq.com", "邮箱 [email]"),
    ("wf @ qq 点 com", "[email]"),
    ("wf at qq", "[email]"),
    ("josé.garcía@example.com", "[email]"),  # accents fold to their letters
    ("wf★qq.com（★换成@）", "[email]（★换成@）"),  # "replace ★ by @"
    ("邮箱：wf☆163.com", "邮箱：[email]"),
    ("wf(a)qq.com", "[email]"),
    ("13８ОО13８ООО", "[phone]"),  # Cyrillic О for 0
    ("138★0013★8000", "[phone]"),
    ("微博@咖啡小王子", "微博[account]"),
    ("weibo: @cx_lover", "weibo: [account]"),
    ("钉钉号：cxdd2026", "钉钉号：[account]"),
    ("抖音号 cx_2026coffee", "抖音号 [account]"),
    ("支付宝账号：wf_2026", "支付宝账号：[account]"),
    ("支付宝账号 wf@example.com", "支付宝账号 [email]"),  # most often a phone or an e-mail address
    ("支付宝：13800138000", "支付宝：[phone]"),
    ("银行卡号 6222 0212 3456 7890 12", "银行卡号 [card]"),  # after 卡号 with or without Luhn
    ("工行卡 6222 0212 3456 7890 128", "工行卡 [card]"),
    ("订单号 13800138000", "订单号 [phone]"),  # too short for an order number: a phone
    ("5 110101 19900307 123X", "5 [id]"),  # a stray digit before an ID card in groups
]

MUST_KEEP = [
    "太慢了",
    "等了快二十分钟。有点失望😡",
    "35元",
    "拿铁 35.5 元，美式 28 元",
    "总共花了 1,380,013 元",
    "一共 3,500,000 元的装修",
    "1,2,3,4,5,6,7,8,9,10",
    "0.5 1.2 3.4 5.6",
    "138****8000",  # already masked by the customer
    "微信：王先生",  # no id after the keyword
    "2026-03-04",
    "2026/03/04 10:30",
    "2026年3月4日",
    "二〇二六年三月四日",
    "12:30",
    "13:00-14:00 15:00-16:00",
    "营业时间9:00-22:00",
    "点了3杯，等了2次",
    "一杯两杯三杯",
    "三五个朋友一起来",
    "一二三四五六七八九十",
    "S001 门店",
    "在 S001 和 S002 之间",
    "订单号 T20260304000123",
    "订单号 20260304123456789",  # 17 digits: not a phone, an ID card, or a Luhn card
    "会员卡 1234",
    "打了 3 次电话都没人接",
    "电话一直打不通",
    "联系了5个店员",
    "等了20分钟 (约 1200 秒)",
    "1 2 3 4 5 6 7 8 9 10",
    "评分 4.5/5",
    "满 100 减 20",
    "第 10086 号",  # five digits with no announcing word
    "vitamins and very good coffee",
    "微信支付很方便",
    "qq音乐放的歌好听",
    "meet at the store",
    "#好喝# 推荐",
    "price@store 35",  # no domain
    "a@b",  # no domain, no known provider
    "3.1415926",
    "温度 -5°C",
    # prices, times, dates, sizes, counts, ids and versions, and words that look like keywords
    "¥35.00 两杯",
    "一共35块",
    "14:30-15:00",
    "2026.03.04",
    "3月4号下午3点到的",
    "2026年3月4日14点30分",
    "500ml 的杯子",
    "点了2杯",
    "满30减5",
    "好评率 85%",
    "等了10-15分钟",
    "订单号 A2026030412345",
    "订单号 5297891185171207",  # passes Luhn like a card, but is named as an order
    "交易单号：4910286904250665",
    "Order #1234567890123 took forever",
    "取餐码 3859",
    "取餐号 12345678",  # 8 digits with no word that dials them (see pii._LOCAL)
    "Wi-Fi 密码 12345678",
    "IMG_20260304_123456.jpg",
    "S001 店和 S012 店",
    "APP 版本 V2.0 闪退",
    "v2.3.1 版本更新后打不开",
    "iPhone 15 上用小程序",
    "O2O 外卖",
    "中国移动 10086",
    "打了9折，29.9元",
    "打包 2 份",
    "打了 12345678 次电话",
    "拨了好几次都没人接",
    "找零 20 元",
    "手机尾号 8000",
    "用卡号尾号 1234 的卡付的",
    "第 2 次来，4 人桌",
    "买一送一，第二杯半价",
    "微信支付 128000 元",
    "用微信付了 35 元",
    "加vanilla糖浆",
    "I paid by wechat because it is easy",
    "we chat together while waiting",
    "meet at outlook",
    "I love the vanilla latte",
    "one of the two staff were nice",
    "I ordered one two three four five drinks",
    "lol 2333",
    "too good, 10 out of 10",
    "Oolong 乌龙茶 500ml",
    "卫生很好，维修及时",
    "茉莉奶绿好喝，支持",
    "服务★★★★★ 五星好评",
    "1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9 1 2",  # 18 of these are no ID card
    "评分 5 5 4 5 3 5 5 4 5 5 4 5 3 5 5 4 5 5 4 5 5",
    "微博上看到的推荐",
    "小红书种草来的",
    "支付宝付款很方便",
    "支付宝到账 35 元",
    "抖音 100000 赞",
    "微信群 12345678 人",
    "ISBN 9787111213826",
    "",
]


@pytest.mark.parametrize(("text", "masked"), MUST_MASK, ids=[f"{i:02d}" for i in range(len(MUST_MASK))])
def test_contact_details_in_text_are_masked_in_every_form(text, masked):
    assert mask_free_text(text) == masked


@pytest.mark.parametrize("text", MUST_KEEP, ids=[f"{i:02d}" for i in range(len(MUST_KEEP))])
def test_text_without_contact_details_comes_back_unchanged(text):
    assert mask_free_text(text) == text


def test_the_tables_are_big_enough_to_mean_something():
    assert len(MUST_MASK) >= 40 and len(MUST_KEEP) >= 20
    assert {masked.count("[") for _, masked in MUST_MASK} >= {1, 2}
    assert set(pii.LABELS) == {"email", "wechat", "qq", "id", "card", "phone", "account"}
    assert all(f"[{label}]" in " ".join(masked for _, masked in MUST_MASK) for label in pii.LABELS)


def test_findings_point_into_the_original_text_not_the_folded_one():
    text = "电话：１３８－００１３－８０００，邮箱 ｗｆ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    assert find_contacts(text) == [Finding("phone", 3, 16), Finding("email", 20, 34)]
    assert text[3:16] == "１３８－００１３－８０００"


def test_a_character_that_folds_to_two_maps_back_to_itself():
    # ⑩ folds to "10", ㈠ to "(1)": positions after them must still point at the right characters
    assert mask_free_text("⑩号桌 ㈠ 电话 13800138000") == "⑩号桌 ㈠ 电话 [phone]"


def test_missing_text_stays_missing():
    assert mask_free_text(None) is None
    assert pii.mask("free_text", None) is None
    assert pii.mask("phone", 12345) == 12345  # not text: nothing to mask


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("name", "王芳", "王**"),
        ("name", "Li Lei", "L**"),
        ("name", "", "**"),
        ("phone", "13800001234", "*******1234"),
        ("phone", "+86 138 0000 1234", "*******1234"),
        ("email", "wf@example.com", "***@example.com"),
        ("email", "wf＠Example．com", "***@Example.com"),  # full width: the domain still kept
        ("email", "wf@example。com", "***@example.com"),
        ("email", "not-an-email", "***@***"),
        ("email", "wf@example.com 13800138000", "***@***"),  # junk after the domain is not kept
        ("email", "a@b@example.org", "***@example.org"),
        ("ip", "203.0.113.57", "203.0.*.*"),
        ("ip", "2001:db8::1", "***"),
        ("ip", "not an ip", "***"),
    ],
)
def test_columns_of_one_personal_value_keep_only_what_a_call_back_list_needs(kind, value, masked):
    assert pii.mask(kind, value) == masked


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown PII kind 'ssn'"):
        pii.mask("ssn", "x")
    with pytest.raises(ValueError, match="unknown PII kind"):
        pii.sql_function("ssn")


def test_duckdb_gets_the_same_masking_as_python_and_registering_twice_is_harmless():
    connection = pii.register(pii.register(duckdb.connect()))
    texts = [text for text, _ in MUST_MASK] + MUST_KEEP + [None]
    expected = [masked for _, masked in MUST_MASK] + MUST_KEEP + [None]
    connection.execute("create table t (i integer, v varchar)")
    connection.executemany("insert into t values (?, ?)", list(enumerate(texts)))
    masked = connection.execute("select cx_mask_free_text(v) from t order by i").fetchall()
    assert [value for (value,) in masked] == expected == [mask_free_text(text) for text in texts]
    assert connection.execute(
        "select cx_mask_name('王芳'), cx_mask_phone('13800001234'), cx_mask_email('a@b.cn'),"
        " cx_mask_ip('1.2.3.4')"
    ).fetchone() == ("王**", "*******1234", "***@b.cn", "1.2.*.*")


def test_a_connection_without_the_functions_fails_instead_of_leaking():
    from cxlake.access.roles import masked_sql

    with pytest.raises(duckdb.CatalogException, match="cx_mask_free_text"):
        duckdb.connect().execute("select " + masked_sql("'13800138000'", "free_text"))
