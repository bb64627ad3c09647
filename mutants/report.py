#!/usr/bin/env python3
"""MUTANTS.md from cargo-mutants' outcomes (mutants/mutants.sh runs it).

For each module of mutants/modules.txt it reads
OUTCOMES/<module>/mutants.out/outcomes.json and counts the mutants, caught,
missed, timeouts and unviable; the score is what the tests detected
(caught + timeouts) out of the viable mutants (those that build). Then it
lists each missed mutant, marked when mutants/accepted.txt accepts it
(with its reason). Exits 1 when a survivor is not accepted, or a module has
no outcomes yet; standard library only.
"""

import argparse
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "FILE:LINE:COL: what changed", cargo-mutants' name of a mutant.
NAME = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<what>.*)$")
SUMMARIES = {
    "CaughtMutant": "caught",
    "MissedMutant": "missed",
    "Timeout": "timeouts",
    "Unviable": "unviable",
}


def modules():
    """(file, test arguments) of each module, in modules.txt's order."""
    for line in (ROOT / "mutants/modules.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            file, _, args = line.strip().partition(" ")
            yield file, args.strip()


def accepted():
    """{(file, mutant): reason} from accepted.txt, lines of FILE: MUTANT # REASON."""
    found = {}
    for number, line in enumerate((ROOT / "mutants/accepted.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        file, _, rest = line.partition(": ")
        mutant, _, reason = rest.partition(" # ")
        if not (file and mutant.strip() and reason.strip()):
            sys.exit(f"mutants/accepted.txt:{number}: not FILE: MUTANT # REASON")
        found[(file.strip(), mutant.strip())] = reason.strip()
    return found


def key(file):
    return file.removeprefix("contributors/src/").removesuffix(".rs").replace("/", "-")


def stamp(text):
    """A time cargo-mutants wrote (RFC 3339, perhaps with nanoseconds)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text)


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="the report to write, e.g. MUTANTS.md")
    parser.add_argument("--outcomes", required=True, help="where mutants.sh left the outcomes")
    args = parser.parse_args()
    accepting = accepted()
    rows, survivors, versions, problems = [], [], set(), []
    for file, tests in modules():
        path = Path(args.outcomes) / key(file) / "mutants.out/outcomes.json"
        if not path.is_file():
            problems.append(f"{file}: no outcomes ({path}); run bash mutants/mutants.sh {file}")
            rows.append((file, tests, None, None, None, None, 0))
            continue
        # Runs with MUTANTS_ITERATE=1 leave the earlier ones' outcomes in
        # earlier/: each mutant's latest outcome counts.
        runs = sorted((path.parent.parent / "earlier").glob("*.json"), key=lambda p: int(p.stem))
        latest, minutes = {}, 0.0
        for run in [*runs, path]:
            lab = json.loads(run.read_text())
            versions.add(lab["cargo_mutants_version"])
            if lab["end_time"] is None:
                problems.append(f"{file}: the run in {run} did not finish")
                ended = datetime.datetime.fromtimestamp(run.stat().st_mtime, datetime.timezone.utc)
            else:
                ended = stamp(lab["end_time"])
            minutes += (ended - stamp(lab["start_time"])).total_seconds() / 60
            for outcome in lab["outcomes"]:
                scenario = outcome["scenario"]
                if isinstance(scenario, dict):  # not the baseline
                    latest[scenario["Mutant"]["name"]] = outcome["summary"]
        counts = dict.fromkeys(SUMMARIES.values(), 0)
        mutants = len(latest)
        for name, outcome in latest.items():
            summary = SUMMARIES.get(outcome)
            if summary is None:
                problems.append(f"{file}: {name} ended {outcome}")
                continue
            counts[summary] += 1
            if summary == "missed":
                name = NAME.match(name)
                reason = accepting.get((name["file"], name["what"]))
                survivors.append((name["file"], int(name["line"]), name["what"], reason))
        viable = mutants - counts["unviable"]
        detected = counts["caught"] + counts["timeouts"]
        accepted_here = sum(1 for s in survivors if s[0] == file and s[3])
        score = f"{100 * detected / viable:.1f}%" if viable else "n/a"
        rest = viable - accepted_here
        adjusted = f"{100 * detected / rest:.1f}%" if rest else "n/a"
        counts["accepted"] = accepted_here
        rows.append((file, tests, mutants, counts, (score, adjusted), minutes, len(runs) + 1))

    commit = git("rev-parse", "--short=12", "HEAD")
    if git("status", "--porcelain", "--", "contributors"):
        commit += " (with uncommitted changes under contributors/)"
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutants` (mutants/mutants.sh, mutants/report.py); do not edit.",
        f"cargo-mutants {', '.join(sorted(versions)) or '(none ran)'}, at commit {commit}.",
        "",
        "Each mutant is one small change to a module (a comparison turned",
        "around, a body replaced by a default value, ...) with the module's",
        "tests run against it. **Caught**: a test failed. **Missed**: every test",
        "passed, so no test pins that behaviour. **Timeout**: the tests hung",
        "(detected). **Unviable**: it does not build. The score is caught and",
        "timeouts out of the viable mutants. A missed mutant is either killed",
        "by a new test or accepted in mutants/accepted.txt with its reason",
        "(equivalent: no test can tell it apart; or speed only); the second",
        "score leaves the accepted ones out of the count.",
        "**Runs**: 1 is one full run; more, a full run then reruns of the",
        "mutants not caught yet (`MUTANTS_ITERATE=1`), each mutant counted by",
        "its latest run. Minutes add up the runs, on the machine as loaded then.",
        "",
        "| module | tests run | mutants | caught | missed | of which accepted | timeouts | unviable "
        "| score | score, accepted left out | runs | minutes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for file, tests, mutants, c, score, minutes, runs in rows:
        if mutants is None:
            lines.append(f"| {file.removeprefix('contributors/src/')} | `{tests}` | not run | | | | | | | | 0 | |")
            continue
        lines.append(
            f"| {file.removeprefix('contributors/src/')} | `{tests}` | {mutants} | {c['caught']} "
            f"| {c['missed']} | {c['accepted']} | {c['timeouts']} | {c['unviable']} | {score[0]} "
            f"| {score[1]} | {runs} | {minutes:.0f} |"
        )
    lines += ["", "## Missed mutants", ""]
    if not survivors:
        lines.append("None.")
    for file, line, what, reason in sorted(survivors):
        verdict = f"accepted: {reason}" if reason else "**not accepted**"
        lines.append(f"- `{file}:{line}`: `{what}` ({verdict})")
    Path(args.out).write_text("\n".join(lines) + "\n")

    # An acceptance no survivor needs any more (a test kills it now) goes.
    surviving = {(file, what) for file, _, what, _ in survivors}
    ran = {file for file, _, mutants, *_ in rows if mutants is not None}
    for file, what in accepting.keys() - surviving:
        if file in ran:
            problems.append(f"mutants/accepted.txt: {file}: {what}: no such survivor; remove the line")
    unexplained = [s for s in survivors if not s[3]]
    for file, line, what, _ in unexplained:
        problems.append(f"{file}:{line}: {what}: survived, not in mutants/accepted.txt")
    for problem in problems:
        print(f"mutants: {problem}", file=sys.stderr)
    print(f"mutants: wrote {args.out}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
