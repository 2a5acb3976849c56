using System.Text.Json;
using System.Text.Json.Serialization;

namespace CommerceMM.Data.Format;

/// <summary>
/// <c>dataset.json</c>: what a data set holds and how to check it. Written last by a builder, so a
/// folder without it is never a finished data set.
/// </summary>
public sealed record DatasetManifest
{
    public const string FileName = "dataset.json";
    public const string FormatName = "cmm-shards";

    /// <summary>The version this code writes; readers refuse newer ones by name.</summary>
    public const int CurrentVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;
    public required string Name { get; init; }

    /// <summary>Hash of the build inputs; a rebuild with the same fingerprint is a no-op.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Modalities present in the data set ("image", "text").</summary>
    public required IReadOnlyList<string> Modalities { get; init; }
    public required ImageSpec Image { get; init; }
    public required TokenizerSpec Tokenizer { get; init; }

    /// <summary>Named counts (products per split, pair kinds, ...), for reports.</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }
    public required IReadOnlyDictionary<string, StreamInfo> Streams { get; init; }

    /// <summary>The stream's description, or an error naming the known streams.</summary>
    public StreamInfo Stream(string name) =>
        Streams.TryGetValue(name, out var info) ? info
        : throw new DatasetException($"data set '{Name}' has no stream '{name}' (it has: {string.Join(", ", Streams.Keys)})");

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <exception cref="DatasetException">Missing, unreadable, of another format, or of a newer version.</exception>
    public static DatasetManifest Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new DatasetException($"'{directory}' holds no {FileName}: not a data set, or its build did not finish");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Every file the data set consists of besides dataset.json: the tokenizer, then each stream's shards and their indexes.</summary>
    public IEnumerable<FileRef> Files() =>
        new[] { new FileRef(Tokenizer.File, Tokenizer.Bytes, Tokenizer.Sha256) }
            .Concat(Streams.Values.SelectMany(s => s.Shards).SelectMany(shard => new[] { shard.Tar, shard.Index }));

    /// <param name="path">where the bytes come from, for messages</param>
    /// <exception cref="DatasetException">Unreadable, of another format, or of a newer version.</exception>
    public static DatasetManifest Parse(byte[] json, string path)
    {
        DatasetManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<DatasetManifest>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new DatasetException($"{path} is not valid: {e.Message}");
        }
        if (manifest is null) throw new DatasetException($"{path} is empty");
        if (manifest.Format != FormatName) throw new DatasetException($"{path} has format '{manifest.Format}', expected '{FormatName}'");
        if (manifest.Version > CurrentVersion || manifest.Version < 1)
            throw new DatasetException($"{path} has version {manifest.Version}; this build reads versions 1..{CurrentVersion}");
        foreach (string m in manifest.Modalities) Modality.Validate(m);
        if (manifest.Image is { Channels: not (1 or 3) })
            throw new DatasetException($"{path} has images of {manifest.Image.Channels} channels; this build reads 1 (grey) or 3 (RGB)");
        return manifest;
    }

    /// <summary>Writes atomically (temp file + rename), so readers never see half a manifest.</summary>
    public void Write(string directory)
    {
        string path = Path.Combine(directory, FileName);
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>Pixel geometry and the normalisation the loader applies.</summary>
public sealed record ImageSpec(int Width, int Height, int Channels, float Mean, float Std);

public sealed record TokenizerSpec(string File, string Type, int VocabSize, long Bytes, string Sha256);

/// <summary>A stream of samples sharing one schema.</summary>
public sealed record StreamInfo(SampleSchema Schema, long Samples, IReadOnlyList<ShardInfo> Shards);

/// <summary>One tar shard and its random-access index; paths are relative to the data set folder.</summary>
public sealed record ShardInfo(string File, long Samples, long Bytes, string Sha256, FileRef Index)
{
    /// <summary>The shard's tar file as dataset.json lists it (name, size, SHA-256), as <see cref="Index"/> is its index.</summary>
    public FileRef Tar => new(File, Bytes, Sha256);
}

public sealed record FileRef(string File, long Bytes, string Sha256);

/// <summary>What a stream's samples hold.</summary>
public enum SampleSchema
{
    /// <summary>Pass 1: one image + one text (+ json metadata).</summary>
    Pair,

    /// <summary>Pass 2: a source (text and/or image) and a target product (image + text).</summary>
    Omni,

    /// <summary>SCALE: one product with any of image, text, table, video and audio (presence listed in its json part).</summary>
    Product,
}

/// <summary>The data set is missing, malformed or does not hold what was asked for.</summary>
public class DatasetException(string message) : Exception(message);

/// <summary>A shard or index failed its size or checksum check.</summary>
public sealed class ShardCorruptException(string message) : DatasetException(message);

/// <summary>
/// The blob store of a remote data set could not be reached, or failed in a way that may pass (throttling, a server
/// error): not the data set's fault, so another start of the process may well succeed, where a <see cref="DatasetException"/> will not.
/// </summary>
public sealed class DataSourceException(string message, Exception innerException) : IOException(message, innerException);

/// <summary>One sample's record cannot be parsed: a bad sample (skipped and counted by the loader), not a bad data set.</summary>
public sealed class BadRecordException(string message) : DatasetException(message);
