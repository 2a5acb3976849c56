"""The reference's own full CommerceMM training step (MODEL.md §5), timed for `cmm bench model`.

pass 1 (5 tasks) -> backward -> pass 2 (9 tasks) -> backward -> clip -> AdamW (decay on matrices
only) -> EMA teacher -> mim_kl centre: what the C# Trainer.Step does in one process. The model,
weights and batch come from a step dump written by the benchmark, so both sides train the same
network on the same batch; masks and negatives are drawn fresh every step, as in training.

Usage: python3 tools/reference/train_step.py DUMP_DIR THREADS REPS [--profile] [--device cpu|cuda[:N]] [--precision fp32|bf16]
Prints one JSON line: step_ms (median of REPS after 3 warm-up steps), cpu_ms (the process's CPU time
per step over those REPS: on a shared machine it moves less than wall time), threads, torch, device,
precision (bf16: autocast around the forward passes, fp32 weights and optimizer), and on CUDA
peak_bytes (torch.cuda.max_memory_reserved); with --profile also components_ms, the median time of each
part of the step (as `cmm bench model --profile`). On CUDA every timing ends with a synchronize.
"""
import json
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump import Dump  # noqa: E402
from model import CommerceMM  # noqa: E402
from sampling import hard_negatives, make_plan  # noqa: E402
import tasks  # noqa: E402

LR, WEIGHT_DECAY, MAX_GRAD_NORM = 1e-4, 0.05, 1.0


class Trainer:
    def __init__(self, d, device, precision):
        self.config, self.alloc, self.weights = d.model_config, d.allocation, d.task_weights
        self.device = torch.device(device)
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
        self.model = CommerceMM(self.config)
        self.model.load_state_dict(d.weights, strict=True)
        self.model.train()
        self.params = [p for _, p in self.model.trainable()]
        decay = [p for p in self.params if p.dim() >= 2]
        no_decay = [p for p in self.params if p.dim() < 2]
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                            {"params": no_decay, "weight_decay": 0.0}], lr=LR, foreach=True)
        self.pairs = {k: v.to(self.device) for k, v in d.section("pairs").items()}
        self.omni = {k: v.to(self.device) for k, v in d.section("omni").items()}
        self.gen = torch.Generator(device=self.device).manual_seed(1)

    def step(self, lap=lambda name: None):
        self.optimizer.zero_grad(set_to_none=True)
        plan = make_plan(self.config, self.pairs, self.gen)
        lap("masks")
        with self.autocast:
            losses1 = tasks.pass1(self.model, self.pairs, plan, self.alloc, self.weights, hard_negatives(self.gen))
            total1 = tasks.weighted_total(losses1, self.weights)
        lap("pass 1 forward")
        total1.backward()
        lap("pass 1 backward")
        with self.autocast:
            losses2 = tasks.pass2(self.model, self.omni, self.alloc, self.weights)
            total2 = tasks.weighted_total(losses2, self.weights)
        lap("pass 2 forward")
        total2.backward()
        lap("pass 2 backward")
        reported = {k: float(v) for k, v in {**losses1, **losses2}.items() if not k.startswith("_") and v is not None}
        lap("loss values")
        if not all(math.isfinite(v) for v in reported.values()):
            return reported   # skipped, as the C# trainer does
        torch.nn.utils.clip_grad_norm_(self.params, MAX_GRAD_NORM)
        lap("clip")
        self.optimizer.step()
        lap("AdamW")
        self.model.update_teacher(self.config["mim"]["teacher_momentum"])
        if "_batch_center" in losses1:
            self.model.mim_center.lerp_(losses1["_batch_center"], 1 - self.config["mim"]["center_momentum"])
        lap("teacher EMA + centre")
        return reported


class Laps:
    """Wall time of each named part of one step, in milliseconds (after the device finished the part)."""

    def __init__(self, sync):
        self.sync = sync
        self.times, self.last = {}, time.perf_counter()

    def __call__(self, name):
        self.sync()
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + (now - self.last) * 1e3
        self.last = now


def option(name, default):
    args = sys.argv[4:]
    return args[args.index(name) + 1] if name in args else default


def main():
    directory, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    profile = "--profile" in sys.argv[4:]
    device, precision = option("--device", "cpu"), option("--precision", "fp32")
    if precision not in ("fp32", "bf16"):
        raise SystemExit(f"--precision: expected fp32 or bf16, got {precision!r}")
    torch.set_num_threads(threads)
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.set_default_device(device)   # the reference creates its own tensors without naming a device
        torch.backends.cuda.matmul.allow_tf32 = True   # "fp32" on a GPU means TF32 matmuls, as our engine's
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    trainer = Trainer(Dump(directory), device, precision)
    for _ in range(3):
        trainer.step()
    sync()
    times = []
    cpu = time.process_time()
    for _ in range(reps):
        start = time.perf_counter()
        trainer.step()
        sync()
        times.append(time.perf_counter() - start)
    cpu_ms = (time.process_time() - cpu) / reps * 1e3
    result = {"step_ms": statistics.median(times) * 1e3, "cpu_ms": cpu_ms, "threads": torch.get_num_threads(), "torch": torch.__version__,
              "device": device, "precision": precision}
    if cuda:
        result["peak_bytes"] = torch.cuda.max_memory_reserved()
    if profile:
        laps = []
        for _ in range(reps):
            lap = Laps(sync)
            trainer.step(lap)
            laps.append(lap.times)
        result["components_ms"] = {k: statistics.median(l.get(k, 0.0) for l in laps) for k in laps[0]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
