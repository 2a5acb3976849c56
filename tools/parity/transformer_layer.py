"""PyTorch side of the encoder-layer parity test (tests/CommerceMM.Model.Tests/Parity).

Reads inputs.safetensors written by the C# test: a pre-LN nn.TransformerEncoderLayer's weights
under PyTorch's own names, the input x (B, L, d), a key padding mask and a regression target.
Runs STEPS AdamW steps (MSE loss, global-norm clipping at 1.0, weight decay on matrices only) and
writes the first step's output and gradients and the final weights to results.safetensors.

Usage: /usr/bin/python3 tools/parity/transformer_layer.py INPUTS RESULTS
"""
import sys

import torch

from safetensors_io import load, save


def main(inputs_path, results_path):
    torch.set_num_threads(1)
    tensors, meta = load(inputs_path)
    d, heads, ffn, steps = (int(meta[k]) for k in ("dim", "heads", "ffn", "steps"))
    lr, weight_decay = float(meta["lr"]), float(meta["weight_decay"])

    layer = torch.nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu",
                                             layer_norm_eps=1e-5, batch_first=True, norm_first=True)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            p.copy_(tensors[name])
    layer.train()

    decay = [p for _, p in layer.named_parameters() if p.dim() >= 2]
    no_decay = [p for _, p in layer.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr)

    results = {}
    for step in range(steps):
        optimizer.zero_grad()
        out = layer(tensors["x"], src_key_padding_mask=tensors["padding"])
        loss = torch.nn.functional.mse_loss(out, tensors["target"])
        loss.backward()
        if step == 0:
            results["output"] = out.detach()
            results["loss"] = loss.detach()
            for name, p in layer.named_parameters():
                results["grad." + name] = p.grad.detach().clone()
        torch.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
        optimizer.step()
    for name, p in layer.named_parameters():
        results["final." + name] = p.detach()
    save(results_path, results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
