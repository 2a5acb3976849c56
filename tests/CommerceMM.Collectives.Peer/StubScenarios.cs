using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives.Peer;

/// <summary>
/// The NCCL path over the stub NCCL (native/stub), which takes host memory for "device" memory and
/// logs every call: the test compares the log with the pointers, counts, types and ops recorded here.
/// </summary>
internal static class StubScenarios
{
    internal static ProcessGroup CreateNccl(IRendezvousStore store, int rank, int world, Device device, TimeSpan timeout) =>
        ProcessGroup.Create(store, rank, world, device, timeout, "127.0.0.1", CollectiveBackend.Nccl);

    internal static List<(string, Tensor)> Marshalling(ProcessGroup group)
    {
        var f = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 });
        var h = torch.tensor(new float[] { 1, 2, 3, 4 }).to(ScalarType.BFloat16);
        using (var pending = group.AllReduceAsync([f, h], ReduceOp.Average)) pending.Wait(group.Timeout);
        var l = torch.tensor(new long[] { 1, 2, 3 });
        group.AllReduce(l, ReduceOp.Sum);
        var d = torch.tensor(new double[] { 1, 2 });
        group.AllReduce(d, ReduceOp.Max);
        var i = torch.tensor(new int[] { 1 });
        group.AllReduce(i, ReduceOp.Min);
        var b = torch.tensor(new float[] { 9, 9, 9 });
        group.Broadcast(b, root: group.Size - 1);
        var rows = torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        var gathered = group.AllGather(rows);
        group.Barrier();
        long Pointer(Tensor t) => TensorMemory.DataPointer(t).ToInt64();
        return
        [
            ("pointers", torch.tensor(new[] { Pointer(f), Pointer(h), Pointer(l), Pointer(d), Pointer(i), Pointer(b), Pointer(rows), Pointer(gathered) })),
            ("f", f), ("l", l), ("gathered", gathered),
        ];
    }

    /// <summary>Every event stays pending (CMM_NCCL_STUB_HANG=1): the wait must time out, abort, and refuse what follows.</summary>
    internal static List<(string, Tensor)> Hang(ProcessGroup group)
    {
        var t = torch.ones(4);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var first = Scenarios.Record(() => group.AllReduce(t, ReduceOp.Sum, TimeSpan.FromSeconds(1)));
        double seconds = watch.Elapsed.TotalSeconds;
        var second = Scenarios.Record(() => group.AllReduce(t));
        return [("errors", torch.tensor(new long[] { (long)(first ?? 0), (long)(second ?? 0) })), ("seconds", torch.tensor(new[] { seconds }))];
    }

    /// <summary>Joining must fail with a clear error: NCCL not loadable, or a CUDA device this machine lacks.</summary>
    /// <summary>CudaMemory.Query on the stub driver: its figures, or the error's code (and message in CMM_PEER_MESSAGE_FILE).</summary>
    internal static List<(string, Tensor)> ComputeCapability()
    {
        var (major, minor) = MachineDevices.CudaComputeCapability(0);
        return [("capability", torch.tensor(new[] { major, minor }))];
    }

    internal static List<(string, Tensor)> Memory(int device)
    {
        try
        {
            var (used, total) = CudaMemory.Query(device);
            return [("used", torch.tensor(new[] { used })), ("total", torch.tensor(new[] { total }))];
        }
        catch (CollectiveException e)
        {
            File.WriteAllText(Environment.GetEnvironmentVariable("CMM_PEER_MESSAGE_FILE")!, e.Message);
            return [("error", torch.tensor(new long[] { (long)e.Error }))];
        }
    }

    /// <summary>
    /// CudaMemory.CopyToHost on the stub driver, host memory standing in for the device's: two tensors' bytes (and an
    /// empty one) into slices of one array; returns the array and the sources' addresses, to compare with the stub's log.
    /// </summary>
    internal static List<(string, Tensor)> CopyToHost()
    {
        var a = torch.arange(0, 10, dtype: ScalarType.Float32);
        var b = torch.arange(100, 106, dtype: ScalarType.Int64);
        var empty = torch.zeros(0);
        var host = new byte[40 + 48];
        CudaMemory.CopyToHost(0, [(TensorMemory.DataPointer(a), host.AsMemory(0, 40)), (IntPtr.Zero, host.AsMemory(40, 0)), (TensorMemory.DataPointer(b), host.AsMemory(40, 48))]);
        return [("host", torch.tensor(host)), ("sources", torch.tensor(new[] { (long)TensorMemory.DataPointer(a), (long)TensorMemory.DataPointer(b) }))];
    }

    internal static List<(string, Tensor)> CreateFails(IRendezvousStore store, int rank, int world, Device device)
    {
        try
        {
            using var group = CreateNccl(store, rank, world, device, TimeSpan.FromSeconds(5));
            Console.WriteLine("created, unexpectedly");
            return [("error", torch.tensor(new long[] { 0 }))];
        }
        catch (CollectiveException e)
        {
            Console.WriteLine($"create error: {e.Error}: {e.Message}");
            File.WriteAllText(Environment.GetEnvironmentVariable("CMM_PEER_MESSAGE_FILE")!, e.Message);
            return [("error", torch.tensor(new long[] { (long)e.Error }))];
        }
    }
}
