using System.Diagnostics;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Benchmarks;

/// <summary>One way to move a payload to a store and back: an <see cref="IBlobStore"/>, or any other client (an older one, for comparison).</summary>
/// <param name="Name">Shown in results.</param>
/// <param name="Upload">Writes the bytes as the key (from a seekable stream, as the checkpoint writer does).</param>
/// <param name="Download">Reads the key's bytes into the buffer; returns how many were read.</param>
/// <param name="Delete">Removes the key.</param>
public sealed record TransferTarget(
    string Name,
    Func<string, Stream, CancellationToken, Task> Upload,
    Func<string, Memory<byte>, CancellationToken, Task<int>> Download,
    Func<string, CancellationToken, Task> Delete)
{
    /// <summary>A target for any <see cref="IBlobStore"/>; with <paramref name="expectedSha256"/> its reads are checked against it, as a checkpoint's are.</summary>
    public static TransferTarget For(string name, IBlobStore store, string? expectedSha256 = null) => new(
        name,
        async (key, content, ct) =>
        {
            BlobWriteResult result = await store.PutAsync(key, content, BlobCondition.None, ct).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"{name}: writing '{key}' was refused ({result.Status}).");
            }
        },
        async (key, buffer, ct) =>
        {
            await using BlobDownload download = await store.OpenReadAsync(key, expectedSha256: expectedSha256, cancellationToken: ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{name}: '{key}' is missing after the upload.");
            return await ReadAllAsync(download.Content, buffer, ct).ConfigureAwait(false);
        },
        (key, ct) => store.DeleteAsync(key, ct));

    /// <summary>Reads the stream to its end into <paramref name="buffer"/>; throws if it holds more.</summary>
    public static async Task<int> ReadAllAsync(Stream content, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                byte[] probe = new byte[1];
                return await content.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0
                    ? total
                    : throw new InvalidOperationException($"The download holds more than the {buffer.Length} bytes uploaded.");
            }

            int n = await content.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return total;
            }

            total += n;
        }
    }
}

/// <summary>Medians (and every round) of one target's upload and download throughput, in MB/s (10^6 bytes per second).</summary>
public sealed record ThroughputResult(string Name, long Bytes, IReadOnlyList<double> UploadMBps, IReadOnlyList<double> DownloadMBps)
{
    public double MedianUploadMBps => Median(UploadMBps);

    public double MedianDownloadMBps => Median(DownloadMBps);

    public static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// Upload and download throughput of a checkpoint-sized payload, for one or more targets against the same server. Rounds
/// interleave the targets (rotating which goes first) so that load from elsewhere falls on all of them alike; every
/// download is compared with the payload byte for byte, outside the timed part.
/// </summary>
public static class StorageThroughput
{
    /// <summary>The bytes every round moves: incompressible, like trained weights, and the same for every run of a size.</summary>
    public static byte[] Payload(int bytes)
    {
        byte[] payload = new byte[bytes];
        new Random(20261204).NextBytes(payload);
        return payload;
    }

    /// <param name="targets">The clients to compare.</param>
    /// <param name="payload">What every round uploads and reads back: <see cref="Payload"/>, or a real checkpoint file.</param>
    /// <param name="rounds">Rounds; each target moves the payload once per round.</param>
    /// <param name="keyPrefix">Where the rounds' blobs go; each is deleted after its round.</param>
    /// <param name="log">Receives a line per round.</param>
    /// <param name="cancellationToken">Cancels the measurement.</param>
    public static async Task<IReadOnlyList<ThroughputResult>> MeasureAsync(
        IReadOnlyList<TransferTarget> targets, byte[] payload, int rounds, string keyPrefix, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(payload.Length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        int payloadBytes = payload.Length;
        byte[] received = new byte[payloadBytes];

        // Warm-up: JIT, connection pools, the stores' first-request probes (the whole payload: a checked read needs its digest).
        foreach (TransferTarget target in targets)
        {
            string key = $"{keyPrefix}/{target.Name}/warmup";
            await target.Upload(key, new MemoryStream(payload, writable: false), cancellationToken).ConfigureAwait(false);
            await target.Download(key, received, cancellationToken).ConfigureAwait(false);
            await target.Delete(key, cancellationToken).ConfigureAwait(false);
        }

        var uploads = targets.Select(_ => new List<double>()).ToArray();
        var downloads = targets.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < targets.Count; k++)
            {
                int t = (round + k) % targets.Count;
                TransferTarget target = targets[t];
                string key = $"{keyPrefix}/{target.Name}/round-{round}";

                var clock = Stopwatch.StartNew();
                await target.Upload(key, new MemoryStream(payload, writable: false), cancellationToken).ConfigureAwait(false);
                double up = payloadBytes / 1e6 / clock.Elapsed.TotalSeconds;

                Array.Clear(received);
                clock.Restart();
                int read = await target.Download(key, received, cancellationToken).ConfigureAwait(false);
                double down = payloadBytes / 1e6 / clock.Elapsed.TotalSeconds;

                if (read != payloadBytes || !received.AsSpan().SequenceEqual(payload))
                {
                    throw new InvalidOperationException($"{target.Name}: round {round} read back {read} bytes that differ from the {payloadBytes} uploaded.");
                }

                await target.Delete(key, cancellationToken).ConfigureAwait(false);
                uploads[t].Add(up);
                downloads[t].Add(down);
                log?.Invoke($"round {round + 1}/{rounds} {target.Name,-12} upload {up,8:F1} MB/s   download {down,8:F1} MB/s");
            }
        }

        return [.. targets.Select((target, t) => new ThroughputResult(target.Name, payloadBytes, uploads[t], downloads[t]))];
    }
}
