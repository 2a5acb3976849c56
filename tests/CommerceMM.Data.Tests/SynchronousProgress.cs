using CommerceMM.Data.Fashion;

namespace CommerceMM.Data.Tests;

/// <summary>Progress&lt;T&gt; posts to the thread pool; tests need a build's reports in order, at once.</summary>
internal sealed class SynchronousProgress(Action<BuildProgress> report) : IProgress<BuildProgress>
{
    public void Report(BuildProgress value) => report(value);
}
