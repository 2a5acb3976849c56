using System.Security.Cryptography;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using global::Azure.Storage.Blobs.Models;
using global::Azure.Storage.Blobs.Specialized;
using BlobProperties = CommerceMM.Storage.Blobs.BlobProperties;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>
/// What the SDK-based store adds to the shared contract, against real Azurite: the chunked conditional-upload trap,
/// MD5 on uploads and downloads (on the wire and at rest), and reads pinned to one version.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureTransferTests(AzuriteFixture azurite) : IAsyncLifetime
{
    /// <summary>Several 64 KiB blocks (the fixture's block size).</summary>
    private const int Chunked = 5 * 64 * 1024 + 777;

    private AzureBlobStore? _store;

    private AzureBlobStore Store => _store!;

    public async Task InitializeAsync() => _store = await azurite.CreateStoreWithNewContainerAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task PutAsync_ChunkedCreateOnlyOnExistingKey_ConditionNotMetWithoutStagingABlock()
    {
        byte[] first = Bytes(Chunked, 1);
        BlobWriteResult existing = await Store.PutAsync("trap/create", new MemoryStream(first), BlobCondition.IfNoneMatchAny);

        BlobWriteResult second = await Store.PutAsync("trap/create", new MemoryStream(Bytes(Chunked, 2)), BlobCondition.IfNoneMatchAny);

        Assert.Equal(BlobWriteStatus.ConditionNotMet, second.Status);
        Assert.Empty(await UncommittedBlocksAsync("trap/create"));
        Assert.Equal(existing.ETag, (await Store.GetPropertiesAsync("trap/create"))!.ETag);
        Assert.Equal(SHA256.HashData(first), await HashAsync("trap/create"));
    }

    [Fact]
    public async Task PutAsync_ChunkedIfMatchStaleETag_ConditionNotMetWithoutStagingABlock()
    {
        BlobWriteResult v1 = await Store.PutAsync("trap/match", new MemoryStream(Bytes(Chunked, 1)));
        BlobWriteResult v2 = await Store.PutAsync("trap/match", new MemoryStream(Bytes(Chunked, 2)), BlobCondition.IfMatch(v1.ETag!));

        BlobWriteResult stale = await Store.PutAsync("trap/match", new NonSeekableStream(Bytes(Chunked, 3)), BlobCondition.IfMatch(v1.ETag!));

        Assert.Equal(BlobWriteStatus.ConditionNotMet, stale.Status);
        Assert.Empty(await UncommittedBlocksAsync("trap/match"));
        Assert.Equal(v2.ETag, (await Store.GetPropertiesAsync("trap/match"))!.ETag);
    }

    [Fact]
    public async Task PutAsync_ChunkedCreateOnlyLosesRaceMidUpload_ConditionNotMetWinnerIntactAndLeftoverBlocksInvisible()
    {
        byte[] loserBytes = Bytes(Chunked, 4);
        var gated = new GatedStream(loserBytes, gateAt: 128 * 1024);
        Task<BlobWriteResult> loser = Store.PutAsync("trap/race", gated, BlobCondition.IfNoneMatchAny);
        await gated.Reached; // the loser checked (absent) and has staged blocks
        byte[] winnerBytes = Bytes(Chunked + 1000, 5);
        BlobWriteResult winner = await Store.PutAsync("trap/race", new MemoryStream(winnerBytes), BlobCondition.IfNoneMatchAny);

        gated.Open();
        BlobWriteResult lost = await loser;

        Assert.True(winner.Succeeded);
        Assert.Equal(BlobWriteStatus.ConditionNotMet, lost.Status);
        BlobProperties listed = Assert.Single(await ListAsync("trap/"));
        Assert.Equal((winnerBytes.Length, winner.ETag), (listed.Size, listed.ETag));
        Assert.Equal(SHA256.HashData(winnerBytes), await HashAsync("trap/race"));
        // The loser's blocks are never committed; the blob's next commit discards whatever it left.
        BlobWriteResult next = await Store.PutAsync("trap/race", new MemoryStream(Bytes(Chunked, 6)), BlobCondition.IfMatch(winner.ETag!));
        Assert.True(next.Succeeded);
        Assert.Empty(await UncommittedBlocksAsync("trap/race"));
    }

    [Theory]
    [InlineData(1000, true)]
    [InlineData(Chunked, true)]
    [InlineData(Chunked, false)]
    [InlineData(0, false)]
    public async Task PutAsync_AnySizeAndStream_StoresTheWholeContentMd5(int size, bool seekable)
    {
        byte[] data = Bytes(size, 7);

        await Store.PutAsync("md5/blob", seekable ? new MemoryStream(data) : new NonSeekableStream(data));

        global::Azure.Storage.Blobs.Models.BlobProperties properties = (await Store.ContainerClient.GetBlobClient("md5/blob").GetPropertiesAsync()).Value;
        Assert.Equal(MD5.HashData(data), properties.ContentHash);
    }

    [Fact]
    public async Task PutAsync_BodyCorruptedOnTheWire_RefusedByTheServiceAndNothingWritten()
    {
        var corrupt = new CorruptingPolicy(responses: false, requests: true);
        AzureBlobStore store = azurite.CreateStore(Store.Container, o => o.PerRetryPolicy = corrupt);

        BlobStoreException single = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("wire/single", new MemoryStream(Bytes(1000, 8))));
        BlobStoreException chunked = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("wire/chunked", new MemoryStream(Bytes(Chunked, 9)), BlobCondition.IfNoneMatchAny));

        Assert.True(corrupt.Corrupted >= 2);
        Assert.Equal((400, "Md5Mismatch"), (single.Status, single.ErrorCode));
        Assert.Equal((400, "Md5Mismatch"), (chunked.Status, chunked.ErrorCode));
        Assert.Contains("'wire/single'", single.Message, StringComparison.Ordinal);
        Assert.Contains("'wire/chunked'", chunked.Message, StringComparison.Ordinal);
        Assert.Empty(await ListAsync("wire/"));
    }

    [Fact]
    public async Task OpenReadAsync_RangeCorruptedOnceOnTheWire_CaughtByMd5AndReadAgain()
    {
        byte[] data = Bytes(Chunked, 10);
        await Store.PutAsync("wire/once", new MemoryStream(data));
        var corrupt = new CorruptingPolicy(responses: true, requests: false, limit: 1);
        AzureBlobStore store = azurite.CreateStore(Store.Container, o => o.PerRetryPolicy = corrupt);

        await using BlobDownload? download = await store.OpenReadAsync("wire/once", new BlobRange(1000, 200_000));
        byte[] read = await SHA256.HashDataAsync(download!.Content);

        Assert.Equal(1, corrupt.Corrupted);
        Assert.Equal(SHA256.HashData(data.AsSpan(1000, 200_000)), read);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenReadAsync_BodyCorruptedOnEveryRead_ThrowsCorruptContentNamingTheKey(bool range)
    {
        await Store.PutAsync("wire/always", new MemoryStream(Bytes(Chunked, 15)));
        var corrupt = new CorruptingPolicy(responses: true, requests: false);
        AzureBlobStore store = azurite.CreateStore(Store.Container, o => o.PerRetryPolicy = corrupt);

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(async () =>
        {
            await using BlobDownload? download = await store.OpenReadAsync("wire/always", range ? new BlobRange(1000, 200_000) : null);
            await download!.Content.CopyToAsync(Stream.Null);
        });

        Assert.True(corrupt.Corrupted >= 2);
        Assert.True(e.IsCorruptContent);
        Assert.Contains("'wire/always'", e.Message, StringComparison.Ordinal);
        Assert.Contains("failed MD5 validation", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task OpenReadAsync_WholeBlobCorruptedOnceOnTheWire_EndsWithTransientErrorAndTheNextReadSucceeds(int cleanRangesFirst)
    {
        byte[] data = Bytes((2 << 20) + 99, 16); // three ranges of the fixture's 1 MiB
        await Store.PutAsync("wire/whole", new MemoryStream(data));
        var corrupt = new CorruptingPolicy(responses: true, requests: false, limit: 1, skip: cleanRangesFirst);
        AzureBlobStore store = azurite.CreateStore(Store.Container, o => o.PerRetryPolicy = corrupt);

        var received = new MemoryStream();
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(async () =>
        {
            await using BlobDownload? download = await store.OpenReadAsync("wire/whole");
            await download!.Content.CopyToAsync(received);
        });

        // The whole-blob MD5 differed at the end; a second read matched the stored MD5: the blob is sound, read it again.
        Assert.Equal(1, corrupt.Corrupted);
        Assert.Equal(("TransferMd5Mismatch", true, false), (e.ErrorCode, e.IsTransient, e.IsCorruptContent));
        Assert.Contains("'wire/whole'", e.Message, StringComparison.Ordinal);
        Assert.NotEqual(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
        await using BlobDownload? again = await store.OpenReadAsync("wire/whole");
        Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(again!.Content));
    }

    [Fact]
    public async Task OpenReadAsync_BlobCorruptedAtRest_ThrowsCorruptContentNamingTheKeyInsteadOfTheEnd()
    {
        byte[] data = Bytes(Chunked, 11);
        await Store.PutAsync("rest/blob", new MemoryStream(data));
        azurite.Server.FlipStoredByte(data[..64]);

        await using BlobDownload? download = await Store.OpenReadAsync("rest/blob");
        var received = new MemoryStream();
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => download!.Content.CopyToAsync(received));

        // Each range's own MD5 agrees with the rotten bytes the service holds; only the blob's stored Content-MD5 tells.
        Assert.True(e.IsCorruptContent);
        Assert.False(e.IsTransient);
        Assert.Contains("'rest/blob'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"stored Content-MD5 is {Convert.ToHexStringLower(MD5.HashData(data))}", e.Message, StringComparison.Ordinal);
        Assert.NotEqual(data, received.ToArray());
    }

    [Fact]
    public async Task OpenReadAsync_ExpectedSha256Given_ChecksItInPlaceOfTheStoredMd5()
    {
        byte[] data = Bytes(Chunked, 17);
        await Store.PutAsync("sha/instead", new MemoryStream(data));
        // A wrong stored Content-MD5 on sound bytes: a read that consulted the MD5 would fail.
        await Store.ContainerClient.GetBlobClient("sha/instead")
            .SetHttpHeadersAsync(new BlobHttpHeaders { ContentHash = MD5.HashData(Bytes(64, 18)) });

        await using BlobDownload? bySha = await Store.OpenReadAsync("sha/instead", expectedSha256: Convert.ToHexStringLower(SHA256.HashData(data)));
        Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(bySha!.Content));

        await using BlobDownload? byMd5 = await Store.OpenReadAsync("sha/instead");
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => byMd5!.Content.CopyToAsync(Stream.Null));
        Assert.Contains("failed MD5 validation", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_ExpectedSha256AndCorruptedOnceOnTheWire_EndsWithTransientErrorAndTheNextReadSucceeds()
    {
        byte[] data = Bytes((2 << 20) + 99, 19);
        string sha = Convert.ToHexStringLower(SHA256.HashData(data));
        await Store.PutAsync("sha/wire", new MemoryStream(data));
        var corrupt = new CorruptingPolicy(responses: true, requests: false, limit: 1, skip: 1);
        AzureBlobStore store = azurite.CreateStore(Store.Container, o => o.PerRetryPolicy = corrupt);

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(async () =>
        {
            await using BlobDownload? download = await store.OpenReadAsync("sha/wire", expectedSha256: sha);
            await download!.Content.CopyToAsync(Stream.Null);
        });

        Assert.Equal(1, corrupt.Corrupted);
        Assert.Equal(("TransferSha256Mismatch", true, false), (e.ErrorCode, e.IsTransient, e.IsCorruptContent));
        Assert.Contains("'sha/wire'", e.Message, StringComparison.Ordinal);
        await using BlobDownload? again = await store.OpenReadAsync("sha/wire", expectedSha256: sha);
        Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(again!.Content));
    }

    [Fact]
    public async Task OpenReadAsync_ExpectedSha256AndRottedAtRest_SaysTheStoredBytesAreCorrupt()
    {
        byte[] data = Bytes(Chunked, 20);
        await Store.PutAsync("sha/rest", new MemoryStream(data));
        azurite.Server.FlipStoredByte(data[..64]);

        await using BlobDownload? download = await Store.OpenReadAsync("sha/rest", expectedSha256: Convert.ToHexStringLower(SHA256.HashData(data)));
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => download!.Content.CopyToAsync(Stream.Null));

        // The second read's MD5 against the stored Content-MD5 tells rot at rest from a blob that holds other bytes.
        Assert.True(e.IsCorruptContent);
        Assert.Contains("'sha/rest'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"stored Content-MD5 is {Convert.ToHexStringLower(MD5.HashData(data))}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_BlobOverwrittenWhileBeingRead_ThrowsInsteadOfMixingVersions()
    {
        // Ranges still to be requested after the overwrite: more than 4 (in flight) x 1 MiB (the fixture's range) beyond the first.
        int size = 8 << 20;
        await Store.PutAsync("pin/blob", new MemoryStream(Bytes(size, 12)));
        await using BlobDownload? download = await Store.OpenReadAsync("pin/blob");
        byte[] head = new byte[64 * 1024];
        await download!.Content.ReadExactlyAsync(head);

        await Store.PutAsync("pin/blob", new MemoryStream(Bytes(size, 13)));
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => download.Content.CopyToAsync(Stream.Null));

        Assert.Equal(412, e.Status);
        Assert.Contains("'pin/blob'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_LargeBlobInParallelRanges_ReadsExactBytesAndRangesAnywhere()
    {
        byte[] data = Bytes((3 << 20) + 5, 14);
        await Store.PutAsync("big/blob", new NonSeekableStream(data));

        await using BlobDownload? whole = await Store.OpenReadAsync("big/blob");
        await using BlobDownload? middle = await Store.OpenReadAsync("big/blob", new BlobRange(1_000_003, 1_500_000));

        Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(whole!.Content));
        Assert.Equal(SHA256.HashData(data.AsSpan(1_000_003, 1_500_000)), await SHA256.HashDataAsync(middle!.Content));
        Assert.Equal(data.Length, middle.Properties.Size);
    }

    private async Task<IReadOnlyList<BlobBlock>> UncommittedBlocksAsync(string key)
    {
        BlockList list = (await Store.ContainerClient.GetBlockBlobClient(key).GetBlockListAsync(BlockListTypes.Uncommitted)).Value;
        return list.UncommittedBlocks.ToList();
    }

    private async Task<byte[]> HashAsync(string key)
    {
        await using BlobDownload? download = await Store.OpenReadAsync(key);
        return await SHA256.HashDataAsync(download!.Content);
    }

    private async Task<List<BlobProperties>> ListAsync(string prefix)
    {
        var list = new List<BlobProperties>();
        await foreach (BlobProperties p in Store.ListAsync(prefix))
        {
            list.Add(p);
        }

        return list;
    }

    private static byte[] Bytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(1000 + seed).NextBytes(bytes); // seeds no other test uses: the at-rest test finds its blob by its bytes
        return bytes;
    }
}
