"""What a reader of an output file could see, as text (shared by end-to-end tests)."""

from __future__ import annotations

import zipfile


def text_of(path) -> str:
    """The text of a PDF, DOCX, XLSX or text file."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "".join(p.extract_text() for p in PdfReader(path).pages)
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return path.read_text(encoding="utf-8", errors="replace")
