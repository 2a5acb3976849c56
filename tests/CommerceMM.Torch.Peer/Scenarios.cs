using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.Optim;

namespace CommerceMM.Torch.Peer;

/// <summary>What each rank computes; the tests compare the written results against one process.</summary>
internal static class Scenarios
{
    internal static List<(string, Tensor)> Collectives(ProcessGroup group)
    {
        int r = group.Rank, w = group.Size;
        var results = new List<(string, Tensor)>();

        var sum = Torch.FromArray(new float[] { r + 1, 10 * (r + 1) });
        group.AllReduce(sum, ReduceOp.Sum);
        results.Add(("allreduce_sum", sum));

        var avg = Torch.FromArray(new float[] { r + 1, 10 * (r + 1) });
        group.AllReduce(avg, ReduceOp.Average);
        results.Add(("allreduce_avg", avg));

        var broadcast = Torch.Full([3], r + 100);
        group.Broadcast(broadcast, root: w - 1);
        results.Add(("broadcast", broadcast));

        using var mine = Torch.Full([2, 3], r);
        results.Add(("allgather", group.AllGather(mine)));

        // d/dx of Σ(gathered ⊙ weights) on each rank, summed over ranks: w × this rank's slice of weights.
        var x = Torch.Full([2, 3], r + 1.0, requiresGrad: true);
        using var weights = Torch.Arange(0, w * 6, 1, DType.Float32).Reshape(w * 2, 3);
        using var gathered = group.AllGatherWithGrad(x);
        using var loss = (gathered * weights).Sum();
        loss.Backward();
        results.Add(("allgather_with_grad_value", gathered.Detach()));
        results.Add(("allgather_with_grad_grad", x.Grad!));

        // Ranks with different row counts (a rank that skipped bad samples): rank r holds r + 1 rows.
        var uneven = Torch.Full([r + 1, 2], r + 1.0, requiresGrad: true);
        int total = w * (w + 1) / 2;
        using var unevenWeights = Torch.Arange(0, total * 2, 1, DType.Float32).Reshape(total, 2);
        using var unevenGathered = group.AllGatherWithGrad(uneven);
        using var unevenLoss = (unevenGathered * unevenWeights).Sum();
        unevenLoss.Backward();
        results.Add(("uneven_value", unevenGathered.Detach()));
        results.Add(("uneven_grad", uneven.Grad!));

        group.Barrier();
        return results;
    }

    internal static List<(string, Tensor)> InfoNce(ProcessGroup group)
    {
        var problem = new InfoNceProblem();
        int rows = InfoNceProblem.GlobalRows / group.Size;
        using var loss = problem.Loss(group, group.Rank * rows, rows);
        loss.Backward();
        using var bucketer = new GradientBucketer(group, problem.Parameters.Select(p => p.Tensor).ToList(), bucketBytes: 64);
        bucketer.AllReduceAverage();
        return problem.Parameters.Select(p => (p.Name, p.Tensor.Grad!)).ToList();
    }

    internal static List<(string, Tensor)> Train(ProcessGroup group)
    {
        var problem = new RegressionProblem();
        int rows = RegressionProblem.GlobalRows / group.Size;
        var parameters = problem.Parameters.Select(p => p.Tensor).ToList();
        using var optimizer = new AdamW(problem.Parameters, new AdamWOptions { WeightDecay = 0.1 });
        using var bucketer = new GradientBucketer(group, parameters);
        for (int step = 0; step < RegressionProblem.Steps; step++)
        {
            optimizer.ZeroGrad();
            using (var loss = problem.Loss(step, group.Rank * rows, rows)) loss.Backward();
            bucketer.AllReduceAverage();
            GradientClipping.ClipGlobalNorm(parameters, 1.0);
            optimizer.Step(RegressionProblem.LearningRate);
        }
        return problem.Parameters.Select(p => (p.Name, p.Tensor)).ToList();
    }

    internal static List<(string, Tensor)> DeadPeer(ProcessGroup group)
    {
        if (group.Rank == 1) Environment.Exit(0); // vanish without a word, as a killed process would
        using var t = Torch.Ones([4]);
        try
        {
            group.AllReduce(t, ReduceOp.Sum, TimeSpan.FromSeconds(5));
            return [("failed_as_expected", Torch.Zeros([1]))];
        }
        catch (TorchException e)
        {
            Console.WriteLine("collective error: " + e.Message);
            return [("failed_as_expected", Torch.Ones([1]))];
        }
    }
}
