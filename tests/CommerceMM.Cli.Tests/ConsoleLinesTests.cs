using CommerceMM.Cli.Hosting;

namespace CommerceMM.Cli.Tests;

/// <summary>Each console line leaves in one write, so lines of processes sharing one pipe never interleave mid-line.</summary>
public sealed class ConsoleLinesTests
{
    [Theory]
    [InlineData(300)]    // past .NET's 256-character console buffer
    [InlineData(4000)]   // near a pipe's atomic-write limit
    public void WriteLine_LongLine_LeavesInOneWrite(int chars)
    {
        var stream = new WriteRecordingStream();
        using var writer = ConsoleLines.Writer(stream);
        string line = new('x', chars);

        writer.WriteLine(line);
        writer.Write("partial ");
        writer.WriteLine("é");

        Assert.Equal([chars + 1, "partial ".Length, "é\n".Length + 1], stream.Writes);
    }

    [Fact]
    public void DotNetDefaultConsoleBuffer_SplitsTheSameLine_WhichIsWhyWeReplaceIt()
    {
        var stream = new WriteRecordingStream();
        using var writer = new StreamWriter(stream, bufferSize: 256, leaveOpen: true) { AutoFlush = true };

        writer.WriteLine(new string('x', 300));

        Assert.True(stream.Writes.Count > 1, $"{stream.Writes.Count} write(s)");
    }

    /// <summary>Counts the bytes of each write (a derived MemoryStream routes span writes here too).</summary>
    private sealed class WriteRecordingStream : MemoryStream
    {
        public List<int> Writes { get; } = [];

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(count);
            base.Write(buffer, offset, count);
        }
    }
}
