"""The questionnaire as data: questions, choices and labels in Chinese and English.

An :class:`Instrument` holds three forms that share its choice lists:

``visits``
    the questionnaire, one row per visited firm;
``requests``
    the requests ledger (诉求办理台账), one row per request a firm raised;
``frame``
    registered firms per wave x region x size class, from which weights come.

Instruments are read from Qifang's YAML format (``data/instrument/enterprise-visit.yaml``
is the reference, with comments on every key) or from an XLSForm workbook (``survey``
and ``choices`` sheets with ``label::zh`` / ``label::en`` columns). Both give the same
model, so the loader and the analysis never care which one was used.

Question types: ``single`` (one choice), ``multi`` (several choices; stored as one 0/1
column per option, named ``<question>__<option>``), ``likert`` (a rating, stored as a
number), ``number``, ``text`` and ``date``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import InstrumentError
from analysis.ingest.yamlfile import read_yaml

TYPES = ("single", "multi", "likert", "number", "text", "date")
FORMS = ("visits", "requests", "frame")
MULTI_SEP = "__"

DEFAULT_INSTRUMENT = (
    Path(__file__).resolve().parents[3] / "data" / "instrument" / "enterprise-visit.yaml"
)
DEFAULT_MISSING = ("(跳过)", "(空)", "（跳过）", "（空）", "-", "—", "N/A", "NA")


@dataclass(frozen=True)
class Text:
    """A label in Chinese and English."""

    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Choice:
    """One answer option. ``value`` is what the analysis stores (a string code, or an
    integer for ratings); ``label`` what people read; ``short`` a compact form for
    charts."""

    value: str | int
    label: Text
    short: Text
    code: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every text an export or a parameter may use for this choice."""
        keys = (self.label.zh, self.label.en, self.short.zh, self.short.en, str(self.value))
        return tuple(k for k in (*keys, self.code or "", *self.aliases) if k)


@dataclass(frozen=True)
class Question:
    """One question (or ledger/frame field) of a form."""

    name: str
    type: str
    label: Text
    short: Text
    choices: tuple[Choice, ...] = ()
    choice_list: str | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    dimension: str | None = None
    personal: bool = False
    role: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns this question occupies once loaded."""
        if self.type == "multi":
            return tuple(f"{self.name}{MULTI_SEP}{c.value}" for c in self.choices)
        return (self.name,)

    @property
    def values(self) -> tuple[str | int, ...]:
        return tuple(c.value for c in self.choices)

    def choice(self, value: str | int) -> Choice:
        for c in self.choices:
            if c.value == value:
                return c
        raise KeyError(f"{self.name} has no choice {value!r}")


@dataclass(frozen=True)
class Form:
    """An ordered set of questions: the visit questionnaire, the ledger or the frame."""

    name: str
    label: Text
    fields: tuple[Question, ...]

    def __getitem__(self, name: str) -> Question:
        for q in self.fields:
            if q.name == name:
                return q
        raise KeyError(f"form {self.name!r} has no question {name!r}")

    def __contains__(self, name: object) -> bool:
        return any(q.name == name for q in self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.fields)

    def by_role(self, role: str) -> Question | None:
        return next((q for q in self.fields if q.role == role), None)


@dataclass(frozen=True)
class Dimension:
    """A dimension of the business-environment index and its weight in the overall index."""

    name: str
    label: Text
    weight: float = 1.0


@dataclass(frozen=True)
class Words:
    """How briefs name the whole (``scope:`` in the YAML).

    ``area`` names a brief about every region (全省 / 全市; Qinghai / Xining);
    ``whole`` is what a region is compared with (全省 / 全市; the province / the
    city). The regions' own word (市州 / 区县) is the ``short`` label of the ``region``
    question. Who issues the brief and the drafts is the office profile's
    (:mod:`analysis.ingest.office`), not the questionnaire's.
    """

    area: Text = Text("全省", "Qinghai")
    whole: Text = Text("全省", "the province")


@dataclass(frozen=True)
class Instrument:
    """A questionnaire and its companion ledger and frame definitions."""

    id: str
    version: str
    title: Text
    forms: dict[str, Form]
    dimensions: tuple[Dimension, ...] = ()
    missing_labels: tuple[str, ...] = DEFAULT_MISSING
    source: str = ""
    choice_lists: dict[str, tuple[Choice, ...]] = field(default_factory=dict)
    words: Words = field(default_factory=Words)

    @property
    def visits(self) -> Form:
        return self.forms["visits"]

    @property
    def requests(self) -> Form:
        return self.forms["requests"]

    @property
    def frame(self) -> Form:
        return self.forms["frame"]

    def question(self, name: str) -> Question:
        """A question of the visit questionnaire by name."""
        return self.visits[name]

    def items(self, dimension: str | None = None) -> tuple[Question, ...]:
        """The rating items that make up the index (all, or one dimension's)."""
        return tuple(
            q
            for q in self.visits.fields
            if q.type == "likert" and q.dimension and (dimension in (None, q.dimension))
        )

    def has(self, name: str) -> bool:
        """Whether the visit questionnaire has a question of this name."""
        return name in self.visits

    def scale(self) -> tuple[int, int]:
        """The lowest and highest score of the index's ratings (1 and 5, or 1 and 4 …)."""
        values = [int(v) for q in self.items() for v in q.values]
        return (min(values), max(values)) if values else (1, 5)

    def dimension(self, name: str) -> Dimension:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(f"no index dimension {name!r}")

    @property
    def personal(self) -> tuple[str, ...]:
        """Columns, in any form, that hold personal or firm-identifying data."""
        return tuple(q.name for f in self.forms.values() for q in f.fields if q.personal)


def load_instrument(path: str | Path | None = None) -> Instrument:
    """Read an instrument from Qifang YAML or an XLSForm workbook.

    Parameters
    ----------
    path : a ``.yaml``/``.yml`` file in Qifang's format or an XLSForm ``.xlsx``;
        default: the bundled ``data/instrument/enterprise-visit.yaml``.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        The file is missing or malformed: duplicate or unknown names, an unknown
        type, a choice list that does not exist, a label missing in zh or en.

    Examples
    --------
    >>> inst = load_instrument()
    >>> inst.question("size").choice("micro").label.zh
    '微型'
    """
    path = Path(path) if path is not None else DEFAULT_INSTRUMENT
    if not path.is_file():
        raise InstrumentError(
            f"instrument file not found: {path}",
            "give the path of a questionnaire YAML or XLSForm (.xlsx) with --instrument",
        )
    # A brief asks for its instrument a dozen times, and parsing the YAML costs 0.05 s
    # each: parse each content once per process (Instrument is frozen).
    return _load_file(str(path), hashlib.sha256(path.read_bytes()).hexdigest())


@functools.lru_cache(maxsize=8)
def _load_file(name: str, digest: str) -> Instrument:
    path = Path(name)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from analysis.ingest._xlsform import read_xlsform  # openpyxl only when needed

        spec = read_xlsform(path, _read_yaml(DEFAULT_INSTRUMENT))
    elif path.suffix.lower() in (".yaml", ".yml"):
        spec = _read_yaml(path)
    else:
        raise InstrumentError(
            f"{path}: unknown instrument format {path.suffix!r}",
            "use a Qifang YAML file (.yaml) or an XLSForm workbook (.xlsx)",
        )
    return _build(spec, str(path))


def _read_yaml(path: Path) -> dict[str, Any]:
    spec = read_yaml(path, InstrumentError, "fix the YAML syntax at the line shown")
    if not isinstance(spec, dict) or "forms" not in spec:
        raise InstrumentError(
            f"{path}: no 'forms' section",
            "see data/instrument/enterprise-visit.yaml for the format",
        )
    return spec


def _text(raw: Any, where: str, default: Text | None = None) -> Text:
    if raw is None and default is not None:
        return default
    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise InstrumentError(
            f"{where}: a label needs both zh and en", "write the label as {zh: …, en: …}"
        )
    return Text(str(raw["zh"]), str(raw["en"]))


def _choices(name: str, raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise InstrumentError(f"{where}: choice list {name!r} is empty", "list its options")
    out, seen = [], set()
    for i, c in enumerate(raw, 1):
        if not isinstance(c, dict) or "value" not in c:
            raise InstrumentError(
                f"{where}: choice {i} of list {name!r} has no value", "give each choice a value"
            )
        value = c["value"]
        value = value if isinstance(value, int) and not isinstance(value, bool) else str(value)
        if value in seen:
            raise InstrumentError(
                f"{where}: choice list {name!r} has the value {value!r} twice",
                "give every choice a distinct value",
            )
        seen.add(value)
        _known_keys(c, _CHOICE_KEYS, f"{where}: choice {value!r} of list {name!r}")
        label = _text(c, f"{where}: choice {value!r} of list {name!r}")
        short = Text(str(c.get("short_zh", label.zh)), str(c.get("short_en", label.en)))
        aliases = c.get("aliases") or ()
        if isinstance(aliases, str) or not isinstance(aliases, list | tuple):
            raise InstrumentError(
                f"{where}: aliases of choice {value!r} of list {name!r} must be a list",
                "write them as aliases: [海西州, 海西]",
            )
        out.append(
            Choice(
                value,
                label,
                short,
                str(c["code"]) if "code" in c else None,
                tuple(str(a) for a in aliases),
            )
        )
    return tuple(out)


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_KEYS = {"value", "zh", "en", "short_zh", "short_en", "code", "aliases"}
_QUESTION_KEYS = {
    "name",
    "type",
    "label",
    "short",
    "choices",
    "required",
    "min",
    "max",
    "integer",
    "dimension",
    "personal",
    "role",
    "aliases",
}


def _known_keys(raw: dict, known: set[str], where: str) -> None:
    """An unknown key is most often a label cut at a comma: ``{en: Aware, not benefited}``
    reads as en: Aware plus a key 'not benefited'."""
    unknown = [str(k) for k in raw if k not in known]
    if unknown:
        raise InstrumentError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}",
            'put a label that holds a comma in quotes, e.g. en: "Aware, not benefited"; '
            f"the keys are {', '.join(sorted(known))}",
        )


def _question(raw: Any, lists: dict, dims: set[str], where: str) -> Question:
    if not isinstance(raw, dict) or "name" not in raw:
        raise InstrumentError(f"{where}: a question without a name", "give every question a name")
    name = str(raw["name"])
    where = f"{where}: question {name!r}"
    _known_keys(raw, _QUESTION_KEYS, where)
    for key in ("label", "short"):
        if isinstance(raw.get(key), dict):
            _known_keys(raw[key], {"zh", "en"}, f"{where}: {key}")
    if not _NAME.match(name) or MULTI_SEP in name:
        raise InstrumentError(
            f"{where}: invalid name",
            "use lower-case letters, digits and single underscores, starting with a letter",
        )
    qtype = raw.get("type")
    if qtype not in TYPES:
        raise InstrumentError(f"{where}: unknown type {qtype!r}", f"use one of {', '.join(TYPES)}")
    choices: tuple[Choice, ...] = ()
    list_name = raw.get("choices")
    if qtype in ("single", "multi", "likert"):
        if list_name not in lists:
            raise InstrumentError(
                f"{where}: choice list {list_name!r} does not exist",
                f"use one of {', '.join(sorted(lists))} or add it under 'choices'",
            )
        choices = lists[list_name]
        if qtype == "likert" and not all(isinstance(c.value, int) for c in choices):
            raise InstrumentError(
                f"{where}: a likert question needs integer choice values (e.g. 1–5)",
                "use type single for unordered choices",
            )
    dimension = raw.get("dimension")
    if dimension is not None and dimension not in dims:
        raise InstrumentError(
            f"{where}: unknown dimension {dimension!r}", f"use one of {', '.join(sorted(dims))}"
        )
    label = _text(raw.get("label"), where)
    return Question(
        name=name,
        type=qtype,
        label=label,
        short=_text(raw.get("short"), where, default=label),
        choices=choices,
        choice_list=list_name,
        required=bool(raw.get("required", False)),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        integer=bool(raw.get("integer", False)),
        dimension=dimension,
        personal=bool(raw.get("personal", False)),
        role=raw.get("role"),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
    )


def _build(spec: dict[str, Any], source: str) -> Instrument:
    where = Path(source).name
    lists = {name: _choices(name, raw, where) for name, raw in (spec.get("choices") or {}).items()}
    dims = tuple(
        Dimension(
            str(d["name"]), _text(d.get("label"), f"{where}: dimension"), float(d.get("weight", 1))
        )
        for d in spec.get("dimensions") or ()
    )
    dim_names = {d.name for d in dims}
    forms = {}
    for form_name in FORMS:
        raw_form = (spec.get("forms") or {}).get(form_name)
        if not raw_form or not raw_form.get("fields"):
            raise InstrumentError(
                f"{where}: form {form_name!r} is missing or has no fields",
                f"define forms: {', '.join(FORMS)} (see data/instrument/enterprise-visit.yaml)",
            )
        questions = [
            _question(q, lists, dim_names, f"{where} [{form_name}]") for q in raw_form["fields"]
        ]
        seen: dict[str, int] = {}
        for i, q in enumerate(questions, 1):
            if q.name in seen:
                raise InstrumentError(
                    f"{where} [{form_name}]: the name {q.name!r} is used by questions "
                    f"{seen[q.name]} and {i}",
                    "give every question a distinct name",
                )
            seen[q.name] = i
        label = _text(raw_form.get("label"), f"{where} [{form_name}]", Text(form_name, form_name))
        forms[form_name] = Form(form_name, label, tuple(questions))
    missing = spec.get("missing_labels")
    words = _words(spec.get("scope"), where)
    return Instrument(
        id=str(spec.get("id", Path(source).stem)),
        version=str(spec.get("version", "")),
        title=_text(spec.get("title"), where, Text(Path(source).stem, Path(source).stem)),
        forms=forms,
        dimensions=dims,
        missing_labels=tuple(str(m) for m in missing) if missing else DEFAULT_MISSING,
        source=source,
        choice_lists=lists,
        words=words,
    )


def _words(raw: Any, where: str) -> Words:
    if raw is None:
        return Words()
    if not isinstance(raw, dict) or set(raw) - {"area", "whole"}:
        extra = sorted(set(raw) - {"area", "whole"}) if isinstance(raw, dict) else []
        raise InstrumentError(
            f"{where}: 'scope' must hold area and whole, each as {{zh: …, en: …}}"
            + (f", not {', '.join(map(str, extra))}" if extra else ""),
            "e.g. scope: {area: {zh: 全市, en: Xining}, whole: {zh: 全市, en: the city}}"
            + (" (the issuing office is named in the office profile: office=FILE)"
               if "office" in extra else ""),
        )
    default = Words()
    return Words(
        **{k: _text(raw.get(k), f"{where}: scope.{k}", getattr(default, k)) for k in vars(default)}
    )
