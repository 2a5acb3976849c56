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
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}
