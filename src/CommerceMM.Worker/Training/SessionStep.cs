using CommerceMM.Model.Training;

namespace CommerceMM.Worker.Training;

/// <summary>A step's result plus what this rank consumed for it.</summary>
public sealed record SessionStep(StepResult Result, long PairRows, long OmniRows, long Tokens, double DataWaitSeconds);
