"""The 工作总结 and 工作信息 on the sample office's ledgers: planted figures stated
exactly, items never added up over channels, every number audited, the genre check,
one A4 page for the 工作信息 as LibreOffice lays it out."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import pytest

from analysis.ingest.office import ProfileError, load_office
from analysis.sample._ledgers import PLANTED
from analysis.tracking.drafts import audit, make_work_draft, make_work_drafts, trace
from analysis.tracking.spec import load_spec
from analysis.writing.check import check_draft


@pytest.fixture(scope="module")
def office():
    return load_office()


@pytest.fixture(scope="module")
def drafts(sample_results, office):
    return {(d.genre, d.lang): d for d in make_work_drafts(sample_results, load_spec(), office)}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_work_summary_states_the_planted_figures(drafts):
    text = _flat(drafts["work-summary", "zh"].text)
    s, sv = PLANTED["submitted"], PLANTED["services"]
    expected = [
        f"政协提案{s['proposal']}件",
        f"社情民意信息{s['social']}篇",
        f"大会发言{s['speech']}篇",
        f"调研报告{s['report']}篇",
        f"专报{s['special']}篇",
        f"合计{s['all']}篇（件）",
        f"采用{PLANTED['adopted_items']}篇（件）",
        f"含上年报送、本年采用的{PLANTED['carried_over']}篇",
        f"采用{PLANTED['adoption_instances']}次",
        *(f"{body}采用{n}篇" for body, n in PLANTED["channels"].items()),
        f"{PLANTED['publications']['《每日情况》']}篇被省委办公厅《每日情况》采编",
        f"{PLANTED['instructed']['items']}篇得到领导批示",
        f"得到省领导批示的{PLANTED['instructed']['provincial_items']}篇",
        f"得到市（州）领导批示的{PLANTED['instructed']['city_items']}篇",
        f"报送后{PLANTED['median_days_to_adoption']}天以内",
        f"立案{PLANTED['proposals']['filed']}件",
        f"A类{PLANTED['proposals']['A']}件",
        f"办结{PLANTED['proposals']['closed']}件",
        f"截至期末被采用{PLANTED['submitted_adopted']}篇（件）",
        f"为{sv['finance']['firms']:,}户小微企业发放贷款12.5亿元",
        f"组织{sv['jobs']['firms']}家民营企业提供就业岗位{sv['jobs']['posts']}个",
        f"发动{sv['donation']['firms']}家民营企业捐款捐物折合"
        + PLANTED["work_summary_wording"]["donation"],
        f"{sv['villages']['firms']}家民营企业在{sv['villages']['villages']}个村投入资金3.2亿元",
        f"法律服务工作站{sv['legal']['stations']}个",
        "督办涉企事项" + PLANTED["work_summary_wording"]["supervision"],
    ]
    missing = [x for x in expected if x not in text]
    assert not missing, missing
    # the sections follow the lines of work of the ledgers' YAML, in order
    headings = [h for h in drafts["work-summary", "zh"].markdown.splitlines() if h.startswith("#")]
    assert [h.split("）")[0][-1] for h in headings if h.startswith("### ")] == list("一二三四")
    assert [h for h in headings if h.startswith("## ")] == [
        "## 一、主要工作和成效",
        "## 二、存在的问题",
        "## 三、下一步工作打算",
    ]
    spec = load_spec()
    for line in spec.lines:
        assert line.heading.zh in text


def test_the_english_summary_states_them_too(drafts):
    text = " ".join(drafts["work-summary", "en"].text.split())
    for x in (
        "sent 34 items in all: 5 CPPCC proposals, 20 social-conditions reports",
        "15 items were adopted (2 of them sent the year before), in 22 adoptions",
        "6 were adopted by the All-China Federation of Industry and Commerce",
        "these figures do not add up",
        "CNY 1.25 billion to 1,200 firms",
        "worth over CNY 21.3 million",
        "Followed up over 40 items",
    ):
        assert x in text, x


def test_channels_are_listed_and_never_added_up(drafts, sample_results):
    """S2025-01 is adopted by three channels: the channels' counts add to 22, the items
    are 15; no draft prints the sum as a number of items."""
    total = sum(PLANTED["channels"].values())
    assert total == 22 != PLANTED["adopted_items"]
    for (genre, lang), d in drafts.items():
        text = _flat(d.text)
        assert f"{total}篇" not in text and f"{total} items" not in d.text, (genre, lang)
    # in words: an item adopted by several channels counts once in the total
    assert "总篇数只计一次" in _flat(drafts["work-summary", "zh"].text)


def test_every_number_traces_to_ledger_rows(drafts, sample_results, office):
    for d in drafts.values():
        assert audit(d, sample_results, office) == [], (d.genre, d.lang)
    rows = trace(drafts["work-summary", "zh"], sample_results, office)
    adopted = next(x for x in rows if x.get("number") == "15")
    assert "adoption.items" in adopted["facts"] and adopted["rows"]["events"]
    phrase = next(x for x in rows if x.get("phrase") == "40余")
    assert phrase["facts"] == ["service.supervision.items"] and len(phrase["rows"]["services"]) > 1


def test_the_audit_catches_a_number_or_a_phrase_typed_by_hand(drafts, sample_results, office):
    d = drafts["work-summary", "zh"]
    # (a number is checked against every count of the results, as the survey drafts'
    # audit does: 16 would pass, it is the provincial adoptions' count)
    typed = dataclasses.replace(d, markdown=d.markdown.replace("采用15篇", "采用17篇"))
    assert audit(typed, sample_results, office) == ["17"]
    typed = dataclasses.replace(d, markdown=d.markdown.replace("12.5亿元", "12.6亿元"))
    assert audit(typed, sample_results, office) == ["12.6亿元"]
    # a rounded figure typed by hand, not printed by the rules from its count
    typed = dataclasses.replace(d, markdown=d.markdown + "\n帮助企业解决问题50余件。\n")
    assert any("50余" in x for x in audit(typed, sample_results, office))
    # a traced phrase that the rules no longer give for the count
    typed = dataclasses.replace(d, markdown=d.markdown.replace("40余件", "30余件"))
    assert audit(typed, sample_results, office)
    typed = dataclasses.replace(d, markdown=d.markdown.replace("2,134万余元", "2,135万元"))
    assert "2,135万元" in audit(typed, sample_results, office)


@pytest.mark.parametrize("genre", ["work-summary", "work-info"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_drafts_pass_the_genre_check(drafts, genre, lang, tmp_path):
    d = drafts[genre, lang]
    docx = next(p for p in d.write(tmp_path) if p.suffix == ".docx")
    assert docx.name == f"{genre}.{lang}.docx"
    assert check_draft(d, docx) == []
    assert "因此" not in d.text and "therefore" not in d.text.lower()


def test_the_genre_check_fails_a_summary_without_its_sections(drafts, tmp_path):
    d = drafts["work-summary", "zh"]
    cut = d.markdown.split("## 二、存在的问题")[0] + "\n::: right 青海省工商业联合会\n"
    broken = dataclasses.replace(d, markdown=cut)
    docx = next(p for p in broken.write(tmp_path) if p.suffix == ".docx")
    problems = check_draft(broken, docx)
    assert any("存在的问题" in p for p in problems) and any("下一步" in p for p in problems)


def test_the_work_info_needs_its_issue_number(sample_results, office):
    lacking = dataclasses.replace(office, issues={"social": 12, "summary": 7})
    with pytest.raises(ProfileError, match="工作信息"):
        make_work_draft("work-info", sample_results, load_spec(), lacking, "zh")


SOFFICE, PDFINFO = shutil.which("soffice"), shutil.which("pdfinfo")


@pytest.mark.skipif(
    not (SOFFICE and PDFINFO),
    reason="LibreOffice and poppler-utils are not installed (make test installs them as root)",
)
def test_the_work_info_fits_one_a4_page(drafts, tmp_path):
    docs = [
        next(p for p in drafts["work-info", lang].write(tmp_path) if p.suffix == ".docx")
        for lang in ("zh", "en")
    ]
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *map(str, docs),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for doc in docs:
        info = subprocess.run(
            [PDFINFO, str(tmp_path / f"{doc.stem}.pdf")], capture_output=True, text=True, check=True
        ).stdout
        assert re.search(r"^Pages:\s+(\d+)", info, re.M).group(1) == "1", doc.name
