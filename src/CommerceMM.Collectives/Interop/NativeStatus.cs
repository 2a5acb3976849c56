using System.Runtime.InteropServices;

namespace CommerceMM.Collectives.Interop;

/// <summary>The one place native statuses become <see cref="CollectiveException"/>s.</summary>
internal static class NativeStatus
{
    /// <param name="context">what was attempted, prefixed to the native message; null when that message already says it</param>
    internal static void Check(int status, string? context)
    {
        if (status == 0) return;
        string message = Marshal.PtrToStringUTF8(NativeMethods.cmm_last_error()) ?? "";
        var error = Enum.IsDefined(typeof(CollectiveError), status) ? (CollectiveError)status : CollectiveError.Internal;
        throw new CollectiveException(error, context is null ? message : $"{context}: {message}");
    }

    /// <summary>Milliseconds for the native timeouts, which must be positive.</summary>
    internal static long Millis(TimeSpan timeout) =>
        timeout > TimeSpan.Zero
            ? (long)Math.Min(Math.Ceiling(timeout.TotalMilliseconds), long.MaxValue / 2)
            : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "timeout must be positive");
}
