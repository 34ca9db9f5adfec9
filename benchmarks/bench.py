"""Qifang benchmark: `make bench` (or `python benchmarks/bench.py`). Not part of the tests.

(a) the default brief end to end: `qifang run` against the naive route on the same
    notebooks — the papermill CLI once per notebook, then the `jupyter nbconvert` CLI
    once per output (HTML and PDF);
(b) all indicators of one brief for 10k, 100k and 1M visits (generated samples): time
    to load the files, time to build the findings, peak memory (each size in a fresh
    process), and how the cost grows;
(c) a batch of the eight regions with 1 worker and with 2;
(d) the desk: a rerun with a new region, click to start and to done, against `qifang run`
    (benchmarks/bench_desk.py).

Targets: (a) at most half the naive route's time; (b) 1M visits in under 10x the time
of 100k, peak memory under 2 GB; (c) 2 workers at least 1.6x faster than 1; (d) the
desk's job starts within 1 s of the click and ends within the CLI's time + 1 s.

Prints a table and writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = ("1-survey-analysis.ipynb", "2-policy-brief.ipynb", "3-proposal-drafts.ipynb")


def _run(cmd: list[str], **kw) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def _best(fn, repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def end_to_end(repeat: int) -> dict:
    def ours() -> float:
        with tempfile.TemporaryDirectory() as out:
            return _run([str(BIN / "qifang"), "run", "--out", out])

    def naive() -> float:
        with tempfile.TemporaryDirectory() as out:
            total = 0.0
            for nb in NOTEBOOKS:
                total += _run([str(BIN / "papermill"), str(ROOT / "notebooks" / nb),
                               str(Path(out) / nb), "-p", "out_dir", out, "--cwd",
                               str(ROOT / "notebooks"), "--no-progress-bar"])
            for fmt in ("qifang_html", "qifang_pdf"):
                total += _run([str(BIN / "jupyter"), "nbconvert", "--to", fmt,
                               str(Path(out) / NOTEBOOKS[1])])
            return total

    _run([str(BIN / "qifang"), "run", "--out", tempfile.mkdtemp()])  # warm caches (fonts, jieba)
    a, b = _best(ours, repeat), _best(naive, repeat)
    return {"qifang_run_s": a, "naive_s": b, "ratio": a / b, "target": "ratio <= 0.5",
            "met": a / b <= 0.5}


_SIZE_SCRIPT = """
import json, resource, sys, time
from analysis.findings.build import build_findings, open_survey
folder = sys.argv[1]
t0 = time.perf_counter()
survey = open_survey({"visits": f"{folder}/visits.csv", "requests": f"{folder}/requests.csv",
                      "frame": f"{folder}/frame.csv"})
t1 = time.perf_counter()
findings = build_findings(survey)
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
print(json.dumps({"visits": int(len(survey.visits)), "load_s": t1 - t0,
                  "indicators_s": t2 - t1, "peak_bytes": peak}))
"""


def scaling(sizes: list[int]) -> dict:
    from analysis.sample.generate import generate_sample, write_sample

    rows = []
    for visits in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"qifang-bench-{visits}-"))
        write_sample(generate_sample(firms=visits // 2, seed=1), folder)
        out = subprocess.run([sys.executable, "-c", _SIZE_SCRIPT, str(folder)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        shutil.rmtree(folder, ignore_errors=True)
    by = {r["visits"]: r for r in rows}
    big, mid = max(by), sorted(by)[-2] if len(by) > 1 else None
    growth = by[big]["indicators_s"] / by[mid]["indicators_s"] if mid else None
    peak_gb = by[big]["peak_bytes"] / 1e9
    return {"rows": rows, "growth_last_step": growth, "peak_gb_largest": peak_gb,
            "target": "1M under 10x the time of 100k, peak under 2 GB",
            "met": growth is not None and growth < 10 and peak_gb < 2}


def batch(repeat: int) -> dict:
    def once(workers: int) -> float:
        with tempfile.TemporaryDirectory() as out:
            return _run([str(BIN / "qifang"), "batch", "--by", "region", "--workers",
                         str(workers), "--out", out])

    one, two = _best(lambda: once(1), repeat), _best(lambda: once(2), repeat)
    return {"workers_1_s": one, "workers_2_s": two, "speedup": one / two,
            "target": "speedup >= 1.6", "met": one / two >= 1.6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="a,b,c,d", help="which parts to run: a, b, c, d")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing; the best counts")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    results = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, "
               f"{os.cpu_count()} CPUs, Python {platform.python_version()}"}
    if "a" in parts:
        results["a_end_to_end"] = end_to_end(args.repeat)
    if "b" in parts:
        results["b_scaling"] = scaling([int(x) for x in args.sizes.split(",")])
    if "c" in parts:
        results["c_batch"] = batch(args.repeat)
    if "d" in parts:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bench_desk import desk_rerun

        results["d_desk"] = desk_rerun(args.repeat)
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"Qifang benchmark, {results['date']}, {results['machine']}")
    print(f"{'measure':<44}{'value':>14}  target")
    if "a_end_to_end" in results:
        a = results["a_end_to_end"]
        print(f"{'(a) qifang run, default brief':<44}{a['qifang_run_s']:>12.1f} s")
        print(f"{'(a) naive: papermill CLI x3 + nbconvert x2':<44}{a['naive_s']:>12.1f} s")
        print(f"{'(a) ratio':<44}{a['ratio']:>14.2f}  <= 0.5  {'met' if a['met'] else 'NOT met'}")
    if "b_scaling" in results:
        b = results["b_scaling"]
        for r in b["rows"]:
            print(f"{'(b) ' + format(r['visits'], ',') + ' visits: load / indicators':<44}"
                  f"{r['load_s']:>6.1f} / {r['indicators_s']:>4.1f} s  peak "
                  f"{r['peak_bytes'] / 1e9:.2f} GB")
        print(f"{'(b) indicators, 1M vs 100k':<44}{b['growth_last_step']:>13.1f}x  < 10x, "
              f"peak {b['peak_gb_largest']:.2f} GB < 2 GB  {'met' if b['met'] else 'NOT met'}")
    if "c_batch" in results:
        c = results["c_batch"]
        print(f"{'(c) batch of 8 regions, 1 worker':<44}{c['workers_1_s']:>12.1f} s")
        print(f"{'(c) batch of 8 regions, 2 workers':<44}{c['workers_2_s']:>12.1f} s")
        print(f"{'(c) speedup':<44}{c['speedup']:>13.2f}x  >= 1.6x  "
              f"{'met' if c['met'] else 'NOT met'}")

    if "d_desk" in results:
        from bench_desk import print_rows

        print_rows(results["d_desk"])

if __name__ == "__main__":
    main()
