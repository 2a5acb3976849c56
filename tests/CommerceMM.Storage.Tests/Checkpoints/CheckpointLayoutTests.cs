using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Storage.Tests.Checkpoints;

public sealed class CheckpointLayoutTests
{
    [Fact]
    public void Keys_ForJobAndStep_FollowTheDocumentedLayout()
    {
        Assert.Equal("j1/checkpoints/step-42/model.safetensors", CheckpointLayout.FileKey("j1", 42, "model.safetensors"));
        Assert.Equal("j1/checkpoints/step-42/manifest.json", CheckpointLayout.ManifestKey("j1", 42));
        Assert.Equal("j1/checkpoints/latest", CheckpointLayout.LatestKey("j1"));
    }

    [Theory]
    [InlineData("j1/checkpoints/step-42/a/b", true, 42, "a/b")]
    [InlineData("j1/checkpoints/step-0/x", true, 0, "x")]
    [InlineData("j1/checkpoints/latest", false, -1, "")]
    [InlineData("j1/checkpoints/step-042/x", false, -1, "")]
    [InlineData("j1/checkpoints/step-/x", false, -1, "")]
    [InlineData("j1/checkpoints/step-4x/x", false, -1, "")]
    [InlineData("j2/checkpoints/step-1/x", false, -1, "")]
    public void TryParse_Key_ExtractsStepAndPathOnlyForCanonicalFolders(string key, bool ok, long step, string path)
    {
        Assert.Equal(ok, CheckpointLayout.TryParse("j1", key, out long parsedStep, out string parsedPath));
        Assert.Equal(step, parsedStep);
        Assert.Equal(path, parsedPath);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("/abs")]
    public void ValidateJob_BadName_ThrowsNamingIt(string job)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => CheckpointLayout.ValidateJob(job));

        Assert.Contains($"'{job}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileKey_ManifestName_IsReserved() =>
        Assert.Throws<ArgumentException>(() => CheckpointLayout.FileKey("j", 1, "manifest.json"));
}
