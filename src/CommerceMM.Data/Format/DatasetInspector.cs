using System.Text;

namespace CommerceMM.Data.Format;

/// <summary>
/// What <c>cmm data inspect DIR</c> shows: the manifest's counts, every shard's checksum verified, and a
/// few samples per stream with their parts listed and texts decoded.
/// </summary>
public static class DatasetInspector
{
    /// <summary>One stored sample, summarised for display.</summary>
    public sealed record Example(string Stream, string Key, IReadOnlyDictionary<string, int> PartBytes, IReadOnlyDictionary<string, string> Texts);

    public sealed record Report(string Directory, DatasetManifest Manifest, int ShardsVerified, IReadOnlyList<Example> Examples);

    /// <exception cref="DatasetException">No finished data set at <paramref name="directory"/>.</exception>
    /// <exception cref="ShardCorruptException">A shard or index fails its size or SHA-256 check (named in the message).</exception>
    public static Report Inspect(string directory, int examplesPerStream = 2, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(examplesPerStream);
        var manifest = DatasetManifest.Read(directory);
        var examples = new List<Example>();
        int total = manifest.Streams.Values.Sum(s => s.Shards.Count), done = 0;
        foreach (var (name, stream) in manifest.Streams)
        {
            foreach (var shard in stream.Shards)
            {
                using var reader = ShardReader.Open(directory, shard, verify: true);
                int wanted = Math.Min(examplesPerStream - examples.Count(e => e.Stream == name), reader.Count);
                for (int i = 0; i < wanted; i++)
                {
                    var sample = reader.Read(i);
                    examples.Add(new Example(name, sample.Key,
                        sample.Parts.ToDictionary(p => p.Key, p => p.Value.Length),
                        sample.Parts.Where(p => p.Key.EndsWith("txt", StringComparison.Ordinal) || p.Key == "json")
                            .ToDictionary(p => p.Key, p => Encoding.UTF8.GetString(p.Value))));
                }
                done++;
                progress?.Report((done, total));
            }
        }
        return new Report(directory, manifest, done, examples);
    }
}
