using System.Text;

namespace CommerceMM.Cli.Hosting;

/// <summary>
/// Every line written to the console leaves the process in one write. .NET's console writers flush every 256
/// characters, so a longer line (a heartbeat with 14 losses) left in pieces, and the coordinator's and workers' lines,
/// which share `cmm train`'s output, interleaved mid-line. A write to a pipe of up to 4 KiB (PIPE_BUF) is atomic.
/// </summary>
internal static class ConsoleLines
{
    /// <summary>Longest line that still leaves in one write; longer ones are rare and may split.</summary>
    internal const int BufferChars = 64 * 1024;

    /// <summary>Replaces <see cref="Console.Out"/> and <see cref="Console.Error"/>; call before anything writes or logs.</summary>
    public static void WriteWholeLines()
    {
        Console.SetOut(Writer(Console.OpenStandardOutput()));
        Console.SetError(Writer(Console.OpenStandardError()));
    }

    /// <summary>Flushes after every Write and WriteLine, each of which fits its buffer whole.</summary>
    internal static StreamWriter Writer(Stream stream) =>
        new(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), BufferChars, leaveOpen: true) { AutoFlush = true };
}
