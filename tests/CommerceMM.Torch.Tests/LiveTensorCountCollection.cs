namespace CommerceMM.Torch.Tests;

/// <summary>
/// Tests that compare <see cref="Tensor.LiveCount"/> before and after: the count is process-wide, so
/// they run alone, not beside tests that create tensors at the same moment.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveTensorCountCollection
{
    public const string Name = "live tensor count";
}
