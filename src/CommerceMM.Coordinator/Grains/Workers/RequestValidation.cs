using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains.Workers;

/// <summary>Collects field errors of one request; the refusal it builds names every bad field as on the wire.</summary>
internal sealed class RequestValidation
{
    private const int MaxWorkerIdLength = 200;
    private const int MaxUrlLength = 2048;
    private const int MaxIncarnationLength = 64;

    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool HasErrors => _errors.Count > 0;

    public RequestValidation Check(bool ok, string field, string message)
    {
        if (!ok && !_errors.ContainsKey(field))
        {
            _errors[field] = [message];
        }

        return this;
    }

    /// <param name="field">the field that carries the id (a leaving worker's id is <c>leaving</c>)</param>
    public RequestValidation WorkerId(string? workerId, string field = "workerId") =>
        Check(!string.IsNullOrWhiteSpace(workerId) && workerId.Length <= MaxWorkerIdLength && !workerId.Any(char.IsControl),
            field, $"required: 1 to {MaxWorkerIdLength} printable characters");

    /// <summary>Optional; when present 1 to 64 of A-Z a-z 0-9 - _ (a GUID fits).</summary>
    public RequestValidation Incarnation(string? incarnation) =>
        Check(incarnation is null || (incarnation.Length is >= 1 and <= MaxIncarnationLength && incarnation.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')),
            "incarnation", $"must be 1 to {MaxIncarnationLength} of A-Z a-z 0-9 - _ when given");

    public RequestValidation Generation(long generation) => Check(generation >= 1, "generation", "must be >= 1 (the generation from join)");

    public RequestValidation Rank(int rank) => Check(rank >= 0, "rank", "must be >= 0");

    public RequestValidation Step(long step, string field = "step") => Check(step >= 0, field, "must be >= 0");

    public RequestValidation Seconds(double value, string field) => Check(double.IsFinite(value) && value >= 0, field, "must be a finite number >= 0");

    /// <summary>Optional; when present an absolute http(s) URL of bounded length (it is shown to operators and scrape set-ups).</summary>
    public RequestValidation MetricsUrl(string? url) =>
        Check(url is null || (url.Length <= MaxUrlLength && Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"),
            "metricsUrl", $"must be an absolute http(s) URL of at most {MaxUrlLength} characters");

    public RequestValidation RendezvousKey(string? key) =>
        Check(!string.IsNullOrEmpty(key) && key.Length <= RendezvousLimits.MaxKeyLength && !key.Any(char.IsControl),
            "key", $"required: 1 to {RendezvousLimits.MaxKeyLength} printable characters");

    /// <summary>An Invalid result naming the first bad field, with every error in its message.</summary>
    public GrainResult<T> ToResult<T>() =>
        GrainResult<T>.Invalid(_errors.Keys.First(), string.Join("; ", _errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));

    public static RequestValidation Body(object? body) => new RequestValidation().Check(body is not null, "body", "a JSON body is required");
}
