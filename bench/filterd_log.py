"""filterd_log -- filterd's per-stage times, read back from its summary lines.

Every message's summary line ends in its stage times (filterd/stage_times.h):

    ..., 4.3 ms (receive 0.3, queue 0.0, decode 0.2, scan 1.1, spam 2.4,
    policy 0.0, quarantine 0.0, forward 0.5)

stage_summary() turns the lines of a log (or the part written since a mark)
into a mean, p50 and p99 per stage, in milliseconds. Shared by
bench/side_by_side, bench/compare and bench/throughput.
"""
import re

STAGES = ("receive", "queue", "decode", "scan", "spam", "policy", "quarantine", "forward")
LINE = re.compile(r", ([\d.]+) ms \((" + r", ".join(rf"{s} ([\d.]+)" for s in STAGES) + r")\)$")


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1)))] if v else 0.0


def stage_times(text):
    """One dict per summary line: total and every stage, ms."""
    out = []
    for line in text.splitlines():
        m = LINE.search(line)
        if m:
            nums = [float(x) for x in re.findall(r"[\d.]+", m.group(0))]
            out.append(dict(zip(("total",) + STAGES, nums)))
    return out


def stage_summary(text):
    """{"messages": N, "total": {"mean", "p50", "p99"}, STAGE: {...}, ...}; N = 0 if none."""
    rows = stage_times(text)
    summary = {"messages": len(rows)}
    if not rows:
        return summary
    for key in ("total",) + STAGES:
        v = [r[key] for r in rows]
        summary[key] = {"mean": sum(v) / len(v), "p50": percentile(v, 0.5),
                        "p99": percentile(v, 0.99)}
    return summary


def markdown(summaries):
    """A table: one row per (label, summary); per stage the mean and, after a
    slash, the median ms (a few large messages make most of a mean: on the
    side-by-side corpus 1% of the messages are half of the virus-scan time);
    total's p99 in brackets."""
    lines = ["| run | messages | total mean (p99) | " +
             " | ".join(f"{s} mean / p50" for s in STAGES) + " |",
             "|---|--:|--:|" + "--:|" * len(STAGES)]
    for label, s in summaries:
        if not s.get("messages"):
            lines.append(f"| {label} | 0 |" + " - |" * (len(STAGES) + 1))
            continue
        cells = " | ".join(f"{s[k]['mean']:.2f} / {s[k]['p50']:.1f}" for k in STAGES)
        lines.append(f"| {label} | {s['messages']} | {s['total']['mean']:.2f} "
                     f"({s['total']['p99']:.1f}) | {cells} |")
    return "\n".join(lines)
