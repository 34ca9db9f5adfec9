from __future__ import annotations

import pytest

from analysis.ingest.headers import (
    HeaderIndex,
    closest,
    closest_header,
    header_key,
    metadata_role,
    question_number,
    title_of,
)


@pytest.fixture(scope="module")
def index(instrument):
    return HeaderIndex(instrument.visits)


@pytest.mark.parametrize(
    ("header", "question", "option"),
    [
        ("r_service", "r_service", None),
        ("15、您对政务服务便利度的满意度：", "r_service", None),
        ("15、(政务服务便利度)", "r_service", None),  # a wjx matrix row, short style
        ("15、请对以下方面评价—政务服务便利度", "r_service", None),  # long style
        ("15、请对以下方面评价——执法规范性", "r_enforcement", None),
        ("16、(减税降费)", "p_tax", None),  # a row of the policy matrix
        ("5、(融资难融资贵)", "difficulties", "financing"),  # an option's 0/1 column
        ("14、您企业目前面临的主要困难（可多选）:账款拖欠", "difficulties", "arrears"),
        ("Q7. 您企业所在的市州？", "region", None),
    ],
)
def test_headers_as_tools_write_them(index, header, question, option):
    q, o = index.match(header)
    assert (q.name, o) == (question, option)


@pytest.mark.parametrize("header", ["15、(办事便利程度)", "15、请评价—营商口碑", "备注", ""])
def test_headers_that_are_no_question(index, header):
    assert index.match(header) is None


@pytest.mark.parametrize(
    ("header", "known", "role"),
    [
        ("序号", True, "id"),
        ("提交答卷时间", True, "submitted"),
        ("所用时间", True, None),
        ("来自IP", True, None),
        ("来源详情", True, None),
        ("1、走访编号：", False, None),
    ],
)
def test_wjx_metadata(header, known, role):
    assert metadata_role(header) == (known, role)


def test_parts_of_a_header():
    assert header_key("12、您企业所在的市州：") == "您企业所在的市州"
    assert question_number("12、(融资服务)") == "12"
    assert title_of("12、(金融服务)") == "金融服务"
    assert title_of("11、请您对以下方面的满意度进行评价—融资服务") == "融资服务"
    assert title_of("3、企业所在区县：") == "企业所在区县"


def test_closest_names_the_nearest_question_or_nothing(instrument):
    items = list(instrument.items())
    q, ratio = closest("12、(执法检查规范)", items)
    assert q.name == "r_enforcement" and ratio >= 0.5
    assert closest("12、(办事便利程度)", items) is None  # nothing half alike: no guess
    header, _ = closest_header(instrument.question("r_finance"), ["12、(金融服务)", "备注"])
    assert header == "12、(金融服务)"
