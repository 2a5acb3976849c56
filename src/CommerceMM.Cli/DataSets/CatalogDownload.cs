using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CommerceMM.Data.Imaging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CommerceMM.Cli.DataSets;

/// <summary>What a download did.</summary>
/// <param name="Urls">distinct image URLs the catalog names</param>
/// <param name="Present">already downloaded by an earlier run: not fetched again</param>
internal sealed record DownloadResult(int Lines, int Urls, int Fetched, int Present, int Failed, long Bytes, TimeSpan Elapsed);

/// <summary>
/// `cmm data download`: fetches the images a catalog names by URL (as most shop exports do) into <c>DIR/images/</c>, and
/// writes <c>DIR/catalog.jsonl</c>, the same products with those URLs replaced by the files, for
/// `cmm data build catalog`. A file is named by a hash of its URL, so a URL named twice is fetched once, and a run cut
/// short, or run again after the catalog grew, fetches only what it lacks. Local paths become absolute. An image that
/// cannot be fetched (after retries for what may pass: timeouts, 5xx, 429) or is no image is listed in
/// <c>DIR/download-failed.tsv</c>, and its product or photo is left for the build to leave out by name.
/// </summary>
internal static class CatalogDownload
{
    public const string CatalogFile = "catalog.jsonl", FailedFile = "download-failed.tsv", ImagesFolder = "images";

    /// <summary>Larger than any product photo: an endless or mistaken response stops here.</summary>
    public const long MaxImageBytes = 64L << 20;

    public static async Task<DownloadResult> RunAsync(string catalog, string directory, HttpClient http, int parallel,
                                                      IProgress<(string Stage, long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (!File.Exists(catalog)) throw new ArgumentException($"catalog '{catalog}' does not exist");
        string source = Path.GetDirectoryName(Path.GetFullPath(catalog))!;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);   // URL -> path under the directory
        string Local(string path)
        {
            string trimmed = path.Trim();
            if (!Data.Catalog.CatalogReader.IsUrl(trimmed)) return trimmed.Length == 0 ? path : Path.GetFullPath(trimmed, source);
            if (!files.TryGetValue(trimmed, out string? file))
                files[trimmed] = file = $"{ImagesFolder}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(trimmed)))[..32]}";
            return file;
        }
        // One line at a time, so a catalog of millions of products is never held whole; only its URLs are. Lines that are
        // no product object stay as they are: the build names what is wrong with them.
        Directory.CreateDirectory(Path.Combine(directory, ImagesFolder));
        string output = Path.Combine(directory, CatalogFile), temp = output + ".part";
        int lines = 0;
        await using (var writer = new StreamWriter(temp, append: false, new UTF8Encoding(false)))
        {
            await foreach (string line in File.ReadLinesAsync(catalog, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteLineAsync(Rewrite(line, Local).AsMemory(), cancellationToken).ConfigureAwait(false);
                lines++;
            }
        }

        var missing = files.Where(f => !File.Exists(Path.Combine(directory, f.Value))).ToList();
        var failures = new ConcurrentBag<(string Url, string Reason)>();
        long bytes = 0, done = 0;
        var retry = Pipeline();
        await Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            try
            {
                Interlocked.Add(ref bytes, await FetchAsync(http, retry, item.Key, Path.Combine(directory, item.Value), ct).ConfigureAwait(false));
            }
            catch (DownloadException e)
            {
                failures.Add((item.Key, e.Message));
            }
            progress?.Report(("download", Interlocked.Increment(ref done), missing.Count));
        }).ConfigureAwait(false);

        string failedPath = Path.Combine(directory, FailedFile);
        if (failures.IsEmpty) File.Delete(failedPath);
        else await File.WriteAllLinesAsync(failedPath, ["url\treason", .. failures.OrderBy(f => f.Url, StringComparer.Ordinal).Select(f => $"{f.Url}\t{f.Reason}")], cancellationToken).ConfigureAwait(false);
        // In place last, whole: a catalog.jsonl there is always a finished one.
        File.Move(temp, output, overwrite: true);
        return new DownloadResult(lines, files.Count, missing.Count - failures.Count, files.Count - missing.Count, failures.Count, bytes, clock.Elapsed);
    }

    /// <summary>The line with every image path replaced: "image", each of "photos", and each listing's "image".</summary>
    private static string Rewrite(string line, Func<string, string> local)
    {
        JsonNode? node;
        try
        {
            node = string.IsNullOrWhiteSpace(line) ? null : JsonNode.Parse(line);
        }
        catch (JsonException)
        {
            return line;
        }
        if (node is not JsonObject product) return line;
        static void Replace(JsonNode? holder, string key, Func<string, string> local)
        {
            if (holder is JsonObject o && o[key] is JsonValue v && v.TryGetValue(out string? path)) o[key] = local(path);
        }
        Replace(product, "image", local);
        if (product["photos"] is JsonArray photos)
            for (int i = 0; i < photos.Count; i++)
                if (photos[i] is JsonValue v && v.TryGetValue(out string? path)) photos[i] = local(path);
        if (product["listings"] is JsonArray listings)
            foreach (JsonNode? listing in listings) Replace(listing, "image", local);
        return product.ToJsonString(LineJson);
    }

    /// <summary>One instance for every line (options cache per instance); non-ASCII text stays as written, not \u-escaped.</summary>
    private static readonly JsonSerializerOptions LineJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Bytes written; the file appears whole (via NAME.part) or not at all.</summary>
    private static async Task<long> FetchAsync(HttpClient http, ResiliencePipeline<HttpResponseMessage> retry, string url, string path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await retry.ExecuteAsync(async ct => await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or InvalidOperationException or UriFormatException && !cancellationToken.IsCancellationRequested)
        {
            throw new DownloadException(e is TimeoutRejectedException ? $"no answer within {AttemptTimeout.TotalSeconds:0} s, {Attempts} times" : e.Message);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new DownloadException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd());
            if (response.Content.Headers.ContentLength > MaxImageBytes) throw new DownloadException($"{response.Content.Headers.ContentLength:N0} bytes, more than an image's {MaxImageBytes >> 20} MiB");
            using var body = new MemoryStream();
            await using (var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (body.Length + read > MaxImageBytes) throw new DownloadException($"more than an image's {MaxImageBytes >> 20} MiB");
                    body.Write(buffer, 0, read);
                }
            }
            if (ImageFile.Sniff(body.GetBuffer().AsSpan(0, (int)body.Length)) is null)
                throw new DownloadException($"not a {ImageFile.Formats} file (Content-Type {response.Content.Headers.ContentType?.MediaType ?? "none"}, {body.Length:N0} bytes)");
            string temp = path + ".part";
            await File.WriteAllBytesAsync(temp, body.GetBuffer().AsMemory(0, (int)body.Length), cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
            return body.Length;
        }
    }

    private const int Attempts = 4;
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The longest a server's Retry-After is waited for: past it the URL is tried at once, and listed if it fails (a rerun retries it).</summary>
    private static readonly TimeSpan MaxServerDelay = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Tries again what may pass (no answer, a dropped connection, 5xx, 429), backing off from 1 s, or after as long as
    /// the server's Retry-After asks (a throttling CDN answers sooner retries with 429 again); a 404 is final.
    /// </summary>
    private static ResiliencePipeline<HttpResponseMessage> Pipeline() => new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = Attempts - 1,
            Delay = TimeSpan.FromSeconds(1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .Handle<HttpRequestException>()
                .Handle<TimeoutRejectedException>()
                .HandleResult(r => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.TooManyRequests),
            DelayGenerator = args => ValueTask.FromResult(ServerAskedDelay(args.Outcome.Result)),
            OnRetry = args =>
            {
                args.Outcome.Result?.Dispose();
                return default;
            },
        })
        .AddTimeout(AttemptTimeout)
        .Build();

    /// <summary>The response's Retry-After (seconds, or a date), up to <see cref="MaxServerDelay"/>; null when it has none.</summary>
    private static TimeSpan? ServerAskedDelay(HttpResponseMessage? response)
    {
        RetryConditionHeaderValue? after = response?.Headers.RetryAfter;
        TimeSpan? delay = after?.Delta ?? (after?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, MaxServerDelay.Ticks)) : null;
    }

    private sealed class DownloadException(string message) : Exception(message);
}
