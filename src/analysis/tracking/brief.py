"""The results brief: sections of text and charts made from ``results.json``.

``notebooks/4-office-results.ipynb`` shows one section or chart per cell; the runner
exports its outputs as ``brief.html`` and ``brief.pdf`` with the same exporter and
stylesheet as the policy brief. Sections are blocks of
``templates/results.<lang>.html.j2``, rendered by the project's one template
environment (:func:`analysis.writing.render.environment`, autoescaped) with this
stage's templates in front; charts are drawn by :mod:`analysis.writing.charts`. Both
only format: every figure comes from :class:`~analysis.tracking.model.Results`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
import pandas as pd

from analysis.tracking.model import Indicator, Results
from analysis.writing import charts, numfmt, render
from analysis.writing.brief import Html

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = ("title", "summary", "politics", "topics", "services", "loop", "method")
CHARTS = ("kinds", "channels", "days", "topics", "firms", "amounts", "loop", "loop_scores")


@cache
def environment() -> jinja2.Environment:
    """The writing stage's environment with this stage's templates in front, and the
    ledger formats as filters (its own filter table: the shared one is not touched)."""
    base = render.environment(autoescape=True)
    env = base.overlay(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), base.loader])
    )
    env.filters = dict(base.filters)
    env.filters["amount"] = jinja2.pass_context(
        lambda ctx, v: numfmt.amount_exact(v, ctx.get("lang", "zh"))
    )
    env.filters["count"] = numfmt.count
    env.filters["pct"] = numfmt.pct
    env.filters["change"] = jinja2.pass_context(lambda ctx, i: change(i, ctx.get("lang", "zh")))
    return env


def figure(indicator: Indicator, value: float | None, lang: str = "zh") -> str:
    """An indicator's value as printed: 61.4% or 66.6分."""
    if indicator.kind == "share":
        return numfmt.pct(value)
    return numfmt.score(value, lang)


def change(i: Indicator, lang: str = "zh") -> str:
    """An indicator's change since the run's wave, with its interval and test:
    ``提高4.5个百分点（95%置信区间：-0.3%–9.4%），差异不显著（校正后p=0.39）``."""
    if i.change is None:
        return ""
    if i.kind == "share":
        size = numfmt.points(i.change, lang)
        ci = numfmt.interval(i.ci_low, i.ci_high, "pct", lang, i.confidence)
    else:
        size = numfmt.score_change(i.change, lang)
        ci = numfmt.interval(i.ci_low, i.ci_high, "score", lang, i.confidence)
    p = numfmt.p_value(i.p_adjusted)
    if lang == "en":
        test = f", {'significant' if i.significant else 'not significant'} (adjusted {p})"
        return f"{size}{ci}{test}"
    test = f"，差异{'显著' if i.significant else '不显著'}（校正后{p}）"
    return f"{size}{ci}{test}"


class ResultsBrief:
    """Sections and charts of one results brief, in one language.

    Examples
    --------
    >>> brief = ResultsBrief.from_folder("briefs/results-2025")  # doctest: +SKIP
    >>> brief.section("summary")  # doctest: +SKIP
    """

    def __init__(self, results: Results, lang: str = "zh"):
        if lang not in ("zh", "en"):
            raise ValueError("lang must be zh or en")
        self.results = results
        self.lang = lang
        self._template = environment().get_template(f"results.{lang}.html.j2")

    @classmethod
    def from_folder(cls, folder: str | Path, lang: str = "zh") -> ResultsBrief:
        return cls(Results.load(Path(folder) / "results.json"), lang)

    def section(self, name: str) -> Html:
        """One section of the brief as HTML."""
        if name not in SECTIONS:
            raise ValueError(f"section must be one of {', '.join(SECTIONS)}")
        ctx = self._template.new_context(
            {
                "r": self.results,
                "lang": self.lang,
                "figure": lambda i, v: figure(i, v, self.lang),
            }
        )
        return Html("".join(self._template.blocks[name](ctx)).strip())

    def _t(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh

    def chart(self, name: str) -> charts.Chart | None:
        """One chart of the brief; None when it has nothing to show."""
        if name not in CHARTS:
            raise ValueError(f"chart must be one of {', '.join(CHARTS)}")
        return getattr(self, f"_chart_{name}")()

    def _chart_kinds(self):
        r = self.results
        rows = [
            {"label": k.label.get(self.lang), "sent": k.submitted.value, "adopted": k.adopted.value}
            for k in r.by_kind
            if k.submitted.value or k.adopted.value
        ]
        if not rows:
            return None
        return charts.count_bars(
            pd.DataFrame(rows),
            [
                ("sent", self._t("报送", "sent"), charts.PALETTE["muted"]),
                ("adopted", self._t("被采用", "adopted"), charts.PALETTE["main"]),
            ],
            title=self._t("分类别报送和采用篇（件）数", "Items sent and adopted, by kind"),
            caption=self._t(
                "注：被采用篇数含本期采用的上期报送件。",
                "Adopted items include items sent earlier and adopted in the period.",
            ),
        )

    def _chart_channels(self):
        channels = self.results.adoption.by_channel
        if not channels:
            return None
        rows = [{"label": c.body, "items": c.items.value} for c in channels]
        return charts.count_bars(
            pd.DataFrame(rows),
            [("items", self._t("采用篇数", "items adopted"), charts.PALETTE["main"])],
            title=self._t("各渠道采用篇数", "Items adopted, by channel"),
            caption=self._t(
                "注：一篇可被多个渠道采用，各渠道篇数不能相加。",
                "One item may be adopted by several channels: the channels' counts do not add up.",
            ),
        )

    def _chart_days(self):
        days = self.results.adoption.days
        if days is None:
            return None
        rows = [{"label": f"{label}{self._t('天', ' days')}", "n": n} for label, n in days.bins]
        return charts.count_bars(
            pd.DataFrame(rows),
            [("n", self._t("篇数", "items"), charts.PALETTE["main"])],
            title=self._t("从报送到首次采用的天数", "Days from submission to first adoption"),
        )

    def _chart_topics(self):
        topics = self.results.topics
        if not topics:
            return None
        rows = [
            {"label": t.label, "sent": t.submitted.value, "adopted": t.adopted.value}
            for t in topics[:10]
        ]
        return charts.count_bars(
            pd.DataFrame(rows),
            [
                ("sent", self._t("报送", "sent"), charts.PALETTE["muted"]),
                ("adopted", self._t("被采用", "adopted"), charts.PALETTE["main"]),
            ],
            title=self._t("分主题报送和采用篇（件）数", "Items sent and adopted, by topic"),
            caption=self._t("注：报送最多的10个主题。", "The ten topics with most items sent.")
            if len(topics) > 10
            else "",
        )

    def _measure_chart(self, money: bool):
        rows = []
        for s in self.results.services:
            for m in s.measures:
                if m.money == money and (money or m.name == "firms") and m.value.value:
                    value = m.value.value / 1e4 if money else m.value.value
                    rows.append({"label": s.label.get(self.lang), "value": value})
        if not rows:
            return None
        if money:
            return charts.count_bars(
                pd.DataFrame(rows),
                [("value", self._t("金额", "amount"), charts.PALETTE["main"])],
                title=self._t("各类服务涉及金额（万元）", "Money involved, by kind (CNY 10,000)"),
                digits=0,
            )
        return charts.count_bars(
            pd.DataFrame(rows),
            [("value", self._t("企业数", "firms"), charts.PALETTE["main"])],
            title=self._t("各类服务覆盖企业数", "Firms served, by kind"),
            caption=self._t(
                "注：有企业标识的台账按企业去重，其余按活动累计，见正文说明。",
                "Firms are deduplicated by key where the ledger has one, otherwise added "
                "per activity (see the notes).",
            ),
        )

    def _chart_firms(self):
        return self._measure_chart(money=False)

    def _chart_amounts(self):
        return self._measure_chart(money=True)

    def _loop_chart(self, kind: str):
        rows = []
        for topic in self.results.loop:
            for i in topic.indicators:
                if i.kind == kind and i.change is not None:
                    scale = 100 if kind == "share" else 1
                    rows.append(
                        {
                            "label": f"{topic.topic.get(self.lang)}（{i.scope.get(self.lang)}）"
                            if self.lang == "zh"
                            else f"{topic.topic.en} ({i.scope.en})",
                            "estimate": i.change * scale,
                            "ci_low": i.ci_low * scale,
                            "ci_high": i.ci_high * scale,
                            "group": "significant" if i.significant else "not",
                        }
                    )
        if not rows:
            return None
        share = kind == "share"
        return charts.dots(
            pd.DataFrame(rows),
            0.0,
            title=self._t(
                "建议报送后下一轮调查中相关比例的变化（百分点）"
                if share
                else "建议报送后下一轮调查中相关得分的变化（分）",
                "Change of the topic's share in the next wave (percentage points)"
                if share
                else "Change of the topic's score in the next wave (points)",
            ),
            caption=self._t(
                "注：误差线为95%置信区间；这是时间上的先后关联，不表明变化由报送引起。",
                "Whiskers: 95% confidence intervals. An association in time, not an effect "
                "of the submissions.",
            ),
            reference_label=self._t("无变化", "no change"),
            colours={"significant": charts.PALETTE["main"], "not": charts.PALETTE["muted"]},
            legend={
                "significant": self._t("变化显著", "significant"),
                "not": self._t("变化不显著", "not significant"),
            },
        )

    def _chart_loop(self):
        return self._loop_chart("share")

    def _chart_loop_scores(self):
        return self._loop_chart("score")
