using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// `cmm data download` against a real HTTP server on 127.0.0.1 that serves a test catalog's photos, with the failures a
/// shop's export meets: a 404, a 503 that passes when tried again, a 429 that asks to wait, an HTML page where a photo
/// should be.
/// </summary>
public sealed class DataDownloadTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("cmm-download-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Download_FetchesEachUrlOnce_TriesAgainWhatMayPass_ListsWhatCannot_AndTheBuildReadsTheResult()
    {
        string shop = Path.Combine(_folder, "shop");
        string local = TestCatalog.Write(shop, 20);
        using var server = new ImageServer(shop);
        string Url(string path) => $"{server.Prefix}{path}";
        var lines = File.ReadAllLines(local).Select(l => Regex.Replace(l, "\"((images|ugc)/[^\"]+)\"", m => $"\"{Url(m.Groups[1].Value)}\"")).ToList();
        lines.Add($$"""{"id": "gone", "title": "Gone", "image": "{{Url("missing.jpg")}}"}""");
        lines.Add($$"""{"id": "flaky", "title": "Flaky", "image": "{{Url("flaky.jpg")}}", "photos": ["{{Url("throttled.jpg")}}"], "queries": ["flaky"]}""");
        lines.Add($$"""{"id": "page", "title": "Page", "image": "{{Url("images/p1.png")}}", "photos": ["{{Url("page.jpg")}}"], "queries": ["page"]}""");
        lines.Add("""{"id": "local", "title": "Local", "image": "images/p2.webp", "queries": ["local"]}""");
        lines.Add("not json");
        string catalog = Path.Combine(shop, "urls.jsonl");
        File.WriteAllLines(catalog, lines);
        string output = Path.Combine(_folder, "downloaded");

        using (var first = new CmmProcess(["data", "download", catalog, "--out", output]))
        {
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
            // 20 product images, 18 users' photos and one listing's (the other listings reuse the photos), and the three extras.
            Assert.Contains("43 image URLs in 25 lines: 41 downloaded (", first.Output);
            Assert.Contains("0 already here, 2 failed", first.Output);
            Assert.Contains($"next: cmm data build catalog {output}/catalog.jsonl --out DIR", first.Output);
        }
        Assert.Equal(2, server.Requests["flaky.jpg"]);   // 503, then tried again
        Assert.Equal(2, server.Requests["throttled.jpg"]);
        Assert.True(server.SecondRequestAfter["throttled.jpg"] >= TimeSpan.FromSeconds(2.9), $"{server.SecondRequestAfter["throttled.jpg"]}"); // as its Retry-After asked
        Assert.Equal(1, server.Requests["ugc/p0.jpg"]);  // a photo and a listing: one URL, one download
        string[] failed = File.ReadAllLines(Path.Combine(output, "download-failed.tsv"));
        Assert.Equal(["url\treason", $"{Url("missing.jpg")}\tHTTP 404 Not Found", $"{Url("page.jpg")}\tnot a JPEG, PNG or WebP file (Content-Type text/html, 36 bytes)"], failed);

        string[] rewritten = File.ReadAllLines(Path.Combine(output, "catalog.jsonl"));
        Assert.Equal(lines.Count, rewritten.Length);
        Assert.Equal("not json", rewritten[^1]);
        using (var product = JsonDocument.Parse(rewritten[0]))
        {
            string image = product.RootElement.GetProperty("image").GetString()!;
            Assert.Matches("^images/[0-9a-f]{32}$", image);
            Assert.Equal(File.ReadAllBytes(Path.Combine(shop, "images/p0.jpg")), File.ReadAllBytes(Path.Combine(output, image)));
            string photo = product.RootElement.GetProperty("photos")[0].GetString()!;
            Assert.Matches("^images/[0-9a-f]{32}$", photo);
            Assert.Equal(photo, product.RootElement.GetProperty("listings")[0].GetProperty("image").GetString());
            Assert.Equal(10, product.RootElement.GetProperty("price").GetInt32()); // fields the build does not read stay
        }
        using (var localProduct = JsonDocument.Parse(rewritten[^2]))
            Assert.Equal(Path.Combine(shop, "images/p2.webp"), localProduct.RootElement.GetProperty("image").GetString()); // relative to the old folder: made absolute

        using (var again = new CmmProcess(["data", "download", catalog, "--out", output]))
        {
            Assert.True(again.WaitForExit(Patience) == 0, again.Output);
            Assert.Contains("43 image URLs in 25 lines: 0 downloaded (", again.Output);
            Assert.Contains("41 already here, 2 failed", again.Output);
        }
        Assert.Equal(1, server.Requests["images/p0.jpg"]);
        Assert.Equal(2, server.Requests["missing.jpg"]); // what failed is tried again

        string data = Path.Combine(_folder, "data");
        using var build = new CmmProcess(["data", "build", "catalog", Path.Combine(output, "catalog.jsonl"), "--out", data,
                                          "--image-size", "28", "--eval-share", "0", "--vocab", "300", "--max-skipped", "0.2"]);
        Assert.True(build.WaitForExit(Patience) == 0, build.Output);
        Assert.Contains($"{data}: 21 training and 2 held-out products", build.Output);
        string skipped = File.ReadAllText(Path.Combine(data, "skipped.tsv"));
        Assert.Contains("\tgone\t", skipped);
        Assert.Contains("\tpage\tphoto 1\t", skipped);
    }

    [Fact]
    public void Download_IntoTheCatalogsOwnFolder_UnderItsOwnName_IsRefused()
    {
        string catalog = Path.Combine(_folder, "catalog.jsonl");
        File.WriteAllText(catalog, "{}\n");
        using var cmm = new CmmProcess(["data", "download", catalog, "--out", _folder]);
        Assert.Equal(2, cmm.WaitForExit(Patience));
        Assert.Contains($"cmm: --out '{_folder}' would overwrite the catalog '{catalog}' with its rewritten copy: give another folder", cmm.Output);
        Assert.Equal("{}\n", File.ReadAllText(catalog));
    }

    /// <summary>
    /// Serves a folder's files; "missing.jpg" is a 404, "flaky.jpg" a 503 once and then a photo, "throttled.jpg" a 429
    /// asking for 3 s once and then a photo, "page.jpg" an HTML page.
    /// </summary>
    private sealed class ImageServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _root;
        private readonly Task _serving;

        public ImageServer(string root)
        {
            _root = root;
            Prefix = $"http://127.0.0.1:{FreePorts.Next()}/";
            _listener.Prefixes.Add(Prefix);
            _listener.Start();
            _serving = Task.Run(ServeAsync);
        }

        public string Prefix { get; }

        public ConcurrentDictionary<string, int> Requests { get; } = new();

        /// <summary>How long after a path's first request its second came.</summary>
        public ConcurrentDictionary<string, TimeSpan> SecondRequestAfter { get; } = new();

        private readonly ConcurrentDictionary<string, long> _firstRequest = new();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                string path = context.Request.Url!.AbsolutePath.TrimStart('/');
                int count = Requests.AddOrUpdate(path, 1, (_, n) => n + 1);
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (count == 2) SecondRequestAfter[path] = System.Diagnostics.Stopwatch.GetElapsedTime(_firstRequest[path], now);
                _firstRequest.TryAdd(path, now);
                var (status, type, body) = path switch
                {
                    "missing.jpg" => (404, "text/plain", "no such photo"u8.ToArray()),
                    "flaky.jpg" when count == 1 => (503, "text/plain", "busy"u8.ToArray()),
                    "throttled.jpg" when count == 1 => (429, "text/plain", "slow down"u8.ToArray()),
                    "flaky.jpg" or "throttled.jpg" => (200, "image/jpeg", File.ReadAllBytes(Path.Combine(_root, "images/p0.jpg"))),
                    "page.jpg" => (200, "text/html", "<!DOCTYPE html><p>sold out</p></html>"u8.ToArray()[..36]),
                    _ when File.Exists(Path.Combine(_root, path)) => (200, "application/octet-stream", File.ReadAllBytes(Path.Combine(_root, path))),
                    _ => (404, "text/plain", "not found"u8.ToArray()),
                };
                context.Response.StatusCode = status;
                if (status == 429) context.Response.AddHeader("Retry-After", "3");
                context.Response.ContentType = type;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            // Close alone: after Stop, Close unregisters the prefix again, and .NET's managed listener binds the port anew
            // to do so, failing with "Address already in use" once another test's server has taken it (seen in CI).
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
