namespace CommerceMM.Worker.Spec;

/// <summary>
/// An invalid job spec: every problem found, each naming its key (as written in YAML, e.g. data.batch_size),
/// the value and the fix. One problem reads as "key: message"; several read one per line, so a user fixes
/// them all in one pass instead of one per run.
/// </summary>
public sealed class SpecException : Exception
{
    public SpecException(string key, string message, Exception? inner = null) : this([new SpecError(key, message)], inner) { }

    public SpecException(IReadOnlyList<SpecError> errors, Exception? inner = null) : base(Format(errors), inner)
    {
        if (errors.Count == 0) throw new ArgumentException("a spec exception needs at least one error", nameof(errors));
        Errors = errors;
    }

    /// <summary>The first problem's key.</summary>
    public string Key => Errors[0].Key;

    /// <summary>Every problem, in the order the spec was checked.</summary>
    public IReadOnlyList<SpecError> Errors { get; }

    private static string Format(IReadOnlyList<SpecError> errors) => string.Join("\n", errors);
}

/// <summary>One problem with one key.</summary>
public sealed record SpecError(string Key, string Message)
{
    public override string ToString() => $"{Key}: {Message}";
}

/// <summary>Collects spec problems so that one load reports all of them.</summary>
public sealed class SpecErrors
{
    private readonly List<SpecError> _errors = [];

    public int Count => _errors.Count;

    public bool Has(string key) => _errors.Any(e => e.Key == key || e.Key.StartsWith(key + ".", StringComparison.Ordinal) || e.Key.StartsWith(key + "[", StringComparison.Ordinal));

    public void Add(string key, string message) => _errors.Add(new SpecError(key, message));

    /// <summary>
    /// Runs a check that throws <see cref="SpecException"/> and keeps its problems instead, except for keys already
    /// reported: a value that could not be read was replaced by its default, and a complaint about that would mislead.
    /// </summary>
    public void Check(Action check)
    {
        try
        {
            check();
        }
        catch (SpecException e)
        {
            _errors.AddRange(e.Errors.Where(error => !Has(error.Key)));
        }
    }

    /// <exception cref="SpecException">Every problem collected, when there is any, in the spec's section order (job, model, data, ...).</exception>
    public void ThrowIfAny()
    {
        if (_errors.Count > 0) throw new SpecException(_errors.OrderBy(e => SectionOrder(e.Key)).ToList()); // OrderBy is stable
    }

    private static readonly string[] Sections = typeof(TrainingSpec).GetProperties().Select(p => SpecShape.Snake(p.Name)).ToArray();

    private static int SectionOrder(string key)
    {
        int i = Array.IndexOf(Sections, key.Split('.', '[')[0]);
        return i < 0 ? Sections.Length : i;
    }
}
