using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using TorchSharp;

namespace CommerceMM.Model.Tests.Tasks;

public class WeightedTaskLossesTests
{
    [Fact]
    public void Results_InTaskOrder_WithEveryLossReadAtOnce_AndTheWeightedTotal()
    {
        using var tasks = new WeightedTaskLosses();
        tasks.Add("a", 2.0, () => torch.tensor(0.25f));
        tasks.Add("off", 0, () => throw new InvalidOperationException("a disabled task must not run"));
        tasks.Add("none", 1.0, () => null);
        tasks.Add("b", 0.5, () => torch.tensor(3.0f));

        Assert.Equal(["a", "off", "none", "b"], tasks.Results.Select(r => r.Task));
        Assert.Equal([TaskOutcome.Ok, TaskOutcome.Disabled, TaskOutcome.Absent, TaskOutcome.Ok], tasks.Results.Select(r => r.Status));
        Assert.Equal(0.25, tasks.Results[0].Loss);
        Assert.Equal(3.0, tasks.Results[3].Loss);
        Assert.True(double.IsNaN(tasks.Results[2].Loss));
        Assert.Equal(2.0 * 0.25 + 0.5 * 3.0, Scalars.ToDouble(tasks.Total!), 6);

        // A task added after the values were read is read too.
        tasks.Add("c", 1.0, () => torch.tensor(7.0f));
        Assert.Equal(7.0, tasks.Results[4].Loss);
        Assert.Equal(0.25, tasks.Results[0].Loss);
    }
}
