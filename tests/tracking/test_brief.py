"""The results brief states the sample's planted figures exactly, in zh and en."""

from __future__ import annotations

import re

import pytest

from analysis.tracking.brief import CHARTS, SECTIONS, ResultsBrief


def text(results, lang: str) -> str:
    brief = ResultsBrief(results, lang)
    html = "".join(brief.section(s).html for s in SECTIONS)
    return re.sub(r"<[^>]+>", "", html)


def test_the_brief_states_the_planted_figures(sample_results):
    zh = text(sample_results, "zh")
    for phrase in [
        "共报送政协提案5件、社情民意信息20篇、大会发言2篇、调研报告3篇、专报4篇，合计34篇（件）",
        "本期被采用15篇（件）、22次（其中2篇为上期报送）",
        "全国工商联采用6篇、省政协采用9篇、省委统战部采用4篇、省委办公厅采用3篇",
        "3篇被《每日情况》采编",
        "省级主要领导批示1篇、省级其他领导批示2篇",
        "截至期末被采用13篇（件），采用率38.2%",
        "天数中位数为21天",
        "立案4件，收到答复4件（A类（已解决或基本解决）2件、B类（正在解决或列入计划）2件），办结4件",
        "融资对接企业数1,200户、金额12.5亿元",
        "招聘用工企业数96家、岗位数800个",
        "捐赠企业数540家、金额2,134.56万元",
        "百企兴百村企业数150家、村数180个、金额3.2亿元",
        "法律服务工作站数9个",
        "督办事项43件",
    ]:
        assert phrase in zh, phrase
    assert "按企业标识去重（130家次）" in zh  # jobs: 96 firms in 130 firm-instances
    en = text(sample_results, "en")
    for phrase in [
        "sent 34 items",
        "15 items were adopted in the period (22 adoptions",
        "6 by 全国工商联, 9 by 省政协",
        "《每日情况》 carried 3",
        "CNY 1.25 billion",
        "CNY 21,345,600",
        "CNY 320 million",
        "800 jobs",
        "96 firms",
        "43 items",
        "a median of 21 days",
    ]:
        assert phrase in en, phrase


def test_the_channels_are_never_added_up(sample_results):
    # 6 + 9 + 4 + 3 = 22 channel items for 15 adopted items: 22 may appear as adoptions
    # (次), never as items (篇)
    zh = text(sample_results, "zh")
    assert "22篇" not in zh and "22次" in zh
    assert "22 items" not in text(sample_results, "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_draws(sample_results, lang):
    brief = ResultsBrief(sample_results, lang)
    drawn = {name: brief.chart(name) for name in CHARTS}
    assert all(c is not None and c.png[:4] == b"\x89PNG" for n, c in drawn.items()), drawn
    if lang == "zh":  # the alt text a screen reader reads has the figures
        assert "全国工商联 采用篇数 6；省政协 采用篇数 9" in drawn["channels"].alt


def test_no_firm_key_reaches_the_brief(sample_results):
    from analysis.sample._ledgers import _firm

    html = "".join(ResultsBrief(sample_results, "zh").section(s).html for s in SECTIONS)
    assert "91630100MA" not in html and _firm(1)[:12] not in html
    assert "91630100MA" not in sample_results.to_json()
