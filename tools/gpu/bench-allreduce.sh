#!/bin/bash
# 10M float32 all-reduce between 2 processes on one machine: our Gloo path (the packed peer) against
# PyTorch's torch.distributed Gloo (tools/bench/engine.py's allreduce_ms), alternating, ROUNDS rounds.
# Prints "pytorch_ms ours_ms" per round. Runs where the packed peer and a PyTorch are (GPU.md).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/artifacts/gpu-check   # the pack tools/gpu-check made
rounds=${ROUNDS:-5}
work=/tmp/cmm-bench
rm -rf $work; mkdir -p $work/app
tar -C $work/app -xJf $here/app.tar.xz
# The peer loads this machine's libtorch unless CMM_LIBTORCH_DIR names one (a dry run elsewhere).
if [ -z "${CMM_LIBTORCH_DIR:-}" ]; then
  torch_dir=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
  export CMM_LIBTORCH_DIR=$torch_dir/lib LD_LIBRARY_PATH=$torch_dir/lib
fi
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}:$work/app/native NUGET_PACKAGES=/nonexistent-nuget OMP_WAIT_POLICY=PASSIVE
python3 -c 'import torch; print("torch", torch.__version__, "cores", __import__("os").cpu_count())'
for i in $(seq 1 $rounds); do
  pt=$(cd "$repo" && python3 -c 'import sys; sys.argv=["engine.py"]; sys.path.insert(0, "tools/bench"); import engine; print("%.3f" % engine.allreduce_ms(10_000_000, 15))')
  rm -rf $work/store; mkdir -p $work/store
  for r in 0 1; do $work/app/CommerceMM.Collectives.Peer allreduce-bench $work/store $r 2 $work/out$r 10000000 15 > $work/log$r 2>&1 & done; wait
  ours=$(awk '/allreduce_ms/ {print $2}' $work/log0)
  echo "$pt $ours"
done
