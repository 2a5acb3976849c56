namespace CommerceMM.Observability.Stragglers;

/// <summary>A rank's standing against its peers after its latest observation.</summary>
/// <param name="Rank">The rank in the current generation.</param>
/// <param name="Ratio">Its median step time over the median of its peers' medians; null until it and at least one peer have enough samples.</param>
/// <param name="IsStraggler">Whether it is flagged (with hysteresis, see <see cref="StragglerOptions"/>).</param>
public readonly record struct RankStepStatus(int Rank, double? Ratio, bool IsStraggler);
