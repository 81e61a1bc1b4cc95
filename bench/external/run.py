"""The real-faults benchmark: how often the diagnosis names the authors' cause on programs we did not write.

Run: ``python bench/external/run.py --mirrors DIR [--only NAME ...] [--no-repair] [--jobs N] [--json FILE]``.
Each case and variant (the buggy program, then its correct version as a control) trains in its own process under
``stallmagic.capture()``, is diagnosed, and, when its fault reproduced, the first remedy of each of the first three
findings is rerun with ``run.rerun``. See README.md beside this file for the rules, the label mapping and the
figures it prints. Without ``--mirrors`` (or a repository missing there) the cases skip with a message.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.external.harness import MARGIN, Mirror, Skip, agree, load_cases, reference  # noqa: E402

#: Seconds one case (one variant, reruns included) may take before it counts as failed.
TIMEOUT = 1800
#: Reruns ``run.repair`` may try per program (repair@auto), the issue's budget.
AUTO_BUDGET = 6
#: Confidence bands for the calibration table.
BANDS = ((0.8, 1.01), (0.65, 0.8), (0.5, 0.65), (0.0, 0.5))


# ---------------------------------------------------------------------- one case, in its own process


def _best(scores: list[float]) -> float:
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    return max(finite) if finite else math.nan


def _findings(report) -> list[dict]:
    return [
        {"code": f.code, "confidence": round(f.confidence, 3), "alert": f.alert, "explained_by": f.explained_by}
        for f in report.findings
    ]


def evaluate(name: str, variant: str, mirrors: str | None, *, repair: bool, seed: int) -> dict:
    """Train, diagnose and (for a reproduced fault) repair one case; a JSON-ready dict of what happened."""
    warnings.simplefilter("ignore")
    import keras

    import stallmagic
    from bench.external.harness import make_score_callback

    case, build = load_cases()[name]
    out: dict = {"case": name, "variant": variant, "labels": list(case.labels), "expected": list(case.expected)}
    keras.utils.set_random_seed(seed)
    try:
        program = build(Mirror(mirrors), variant)
    except Skip as exc:
        return {**out, "status": "skipped", "reason": str(exc)}
    out["task"] = program.task
    ref, ref_model = reference(program, seed)
    out.update(reference=ref, reference_model=ref_model)
    score_cb = make_score_callback(program)
    fit_args = dict(program.fit)
    fit_args["callbacks"] = [*list(fit_args.get("callbacks") or []), score_cb]
    fit_args.setdefault("verbose", 0)
    start = time.perf_counter()
    with stallmagic.capture() as session:
        try:
            program.model.fit(**fit_args)
        except Exception as exc:  # a fit that raises is part of the fault; its partial run is diagnosed
            out["fit_error"] = f"{type(exc).__name__}: {exc}"[:300]
    out["fit_s"] = time.perf_counter() - start
    if not session.runs:
        return {**out, "status": "crash", "reason": "no run was captured"}
    run = session.runs[-1]
    best = _best(score_cb.scores)
    nan = run.end == "nan" or any(
        isinstance(v, float) and not math.isfinite(v) for v in run.logs.get("loss", [])
    )
    out.update(best=best, scores=[round(s, 4) if math.isfinite(s) else None for s in score_cb.scores], nan=nan,
               epochs=run.epochs_done, end=run.end)
    out["reproduced"] = bool(nan or not math.isfinite(best) or best <= ref - MARGIN)
    start = time.perf_counter()
    try:
        report = run.diagnose()
    except Exception:
        out["diagnose_s"] = time.perf_counter() - start
        return {**out, "status": "crash", "reason": traceback.format_exc(limit=6)[-1500:]}
    out["diagnose_s"] = time.perf_counter() - start
    out["findings"] = _findings(report)
    out["notes"] = report.notes
    out["status"] = "ok"
    if repair and variant == "buggy" and out["reproduced"]:
        out["reruns"] = _repairs(run, report, score_cb, best, ref)
        out["auto"] = _auto_repair(run, score_cb, best, ref)
    return out


def _repaired(best: float, base: float, ref: float) -> bool:
    """Within MARGIN of the reference, or at least half of the gap closed."""
    gap = ref - base
    return math.isfinite(best) and (best >= ref - MARGIN or (math.isfinite(gap) and best - base >= gap / 2))


def _scores_of(run, score_cb) -> float:
    """The best score the benchmark's callback recorded during ``run``'s fit (the rerun's own fresh copy)."""
    call = run.fit_call or {}
    callbacks = (call.get("kwargs") or {}).get("callbacks") or []
    mine = [cb for cb in callbacks if isinstance(cb, type(score_cb))]
    return _best(mine[-1].scores) if mine else math.nan


def _auto_repair(run, score_cb, base: float, ref: float) -> dict:
    """``run.repair(budget=AUTO_BUDGET)`` (find a fix): did its best run repair the program?"""
    base = base if math.isfinite(base) else -math.inf
    start = time.perf_counter()
    try:
        result = run.repair(budget=AUTO_BUDGET)
    except Exception as exc:
        return {"status": f"raised {type(exc).__name__}: {exc}"[:300]}
    best = _scores_of(result.best, score_cb) if result.best is not run else base
    return {
        "status": result.stopped,
        "attempts": [a.remedy.code for a in result.attempts],
        "chain": [r.code for r in result.chain],
        "best": best,
        "repaired": bool(_repaired(best, base, ref)),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _repairs(run, report, score_cb, base: float, ref: float) -> list[dict]:
    """Rerun the first enabled remedy of each of the first three findings; was the run repaired?"""
    from stallmagic.rerun import trained_alike

    reruns = []
    base = base if math.isfinite(base) else -math.inf
    for rank, finding in enumerate(report.findings[:3], 1):
        remedy = next((r for r in finding.remedies if r.enabled), None)
        row = {"rank": rank, "finding": finding.code, "remedy": remedy.code if remedy else None}
        if remedy is None:
            reruns.append({**row, "status": "no remedy a rerun can apply"})
            continue
        before = len(type(score_cb).history)
        try:
            new = run.rerun(remedy)
        except Exception as exc:
            reruns.append({**row, "status": f"raised {type(exc).__name__}: {exc}"[:300]})
            continue
        scores = type(score_cb).history[before] if len(type(score_cb).history) > before else []
        best = _best(scores)
        repaired = _repaired(best, base, ref)
        unchanged = trained_alike(run, new)  # the remedy ran and the training did not change
        reruns.append({**row, "status": new.end, "best": best, "repaired": bool(repaired), "unchanged": unchanged})
    return reruns


# ---------------------------------------------------------------------- the whole benchmark


def _child(name: str, variant: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", name, variant, "--seed", str(args.seed)]
    if args.mirrors:
        cmd += ["--mirrors", args.mirrors]
    if args.no_repair:
        cmd.append("--no-repair")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"case": name, "variant": variant, "status": "crash", "reason": f"timed out after {args.timeout}s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"case": name, "variant": variant, "status": "crash", "reason": done.stderr[-1500:]}


def _fmt_findings(findings: list[dict], expected: list[str], mark_agree: str = "*") -> str:
    shown = []
    for f in findings[:3]:
        mark = mark_agree if f["code"] in expected else ""
        shown.append(f"{f['code']}{mark} {f['confidence']:.2f}{'' if f['alert'] else ' (hint)'}")
    return ", ".join(shown) or "(nothing)"


def _print_row(r: dict) -> None:
    name = f"{r['case']} [{r['variant']}]"
    if r["status"] == "skipped":
        print(f"{name:<40} skipped: {r['reason']}", flush=True)
        return
    if r["status"] == "crash":
        print(f"{name:<40} CRASH: {r['reason'].strip().splitlines()[-1] if r['reason'] else '?'}", flush=True)
        return
    rep = "reproduced" if r["reproduced"] else "not reproduced"
    print(
        f"{name:<40} labels={'+'.join(r['labels'])}; best {r['best']:.3f} vs reference {r['reference']:.3f} "
        f"({r['reference_model']}), {rep}; fit {r['fit_s']:.1f}s, diagnosis {r['diagnose_s']:.1f}s",
        flush=True,
    )
    print(f"{'':<40} findings: {_fmt_findings(r['findings'], r['expected'])}", flush=True)
    auto = r.get("auto")
    if auto:
        detail = f"best {auto['best']:.3f}, repaired={auto['repaired']}" if "best" in auto else ""
        print(f"{'':<40} repair@auto: {' + '.join(auto.get('chain') or []) or 'nothing kept'} "
              f"(tried {', '.join(auto.get('attempts') or []) or 'nothing'}; {auto['status']}) {detail}", flush=True)
    for rr in r.get("reruns", []):
        result = f"best {rr['best']:.3f}, repaired={rr['repaired']}" if "best" in rr else rr["status"]
        if rr.get("unchanged"):
            result += ", UNCHANGED (the training did not change)"
        elif rr.get("status") in ("error", "nan"):
            result += f", ended in {rr['status']}"
        print(f"{'':<40} rerun #{rr['rank']} {rr['finding']} -> {rr['remedy']}: {result}", flush=True)


def summarize(rows: list[dict]) -> dict:
    """The headline figures (README.md) from the per-case rows."""
    buggy = [r for r in rows if r["variant"] == "buggy" and r["status"] != "skipped"]
    counted = [r for r in buggy if r["status"] == "crash" or r.get("reproduced")]
    ran = [r for r in rows if r["variant"] == "correct" and r["status"] == "ok"]
    # A control counts when the authors' fix works: it reaches the reference. A "fixed" program that still falls
    # short is stuck itself (the fix was partial), and a finding on it is no false alarm; those are listed apart.
    controls = [r for r in ran if not r.get("reproduced")]
    stuck_controls = [r for r in ran if r.get("reproduced")]

    def alerts(r: dict) -> list[str]:
        return [f["code"] for f in r.get("findings", []) if f["alert"]]

    def shown(r: dict) -> list[str]:  # the report's order: alerts first, then the weaker hints
        return [f["code"] for f in r.get("findings", [])]

    first = sum(1 for r in counted if r["status"] == "ok" and agree(alerts(r)[:1], r["expected"]))
    top3 = sum(1 for r in counted if r["status"] == "ok" and agree(shown(r)[:3], r["expected"]))
    missed = sum(1 for r in counted if r["status"] == "crash" or not alerts(r))
    crashes = sum(1 for r in rows if r["status"] == "crash")
    alarms = sum(1 for r in controls if alerts(r))
    repaired1 = sum(1 for r in counted if any(x.get("repaired") for x in r.get("reruns", [])[:1] if x["rank"] == 1))
    repaired3 = sum(1 for r in counted if any(x.get("repaired") for x in r.get("reruns", [])))
    repaired_auto = sum(1 for r in counted if (r.get("auto") or {}).get("repaired"))
    auto_reruns = [len((r.get("auto") or {}).get("attempts", [])) for r in counted if r.get("auto")]
    tried = [x for r in counted for x in r.get("reruns", []) if x.get("remedy")]
    per_remedy: dict[str, list[int]] = {}
    for x in tried:
        counts = per_remedy.setdefault(x["remedy"], [0, 0])
        counts[0] += bool(x.get("repaired"))
        counts[1] += 1
    bands = []
    for lo, hi in BANDS:
        hits = total = 0
        for r in rows:
            # ground truth: a buggy program's labels (reproduced or not: the label says what is wrong), and "no
            # cause" for a working control; a partial fix that still falls short has no ground truth
            if r["status"] != "ok" or (r["variant"] == "correct" and r.get("reproduced")):
                continue
            expected = r["expected"] if r["variant"] == "buggy" else []
            for f in r["findings"]:
                if lo <= f["confidence"] < hi:
                    total += 1
                    hits += f["code"] in expected
        bands.append((lo, hi, hits, total))
    ratios = [r["diagnose_s"] / r["fit_s"] for r in rows if r["status"] == "ok" and r.get("fit_s")]
    return {
        "programs": len(buggy),
        "reproduced": len(counted),
        "agree1": first,
        "agree3": top3,
        "missed": missed,
        "crashes": crashes,
        "controls": len(controls),
        "false_alarms": alarms,
        "false_alarm_cases": [r["case"] for r in controls if alerts(r)],
        "stuck_controls": [(r["case"], alerts(r)[:2]) for r in stuck_controls],
        "all_correct_quiet": (sum(1 for r in ran if not alerts(r)), len(ran)),
        "repair1": repaired1,
        "repair_auto": repaired_auto,
        "auto_reruns_median": statistics.median(auto_reruns) if auto_reruns else math.nan,
        "reruns_tried": len(tried),
        "reruns_unchanged": [(x["remedy"]) for x in tried if x.get("unchanged")],
        "reruns_failed": [x["remedy"] for x in tried if "best" not in x or x.get("status") in ("error", "nan")],
        "per_remedy": sorted(per_remedy.items(), key=lambda kv: (-kv[1][1], kv[0])),
        "repair3": repaired3,
        "bands": bands,
        "ratio_median": statistics.median(ratios) if ratios else math.nan,
        "not_reproduced": [r["case"] for r in buggy if r["status"] == "ok" and not r.get("reproduced")],
    }


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f}%)" if b else f"{a}/0"


def print_summary(s: dict, *, repair: bool) -> None:
    n = s["reproduced"]
    print()
    print(f"programs run: {s['programs']}, fault reproduced: {n}"
          + (f" (not reproduced: {', '.join(s['not_reproduced'])})" if s["not_reproduced"] else ""))
    print(f"agree@1:    {_pct(s['agree1'], n)}   (target >= 75%)")
    print(f"agree@top3: {_pct(s['agree3'], n)}   (target >= 90%)")
    print(f"missed (healthy or crashed): {_pct(s['missed'], n)}   (target <= 1 in 20); crashes in all runs: "
          f"{s['crashes']}")
    print(f"controls healthy: {_pct(s['controls'] - s['false_alarms'], s['controls'])}   (target >= 90%)"
          + (f"; false alarms: {', '.join(s['false_alarm_cases'])}" if s["false_alarm_cases"] else ""))
    quiet, total = s["all_correct_quiet"]
    print(f"all correct versions without an alert (working fixes and partial ones): {_pct(quiet, total)}")
    if s["stuck_controls"]:
        shown = "; ".join(f"{case} ({', '.join(codes) or 'nothing found'})" for case, codes in s["stuck_controls"])
        print(f"correct versions that still fall short of the reference (not counted as controls): {shown}")
    if repair:
        print(f"repair@1:   {_pct(s['repair1'], n)}")
        print(f"repair@3:   {_pct(s['repair3'], n)}")
        print(f"repair@auto (run.repair, at most {AUTO_BUDGET} reruns): {_pct(s['repair_auto'], n)}; "
              f"reruns per program: median {s['auto_reruns_median']}")
        print(f"reruns that left the training unchanged: {len(s['reruns_unchanged'])} of {s['reruns_tried']}"
              + (f" ({', '.join(s['reruns_unchanged'])})" if s["reruns_unchanged"] else ""))
        print(f"reruns that raised, ended in an error or NaN: {len(s['reruns_failed'])} of {s['reruns_tried']}"
              + (f" ({', '.join(s['reruns_failed'])})" if s["reruns_failed"] else ""))
        print("per remedy (repaired / tried): "
              + ", ".join(f"{code} {hit}/{total}" for code, (hit, total) in s["per_remedy"]))
    print("calibration (findings in each band that are a labelled cause; buggy programs and working controls):")
    for lo, hi, hits, total in s["bands"]:
        print(f"  [{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}: {_pct(hits, total)}")
    print(f"diagnosis time / fit time: median {s['ratio_median']:.2f}   (target <= 0.3)")


def markdown(rows: list[dict]) -> str:
    """The per-case table for docs/benchmarks.md: labels, score against the reference, the first three findings
    (a tick where one agrees), and which of the reruns repaired the program."""
    reran = any(r.get("reruns") for r in rows)
    lines = [
        "| case | labels | best / reference | first three findings |"
        + (" reruns (first remedy of findings 1-3) | find a fix (`run.repair`) |" if reran else ""),
        "|---|---|---|---|" + ("---|---|" if reran else ""),
    ]
    for r in rows:
        name = f"`{r['case']}`" + (" (correct)" if r["variant"] == "correct" else "")
        if r["status"] != "ok":
            reason = r.get("reason", "").strip().splitlines()[-1][:110] if r.get("reason") else ""
            tail = " | |" + (" | |" if reran else "")
            lines.append(f"| {name} | {'+'.join(r.get('labels', []))} | {r['status']}: {reason}{tail}")
            continue
        score = f"{r['best']:.3f} / {r['reference']:.3f}" + ("" if r["reproduced"] else " (not reproduced)")
        reruns = ", ".join(
            f"{x['remedy']} {'✓' if x.get('repaired') else '✗'}" + (" (unchanged)" if x.get("unchanged") else "")
            if "best" in x
            else f"{x['remedy'] or '-'} (none)"
            for x in r.get("reruns", [])
        )
        auto = r.get("auto") or {}
        found = (
            f"{' + '.join(auto.get('chain') or []) or 'nothing kept'}: {auto['best']:.3f} "
            f"{'✓' if auto.get('repaired') else '✗'} ({len(auto.get('attempts') or [])} reruns)"
            if "best" in auto
            else auto.get("status", "")
        )
        lines.append(
            f"| {name} | {'+'.join(r['labels'])} | {score} | {_fmt_findings(r['findings'], r['expected'], ' ✓')} |"
            + (f" {reruns} | {found} |" if reran else "")
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirrors", help="folder with the fetched repositories (owner+name); skips without it")
    parser.add_argument("--only", nargs="+", help="case names (default: all)")
    parser.add_argument("--variants", nargs="+", default=["buggy", "correct"], choices=["buggy", "correct"])
    parser.add_argument("--no-repair", action="store_true", help="do not rerun remedies")
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=TIMEOUT)
    parser.add_argument("--json", help="also write every row to this JSON file")
    parser.add_argument("--markdown", help="also write the per-case table (markdown) to this file")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        name, variant = args.child
        try:
            row = evaluate(name, variant, args.mirrors, repair=not args.no_repair, seed=args.seed)
        except Exception:
            row = {"case": name, "variant": variant, "status": "crash", "reason": traceback.format_exc()[-1500:]}
        print(json.dumps(row, default=float))
        return

    if not args.mirrors:
        print("real-faults benchmark skipped: no --mirrors folder (fetch Wardat-ISU/DeepLocalize and "
              "shiningrain/AUTOTRAINER into one folder and pass it)")
        return
    cases = load_cases()
    names = args.only or list(cases)
    unknown = [n for n in names if n not in cases]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {', '.join(cases)}")
    mirror = Mirror(args.mirrors)
    jobs = []
    for name in names:
        case, _ = cases[name]
        if not mirror.available(case.repo):
            print(f"{name:<40} skipped: {case.repo} is not fetched under {args.mirrors}")
            continue
        for variant in args.variants:
            if variant == "correct" and not case.correct:
                continue
            jobs.append((name, variant))
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        rows = []
        for row in pool.map(lambda job: _child(job[0], job[1], args), jobs):
            row.setdefault("labels", list(cases[row["case"]][0].labels))
            row.setdefault("expected", list(cases[row["case"]][0].expected))
            _print_row(row)
            rows.append(row)
    summary = summarize(rows)
    print_summary(summary, repair=not args.no_repair)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1, default=float))
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows))


if __name__ == "__main__":
    main()
