namespace CommerceMM.Model.Tasks;

/// <summary>Ok: computed. Absent: no eligible rows in this batch. Disabled: weight 0, nothing computed.</summary>
public enum TaskOutcome { Ok, Absent, Disabled }

/// <summary>One task's outcome in one step. Loss is NaN unless Ok.</summary>
public sealed record TaskResult(string Task, TaskOutcome Status, double Loss, double Weight)
{
    public static TaskResult Disabled(string task) => new(task, TaskOutcome.Disabled, double.NaN, 0);
    public static TaskResult Absent(string task, double weight) => new(task, TaskOutcome.Absent, double.NaN, weight);
}
