// The storage benchmark's program: built by tools/bench/storage/run in a throwaway folder outside the repository,
// against this checkout's CommerceMM.Storage (Azure.Storage.Blobs) and the old hand-written client from git history
// (referenced under the extern alias "old"). Not part of the solution.
extern alias old;

using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Benchmarks;
using OldAzure = old::CommerceMM.Storage.Azure;

var settings = Args.Parse(args);
var endpoint = new Uri(settings["endpoint"]);
int sizeMb = int.Parse(settings["size-mb"], CultureInfo.InvariantCulture);
int rounds = int.Parse(settings["rounds"], CultureInfo.InvariantCulture);
int blockMb = int.Parse(settings["block-mb"], CultureInfo.InvariantCulture);
int parallel = int.Parse(settings["parallel"], CultureInfo.InvariantCulture);
// A real checkpoint file (--payload FILE), or incompressible random bytes of --size-mb, like trained weights.
byte[] payload = settings.TryGetValue("payload", out string? payloadFile) && payloadFile.Length > 0
    ? File.ReadAllBytes(payloadFile)
    : StorageThroughput.Payload(sizeMb << 20);

var sdk = new AzureBlobStore(new AzureBlobStoreOptions
{
    ServiceUri = endpoint,
    Container = "bench-sdk",
    SharedKey = new Azure.Storage.StorageSharedKeyCredential(AzureStorageConnectionString.DevelopmentAccountName, AzureStorageConnectionString.DevelopmentAccountKey),
    BlockSize = blockMb << 20,
    MaxParallelBlocks = parallel,
});
await sdk.CreateContainerIfNotExistsAsync();

// The same SDK without our checks: what the transport alone does (no MD5 on either side, no conditions, no probes).
var raw = new Azure.Storage.Blobs.BlobServiceClient(
    endpoint,
    new Azure.Storage.StorageSharedKeyCredential(AzureStorageConnectionString.DevelopmentAccountName, AzureStorageConnectionString.DevelopmentAccountKey),
    new Azure.Storage.Blobs.BlobClientOptions(AzureBlobStoreOptions.ServiceVersion)).GetBlobContainerClient("bench-sdk");
var rawTarget = new TransferTarget(
    "sdk-no-md5",
    async (key, content, ct) => await raw.GetBlobClient(key).UploadAsync(
        content,
        new Azure.Storage.Blobs.Models.BlobUploadOptions
        {
            TransferOptions = new Azure.Storage.StorageTransferOptions { InitialTransferSize = blockMb << 20, MaximumTransferSize = blockMb << 20, MaximumConcurrency = parallel },
            TransferValidation = new Azure.Storage.UploadTransferValidationOptions { ChecksumAlgorithm = Azure.Storage.StorageChecksumAlgorithm.None },
        },
        ct),
    async (key, buffer, ct) =>
    {
        var response = await raw.GetBlobClient(key).DownloadStreamingAsync(
            new Azure.Storage.Blobs.Models.BlobDownloadOptions
            {
                TransferValidation = new Azure.Storage.DownloadTransferValidationOptions { ChecksumAlgorithm = Azure.Storage.StorageChecksumAlgorithm.None },
            },
            ct);
        await using Stream content = response.Value.Content;
        return await TransferTarget.ReadAllAsync(content, buffer, ct);
    },
    async (key, ct) => await raw.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: ct));

var legacy = new OldAzure.AzureBlobStore(new OldAzure.AzureBlobStoreOptions
{
    ServiceUri = endpoint,
    Container = "bench-old",
    SharedKey = new OldAzure.StorageSharedKeyCredential(AzureStorageConnectionString.DevelopmentAccountName, AzureStorageConnectionString.DevelopmentAccountKey),
    BlockSize = blockMb << 20,
    MaxParallelBlocks = parallel,
});
await legacy.CreateContainerIfNotExistsAsync();
var oldTarget = new TransferTarget(
    "old-client",
    async (key, content, ct) =>
    {
        var written = await legacy.PutAsync(key, content, default, ct);
        if (!written.Succeeded)
        {
            throw new InvalidOperationException($"old-client: writing '{key}' was refused.");
        }
    },
    async (key, buffer, ct) =>
    {
        await using var download = await legacy.OpenReadAsync(key, null, ct) ?? throw new InvalidOperationException($"old-client: '{key}' is missing.");
        return await TransferTarget.ReadAllAsync(download.Content, buffer, ct);
    },
    async (key, ct) => await legacy.DeleteAsync(key, ct));

// A checkpoint's files are read against the manifest's SHA-256. The old client had no checks of its own; the checkpoint
// code hashed what it read as it read it (CheckpointVerifier: SHA256.HashDataAsync over the stream). The SDK store checks
// that digest itself, in place of its MD5. These two targets compare the verified read a restore makes.
string payloadSha256 = Convert.ToHexStringLower(SHA256.HashData(payload));
var oldVerifiedTarget = oldTarget with
{
    Name = "old-sha256",
    Download = async (key, buffer, ct) =>
    {
        await using var download = await legacy.OpenReadAsync(key, null, ct) ?? throw new InvalidOperationException($"old-sha256: '{key}' is missing.");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int total = 0;
        for (int n; (n = await download.Content.ReadAsync(buffer[total..], ct)) > 0; total += n)
        {
            sha.AppendData(buffer.Span.Slice(total, n));
        }

        string actual = Convert.ToHexStringLower(sha.GetCurrentHash());
        return actual == payloadSha256 ? total : throw new InvalidDataException($"old-sha256: '{key}' has SHA-256 {actual}, expected {payloadSha256}.");
    },
};

Console.WriteLine($"payload {(payloadFile is { Length: > 0 } ? $"{payloadFile} ({payload.Length:N0} bytes)" : $"{sizeMb} MiB of random bytes")}, {rounds} rounds, blocks {blockMb} MiB x {parallel} in flight, Azurite at {endpoint.Authority}");
IReadOnlyList<ThroughputResult> results = await StorageThroughput.MeasureAsync(
    [TransferTarget.For("sdk", sdk), oldTarget, rawTarget, TransferTarget.For("sdk-sha256", sdk, payloadSha256), oldVerifiedTarget], payload, rounds, "bench", Console.WriteLine);

ThroughputResult s = results.Single(r => r.Name == "sdk");
ThroughputResult o = results.Single(r => r.Name == "old-client");
ThroughputResult n = results.Single(r => r.Name == "sdk-no-md5");
ThroughputResult sv = results.Single(r => r.Name == "sdk-sha256");
ThroughputResult ov = results.Single(r => r.Name == "old-sha256");
Console.WriteLine();
Console.WriteLine($"{"client",-12} {"upload MB/s (median)",22} {"download MB/s (median)",24}");
foreach (ThroughputResult r in results)
{
    Console.WriteLine($"{r.Name,-12} {r.MedianUploadMBps,22:F1} {r.MedianDownloadMBps,24:F1}");
}

Console.WriteLine($"{"sdk / old",-12} {s.MedianUploadMBps / o.MedianUploadMBps,22:F2} {s.MedianDownloadMBps / o.MedianDownloadMBps,24:F2}");
Console.WriteLine($"{"no-md5 / old",-12} {n.MedianUploadMBps / o.MedianUploadMBps,22:F2} {n.MedianDownloadMBps / o.MedianDownloadMBps,24:F2}");
Console.WriteLine($"{"verified",-12} {sv.MedianUploadMBps / ov.MedianUploadMBps,22:F2} {sv.MedianDownloadMBps / ov.MedianDownloadMBps,24:F2}   (sdk-sha256 / old-sha256: a checkpoint file's read)");
Console.WriteLine("sdk: AzureBlobStore (MD5 on every upload request and on the whole download); old-client: no checksums; sdk-no-md5: the SDK alone;");
Console.WriteLine("sdk-sha256: AzureBlobStore reading against the payload's SHA-256 (in place of MD5); old-sha256: the old client, hashed as read.");
if (settings.TryGetValue("json", out string? json))
{
    File.WriteAllText(json, JsonSerializer.Serialize(new
    {
        payloadBytes = payload.Length,
        payloadFile,
        rounds,
        blockBytes = blockMb << 20,
        parallelBlocks = parallel,
        results = results.Select(r => new { r.Name, r.MedianUploadMBps, r.MedianDownloadMBps, r.UploadMBps, r.DownloadMBps }),
        uploadRatio = s.MedianUploadMBps / o.MedianUploadMBps,
        downloadRatio = s.MedianDownloadMBps / o.MedianDownloadMBps,
        noMd5UploadRatio = n.MedianUploadMBps / o.MedianUploadMBps,
        noMd5DownloadRatio = n.MedianDownloadMBps / o.MedianDownloadMBps,
        verifiedUploadRatio = sv.MedianUploadMBps / ov.MedianUploadMBps,
        verifiedDownloadRatio = sv.MedianDownloadMBps / ov.MedianDownloadMBps,
    }));
}

internal static class Args
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            settings[args[i].TrimStart('-')] = args[i + 1];
        }

        return settings;
    }
}
