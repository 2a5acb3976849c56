namespace CommerceMM.Data.Format;

/// <summary>
/// Reports on the caller's thread, before <see cref="Report"/> returns. <see cref="Progress{T}"/> posts each report to the
/// thread pool instead, so a console shows them out of order (a bar going back, "Done" after the summary).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
