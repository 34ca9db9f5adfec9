from __future__ import annotations

from dataclasses import replace

import pytest

from analysis.ingest.instrument import load_instrument
from analysis.writing.check import DraftCheckError, check_draft, other_region_names, require
from analysis.writing.drafts import make_drafts
from analysis.writing.suggest import suggest
from findings_fixture import sample_findings

INSTRUMENT = load_instrument()


@pytest.fixture(scope="module", params=[{}, {"region": "haidong"}], ids=["province", "haidong"])
def written(request, tmp_path_factory):
    """Every draft of a default and a 海东市 run, in zh and en, written as DOCX."""
    f = sample_findings(**request.param)
    s = suggest(f)
    folder = tmp_path_factory.mktemp("drafts")
    out = []
    for lang in ("zh", "en"):
        for d in make_drafts(f, s, lang):
            out.append((d, d.write(folder)[1]))
    return f, out


def test_every_draft_of_the_default_and_a_region_run_passes(written):
    f, drafts = written
    others = other_region_names(INSTRUMENT, f.scope.region)
    for draft, docx in drafts:
        assert check_draft(draft, docx, other_regions=others) == [], (draft.genre, draft.lang)
    require(drafts, other_regions=others)


def _draft(written, genre, lang="zh"):
    return next(d for d, _ in written[1] if d.genre == genre and d.lang == lang)


def _check(draft, tmp_path, markdown, **kw):
    tampered = replace(draft, markdown=markdown)
    docx = tampered.write(tmp_path)[1]
    return check_draft(tampered, docx, **kw)


def test_a_repeated_sentence_fails(written, tmp_path):
    d = _draft(written, "social")
    sentence = "调研发现，部分企业反映检查过多，希望有关部门统筹安排检查计划。"
    md = d.markdown.replace("## 二、原因分析", f"{sentence}\n\n{sentence}\n\n## 二、原因分析")
    problems = _check(d, tmp_path, md)
    assert any(p.startswith("a sentence is said twice: “调研发现") for p in problems)


def test_a_method_term_in_a_leaders_genre_fails(written, tmp_path):
    d = _draft(written, "proposal")
    md = d.markdown.replace(
        "## 办法和建议", "经泰勒线性化计算，95%置信区间为58.0%～64.7%。\n\n## 办法和建议"
    )
    problems = _check(d, tmp_path, md)
    assert "a term of method, '置信区间', in a document for leaders" in problems
    assert "a term of method, '泰勒', in a document for leaders" in problems


def test_the_report_keeps_its_method_in_the_annex(written):
    d = _draft(written, "report")
    docx = next(x for y, x in written[1] if y is d)
    assert check_draft(d, docx) == []
    assert "置信区间" in d.markdown.split("## 附件")[1]


def test_a_draft_outside_its_length_window_fails(written, tmp_path):
    d = _draft(written, "social")
    head = d.markdown.split("## 一、基本情况")[0]
    problems = _check(d, tmp_path, head + "\n::: right 2025年12月31日\n")
    assert any("characters of text, outside the genre's 800–1,500" in p for p in problems)


def test_a_short_draft_from_thin_evidence_is_noted_not_failed(written, tmp_path):
    """A region with few firms gives a short 社情民意: the run writes it and names it for
    the editor; missing apparatus still fails the run."""
    from dataclasses import replace

    from analysis.writing.check import DraftCheckError, require

    d = _draft(written, "social")
    head, rest = d.markdown.split("## 二、")  # causes and suggestions cut, the 落款 kept
    tail = rest[rest.index("\n::: ") :]
    short = replace(d, markdown=head + tail)
    docx = next(p for p in short.write(tmp_path) if p.suffix == ".docx")
    notes = require([(short, docx)])
    assert len(notes) == 1 and notes[0].startswith("social.zh: ")
    assert "outside the genre's 800–1,500 — edit it before sending" in notes[0]
    bare = replace(
        d, markdown="\n".join(x for x in d.markdown.splitlines() if not x.startswith("::: number"))
    )
    docx = next(p for p in bare.write(tmp_path / "b") if p.suffix == ".docx")
    with pytest.raises(DraftCheckError, match="the 期号 is missing"):
        require([(bare, docx)])


def test_a_summary_longer_than_one_page_fails(written, tmp_path):
    d = _draft(written, "summary")
    filler = "\n\n".join(
        ["走访中企业普遍反映，希望有关部门进一步加大支持力度，帮助企业渡过难关。" * 2] * 8
    )
    problems = _check(d, tmp_path, d.markdown + "\n\n" + filler + "\n")
    assert any(p.endswith("pages in the DOCX; the genre allows 1") for p in problems)


def test_missing_apparatus_is_named(written, tmp_path):
    d = _draft(written, "social")
    md = "\n".join(
        x for x in d.markdown.splitlines() if not x.startswith(("::: number", "::: split"))
    )
    problems = _check(d, tmp_path, md)
    assert any(p.startswith("the 期号 is missing") for p in problems)
    assert any(p.startswith("the 报送单位 is missing") for p in problems)
    p = _draft(written, "proposal", "en")
    md = p.markdown.replace("(Lead agencies:", "(Agencies:")
    assert any(x.startswith("the lead agencies is missing") for x in _check(p, tmp_path, md))


def test_leftover_markup_fails(written, tmp_path):
    d = _draft(written, "summary")
    md = d.markdown + "\n\n文中**未闭合的加粗，以及 ::: 未知指令\n"
    problems = _check(d, tmp_path, md)
    assert "markup left in the text: '**'" in problems
    assert "markup left in the text: ':::'" in problems


def test_the_software_s_name_fails(written, tmp_path):
    d = _draft(written, "report")
    md = d.markdown + "\n\n本报告由Qifang生成，参数见manifest.json。\n"
    problems = _check(d, tmp_path, md)
    assert "the software's name 'Qifang' appears in the draft" in problems
    assert "the software's name 'manifest.json' appears in the draft" in problems


def test_another_region_named_in_a_region_s_draft_fails(written, tmp_path):
    d = _draft(written, "report")
    others = other_region_names(INSTRUMENT, "haidong")
    md = d.markdown.replace("## 三、", "西宁市的情况与此类似。\n\n## 三、", 1)
    problems = _check(d, tmp_path, md, other_regions=others)
    named = [p for p in problems if p.startswith("another region is named in a region's draft")]
    assert named and "西宁市" in named[0]
    assert "海东市" not in others and "Haidong" not in others


def test_a_failing_draft_fails_the_run_with_every_problem(written, tmp_path):
    d = _draft(written, "social")
    tampered = replace(d, markdown=d.markdown.split("## 一、基本情况")[0] + "\n**残留")
    docx = tampered.write(tmp_path)[1]
    with pytest.raises(DraftCheckError, match=r"social\.zh \(social\.zh\.docx\):\n    - ") as err:
        require([(tampered, docx)])
    assert "'**'" in str(err.value) and "the 撰稿人 is missing" in str(err.value)


def test_an_english_draft_counts_quoted_chinese_by_its_length():
    """A firm's words stay in Chinese in the English drafts: a 40-character quotation
    reads as about 20 words, not as one."""
    from analysis.writing.check import _length

    quote = "“" + "企业反映订单减少回款周期变长" * 3 + "”"
    assert _length(f"In their words: {quote}.", "en") == 3 + 21
    assert _length("Firms, in their own words, said so.", "en") == 7


@pytest.mark.parametrize("cell", [{"region": "yushu", "size": "medium"}])
def test_two_difficulties_of_the_same_share_are_not_the_same_sentence_twice(cell, tmp_path):
    """A small cell of the sample (玉树 · 中型) where the 参阅's two difficulties are reported
    by the same share of firms: the second says so instead of repeating the first."""
    f = sample_findings(**cell)
    s = suggest(f)
    drafts = [(d, d.write(tmp_path)[1]) for lang in ("zh", "en") for d in make_drafts(f, s, lang)]
    summary = {d.lang: d for d, _ in drafts if d.genre == "summary"}
    assert "同样有" in summary["zh"].markdown
    assert "The same share of firms" in summary["en"].markdown
    require(drafts, other_regions=other_region_names(INSTRUMENT, f.scope.region))
