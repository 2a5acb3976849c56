using System.Globalization;

namespace CommerceMM.Observability.Metrics;

/// <summary>Memory as the Linux kernel counts it: this process's (/proc/self/status) and the machine's (/proc/meminfo, cgroups).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes, or null where /proc is not there.</summary>
    public static long? PeakResidentBytes() => Kilobytes("/proc/self/status", "VmHWM:") * 1024;

    /// <summary>
    /// The most memory this machine can give its processes: RAM and swap, or this container's memory limit (cgroup v2
    /// <c>memory.max</c>, v1 <c>memory.limit_in_bytes</c>) where that is lower. Null where /proc is not there.
    /// </summary>
    /// <param name="root">Where /proc and /sys live; another folder in tests.</param>
    public static long? MachineBytes(string root = "/")
    {
        string meminfo = Path.Combine(root, "proc/meminfo");
        if (Kilobytes(meminfo, "MemTotal:") is not { } total) return null;
        long machine = (total + (Kilobytes(meminfo, "SwapTotal:") ?? 0)) * 1024;
        foreach (string limitFile in new[] { "sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes" })
        {
            string path = Path.Combine(root, limitFile);
            // "max" (v2) or a number near 2^63 (v1) means no limit.
            if (File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long limit) && limit > 0)
                machine = Math.Min(machine, limit);
        }
        return machine;
    }

    /// <summary>
    /// What the machine can give without anyone being killed: the kernel's estimate (MemAvailable: free memory and the
    /// caches it can drop) and free swap, at most <see cref="MachineBytes"/>. Null where /proc is not there.
    /// </summary>
    /// <param name="root">Where /proc and /sys live; another folder in tests.</param>
    public static long? AvailableBytes(string root = "/")
    {
        string meminfo = Path.Combine(root, "proc/meminfo");
        if (Kilobytes(meminfo, "MemAvailable:") is not { } available || MachineBytes(root) is not { } machine) return null;
        return Math.Min(machine, (available + (Kilobytes(meminfo, "SwapFree:") ?? 0)) * 1024);
    }

    /// <summary>A "Field:   123 kB" line's number, or null where the file or the field is not there.</summary>
    private static long? Kilobytes(string file, string field)
    {
        if (!File.Exists(file)) return null;
        foreach (string line in File.ReadLines(file))
        {
            if (line.StartsWith(field, StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture, out long kb))
                return kb;
        }
        return null;
    }
}
