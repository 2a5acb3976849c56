using System.Globalization;
using System.Text.RegularExpressions;

namespace CommerceMM.Cli.Tests;

/// <summary>A data build stopped part-way says what it left, and the next build of the folder finishes.</summary>
public class DataBuildInterruptTests
{
    [Fact]
    public void DataBuild_SignalledWhileWritingShards_SaysTheFolderIsUnfinished_AndTheNextBuildCompletesIt()
    {
        string output = Path.Combine(Path.GetTempPath(), $"cmm-interrupted-{Guid.NewGuid():N}");
        try
        {
            // All 60,000 products: long enough (about 10 s here) to be stopped while the shards are written.
            using (var interrupted = new CmmProcess("data", "build", "fashion", "--out", output))
            {
                Assert.True(interrupted.WaitForLine("Train:", TimeSpan.FromMinutes(2)), interrupted.Output);
                interrupted.Terminate();
                Assert.Equal(130, interrupted.WaitForExit(TimeSpan.FromMinutes(1)));
                Assert.Contains($"cmm: data build interrupted; '{output}' holds an unfinished data set (no dataset.json)", interrupted.Output);
                Assert.DoesNotContain("   at ", interrupted.Output);
            }
            Assert.False(File.Exists(Path.Combine(output, "dataset.json")));

            using var again = new CmmProcess("data", "build", "fashion", "--out", output, "--limit", "40", "--eval-limit", "20", "--vocab", "120");
            Assert.Equal(0, again.WaitForExit(TimeSpan.FromMinutes(2)));
            Assert.True(File.Exists(Path.Combine(output, "dataset.json")), again.Output);
            Assert.False(File.Exists(Path.Combine(output, "tokenizer-corpus.txt")));
            AssertProgressInOrder(again.Output);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Each stage's lines count up, a stage left is never seen again, and none comes after the summary.</summary>
    private static void AssertProgressInOrder(string output)
    {
        var seen = new List<string>();
        long lastDone = -1;
        bool summarised = false;
        foreach (string line in output.Split('\n'))
        {
            var bar = Regex.Match(line, @"^(\w+): +\d+ % \(([\d,]+)/[\d,]+\)");
            if (!bar.Success)
            {
                summarised |= line.Contains(" MiB in ", StringComparison.Ordinal);
                continue;
            }
            Assert.False(summarised, $"a progress line after the summary: '{line}' in\n{output}");
            string stage = bar.Groups[1].Value;
            long done = long.Parse(bar.Groups[2].Value.Replace(",", ""), CultureInfo.InvariantCulture);
            if (seen.Count == 0 || seen[^1] != stage)
            {
                Assert.DoesNotContain(stage, seen);
                seen.Add(stage);
                lastDone = -1;
            }
            Assert.True(done >= lastDone, $"'{line}' went back from {lastDone} in\n{output}");
            lastDone = done;
        }
        Assert.True(summarised, output);
        Assert.Equal(["Reading", "Train", "Eval", "Tokenizer", "Manifest", "Done"], seen);
    }
}
