using CommerceMM.Model.Tasks;
using CommerceMM.Scale.Losses;

namespace CommerceMM.Scale.Debugging;

/// <summary>What the dumped SCALE step computed (the content of losses.json).</summary>
/// <param name="Step">the step index the mask plan was drawn for (= warm-up steps taken)</param>
/// <param name="Tasks">all 15 tasks in reporting order (5 masked, then 10 pairs)</param>
/// <param name="Weights">the 5 mean self-harmonized weights W[m, m] over the rows having m</param>
/// <param name="Total">Σ w·L over the tasks that ran (0 when none did)</param>
/// <param name="GradNorm">global L2 norm of every parameter's gradient after the backward, before clipping</param>
public sealed record ScaleStepDumpResult(long Step, IReadOnlyList<TaskResult> Tasks, IReadOnlyList<HarmonizedWeight> Weights, double Total, double GradNorm);
