using CommerceMM.Data.Loading;
using CommerceMM.Worker.Models;

namespace CommerceMM.Worker.Training;

/// <summary>A step's result plus what this rank consumed for it (the sample keys feed the consumption audit).</summary>
public sealed record SessionStep(ModelStep Result, IReadOnlyList<StreamConsumption> Consumed, double DataWaitSeconds, long Epoch)
{
    public long Rows => Consumed.Sum(c => (long)c.Rows);
}

/// <summary>One stream's share of a step on this rank: rows used, their sample keys, and why any were skipped.</summary>
public sealed record StreamConsumption(string Stream, int Rows, IReadOnlyList<string> Keys, IReadOnlyList<SkipReason> Skipped);
