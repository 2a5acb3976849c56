namespace CommerceMM.Model.Tasks;

/// <summary>Ok: computed. Absent: no eligible rows in this batch. Disabled: weight 0, nothing computed.</summary>
public enum TaskStatus { Ok, Absent, Disabled }

/// <summary>One task's outcome in one step. Loss is NaN unless Ok.</summary>
public sealed record TaskResult(string Task, TaskStatus Status, double Loss, double Weight)
{
    public static TaskResult Disabled(string task) => new(task, TaskStatus.Disabled, double.NaN, 0);
    public static TaskResult Absent(string task, double weight) => new(task, TaskStatus.Absent, double.NaN, weight);
}
