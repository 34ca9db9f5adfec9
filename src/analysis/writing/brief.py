"""The policy brief: sections of text and charts, made from findings and suggestions.

``notebooks/2-policy-brief.ipynb`` shows one section or chart per cell; exported
with :mod:`analysis.pipeline.export`, the outputs become ``brief.html`` and ``brief.pdf``. The
sections are blocks of ``templates/brief/brief.<lang>.html.j2`` (autoescaped: free
text can never inject markup); the charts are drawn by :mod:`analysis.writing.charts` from the
findings only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.findings.model import Findings
from analysis.writing import _chartstore, charts, render
from analysis.writing.suggest import Suggestion, load_rules, suggest

SECTIONS = (
    "title",
    "summary",
    "index",
    "difficulties",
    "policies",
    "drivers",
    "voices",
    "requests",
    "suggestions",
    "method",
)


@dataclass(frozen=True)
class Html:
    """A piece of the brief that displays itself as HTML in a notebook."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:  # the notebook's text/plain fallback: short, not a copy
        return f"<brief section, {len(self.html):,} characters of HTML>"


class Brief:
    """Sections and charts of one brief, in one language.

    Examples
    --------
    >>> brief = Brief.from_folder("briefs/2025-all", lang="zh")  # doctest: +SKIP
    >>> brief.section("summary")  # doctest: +SKIP
    """

    def __init__(
        self, findings: Findings, suggestions: list[Suggestion], lang: str = "zh", office=None
    ):
        if lang not in ("zh", "en"):
            raise ValueError("lang must be zh or en")
        self.findings = findings
        self.suggestions = suggestions
        self.lang = lang
        self._store = None  # (ChartStore, findings.json bytes): set by from_folder in a run
        env = render.environment(autoescape=True)
        self._template = env.get_template(f"brief/brief.{lang}.html.j2")
        self._context = render.context(findings, suggestions, lang, office=office)

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        lang: str = "zh",
        rules: str | Path | None = None,
        instrument=None,
        office: str | Path | None = None,
        unit: str = "",
    ) -> Brief:
        """The brief of a run folder: its ``findings.json``, the rules and the office
        profile (which names the departments).

        In a run's folder (one that has the runner's ``.charts`` folder), the brief's
        charts are drawn once for all the run's notebooks
        (:mod:`analysis.writing._chartstore`); elsewhere each is drawn when asked for.
        """
        from analysis.ingest.instrument import load_instrument
        from analysis.ingest.office import department_codes, load_office

        instrument = instrument or load_instrument()
        path = Path(folder) / "findings.json"
        findings = Findings.load(path)
        profile = load_office(office or None, department_codes(instrument), unit=unit)
        brief = cls(
            findings,
            suggest(findings, load_rules(rules or None, instrument), instrument),
            lang,
            profile,
        )
        store = Path(folder) / _chartstore.FOLDER
        if store.is_dir():
            brief._store = (_chartstore.ChartStore(store), path.read_bytes())
        return brief

    def section(self, name: str) -> Html:
        """One section of the brief as HTML."""
        if name not in SECTIONS:
            raise ValueError(f"section must be one of {', '.join(SECTIONS)}")
        ctx = self._template.new_context(dict(self._context))
        return Html("".join(self._template.blocks[name](ctx)).strip())

    def _bar(self, label, stat) -> dict:
        """One bar of a ranked-bars chart: a labelled estimate with its interval."""
        return {
            "label": label.get(self.lang),
            "estimate": stat.estimate,
            "ci_low": stat.ci_low,
            "ci_high": stat.ci_high,
            "suppressed": stat.suppressed,
        }

    def _t(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh

    def chart(self, name: str) -> charts.Chart | None:
        """One chart of the brief; None when its figures are all suppressed."""
        fn = getattr(self, f"_chart_{name}", None)
        if fn is None:
            raise ValueError(f"no chart {name!r}")
        if self._store is None:
            return fn()
        store, findings_bytes = self._store
        return store.get(_chartstore.key(findings_bytes, name, self.lang), fn)

    def _chart_dimensions(self):
        f = self.findings
        rows = [self._bar(d.label, d.score) for d in f.index.dimensions]
        return charts.ranked_bars(
            pd.DataFrame(rows),
            percent=False,
            title=self._t(
                "营商环境各维度得分（0–100分）", "Business-environment dimensions (0–100)"
            ),
            caption=self._t("注：误差线为95%置信区间。", "Whiskers: 95% confidence intervals."),
            suppressed_text=self._t("样本过少，不予公布", "too few firms, not shown"),
        )

    def _chart_regions(self):
        f = self.findings
        rows = [
            {
                "label": r.label.get(self.lang),
                "estimate": r.score.estimate,
                "ci_low": r.score.ci_low,
                "ci_high": r.score.ci_high,
                "group": r.vs_province,
            }
            for r in f.index.regions
            if not r.score.suppressed
        ]
        if len(rows) < 2:
            return None
        whole, word = f.scope.whole, f.scope.region_word
        legend = {
            "above": self._t(f"显著高于{whole.zh}", f"above {whole.en}"),
            "below": self._t(f"显著低于{whole.zh}", f"below {whole.en}"),
            "not_different": self._t(f"与{whole.zh}无显著差异", "not significantly different"),
        }
        province = [r for r in f.index.regions if not r.score.suppressed]
        reference = f.index.overall.estimate if f.scope.region is None else None
        return charts.dots(
            pd.DataFrame(rows),
            reference,
            title=self._t(
                f"各{word.zh}营商环境指数", f"Business-environment index by {word.en.lower()}"
            ),
            caption=self._t(
                f"注：误差线为95%置信区间；颜色表示与{whole.zh}平均水平的差异是否显著（BH校正）。",
                f"Whiskers: 95% confidence intervals; colour: difference from {whole.en}, "
                "Benjamini–Hochberg adjusted.",
            ),
            reference_label=self._t(whole.zh, whole.en.removeprefix("the "))
            if reference is not None
            else "",
            colours={
                "above": charts.PALETTE["good"],
                "below": charts.PALETTE["alert"],
                "not_different": charts.PALETTE["main"],
            },
            legend={k: v for k, v in legend.items() if any(r.vs_province == k for r in province)},
        )

    def _chart_difficulties(self):
        f = self.findings
        rows = [self._bar(d.label, d.share) for d in f.difficulties if d.code != "other"]
        top = {f.difficulties[0].label.get(self.lang)} if f.difficulties else set()
        return charts.ranked_bars(
            pd.DataFrame(rows),
            highlight=top,
            title=self._t(
                "企业面临的主要困难（可多选，加权占比）",
                "Main difficulties (several may apply, weighted share)",
            ),
            caption=self._t("注：误差线为95%置信区间。", "Whiskers: 95% confidence intervals."),
            suppressed_text=self._t("样本过少，不予公布", "too few firms, not shown"),
        )

    def _chart_financing_by_size(self):
        f = self.findings
        top = f.difficulties[0] if f.difficulties else None
        if top is None or sum(not lv.stat.suppressed for lv in top.by_size) < 2:
            return None  # nothing to compare: every size class too small
        rows = [self._bar(lv.label, lv.stat) for lv in top.by_size]
        return charts.ranked_bars(
            pd.DataFrame(rows),
            sort=False,
            title=self._t(
                f"分规模企业反映“{top.label.zh}”的比例",
                f"Share reporting “{top.label.en.lower()}”, by size class",
            ),
            caption=self._t("注：误差线为95%置信区间。", "Whiskers: 95% confidence intervals."),
            suppressed_text=self._t("样本过少，不予公布", "too few firms, not shown"),
        )

    def _chart_policies(self):
        f = self.findings
        rows, hidden = [], 0
        for p in f.policies:
            if p.aware.estimate is None or p.benefited.estimate is None:
                hidden += 1  # suppressed: a zero bar would be a figure of its own
                continue
            benefited = p.benefited.estimate
            rows.append(
                {
                    "label": p.label.get(self.lang),
                    "benefited": benefited,
                    "aware_only": max(p.aware.estimate - benefited, 0.0),
                    "unaware": max(1 - p.aware.estimate, 0.0),
                }
            )
        if not rows:
            return None
        parts = [
            ("benefited", self._t("已享受", "benefited"), charts.PALETTE["main"]),
            (
                "aware_only",
                self._t("知晓但未享受", "aware, not benefited"),
                charts.PALETTE["alert"],
            ),
            ("unaware", self._t("不了解", "not aware"), charts.PALETTE["light"]),
        ]
        return charts.stacked(
            pd.DataFrame(rows),
            parts,
            title=self._t("惠企政策知晓和享受情况", "Awareness and benefit of support policies"),
            caption=self._t(
                f"注：{hidden}项政策样本过少，不予公布。",
                f"Not shown (too few firms): {hidden} {'policy' if hidden == 1 else 'policies'}.",
            )
            if hidden
            else "",
        )

    def _chart_drivers(self):
        f = self.findings
        if f.drivers is None or not f.drivers.items:
            return None
        rows = pd.DataFrame(
            [
                {
                    "label": d.label.get(self.lang),
                    "importance": d.importance,
                    "performance": d.performance.estimate,
                    "quadrant": d.quadrant,
                }
                for d in f.drivers.items
                if d.performance.estimate is not None
            ]
        )
        x_cut = 1 / max(len(rows), 1)
        y_cut = float(rows["performance"].mean())
        return charts.quadrant(
            rows,
            x_cut,
            y_cut,
            labels={
                "priority": self._t("优先改进", "improve first"),
                "strength": self._t("保持优势", "keep up"),
                "maintain": self._t("维持现状", "maintain"),
                "secondary": self._t("次要改进", "improve later"),
            },
            title=self._t("各项评价的重要性与表现", "Importance and performance of each item"),
            caption=self._t(
                "注：虚线为重要性均值（1/事项数）和表现均值；重要性低于均值的事项未标注名称。",
                "Dashed lines: mean importance (1/number of items) and mean "
                "performance; items of below-mean importance are not named.",
            ),
            xlabel=self._t(
                "重要性（对总体满意度的解释份额）", "importance (share of explained satisfaction)"
            ),
            ylabel=self._t("表现（0–100分）", "performance (0–100)"),
        )

    def _chart_voices(self):
        f = self.findings
        block = next((b for b in f.open_answers if b.field == "urgent_needs"), None)
        if block is None or not block.categories:
            return None
        rows = [self._bar(c.label, c.share) for c in block.categories]
        return charts.ranked_bars(
            pd.DataFrame(rows),
            title=self._t(
                "企业急难愁盼问题的类别（占填写企业的加权比例）",
                "Themes of firms' urgent needs (weighted share of answering firms)",
            ),
            caption=self._t(
                "注：按关键词编码，一条回答可归入多个类别；误差线为95%置信区间。",
                "Coded by keywords; an answer may have several themes; whiskers: "
                "95% confidence intervals.",
            ),
            suppressed_text=self._t("样本过少，不予公布", "too few firms, not shown"),
        )

    def _chart_requests(self):
        f = self.findings
        if f.requests is None:
            return None
        rows = [
            {
                "label": d.label.get(self.lang),
                "estimate": d.median_days,
                "ci_low": (d.median_ci or (None, None))[0] or d.median_days,
                "ci_high": (d.median_ci or (None, None))[1] or d.median_days,
                "suppressed": d.median_days is None,
            }
            for d in f.requests.by_department
        ]
        if not any(r["estimate"] is not None for r in rows):
            return None
        slowest = max((r for r in rows if r["estimate"] is not None), key=lambda r: r["estimate"])
        return charts.ranked_bars(
            pd.DataFrame(rows),
            percent=False,
            highlight={slowest["label"]},
            title=self._t("各部门诉求办结天数（中位数）", "Median days to resolve, by department"),
            caption=self._t(
                "注：Kaplan–Meier中位数，未办结诉求按删失处理；误差线为95%置信区间。",
                "Kaplan–Meier medians, open requests censored; whiskers: 95% confidence intervals.",
            ),
            suppressed_text=self._t("件数过少，不予公布", "too few requests, not shown"),
        )
