using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;

namespace CommerceMM.Model.Training;

/// <summary>
/// Everything a step reports: all 14 tasks (loss and weight, or absent, or disabled), pass totals,
/// the optimizer's figures and where the time went. Skipped steps (a non-finite loss or gradient on
/// any rank) changed nothing.
/// </summary>
public sealed record StepResult(
    long Step,
    Allocation Allocation,
    IReadOnlyList<TaskResult> Tasks,
    double Pass1Loss,
    double Pass2Loss,
    double GradNorm,
    double LearningRate,
    bool Skipped,
    StepTimings Timings);

/// <summary>Seconds spent per phase of a step (this rank).</summary>
public sealed record StepTimings(double Pass1, double Pass2, double AllReduce, double Optimizer)
{
    public double Total => Pass1 + Pass2 + AllReduce + Optimizer;
}
