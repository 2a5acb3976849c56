using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;

namespace CommerceMM.Model.Debugging;

/// <summary>What the dumped step computed (the content of losses.json).</summary>
/// <param name="Step">the step index the random choices were drawn for (= warm-up steps taken)</param>
/// <param name="Tasks">all 14 tasks in reporting order</param>
/// <param name="Pass1Total">Σ w·L over pass-1 tasks that ran (0 when none did)</param>
/// <param name="Pass2Total">Σ w·L over pass-2 tasks that ran (0 when none did)</param>
/// <param name="GradNorm">global L2 norm of the trainable parameters' gradients after both backwards, before clipping</param>
public sealed record StepDumpResult(long Step, Allocation Allocation, IReadOnlyList<TaskResult> Tasks, double Pass1Total, double Pass2Total, double GradNorm);
