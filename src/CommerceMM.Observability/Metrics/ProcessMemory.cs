namespace CommerceMM.Observability.Metrics;

/// <summary>This process's memory as the Linux kernel counts it (/proc/self/status).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes, or null where /proc is not there.</summary>
    public static long? PeakResidentBytes() => StatusKilobytes("VmHWM:") * 1024;

    private static long? StatusKilobytes(string field)
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status)) return null;
        foreach (string line in File.ReadLines(Status))
        {
            // "VmHWM:	  251604 kB"
            if (line.StartsWith(field, StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture, out long kb))
                return kb;
        }
        return null;
    }
}
