"""Reads a step dump written by `cmm debug dump-step` (format "commercemm-step-dump", version 1)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_io import load  # noqa: E402

FORMAT, VERSION = "commercemm-step-dump", 1


class Dump:
    def __init__(self, directory):
        self.directory = directory
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        if self.config.get("format") != FORMAT or self.config.get("version") != VERSION:
            raise ValueError(f"{directory}/config.json: expected format {FORMAT} version {VERSION}, "
                             f"got {self.config.get('format')} version {self.config.get('version')}")
        with open(os.path.join(directory, "losses.json")) as f:
            self.losses = json.load(f)
        self.inputs, _ = load(os.path.join(directory, "inputs.safetensors"))
        self.weights, _ = load(os.path.join(directory, "weights.safetensors"))
        gradients = os.path.join(directory, "gradients.safetensors")
        self.gradients = load(gradients)[0] if os.path.exists(gradients) else None

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
