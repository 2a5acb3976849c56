"""M5Product/SCALE's network in plain PyTorch, written from MODEL.md §8 (not from the C# code).

One encoder per modality (image patches, text, table, video frames, audio frames), a joint fusion
transformer over their concatenation in which a modality a sample lacks is blocked as a key, one
L2-normalised pooled embedding per modality (a projection of that encoder's [CLS]), the text/table
vocabulary heads (tied to the shared word embedding) and the image/video/audio regression heads.

Module and parameter names mirror the C# model's state dict (weights.safetensors of a dump), so
`load_state_dict(strict=True)` proves both have the same parameters with the same shapes. Sizes come
from the dump's config.json ("model" object, snake_case).
"""
import torch
import torch.nn.functional as F
from torch import nn

from model import EncoderStack, MlmHead

MODALITIES = ("image", "text", "table", "video", "audio")   # the column order of presence and of W
TOKEN_MODALITIES = ("text", "table")
FEATURE_MODALITIES = ("image", "video", "audio")


def _stack(c, layers):
    return EncoderStack(layers, c["dim"], c["heads"], c["ffn_multiplier"] * c["dim"])


class TokenEncoder(nn.Module):
    """Shared word embedding + own learned positions -> layers. [CLS] (position 0) is never a padded key:
    a missing row may be all padding, and a query with no key at all would turn into NaN."""

    def __init__(self, c, words, max_length, layers):
        super().__init__()
        self._words = [words]   # shared with the other token encoder and both heads: registered once, at the top
        self.position_embedding = nn.Embedding(max_length, c["dim"])
        self.encoder = _stack(c, layers)

    def forward(self, ids, padding):
        """ids, padding (B, L) -> tokens (B, L, d) and the key padding used (B, L)."""
        padding = padding.clone()
        padding[:, 0] = False
        x = self._words[0](ids) + self.position_embedding(torch.arange(ids.shape[1]))
        return self.encoder(x, padding, len(self.encoder.layers)), padding


class FeatureEncoder(nn.Module):
    """One token per feature vector: linear, mask embedding at hidden positions (BEiT), [CLS], positions, layers."""

    def __init__(self, c, features, max_tokens, layers):
        super().__init__()
        d = c["dim"]
        self.projection = nn.Linear(features, d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embedding = nn.Parameter(torch.zeros(max_tokens + 1, d))
        self.mask_token = nn.Parameter(torch.zeros(d))
        self.encoder = _stack(c, layers)

    def forward(self, features, padding, mask):
        """features (B, N, F), padding (B, N) or None, mask (B, N) or None -> (B, N + 1, d) and its padding."""
        b, n, _ = features.shape
        x = self.projection(features)
        if mask is not None:
            x = torch.where(mask.unsqueeze(-1), self.mask_token.expand_as(x), x)
        x = torch.cat([self.cls_token.expand(b, 1, -1), x], dim=1) + self.position_embedding[: n + 1]
        if padding is None:
            padding = torch.zeros(b, n, dtype=torch.bool)
        padding = torch.cat([torch.zeros(b, 1, dtype=torch.bool), padding], dim=1)
        return self.encoder(x, padding, len(self.encoder.layers)), padding


class FusionEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.type_embedding = nn.Embedding(len(MODALITIES), c["dim"])
        self.encoder = _stack(c, c["fusion_layers"])

    def forward(self, parts, present):
        """parts: [(modality, tokens (B, L_m, d), padding (B, L_m))]; present (B, 5) -> each modality's fused slice."""
        xs, keys_blocked = [], []
        for m, tokens, padding in parts:
            i = MODALITIES.index(m)
            xs.append(tokens + self.type_embedding.weight[i])
            keys_blocked.append(padding | ~present[:, i : i + 1])   # a missing modality: no query of its sample sees it
        fused = self.encoder(torch.cat(xs, 1), torch.cat(keys_blocked, 1), len(self.encoder.layers))
        return torch.split(fused, [t.shape[1] for _, t, _ in parts], dim=1)


class Scale(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, e = c["dim"], c["embed_dim"]
        self.config = c
        self.word_embedding = nn.Embedding(c["text"]["vocab_size"], d)
        self.image = FeatureEncoder(c, c["image"]["patch_pixels"], c["image"]["patch_count"], c["image"]["layers"])
        self.text = TokenEncoder(c, self.word_embedding, c["text"]["max_length"], c["text"]["layers"])
        self.table = TokenEncoder(c, self.word_embedding, c["table"]["max_length"], c["table"]["layers"])
        self.video = FeatureEncoder(c, c["video"]["frame_features"], c["video"]["frames"], c["video"]["layers"])
        self.audio = FeatureEncoder(c, c["audio"]["mels"], c["audio"]["max_frames"], c["audio"]["layers"])
        self.fusion = FusionEncoder(c)
        self.projections = nn.ModuleList(nn.Linear(d, e) for _ in MODALITIES)
        self.text_head = MlmHead(c, self.word_embedding)
        self.table_head = MlmHead(c, self.word_embedding)
        self.image_head = nn.Linear(d, c["image"]["patch_pixels"])
        self.video_head = nn.Linear(d, c["video"]["frame_features"])
        self.audio_head = nn.Linear(d, c["audio"]["mels"])

    def regression_inputs(self, m, batch):
        """The features a feature modality's encoder reads, which its masked regression also predicts."""
        if m == "image":
            images = batch["images"]                      # (B, C, H, W)
            b, ch, h, w = images.shape
            p = self.config["image"]["patch"]
            x = images.reshape(b, ch, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
            return x.reshape(b, (h // p) * (w // p), ch * p * p)   # row-major patches, channel-first inside
        if m == "video":
            video = batch["video"]                        # (B, F, C, H, W)
            b, f = video.shape[:2]
            q = self.config["video"]["pool"]
            pooled = F.avg_pool2d(video.flatten(0, 1), q)  # (B·F, C, H/q, W/q)
            return pooled.reshape(b, f, -1)
        return batch["audio"]                             # (B, T, mels)

    def encode(self, batch, plan, present, enabled):
        """Every enabled modality (masked inputs from the plan) through its encoder, then the fusion.
        Returns {modality: (encoder tokens, fused slice, regression inputs or None)}."""
        parts, features = [], {}
        for m in MODALITIES:
            if m not in enabled:
                continue
            if m in TOKEN_MODALITIES:
                ids = plan.get(f"{m}_ids", batch[f"{m}_ids"])
                tokens, padding = getattr(self, m)(ids, batch[f"{m}_padding"])
            else:
                features[m] = self.regression_inputs(m, batch)
                tokens, padding = getattr(self, m)(features[m], batch.get(f"{m}_padding"), plan.get(f"{m}_mask"))
            parts.append((m, tokens, padding))
        fused = self.fusion(parts, present)
        return {m: (tokens, f, features.get(m)) for (m, tokens, _), f in zip(parts, fused)}

    def pool(self, m, tokens):
        """(B, L, d) encoder output -> (B, E) normalised embedding of its [CLS]."""
        return F.normalize(self.projections[MODALITIES.index(m)](tokens[:, 0]), dim=-1)
