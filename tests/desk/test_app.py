"""The desk over HTTP, as a browser uses it: login, CSRF, uploads, jobs, downloads.

The jobs here run the pipeline's runner on tiny notebooks (tests/notebook_factory.py);
the browser test runs the real ones.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest

from desk_client import ADMIN, STAFF, dataset_id, job_id

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
EXPORTS = ROOT / "tests" / "data" / "exports"
SAMPLE_FILES = {s: SAMPLE / f"{s}.csv" for s in ("visits", "requests", "frame")}


@pytest.fixture
def desk(start_desk, tiny_notebooks):
    return start_desk(notebooks=tiny_notebooks, max_upload=5)


def test_every_page_is_refused_without_login(desk):
    anonymous = desk.client(who=None)
    for path in (
        "/datasets",
        "/datasets/1",
        "/runs",
        "/jobs/1",
        "/jobs/1/download/pdf",
        "/admin/users",
        "/datasets/1/problems.csv",
    ):
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = anonymous.post("/datasets", data={"name": "x"}, follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]


def test_a_wrong_password_is_refused_and_repeated_failures_are_slowed(desk):
    c = desk.client(who=None)
    r = c.login(STAFF[0], "not the password")
    assert r.status_code == 401 and "用户名或密码不对" in r.text
    assert c.get("/datasets", follow_redirects=False).status_code == 303  # still out
    for _ in range(4):
        c.login(STAFF[0], "still wrong")
    r = c.login(*STAFF)  # the right password, but too soon after five failures
    assert r.status_code == 429 and "秒后再试" in r.text
    assert c.get("/datasets", follow_redirects=False).status_code == 303


def test_login_logout_and_a_form_without_its_csrf_token(desk):
    c = desk.client()
    assert c.get("/datasets").status_code == 200
    r = c.post("/datasets", data={"name": "x"}, files={"visits": ("v.csv", b"a")})
    assert r.status_code == 403 and "表单已过期" in r.text
    r = c.post("/datasets", data={"name": "x", "csrf": "forged"}, files={"visits": ("v.csv", b"a")})
    assert r.status_code == 403
    other = desk.client()  # another session's token is not this one's
    r = c.post("/logout", data={"csrf": other.token("/datasets")})
    assert r.status_code == 403
    r = c.post("/logout", data={"csrf": c.token("/datasets")})
    assert r.url.path == "/login"
    assert c.get("/datasets", follow_redirects=False).status_code == 303


def test_staff_cannot_manage_users_or_delete_datasets(desk):
    staff = desk.client()
    d = dataset_id(staff.upload("样例", SAMPLE_FILES))
    assert staff.get("/admin/users").status_code == 403
    r = staff.post(f"/datasets/{d}/delete", data={"csrf": staff.token("/datasets")})
    assert r.status_code == 403
    assert staff.get(f"/datasets/{d}").status_code == 200
    admin = desk.client(ADMIN)
    r = admin.post(
        "/admin/users",
        data={
            "csrf": admin.token("/admin/users"),
            "name": "新同事",
            "role": "staff",
            "password": "long enough pw",
        },
    )
    assert r.status_code == 200 and "新同事" in r.text
    r = admin.post(f"/datasets/{d}/delete", data={"csrf": admin.token("/datasets")})
    assert staff.get(f"/datasets/{d}").status_code == 404


def test_the_sample_uploads_stored_once_read_only_and_runs(desk):
    c = desk.client()
    first = dataset_id(c.upload("2025年第二轮走访", SAMPLE_FILES))
    second = dataset_id(c.upload("same files again", SAMPLE_FILES))
    assert first != second
    stored = sorted((desk.data / "uploads").iterdir())
    assert len(stored) == 3  # each file once, by its SHA-256
    import hashlib

    for slot, path in SAMPLE_FILES.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        saved = desk.data / "uploads" / f"{digest}.csv"
        assert saved.read_bytes() == path.read_bytes(), slot
        assert saved.stat().st_mode & 0o222 == 0  # read-only
    page = c.get(f"/datasets/{first}").text
    assert "可以使用" in page and "海东市" in page  # drop-downs filled from the data
    job = job_id(c.start_brief(first, region="haidong"))
    assert c.wait(job) == "done", c.why(job)
    r = c.get(f"/jobs/{job}/download/pdf")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.content.startswith(b"%PDF")
    z = c.get(f"/jobs/{job}/download/zip")
    assert z.headers["content-disposition"].startswith("attachment;")
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert any(n.endswith("/manifest.json") for n in names)


def test_a_bad_export_shows_its_problems_by_file_and_column_and_cannot_run(desk):
    c = desk.client()
    bad = {**SAMPLE_FILES, "visits": EXPORTS / "values_outside_choices.csv"}
    d = dataset_id(c.upload("有问题的数据", bad))
    page = c.get(f"/datasets/{d}").text
    assert "不能生成简报" in page and "values_outside_choices.csv" in page
    assert re.search(r"<h3>列: [^<]+ <span class=\"bad\">\d+ 错误", page)
    assert f'action="/datasets/{d}/jobs"' not in page  # no brief form
    csv_text = c.get(f"/datasets/{d}/problems.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("severity,slot,file,row,column")
    assert "error,visits,values_outside_choices.csv" in csv_text
    r = c.start_brief(d)  # posted anyway: refused
    assert r.status_code == 400 and "cannot be run" in r.text


def test_oversize_malformed_and_not_a_survey_uploads_are_refused_and_the_desk_serves_on(desk):
    c = desk.client()
    big = ("big.csv", b"wave,region\n" + b"2025,xining\n" * (6 * 2**20 // 12))  # > 5 MB
    r = c.upload("too big", {"visits": big, "frame": SAMPLE_FILES["frame"]})
    assert r.status_code == 413 and "太大" in r.text
    r = c.upload(
        "old excel", {"visits": EXPORTS / "old_format.xls", "frame": SAMPLE_FILES["frame"]}
    )
    assert r.status_code == 400 and "only CSV or XLSX files are accepted" in r.text
    r = c.upload("empty", {"visits": EXPORTS / "empty.csv", "frame": SAMPLE_FILES["frame"]})
    assert r.status_code == 400 and "empty.csv is empty" in r.text
    for bad in ("not_a_survey.csv", "binary.csv", "truncated.csv"):
        d = dataset_id(c.upload(bad, {"visits": EXPORTS / bad, "frame": SAMPLE_FILES["frame"]}))
        page = c.get(f"/datasets/{d}").text
        assert "不能生成简报" in page, bad
        assert "Traceback" not in page
    assert dataset_id(c.upload("still serving", SAMPLE_FILES))


def test_a_path_like_dataset_name_is_only_a_label(desk):
    c = desk.client()
    name = "../../etc/<script>alert(1)</script>"
    d = dataset_id(c.upload(name, SAMPLE_FILES))
    page = c.get(f"/datasets/{d}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    made = {p.relative_to(desk.data) for p in desk.data.rglob("*")}
    assert not any("etc" in p.parts or "script" in str(p) for p in made)
    assert not (desk.data.parent / "etc").exists()
    job = job_id(c.start_brief(d))
    assert c.wait(job) == "done", c.why(job)
    folders = [p.name for p in (desk.data / "runs" / str(job)).iterdir()]
    assert folders == ["2025-all"]  # named from the parameters, not the label


def test_two_jobs_submitted_together_get_two_outputs(start_desk, tiny_notebooks):
    desk = start_desk(notebooks=tiny_notebooks, runners=2)
    d = dataset_id(desk.client().upload("样例", SAMPLE_FILES))
    responses = {}

    def submit(who, region):
        responses[who] = desk.client(who).start_brief(d, region=region)

    threads = [
        threading.Thread(target=submit, args=(w, r))
        for w, r in ((STAFF, "haidong"), (ADMIN, "haidong"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {job_id(r) for r in responses.values()}
    assert len(ids) == 2
    c = desk.client()
    for job in ids:
        assert c.wait(job) == "done", c.why(job)
    folders = {job: desk.data / "runs" / str(job) / "2025-haidong" for job in ids}
    assert all((f / "brief.pdf").is_file() for f in folders.values())
    with sqlite3.connect(desk.db) as conn:
        who = dict(
            conn.execute(
                "SELECT j.id, u.name FROM jobs j JOIN users u ON u.id = j.user_id"
            ).fetchall()
        )
    assert sorted(who[j] for j in ids) == sorted([ADMIN[0], STAFF[0]])


@pytest.fixture
def slow_notebooks(tmp_path, tiny_notebooks):
    """The tiny notebooks, with the analysis taking a few seconds: time to act mid-job."""
    import shutil

    import nbformat

    folder = tmp_path / "slow"
    shutil.copytree(tiny_notebooks, folder)
    path = folder / "1-survey-analysis.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(6)"))
    nbformat.write(nb, path)
    return folder


def _workers() -> list:
    import psutil

    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "analysis.desk.runner" in cmd and "--worker" in cmd:
            out.append(p)
    return out


def test_a_restart_in_the_middle_of_a_job_puts_it_back_in_the_queue(start_desk, slow_notebooks):
    import time

    import psutil

    desk = start_desk(notebooks=slow_notebooks)
    c = desk.client()
    d = dataset_id(c.upload("样例", SAMPLE_FILES))
    job = job_id(c.start_brief(d, region="haidong"))
    c.wait(job, until=("running",))
    time.sleep(2)  # inside the sleeping cell
    mine = [p for p in _workers() if str(desk.data) in " ".join(p.cmdline())]
    assert len(mine) == 1
    # the process that validated the upload, and its resource tracker
    helpers = [
        p
        for p in psutil.Process(desk.proc.pid).children(recursive=True)
        if "multiprocessing" in " ".join(p.cmdline())
    ]
    assert len(helpers) == 2
    desk.kill()  # the server dies; its runner and the job's worker must notice
    mine[0].wait(timeout=15)
    _, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive  # gone with the server, not left running for ever
    desk.start()
    c = desk.client()
    assert c.wait(job) == "done", c.why(job)
    page = c.get(f"/jobs/{job}").text
    assert "put back in the queue: the desk restarted while it ran" in page
    assert (desk.data / "runs" / str(job) / "2025-haidong" / "brief.pdf").is_file()
    assert not list((desk.data / "runs" / str(job)).glob(".*tmp*"))


def test_cancel_stops_a_running_job_and_its_kernels(start_desk, slow_notebooks):
    import time

    import psutil

    desk = start_desk(notebooks=slow_notebooks)
    c = desk.client()
    d = dataset_id(c.upload("样例", SAMPLE_FILES))
    first = job_id(c.start_brief(d))
    second = job_id(c.start_brief(d, region="haidong"))
    third = job_id(c.start_brief(d, region="xining"))
    c.wait(first, until=("running",))
    assert "下一个开始" in c.get(f"/jobs/{second}").text  # queue positions
    assert "前面还有1个任务" in c.get(f"/jobs/{third}").text
    r = c.post(f"/jobs/{third}/cancel", data={"csrf": c.token(f"/jobs/{third}")})
    assert c.status(third) == "cancelled"  # a queued job is cancelled at once
    time.sleep(2)
    worker = next(p for p in _workers() if f"--worker {first} " in " ".join(p.cmdline()))
    kernels = worker.children(recursive=True)
    r = c.post(f"/jobs/{first}/cancel", data={"csrf": c.token(f"/jobs/{first}")})
    assert r.status_code == 200
    assert c.wait(first) == "cancelled"
    _, alive = psutil.wait_procs([worker, *kernels], timeout=10)
    assert not alive
    assert c.wait(second) == "done", c.why(second)  # the runner went on to the next job
    assert not (desk.data / "runs" / str(first) / "2025-all").exists()


def test_a_batch_by_size_from_the_same_form_with_its_index_page(desk):
    c = desk.client()
    d = dataset_id(c.upload("样例", SAMPLE_FILES))
    job = job_id(c.start_brief(d, batch_by="size", region="haidong"))
    assert c.wait(job) == "done", c.why(job)
    page = c.get(f"/jobs/{job}").text
    assert "每个规模一份" in page and "批量简报目录" in page
    index = c.get(f"/jobs/{job}/batch/index.html")
    assert "script-src" not in index.headers["content-security-policy"]  # no scripts at all
    assert "sandbox" in index.headers["content-security-policy"]
    links = re.findall(r"href='([^']+)/brief\.pdf'", index.text)
    assert len(links) == 4  # 大型, 中型, 小型, 微型
    pdf = c.get(f"/jobs/{job}/batch/{links[0]}/brief.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert c.get(f"/jobs/{job}/batch/..%2F..%2Fdesk.sqlite3/brief.pdf").status_code == 404
    assert c.get(f"/jobs/{job}/download/zip").headers["content-type"] == "application/zip"


def test_a_failed_job_shows_notebook_cell_and_error_and_the_last_good_brief_stays(
    start_desk, tiny_notebooks, tmp_path
):
    from notebook_factory import write_notebooks

    desk = start_desk(notebooks=tiny_notebooks)
    c = desk.client()
    d = dataset_id(c.upload("样例", SAMPLE_FILES))
    good = job_id(c.start_brief(d, region="haidong"))
    assert c.wait(good) == "done", c.why(good)
    pdf = c.get(f"/jobs/{good}/download/pdf").content
    # a rules file that refers to no fact is refused when the job is submitted
    bad_rules = ROOT / "tests" / "data" / "bad" / "rules_unknown_fact.yaml"
    r = c.post(
        f"/datasets/{d}/jobs",
        data={"csrf": c.token(f"/datasets/{d}")},
        files={"rules": (bad_rules.name, bad_rules.read_bytes(), "application/yaml")},
    )
    assert r.status_code == 400
    assert "rules_unknown_fact.yaml: rule &#39;x&#39;: unknown finding" in r.text
    desk.stop()
    broken = write_notebooks(tmp_path / "broken", fail_in="2-policy-brief.ipynb")
    desk = start_desk(notebooks=broken, data=desk.data)
    c = desk.client()
    bad = job_id(c.start_brief(d, region="haidong"))
    assert c.wait(bad) == "failed"
    page = c.get(f"/jobs/{bad}").text
    assert re.search(
        r"error: notebook 2-policy-brief.ipynb failed in cell \d+ \(`x = 1`\): "
        r"ValueError: planted failure",
        page,
    )
    assert "之前生成的简报不受影响" in page
    assert str(desk.data) not in page  # files named within the desk, not the server's paths
    assert c.get(f"/jobs/{good}/download/pdf").content == pdf
