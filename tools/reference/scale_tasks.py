"""SCALE's 15 losses (MODEL.md §8) on one batch with a given mask plan: 5 masked, 10 pairs.

One forward on the masked inputs serves both families; the pooled embeddings come from each
modality's own encoder. A missing modality (not given, or not enabled) is out of the fusion's
attention, out of the harmonized-weight softmax and out of every loss.
"""
import itertools

import torch
import torch.nn.functional as F

from scale_model import MODALITIES, TOKEN_MODALITIES

IGNORE = -100
MASKED = [f"masked_{m}" for m in MODALITIES]
PAIRS = [(a, b) for a, b in itertools.combinations(MODALITIES, 2)]
PAIR_TASKS = [f"pair_{a}_{b}" for a, b in PAIRS]
ALL = MASKED + PAIR_TASKS


def harmonized_weights(pooled, present):
    """Self-harmonized weights, per sample: G = cosines of the pooled embeddings (B, 5, 5),
    H = G ⊙ softmax_row(G) with the softmax over present modalities only, W = rows of H L2-normalised;
    entries involving a missing modality are 0. Differentiable (gradients flow through W)."""
    both = present.unsqueeze(2) & present.unsqueeze(1)                 # (B, 5, 5)
    p = pooled * present.unsqueeze(2)                                   # missing rows -> 0
    g = p @ p.transpose(1, 2)
    softmax = g.masked_fill(~present.unsqueeze(1), float("-inf")).softmax(-1)
    h = torch.where(both, g * softmax, torch.zeros(()))
    return F.normalize(h, dim=-1)


def masked_loss(model, m, encoded, batch, plan, w, weight_gradient):
    """W[r, m, m] times row r's mean loss over its masked units, averaged over the rows with any unit;
    None (absent) when nothing was masked. Units: text tokens / table tokens of masked entities
    (cross-entropy through the tied vocabulary head), image patches / video frames / audio frames
    (MSE between the regression head's prediction and the unmasked features)."""
    _, fused, features = encoded[m]
    if m in TOKEN_MODALITIES:
        labels = plan.get(f"{m}_labels")
        if labels is None:
            return None
        selected = labels != IGNORE                                      # (B, L)
        per_unit = torch.zeros(selected.shape)
        logits = getattr(model, f"{m}_head")(fused[selected])
        per_unit = per_unit.masked_scatter(selected, F.cross_entropy(logits, labels[selected], reduction="none"))
    else:
        selected = plan.get(f"{m}_mask")
        if selected is None:
            return None
        hidden = fused[:, 1:]                                             # [CLS] predicts nothing
        predicted = getattr(model, f"{m}_head")(hidden[selected])
        per_unit = torch.zeros(selected.shape)
        per_unit = per_unit.masked_scatter(selected, (predicted - features[selected]).pow(2).mean(-1))
    units = selected.sum(1)                                               # (B)
    rows = units > 0
    if not bool(rows.any()):
        return None
    i = MODALITIES.index(m)
    row_loss = per_unit.sum(1)[rows] / units[rows]
    # The C# default (masked_weight_gradient false) stops gradients through W[m, m] on this path only.
    weight = w[rows, i, i] if weight_gradient else w[rows, i, i].detach()
    return (weight * row_loss).mean()


def pair_loss(pooled, present, w, a, b, temperature):
    """Symmetric InfoNCE between a and b over the samples having both; each sample's logits scaled by
    its pair weight (W[r, a, b] for a->b, W[r, b, a] for b->a); None (absent) below 2 samples."""
    i, j = MODALITIES.index(a), MODALITIES.index(b)
    rows = present[:, i] & present[:, j]
    if int(rows.sum()) < 2:
        return None
    pa, pb = pooled[rows, i], pooled[rows, j]
    similarity = pa @ pb.T / temperature                                  # (n, n), row = a sample's a-embedding
    target = torch.arange(similarity.shape[0])
    a_to_b = F.cross_entropy(similarity * w[rows, i, j].unsqueeze(1), target)
    b_to_a = F.cross_entropy(similarity.T * w[rows, j, i].unsqueeze(1), target)
    return (a_to_b + b_to_a) / 2


def forward(model, batch, plan, enabled, task_weights):
    """All 15 losses (None = absent or disabled), the (B, 5, 5) harmonized weights and the weighted total."""
    c = model.config
    enabled_mask = torch.tensor([m in enabled for m in MODALITIES])
    present = batch["present"] & enabled_mask                             # effective presence
    if not bool(present.any(1).all()):
        raise ValueError("a row has none of the enabled modalities")
    encoded = model.encode(batch, plan, present, enabled)
    dim = c["embed_dim"]
    pooled = torch.stack([model.pool(m, encoded[m][0]) if m in enabled else torch.zeros(present.shape[0], dim)
                          for m in MODALITIES], 1)                        # (B, 5, E)
    w = harmonized_weights(pooled, present)

    losses = {}
    for m in MODALITIES:
        task = f"masked_{m}"
        losses[task] = masked_loss(model, m, encoded, batch, plan, w, c.get("masked_weight_gradient", True)) if m in enabled and task_weights[task] != 0 else None
    for (a, b), task in zip(PAIRS, PAIR_TASKS):
        run = a in enabled and b in enabled and task_weights[task] != 0
        losses[task] = pair_loss(pooled, present, w, a, b, c["temperature"]) if run else None
    ran = [task_weights[t] * l for t, l in losses.items() if l is not None]
    total = torch.stack(ran).sum() if ran else None
    return losses, w, present, total


def status(task, losses, enabled, task_weights):
    """ok / absent / disabled, as the C# model reports it."""
    modalities = [task.split("_", 1)[1]] if task.startswith("masked_") else task.split("_")[1:]
    if task_weights[task] == 0 or any(m not in enabled for m in modalities):
        return "disabled"
    return "ok" if losses[task] is not None else "absent"
