using System.Text;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Storage.Tests.Checkpoints;

public sealed class CheckpointManifestTests
{
    private static readonly string Sha = new('a', 64);

    [Fact]
    public void ToJsonBytes_ThenParse_RoundTripsAllFields()
    {
        CheckpointManifest manifest = CheckpointManifest.Create("job", 7, 2, 4, "cfg", "v1.2", [new("b.bin", 10, Sha, 1), new("a.bin", 5, Sha, 0)]);

        CheckpointManifest parsed = CheckpointManifest.Parse(manifest.ToJsonBytes());

        Assert.Equal(manifest with { Files = parsed.Files }, parsed);
        Assert.Equal(new[] { "a.bin", "b.bin" }, parsed.Files.Select(f => f.Path));
        Assert.Equal(15, parsed.TotalBytes);
        string json = Encoding.UTF8.GetString(manifest.ToJsonBytes());
        Assert.Contains("\"formatVersion\": 1", json, StringComparison.Ordinal);
        Assert.Contains("\"configHash\": \"cfg\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_DuplicatePath_ThrowsNamingIt()
    {
        CheckpointException e = Assert.Throws<CheckpointException>(() => CheckpointManifest.Create("job", 1, 0, 1, "c", "v", [new("x", 1, Sha, 0), new("x", 1, Sha, 0)]));

        Assert.Contains("'x' twice", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ABCDEF")]
    [InlineData("not-hex")]
    public void Create_BadSha256_Throws(string sha) =>
        Assert.Throws<CheckpointException>(() => CheckpointManifest.Create("job", 1, 0, 1, "c", "v", [new("x", 1, sha, 0)]));

    [Fact]
    public void Create_NoFiles_Throws() =>
        Assert.Throws<CheckpointException>(() => CheckpointManifest.Create("job", 1, 0, 1, "c", "v", []));

    [Fact]
    public void Parse_NotJson_ThrowsCheckpointException() =>
        Assert.Throws<CheckpointException>(() => CheckpointManifest.Parse("{ truncated"u8));
}
