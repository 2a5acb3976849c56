using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives.Peer;

/// <summary>
/// The NCCL path on a real GPU with one rank (NCCL refuses two ranks on one GPU; GPU.md): every
/// collective through real NCCL on TorchSharp CUDA tensors, each value checked, plus timings.
/// Prints one "check ... ok|FAIL" line per check and exits non-zero if any failed.
/// </summary>
internal static class GpuScenarios
{
    internal static List<(string, Tensor)> Check(IRendezvousStore store, Device device)
    {
        // device cpu: a dry run of this script over the stub NCCL (CMM_NCCL_LIBRARY), before spending GPU time.
        bool dryRun = device.type == DeviceType.CPU;
        if (!dryRun && !torch.cuda.is_available()) throw new InvalidOperationException("torch.cuda.is_available() is false");
        var timeout = TimeSpan.FromSeconds(60);
        using var group = dryRun ? StubScenarios.CreateNccl(store, 0, 1, device, timeout) : ProcessGroup.Create(store, 0, 1, device, timeout);
        int failures = 0;
        void Expect(string name, bool ok, string detail = "")
        {
            Console.WriteLine($"check {name} {(ok ? "ok" : "FAIL")} {detail}");
            if (!ok) failures++;
        }
        bool AllEqual(Tensor t, double v) => t.cpu().to(ScalarType.Float64).eq(v).all().item<bool>();

        // Kernels queued just before the collective must be seen by it (null stream ordering).
        var t = torch.ones(1000, device: device).mul_(3);
        group.AllReduce(t, ReduceOp.Sum);
        Expect("allreduce_sum_float32", AllEqual(t, 3));
        group.AllReduce(t, ReduceOp.Average);
        Expect("allreduce_avg_float32", AllEqual(t, 3));
        var half = (torch.ones(1000, device: device) * 2).to(ScalarType.BFloat16);
        group.AllReduce(half, ReduceOp.Average);
        Expect("allreduce_avg_bfloat16", AllEqual(half, 2));
        var longs = torch.full(7, 5L, device: device);
        group.AllReduce(longs, ReduceOp.Max);
        Expect("allreduce_max_int64", AllEqual(longs, 5));

        var pending = Enumerable.Range(1, 4).Select(i => torch.full(100_000 * i, (float)i, device: device)).ToList();
        var works = pending.Select(p => group.AllReduceAsync([p])).ToList();
        works.ForEach(w => { w.Wait(group.Timeout); w.Dispose(); });
        Expect("allreduce_async_4_in_flight", pending.Select((p, i) => AllEqual(p, i + 1)).All(x => x));

        var b = torch.full(3, 9f, device: device);
        group.Broadcast(b, root: 0);
        Expect("broadcast", AllEqual(b, 9));

        var rows = torch.arange(6, dtype: ScalarType.Float32, device: device).reshape(2, 3);
        var gathered = group.AllGather(rows);
        Expect("allgather", gathered.device_type == device.type && gathered.shape.SequenceEqual(new long[] { 2, 3 }) && gathered.eq(rows).all().item<bool>());

        // Backward on CUDA runs on libtorch's device thread: the all-reduce in backward must work there too.
        var x = torch.randn(4, 8, generator: new Generator(7)).to(device).requires_grad_();
        var all = group.AllGatherWithGrad(x);
        (all * all).sum().backward();
        Expect("allgather_with_grad_backward", x.grad!.allclose(x.detach() * 2));

        group.Barrier();
        Expect("barrier", true);

        // Timings (one rank: NCCL's copy path and our per-call overhead, not a network figure).
        var big = torch.ones(10_000_000, device: device);
        double Median(Action a, int reps)
        {
            for (int i = 0; i < 3; i++) a();
            var times = new List<double>();
            for (int i = 0; i < reps; i++)
            {
                var w = Stopwatch.StartNew();
                a();
                times.Add(w.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }
        double bigMs = Median(() => group.AllReduce(big), 20);
        var tiny = torch.ones(1, device: device);
        double tinyMs = Median(() => group.AllReduce(tiny), 200);
        Console.WriteLine($"timing allreduce_10M_float32_ms {bigMs:F3}");
        Console.WriteLine($"timing allreduce_1_float32_ms {tinyMs:F4}");
        Console.WriteLine($"result {(failures == 0 ? "PASS" : "FAIL")} ({failures} failed)");
        if (failures > 0) Environment.ExitCode = 1;
        return [("failures", torch.tensor(new long[] { failures })), ("allreduce_10M_ms", torch.tensor(new[] { bigMs })), ("allreduce_1_ms", torch.tensor(new[] { tinyMs }))];
    }
}
