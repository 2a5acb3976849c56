using CommerceMM.Collectives;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

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
    public static double MatMulGflops() => MatMulGflops(CPU, ScalarType.Float32);

    /// <summary>n³ matmuls on <paramref name="device"/> (n = 1024 on the CPU, 8192 on a GPU, where smaller ones are launch-bound).</summary>
    public static double MatMulGflops(Device device, ScalarType dtype)
    {
        bool cuda = device.type == DeviceType.CUDA;
        int n = cuda ? 8192 : 1024;
        using var g = new Generator(1);
        using var a = torch.randn([n, n], device: CPU, generator: g).to(dtype).to(device);
        using var b = torch.randn([n, n], device: CPU, generator: g).to(dtype).to(device);
        double seconds = Measure.MedianSeconds(() =>
        {
            using var c = a.matmul(b);
            if (cuda) torch.cuda.synchronize(device);
        }, 20);
        return 2.0 * n * n * n / seconds / 1e9;
    }

    /// <summary>A one-element add, including creating and disposing the result's handle.</summary>
    public static double OpOverheadMicroseconds()
    {
        const int n = 10_000;
        using var x = torch.ones([1], device: CPU);
        double seconds = Measure.MedianSeconds(() =>
        {
            for (int i = 0; i < n; i++)
            {
                using var y = x.Add(x);
            }
        }, 15);
        return seconds / n * 1e6;
    }

    /// <summary>Forward + backward + AdamW step of one pre-LN encoder layer.</summary>
    public static double LayerStepMilliseconds(EngineBenchmarkConfig c)
    {
        using var g = new Generator(2);
        using var layer = new EncoderLayer(c.Dim, c.Heads, c.Ffn, generator: g);
        using var x = torch.randn([c.Batch, c.Length, c.Dim], device: CPU, generator: g);
        using var target = torch.randn([c.Batch, c.Length, c.Dim], device: CPU, generator: g);
        using var optimizer = new AdamWOptimizer(layer.NamedParameters(), new AdamWOptions());
        double seconds = Measure.MedianSeconds(() =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.ZeroGrad();
            torch.nn.functional.mse_loss(layer.Forward(x), target).backward();
            optimizer.Step(1e-4);
        }, 20);
        return seconds * 1e3;
    }

    /// <summary>One rank of the two-process all-reduce measurement; rank 0 returns the median.</summary>
    public static double AllReducePeer(string rendezvous, int rank, int world, long elements, int reps)
    {
        TorchRuntime.NumThreads = 1;
        var timeout = TimeSpan.FromSeconds(60);
        using var group = ProcessGroup.Create(new FileRendezvousStore(rendezvous), rank, world, CPU, timeout);
        using var t = torch.ones([elements], device: CPU);
        double seconds = Measure.MedianSeconds(() =>
        {
            group.Barrier();
            group.AllReduce(t);
        }, reps, warmup: 2);
        group.Barrier();
        return seconds * 1e3;
    }
}
