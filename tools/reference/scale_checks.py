"""Checks of a SCALE dump's recorded mask plan against MODEL.md §8 (what replay alone cannot catch).

Per present modality max(1, round(p·n)) of a sample's n eligible units are masked (p =
model.mask_probability): text tokens other than [CLS]/[SEP]/padding, whole table entities (a key or a
value), image patches, video frames, unpadded audio frames. Rows lacking a modality get nothing.
"""
import torch

from scale_model import MODALITIES
from scale_tasks import IGNORE


def expected_count(p, n):
    """max(1, round(p·n)) with halves rounded up, 0 when nothing is eligible."""
    return 0 if n == 0 else max(1, int(p * n + 0.5))


def spec_violations(c, batch, plan, present):
    """Returns a list of messages; empty when every recorded choice follows the spec."""
    problems, p = [], c["mask_probability"]
    t = c["text"]

    def check_counts(name, chosen, eligible, rows):
        for r in range(chosen.shape[0]):
            want = expected_count(p, int(eligible[r].sum())) if rows[r] else 0
            got = int(chosen[r].sum())
            if got != want:
                problems.append(f"{name}: row {r} has {got} masked units, expected {want}")
            if bool((chosen[r] & ~eligible[r]).any()):
                problems.append(f"{name}: row {r} masks an ineligible position")

    if "text_labels" in plan:
        ids, labels, corrupted = batch["text_ids"], plan["text_labels"], plan["text_ids"]
        selected = labels != IGNORE
        special = batch["text_padding"] | (ids == t["cls_id"]) | (ids == t["sep_id"]) | (ids == t["pad_id"])
        check_counts("text", selected, ~special, present[:, MODALITIES.index("text")])
        if not torch.equal(labels[selected], ids[selected]):
            problems.append("text: labels at selected tokens are not the original ids")
        if not torch.equal(corrupted[~selected], ids[~selected]):
            problems.append("text: a token that was not selected was changed")

    if "table_labels" in plan:
        ids, labels, corrupted = batch["table_ids"], plan["table_labels"], plan["table_ids"]
        entities, padding = batch["table_entities"], batch["table_padding"]
        selected = labels != IGNORE
        rows = present[:, MODALITIES.index("table")]
        for r in range(ids.shape[0]):
            real = entities[r][~padding[r] & (entities[r] >= 0)]
            chosen = entities[r][selected[r]]
            if bool((chosen < 0).any()):
                problems.append(f"table: row {r} masks a token outside every entity")
            for e in chosen.unique().tolist():
                if not bool(selected[r][(entities[r] == e) & ~padding[r]].all()):
                    problems.append(f"table: row {r} masks part of entity {e}, not all of it")
            want = expected_count(p, len(real.unique())) if rows[r] else 0
            if len(chosen.unique()) != want:
                problems.append(f"table: row {r} masks {len(chosen.unique())} entities, expected {want}")
        if not torch.equal(labels[selected], ids[selected]):
            problems.append("table: labels at masked tokens are not the original ids")
        if not bool((corrupted[selected] == t["mask_id"]).all()):
            problems.append("table: a masked token is not [MASK]")
        if not torch.equal(corrupted[~selected], ids[~selected]):
            problems.append("table: a token that was not masked was changed")

    for m in ("image", "video", "audio"):
        mask = plan.get(f"{m}_mask")
        if mask is None:
            continue
        eligible = ~batch["audio_padding"] if m == "audio" else torch.ones_like(mask)
        check_counts(m, mask, eligible, present[:, MODALITIES.index(m)])
    return problems
