"""Per-task loss curves of three runs (audit JSON lines): bf16's distance from fp32 (same seed) against
fp32's distance between seeds. Usage: compare.py RUNS_DIR WINDOW"""
import glob
import json
import os
import sys
from collections import defaultdict


def curves(run_dir):
    """task -> {step: mean loss over ranks}; a step retried after a restart keeps its last record."""
    by_step = defaultdict(dict)
    for path in glob.glob(os.path.join(run_dir, "audit-*.jsonl")):
        for line in open(path):
            r = json.loads(line)
            by_step[r["Step"]][r["Rank"]] = r["Losses"]   # the audit writes .NET property names
    result = defaultdict(dict)
    for step, ranks in by_step.items():
        tasks = set().union(*(l.keys() for l in ranks.values()))
        for task in tasks:
            values = [l[task] for l in ranks.values() if task in l]
            result[task][step] = sum(values) / len(values)
    return result


def smooth(curve, window):
    steps = sorted(curve)
    values = [curve[s] for s in steps]
    out = {}
    for i, s in enumerate(steps):
        part = values[max(0, i - window + 1): i + 1]
        out[s] = sum(part) / len(part)
    return out


def largest_gap(a, b, skip):
    common = [s for s in a if s in b and s >= skip]
    return max(abs(a[s] - b[s]) for s in common) if common else float("nan")


def main():
    root, window = sys.argv[1], int(sys.argv[2])
    fp32_a, fp32_b, bf16 = (curves(os.path.join(root, n)) for n in ("fp32-seed1", "fp32-seed2", "bf16-seed1"))
    print(f"loss curves smoothed over {window} steps, compared from step {window} on (rank means)")
    print(f"{'task':10} {'fp32 seed band':>15} {'bf16 - fp32':>12} {'ratio':>7}  within")
    worst = 0.0
    for task in sorted(fp32_a):
        a, b, h = (smooth(c[task], window) for c in (fp32_a, fp32_b, bf16))
        band, dev = largest_gap(a, b, window), largest_gap(a, h, window)
        ratio = dev / band if band > 0 else float("inf")
        worst = max(worst, ratio)
        print(f"{task:10} {band:15.4f} {dev:12.4f} {ratio:7.2f}  {'yes' if dev <= band else 'NO'}")
    print(f"largest bf16 deviation as a share of the fp32 seed band: {worst:.2f}")
    sys.exit(0 if worst <= 1 else 1)


main()
