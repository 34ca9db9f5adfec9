"""The DOCX writer's page count against LibreOffice's, on every draft of two runs.

LibreOffice (``soffice``) and pdfinfo are test tools: ``make test`` installs them as
root on Debian (scripts/ensure-system-deps.sh --test), as CI does.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from analysis.writing._docx import pages
from analysis.writing.drafts import make_drafts
from analysis.writing.suggest import suggest
from findings_fixture import sample_findings

SOFFICE = shutil.which("soffice")
PDFINFO = shutil.which("pdfinfo")
pytestmark = pytest.mark.skipif(
    not (SOFFICE and PDFINFO),
    reason="LibreOffice and poppler-utils are not installed (make test installs them as root)",
)


def _libreoffice_pages(docs, folder) -> dict[str, int]:
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{folder}/profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, docs),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = {}
    for doc in docs:
        info = subprocess.run(
            [PDFINFO, str(folder / f"{doc.stem}.pdf")], capture_output=True, text=True, check=True
        ).stdout
        out[doc.name] = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return out


def test_the_page_count_errs_long_and_by_at_most_one(tmp_path):
    docs = []
    for params in ({}, {"region": "haidong"}):
        f = sample_findings(**params)
        s = suggest(f)
        folder = tmp_path / (params.get("region") or "all")
        for lang in ("zh", "en"):
            for d in make_drafts(f, s, lang):
                docs.append(d.write(folder)[1])
    seen = {}
    for folder in {d.parent for d in docs}:
        seen.update(
            {
                f"{folder.name}/{k}": v
                for k, v in _libreoffice_pages(
                    [d for d in docs if d.parent == folder], folder
                ).items()
            }
        )
    for doc in docs:
        lo = seen[f"{doc.parent.name}/{doc.name}"]
        assert lo <= pages(doc) <= lo + 1, (doc, lo, pages(doc))
        if doc.name.startswith("summary."):
            assert lo == 1, doc  # the 参阅 on one A4 page, as LibreOffice lays it out
