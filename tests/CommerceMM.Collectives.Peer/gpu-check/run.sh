#!/bin/bash
# Device check of the collectives' NCCL path: unpack the self-contained peer, point it at the
# machine's PyTorch libtorch + NCCL (GPU.md), run the gpu-check scenario. `run.sh cpu` is a dry run
# over the stub NCCL (needs CMM_LIBTORCH_DIR set to a CPU libtorch 2.10).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp}
work=/tmp/cmm-gpu-check
rm -rf $work; mkdir -p $work/app $work/store
tar -C $work/app -xJf $here/peer.tar.xz
device=${1:-cuda:0}
if [ "$device" = cpu ]; then
  export CMM_NCCL_LIBRARY=$work/app/native/libncclstub.so CMM_CUDA_DRIVER_LIBRARY=$work/app/native/libncclstub.so
  : "${CMM_LIBTORCH_DIR:?set CMM_LIBTORCH_DIR for a dry run}"
else
  torch_dir=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
  site=$(dirname "$torch_dir")
  export CMM_LIBTORCH_DIR=$torch_dir/lib
  export LD_LIBRARY_PATH=$torch_dir/lib:$(ls -d $site/nvidia/*/lib 2>/dev/null | tr '\n' ':')${LD_LIBRARY_PATH:-}
  nvidia-smi -L
  python3 - <<'PY' 2>&1 | tee $out/pytorch-nccl.txt
import os, statistics, time, torch, torch.distributed as dist
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29533")
dist.init_process_group("nccl", rank=0, world_size=1)
print("torch", torch.__version__, "nccl", torch.cuda.nccl.version())
def median(fn, reps):
    for _ in range(3): fn()
    ts = []
    for _ in range(reps):
        s = time.perf_counter(); fn(); ts.append((time.perf_counter() - s) * 1e3)
    return statistics.median(ts)
big, tiny = torch.ones(10_000_000, device="cuda"), torch.ones(1, device="cuda")
def ar(t):
    dist.all_reduce(t); torch.cuda.synchronize()
print("pytorch allreduce_10M_float32_ms %.3f" % median(lambda: ar(big), 20))
print("pytorch allreduce_1_float32_ms %.4f" % median(lambda: ar(tiny), 200))
dist.destroy_process_group()
PY
fi
# Gloo and its dependencies travel with the peer; the machine's own come first when it has them.
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}:$work/app/native
export NUGET_PACKAGES=/nonexistent-nuget OMP_WAIT_POLICY=PASSIVE
$work/app/CommerceMM.Collectives.Peer gpu-check $work/store 0 1 $work/out.safetensors $device 2>&1 | tee $out/gpu-check.txt
exit ${PIPESTATUS[0]}
