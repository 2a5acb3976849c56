#!/bin/bash
# The device side of tools/gpu-check: unpacks the pack (cmm + the collectives peer, self-contained, and a
# small corpus), points them at the machine's PyTorch libtorch + NCCL (GPU.md), then
#   0. every collective through NCCL on TorchSharp CUDA tensors (one rank: NCCL refuses two on one GPU),
#      and PyTorch's own NCCL all-reduce for comparison;
#   1. trains 16 steps on cuda straight through (the comparison run);
#   2. trains the same job in three legs, each ended by SIGTERM (a preemption checkpoint) but the last: on cuda,
#      then on cpu (restoring the checkpoint written on cuda), then on cuda again (restoring the one written
#      on cpu); each leg's per-step losses should follow run 1's (to device rounding on the cpu leg);
#   3. step dumps on cuda in fp32 and bf16 (compared), and one of 16 rows replayed by tools/reference;
#   4. job.device=cuda:3 on this one-GPU machine: an error naming job.device;
#   5. cmm bench model against the reference's step on the same device (tiny, small, base), and cmm bench checkpoint.
# Everything lands in $OUT (logs, summary.txt); the summary's last line, and the exit status, say whether every check passed.
# Usage: device-checks.sh PACK_DIR cuda|cpu   (cpu: a dry run with CMM_LIBTORCH_DIR set and the stub NCCL)
set -u
pack=$1
gpu=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/cmm-gpu-check-out}
mkdir -p "$out"
work=/tmp/cmm-gpu-check
rm -rf $work; mkdir -p $work/app $work/store
tar -C $work/app -xJf "$pack/app.tar.xz"
tar -C $work -xJf "$pack/corpus.tar.xz"
if [ "$gpu" = cpu ]; then
  : "${CMM_LIBTORCH_DIR:?set CMM_LIBTORCH_DIR for a dry run}"
  export LD_LIBRARY_PATH=$CMM_LIBTORCH_DIR:$work/app/native
  export CMM_NCCL_LIBRARY=$work/app/native/libncclstub.so CMM_CUDA_DRIVER_LIBRARY=$work/app/native/libncclstub.so
  echo "dry run on the CPU" > $out/summary.txt
else
  torch_dir=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
  site=$(dirname "$torch_dir")
  export CMM_LIBTORCH_DIR=$torch_dir/lib
  # The machine's own Gloo dependencies come first when it has them; the packed ones fill the gaps.
  export LD_LIBRARY_PATH=$torch_dir/lib:$(ls -d $site/nvidia/*/lib 2>/dev/null | tr '\n' ':')$work/app/native
  nvidia-smi -L > $out/summary.txt
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
export NUGET_PACKAGES=/nonexistent-nuget OMP_WAIT_POLICY=PASSIVE
# Each check's exit status against the one it should have; the last line says how many failed, and so does the exit.
checks=0 failures=()
record() {
  local name=$1 rc=$2 expected=${3:-0}
  checks=$((checks + 1))
  echo "$name: exit $rc" | tee -a $out/summary.txt
  [ "$rc" -eq "$expected" ] || failures+=("$name (exit $rc, expected $expected)")
}
# On the GPU every collective runs through the real NCCL; a dry run sends them through the stub library.
if [ "$gpu" = cpu ]; then peer=(nccl-stub $work/store 0 1 $work/peer.safetensors); else peer=(gpu-check $work/store 0 1 $work/peer.safetensors cuda:0); fi
timeout 120 $work/app/CommerceMM.Collectives.Peer "${peer[@]}" > $out/collectives.txt 2>&1
record "collectives over NCCL (${peer[0]})" $?
cmm=$work/app/cmm
common=(--workers 1 --set data.dir=$work/corpus --set data.batch_size=8 --set checkpoint.store=file:$work/runs
        --set checkpoint.every=100 --set job.log_every=1 --set optimizer.warmup_steps=2 --set model.prototypes=32 --set job.threads=4)
train() { local log=$1 expected=$2; shift 2; timeout 240 $cmm train "${common[@]}" "$@" > $out/$log 2>&1; record $log $? $expected; }
# A leg preempted as Kubernetes does: SIGTERM once the log shows its first step; the job checkpoints two steps on and exits.
preempted() {
  local log=$1; shift
  # Not under timeout(1): it would signal the whole process group, and a worker signalled twice stops without its checkpoint.
  $cmm train "${common[@]}" "$@" > $out/$log 2>&1 &
  local pid=$!
  for _ in $(seq 2400); do grep -q "cmm.worker: step " $out/$log && break; sleep 0.05; done
  kill -TERM $pid; wait $pid
  record "$log (SIGTERM)" $?
}
# The same max_steps everywhere: the learning-rate schedule depends on it.
job=(--set job.max_steps=16)
train straight.txt 0 --set job.name=straight "${job[@]}" --set job.device=$gpu
preempted leg1-cuda.txt --set job.name=legs "${job[@]}" --set job.device=$gpu
preempted leg2-cpu.txt --set job.name=legs "${job[@]}" --set job.device=cpu
train leg3-cuda.txt 0 --set job.name=legs "${job[@]}" --set job.device=$gpu
train bad-device.txt 2 --set job.name=bad --set job.max_steps=2 --set job.device=${BAD_DEVICE:-cuda:3}
grep -h "training on\|restoring checkpoint\|checkpoint ordered\|cannot run\|cmm: job.device" $out/leg*.txt $out/bad-device.txt | sed 's/^.*\] //' | tee -a $out/summary.txt
# Rank 0's per-step losses and gradient norms, straight vs the legs (a leg may repeat steps after its last checkpoint).
for f in straight leg1-cuda leg2-cpu leg3-cuda; do grep -o "cmm.worker: step [0-9]* .* grad [0-9.]*" $out/$f.txt | sed "s/^cmm.worker: /$f: /"; done | tee -a $out/summary.txt
${PYTHON:-python3} - $out/summary.txt <<'PY' | tee -a $out/summary.txt
import re, sys
straight, legs = {}, []
for line in open(sys.argv[1]).read().splitlines():
    m = re.match(r"(\S+): step (\d+) \S+ pass1 (\S+) pass2 (\S+) grad (\S+)", line)
    if m:
        figures = tuple(float(x) for x in m.group(3, 4, 5))
        if m.group(1) == "straight": straight[m.group(2)] = figures
        else: legs.append((m.group(1), m.group(2), figures))
overall = 0.0
for leg, step, figures in legs:
    worst = max(abs(a - b) / abs(b) for a, b in zip(figures, straight[step]))
    overall = max(overall, worst)
    print(f"{leg} step {step}: largest relative difference to the straight run {worst:.1e}")
# Device rounding only: a resume that lost optimizer state or a data position moves these by far more.
sys.exit(0 if legs and overall <= 1e-3 else 1)
PY
record "the legs follow the straight run within 1e-3" ${PIPESTATUS[0]}
timeout 120 $cmm debug dump-step --out $work/d32 --device $gpu --rows 8 --warmup-steps 2 --weights itm=0 > $out/dump-fp32.txt 2>&1
record "fp32 dump" $?
timeout 120 $cmm debug dump-step --out $work/d16 --device $gpu --precision bf16 --rows 8 --warmup-steps 2 --weights itm=0 > $out/dump-bf16.txt 2>&1
bf16_dump=$?
# The replay gets a dump of 16 rows: with 8, two warm-up steps memorise the omni pairs and omni_m2m falls to ~5e-4, where
# 1e-4 relative is 5e-8 absolute, far below float32's step (1e-6) at the logits near 14 it is the difference of (it failed by 1.06e-4 on the CPU).
timeout 120 $cmm debug dump-step --out $work/r32 --device $gpu --rows 16 --warmup-steps 2 --weights itm=0 > $out/dump-replay.txt 2>&1
record "fp32 dump of 16 rows" $?
${PYTHON:-python3} $repo/tools/reference/commercemm.py $work/r32 --check > $out/reference-fp32.txt 2>&1
record "reference replay of the $gpu fp32 dump (16 rows)" $?
if [ "$gpu" = cpu ] && [ $bf16_dump -eq 2 ] && grep -q "needs native bf16 arithmetic" $out/dump-bf16.txt; then
  # A dry run on a CPU without native bf16 (no avx512_bf16, amx_bf16 or bf16 flag): cmm refuses bf16 there by design.
  echo "bf16 dump: refused on this CPU, as it lacks native bf16 (comparison left to a GPU)" | tee -a $out/summary.txt
else
  record "bf16 dump" $bf16_dump
  # Each task's bf16 loss within 2 % of its fp32 loss, as Bf16ParityTests holds on the CPU.
  ${PYTHON:-python3} - $work/d32 $work/d16 $gpu <<'PY' | tee -a $out/summary.txt
import json, sys
a, b = (json.load(open(d + "/losses.json")) for d in sys.argv[1:3])
worst = 0.0
for k, v in a["tasks"].items():
    if v["loss"] is not None:
        w = b["tasks"][k]["loss"]
        rel = abs(w - v["loss"]) / abs(v["loss"])
        worst = max(worst, rel)
        print(f"bf16 vs fp32 on {sys.argv[3]} {k:9} {v['loss']:.6f} {w:.6f} rel {rel:.2e}")
sys.exit(0 if worst <= 2e-2 else 1)
PY
  record "bf16 losses within 2e-2 of fp32" ${PIPESTATUS[0]}
fi
# 5. Speed on this device: our step against the PyTorch reference's own on it (tiny and small at 32 + 32, base at
#    128 + 128; fp32 and bf16, bf16 against autocast), with MFU and peak memory, and the checkpoint stall at base.
#    A dry run times tiny briefly, to check the wiring.
export CMM_PYTHON=${PYTHON:-$(command -v python3)}
# Each under its own timeout (seconds, the last field), so that one slow run cannot cost the others their figures.
# The last, on the GPU: tiny again with .NET's tiered PGO on (cmm ships it off, measured on the CPU only), since a
# launch-bound step is where the managed code's speed would show.
if [ "$gpu" = cpu ]; then benches=("tiny 8 2 120"); stall_preset=tiny
else benches=("tiny 32 5 60" "small 32 5 60" "base 128 5 150" "tiny 32 5 60 pgo"); stall_preset=base; fi
for b in "${benches[@]}"; do
  read -r preset rows reps limit pgo <<< "$b"
  name=$preset${pgo:+-pgo}
  env ${pgo:+DOTNET_TieredPGO=1} timeout $limit $cmm bench model --device $gpu --preset $preset --batch $rows --reps $reps --rounds 1 --threads 8 --repo $repo > $out/bench-model-$name.txt 2>&1
  record "bench model $name, $rows + $rows" $?
  grep -E "training step|MFU|peak|engine matmul" $out/bench-model-$name.txt | tee -a $out/summary.txt
done
timeout 90 $cmm bench checkpoint --device $gpu --preset $stall_preset --batch 32 --every 3 --saves 3 --rounds 1 > $out/bench-checkpoint.txt 2>&1
record "bench checkpoint ($stall_preset)" $?
grep -E "state |step without|stall|upload" $out/bench-checkpoint.txt | tee -a $out/summary.txt
if [ ${#failures[@]} -eq 0 ]; then
  echo "gpu-check: all $checks checks passed" | tee -a $out/summary.txt
else
  printf 'gpu-check: %d of %d checks failed: %s\n' ${#failures[@]} $checks "$(IFS=';'; echo "${failures[*]}")" | tee -a $out/summary.txt
  exit 1
fi
