using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Storage.Blobs;
using Orleans.Storage;

namespace CommerceMM.Coordinator.Persistence;

/// <summary>
/// Grain state as plain JSON blobs in the job's blob store (the file system by default, Azure Blob in the cloud), beside
/// the checkpoints: first write create-only (If-None-Match: *), later ones If-Match on the ETag read or written last.
/// The JSON names no .NET type, so renaming a state type keeps its stored state. Each document carries
/// <c>"stateVersion"</c>; a newer version than this code knows, or a corrupt blob, fails the activation with the blob's
/// key, never a silent reset.
/// </summary>
internal sealed class BlobGrainStorage(IBlobStore store) : IGrainStorage
{
    /// <summary>The layout of grain state this code writes; documents without the field predate it (version 1 too).</summary>
    public const int StateVersion = 1;

    private const string VersionProperty = "stateVersion";

    /// <summary>Per blob, what this silo last read or wrote there: a turn that changed nothing costs no write.</summary>
    private readonly ConcurrentDictionary<string, (string ETag, byte[] Bytes)> _known = new(StringComparer.Ordinal);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        string key = KeyOf(stateName, grainId);
        if (await ReadAsync(store, key, cancellationToken).ConfigureAwait(false) is not { } read)
        {
            (grainState.ETag, grainState.RecordExists) = (null, false);
            _known.TryRemove(key, out _);
            return;
        }

        grainState.State = Decode<T>(key, read.Bytes);
        (grainState.ETag, grainState.RecordExists) = (read.ETag, true);
        _known[key] = (read.ETag, read.Bytes);
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        string key = KeyOf(stateName, grainId);
        byte[] bytes = Encode(grainState.State);
        if (grainState.ETag is { } etag && _known.TryGetValue(key, out var known) && known.ETag == etag && bytes.AsSpan().SequenceEqual(known.Bytes))
        {
            return;
        }

        BlobCondition condition = grainState.ETag is null ? BlobCondition.IfNoneMatchAny : BlobCondition.IfMatch(grainState.ETag);
        BlobWriteResult result = await store.PutAsync(key, new MemoryStream(bytes), condition, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            _known.TryRemove(key, out _);
            throw new InconsistentStateException($"grain state '{key}' was changed by another writer; nothing was written", grainState.ETag, (string?)null);
        }

        (grainState.ETag, grainState.RecordExists) = (result.ETag, true);
        _known[key] = (result.ETag!, bytes);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        throw new NotSupportedException("Grain state of a job is never cleared: it is the record of what was committed.");

    /// <summary>
    /// The state's JSON with <c>"stateVersion"</c> spliced in as its first property. Every write attempt encodes (the
    /// checkpoint grain tries one per heartbeat, mostly unchanged), so this writes the bytes once rather than building a
    /// JSON tree.
    /// </summary>
    internal static byte[] Encode<T>(T state)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(state, CoordinatorJson.Options);
        if (body is not [(byte)'{', .., (byte)'}'])
        {
            throw new InvalidOperationException($"grain state {typeof(T).Name} must serialize to a JSON object");
        }

        byte[] head = System.Text.Encoding.UTF8.GetBytes($"{{\"{VersionProperty}\":{StateVersion}{(body.Length > 2 ? "," : "")}");
        return [.. head, .. body.AsSpan(1)];
    }

    internal static T Decode<T>(string key, byte[] bytes)
    {
        int version;
        T? state;
        try
        {
            JsonObject document = JsonNode.Parse(bytes) as JsonObject ?? throw new JsonException("the document is not a JSON object");
            version = document.TryGetPropertyValue(VersionProperty, out JsonNode? v) && v is not null ? v.GetValue<int>() : 1;
            document.Remove(VersionProperty);
            state = version <= StateVersion ? document.Deserialize<T>(CoordinatorJson.Options) : default;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw Corrupt(key, e.Message, e);
        }

        if (version > StateVersion)
        {
            throw new InvalidDataException(
                $"grain state '{key}' cannot be read: it was written by a newer version of cmm (state version {version}; this one reads up to {StateVersion}). " +
                "It was left as it is: run the version that wrote it.");
        }

        return state ?? throw Corrupt(key, "the state is 'null'", null);
    }

    /// <summary>
    /// Reads every state blob of <paramref name="job"/> as its grain would, before the silo starts: a corrupt or newer one
    /// then stops the start with one message, instead of failing the first activation inside Orleans (three stack traces).
    /// </summary>
    /// <exception cref="InvalidDataException">A blob cannot be read; the message names it and what to do.</exception>
    public static async Task CheckReadableAsync(IBlobStore store, string job, CancellationToken cancellationToken)
    {
        foreach (string name in GrainStateKeys.All)
        {
            string key = GrainStateKeys.For(job, name);
            if (await ReadAsync(store, key, cancellationToken).ConfigureAwait(false) is { } read) Decode<JsonObject>(key, read.Bytes);
        }
    }

    /// <summary>A state blob's bytes and ETag; null when there is none.</summary>
    internal static async Task<(byte[] Bytes, string ETag)?> ReadAsync(IBlobStore store, string key, CancellationToken cancellationToken)
    {
        await using BlobDownload? download = await store.OpenReadAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (download is null) return null;
        using var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return (buffer.ToArray(), download.Properties.ETag);
    }

    private static InvalidDataException Corrupt(string key, string why, Exception? inner) =>
        new($"grain state '{key}' cannot be read: it is corrupt ({why}). It was left as it is: restore it from a copy, or start again with " +
            "--reset-coordinator-state, which moves the job's coordinator state aside and begins it afresh (the checkpoints stay, and the workers resume from the newest verified one)", inner);

    private static string KeyOf(string stateName, GrainId grainId) => GrainStateKeys.For(grainId.Key.ToString()!, stateName);
}
