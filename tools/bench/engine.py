"""PyTorch side of `cmm bench engine`: the same measurements, same shapes, same thread settings.

Prints one JSON object: matmul_gflops, matmul_bf16_gflops, op_overhead_us, layer_step_ms, allreduce_ms (medians).
Usage: /usr/bin/python3 tools/bench/engine.py THREADS
       /usr/bin/python3 tools/bench/engine.py allreduce-peer RANK WORLD PORT ELEMENTS REPS   (internal)
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import torch


def median_seconds(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_gflops(dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(1024, 1024, generator=g).to(dtype), torch.randn(1024, 1024, generator=g).to(dtype)
    return 2 * 1024 ** 3 / median_seconds(lambda: a @ b, 20) / 1e9


def op_overhead_us():
    x = torch.ones(1)
    n = 10000

    def loop():
        for _ in range(n):
            x + x
    return median_seconds(loop, 15) / n * 1e6


def layer_step_ms(batch, length, dim, heads, ffn):
    g = torch.Generator().manual_seed(2)
    layer = torch.nn.TransformerEncoderLayer(dim, heads, ffn, dropout=0.0, activation="gelu",
                                             batch_first=True, norm_first=True)
    x = torch.randn(batch, length, dim, generator=g)
    target = torch.randn(batch, length, dim, generator=g)
    optimizer = torch.optim.AdamW(layer.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(layer(x), target)
        loss.backward()
        optimizer.step()
    return median_seconds(step, 20) * 1e3


def allreduce_ms(elements, reps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    peers = [subprocess.Popen([sys.executable, __file__, "allreduce-peer", str(r), "2", str(port), str(elements), str(reps)],
                              stdout=subprocess.PIPE, env=env, text=True) for r in range(2)]
    outputs = [p.communicate()[0] for p in peers]
    if any(p.returncode for p in peers):
        raise RuntimeError("allreduce peer failed")
    return float(outputs[0].strip())


def allreduce_peer(rank, world, port, elements, reps):
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    t = torch.ones(elements)

    def once():
        dist.barrier()
        dist.all_reduce(t)
    seconds = median_seconds(once, reps, warmup=2)
    dist.barrier()
    if rank == 0:
        print(seconds * 1e3)
    dist.destroy_process_group()


def main():
    if sys.argv[1] == "allreduce-peer":
        allreduce_peer(*(int(a) for a in sys.argv[2:7]))
        return
    config = json.loads(sys.argv[2])
    torch.set_num_threads(int(sys.argv[1]))
    print(json.dumps({
        "matmul_gflops": matmul_gflops(),
        "matmul_bf16_gflops": matmul_gflops(torch.bfloat16),
        "op_overhead_us": op_overhead_us(),
        "layer_step_ms": layer_step_ms(**config["layer"]),
        "allreduce_ms": allreduce_ms(config["allreduce_elements"], config["allreduce_reps"]),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
