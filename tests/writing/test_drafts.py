from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from analysis.ingest.instrument import load_instrument
from analysis.ingest.office import department_codes, load_office
from analysis.writing._docx import title_lines
from analysis.writing.drafts import SURVEY_GENRES, Draft, audit, make_draft, make_drafts
from analysis.writing.suggest import suggest
from findings_fixture import sample_findings

SCOPES = [{}, {"region": "haidong"}, {"region": "xining"}, {"size": "micro"}]
SICHUAN = Path(__file__).parents[1] / "data" / "office" / "sichuan.yaml"


@pytest.fixture(scope="module", params=[0, 1, 2, 3], ids=["province", "haidong", "xining", "micro"])
def case(request):
    f = sample_findings(**SCOPES[request.param])
    return f, suggest(f)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_number_and_plain_phrase_in_every_draft_comes_from_the_findings(case, lang):
    f, s = case
    for draft in make_drafts(f, s, lang):
        assert audit(draft, f) == [], draft.genre


def test_the_audit_catches_a_number_not_in_the_findings():
    f = sample_findings()
    draft = make_draft("summary", f, suggest(f), "zh")
    tampered = replace(draft, markdown=draft.markdown + "\n另有12.34%的企业表示满意。\n")
    assert audit(tampered, f) == ["12.34%"]


def _with_numbers_in_firms_words(f):
    """The findings with firms' answers full of numbers, and labels with digits."""
    from analysis.findings.model import Text

    blocks = [
        b.model_copy(
            update={
                "categories": [
                    c.model_copy(update={"quotes": ["利率8.73%，缺口217万元", "订单减少3成"]})
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
    assert "“利率8.73%，缺口217万元”" in text and ("第3片区" in text or "District 3" in text)
    for draft in drafts:
        assert audit(draft, f) == [], draft.genre


def test_the_same_numbers_outside_a_quote_are_audited():
    f = _with_numbers_in_firms_words(sample_findings())
    draft = make_draft("summary", f, suggest(f), "zh")
    assert audit(draft, f) == []
    claimed = draft.markdown + "\n贷款利率8.73%，第3片区缺口217万元。\n"
    tampered = replace(draft, markdown=claimed)
    assert audit(tampered, f) == ["8.73%", "217万元"]



def test_the_audit_catches_a_plain_phrase_typed_by_hand():
    """The 社情民意 once called inspections 反映较为集中 while they ranked tenth of
    eleven: a phrase of the vocabulary must come from a fact through the rules."""
    f = sample_findings()
    draft = make_draft("social", f, suggest(f), "zh")
    tampered = replace(draft, markdown=draft.markdown + "\n涉企检查问题在企业中反映较为集中。\n")
    assert audit(tampered, f) == ["“反映较为集中” (a plain phrase printed by hand)"]


def test_plain_phrases_trace_to_their_facts():
    f = sample_findings()
    draft = make_draft("summary", f, suggest(f), "zh")
    traced = {(t.phrase, t.path) for t in draft.traces if t.lang == "zh"}
    assert ("反映最为集中", "difficulty.financing.share") in traced
    assert ("与上年基本持平", "index.overall.change") in traced
    assert ("微型企业为65.2%，是大型企业（14.6%）的4倍多", "difficulty.financing.gap") in traced


def test_the_social_report_follows_the_evidence():
    """Inspections rank tenth of eleven difficulties, yet enforcement conduct scores
    low and is a key driver: the report says that, not that inspections are cited most."""
    f = sample_findings()
    md = make_draft("social", f, suggest(f), "zh").markdown
    title = re.search(r"^# (.+)$", md, re.M).group(1)
    assert title == "执法规范性评价偏低且是影响企业满意度的关键因素"
    assert "反映较为集中" not in md and "反映最为集中" not in md
    assert "在各类困难中居第十位" in md
    assert "涉及多个部门" not in md and "投资" not in md  # no claim without evidence
    assert md.count("如，有企业反映：“") == 1  # one concrete case from firms' words


def test_the_proposal_has_the_genre_s_parts():
    f = sample_findings()
    md = make_draft("proposal", f, suggest(f), "zh").markdown
    assert md.startswith("# 关于破解小微民营企业融资难融资贵问题的提案")
    for part in (
        "::: field 提案人：青海省工商联",
        "::: field 界别：工商联界",
        "::: field 案由：",
        "## 提案理由",
        "### 一、基本情况",
        "### 二、存在的问题",
        "### 三、原因分析",
        "## 办法和建议",
        "::: right 2025年12月31日",
    ):
        assert part in md, part
    actions = re.findall(r"^（[一二三四五六]）.+（承办单位：([^）]+)）$", md, re.M)
    assert len(actions) >= 3
    assert "人民银行青海省分行、金融监管总局青海监管局" in actions[0]
    assert "《中华人民共和国民营经济促进法》" in md
    assert "83.5%" in md and "65.2%" in md  # the office's own numbers


def test_leaders_genres_speak_plainly_and_the_annex_keeps_the_statistics():
    f = sample_findings()
    s = suggest(f)
    for genre in ("proposal", "social", "summary"):
        md = make_draft(genre, f, s, "zh").markdown
        assert "置信区间" not in md and "校正后" not in md and "显著" not in md, genre
    report = make_draft("report", f, s, "zh").markdown
    body, annex = report.split("## 附件")
    assert "置信区间" not in body and "泰勒" not in body
    assert "95%置信区间" in annex and "Benjamini" in annex and "校正后p" in annex


def test_no_sentence_of_the_report_is_said_twice():
    f = sample_findings()
    report = make_draft("report", f, suggest(f), "zh").text
    sentences = [s for s in re.split(r"(?<=。)", report) if len(s) > 12]
    assert len(sentences) == len(set(sentences))


def test_a_region_s_report_names_no_other_region():
    f = sample_findings(region="haidong")
    md = make_draft("report", f, suggest(f), "zh").markdown
    others = [
        c.label.zh for c in load_instrument().question("region").choices if c.value != "haidong"
    ]
    assert not [r for r in others if r in md]
    assert "海东市人民政府" in md  # the region's own government as 承办单位


def test_number_style():
    f = sample_findings()
    s = suggest(f)
    md = make_draft("proposal", f, s, "zh").markdown + make_draft("report", f, s, "zh").markdown
    assert "约11.1万家" in md and "110,717" not in md
    assert "第一位" in md and "第1位" not in md
    assert not re.search(r"\d%?[–—-]\d", md)  # one range mark in Chinese: ～
    assert "62.3～64.3" in md


def test_another_province_s_profile_renames_every_department_without_code():
    f = sample_findings()
    s = suggest(f)
    codes = department_codes(load_instrument())
    qinghai, sichuan = load_office(None, codes), load_office(SICHUAN, codes)

    def names(office):
        return {b.get(lang) for c in codes for b in office.bodies(c) for lang in ("zh", "en")}

    sc_names = names(sichuan)
    # 省财政厅 is inside 四川省财政厅: a Qinghai name counts only where no Sichuan one holds it
    qh_only = [n for n in names(qinghai) if not any(n in m for m in sc_names)]
    for lang in ("zh", "en"):
        for draft in make_drafts(f, s, lang, sichuan):
            text = draft.markdown
            assert not [n for n in qh_only if n in text], (draft.genre, lang)
            assert "青海省工商" not in text and "Qinghai Federation" not in text
            assert audit(draft, f, sichuan) == []
    proposal = make_draft("proposal", f, s, "zh", sichuan).markdown
    assert "人民银行四川省分行" in proposal and "四川省工商联" in proposal
    assert "2026年1月12日" in proposal  # the profile's date


def test_docx_follows_gb_t_9704(tmp_path):
    f = sample_findings()
    paths = make_draft("proposal", f, suggest(f), "zh").write(tmp_path)
    doc = Document(next(p for p in paths if p.suffix == ".docx"))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 22 lines in the 225 mm type area
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    title = paragraphs[0]
    assert title.text == "关于破解小微民营企业\n融资难融资贵问题的提案"  # broken at sense
    assert title.runs[0].font.size.pt == 22
    body = next(p for p in paragraphs if p.text.startswith("2025年4月至9月"))
    fonts = body.runs[0]._element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋"
    assert body.runs[0].font.size.pt == 16 and body.paragraph_format.first_line_indent.pt == 32
    heading = next(p for p in paragraphs if p.text == "一、基本情况")
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    # page numbers: 4号, “— 1 —”, odd pages right, even pages left
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.alignment == 2 and even.alignment == 0  # right, left
    assert odd.text == "—  —" and odd.runs[0].font.size.pt == 14
    assert doc.core_properties.author == "青海省工商业联合会"
    assert "Qifang" not in (doc.core_properties.author + doc.core_properties.last_modified_by)


def test_english_drafts_are_laid_out_as_a_memo(tmp_path):
    f = sample_findings()
    paths = make_draft("proposal", f, suggest(f), "en").write(tmp_path)
    doc = Document(next(p for p in paths if p.suffix == ".docx"))
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    body = next(p for p in paragraphs if p.text.startswith("In April"))
    assert body.runs[0].font.size.pt == 11
    assert body.paragraph_format.first_line_indent is None and body.alignment == 0
    text = "\n".join(p.text for p in paragraphs)
    assert "To: Qinghai Provincial Committee" in text
    assert "People's Bank of China Qinghai Branch" in text
    assert "(in Chinese, identifying details removed)" in text and "“目前" in text


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        (
            "关于破解小微民营企业融资难融资贵问题的提案",
            ["关于破解小微民营企业", "融资难融资贵问题的提案"],
        ),
        (
            "关于规范涉企行政检查，推行“综合查一次”的提案",
            ["关于规范涉企行政检查，", "推行“综合查一次”的提案"],
        ),
        (
            "执法规范性评价偏低且是影响企业满意度的关键因素",
            ["执法规范性评价偏低且是", "影响企业满意度的关键因素"],
        ),
        ("关于优化营商环境的提案", ["关于优化营商环境的提案"]),
    ],
)
def test_titles_break_at_sense(title, lines):
    assert title_lines(title) == lines
    assert not any(line in ("的提案", "提案") for line in title_lines(title))


def test_html_draft_escapes_markup():
    draft = Draft("summary", "zh", "# 标题\n\n<script>alert(1)</script>\n")
    assert "<script>" not in draft.html() and "&lt;script&gt;" in draft.html()


def test_bold_before_a_digit_is_converted(tmp_path):
    draft = Draft("summary", "zh", "# 标题\n\n**调研概况。**2025年4月，走访企业。\n")
    assert "<strong>调研概况</strong>。2025年" in draft.html()
    doc = Document(draft.write(tmp_path)[1])
    assert all("**" not in p.text for p in doc.paragraphs)


def test_a_firm_s_quotation_marks_nest_as_single_ones():
    from analysis.writing.render import _quote

    assert _quote("建议推行“综合查一次”和非现场监管。") == "“建议推行‘综合查一次’和非现场监管”"


def test_all_genres_in_both_languages():
    f = sample_findings()
    drafts = make_drafts(f, suggest(f), "en")
    assert [d.genre for d in drafts] == list(SURVEY_GENRES)
    assert all(d.title and "{{" not in d.markdown for d in drafts)
