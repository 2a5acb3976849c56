using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Tests.Metrics;

/// <summary>The machine's memory as a worker caps itself to it: RAM and swap, or a container's lower limit.</summary>
public sealed class ProcessMemoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cmm-meminfo-").FullName;

    [Theory]
    [InlineData(null, null, 24L << 30)]
    [InlineData("max\n", null, 24L << 30)] // cgroup v2 without a limit
    [InlineData("8589934592\n", null, 8L << 30)] // a pod's limits.memory: 8Gi
    [InlineData(null, "9223372036854771712\n", 24L << 30)] // cgroup v1 without a limit
    [InlineData(null, "4294967296\n", 4L << 30)]
    public void MachineBytes_IsRamAndSwap_OrTheContainersLimitWhereLower(string? cgroupV2, string? cgroupV1, long expected)
    {
        Write("proc/meminfo", "MemTotal:       20971520 kB\nMemFree:         1000 kB\nSwapTotal:       4194304 kB\n");
        if (cgroupV2 is not null) Write("sys/fs/cgroup/memory.max", cgroupV2);
        if (cgroupV1 is not null) Write("sys/fs/cgroup/memory/memory.limit_in_bytes", cgroupV1);

        Assert.Equal(expected, ProcessMemory.MachineBytes(_root));
    }

    [Theory]
    [InlineData(null, 16L << 30)] // MemAvailable 14 GiB and 2 GiB of swap free
    [InlineData("8589934592\n", 8L << 30)] // at most the container's limit
    public void AvailableBytes_IsWhatTheKernelCanGiveAndFreeSwap_AtMostTheMachine(string? cgroupV2, long expected)
    {
        Write("proc/meminfo", "MemTotal:       20971520 kB\nMemAvailable:   14680064 kB\nSwapTotal:       4194304 kB\nSwapFree:        2097152 kB\n");
        if (cgroupV2 is not null) Write("sys/fs/cgroup/memory.max", cgroupV2);

        Assert.Equal(expected, ProcessMemory.AvailableBytes(_root));
    }

    [Fact]
    public void WithoutProc_MachineAndAvailableAreUnknown() => Assert.Null(ProcessMemory.MachineBytes(_root) ?? ProcessMemory.AvailableBytes(_root));

    [Fact]
    public void MachineBytes_OnThisMachine_IsRead()
    {
        // The test process's own view: /proc is there on Linux, and a machine that runs these tests has more than 1 GiB.
        Assert.True(ProcessMemory.MachineBytes() > 1L << 30);
    }

    private void Write(string path, string text)
    {
        string full = Path.Combine(_root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
