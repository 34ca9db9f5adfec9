"""The ``qifang`` command: parses arguments and calls one function per subcommand.

Errors Qifang raises on purpose (:class:`~analysis.errors.QifangError`) are printed
as their message and fix, with a non-zero exit and no traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from analysis.errors import QifangError

EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that a run stops its kernels and keeps the last
    good brief on the way out."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    previous = None
    if args.command in ("run", "batch") and _main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except QifangError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt as exc:
        print(
            "stopped" if isinstance(exc, Terminated) else "interrupted",
            "(the last good brief, if any, is unchanged)"
            if args.command in ("run", "batch")
            else "",
            file=sys.stderr,
        )
        return 143 if isinstance(exc, Terminated) else 130
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # a bug, not bad input: say so, without a wall of traceback
        if os.environ.get("QIFANG_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in Qifang, not in your data. Please report it with the command "
            "you ran; set QIFANG_DEBUG=1 to see the traceback.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qifang",
        description="Qifang (企访): enterprise-visit survey data to policy briefs and drafts.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("sample", help="write the seeded synthetic sample survey")
    s.add_argument("--out", type=Path, default=None, help="folder (default data/sample)")
    s.add_argument("--firms", type=int, default=None, help="firms visited per wave (1500)")
    s.add_argument("--seed", type=int, default=None, help="random seed")
    s.set_defaults(func=_sample)

    v = sub.add_parser("validate", help="check exports against the questionnaire")
    v.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="visits export, and optionally the requests ledger and the frame",
    )
    v.add_argument("--instrument", type=Path, default=None, help="questionnaire YAML or XLSForm")
    v.add_argument("--sheet", default=None, help="worksheet of an Excel workbook")
    v.add_argument(
        "--wave", type=int, default=None, help="the wave of visits whose export has no wave column"
    )
    v.add_argument("--all", action="store_true", help="print every problem (default: first 200)")
    v.set_defaults(func=_validate)

    i = sub.add_parser("instrument", help="draft an instrument from an export's headers")
    isub = i.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = isub.add_parser(
        "init", help="match an export's columns to the bundled questions and write a YAML to edit"
    )
    init.add_argument("export", type=Path, metavar="EXPORT", help="the visits export")
    init.add_argument(
        "-o", "--out", type=Path, default=Path("instrument.yaml"), help="(instrument.yaml)"
    )
    init.add_argument("--base", type=Path, default=None, help="start from this instrument")
    init.add_argument("--sheet", default=None, help="worksheet of an Excel workbook")
    init.set_defaults(func=_instrument_init)

    r = sub.add_parser("run", help="run the notebooks and write a brief (default: the sample)")
    r.add_argument(
        "assignments",
        nargs="*",
        metavar="NAME=VALUE",
        help="parameters, e.g. region=海东市 wave=2025 lang=en",
    )
    r.add_argument("-f", "--params-file", type=Path, help="parameters from a YAML file")
    r.add_argument("--name", help="the run folder's name (default from the parameters)")
    r.add_argument("--out", type=Path, default=None, help="where run folders go (briefs/)")
    _runner_options(r)
    r.set_defaults(func=_run)

    res = sub.add_parser(
        "results",
        help="the office's results for a period from its ledgers: brief, tables, 工作总结",
    )
    res.add_argument(
        "assignments",
        nargs="*",
        metavar="NAME=VALUE",
        help="parameters, e.g. submissions=报送.xlsx events=采用.xlsx services=服务.xlsx",
    )
    res.add_argument(
        "--period", help="2025, 2025H1, 2025Q3 or 2025-03-01..2025-08-31 (default 2025)"
    )
    res.add_argument("-f", "--params-file", type=Path, help="parameters from a YAML file")
    res.add_argument("--name", help="the folder's name (default results-<period>)")
    res.add_argument("--out", type=Path, default=None, help="where the folder goes (briefs/)")
    _runner_options(res)
    res.set_defaults(func=_results)

    b = sub.add_parser(
        "batch", help="one brief per region (or industry, size), on a local or Dask cluster"
    )
    b.add_argument(
        "--by",
        required=True,
        metavar="region|industry|size[,…]",
        help="one brief per value (region,size: per region and size class)",
    )
    b.add_argument(
        "--workers", type=int, default=None, help="workers of the local cluster (default 2)"
    )
    b.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:8786",
        help="a Dask scheduler to run on (default $QIFANG_SCHEDULER, else a local cluster)",
    )
    b.add_argument("--only", default=None, metavar="VALUE[,…]", help="only these values of --by")
    b.add_argument("assignments", nargs="*", metavar="NAME=VALUE", help="shared parameters")
    b.add_argument("-f", "--params-file", type=Path, help="parameters from a YAML file")
    b.add_argument("--name", help="the batch folder's name (default <wave>-by-<by>)")
    b.add_argument(
        "--out", default=None, help="where the batch folder goes: a folder or an fsspec URL"
    )
    _runner_options(b)
    b.set_defaults(func=_batch)

    c = sub.add_parser("cache", help="the shared tables kept between runs: list or clear them")
    c.add_argument("action", choices=("list", "clear"), help="list the entries, or remove all")
    c.set_defaults(func=_cache)

    rw = sub.add_parser(
        "replicates", help="the visits with replicate weights (CSV/XLSX) for R, Stata, SPSS"
    )
    rw.add_argument("assignments", nargs="*", metavar="NAME=VALUE", help="as for run")
    rw.add_argument("-f", "--params-file", type=Path, help="parameters from a YAML file")
    rw.add_argument("--kind", choices=("bootstrap", "JKn", "JK1"), default="bootstrap")
    rw.add_argument(
        "--replicates",
        type=int,
        default=None,
        help="bootstrap replicates (default 500), or JKn groups (default one per firm)",
    )
    rw.add_argument("--seed", type=int, default=None, help="seed of the bootstrap or grouping")
    rw.add_argument("--out", type=Path, required=True, help="file to write (.csv or .xlsx)")
    rw.set_defaults(func=_replicates)

    d = sub.add_parser("serve", help="the office desk in the browser (upload, run, download)")
    d.add_argument(
        "--data",
        type=Path,
        default=Path("desk-data"),
        help="the desk's data folder (default desk-data)",
    )
    d.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    d.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    d.add_argument("--runners", type=int, default=1, help="jobs run at once (default 1)")
    d.add_argument(
        "--max-upload",
        type=int,
        default=200,
        metavar="MB",
        help="largest upload accepted, in MB (default 200)",
    )
    d.add_argument(
        "--notebooks", type=Path, default=None, help="run these notebooks instead of the project's"
    )
    d.add_argument(
        "--sample",
        action="store_true",
        help="add the bundled sample as a dataset and a first admin account",
    )
    d.add_argument(
        "--secure-cookies",
        action="store_true",
        help="session cookie over HTTPS only (behind a TLS reverse proxy)",
    )
    d.set_defaults(func=_serve)

    u = sub.add_parser("user", help="desk accounts")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    ua = usub.add_parser("add", help="add an account, or reset its role and password")
    ua.add_argument("name")
    ua.add_argument("--role", choices=("staff", "admin"), default="staff")
    ua.add_argument(
        "--data",
        type=Path,
        default=Path("desk-data"),
        help="the desk's data folder (default desk-data)",
    )
    ua.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of asking",
    )
    ua.set_defaults(func=_user_add)
    return p


def _runner_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop when one notebook cell runs longer than this (1800)",
    )
    p.add_argument(
        "--notebooks", type=Path, default=None, help="folder of the notebooks (notebooks/)"
    )


def _params(args) -> dict:
    from analysis.ingest.params import parse_assignments, read_params_file

    raw = read_params_file(args.params_file) if args.params_file else {}
    raw.update(parse_assignments(args.assignments))
    return raw


def _run(args) -> int:
    from analysis.pipeline.run import run

    run(
        _params(args),
        out_root=args.out,
        name=args.name,
        notebooks=args.notebooks,
        cell_timeout=args.cell_timeout,
    )
    return 0


def _replicates(args) -> int:
    from analysis.pipeline.replicates import export_replicates

    path = export_replicates(_params(args), args.out, args.kind, args.replicates, args.seed)
    print(f"wrote {path}")
    return 0


def _results(args) -> int:
    from analysis.errors import ParameterError
    from analysis.pipeline.results import results

    raw = _params(args)
    if args.period is not None:
        if "period" in raw and str(raw["period"]) != args.period:
            raise ParameterError(
                f"--period {args.period} and period={raw['period']} disagree", "give one of them"
            )
        raw["period"] = args.period
    results(
        raw,
        out_root=args.out,
        name=args.name,
        notebooks=args.notebooks,
        cell_timeout=args.cell_timeout,
    )
    return 0


def _batch(args) -> int:
    from analysis.pipeline.batch import batch

    result = batch(
        [d.strip() for d in args.by.split(",")],
        _params(args),
        workers=args.workers,
        scheduler=args.scheduler,
        out_root=args.out,
        name=args.name,
        only=[v.strip() for v in args.only.split(",")] if args.only else None,
        notebooks=args.notebooks,
        cell_timeout=args.cell_timeout,
    )
    print(f"{len(result.done)} brief(s) in {result.seconds:.1f} s; index: {result.index}")
    for value, error in result.failed.items():
        print(f"FAILED {value}: {error}", file=sys.stderr)
    return EXIT_PROBLEMS if result.failed else 0


def _cache(args) -> int:
    from analysis.survey import cache

    folder = cache.root()
    if folder is None:
        print("the cache is off (QIFANG_CACHE=off)")
        return 0
    if args.action == "clear":
        count, size = cache.clear(folder)
        print(f"removed {_entries(count)} ({size / 1e6:.1f} MB) from {folder}")
        return 0
    found = cache.entries(folder)
    total = sum(e.bytes for e in found)
    print(f"{folder}: {_entries(len(found))}, {total / 1e6:.1f} MB")
    for e in found:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.used))
        files = ", ".join(Path(i["path"]).name for i in e.inputs.values())
        print(f"  {e.key[:16]}  {e.bytes / 1e6:8.1f} MB  used {used}  {files}")
    return 0


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"

def _serve(args) -> int:
    from analysis.desk.serve import serve

    serve(
        args.data,
        host=args.host,
        port=args.port,
        runners=args.runners,
        max_upload_mb=args.max_upload,
        notebooks=args.notebooks,
        sample=args.sample,
        secure_cookies=args.secure_cookies,
    )
    return 0


def _user_add(args) -> int:
    import getpass

    from analysis.desk import users
    from analysis.desk.config import open_desk

    desk = open_desk(args.data)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise QifangError("the two passwords differ", "type the same password twice")
    replace = users.get_by_name(desk.db, args.name) is not None
    user = users.add(desk.db, args.name, args.role, password, replace=replace)
    print(f"{'reset' if replace else 'added'} {user.name} ({user.role}) in {desk.data}")
    return 0


def _sample(args) -> int:
    from analysis.sample.generate import (
        DEFAULT_FIRMS,
        DEFAULT_OUT,
        DEFAULT_SEED,
        generate_sample,
        write_sample,
    )

    firms = args.firms if args.firms is not None else DEFAULT_FIRMS
    if firms < 50:
        raise QifangError(f"--firms {firms} is too small", "give at least 50 firms per wave")
    start = time.perf_counter()
    sample = generate_sample(firms=firms, seed=args.seed if args.seed is not None else DEFAULT_SEED)
    made = time.perf_counter()
    paths = write_sample(sample, args.out or DEFAULT_OUT)
    done = time.perf_counter()
    per_wave = sample.visits.groupby("wave").size()
    print(
        f"Synthetic sample written to {paths[0].parent}/ "
        f"(generated in {made - start:.1f} s, written in {done - made:.1f} s)"
    )
    print(
        f"  visits.csv    {len(sample.visits):>10,} visits  "
        + ", ".join(f"{w}: {n:,}" for w, n in per_wave.items())
    )
    print(f"  requests.csv  {len(sample.requests):>10,} requests")
    print("  submissions.csv, events.csv, services.csv: the office's ledgers (see README.md)")
    print(
        f"  frame.csv     {len(sample.frame):>10,} strata, "
        f"{int(sample.frame.groupby('wave').firms.sum().iloc[-1]):,} registered firms in "
        f"{sample.frame.wave.max()}"
    )
    return 0


def _instrument_init(args) -> int:
    from analysis.ingest.draft import write_draft

    d = write_draft(args.export, args.out, base=args.base, sheet=args.sheet)
    print(
        f"{args.out}: drafted from {args.export.name}: {len(d.matched)} column(s) matched, "
        f"{len(d.guessed)} guessed, {len(d.unmatched)} unmatched, {len(d.dropped)} question(s) "
        "of the bundled instrument left out"
    )
    print(
        f"Check the lines marked TODO, then: qifang validate {args.export} --instrument {args.out}"
    )
    return 0


def _validate(args) -> int:
    from analysis.ingest.instrument import load_instrument
    from analysis.ingest.validate import validate

    inst = load_instrument(args.instrument)
    report = validate(args.paths, instrument=inst, sheet=args.sheet, wave=args.wave)
    limit = None if args.all else 200
    loud = report.unread_questions
    warnings = [*loud, *(w for w in report.warnings if w not in loud)]
    for label, items in (("ERROR", report.errors), ("warning", warnings)):
        for p in items[:limit]:
            print(f"{label}: {p}")
        if limit is not None and len(items) > limit:
            print(f"… and {len(items) - limit:,} more {label.lower()}s (use --all to list them)")
    for ld in report.loaded:
        prov = ld.provenance
        how = prov.encoding or f"sheet {prov.sheet!r}"
        errors = sum(p.severity == "error" for p in report.problems if p.path == prov.path)
        warnings = sum(p.severity == "warning" for p in report.problems if p.path == prov.path)
        print(
            f"{Path(prov.path).name}: {prov.rows:,} rows read as {ld.form} ({how}); "
            f"{errors:,} error(s), {warnings:,} warning(s)"
        )
    if loud:
        print(
            f"WARNING: {len(loud)} column(s) look like questions but were NOT read: "
            + ", ".join(repr(p.column) for p in loud[:8])
            + (" …" if len(loud) > 8 else "")
            + " — see the warnings above; add their titles to aliases in the instrument if "
            "they are its questions"
        )
    if report.ok:
        print("OK: no errors" + (f" ({len(report.warnings)} warnings)" if report.warnings else ""))
        return 0
    print(
        f"FAILED: {len(report.errors):,} error(s) — fix them and run qifang validate again",
        file=sys.stderr,
    )
    return EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
