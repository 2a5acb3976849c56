"""Reads a step dump written by `cmm debug dump-step` (CommerceMM: "commercemm-step-dump"; SCALE: "scale-step-dump"; version 1)."""
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
