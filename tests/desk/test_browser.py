"""The desk in a real browser: Debian's Chromium driven by Playwright, nothing downloaded.

A staff member logs in, uploads a bad export and sees its problems, uploads the sample,
chooses 海东市, starts the brief, watches it to the end, downloads the PDF and reads it,
then reruns it in English from the history. Screenshots of the main pages go to
``$QIFANG_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from desk_client import STAFF

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
EXPORTS = ROOT / "tests" / "data" / "exports"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture
def browser(tmp_path):
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/ensure-system-deps.sh installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 860},
            accept_downloads=True,
            locale="zh-CN",
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QIFANG_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_staff_upload_the_sample_run_haidong_download_the_pdf_and_rerun_in_english(
    start_desk, browser, tmp_path
):
    desk = start_desk()  # the real notebooks
    shots = _shots(tmp_path)
    page = browser.new_page()
    requests_seen = []
    page.on("request", lambda r: requests_seen.append(r.url))

    page.goto(desk.url + "/datasets")
    assert "/login" in page.url  # refused without login
    page.fill("input[name=name]", STAFF[0])
    page.fill("input[name=password]", STAFF[1])
    page.screenshot(path=shots / "login.png")
    page.click("button[type=submit]")
    page.wait_for_url("**/datasets")

    # A bad export: its problems, by file and column, and no brief form.
    page.fill("form[action='/datasets'] input[name=name]", "有问题的导出")
    page.set_input_files("input[name=visits]", EXPORTS / "values_outside_choices.csv")
    page.set_input_files("input[name=frame]", SAMPLE / "frame.csv")
    page.click("form[action='/datasets'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/datasets/\d+$"))
    assert page.locator("text=不能生成简报").count() == 1
    assert page.locator("details.file summary", has_text="values_outside_choices.csv").count()
    assert page.locator("details.file h3", has_text="列").count() >= 1
    assert page.locator("form[action$='/jobs']").count() == 0
    page.screenshot(path=shots / "validation-errors.png", full_page=False)
    with page.expect_download() as got:
        page.click("text=下载问题清单")
    problems = got.value.path().read_text(encoding="utf-8-sig")
    assert "values_outside_choices.csv" in problems

    # The sample: ready, with the regions of the data in the form.
    page.goto(desk.url + "/datasets")
    page.fill("form[action='/datasets'] input[name=name]", "2025年第二轮走访")
    for slot in ("visits", "requests", "frame"):
        page.set_input_files(f"input[name={slot}]", SAMPLE / f"{slot}.csv")
    page.click("form[action='/datasets'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/datasets/\d+$"))
    assert page.locator("span.good", has_text="可以使用").count() == 1
    page.select_option("select[name=region]", label="海东市")
    page.locator("#brief").scroll_into_view_if_needed()
    page.screenshot(path=shots / "brief-form.png")
    page.click("#brief button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    job_url = page.url

    # Progress: notebooks and cells move, then the page shows the results.
    page.wait_for_selector("ul.notebooks li", timeout=120_000)
    page.screenshot(path=shots / "progress.png")
    page.wait_for_selector("ul.downloads", timeout=300_000)
    assert page.locator(".st.done").count() == 1
    assert page.locator("text=简报 PDF").count() == 1
    assert page.locator("iframe.preview").count() == 1
    frame = page.frame_locator("iframe.preview")
    assert "海东" in frame.locator("body").inner_text()
    page.screenshot(path=shots / "results.png")

    with page.expect_download() as got:
        page.click("text=简报 PDF")
    pdf = tmp_path / "brief.pdf"
    got.value.save_as(pdf)
    assert got.value.suggested_filename.endswith("brief.pdf")
    text = _pdf_text(pdf)
    assert "海东市" in text and "营商环境" in text

    # History: rerun with lang=en.
    page.click("header nav >> text=运行记录")
    page.wait_for_url("**/runs")
    assert page.locator("table.list tbody tr").count() == 1
    assert STAFF[0] in page.locator("table.list tbody tr").inner_text()
    page.screenshot(path=shots / "history.png")
    page.click("text=修改参数重新生成")
    page.wait_for_url(re.compile(r".*/datasets/\d+\?from=\d+#brief"))
    assert page.locator("select[name=region] option:checked").inner_text() == "海东市"
    page.select_option("select[name=lang]", value="en")
    page.click("#brief button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    assert page.url != job_url
    page.wait_for_selector("ul.downloads", timeout=300_000)
    with page.expect_download() as got:
        page.click("text=简报 PDF")
    got.value.save_as(tmp_path / "brief-en.pdf")
    english = _pdf_text(tmp_path / "brief-en.pdf")
    assert "Haidong" in english and "business environment" in english.lower()

    # The English switch.
    page.click("header a.lang")
    assert page.locator("header nav", has_text="Datasets").count() == 1
    page.goto(desk.url + "/runs")
    assert page.locator("table.list tbody tr").count() == 2

    # Nothing came from anywhere but the desk.
    outside = [u for u in requests_seen if not u.startswith((desk.url, "data:", "blob:"))]
    assert not outside, outside
