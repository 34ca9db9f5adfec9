from __future__ import annotations

import re

import pytest
from docx import Document

from analysis.writing.drafts import GENRES, Draft, audit, make_draft, make_drafts
from analysis.writing.suggest import suggest
from findings_fixture import sample_findings

SCOPES = [{}, {"region": "haidong"}, {"region": "xining"}, {"size": "micro"}]


@pytest.fixture(scope="module", params=[0, 1, 2, 3], ids=["province", "haidong", "xining", "micro"])
def case(request):
    f = sample_findings(**SCOPES[request.param])
    return f, suggest(f)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_number_in_every_draft_comes_from_the_findings(case, lang):
    f, s = case
    for draft in make_drafts(f, s, lang):
        assert audit(draft, f) == [], draft.genre


def test_the_audit_catches_a_number_not_in_the_findings():
    f = sample_findings()
    draft = make_draft("summary", f, suggest(f), "zh")
    tampered = Draft(draft.genre, draft.lang, draft.markdown + "\n另有12.34%的企业表示满意。\n")
    assert audit(tampered, f) == ["12.34%"]


def _with_numbers_in_firms_words(f):
    """The findings with firms' answers full of numbers, and labels with digits."""
    from analysis.findings.model import Text

    blocks = [
        b.model_copy(
            update={
                "categories": [
                    c.model_copy(update={"quotes": ["利率8.5%，缺口200万元", "订单减少3成"]})
                    for c in b.categories
                ]
            }
        )
        for b in f.open_answers
    ]
    scope = f.scope.model_copy(update={"label": Text(zh="第3片区", en="District 3")})
    return f.model_copy(update={"open_answers": blocks, "scope": scope})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_numbers_in_firms_words_and_labels_are_not_audited(lang):
    f = _with_numbers_in_firms_words(sample_findings())
    drafts = make_drafts(f, suggest(f), lang)
    text = "".join(d.markdown for d in drafts)
    assert "“利率8.5%，缺口200万元”" in text and ("第3片区" in text or "District 3" in text)
    for draft in drafts:
        assert audit(draft, f) == [], draft.genre


def test_the_same_numbers_outside_a_quote_are_audited():
    f = _with_numbers_in_firms_words(sample_findings())
    draft = make_draft("summary", f, suggest(f), "zh")
    assert audit(draft, f) == []
    claimed = draft.markdown + "\n贷款利率8.5%，第3片区缺口200万元。\n"
    tampered = Draft(draft.genre, draft.lang, claimed, draft.not_claims)
    assert audit(tampered, f) == ["8.5%", "200万元"]


def test_social_report_is_short_and_about_one_issue(case):
    f, s = case
    text = re.sub(r"\s|[#*]", "", make_draft("social", f, s, "zh").text)
    assert 800 <= len(text) <= 1500, len(text)


def test_proposal_has_the_parts_of_the_genre():
    f = sample_findings()
    md = make_draft("proposal", f, suggest(f), "zh").markdown
    assert md.startswith("# 关于多措并举破解民营企业融资难融资贵问题的提案")
    for part in (
        "## 案由",
        "## 一、基本情况和存在的问题",
        "## 二、原因分析",
        "## 三、具体建议",
        "建议承办单位：",
    ):
        assert part in md
    assert re.search(r"^1\. ", md, re.M) and re.search(r"^3\. ", md, re.M)


def test_report_has_method_findings_suggestions_and_annex():
    f = sample_findings()
    md = make_draft("report", f, suggest(f), "zh").markdown
    for part in (
        "## 一、调研基本情况",
        "## 二、主要发现",
        "## 三、存在的主要问题",
        "## 四、对策建议",
        "## 附表",
        "| 融资难融资贵 | 61.4% |",
    ):
        assert part in md


def test_docx_follows_the_official_layout(tmp_path):
    f = sample_findings()
    paths = make_draft("proposal", f, suggest(f), "zh").write(tmp_path)
    doc = Document(next(p for p in paths if p.suffix == ".docx"))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    assert paragraphs[0].text.startswith("关于") and paragraphs[0].runs[0].font.size.pt == 22
    body = next(p for p in paragraphs if p.text.startswith("调查显示"))
    fonts = body.runs[0]._element.rPr.rFonts
    assert (
        fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
        == "仿宋"
    )
    assert body.runs[0].font.size.pt == 16 and body.paragraph_format.first_line_indent.pt == 32
    headings = [p.text for p in paragraphs if re.match(r"^[一二三四]、", p.text)]
    assert headings[:3] == ["一、基本情况和存在的问题", "二、原因分析", "三、具体建议"]


def test_html_draft_escapes_markup():
    draft = Draft("summary", "zh", "# 标题\n\n<script>alert(1)</script>\n")
    assert "<script>" not in draft.html() and "&lt;script&gt;" in draft.html()


def test_all_genres_in_both_languages():
    f = sample_findings()
    drafts = make_drafts(f, suggest(f), "en")
    assert [d.genre for d in drafts] == list(GENRES)
    assert all(d.title and "{{" not in d.markdown for d in drafts)
