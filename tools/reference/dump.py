"""Reads a step dump written by `cmm debug dump-step` (CommerceMM: "commercemm-step-dump"; SCALE: "scale-step-dump"; version 1)."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_io import load  # noqa: E402

FORMAT, VERSION = "commercemm-step-dump", 1


class Dump:
    """One dump folder; `expected` = (format, version) it must declare, so one model's reference never replays the other's."""

    def __init__(self, directory, expected=(FORMAT, VERSION)):
        self.directory = directory
        fmt, version = expected
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        if self.config.get("format") != fmt or self.config.get("version") != version:
            raise ValueError(f"{directory}/config.json: expected format {fmt} version {version}, "
                             f"got {self.config.get('format')} version {self.config.get('version')}")
        with open(os.path.join(directory, "losses.json")) as f:
            self.losses = json.load(f)
        self.inputs, _ = load(os.path.join(directory, "inputs.safetensors"))
        self.weights, _ = load(os.path.join(directory, "weights.safetensors"))
        gradients = os.path.join(directory, "gradients.safetensors")
        self.gradients = load(gradients)[0] if os.path.exists(gradients) else None
        outputs = os.path.join(directory, "outputs.safetensors")   # SCALE: intermediate results, to locate a disagreement
        self.outputs = load(outputs)[0] if os.path.exists(outputs) else {}

    @property
    def model_config(self):
        return self.config["model"]

    @property
    def allocation(self):
        return self.config["allocation"]

    @property
    def task_weights(self):
        return self.config["task_weights"]

    def section(self, prefix):
        """Tensors named "<prefix>.<name>" as {name: tensor}."""
        return {k[len(prefix) + 1:]: v for k, v in self.inputs.items() if k.startswith(prefix + ".")}


def run(description, replay, compare, expected=(FORMAT, VERSION), notes=lambda results: []):
    """The command line both references share: replay DUMP, write reference.json, print the comparison
    (and `notes`), exit 1 under --check when the reference and the C# model disagree."""
    import torch
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("dump")
    parser.add_argument("--out")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    d = Dump(args.dump, expected)
    results = replay(d)
    with open(args.out or os.path.join(args.dump, "reference.json"), "w") as f:
        json.dump(results, f, indent=2)
    lines, ok = compare(results, d.losses)
    print("\n".join(lines + notes(results)))
    for row in results.get("gradient_mismatch", [])[:3]:
        print(f"gradient {row['name']}: relative difference {row['relative']:.2e}")
    if args.check and not ok:
        sys.exit(1)
