"""Independent PyTorch reference for CommerceMM (MODEL.md §2–§5): replays a step dump.

Reads a directory written by `cmm debug dump-step`, rebuilds the model from config.json, loads
weights.safetensors (student, EMA teacher, mim_kl centre) under the same parameter names, recomputes
all 14 losses with the dump's recorded random choices, runs both backwards (pass 1, then pass 2
accumulating into the same gradients) and reports the losses, pass totals and the global gradient
norm of the trainable parameters, next to what the C# model wrote in losses.json.

Usage: /usr/bin/python3 tools/reference/commercemm.py DUMP_DIR [--out FILE] [--threads N] [--check]
  --out    where to write the reference's results as JSON (default DUMP_DIR/reference.json)
  --check  exit 1 unless every loss agrees within 1e-4 relative and the gradient norm within 1e-3
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import spec_violations  # noqa: E402
from dump import run  # noqa: E402
from model import CommerceMM  # noqa: E402
import tasks  # noqa: E402

LOSS_RTOL, NORM_RTOL = 1e-4, 1e-3


def replay(d):
    """Recomputes the dumped step; returns (results dict, model)."""
    model = CommerceMM(d.model_config)
    model.load_state_dict(d.weights, strict=True)
    model.train()   # dropout is 0 in a dump; train mode keeps PyTorch off its inference fast path
    weights = d.task_weights
    recorded = (d.inputs.get("choice.itm_negative_text"), d.inputs.get("choice.itm_negative_image"))

    def negatives(e_v, e_t, scale):
        if recorded[0] is None:
            raise ValueError("the dump has no recorded ITM negatives but itm ran here")
        return recorded

    losses1 = tasks.pass1(model, d.section("pairs"), d.section("plan"), d.allocation, weights, negatives)
    total1 = tasks.weighted_total(losses1, weights)
    if total1 is not None:
        total1.backward()
    losses2 = tasks.pass2(model, d.section("omni"), d.allocation, weights)
    total2 = tasks.weighted_total(losses2, weights)
    if total2 is not None:
        total2.backward()

    grads = {n: p.grad for n, p in model.trainable() if p.grad is not None}
    norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads.values()))
    report = {}
    for task in tasks.ALL:
        loss = {**losses1, **losses2}.get(task)
        if weights[task] == 0:
            report[task] = {"status": "disabled", "loss": None, "weight": 0.0}
        elif loss is None:
            report[task] = {"status": "absent", "loss": None, "weight": weights[task]}
        else:
            report[task] = {"status": "ok", "loss": float(loss), "weight": weights[task]}
    results = {
        "tasks": report,
        "pass1_total": float(total1) if total1 is not None else 0.0,
        "pass2_total": float(total2) if total2 is not None else 0.0,
        "grad_norm": norm,
        "spec_violations": spec_violations(d.model_config, d.inputs),
        "torch": torch.__version__,
    }
    if d.gradients is not None:
        results["gradient_mismatch"] = gradient_mismatch(grads, d.gradients)
    return results


def gradient_mismatch(ours, theirs):
    """Per parameter ‖ours − theirs‖ / ‖theirs‖, worst first (top 8); a parameter only one side has a gradient for counts as 1."""
    rows = []
    for name in sorted(set(ours) | set(theirs)):
        if name not in ours or name not in theirs:
            rows.append({"name": name, "relative": 1.0, "note": "gradient on one side only"})
            continue
        a, b = ours[name].double(), theirs[name].double()
        rows.append({"name": name, "relative": float((a - b).norm() / b.norm().clamp(min=1e-30))})
    return sorted(rows, key=lambda r: -r["relative"])[:8]


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def compare(results, dumped):
    """Lines of a side-by-side table and whether everything is within tolerance."""
    ok, lines = True, [f"{'task':<9} {'status':<8} {'reference':>14} {'C# model':>14} {'rel diff':>10}"]
    for task in tasks.ALL:
        r, c = results["tasks"][task], dumped["tasks"][task]
        if r["status"] != c["status"]:
            ok = False
            lines.append(f"{task:<9} reference says {r['status']}, C# says {c['status']}")
            continue
        if r["status"] != "ok":
            lines.append(f"{task:<9} {r['status']:<8}")
            continue
        rel = relative(r["loss"], c["loss"])
        ok &= rel <= LOSS_RTOL
        lines.append(f"{task:<9} {'ok':<8} {r['loss']:>14.8f} {c['loss']:>14.8f} {rel:>10.2e}{'' if rel <= LOSS_RTOL else '  <-- exceeds 1e-4'}")
    rel = relative(results["grad_norm"], dumped["grad_norm"])
    ok &= rel <= NORM_RTOL
    lines.append(f"{'grad norm':<18} {results['grad_norm']:>14.8f} {dumped['grad_norm']:>14.8f} {rel:>10.2e}")
    for v in results["spec_violations"]:
        ok = False
        lines.append("spec violation: " + v)
    return lines, ok


if __name__ == "__main__":
    run(__doc__.split("\n")[0], replay, compare)
