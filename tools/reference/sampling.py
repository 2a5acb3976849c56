"""Fresh random choices for the reference's own training step (MODEL.md §3), drawn from a torch.Generator.

A replayed dump never uses these: it reads the C# model's recorded choices instead.
"""
import torch
import torch.nn.functional as F


def make_plan(c, batch, gen):
    """BERT's MLM corruption (15% of real tokens; 80% [MASK], 10% random, 10% kept) and the MIM patch mask."""
    ids, padding, t = batch["token_ids"], batch["padding"], c["text"]
    special = padding | (ids == t["cls_id"]) | (ids == t["sep_id"])
    selected = (torch.rand(ids.shape, generator=gen) < c["mlm_probability"]) & ~special
    choice = torch.rand(ids.shape, generator=gen)
    random_ids = torch.randint(0, t["vocab_size"], ids.shape, generator=gen)
    corrupted = torch.where(choice < 0.8, torch.full_like(ids, t["mask_id"]), torch.where(choice < 0.9, random_ids, ids))
    rows, n = ids.shape[0], c["image"]["patch_count"]
    k = min(n, max(1, int(c["image"]["mask_ratio"] * n + 0.5)))   # round(ratio x N), at least 1
    chosen = torch.rand(rows, n, generator=gen).topk(k, dim=1).indices
    mask = torch.zeros(rows, n, dtype=torch.bool).scatter_(1, chosen, True)
    return {"mlm_input_ids": torch.where(selected, corrupted, ids),
            "mlm_labels": ids.masked_fill(~selected, -100),
            "patch_mask": mask}


def hard_negatives(gen):
    """ALBEF: per image a text and per text an image from the local batch, in proportion to the
    softmaxed (scaled) ITC similarity, never the positive."""
    def sample(e_v, e_t, scale):
        with torch.no_grad():
            sim = scale * e_v @ e_t.t()
            own = torch.eye(sim.shape[0], dtype=torch.bool)
            to_text = (F.softmax(sim, dim=1) + 1e-12).masked_fill(own, 0)
            to_image = (F.softmax(sim.t(), dim=1) + 1e-12).masked_fill(own, 0)
            return (torch.multinomial(to_text, 1, generator=gen).squeeze(1),
                    torch.multinomial(to_image, 1, generator=gen).squeeze(1))
    return sample
