"""Checks of a dump's recorded random choices against MODEL.md §3 (what replay alone cannot catch)."""
import torch


def spec_violations(config, inputs):
    """Returns a list of messages; empty when every recorded choice follows the spec."""
    c, problems = config, []
    text = c["text"]
    ids, padding = inputs["pairs.token_ids"], inputs["pairs.padding"]
    mlm_ids, labels = inputs["plan.mlm_input_ids"], inputs["plan.mlm_labels"]
    selected = labels != -100
    special = padding | (ids == text["cls_id"]) | (ids == text["sep_id"])
    if bool((selected & special).any()):
        problems.append("mlm: a [CLS]/[SEP]/padding position was selected")
    if not torch.equal(labels[selected], ids[selected]):
        problems.append("mlm: labels at selected positions are not the original ids")
    if not torch.equal(mlm_ids[~selected], ids[~selected]):
        problems.append("mlm: a position that was not selected was changed")

    mask = inputs["plan.patch_mask"]
    n = mask.shape[1]
    expected = min(n, max(1, int(c["image"]["mask_ratio"] * n + 0.5)))   # round half away from zero
    counts = mask.sum(1)
    if not bool((counts == expected).all()):
        problems.append(f"mim: masked patches per image {counts.tolist()}, expected round(ratio x N) = {expected}")

    rows = torch.arange(ids.shape[0])
    for name in ("choice.itm_negative_text", "choice.itm_negative_image"):
        if name in inputs:
            chosen = inputs[name]
            if bool((chosen == rows).any()):
                problems.append(f"itm: {name} picked a row's own positive")
            if bool(((chosen < 0) | (chosen >= ids.shape[0])).any()):
                problems.append(f"itm: {name} outside the local batch")
    return problems
