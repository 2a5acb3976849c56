using CommerceMM.Model.Training;

namespace CommerceMM.Worker.Training;

/// <summary>A step's result plus what this rank consumed for it (the sample keys feed the consumption audit).</summary>
public sealed record SessionStep(StepResult Result, long PairRows, long OmniRows, long Tokens, double DataWaitSeconds,
                                 long Epoch, IReadOnlyList<string> PairKeys, IReadOnlyList<string> OmniKeys);
