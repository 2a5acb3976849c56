"""CommerceMM's network in plain PyTorch, written from MODEL.md §2 (not from the C# code).

Module and parameter names mirror the C# model's state dict (weights.safetensors of a step dump),
so `load_state_dict(strict=True)` proves the two have the same parameters with the same shapes.
Sizes come from the dump's config.json ("model" object, snake_case).
"""
import torch
import torch.nn.functional as F
from torch import nn


class EncoderStack(nn.Module):
    """Pre-LN transformer layers then a final LayerNorm; modality randomization runs the first `depth` layers."""

    def __init__(self, layers, dim, heads, ffn):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, ffn, dropout=0.0, activation="gelu",
                                       layer_norm_eps=1e-5, batch_first=True, norm_first=True)
            for _ in range(layers))
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x, padding, depth):
        assert 1 <= depth <= len(self.layers), f"depth {depth} outside 1..{len(self.layers)}"
        for layer in self.layers[:depth]:
            x = layer(x, src_key_padding_mask=padding)
        return self.norm(x)


class TextEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        t = c["text"]
        self.token_embedding = nn.Embedding(t["vocab_size"], c["dim"])
        self.position_embedding = nn.Embedding(t["max_length"], c["dim"])
        self.encoder = EncoderStack(t["layers"], c["dim"], c["heads"], c["ffn_multiplier"] * c["dim"])

    def forward(self, ids, padding, depth):
        """ids (B, L) int64, padding (B, L) bool (True = pad) -> (B, L, d); position 0 is [CLS]."""
        positions = torch.arange(ids.shape[1])
        return self.encoder(self.token_embedding(ids) + self.position_embedding(positions), padding, depth)


class ImageEncoder(nn.Module):
    """ViT: patches -> linear, mask embedding on masked patches, [CLS], learned positions, layers."""

    def __init__(self, c):
        super().__init__()
        i, d = c["image"], c["dim"]
        self.patch = i["patch"]
        n = (i["size"] // i["patch"]) ** 2
        self.patch_embedding = nn.Linear(i["channels"] * i["patch"] ** 2, d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embedding = nn.Parameter(torch.zeros(n + 1, d))
        self.mask_token = nn.Parameter(torch.zeros(d))
        self.encoder = EncoderStack(i["layers"], d, c["heads"], c["ffn_multiplier"] * d)

    def patchify(self, images):
        """(B, C, H, W) -> (B, N, C*p*p): row-major patches, each flattened channel-first like a conv kernel."""
        b, ch, h, w = images.shape
        p = self.patch
        x = images.reshape(b, ch, h // p, p, w // p, p)
        return x.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), ch * p * p)

    def forward(self, images, patch_mask, depth):
        """-> (B, N + 1, d): [CLS] then patches. patch_mask (B, N) bool or None."""
        x = self.patch_embedding(self.patchify(images))
        if patch_mask is not None:
            x = torch.where(patch_mask.unsqueeze(-1), self.mask_token.expand_as(x), x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.position_embedding
        return self.encoder(x, None, depth)


class FusionEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.type_embedding = nn.Embedding(2, c["dim"])
        self.encoder = EncoderStack(c["fusion_layers"], c["dim"], c["heads"], c["ffn_multiplier"] * c["dim"])

    def forward(self, text, text_padding, image, depth):
        """[text ; image] with a modality-type vector each -> (B, Lt + Li, d); the image side is never padded."""
        x = torch.cat([text + self.type_embedding.weight[0], image + self.type_embedding.weight[1]], dim=1)
        padding = torch.cat([text_padding, torch.zeros(image.shape[:2], dtype=torch.bool)], dim=1)
        return self.encoder(x, padding, depth)


class MlmHead(nn.Module):
    """BERT: dense, GELU, LayerNorm, then the word embeddings (tied) plus a bias."""

    def __init__(self, c, word_embedding):
        super().__init__()
        self.dense = nn.Linear(c["dim"], c["dim"])
        self.norm = nn.LayerNorm(c["dim"], eps=1e-5)
        self.bias = nn.Parameter(torch.zeros(c["text"]["vocab_size"]))
        self._tied = [word_embedding]   # a list, so the tied weight is not registered twice

    def forward(self, hidden):
        return F.linear(self.norm(F.gelu(self.dense(hidden))), self._tied[0].weight, self.bias)


class MimTeacher(nn.Module):
    """EMA of the student's image encoder and prototypes; never trained by the optimizer."""

    def __init__(self, c):
        super().__init__()
        self.image = ImageEncoder(c)
        self.prototypes = nn.Parameter(torch.zeros(c["mim"]["prototypes"], c["dim"]), requires_grad=False)
        for p in self.image.parameters():
            p.requires_grad_(False)


class CommerceMM(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, e = c["dim"], c["embed_dim"]
        self.config = c
        self.text = TextEncoder(c)
        self.image = ImageEncoder(c)
        self.fusion = FusionEncoder(c)
        self.text_projection = nn.Linear(d, e)
        self.image_projection = nn.Linear(d, e)
        self.fusion_projection = nn.Linear(d, e)
        self.logit_scale = nn.Parameter(torch.tensor(0.0))
        self.mlm_head = MlmHead(c, self.text.token_embedding)
        self.itm_head = nn.Linear(d, 1)
        self.mim_predictor = nn.Linear(d, d)
        self.prototypes = nn.Parameter(torch.zeros(c["mim"]["prototypes"], d))
        self.teacher = MimTeacher(c)
        self.register_buffer("mim_center", torch.zeros(c["mim"]["prototypes"]))

    def trainable(self):
        """(name, parameter) of everything the optimizer updates: all but the teacher."""
        return [(n, p) for n, p in self.named_parameters() if not n.startswith("teacher.")]

    def scale(self):
        """CLIP: exp(logit_scale), clamped in the forward pass only."""
        return self.logit_scale.exp().clamp(max=self.config["logit_scale_max"])

    @staticmethod
    def _embed(projection, tokens):
        return F.normalize(projection(tokens[:, 0]), dim=-1)

    def embed_text(self, tokens):
        return self._embed(self.text_projection, tokens)

    def embed_image(self, tokens):
        return self._embed(self.image_projection, tokens)

    def embed_fusion(self, tokens):
        return self._embed(self.fusion_projection, tokens)

    @torch.no_grad()
    def update_teacher(self, momentum):
        """teacher <- m * teacher + (1 - m) * student, after each optimizer step."""
        pairs = list(zip(self.teacher.image.parameters(), self.image.parameters()))
        pairs.append((self.teacher.prototypes, self.prototypes))
        for t, s in pairs:
            t.lerp_(s, 1 - momentum)
