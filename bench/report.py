#!/usr/bin/env python3
"""Renders the benchmark results (bench/lib.sh's bench_row and bench_note lines)
as Markdown tables: medians with min and max, and the ratio of the medians.

    report.py RESULTS.tsv

Row:  row SECTION MEASURE UNIT BETTER A_LABEL A_SAMPLES B_LABEL B_SAMPLES
Note: note SECTION TEXT
"""

import statistics
import sys

TITLES = {
    "1": "Clone versus copy versus load: time to a ready data root",
    "2": "Fresh volume: `docker volume create`",
    "3": "Mount path: `docker run --rm -v VOL:/data busybox true`",
    "4": "Session start: `docker run` of a desktop to the first output of a container inside it",
    "5": "Disk: pool bytes used by ten sessions that each wrote 50 MiB",
    "6": "I/O inside a volume (fio)",
    "7": "Authorization overhead",
    "8": "Scale and memory",
}


def fmt(value, unit):
    if unit == "ms":
        if value >= 10000:
            return f"{value / 1000:.1f} s"
        if value >= 1000:
            return f"{value / 1000:.2f} s"
        if value >= 100:
            return f"{value:.0f} ms"
        if value >= 10:
            return f"{value:.1f} ms"
        return f"{value:.2f} ms"
    if unit == "bytes":
        mib = value / (1 << 20)
        if mib >= 10240:
            return f"{mib / 1024:.1f} GiB"
        if mib >= 100:
            return f"{mib:.0f} MiB"
        return f"{mib:.1f} MiB"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    if value >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def cell(label, samples, unit):
    if not samples:
        return f"{label}: n/a"
    med = statistics.median(samples)
    text = f"{label} **{fmt(med, unit)}**"
    if len(samples) > 1:
        lo, hi = min(samples), max(samples)
        text += f" ({fmt(lo, unit)} – {fmt(hi, unit)})"
    return text


def ratio(a, b):
    if not a or not b:
        return "n/a"
    ma, mb = statistics.median(a), statistics.median(b)
    if mb == 0:
        return "n/a"
    r = ma / mb
    if r >= 100:
        return f"{r:.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    if r >= 0.1:
        return f"{r:.2f}×"
    return f"{r:.3f}×"


def parse(path):
    sections = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "row" and len(parts) == 9:
                _, sec, measure, unit, better, al, a, bl, b = parts
                nums = lambda s: [float(x) for x in s.split()]
                sections.setdefault(sec, {"rows": [], "notes": []})["rows"].append(
                    (measure, unit, better, al, nums(a), bl, nums(b)))
            elif parts[0] == "note" and len(parts) == 3:
                sections.setdefault(parts[1], {"rows": [], "notes": []})["notes"].append(parts[2])
    return sections


def render(sections):
    out = []
    for sec in sorted(sections, key=lambda s: (len(s), s)):
        data = sections[sec]
        out.append(f"### {sec}. {TITLES.get(sec, '')}".rstrip())
        out.append("")
        if data["rows"]:
            out.append("| measure | helix side | baseline | ratio | runs |")
            out.append("| --- | --- | --- | --- | --- |")
            for measure, unit, better, al, a, bl, b in data["rows"]:
                runs = f"{len(a)} / {len(b)}" if len(a) != len(b) else str(len(a))
                out.append(f"| {measure} | {cell(al, a, unit)} | {cell(bl, b, unit)} | "
                           f"{ratio(a, b)} {'↓' if better == 'lower' else '↑'} | {runs} |")
            out.append("")
        for note in data["notes"]:
            out.append(f"- {note}")
        if data["notes"]:
            out.append("")
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(render(parse(sys.argv[1])))


if __name__ == "__main__":
    main()
