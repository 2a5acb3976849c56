using System.Globalization;
using System.Text;
using global::Azure.Core;
using global::Azure.Core.Pipeline;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Signs each attempt of a request with Shared Key (the Blob service's "string to sign", version 2015-02-21 and later).
/// Runs per retry, after every policy that adds <c>x-ms-*</c> headers, so the date and the signed headers are fresh.
/// </summary>
internal sealed class SharedKeySigningPolicy(StorageSharedKeyCredential credential, TimeProvider timeProvider) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        Request request = message.Request;
        request.Headers.SetValue("x-ms-date", timeProvider.GetUtcNow().ToString("r", CultureInfo.InvariantCulture));
        string signature = credential.Sign(StringToSign(request, credential.AccountName));
        request.Headers.SetValue("Authorization", $"SharedKey {credential.AccountName}:{signature}");
    }

    /// <summary>The canonical text the service recomputes and compares; any difference is a 403.</summary>
    internal static string StringToSign(Request request, string accountName)
    {
        long contentLength = 0;
        request.Content?.TryComputeLength(out contentLength);
        var text = new StringBuilder(256);
        text.Append(request.Method.Method).Append('\n');
        text.Append(Header(request, "Content-Encoding")).Append('\n');
        text.Append(Header(request, "Content-Language")).Append('\n');
        text.Append(contentLength > 0 ? contentLength.ToString(CultureInfo.InvariantCulture) : "").Append('\n');
        text.Append(Header(request, "Content-MD5")).Append('\n');
        text.Append(Header(request, "Content-Type")).Append('\n');
        text.Append('\n'); // Date: empty because x-ms-date is sent
        text.Append(Header(request, "If-Modified-Since")).Append('\n');
        text.Append(Header(request, "If-Match")).Append('\n');
        text.Append(Header(request, "If-None-Match")).Append('\n');
        text.Append(Header(request, "If-Unmodified-Since")).Append('\n');
        text.Append(Header(request, "Range")).Append('\n');
        AppendCanonicalHeaders(text, request);
        AppendCanonicalResource(text, request.Uri.ToUri(), accountName);
        return text.ToString();
    }

    private static string Header(Request request, string name) => request.Headers.TryGetValue(name, out string? value) ? value : "";

    private static void AppendCanonicalHeaders(StringBuilder text, Request request)
    {
        var headers = new List<(string Name, string Value)>();
        foreach (HttpHeader header in request.Headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add((header.Name.ToLowerInvariant(), header.Value.Trim()));
            }
        }

        headers.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach ((string name, string value) in headers)
        {
            text.Append(name).Append(':').Append(value).Append('\n');
        }
    }

    /// <summary><c>/account/path</c> then one line per query parameter: lower-case name, colon, decoded values comma-joined.</summary>
    private static void AppendCanonicalResource(StringBuilder text, Uri uri, string accountName)
    {
        // For a path-style (emulator) URL the path already starts with the account, so it appears twice: that is the rule.
        text.Append('/').Append(accountName).Append(uri.AbsolutePath);
        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
            string value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            if (!parameters.TryGetValue(name, out List<string>? values))
            {
                parameters[name] = values = [];
            }

            values.Add(value);
        }

        foreach ((string name, List<string> values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            text.Append('\n').Append(name).Append(':').Append(string.Join(',', values));
        }
    }
}
