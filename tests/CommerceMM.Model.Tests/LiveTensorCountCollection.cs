namespace CommerceMM.Model.Tests;

/// <summary>
/// Tests that measure process-wide quantities (resident memory, dispose-scope statistics): they run
/// alone, not beside tests that create tensors at the same moment.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveTensorCountCollection
{
    public const string Name = "live tensor count";
}
