using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Tests.Blobs;

public sealed class BlobKeyTests
{
    [Theory]
    [InlineData("job")]
    [InlineData("job-1/checkpoints/step-100/model.safetensors")]
    [InlineData("a/b.c/d_e=f")]
    [InlineData("..hidden/x")]
    public void Validate_ValidKey_DoesNotThrow(string key)
    {
        BlobKey.Validate(key);
        Assert.True(BlobKey.IsValid(key));
    }

    [Theory]
    [InlineData("a/../b", "segment '..'")]
    [InlineData("./a", "segment '.'")]
    [InlineData("/etc/passwd", "absolute path")]
    [InlineData("a//b", "empty segment")]
    [InlineData("a/b/", "ends with '/'")]
    [InlineData("", "empty")]
    [InlineData("a\\..\\b", "'\\'")]
    [InlineData("é", "U+00E9")]
    [InlineData(".cmm-store/etags/x", "reserved")]
    public void Validate_InvalidKey_NamesKeyAndRule(string key, string rule)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => BlobKey.Validate(key));

        Assert.Contains($"'{key}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TooLong_Throws()
    {
        Assert.Throws<ArgumentException>(() => BlobKey.Validate(new string('a', BlobKey.MaxLength + 1)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("job/")]
    [InlineData("job/checkpoints/step-")]
    public void ValidatePrefix_PartialOrEmpty_DoesNotThrow(string prefix) => BlobKey.ValidatePrefix(prefix);

    [Theory]
    [InlineData("../")]
    [InlineData("/job")]
    [InlineData("a//")]
    public void ValidatePrefix_Invalid_Throws(string prefix) =>
        Assert.Throws<ArgumentException>(() => BlobKey.ValidatePrefix(prefix));

    [Fact]
    public void Combine_Segments_JoinsWithSlash()
    {
        Assert.Equal("job/checkpoints/latest", BlobKey.Combine("job", "checkpoints", "latest"));
        Assert.Throws<ArgumentException>(() => BlobKey.Combine("job", "..", "x"));
    }
}
