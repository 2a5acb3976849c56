using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Tests;

/// <summary>The float weights a job committed at a step, read back from its blob store.</summary>
internal static class CommittedWeights
{
    public static Task<Dictionary<string, float[]>> ReadAsync(string runs, string job, long step) => ReadAsync(new FileBlobStore(runs), job, step);

    public static async Task<Dictionary<string, float[]>> ReadAsync(IBlobStore store, string job, long step)
    {
        var latest = await CheckpointCommitter.ReadLatestAsync(store, job);
        Assert.NotNull(latest);
        Assert.Equal(step, latest.Value.Pointer.Step);
        await using var download = await store.OpenReadAsync(CheckpointLayout.FileKey(job, step, CheckpointFiles.Model));
        Assert.NotNull(download);
        using var file = SafeTensors.Read(download.Content, "model.safetensors");
        return file.Tensors.Where(t => t.Tensor.dtype == ScalarType.Float32).ToDictionary(t => t.Name, t => t.Tensor.data<float>().ToArray());
    }

    /// <summary>Every weight of <paramref name="expected"/>, and no other, equal to the last bit in <paramref name="actual"/>.</summary>
    public static void AssertIdentical(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected) Assert.True(values.AsSpan().SequenceEqual(actual[name]), $"{name} differs");
    }

    /// <summary>
    /// The element that most exceeds the tolerance for "the same training on another world size", or null.
    /// Tolerance: the gathered columns arrive in another order (rank-major vs. sample order), so sums
    /// round differently (~1e-7 relative). Adam's update m/(√v+ε) is scale-free, so for an element whose
    /// gradient is nearly zero that rounding moves it by a visible fraction of lr (1e-3). Measured: median
    /// relative difference ~1e-7, worst ~2e-5 absolute. Bound: 5e-5 absolute (a twentieth of one Adam
    /// step) + 1e-4 relative. The attention key bias is the exception: softmax cancels it, its true
    /// gradient is 0, and both runs feed Adam pure rounding noise, which moves it up to lr per step.
    /// </summary>
    public static string? WorstMismatch(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, int steps)
    {
        double worst = 0;
        string? worstName = null;
        foreach (var (name, values) in expected)
            for (int i = 0; i < values.Length; i++)
            {
                bool keyBias = name.EndsWith("self_attn.in_proj_bias", StringComparison.Ordinal) && i / (values.Length / 3) == 1;
                double tolerance = keyBias ? 2 * steps * 1e-3 : 1e-4 * Math.Abs(values[i]) + 5e-5;
                double excess = Math.Abs(values[i] - actual[name][i]) - tolerance;
                if (excess > worst) (worst, worstName) = (excess, $"{name}[{i}]: expected {values[i]:R}, got {actual[name][i]:R}");
            }
        return worstName;
    }
}
