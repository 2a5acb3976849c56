using CommerceMM.Torch.NN;
using CommerceMM.Torch.Optim;
using CommerceMM.Torch.Peer;

namespace CommerceMM.Torch.Tests.Distributed;

/// <summary>Real processes on loopback, real Gloo: each scenario compares N ranks with the single-process truth.</summary>
public class MultiProcessTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Collectives_RealProcesses_MatchClosedForm(int world)
    {
        var ranks = PeerProcesses.Run("collectives", world);
        try
        {
            float n = world * (world + 1) / 2f; // Σ (r + 1)
            for (int r = 0; r < world; r++)
            {
                var f = ranks[r];
                Assert.Equal(new[] { n, 10 * n }, f["allreduce_sum"].ToArray<float>());
                Assert.Equal(new[] { n / world, 10 * n / world }, f["allreduce_avg"].ToArray<float>());
                Assert.All(f["broadcast"].ToArray<float>(), v => Assert.Equal(world - 1 + 100, v));
                var gathered = f["allgather"].ToArray<float>();
                Assert.Equal(world * 6, gathered.Length);
                for (int i = 0; i < gathered.Length; i++) Assert.Equal(i / 6, gathered[i]);
                var value = f["allgather_with_grad_value"].ToArray<float>();
                for (int i = 0; i < value.Length; i++) Assert.Equal(i / 6 + 1, value[i]);
                // Backward sums across ranks: every rank's loss has the same weights on this rank's slice.
                var grad = f["allgather_with_grad_grad"].ToArray<float>();
                for (int i = 0; i < 6; i++) Assert.Equal(world * (r * 6 + i), grad[i]);
                // Uneven rows: rank q contributed q + 1 rows of value q + 1, so rank r's rows start at r(r+1)/2.
                var uneven = f["uneven_value"].ToArray<float>();
                Assert.Equal(world * (world + 1), uneven.Length);
                int row = 0;
                for (int q = 0; q < world; q++)
                    for (int k = 0; k <= q; k++, row++) Assert.Equal(new float[] { q + 1, q + 1 }, uneven[(2 * row)..(2 * row + 2)]);
                int start = r * (r + 1) / 2;
                var unevenGrad = f["uneven_grad"].ToArray<float>();
                Assert.Equal(2 * (r + 1), unevenGrad.Length);
                for (int i = 0; i < unevenGrad.Length; i++) Assert.Equal(world * (2 * start + i), unevenGrad[i]);
            }
        }
        finally
        {
            ranks.ForEach(f => f.Dispose());
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void InfoNceGradient_NRanksTimesBRows_EqualsOneProcessTimesNBRows(int world)
    {
        var ranks = PeerProcesses.Run("infonce", world);
        try
        {
            var single = new InfoNceProblem();
            using (var loss = single.Loss(null, 0, InfoNceProblem.GlobalRows)) loss.Backward();
            foreach (var (name, p) in single.Parameters)
            {
                using var expected = p.Grad!;
                foreach (var rank in ranks) TensorAssert.Close(expected, rank[name], rtol: 1e-5, atol: 1e-7, name);
            }
        }
        finally
        {
            ranks.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void Training_TwoProcessesHalfBatch_EndsWithOneProcessFullBatchWeights()
    {
        var ranks = PeerProcesses.Run("train", 2);
        try
        {
            var single = new RegressionProblem();
            var parameters = single.Parameters.Select(p => p.Tensor).ToList();
            using var optimizer = new AdamW(single.Parameters, new AdamWOptions { WeightDecay = 0.1 });
            for (int step = 0; step < RegressionProblem.Steps; step++)
            {
                optimizer.ZeroGrad();
                using (var loss = single.Loss(step, 0, RegressionProblem.GlobalRows)) loss.Backward();
                GradientClipping.ClipGlobalNorm(parameters, 1.0);
                optimizer.Step(RegressionProblem.LearningRate);
            }
            foreach (var (name, p) in single.Parameters)
                foreach (var rank in ranks) TensorAssert.Close(p, rank[name], rtol: 1e-5, atol: 1e-6, name);
        }
        finally
        {
            ranks.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void AllReduce_PeerVanished_ThrowsInsteadOfHanging()
    {
        // Rank 1 exits right after joining; rank 0's all-reduce must fail with an exception.
        using var survivor = PeerProcesses.Run("dead-peer", 2, resultRanks: [0])[0];
        Assert.Equal(1f, survivor["failed_as_expected"].ItemFloat());
    }
}
