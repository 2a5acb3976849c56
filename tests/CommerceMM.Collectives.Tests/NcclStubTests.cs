using static CommerceMM.Tests.Shared.TensorAssert;

namespace CommerceMM.Collectives.Tests;

/// <summary>
/// The NCCL path without a GPU: peers load the stub NCCL + CUDA driver (native/stub), which logs
/// every call with its arguments. Host memory stands in for device memory, so the pointers the C#
/// API passed can be compared with the tensors' own.
/// </summary>
[Collection(PeerCollection.Name)]
public class NcclStubTests
{
    private static readonly string Stub = Path.Combine(AppContext.BaseDirectory, "libncclstub.so");

    private static Dictionary<string, string> StubEnvironment(bool hang = false) => new()
    {
        ["CMM_NCCL_LIBRARY"] = Stub,
        ["CMM_CUDA_DRIVER_LIBRARY"] = Stub,
        ["CMM_NCCL_STUB_LOG"] = "{dir}/stub{rank}.log",
        ["CMM_NCCL_STUB_HANG"] = hang ? "1" : "0",
    };

    /// <summary>One logged call: its name and its key=value arguments.</summary>
    private sealed record Call(string Name, Dictionary<string, string> Args)
    {
        public long Long(string key) => long.Parse(Args[key]);

        public static List<Call> Read(string path) => File.ReadAllLines(path).Select(line =>
        {
            var parts = line.Split(' ');
            return new Call(parts[0], parts.Skip(1).Select(p => p.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]));
        }).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void NcclPath_PassesPointersCountsTypesOpsAndRootToNccl(int world)
    {
        using var run = PeerProcesses.Start("nccl-stub", world, environment: StubEnvironment());
        var ids = new List<string>();
        for (int rank = 0; rank < world; rank++)
        {
            var calls = Call.Read(Path.Combine(run.Directory, $"stub{rank}.log"));
            var p = Longs(run.Results[rank]["pointers"]); // f, h, l, d, i, b, rows, gathered
            Assert.Equal("0", calls.Single(c => c.Name == "cuDeviceGet").Args["ordinal"]);
            var init = calls.Single(c => c.Name == "ncclCommInitRank");
            Assert.Equal(world, init.Long("nranks"));
            Assert.Equal(rank, init.Long("rank"));
            ids.Add(init.Args["id"]);
            Assert.Equal(rank == 0 ? 1 : 0, calls.Count(c => c.Name == "ncclGetUniqueId")); // only rank 0 makes the id
            long comm = init.Long("comm");

            var collectives = calls.Where(c => c.Name is "ncclAllReduce" or "ncclBroadcast" or "ncclAllGather").ToList();
            // (name, buffer, count, NCCL datatype, op or root): ncclFloat32 7, ncclBfloat16 9, ncclInt64 4, ncclFloat64 8, ncclInt32 2;
            // ncclSum 0, ncclMax 2, ncclMin 3, ncclAvg 4.
            var expected = new (string Name, long Buffer, long Count, long Type, string Key, long Value)[]
            {
                ("ncclAllReduce", p[0], 6, 7, "op", 4),
                ("ncclAllReduce", p[1], 4, 9, "op", 4),
                ("ncclAllReduce", p[2], 3, 4, "op", 0),
                ("ncclAllReduce", p[3], 2, 8, "op", 2),
                ("ncclAllReduce", p[4], 1, 2, "op", 3),
                ("ncclBroadcast", p[5], 3, 7, "root", world - 1),
            };
            Assert.True(collectives.Count == expected.Length + 3, $"calls:\n{string.Join("\n", collectives)}");
            for (int i = 0; i < expected.Length; i++)
            {
                var (name, buffer, count, type, key, value) = expected[i];
                var c = collectives[i];
                Assert.Equal(name, c.Name);
                Assert.Equal(buffer, c.Long("send"));
                Assert.Equal(buffer, c.Long("recv")); // in place
                Assert.Equal(count, c.Long("count"));
                Assert.Equal(type, c.Long("datatype"));
                Assert.Equal(value, c.Long(key));
                Assert.Equal(comm, c.Long("comm"));
            }
            // The all-gather: first every rank's header (11 int64), then the rows themselves, into the result tensor.
            var header = collectives[^3];
            Assert.Equal(("ncclAllGather", 11L, 4L), (header.Name, header.Long("count"), header.Long("datatype")));
            var rows = collectives[^2];
            Assert.Equal(("ncclAllGather", p[6], p[7], 6L, 7L), (rows.Name, rows.Long("send"), rows.Long("recv"), rows.Long("count"), rows.Long("datatype")));
            // The barrier: a one-element float32 sum.
            var barrier = collectives[^1];
            Assert.Equal(("ncclAllReduce", 1L, 7L, 0L), (barrier.Name, barrier.Long("count"), barrier.Long("datatype"), barrier.Long("op")));
            // Everything on the null stream, so it is ordered with TorchSharp's kernels.
            Assert.All(collectives, c => Assert.Equal(0L, c.Long("stream")));
            Assert.All(calls.Where(c => c.Name == "cuEventRecord"), c => Assert.Equal(0L, c.Long("stream")));
            Assert.Equal(comm, calls.Single(c => c.Name == "ncclCommDestroy").Long("comm"));
            // The stub acts as one rank would (copies in place): values survive the round trip.
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, Floats(run.Results[rank]["f"]));
            Assert.Equal(world * 2, run.Results[rank]["gathered"].shape[0]);
        }
        // Rank 1 joined with the id rank 0 made and put in the store.
        Assert.All(ids, id => Assert.Equal(ids[0], id));
        Assert.StartsWith("stub-id-pid-", ids[0]);
    }

    [Fact]
    public void NcclPath_KernelNeverCompletes_TimesOutAbortsAndRefusesWhatFollows()
    {
        using var run = PeerProcesses.Start("nccl-stub-hang", 1, environment: StubEnvironment(hang: true));
        var f = run.Results[0];
        Assert.Equal(new[] { (long)CollectiveError.Timeout, (long)CollectiveError.GroupBroken }, Longs(f["errors"]));
        Assert.InRange(Doubles(f["seconds"])[0], 0.9, 5);
        var calls = Call.Read(Path.Combine(run.Directory, "stub0.log"));
        Assert.Single(calls, c => c.Name == "ncclCommAbort");
        Assert.DoesNotContain(calls, c => c.Name == "ncclCommDestroy"); // aborted, not destroyed a second time
    }

    [Fact]
    public void NcclPath_LibraryMissing_ThrowsUnavailableNamingPathAndFix()
    {
        var environment = StubEnvironment();
        environment["CMM_NCCL_LIBRARY"] = "/nonexistent/libnccl.so.2";
        var (error, message) = Failing("nccl-create-fails", "cuda:0", environment);
        Assert.Equal(CollectiveError.Unavailable, error);
        Assert.Contains("/nonexistent/libnccl.so.2", message);
        Assert.Contains("LD_LIBRARY_PATH", message);
    }

    [Theory]
    [InlineData(null, 9, 0)]
    [InlineData("7.5", 7, 5)]
    public void ComputeCapability_AsksTheDriverForBothAttributes(string? stubCapability, int major, int minor)
    {
        var environment = StubEnvironment();
        if (stubCapability is not null) environment["CMM_NCCL_STUB_CAPABILITY"] = stubCapability;
        using var run = PeerProcesses.Start("cuda-capability", 1, environment: environment);
        Assert.Equal(new long[] { major, minor }, Longs(run.Results[0]["capability"]));
        var calls = Call.Read(Path.Combine(run.Directory, "stub0.log"));
        Assert.Equal(["cuDeviceGet", "cuDeviceGetAttribute", "cuDeviceGetAttribute"], calls.Select(c => c.Name));
        Assert.Equal([75L, 76L], calls.Skip(1).Select(c => c.Long("attribute")));
    }

    [Fact]
    public void CudaMemory_AsksTheDevicesPrimaryContext_AndPutsTheThreadsContextBack()
    {
        using var run = PeerProcesses.Start("cuda-memory", 1, environment: StubEnvironment(), arguments: "0");
        Assert.Equal(77L << 30, Longs(run.Results[0]["used"])[0]);   // the stub: 80 GiB, 3 GiB free
        Assert.Equal(80L << 30, Longs(run.Results[0]["total"])[0]);
        var calls = Call.Read(Path.Combine(run.Directory, "stub0.log")).Select(c => c.Name + (c.Args.TryGetValue("context", out var x) ? " " + x : "")).ToList();
        Assert.Equal("cuDeviceGet", calls[0]);
        Assert.Equal("cuDevicePrimaryCtxRetain", calls[1]);
        Assert.StartsWith("cuCtxSetCurrent ", calls[2], StringComparison.Ordinal);
        Assert.NotEqual("cuCtxSetCurrent 0", calls[2]);
        Assert.Equal(["cuMemGetInfo", "cuCtxSetCurrent 0", "cuDevicePrimaryCtxRelease"], calls.Skip(3));
    }

    [Fact]
    public void CopyToHost_OnItsOwnNonBlockingStream_AfterTheNullStreamsWork_ThenWaitsForIt()
    {
        using var run = PeerProcesses.Start("cuda-copy", 1, environment: StubEnvironment());
        byte[] host = Longs(run.Results[0]["host"]).Select(v => (byte)v).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), Enumerable.Range(0, 10).Select(i => BitConverter.ToSingle(host, 4 * i)));
        Assert.Equal(Enumerable.Range(100, 6).Select(i => (long)i), Enumerable.Range(0, 6).Select(i => BitConverter.ToInt64(host, 40 + 8 * i)));

        var sources = Longs(run.Results[0]["sources"]);
        var calls = Call.Read(Path.Combine(run.Directory, "stub0.log"));
        var created = calls.Single(c => c.Name == "cuStreamCreate");
        Assert.Equal(1, created.Long("flags"));   // CU_STREAM_NON_BLOCKING: never synchronised with the null stream
        long stream = created.Long("stream");
        var recorded = calls.Single(c => c.Name == "cuEventRecord");
        Assert.Equal(0, recorded.Long("stream"));  // the event marks what the null stream (libtorch's) had queued
        var waited = calls.Single(c => c.Name == "cuStreamWaitEvent");
        Assert.Equal((stream, recorded.Long("event")), (waited.Long("stream"), waited.Long("event")));
        var copies = calls.Where(c => c.Name == "cuMemcpyDtoHAsync").ToList();
        Assert.Equal(sources, copies.Select(c => c.Long("src")));   // the empty buffer is not copied
        Assert.Equal([40L, 48L], copies.Select(c => c.Long("bytes")));
        Assert.All(copies, c => Assert.Equal(stream, c.Long("stream")));
        var order = calls.Select(c => c.Name).ToList();
        Assert.True(order.IndexOf("cuStreamWaitEvent") < order.IndexOf("cuMemcpyDtoHAsync")
                    && order.LastIndexOf("cuMemcpyDtoHAsync") < order.IndexOf("cuStreamSynchronize")
                    && order.IndexOf("cuStreamSynchronize") < order.IndexOf("cuStreamDestroy"), string.Join(", ", order));
    }

    [Fact]
    public void CudaMemory_DeviceThisMachineLacks_ThrowsNamingIt()
    {
        var (error, message) = Failing("cuda-memory", "3");
        Assert.Equal(CollectiveError.InvalidArgument, error);
        Assert.Contains("memory of cuda:3", message);
        Assert.Contains("invalid device ordinal", message);
    }

    [Fact]
    public void NcclPath_DeviceThisMachineLacks_ThrowsNamingOrdinal()
    {
        var (error, message) = Failing("nccl-create-fails", "cuda:3");
        Assert.Equal(CollectiveError.InvalidArgument, error);
        Assert.Contains("cuDeviceGet(3)", message);
        Assert.Contains("invalid device ordinal", message);
    }

    /// <summary>Runs a one-rank scenario that is expected to fail; its error code and message (the peer writes both).</summary>
    private static (CollectiveError Error, string Message) Failing(string scenario, string argument, Dictionary<string, string>? environment = null)
    {
        environment ??= StubEnvironment();
        environment["CMM_PEER_MESSAGE_FILE"] = "{dir}/message{rank}.txt";
        using var run = PeerProcesses.Start(scenario, 1, environment: environment, arguments: argument);
        return ((CollectiveError)Longs(run.Results[0]["error"])[0], File.ReadAllText(Path.Combine(run.Directory, "message0.txt")));
    }
}
