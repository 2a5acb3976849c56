using System.Security.Cryptography;
using System.Text;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Tests.Blobs;

/// <summary>
/// The behaviour every <see cref="IBlobStore"/> must share; each store has a subclass. Every test works under its own
/// random prefix, so subclasses may share one container or root and tests may run in parallel.
/// </summary>
public abstract class BlobStoreContractTests
{
    /// <summary>Bytes for the multi-block test: subclasses configure their store so this needs several blocks.</summary>
    protected const int LargeBlobSize = (1 << 20) + 12345;

    private readonly string _prefix = $"t-{Guid.NewGuid():N}/";

    protected abstract IBlobStore Store { get; }

    protected string Key(string name) => _prefix + name;

    [Fact]
    public async Task PutAsync_IfNoneMatchAnyOnAbsentKey_WritesAndReturnsETag()
    {
        BlobWriteResult result = await PutTextAsync("a.txt", "hello", BlobCondition.IfNoneMatchAny);

        Assert.True(result.Succeeded);
        Assert.False(string.IsNullOrEmpty(result.ETag));
        Assert.Equal("hello", await ReadTextAsync("a.txt"));
    }

    [Fact]
    public async Task PutAsync_IfNoneMatchAnyOnExistingKey_ReturnsConditionNotMetAndKeepsContent()
    {
        await PutTextAsync("a.txt", "first", BlobCondition.IfNoneMatchAny);

        BlobWriteResult second = await PutTextAsync("a.txt", "second", BlobCondition.IfNoneMatchAny);

        Assert.Equal(BlobWriteStatus.ConditionNotMet, second.Status);
        Assert.Null(second.ETag);
        Assert.Equal("first", await ReadTextAsync("a.txt"));
    }

    [Fact]
    public async Task PutAsync_IfMatchCurrentETag_ReplacesAndIssuesNewETag()
    {
        BlobWriteResult first = await PutTextAsync("p", "v1");

        BlobWriteResult second = await PutTextAsync("p", "v2", BlobCondition.IfMatch(first.ETag!));

        Assert.True(second.Succeeded);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal("v2", await ReadTextAsync("p"));
        Assert.Equal(second.ETag, (await Store.GetPropertiesAsync(Key("p")))!.ETag);
    }

    [Fact]
    public async Task PutAsync_IfMatchStaleETag_ReturnsConditionNotMetAndKeepsContent()
    {
        BlobWriteResult first = await PutTextAsync("p", "v1");
        await PutTextAsync("p", "v2", BlobCondition.IfMatch(first.ETag!));

        BlobWriteResult stale = await PutTextAsync("p", "v3", BlobCondition.IfMatch(first.ETag!));

        Assert.Equal(BlobWriteStatus.ConditionNotMet, stale.Status);
        Assert.Equal("v2", await ReadTextAsync("p"));
    }

    [Fact]
    public async Task PutAsync_IfMatchOnAbsentKey_ReturnsConditionNotMet()
    {
        BlobWriteResult first = await PutTextAsync("other", "x");

        BlobWriteResult result = await PutTextAsync("absent", "y", BlobCondition.IfMatch(first.ETag!));

        Assert.Equal(BlobWriteStatus.ConditionNotMet, result.Status);
        Assert.Null(await Store.GetPropertiesAsync(Key("absent")));
    }

    [Fact]
    public async Task PutAsync_SameBytesTwice_IssuesDifferentETags()
    {
        BlobWriteResult first = await PutTextAsync("same", "bytes");
        BlobWriteResult second = await PutTextAsync("same", "bytes");

        Assert.NotEqual(first.ETag, second.ETag);
    }

    [Fact]
    public async Task PutAsync_EmptyContent_WritesZeroByteBlob()
    {
        await PutTextAsync("empty", "");

        BlobProperties? properties = await Store.GetPropertiesAsync(Key("empty"));

        Assert.Equal(0, properties!.Size);
        Assert.Equal("", await ReadTextAsync("empty"));
    }

    [Fact]
    public async Task PutAsync_ConcurrentCreates_ExactlyOneWins()
    {
        BlobWriteResult[] results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => PutTextAsync("race", $"writer {i}", BlobCondition.IfNoneMatchAny)));

        Assert.Single(results, r => r.Succeeded);
        int winner = Array.FindIndex(results, r => r.Succeeded);
        Assert.Equal($"writer {winner}", await ReadTextAsync("race"));
    }

    [Fact]
    public async Task PutAsync_ConcurrentIfMatchIncrements_LoseNoUpdate()
    {
        await PutTextAsync("counter", "0");

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IncrementAsync(Store, Key("counter"), times: 4)));

        Assert.Equal("12", await ReadTextAsync("counter"));
    }

    [Fact]
    public async Task PutAsync_LargeContent_RoundTripsInSeveralBlocks()
    {
        byte[] data = RandomBytes(LargeBlobSize, seed: 7);

        BlobWriteResult result = await Store.PutAsync(Key("large.bin"), new MemoryStream(data), BlobCondition.IfNoneMatchAny);

        Assert.True(result.Succeeded);
        await using BlobDownload? download = await Store.OpenReadAsync(Key("large.bin"));
        Assert.Equal(LargeBlobSize, download!.Properties.Size);
        Assert.Equal(result.ETag, download.Properties.ETag);
        Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(download.Content));
    }

    [Fact]
    public async Task PutAsync_NonSeekableStream_WritesAllBytes()
    {
        byte[] data = RandomBytes(LargeBlobSize, seed: 9);

        await Store.PutAsync(Key("pipe.bin"), new NonSeekableStream(data));

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await ReadBytesAsync("pipe.bin")));
    }

    [Theory]
    [InlineData(0, 10L, "0123456789")]
    [InlineData(5, 3L, "567")]
    [InlineData(20, null, "KLMNOPQRSTUVWXYZ")]
    [InlineData(30, 100L, "UVWXYZ")]
    [InlineData(36, null, "")]
    [InlineData(50, 5L, "")]
    public async Task OpenReadAsync_Range_ReturnsBytesClippedToBlob(long offset, long? length, string expected)
    {
        await PutTextAsync("range", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");

        await using BlobDownload? download = await Store.OpenReadAsync(Key("range"), new BlobRange(offset, length));

        Assert.Equal(expected, await new StreamReader(download!.Content).ReadToEndAsync());
        Assert.Equal(36, download.Properties.Size);
    }

    [Fact]
    public async Task OpenReadAsync_ExpectedSha256Matches_ReadsEveryByteToACleanEnd()
    {
        byte[] data = RandomBytes(LargeBlobSize, seed: 21);
        await Store.PutAsync(Key("sha/good"), new MemoryStream(data));

        await using BlobDownload? download = await Store.OpenReadAsync(Key("sha/good"), expectedSha256: Convert.ToHexStringLower(SHA256.HashData(data)));
        var received = new MemoryStream();
        await download!.Content.CopyToAsync(received);

        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public async Task OpenReadAsync_ExpectedSha256Differs_EndsWithCorruptContentNamingKeyAndBothDigests()
    {
        byte[] data = RandomBytes(LargeBlobSize, seed: 22);
        await Store.PutAsync(Key("sha/other"), new MemoryStream(data));
        string expected = Convert.ToHexStringLower(SHA256.HashData(RandomBytes(LargeBlobSize, seed: 23)));

        await using BlobDownload? download = await Store.OpenReadAsync(Key("sha/other"), expectedSha256: expected);
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => download!.Content.CopyToAsync(Stream.Null));

        // A sound blob that holds other bytes than the reader expects: reading it again will not help.
        Assert.True(e.IsCorruptContent);
        Assert.False(e.IsTransient);
        Assert.StartsWith($"SHA-256 expected {expected} but found {Convert.ToHexStringLower(SHA256.HashData(data))}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{Key("sha/other")}'", e.Message, StringComparison.Ordinal);
        Assert.Same(e, await Assert.ThrowsAsync<BlobStoreException>(() => download!.Content.ReadAsync(new byte[1]).AsTask()));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public async Task OpenReadAsync_ExpectedSha256Malformed_ThrowsNamingTheValue(string bad)
    {
        await PutTextAsync("sha/bad", "x");

        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(Key("sha/bad"), expectedSha256: bad));

        Assert.Equal("expectedSha256", e.ParamName);
        Assert.Contains($"'{bad}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_ExpectedSha256WithARange_ThrowsBecauseTheDigestIsOfTheWholeBlob()
    {
        await PutTextAsync("sha/range", "0123456789");

        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(
            () => Store.OpenReadAsync(Key("sha/range"), new BlobRange(2, 3), Convert.ToHexStringLower(SHA256.HashData("234"u8))));

        Assert.Equal("expectedSha256", e.ParamName);
    }

    [Fact]
    public async Task OpenReadAsync_AbsentKey_ReturnsNull()
    {
        Assert.Null(await Store.OpenReadAsync(Key("nothing")));
        Assert.Null(await Store.OpenReadAsync(Key("nothing"), new BlobRange(3)));
    }

    [Fact]
    public async Task GetPropertiesAsync_AfterWrite_ReportsSizeAndETag()
    {
        BlobWriteResult written = await PutTextAsync("props", "twelve bytes");

        BlobProperties? properties = await Store.GetPropertiesAsync(Key("props"));

        Assert.Equal(Key("props"), properties!.Key);
        Assert.Equal(12, properties.Size);
        Assert.Equal(written.ETag, properties.ETag);
    }

    [Fact]
    public async Task ListAsync_Prefix_ReturnsMatchingKeysInOrdinalOrder()
    {
        foreach (string name in new[] { "job/step-10/b", "job/step-1/a", "job/step-2/a", "job/latest", "other/x" })
        {
            await PutTextAsync(name, name);
        }

        List<BlobProperties> stepOne = await ListAsync(Key("job/step-1"));
        List<BlobProperties> job = await ListAsync(Key("job/"));

        Assert.Equal(new[] { Key("job/step-1/a"), Key("job/step-10/b") }, stepOne.Select(p => p.Key));
        Assert.Equal(new[] { Key("job/latest"), Key("job/step-1/a"), Key("job/step-10/b"), Key("job/step-2/a") }, job.Select(p => p.Key));
        Assert.Equal("job/latest".Length, job[0].Size);
    }

    [Fact]
    public async Task ListAsync_NothingUnderPrefix_ReturnsEmpty()
    {
        Assert.Empty(await ListAsync(Key("none/")));
    }

    [Fact]
    public async Task DeleteAsync_ExistingKey_RemovesItAndReturnsTrue()
    {
        await PutTextAsync("dir/gone", "x");
        await PutTextAsync("dir/kept", "y");

        bool deleted = await Store.DeleteAsync(Key("dir/gone"));

        Assert.True(deleted);
        Assert.Null(await Store.GetPropertiesAsync(Key("dir/gone")));
        Assert.Equal(new[] { Key("dir/kept") }, (await ListAsync(Key("dir/"))).Select(p => p.Key));
    }

    [Fact]
    public async Task DeleteAsync_AbsentKey_ReturnsFalse()
    {
        Assert.False(await Store.DeleteAsync(Key("never")));
    }

    [Fact]
    public async Task PutAsync_AfterDelete_IfNoneMatchAnySucceedsAgain()
    {
        await PutTextAsync("again", "1");
        await Store.DeleteAsync(Key("again"));

        BlobWriteResult result = await PutTextAsync("again", "2", BlobCondition.IfNoneMatchAny);

        Assert.True(result.Succeeded);
        Assert.Equal("2", await ReadTextAsync("again"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs/key")]
    [InlineData("a/../b")]
    [InlineData("..")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData("has space")]
    [InlineData(".cmm-store/locks/00.lock")]
    public async Task AllOperations_InvalidKey_ThrowArgumentExceptionNamingTheKey(string key)
    {
        ArgumentException put = await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new MemoryStream()));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetPropertiesAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key));

        Assert.Contains($"'{key}'", put.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_PrefixWithDotDot_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => ListAsync("a/../"));
    }

    protected Task<BlobWriteResult> PutTextAsync(string name, string text, BlobCondition condition = default) =>
        Store.PutAsync(Key(name), new MemoryStream(Encoding.UTF8.GetBytes(text)), condition);

    protected async Task<string> ReadTextAsync(string name) => Encoding.UTF8.GetString(await ReadBytesAsync(name));

    protected async Task<byte[]> ReadBytesAsync(string name)
    {
        await using BlobDownload? download = await Store.OpenReadAsync(Key(name));
        Assert.NotNull(download);
        using var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    protected async Task<List<BlobProperties>> ListAsync(string prefix)
    {
        var list = new List<BlobProperties>();
        await foreach (BlobProperties p in Store.ListAsync(prefix))
        {
            list.Add(p);
        }

        return list;
    }

    /// <summary>Adds one to a decimal counter blob <paramref name="times"/> times with read / If-Match write / retry-on-conflict.</summary>
    protected static async Task IncrementAsync(IBlobStore store, string key, int times)
    {
        for (int done = 0; done < times;)
        {
            string text;
            string etag;
            await using (BlobDownload? download = await store.OpenReadAsync(key))
            {
                text = await new StreamReader(download!.Content).ReadToEndAsync();
                etag = download.Properties.ETag;
            }

            string next = (int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if ((await store.PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(next)), BlobCondition.IfMatch(etag))).Succeeded)
            {
                done++;
            }
        }
    }

    protected static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
