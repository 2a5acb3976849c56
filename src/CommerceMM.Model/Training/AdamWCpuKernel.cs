using System.Numerics;
using CommerceMM.Tensors;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>The per-step scalars of an AdamW update, in the element type the update runs in.</summary>
/// <param name="GradScale">the clipping coefficient, applied to each gradient as it is read (1: none)</param>
/// <param name="StepSize">−lr / (1 − β1^t)</param>
/// <param name="SqrtBiasCorrection2">√(1 − β2^t)</param>
/// <remarks>1 − β is rounded from double, as PyTorch rounds its double scalars once.</remarks>
internal readonly record struct AdamWScalars(
    float GradScale, float Decay, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float Eps, float StepSize, float SqrtBiasCorrection2);

/// <summary>
/// One AdamW update over flat fp32 CPU buffers, in a single pass. The same update as seven tensor ops reads and writes
/// every buffer once per op, 22 passes over memory (and the square root allocates a buffer as large as the model);
/// this reads the parameters, gradients and both moments once and writes three of them once, like PyTorch's
/// <c>fused=True</c> AdamW. At the base preset on 2 threads: 118 ms a step, against 592 ms as tensor ops.
/// </summary>
internal static unsafe class AdamWCpuKernel
{
    /// <summary>Elements per parallel chunk: large enough to amortise scheduling, small enough to share work on 2 cores.</summary>
    private const int ChunkElements = 1 << 18;

    /// <param name="ranges">[start, end) element ranges to update (parameters with a gradient); the rest stay as they are</param>
    /// <param name="decayedLength">elements before this one are weight-decayed</param>
    public static void Apply(FlatParameters flat, Tensor expAvg, Tensor expAvgSq, IReadOnlyList<(long Start, long End)> ranges, long decayedLength, AdamWScalars s)
    {
        float* p = (float*)TensorMemory.DataPointer(flat.Values);
        float* g = (float*)TensorMemory.DataPointer(flat.Gradients);
        float* m = (float*)TensorMemory.DataPointer(expAvg);
        float* v = (float*)TensorMemory.DataPointer(expAvgSq);
        var chunks = new List<(long Start, long End)>();
        foreach (var (start, end) in ranges)
        {
            for (long c = start; c < end; c += ChunkElements) chunks.Add((c, Math.Min(end, c + ChunkElements)));
        }

        Parallel.For(0, chunks.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, TorchRuntime.NumThreads) }, i =>
        {
            var (start, end) = chunks[i];
            long split = Math.Clamp(decayedLength, start, end);
            Update(p, g, m, v, start, split, s, s.Decay);
            Update(p, g, m, v, split, end, s, 1f);
        });
    }

    private static void Update(float* p, float* g, float* m, float* v, long start, long end, in AdamWScalars s, float decay)
    {
        long i = start;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            Vector<float> scale = new(s.GradScale), d = new(decay), b1 = new(s.Beta1), c1 = new(s.OneMinusBeta1), b2 = new(s.Beta2), c2 = new(s.OneMinusBeta2);
            Vector<float> eps = new(s.Eps), step = new(s.StepSize), bias2 = new(s.SqrtBiasCorrection2);
            for (; i + width <= end; i += width)
            {
                var grad = Vector.Load(g + i) * scale;
                var mean = Vector.Load(m + i) * b1 + grad * c1;
                var square = Vector.Load(v + i) * b2 + c2 * grad * grad;
                var denominator = Vector.SquareRoot(square) / bias2 + eps;
                (Vector.Load(p + i) * d + step * (mean / denominator)).Store(p + i);
                mean.Store(m + i);
                square.Store(v + i);
            }
        }

        for (; i < end; i++)
        {
            float grad = g[i] * s.GradScale;
            float mean = m[i] * s.Beta1 + grad * s.OneMinusBeta1;
            float square = v[i] * s.Beta2 + s.OneMinusBeta2 * grad * grad;
            float denominator = MathF.Sqrt(square) / s.SqrtBiasCorrection2 + s.Eps;
            p[i] = p[i] * decay + s.StepSize * (mean / denominator);
            m[i] = mean;
            v[i] = square;
        }
    }
}
