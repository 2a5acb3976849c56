using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Collectives.Peer;

/// <summary>What each rank computes; the tests compare the written results against closed forms or one process.</summary>
internal static class Scenarios
{
    internal static List<(string, Tensor)> Collectives(ProcessGroup group)
    {
        int r = group.Rank, w = group.Size;
        var results = new List<(string, Tensor)>();

        var sum = torch.tensor(new float[] { r + 1, 10 * (r + 1) });
        group.AllReduce(sum, ReduceOp.Sum);
        results.Add(("allreduce_sum", sum));

        var avg = torch.tensor(new float[] { r + 1, 10 * (r + 1) });
        group.AllReduce(avg, ReduceOp.Average);
        results.Add(("allreduce_avg", avg));

        var broadcast = torch.full([3], r + 100f);
        group.Broadcast(broadcast, root: w - 1);
        results.Add(("broadcast", broadcast));

        var mine = torch.full([2, 3], (float)r);
        results.Add(("allgather", group.AllGather(mine)));

        // d/dx of Σ(gathered ⊙ weights) on each rank, summed over ranks: w × this rank's slice of weights.
        var x = torch.full([2, 3], r + 1f, requires_grad: true);
        var weights = torch.arange(0, w * 6, 1, ScalarType.Float32).reshape(w * 2, 3);
        var gathered = group.AllGatherWithGrad(x);
        (gathered * weights).sum().backward();
        results.Add(("allgather_with_grad_value", gathered.detach()));
        results.Add(("allgather_with_grad_grad", x.grad!));

        // Ranks with different row counts (a rank that skipped bad samples): rank r holds r + 1 rows.
        var uneven = torch.full([r + 1, 2], r + 1f, requires_grad: true);
        int total = w * (w + 1) / 2;
        var unevenWeights = torch.arange(0, total * 2, 1, ScalarType.Float32).reshape(total, 2);
        var unevenGathered = group.AllGatherWithGrad(uneven);
        (unevenGathered * unevenWeights).sum().backward();
        results.Add(("uneven_value", unevenGathered.detach()));
        results.Add(("uneven_grad", uneven.grad!));

        group.Barrier();
        return results;
    }

    /// <summary>Every element type and reduction, each checked against its closed form by the test.</summary>
    internal static List<(string, Tensor)> Reductions(ProcessGroup group)
    {
        int r = group.Rank;
        var results = new List<(string, Tensor)>();
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.BFloat16 })
            foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min, ReduceOp.Average })
            {
                bool floating = type is ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16;
                if (op == ReduceOp.Average && !floating) continue;
                // Values (r + 1) and -(r + 1) * 2: max and min come from different ranks.
                var t = torch.tensor(new double[] { r + 1, -(r + 1) * 2, 7 }).to(type);
                group.AllReduce(t, op);
                results.Add(($"{type}_{op}", t.to(ScalarType.Float64)));
            }
        return results;
    }

    /// <summary>Several all-reduces in flight at once, waited for in reverse order: each lands in its own tensor.</summary>
    internal static List<(string, Tensor)> AsyncBuckets(ProcessGroup group)
    {
        int r = group.Rank;
        var tensors = Enumerable.Range(0, 6).Select(i => torch.full([1000 * (i + 1) + 3], (float)((r + 1) * (i + 1)))).ToList();
        var pending = tensors.Select((t, i) => group.AllReduceAsync([t], i % 2 == 0 ? ReduceOp.Sum : ReduceOp.Average)).ToList();
        for (int i = pending.Count - 1; i >= 0; i--)
        {
            pending[i].Wait(group.Timeout);
            pending[i].Dispose();
        }
        // A multi-tensor call: each tensor reduced on its own, one wait for all.
        var a = torch.full([5], r + 1.0, ScalarType.Float64);
        var b = torch.full([2, 2], (long)(r + 1));
        using (var both = group.AllReduceAsync([a, b], ReduceOp.Max)) both.Wait(group.Timeout);
        return tensors.Select((t, i) => ($"bucket{i}", t)).Append(("multi_a", a)).Append(("multi_b", b)).ToList();
    }

    /// <summary>Rank r arrives r × 300 ms late; nobody may leave before the last arrived.</summary>
    internal static List<(string, Tensor)> Barrier(ProcessGroup group)
    {
        Thread.Sleep(300 * group.Rank);
        long arrived = DateTime.UtcNow.Ticks;
        group.Barrier();
        long left = DateTime.UtcNow.Ticks;
        return [("arrived", torch.tensor(new[] { arrived })), ("left", torch.tensor(new[] { left }))];
    }

    /// <summary>Rank 0 sends rows of 3, the others rows of 4: every rank must throw, and the group stays usable.</summary>
    internal static List<(string, Tensor)> AllGatherMismatch(ProcessGroup group)
    {
        var rows = torch.ones(2, group.Rank == 0 ? 3 : 4);
        string message = "";
        try
        {
            group.AllGather(rows);
        }
        catch (CollectiveException e) when (e.Error == CollectiveError.InvalidArgument)
        {
            message = e.Message;
        }
        Console.WriteLine("mismatch error: " + message);
        bool named = message.Contains("rows of shape [3]") && message.Contains("rows of shape [4]");
        var after = torch.ones(1);
        group.AllReduce(after);
        return [("named_both_shapes", torch.tensor(new[] { named ? 1f : 0f })), ("after", after)];
    }

    internal static List<(string, Tensor)> InfoNce(ProcessGroup group)
    {
        var problem = new InfoNceProblem();
        int rows = InfoNceProblem.GlobalRows / group.Size;
        using (var loss = problem.Loss(group, group.Rank * rows, rows)) loss.backward();
        using var flat = new FlatParameters(problem.Parameters.Select(p => (p.Name, (Tensor)p.Tensor)).ToList());
        using var bucketer = new GradientBucketer(group, flat, bucketBytes: 64);
        bucketer.AllReduceAverage();
        return problem.Parameters.Select(p => (p.Name, p.Tensor.grad!)).ToList();
    }

    /// <summary>
    /// Two steps of the bucketed all-reduce. Step 0: every rank has a gradient for "shared" ((r + 1) everywhere), rank 1
    /// alone for "rank1_only" (6 everywhere) and nobody for "unused"; rank 1 alone votes to skip. Step 1: only "shared",
    /// and nobody votes.
    /// </summary>
    internal static List<(string, Tensor)> SkipVote(ProcessGroup group)
    {
        var shared = new Parameter(torch.zeros(4));
        var rank1Only = new Parameter(torch.zeros(3));
        var unused = new Parameter(torch.zeros(2));
        using var flat = new FlatParameters([("shared", shared), ("rank1_only", rank1Only), ("unused", unused)]);
        using var bucketer = new GradientBucketer(group, flat, bucketBytes: 8); // several buckets, one in flight beside the vote
        var heard = new float[2];
        var results = new List<(string, Tensor)>();
        for (int step = 0; step < 2; step++)
        {
            var loss = (shared * (group.Rank + 1f)).sum();
            if (step == 0 && group.Rank == 1) loss = loss + (rank1Only * 6f * group.Size).sum();
            loss.backward();
            heard[step] = bucketer.AllReduceAverage(skipVote: step == 0 && group.Rank == 1) ? 1 : 0;
            if (step == 0)
            {
                results.Add(("shared_grad", shared.grad!.clone()));
                results.Add(("rank1_only_grad", rank1Only.grad is { } g ? g.clone() : torch.full([3], float.NaN)));
                results.Add(("unused_has_grad", torch.tensor(new[] { unused.grad is null ? 0f : 1f })));
            }
            flat.ClearGradients();
        }
        results.Add(("skip_heard", torch.tensor(heard)));
        return results;
    }

    internal static List<(string, Tensor)> Train(ProcessGroup group)
    {
        var problem = new RegressionProblem();
        int rows = RegressionProblem.GlobalRows / group.Size;
        using var optimizer = torch.optim.AdamW(problem.Parameters.Select(p => p.Tensor), RegressionProblem.LearningRate, weight_decay: RegressionProblem.WeightDecay);
        using var flat = new FlatParameters(problem.Parameters.Select(p => (p.Name, (Tensor)p.Tensor)).ToList());
        using var bucketer = new GradientBucketer(group, flat);
        for (int step = 0; step < RegressionProblem.Steps; step++)
            RegressionProblem.Step(problem, optimizer, bucketer, step, group.Rank * rows, rows);
        return problem.Parameters.Select(p => (p.Name, (Tensor)p.Tensor)).ToList();
    }

    internal static List<(string, Tensor)> DeadPeer(ProcessGroup group)
    {
        if (group.Rank == 1) Environment.Exit(0); // vanish without a word, as a killed process would
        var t = torch.ones(4);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            group.AllReduce(t, ReduceOp.Sum, TimeSpan.FromSeconds(5));
            return [("failed_as_expected", torch.zeros(1))];
        }
        catch (CollectiveException e)
        {
            Console.WriteLine($"collective error after {watch.Elapsed.TotalSeconds:F1} s: {e.Error}: {e.Message}");
            // The group is out of step now: the next call must refuse at once instead of waiting again.
            var next = Record(() => group.AllReduce(t));
            return [("failed_as_expected", torch.ones(1)), ("seconds", torch.tensor(new[] { watch.Elapsed.TotalSeconds })), ("next_error", torch.tensor(new[] { (long)(next ?? 0) }))];
        }
    }

    /// <summary>
    /// Rank 1 vanishes between the all-gather and its backward pass. An exception thrown inside
    /// backward would end the process (it unwinds into libtorch), so rank 0 must survive with a NaN
    /// gradient and a group whose next call throws.
    /// </summary>
    internal static List<(string, Tensor)> DeadPeerInBackward(ProcessGroup group)
    {
        var x = torch.ones(2, 3, requires_grad: true);
        var gathered = group.AllGatherWithGrad(x, TimeSpan.FromSeconds(5));
        if (group.Rank == 1) Environment.Exit(0);
        gathered.sum().backward();
        var next = Record(() => group.Barrier());
        return [("grad", x.grad!), ("next_error", torch.tensor(new[] { (long)(next ?? 0) }))];
    }

    /// <summary>Rank 1 stays alive but never calls the all-reduce (a stalled peer): rank 0 must time out, not wait.</summary>
    internal static List<(string, Tensor)> StalledPeer(ProcessGroup group)
    {
        if (group.Rank == 1)
        {
            Thread.Sleep(TimeSpan.FromSeconds(4));
            return [];
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Record(() => group.AllReduce(torch.ones(4), ReduceOp.Sum, TimeSpan.FromSeconds(1)));
        return [("error", torch.tensor(new[] { (long)(error ?? 0) })), ("seconds", torch.tensor(new[] { watch.Elapsed.TotalSeconds }))];
    }

    internal static CollectiveError? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (CollectiveException e)
        {
            Console.WriteLine($"{e.Error}: {e.Message}");
            return e.Error;
        }
    }
}
