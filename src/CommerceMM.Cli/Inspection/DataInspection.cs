using System.Globalization;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Data.Text;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Cli.Inspection;

/// <summary>What `cmm data inspect` found: the manifest, each file that failed its check, and a few decoded samples per stream.</summary>
internal sealed record DataReport(DatasetManifest Manifest, int FilesChecked, IReadOnlyList<string> Problems, IReadOnlyList<(string Stream, IReadOnlyList<string> Lines)> Examples);

/// <summary>
/// Checks a data set the way training reads it, with CommerceMM.Data's own readers: <see cref="DatasetManifest.Read"/>,
/// the tokenizer's size and SHA-256, and <see cref="ShardReader.Open"/> with verification (size and SHA-256 of every
/// shard and its index, the index's sample count). Unlike the loader it does not stop at the first bad shard: every
/// problem is kept, so one run names all of them. Examples come from the first intact shard of each stream.
/// </summary>
internal static class DataInspection
{
    public static async Task<DataReport> RunAsync(DataSetFiles files, int examplesPerStream, bool verify, IProgress<(string Stage, long Done, long Total)>? progress,
                                                 CancellationToken cancellationToken)
    {
        if (!await FetchAsync(files, DatasetManifest.FileName, cancellationToken).ConfigureAwait(false))
            throw new DatasetException($"{files.Where} holds no {DatasetManifest.FileName}: not a data set, or its build did not finish (cmm data build fashion --out DIR)");
        var manifest = DatasetManifest.Read(files.Root);
        var problems = new List<string>();
        int mels = manifest.Streams.ContainsKey(StreamNames.Products) ? ScaleShapes.Mels(manifest) : 0;

        using var tokenizer = await TokenizerAsync(files, manifest, verify, problems, cancellationToken).ConfigureAwait(false);
        var examples = new List<(string, IReadOnlyList<string>)>();
        long total = manifest.Streams.Values.Sum(s => s.Shards.Sum(x => x.Bytes + x.Index.Bytes)), done = 0;
        int checkedFiles = verify ? 1 : 0; // the tokenizer
        foreach (var (name, stream) in manifest.Streams)
        {
            int wanted = examplesPerStream;
            foreach (var shard in stream.Shards)
            {
                // Without verification only the shards that examples come from are read at all.
                if (!verify && wanted == 0) break;
                try
                {
                    if (!await FetchAsync(files, shard.File, cancellationToken).ConfigureAwait(false)) throw new DatasetException($"shard '{shard.File}' is missing from {files.Where}");
                    if (!await FetchAsync(files, shard.Index.File, cancellationToken).ConfigureAwait(false)) throw new DatasetException($"index '{shard.Index.File}' is missing from {files.Where}");
                    using var reader = ShardReader.Open(files.Root, shard, verify);
                    if (verify) checkedFiles += 2;
                    for (int i = 0; i < Math.Min(wanted, reader.Count); i++)
                        examples.Add((name, SampleSummary.Describe(reader.Read(i), tokenizer, mels)));
                    wanted -= Math.Min(wanted, reader.Count);
                }
                catch (DatasetException e)
                {
                    problems.Add(e.Message);
                }
                finally
                {
                    files.Release(shard.File);
                    files.Release(shard.Index.File);
                }
                progress?.Report(("verify", (done += shard.Bytes + shard.Index.Bytes) >> 10, total >> 10));
            }
        }
        return new DataReport(manifest, checkedFiles, problems, examples);
    }

    /// <summary>The tokenizer, checked like a shard; null (with the problem recorded) when it is missing or corrupt.</summary>
    private static async Task<SentencePieceTokenizer?> TokenizerAsync(DataSetFiles files, DatasetManifest manifest, bool verify, List<string> problems, CancellationToken cancellationToken)
    {
        var spec = manifest.Tokenizer;
        try
        {
            if (!await FetchAsync(files, spec.File, cancellationToken).ConfigureAwait(false))
            {
                problems.Add($"tokenizer '{spec.File}' is missing from {files.Where}");
                return null;
            }
            string path = Path.Combine(files.Root, spec.File);
            if (verify)
            {
                long bytes = new FileInfo(path).Length;
                string sha;
                await using (var stream = File.OpenRead(path))
                    sha = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
                string? problem = bytes != spec.Bytes ? $"'{spec.File}' failed its size check: expected {spec.Bytes} bytes, actual {bytes}"
                    : !string.Equals(sha, spec.Sha256, StringComparison.OrdinalIgnoreCase) ? $"'{spec.File}' failed its SHA-256 check: expected {spec.Sha256}, actual {sha}"
                    : null;
                if (problem is not null)
                {
                    problems.Add(problem);
                    return null; // texts are still shown, without token counts
                }
            }
            return SentencePieceTokenizer.Load(path);
        }
        catch (DatasetException e)
        {
            problems.Add(e.Message);
            return null;
        }
    }

    /// <summary>A store's own integrity failure (Azure: MD5) is a corrupt file of the data set, named like the others.</summary>
    private static async Task<bool> FetchAsync(DataSetFiles files, string relative, CancellationToken cancellationToken)
    {
        try
        {
            return await files.FetchAsync(relative, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStoreException e) when (e.IsCorruptContent)
        {
            throw new ShardCorruptException($"'{relative}' failed the store's integrity check: {e.Message}");
        }
    }

    /// <summary>"train" for training streams, "test" for the held-out ones (eval_*), as the builders split products.</summary>
    public static string Split(string stream) => stream.StartsWith("eval_", StringComparison.Ordinal) ? "test" : "train";

    internal static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
