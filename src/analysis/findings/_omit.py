"""Sections of a brief that its data cannot support, and why, in one plain sentence.

A brief is made for every region, however small. Where a figure needs more than the
region has (a model of 15 ratings needs more firms than a county of 18 visits), or an
input the office did not give (no ledger, no policy question), the section is left out
and the findings say why (:class:`~analysis.findings.model.Omission`); the brief prints
the sentence. Used by :mod:`analysis.findings.build`.
"""

from __future__ import annotations

from analysis.findings.model import Omission, Text


class Omissions:
    """The sections left out of one brief, in the order they were found."""

    def __init__(self, scope: Text):
        self.scope = scope
        self.items: list[Omission] = []

    def add(self, section: str, kind: str, zh: str, en: str) -> None:
        if not any(o.section == section for o in self.items):
            self.items.append(Omission(section=section, kind=kind, reason=Text(zh=zh, en=en)))

    # -- the reasons -------------------------------------------------------------------

    def drivers_too_few(self, n: int, needed: int) -> None:
        s = self.scope
        self.add(
            "drivers",
            "data",
            f"关键因素分析需要总体评价和各项评价均完整作答的企业，{s.zh}仅有{n}家"
            f"（至少需要{needed}家），不足以拟合模型，本节从略。",
            f"The key-driver analysis needs firms that answered overall satisfaction and every "
            f"rating; {s.en} has {n} (at least {needed} are needed), too few to fit the model, "
            "so this section is left out.",
        )

    def drivers_not_fitted(self) -> None:
        s = self.scope
        self.add(
            "drivers",
            "data",
            f"{s.zh}的评价数据无法拟合关键因素模型（各项评价高度相关或作答过于集中），本节从略。",
            f"The key-driver model cannot be fitted to the ratings of {s.en} (they are too "
            "closely related or too uniform), so this section is left out.",
        )

    def drivers_not_asked(self) -> None:
        self.add(
            "drivers",
            "design",
            "问卷未设总体满意度题目，不作关键因素分析。",
            "The questionnaire has no overall-satisfaction question: no key-driver analysis.",
        )

    def no_voices(self, asked: bool) -> None:
        s = self.scope
        if asked:
            self.add(
                "voices",
                "data",
                f"{s.zh}没有企业填写急难愁盼问题，本节从略。",
                f"No firm in {s.en} stated its urgent needs, so this section is left out.",
            )
        else:
            self.add(
                "voices",
                "design",
                "问卷未设急难愁盼开放题。",
                "The questionnaire has no open question on urgent needs.",
            )

    def no_requests(self, given: bool) -> None:
        s = self.scope
        if given:
            self.add(
                "requests",
                "data",
                f"{s.zh}本轮走访企业没有登记诉求，本节从略。",
                f"No request was logged from the firms visited in {s.en} this wave, so this "
                "section is left out.",
            )
        else:
            self.add(
                "requests",
                "design",
                "未提供诉求办理台账。",
                "No requests ledger was given.",
            )

    def no_policies(self) -> None:
        self.add(
            "policies",
            "design",
            "问卷未设惠企政策题目。",
            "The questionnaire has no question on support policies.",
        )

    def no_change(self, wave: int) -> None:
        s = self.scope
        self.add(
            "changes",
            "data",
            f"{s.zh}在{wave}年没有可比的走访样本，不作年度比较。",
            f"{s.en} has no comparable visits in {wave}: no change between waves is reported.",
        )
