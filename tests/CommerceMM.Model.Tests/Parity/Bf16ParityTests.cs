using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace CommerceMM.Model.Tests.Parity;

/// <summary>
/// model.precision bf16 (the encoders' matmuls in bf16; fp32 master weights, residual stream,
/// embedding projections, heads and loss reductions) against fp32 on the same weights and the same
/// batch: each loss within 2e-2 relative (issue 13).
/// </summary>
public class Bf16ParityTests(ITestOutputHelper output)
{
    private const double LossRtol = 2e-2;

    private static readonly CommerceMMConfig Small = CommerceMMConfig.Tiny() with { Mim = new MimConfig { Prototypes = 32 } };
    private static readonly DeviceSettings CpuBf16 = new(torch.CPU, Precision.Bf16);

    /// <summary>
    /// The dumps people compare: `cmm debug dump-step` with its defaults (tiny, 8 rows, seed 1, no
    /// warm-up), the one tools/gpu/device-checks.sh compares on CUDA (2 warm-up steps, itm off: pass-2
    /// losses fall to 1e-3 and below, where bf16's rounding shows most), and a small one.
    /// </summary>
    [Theory]
    [InlineData("tiny", 8, 1UL, 0, false)]
    [InlineData("tiny", 8, 1UL, 2, true)]
    [InlineData("tiny-32-prototypes", 6, 6UL, 0, false)]
    public void StepDump_Bf16_EachLossWithinTwoPercentOfFp32(string preset, int rows, ulong seed, int warmupSteps, bool itmOff)
    {
        var config = preset == "tiny" ? CommerceMMConfig.Tiny() : Small;
        if (itmOff) config = config with { TaskWeights = new Dictionary<string, double> { [TaskIds.Itm] = 0 } };
        var options = new StepDumpOptions { Rows = rows, Seed = seed, WarmupSteps = warmupSteps };
        var (fp32, fp32Weights, fp32Choices) = Dump(config, options, null);
        var (bf16, bf16Weights, bf16Choices) = Dump(config, options, CpuBf16);
        // Warm-up steps train in fp32 in both dumps, so the dumped step starts from the same weights.
        Assert.Equal(fp32Weights, bf16Weights);
        // ITM's hard negatives are drawn in proportion to the step's similarities, so bf16's rounding can move a draw
        // across a boundary and make itm another loss altogether: with seed 5 and 6 rows, one image drew another
        // negative text once bf16 attention ran in fp32. Losses are compared on the same draws; a case whose draws
        // differ needs another seed.
        Assert.Equal(fp32Choices, bf16Choices);

        var failures = new List<string>();
        double worst = 0;
        foreach (var (f, b) in fp32.Tasks.Zip(bf16.Tasks))
        {
            Assert.Equal(f.Task, b.Task);
            Assert.Equal(f.Status, b.Status);
            if (f.Status != TaskOutcome.Ok) continue;
            double rel = Math.Abs(b.Loss - f.Loss) / Math.Abs(f.Loss);
            worst = Math.Max(worst, rel);
            output.WriteLine($"{f.Task,-10} fp32 {f.Loss,12:F6} bf16 {b.Loss,12:F6} relative {rel:E2}");
            if (rel > LossRtol) failures.Add($"{f.Task}: fp32 {f.Loss:R}, bf16 {b.Loss:R} (relative {rel:E2} > {LossRtol:E0})");
        }
        output.WriteLine($"worst relative difference {worst:E2}");
        Assert.Equal(itmOff ? 13 : 14, fp32.Tasks.Count(t => t.Status == TaskOutcome.Ok));
        Assert.True(failures.Count == 0, "bf16 losses stray from fp32:\n" + string.Join("\n", failures));
        // bf16 really ran: the losses are not bit-identical to fp32's.
        Assert.Contains(fp32.Tasks.Zip(bf16.Tasks), p => p.First.Loss != p.Second.Loss);
    }

    [Fact]
    public void TrainerStep_Bf16_KeepsFp32WeightsGradientsAndMoments()
    {
        using var model = new CommerceMMModel(Small, 1, CpuBf16);
        using var batch = new SyntheticBatch(Small, rows: 4, seed: 2, device: model.Device);
        using var trainer = new Trainer(model, new TrainerOptions());
        var result = trainer.Step(batch.Pairs, batch.Omni, 0);
        Assert.False(result.Skipped);
        Assert.All(model.StateDict(), e => Assert.True(e.Tensor.dtype is ScalarType.Float32 or ScalarType.Int64 or ScalarType.Bool, $"{e.Name} is {e.Tensor.dtype}"));
        Assert.All(trainer.Optimizer.StateTensors(), e => Assert.Equal(ScalarType.Float32, e.Tensor.dtype));
        Assert.False(MixedPrecision.Active);   // the region ends with the pass
    }

    /// <returns>the dump's result, the SHA-256 of its weights file, and the random choices its step drew</returns>
    private static (StepDumpResult Result, string WeightsSha256, string Choices) Dump(CommerceMMConfig config, StepDumpOptions options, DeviceSettings? settings)
    {
        string dir = Directory.CreateTempSubdirectory("cmm-bf16-dump-").FullName;
        try
        {
            var result = StepDump.Write(config, options, dir, settings);
            using var gradients = SafeTensors.Read(Path.Combine(dir, StepDump.GradientsFile));
            Assert.All(gradients.Tensors, g => Assert.Equal(ScalarType.Float32, g.Tensor.dtype));
            string weights = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, StepDump.WeightsFile))));
            using var inputs = SafeTensors.Read(Path.Combine(dir, StepDump.InputsFile));
            string choices = string.Join("\n", inputs.Tensors.Where(e => e.Name.StartsWith(StepDumpInputs.ChoicePrefix, StringComparison.Ordinal))
                .Select(e => $"{e.Name}: {string.Join(",", e.Tensor.to(ScalarType.Int64).data<long>().ToArray())}"));
            return (result, weights, choices);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
