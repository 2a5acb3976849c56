"""The 14 CommerceMM pre-training losses, written from MODEL.md §3–§4.

Every random choice (MLM corruption, patch mask, ITM hard negatives) is an argument, so a step dump
can be replayed exactly; `sampling.py` draws fresh ones for the reference's own training step.
Each pass returns {task: loss tensor or None (absent)} for its enabled tasks only: a task with
weight 0 is not computed at all.
"""
import torch
import torch.nn.functional as F

PASS1 = ["itc", "itm", "mlm", "mim_fr", "mim_kl"]
MODALITIES = "tvm"
PASS2 = [f"omni_{s}2{t}" for s in MODALITIES for t in MODALITIES]
ALL = PASS1 + PASS2


def info_nce(queries, keys, labels, scale):
    """One direction: cross-entropy of scale * q.k^T against each query's positive column, mean over queries."""
    return F.cross_entropy(scale * queries @ keys.t(), labels)


def pass1(model, batch, plan, alloc, weights, negatives):
    """batch: images, token_ids, padding. plan: mlm_input_ids, mlm_labels, patch_mask.
    negatives: callable(e_v, e_t, scale) -> (negative text per image, negative image per text)."""
    enabled = [t for t in PASS1 if weights[t] != 0]
    if not enabled:
        return {}
    t_depth, v_depth, f_depth = alloc["text"], alloc["image"], alloc["fusion"]
    images, ids, padding = batch["images"], batch["token_ids"], batch["padding"]
    b, length = ids.shape
    text = model.text(ids, padding, t_depth)              # (B, L, d)
    image = model.image(images, None, v_depth)            # (B, N + 1, d)
    e_t, e_v = model.embed_text(text), model.embed_image(image)
    scale = model.scale()
    losses = {}

    if "itc" in enabled:
        rows = torch.arange(b)
        losses["itc"] = 0.5 * (info_nce(e_v, e_t, rows, scale) + info_nce(e_t, e_v, rows, scale))

    if "itm" in enabled:
        if b < 2:
            losses["itm"] = None
        else:
            neg_text, neg_image = negatives(e_v, e_t, scale)
            # B true pairs, then (image i, its hard negative text), then (its hard negative image, text j).
            pair_text = torch.cat([text, text[neg_text], text])
            pair_padding = torch.cat([padding, padding[neg_text], padding])
            pair_image = torch.cat([image, image, image[neg_image]])
            cls = model.fusion(pair_text, pair_padding, pair_image, f_depth)[:, 0]
            target = torch.cat([torch.ones(b), torch.zeros(2 * b)])
            losses["itm"] = F.binary_cross_entropy_with_logits(model.itm_head(cls).squeeze(-1), target)

    if "mlm" in enabled:
        selected = plan["mlm_labels"] != -100
        if not bool(selected.any()):
            losses["mlm"] = None
        else:
            masked_text = model.text(plan["mlm_input_ids"], padding, t_depth)
            fused = model.fusion(masked_text, padding, image, f_depth)[:, :length]
            losses["mlm"] = F.cross_entropy(model.mlm_head(fused[selected]), plan["mlm_labels"][selected])

    if "mim_fr" in enabled or "mim_kl" in enabled:
        mask = plan["patch_mask"]                                          # (B, N)
        masked_image = model.image(images, mask, v_depth)
        fused = model.fusion(text, padding, masked_image, f_depth)
        student = fused[:, length + 1:][mask]                              # (M, d): masked patches only
        with torch.no_grad():
            teacher = model.teacher.image(images, None, v_depth)[:, 1:]    # (B, N, d), unmasked image
        if "mim_fr" in enabled:
            cosine = (F.normalize(model.mim_predictor(student), dim=-1) * F.normalize(teacher[mask], dim=-1)).sum(-1)
            losses["mim_fr"] = (2 - 2 * cosine).mean()
        if "mim_kl" in enabled:
            mim = model.config["mim"]
            scores = F.normalize(student, dim=-1) @ F.normalize(model.prototypes, dim=-1).t()
            log_student = F.log_softmax(scores / mim["student_temperature"], dim=-1)
            with torch.no_grad():
                teacher_scores = F.normalize(teacher, dim=-1) @ F.normalize(model.teacher.prototypes, dim=-1).t()
                target = F.softmax((teacher_scores[mask] - model.mim_center) / mim["teacher_temperature"], dim=-1)
                losses["_batch_center"] = teacher_scores.mean(dim=(0, 1))   # over all patch tokens, not [CLS]
            losses["mim_kl"] = F.kl_div(log_student, target, reduction="batchmean")
    return losses


def pass2(model, omni, alloc, weights):
    """omni: source_has_text/image (B) bool, source_* and target_* tensors. Sources are encoded only on
    the rows that have the modality; targets (products) always have both."""
    enabled = [t for t in PASS2 if weights[t] != 0]
    if not enabled:
        return {}
    t_depth, v_depth, f_depth = alloc["text"], alloc["image"], alloc["fusion"]
    need_source = {m: any(t[5] == m for t in enabled) for m in MODALITIES}
    need_target = {m: any(t[7] == m for t in enabled) for m in MODALITIES}
    has_text, has_image = omni["source_has_text"], omni["source_has_image"]
    both = has_text & has_image
    rows = torch.arange(has_text.shape[0])

    sources = {}
    if need_source["t"] or need_source["m"]:
        text_rows = rows[has_text]
        s_text = model.text(omni["source_token_ids"][text_rows], omni["source_padding"][text_rows], t_depth)
        sources["t"] = (model.embed_text(s_text), text_rows)
    if need_source["v"] or need_source["m"]:
        image_rows = rows[has_image]
        s_image = model.image(omni["source_images"][image_rows], None, v_depth)
        sources["v"] = (model.embed_image(s_image), image_rows)
    if need_source["m"]:
        both_rows = rows[both]
        # Positions of the both-modality rows inside the text-row and image-row selections.
        in_text = both[has_text]
        in_image = both[has_image]
        fused = model.fusion(s_text[in_text], omni["source_padding"][both_rows], s_image[in_image], f_depth)
        sources["m"] = (model.embed_fusion(fused), both_rows)

    targets = {}
    if need_target["t"] or need_target["m"]:
        e_text = model.text(omni["target_token_ids"], omni["target_padding"], t_depth)
        targets["t"] = model.embed_text(e_text)
    if need_target["v"] or need_target["m"]:
        e_image = model.image(omni["target_images"], None, v_depth)
        targets["v"] = model.embed_image(e_image)
    if need_target["m"]:
        targets["m"] = model.embed_fusion(model.fusion(e_text, omni["target_padding"], e_image, f_depth))

    scale = model.scale()
    losses = {}
    for task in enabled:
        s, t = task[5], task[7]
        embedding, source_rows = sources[s]
        # Negatives: all other targets of the batch; each eligible source row's positive is its own target.
        losses[task] = None if source_rows.numel() == 0 else info_nce(embedding, targets[t], source_rows, scale)
    return losses


def weighted_total(losses, weights):
    total = None
    for task, loss in losses.items():
        if task.startswith("_") or loss is None:
            continue
        total = weights[task] * loss if total is None else total + weights[task] * loss
    return total
