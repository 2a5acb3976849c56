"""Independent PyTorch reference for M5Product/SCALE (MODEL.md §8): replays a SCALE step dump.

Reads a directory written by `cmm debug dump-step --model scale`, rebuilds the model from
config.json, loads weights.safetensors under the same parameter names (strict), recomputes the 15
losses with the dump's recorded mask plan, the self-harmonized weights, the weighted total, runs the
backward and reports the global gradient norm, next to what the C# model wrote in losses.json.

Usage: /usr/bin/python3 tools/reference/scale.py DUMP_DIR [--out FILE] [--threads N] [--check]
  --out    where to write the reference's results as JSON (default DUMP_DIR/reference.json)
  --check  exit 1 unless every loss, mean harmonized weight and the total agree within 1e-4
           relative and the gradient norm within 1e-3
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from commercemm import gradient_mismatch, relative  # noqa: E402
from dump import run  # noqa: E402
from scale_checks import spec_violations  # noqa: E402
from scale_model import MODALITIES, Scale  # noqa: E402
import scale_tasks as tasks  # noqa: E402

FORMAT, VERSION = "scale-step-dump", 1
LOSS_RTOL, NORM_RTOL = 1e-4, 1e-3


def replay(d):
    """Recomputes the dumped step; returns the results dict."""
    c, weights = d.model_config, d.task_weights
    enabled = d.config["modalities"]
    model = Scale(c)
    model.load_state_dict(d.weights, strict=True)
    model.train()   # dropout is 0 in a dump; train mode keeps PyTorch off its inference fast path
    batch, plan = d.section("batch"), d.section("plan")

    losses, w, present, total = tasks.forward(model, batch, plan, enabled, weights)
    if total is not None:
        total.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads.values()))

    report = {}
    for task in tasks.ALL:
        s = tasks.status(task, losses, enabled, weights)
        report[task] = {"status": s, "loss": float(losses[task]) if s == "ok" else None,
                        "weight": 0.0 if s == "disabled" else weights[task]}
    harmonized = {}
    for i, m in enumerate(MODALITIES):
        rows = present[:, i]
        s = "disabled" if m not in enabled else "ok" if bool(rows.any()) else "absent"
        harmonized[m] = {"status": s, "mean": float(w[rows, i, i].mean()) if s == "ok" else None}
    results = {
        "tasks": report,
        "harmonized_weights": harmonized,
        "total": float(total) if total is not None else 0.0,
        "grad_norm": norm,
        "spec_violations": spec_violations(c, batch, plan, present),
        "torch": torch.__version__,
    }
    if "harmonized_weights" in d.outputs:
        results["harmonized_matrix_max_abs_diff"] = float((w.detach() - d.outputs["harmonized_weights"]).abs().max())
    if d.gradients is not None:
        results["gradient_mismatch"] = gradient_mismatch(grads, d.gradients)
    return results


def compare(results, dumped):
    """Lines of a side-by-side table and whether everything is within tolerance."""
    ok, lines = True, [f"{'task':<20} {'status':<8} {'reference':>14} {'C# model':>14} {'rel diff':>10}"]

    def row(name, status, ours, theirs, rtol):
        nonlocal ok
        rel = relative(ours, theirs)
        ok &= rel <= rtol
        flag = "" if rel <= rtol else f"  <-- exceeds {rtol:.0e}"
        lines.append(f"{name:<20} {status:<8} {ours:>14.8f} {theirs:>14.8f} {rel:>10.2e}{flag}")

    def entry(name, r, c, value):
        nonlocal ok
        if r["status"] != c["status"]:
            ok = False
            lines.append(f"{name:<20} reference says {r['status']}, C# says {c['status']}")
        elif r["status"] != "ok":
            lines.append(f"{name:<20} {r['status']:<8}")
        else:
            row(name, "ok", r[value], c[value], LOSS_RTOL)

    for task in tasks.ALL:
        entry(task, results["tasks"][task], dumped["tasks"][task], "loss")
    for m in MODALITIES:
        entry(f"harmonized {m}", results["harmonized_weights"][m], dumped["harmonized_weights"][m], "mean")
    row("total", "", results["total"], dumped["total"], LOSS_RTOL)
    row("grad norm", "", results["grad_norm"], dumped["grad_norm"], NORM_RTOL)
    for v in results["spec_violations"]:
        ok = False
        lines.append("spec violation: " + v)
    return lines, ok


def notes(results):
    if "harmonized_matrix_max_abs_diff" not in results:
        return []
    return [f"harmonized weight matrix: max |reference - C#| {results['harmonized_matrix_max_abs_diff']:.2e}"]


if __name__ == "__main__":
    run(__doc__.split("\n")[0], replay, compare, (FORMAT, VERSION), notes)
