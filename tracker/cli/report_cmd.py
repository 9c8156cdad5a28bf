"""`tracker hrv FILE` (HRV of an RR series) and `tracker report` (the evidence report on the claims)."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from tracker.analysis.hrv import analyze_rr
from tracker.bootstrap import build_tracker
from tracker.config import Config
from tracker.errors import UserError

from .output import print_json
from .person_arg import add_person_option

HRV_LABELS = {
    "n_beats": ("beats", ""), "n_flagged": ("flagged beats", ""), "flagged_pct": ("flagged", "%"),
    "quality_ok": ("quality gate passed", ""), "mean_nn_ms": ("MeanNN", "ms"), "sdnn_ms": ("SDNN", "ms"),
    "rmssd_ms": ("RMSSD", "ms"), "ln_rmssd": ("lnRMSSD", "ln ms"), "sdsd_ms": ("SDSD", "ms"),
    "pnn50_pct": ("pNN50", "%"), "pnn20_pct": ("pNN20", "%"), "mean_hr_bpm": ("mean HR", "bpm"),
    "vlf_ms2": ("VLF power", "ms²"), "lf_ms2": ("LF power", "ms²"), "hf_ms2": ("HF power", "ms²"),
    "lf_hf": ("LF/HF", ""), "lf_nu": ("LF", "n.u."), "hf_nu": ("HF", "n.u."), "sd1_ms": ("SD1", "ms"),
    "sd2_ms": ("SD2", "ms"), "sd1_sd2": ("SD1/SD2", ""), "dfa_alpha1": ("DFA α1", ""),
    "stress_index": ("Baevsky stress index", ""),
}  # fmt: skip


def read_rr_file(path: Path) -> list[float]:
    """RR intervals in ms: one number per line, or a CSV with an `rr_ms` column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    values: list[float] = []
    if "," in first or first.strip().lower() == "rr_ms":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or "rr_ms" not in [f.strip() for f in reader.fieldnames]:
            raise UserError(f"{path}:1: a CSV needs an rr_ms column")
        for row in reader:
            cell = (row.get("rr_ms") or "").strip()
            if cell:
                values.append(_number(path, reader.line_num, cell))
    else:
        for line_no, line in enumerate(lines, start=1):
            if line.strip():
                values.append(_number(path, line_no, line.strip()))
    if len(values) < 2:
        raise UserError(f"{path}: needs at least two RR intervals, found {len(values)}")
    return values


def _number(path: Path, line: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{path}:{line}: {text!r} is not a number of milliseconds") from None
    if not 0 < value < 10_000:
        raise UserError(f"{path}:{line}: {value:g} ms is not an RR interval")
    return value


def cmd_hrv(cfg: Config, args: argparse.Namespace) -> int:
    result = analyze_rr(read_rr_file(args.file), gate=not args.raw).to_dict()
    if args.json:
        print_json(result)
        return 0
    for key, value in result.items():
        label, unit = HRV_LABELS[key]
        if value is None:
            shown = "not computable"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float):
            shown = f"{value:.4g} {unit}".strip()
        else:
            shown = f"{value} {unit}".strip()
        print(f"{label:22} {shown}")
    if args.raw:
        print("(artefact gate skipped: --raw)")
    return 0


def _effect(value: float | None, ci: list[float] | None) -> str:
    """"+0.164 CI [+0.069, +0.257]" in fixed columns; "-" where there is no number."""
    shown = "-" if value is None else f"{value:+.3g}"
    ci_text = "-" if not ci else f"[{ci[0]:+.3g}, {ci[1]:+.3g}]"
    return f"change {shown:>8} CI {ci_text:20}"


def cmd_report(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        if args.person:
            person = tracker.people.get(args.person)
        else:
            people = tracker.people.list()
            if len(people) != 1:
                raise UserError("name the person with --person (there is not exactly one)")
            person = people[0]
        report = tracker.reports.report(person.id)
    finally:
        tracker.close()
    data = report.to_dict()
    if args.json:
        print_json(data)
        return 0
    period = data["period"]
    print(f"Evidence report for {data['person']} ({data['timezone']}), {period['start']} to {period['end']}")
    print(f"sessions: {data['sessions']['massage']} massage, {data['sessions']['rest']} rest; nights: {data['nights']}")
    pe = data["primary_endpoint"]
    print(f"primary endpoint: {pe['metric']} on night {pe['lag']} after a session")
    if pe.get("history_note"):  # issue 9 item 6: when the endpoint was set, and any change after sessions
        print(f"  ({pe['history_note']})")
    print("\nRight after sessions (post minus pre):")
    for row in data["acute"]:
        print(f"  {row['metric']:10} {row['kind']:18} n={row['n']:<3} {_effect(row['mean_change'], row['ci95'])} {row['verdict']}")
    print("\nNights after sessions vs nights without:")
    for row in data["nights_after"]:
        print(f"  {row['metric']:22} lag {row['lag']} {_effect(row['difference'], row['ci95'])} {row['verdict']}")
    print("\nClaims:")
    for claim in data["claims"]:
        print(f"  {claim['claim']}: {claim['verdict']}")
    trial = data.get("trial")
    if trial:  # only a randomised trial's result is worded causally (see `tracker trial show`)
        a = trial["analysis"]
        print(f"\nFair test (trial {trial['id']}, {trial['status']}, {a['weeks_with_both_sessions_done']} of "
              f"{trial['weeks']} weeks done, {len(trial['deviations'])} deviations):")
        print(f"  {a['outcomes'][0]['statement']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("hrv", help="HRV of an RR series (ms; one per line, or a CSV with an rr_ms column)")
    p.add_argument("file", type=Path)
    p.add_argument("--raw", action="store_true", help="skip the artefact gate (to compare with other tools)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_hrv)
    p = sub.add_parser("report", help="does massage change your heart rate, HRV, sleep, pain, mood?")
    add_person_option(p, absent="default: the only person")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_report)
