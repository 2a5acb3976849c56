using CommerceMM.Torch;
using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.NN;
using CommerceMM.Torch.Optim;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// The engine's own numbers for `cmm bench engine`. Each measurement mirrors one in
/// tools/bench/engine.py line for line (shapes, warm-up, repetitions), so the ratios compare engines,
/// not workloads.
/// </summary>
internal sealed record EngineBenchmarkConfig(int Batch = 16, int Length = 64, int Dim = 256, int Heads = 4, int Ffn = 1024,
                                             long AllReduceElements = 10_000_000, int AllReduceReps = 10);

internal static class EngineBenchmark
{
    public static double MatMulGflops()
    {
        using var g = new Generator(1);
        using var a = Torch.Torch.Randn([1024, 1024], g);
        using var b = Torch.Torch.Randn([1024, 1024], g);
        double seconds = Measure.MedianSeconds(() => { using var c = a.MatMul(b); }, 20);
        return 2.0 * 1024 * 1024 * 1024 / seconds / 1e9;
    }

    /// <summary>A one-element add, including creating and disposing the result's handle.</summary>
    public static double OpOverheadMicroseconds()
    {
        const int n = 10_000;
        using var x = Torch.Torch.Ones([1]);
        double seconds = Measure.MedianSeconds(() =>
        {
            for (int i = 0; i < n; i++)
            {
                using var y = x + x;
            }
        }, 15);
        return seconds / n * 1e6;
    }

    /// <summary>Forward + backward + AdamW step of one pre-LN encoder layer.</summary>
    public static double LayerStepMilliseconds(EngineBenchmarkConfig c)
    {
        using var g = new Generator(2);
        using var layer = new TransformerEncoderLayer(c.Dim, c.Heads, c.Ffn, generator: g);
        using var x = Torch.Torch.Randn([c.Batch, c.Length, c.Dim], g);
        using var target = Torch.Torch.Randn([c.Batch, c.Length, c.Dim], g);
        using var optimizer = new AdamW(layer.NamedParameters(), new AdamWOptions());
        double seconds = Measure.MedianSeconds(() =>
        {
            using var scope = DisposeScope.Open();
            optimizer.ZeroGrad();
            Losses.MseLoss(layer.Forward(x), target).Backward();
            optimizer.Step(1e-4);
        }, 20);
        return seconds * 1e3;
    }

    /// <summary>One rank of the two-process all-reduce measurement; rank 0 returns the median.</summary>
    public static double AllReducePeer(int port, int rank, int world, long elements, int reps)
    {
        Torch.Torch.NumThreads = 1;
        var timeout = TimeSpan.FromSeconds(60);
        using var store = TcpStore.Connect("127.0.0.1", port, timeout);
        using var group = ProcessGroup.CreateGloo(store, rank, world, timeout);
        using var t = Torch.Torch.Ones([elements]);
        double seconds = Measure.MedianSeconds(() =>
        {
            group.Barrier();
            group.AllReduce(t);
        }, reps, warmup: 2);
        group.Barrier();
        return seconds * 1e3;
    }
}
