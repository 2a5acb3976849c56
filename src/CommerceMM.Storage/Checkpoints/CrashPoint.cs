using System.Diagnostics;
using System.Globalization;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// Fault injection for the crash tests. With <c>CMM_CRASH_AT=NAME@STEP</c> in a process's environment, that process
/// SIGKILLs itself when the commit protocol reaches stage NAME of step STEP: exactly the state a kill -9 at that
/// instant leaves, which no outside timing can hit reliably. Unset (as everywhere but those tests) it costs a
/// null check.
/// </summary>
public static class CrashPoint
{
    public const string Variable = "CMM_CRASH_AT";

    /// <summary>The manifest is created; its files are not verified and <c>latest</c> has not moved.</summary>
    public const string ManifestWritten = "manifest-written";

    /// <summary>Every file is verified; <c>latest</c> has not moved.</summary>
    public const string Verified = "verified";

    /// <summary><c>latest</c> has moved; the caller (the coordinator) has not recorded the commit.</summary>
    public const string LatestMoved = "latest-moved";

    private static readonly (string Name, long Step)? Armed = Parse(Environment.GetEnvironmentVariable(Variable));

    internal static void Reached(string name, long step)
    {
        if (Armed is { } armed && armed.Name == name && armed.Step == step)
        {
            Console.Error.WriteLine($"{Variable}: killing this process at '{name}' of step {step}");
            Process.GetCurrentProcess().Kill(); // SIGKILL: no finally blocks, no flushes, as kill -9
        }
    }

    private static (string, long)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        int at = value.LastIndexOf('@');
        string name = at < 0 ? "" : value[..at];
        if (name is not (ManifestWritten or Verified or LatestMoved)
            || !long.TryParse(value.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long step))
        {
            // A typo would silently test nothing: say so loudly.
            throw new InvalidOperationException(
                $"{Variable}='{value}' is not NAME@STEP with NAME one of {ManifestWritten}, {Verified}, {LatestMoved} (e.g. {ManifestWritten}@6).");
        }

        return (name, step);
    }
}
