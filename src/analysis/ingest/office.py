"""The office profile: who sends a draft, to whom, whom it names and what it cites.

A profile is a YAML file (``data/office/qinghai.yaml`` is the sample; ``office=`` picks
another). Every name a draft prints — the issuing unit, the CPPCC committee and 界别,
proposer and co-signers, the drafter, the 期号 of the office's series, each department
by the code the requests ledger and the suggestion rules use, and the policy documents
a rule cites — comes from it, so an office in another province edits a file, not code.

The file is untrusted input: it is read with ``yaml.safe_load`` after a size bound, every
key is checked, and a ``{region}`` in a department's name is filled by plain text
replacement (never ``str.format``). A problem stops with a :class:`ProfileError` that
names the file, the key and the fix.

Examples
--------
>>> office = load_office()  # doctest: +SKIP
>>> office.department("fin_reg").zh  # doctest: +SKIP
'人民银行青海省分行、金融监管总局青海监管局'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from analysis.errors import QifangError
from analysis.ingest.instrument import Text

DEFAULT_OFFICE = Path(__file__).resolve().parents[3] / "data" / "office" / "qinghai.yaml"
MAX_BYTES = 256_000
KEYS = {
    "unit",
    "province",
    "cppcc",
    "sector",
    "proposer",
    "co_signers",
    "drafter",
    "issues",
    "date",
    "departments",
    "documents",
    "glossary",
}
REQUIRED = ("unit", "province", "cppcc", "sector", "proposer", "drafter", "departments")
NUMBERED = ("social", "summary")  # the series whose drafts carry a 期号


class ProfileError(QifangError):
    """An office profile (YAML) cannot be used: missing file, bad YAML, a missing key or
    department, or a name that is not text."""


@dataclass(frozen=True)
class Department:
    """One body a suggestion names: short name (text), full name, English name."""

    zh: str
    full: str
    en: str

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Office:
    """An office profile, checked. See the module docstring and the sample file."""

    unit: Text
    unit_short: str
    province: Text
    cppcc: Text
    session: Text | None
    sector: Text
    proposer: Text
    co_signers: tuple[Text, ...]
    drafter: Text
    issues: dict[str, int]
    date: str
    departments: dict[str, tuple[dict, ...]]
    documents: dict[str, Text]
    source: str = ""
    # English names of bodies and publications the ledgers write in Chinese (全国工商联)
    glossary: dict[str, str] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """Every name the profile gives, in both languages (units, committee, session,
        documents, departments): the office's own words, which a draft prints as they
        are (a session's “第十三届” or a regulation's year is not a figure)."""
        texts = [self.unit, self.province, self.cppcc, self.sector, self.proposer, self.drafter]
        texts += [self.session] if self.session else []
        texts += [*self.co_signers, *self.documents.values()]
        out = [t.get(lang) for t in texts for lang in ("zh", "en")]
        for entries in self.departments.values():
            for entry in entries:
                for value in entry.values():
                    names = value.values() if isinstance(value, dict) else [value]
                    out += [str(n) for n in names]
        return tuple(out)

    def department(self, code: str, region: Text | None = None) -> Text:
        """The names of the bodies behind a department code, joined (、 / and).

        ``region`` is the region of a regional brief: a department written per region
        (``local_gov``) becomes e.g. 海东市人民政府; for the whole province its ``all``
        entry is used."""
        return _join(self.bodies(code, region))

    def bodies(self, code: str, region: Text | None = None) -> tuple[Department, ...]:
        if code not in self.departments:
            raise ProfileError(
                f"{Path(self.source).name}: no department {code!r}",
                f"add '{code}: {{zh: …, full: …, en: …}}' under departments:",
            )
        out = []
        for entry in self.departments[code]:
            if "all" in entry or "region" in entry:
                key = "region" if region is not None and "region" in entry else "all"
                entry = entry.get(key) or entry.get("all") or entry.get("region")
            out.append(
                Department(
                    zh=_fill(entry["zh"], region, "zh"),
                    full=_fill(entry.get("full", entry["zh"]), region, "zh"),
                    en=_fill(entry["en"], region, "en"),
                )
            )
        return tuple(out)

    def document(self, key: str) -> Text | None:
        return self.documents.get(key)

    def issue(self, genre: str) -> int | None:
        return self.issues.get(genre)

    def english(self, name: str) -> str:
        """A body's or publication's English name from the glossary; else as written."""
        return self.glossary.get(name.strip(), name)


def _fill(name: str, region: Text | None, lang: str) -> str:
    if "{region}" not in name:
        return name
    return name.replace("{region}", region.get(lang) if region is not None else "")


def _join(bodies) -> Text:
    zh = "、".join(b.zh for b in bodies)
    en_names = [b.en for b in bodies]
    en = en_names[0] if len(en_names) == 1 else ", ".join(en_names[:-1]) + " and " + en_names[-1]
    return Text(zh=zh, en=en)


def department_codes(instrument) -> list[str]:
    """The department codes of a questionnaire's requests ledger (each needs a name)."""
    return [str(c.value) for c in instrument.requests["department"].choices]


def load_office(path: str | Path | None = None, department_codes=(), unit: str = "") -> Office:
    """Read and check an office profile.

    Parameters
    ----------
    path : the profile's YAML; None: the sample (``data/office/qinghai.yaml``).
    department_codes : the department codes the questionnaire's ledger uses; each must
        be named in the profile.
    unit : the ``unit`` run parameter: when given, the issuing unit's name instead of
        the profile's (in both languages, as written).

    Raises
    ------
    ProfileError
        Naming the file, the key and what to write there.
    """
    path = Path(path) if path else DEFAULT_OFFICE
    if not path.is_absolute() and not path.is_file():
        path = DEFAULT_OFFICE.parents[2] / path  # relative to the project, as run parameters
    name = path.name
    if not path.is_file():
        raise ProfileError(f"office profile not found: {path}", "give office=PATH of a YAML file")
    if path.stat().st_size > MAX_BYTES:
        raise ProfileError(
            f"{name}: {path.stat().st_size:,} bytes is too large for an office profile",
            f"a profile is a few kB; keep it under {MAX_BYTES:,} bytes",
        )
    raw_text = path.read_text(encoding="utf-8-sig")
    try:
        if yaml_has_alias(raw_text):
            raise ProfileError(
                f"{name}: YAML anchors and aliases (&, *) are not allowed here",
                "write each name out in full",
            )
        data = yaml.safe_load(raw_text)
    except yaml.YAMLError as exc:
        raise ProfileError(
            f"{name}: not valid YAML ({exc})", "fix the YAML at the line shown"
        ) from None
    if not isinstance(data, dict):
        raise ProfileError(
            f"{name}: expected 'key: value' lines", "start from data/office/qinghai.yaml"
        )
    unknown = sorted(set(map(str, data)) - KEYS)
    if unknown:
        raise ProfileError(
            f"{name}: unknown key(s) {', '.join(unknown)}",
            f"allowed keys: {', '.join(sorted(KEYS))}",
        )
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise ProfileError(
            f"{name}: missing {', '.join(missing)}", "every profile names: " + ", ".join(REQUIRED)
        )

    def text(value, key: str) -> Text:
        if isinstance(value, dict) and _is_text(value.get("zh")) and _is_text(value.get("en")):
            return Text(zh=value["zh"].strip(), en=value["en"].strip())
        raise ProfileError(
            f"{name}: '{key}' needs a Chinese and an English name", f"write {key}: {{zh: …, en: …}}"
        )

    unit_raw = data["unit"]
    cppcc = data["cppcc"]
    session = cppcc.get("session") if isinstance(cppcc, dict) else None
    departments: dict[str, tuple[dict, ...]] = {}
    raw_depts = data["departments"]
    if not isinstance(raw_depts, dict):
        raise ProfileError(
            f"{name}: 'departments' must map codes to names",
            "write departments: {finance: {zh: 省财政厅, en: …}, …}",
        )
    for code, value in raw_depts.items():
        entries = value if isinstance(value, list) else [value]
        checked = []
        for entry in entries:
            where = f"departments.{code}"
            if isinstance(entry, dict) and ("all" in entry or "region" in entry):
                for k in ("all", "region"):
                    if k in entry:
                        _dept(entry[k], f"{where}.{k}", name)
                checked.append({k: entry[k] for k in ("all", "region") if k in entry})
            else:
                checked.append(_dept(entry, where, name))
        departments[str(code)] = tuple(checked)
    missing_codes = [c for c in department_codes if c not in departments]
    if missing_codes:
        raise ProfileError(
            f"{name}: no name for department(s) {', '.join(missing_codes)}",
            "add each under departments: with {zh: …, full: …, en: …} "
            "(the codes are the questionnaire's department choices)",
        )
    documents = {}
    for key, value in (data.get("documents") or {}).items():
        documents[str(key)] = text(value, f"documents.{key}")
    issues = {}
    for key, value in (data.get("issues") or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProfileError(
                f"{name}: issues.{key} must be a positive whole number",
                f"write e.g. issues: {{{key}: 12}}",
            )
        issues[str(key)] = value
    lacking = [g for g in NUMBERED if g not in issues]
    if lacking:
        raise ProfileError(
            f"{name}: no 期号 for {', '.join(lacking)}",
            "write issues: {social: 12, summary: 7} (the next numbers of the office's series)",
        )
    date = str(data.get("date") or "").strip()
    if date:
        import datetime as _dt

        try:
            date = _dt.date.fromisoformat(date).isoformat()
        except ValueError:
            raise ProfileError(
                f"{name}: date {date!r} is not YYYY-MM-DD",
                "write e.g. date: 2026-01-10, or leave it empty",
            ) from None
    glossary = {}
    for key, value in (data.get("glossary") or {}).items():
        if not _is_text(str(key)) or not _is_text(value):
            raise ProfileError(
                f"{name}: glossary.{key} must be an English name (text)",
                "write glossary: {全国工商联: All-China Federation of Industry and Commerce}",
            )
        glossary[str(key).strip()] = value.strip()
    short = unit_raw.get("short") if isinstance(unit_raw, dict) else None
    co = data.get("co_signers") or []
    if not isinstance(co, list):
        raise ProfileError(
            f"{name}: co_signers must be a list", "write co_signers: [{zh: …, en: …}]"
        )
    office = Office(
        unit=text(unit_raw, "unit"),
        unit_short=str(short).strip() if _is_text(short) else text(unit_raw, "unit").zh,
        province=text(data["province"], "province"),
        cppcc=text(cppcc, "cppcc"),
        session=text(session, "cppcc.session") if session else None,
        sector=text(data["sector"], "sector"),
        proposer=text(data["proposer"], "proposer"),
        co_signers=tuple(text(c, "co_signers") for c in co),
        drafter=text(data["drafter"], "drafter"),
        issues=issues,
        date=date,
        departments=departments,
        documents=documents,
        source=str(path),
        glossary=glossary,
    )
    if unit and unit.strip():
        # the unit parameter names the issuing unit instead (as written, in both languages)
        name_ = unit.strip()[:200]
        office = replace(office, unit=Text(zh=name_, en=name_), unit_short=name_)
    return office


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= 200


def _dept(entry, where: str, name: str) -> dict:
    if (
        not isinstance(entry, dict)
        or not _is_text(entry.get("zh"))
        or not _is_text(entry.get("en"))
    ):
        raise ProfileError(
            f"{name}: '{where}' needs a Chinese and an English name",
            f"write {where}: {{zh: 省财政厅, full: 青海省财政厅, en: …}}",
        )
    if "full" in entry and not _is_text(entry["full"]):
        raise ProfileError(f"{name}: '{where}.full' must be text", "write the body's full name")
    return {k: str(entry[k]).strip() for k in ("zh", "full", "en") if k in entry}


def yaml_has_alias(text: str) -> bool:
    """Whether a YAML text uses anchors or aliases (which expand exponentially)."""
    if "&" not in text and "*" not in text:
        return False
    return any(isinstance(token, yaml.AliasToken | yaml.AnchorToken) for token in yaml.scan(text))
