using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Model.NN;
using CommerceMM.Scale.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

public class ScalePassTests
{
    private static readonly ScaleConfig Config = TestInputs.Small;

    private static ScaleOutput Run(ScaleModel model, ScaleInputs inputs, ulong planSeed = 7, ScaleMaskPlan? plan = null)
    {
        using var g = new Generator(planSeed);
        var owned = plan is null;
        plan ??= ScaleMaskPlan.Create(model.Config, inputs, inputs.EffectivePresence(model.Config), g, model.Config.Weight);
        try { return ScalePass.Run(model, inputs, plan, ModelCollectives.Single, model.Config.Weight); }
        finally { if (owned) plan.Dispose(); }
    }

    private static Dictionary<string, double[]> Gradients(ScaleModel model, ScaleOutput output)
    {
        model.zero_grad();
        output.Total!.backward();
        var result = new Dictionary<string, double[]>();
        foreach (var (name, p) in model.NamedParameters())
        {
            using var grad = p.grad;
            using var g64 = grad?.to(ScalarType.Float64);
            result[name] = g64 is null ? new double[p.numel()] : Scalars.ToArray<double>(g64);
        }
        model.zero_grad();
        return result;
    }

    private static bool[,] SomeMissing(int rows)
    {
        var p = TestInputs.All(rows);
        p[0, (int)ScaleModality.Audio] = false;
        p[1, (int)ScaleModality.Video] = false;
        p[1, (int)ScaleModality.Table] = false;
        p[2, (int)ScaleModality.Image] = false;
        p[3, (int)ScaleModality.Text] = false;
        p[3, (int)ScaleModality.Audio] = false;
        return p;
    }

    [Fact]
    public void Run_AllPresent_ReportsFifteenOkTasksAndFiveWeights()
    {
        using var model = new ScaleModel(Config, 1);
        using var batch = new TestInputs(Config, rows: 4, seed: 1);
        using var output = Run(model, batch.Inputs);
        Assert.Equal(ScaleTaskIds.All, output.Results.Select(r => r.Task));
        Assert.All(output.Results, r => Assert.True(r.Status == TaskOutcome.Ok && double.IsFinite(r.Loss) && r.Loss > 0, $"{r.Task}: {r.Status} {r.Loss}"));
        Assert.Equal(5, output.Weights.Count);
        Assert.All(output.Weights, w => Assert.True(w.Status == TaskOutcome.Ok && w.Mean > 0 && w.Mean <= 1, $"{w.Modality}: {w.Mean}"));
        Assert.True(double.IsFinite(Scalars.ToDouble(output.Total!)));
    }

    [Fact]
    public void Run_MissingModalityData_ChangesNoLossNoWeightNoGradient()
    {
        // Two batches equal everywhere except in the slots of missing modalities (noise ×7 there).
        using var model = new ScaleModel(Config, 2);
        var present = SomeMissing(5);
        using var a = new TestInputs(Config, rows: 5, seed: 3, present);
        using var b = new TestInputs(Config, rows: 5, seed: 3, present, noiseSeed: 99);
        using var outA = Run(model, a.Inputs);
        using var outB = Run(model, b.Inputs);
        foreach (var (ra, rb) in outA.Results.Zip(outB.Results))
        {
            Assert.Equal(ra.Status, rb.Status);
            Assert.Equal(ra.Loss, rb.Loss, 5);
        }
        double[] wa = Scalars.ToArray<float>(outA.WeightMatrix!).Select(x => (double)x).ToArray(), wb = Scalars.ToArray<float>(outB.WeightMatrix!).Select(x => (double)x).ToArray();
        for (int i = 0; i < wa.Length; i++) Assert.Equal(wa[i], wb[i], 5);
        var ga = Gradients(model, outA);
        var gb = Gradients(model, outB);
        foreach (var (name, g) in ga)
            for (int i = 0; i < g.Length; i++)
                Assert.True(Math.Abs(g[i] - gb[name][i]) <= 1e-5 * (1 + Math.Abs(g[i])), $"{name}[{i}]: {g[i]:R} vs {gb[name][i]:R}");
    }

    [Fact]
    public void Run_BatchWithoutSampleLackingAudio_SameAudioLosses()
    {
        // Row 0 lacks audio: removing it must leave masked_audio and every audio pair unchanged.
        using var model = new ScaleModel(Config, 3);
        var present = SomeMissing(5);
        using var full = new TestInputs(Config, rows: 5, seed: 4, present);
        var presence = full.Inputs.EffectivePresence(Config);
        using var g = new Generator(8);
        using var plan = ScaleMaskPlan.Create(Config, full.Inputs, presence, g, Config.Weight);
        using var scope = NewDisposeScope();
        var rest = tensor(new long[] { 1, 2, 3, 4 }, device: CPU);
        using var subPlan = plan.SelectRows(rest);
        using var outFull = Run(model, full.Inputs, plan: plan);
        using var outRest = Run(model, full.Inputs.SelectRows(rest), plan: subPlan);
        var audioTasks = ScaleTaskIds.All.Where(t => t.Contains("audio", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, audioTasks.Count);
        foreach (string task in audioTasks)
        {
            Assert.Equal(TaskOutcome.Ok, outFull[task].Status);
            Assert.Equal(outFull[task].Loss, outRest[task].Loss, 5);
        }
        Assert.Equal(outFull.Weights[(int)ScaleModality.Audio].Mean, outRest.Weights[(int)ScaleModality.Audio].Mean, 5);
    }

    [Fact]
    public void Fusion_MissingModalityTokens_NotAttended()
    {
        // Direct check of the attention mask: huge tokens of a missing modality change no other output;
        // the same tokens on a present modality do (so the check can fail).
        using var model = new ScaleModel(Config, 4);
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var text = randn([2, 5, Config.Dim], device: CPU, generator: g);
        var audio = randn([2, 3, Config.Dim], device: CPU, generator: g);
        var loud = audio * 1000.0;
        var noPad5 = zeros([2, 5], ScalarType.Bool, device: CPU);
        var noPad3 = zeros([2, 3], ScalarType.Bool, device: CPU);
        var present = TestInputs.Flat(new bool[,] { { false, true, false, false, false }, { false, true, false, false, true } });

        double[] TextOut(Tensor audioTokens) => Scalars.ToArray<float>(model.Fusion.Forward(
            [(ScaleModality.Text, text, noPad5), (ScaleModality.Audio, audioTokens, noPad3)], present)[0]).Select(x => (double)x).ToArray();

        double[] quiet = TextOut(audio), noisy = TextOut(loud);
        int half = quiet.Length / 2;
        for (int i = 0; i < half; i++) Assert.Equal(quiet[i], noisy[i], 5);                 // row 0: audio missing
        Assert.Contains(Enumerable.Range(half, half), i => Math.Abs(quiet[i] - noisy[i]) > 1e-3); // row 1: audio present
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Run_MaskedTextLoss_GradientThroughHarmonizedWeightOnlyWhenEnabled(bool maskedWeightGradient)
    {
        // The image projection reaches masked_text only through W[text, text] (the fusion reads encoder
        // tokens, not projections): a gradient there exists exactly when that route is open.
        var config = Config with
        {
            MaskedWeightGradient = maskedWeightGradient,
            TaskWeights = ScaleTaskIds.All.ToDictionary(t => t, t => t == ScaleTaskIds.Masked(ScaleModality.Text) ? 1.0 : 0.0),
        };
        using var model = new ScaleModel(config, 5);
        using var batch = new TestInputs(config, rows: 4, seed: 5);
        using var output = Run(model, batch.Inputs);
        var grads = Gradients(model, output);
        Assert.Equal(maskedWeightGradient, grads["projections.0.weight"].Max(Math.Abs) > 0);
        Assert.True(grads["text_head.bias"].Max(Math.Abs) > 0, "the masked loss itself must still train its head");
    }

    [Fact]
    public void Run_MaskedText_UniformHead_IsEachRowsHarmonizedWeightTimesLnVocabulary()
    {
        // A head with zero dense weights predicts uniform logits, so every masked token costs ln V:
        // the loss is then Σ_r W[r, text, text]·ln V over the rows with a masked token, divided by their count.
        using var model = new ScaleModel(Config, 21);
        using (no_grad()) { model.TextHead.Dense.weight!.zero_(); model.TextHead.Dense.bias!.zero_(); }
        using var batch = new TestInputs(Config, rows: 4, seed: 22);
        using var g = new Generator(23);
        using var plan = ScaleMaskPlan.Create(Config, batch.Inputs, batch.Inputs.EffectivePresence(Config), g, Config.Weight);
        using var output = Run(model, batch.Inputs, plan: plan);

        long[] labels = Scalars.ToArray<long>(plan.TextLabels!);
        int length = (int)plan.TextLabels!.size(1);
        var rows = Enumerable.Range(0, 4).Where(r => labels.Skip(r * length).Take(length).Any(l => l != ScaleMaskPlan.Ignore)).ToList();
        float[] w = Scalars.ToArray<float>(output.WeightMatrix!);
        double expected = rows.Sum(r => w[r * 25 + 1 * 5 + 1] * Math.Log(Config.Text.VocabSize)) / rows.Count;
        Assert.Equal(expected, output[ScaleTaskIds.Masked(ScaleModality.Text)].Loss, 4);
    }

    [Fact]
    public void Run_MaskedImage_ZeroHead_IsTheWeightedMeanSquareOfTheHiddenPatches()
    {
        // A zero regression head predicts 0, so a masked patch costs the mean square of its pixels.
        using var model = new ScaleModel(Config, 24);
        using (no_grad()) { model.ImageHead.weight!.zero_(); model.ImageHead.bias!.zero_(); }
        using var batch = new TestInputs(Config, rows: 3, seed: 25);
        using var g = new Generator(26);
        using var plan = ScaleMaskPlan.Create(Config, batch.Inputs, batch.Inputs.EffectivePresence(Config), g, Config.Weight);
        using var output = Run(model, batch.Inputs, plan: plan);

        bool[] mask = Scalars.ToArray<bool>(plan.FeatureMask(ScaleModality.Image)!);
        float[] pixels = Scalars.ToArray<float>(batch.Inputs.Images!);
        int side = Config.Image.Size / Config.Image.Patch, patches = side * side, p = Config.Image.Patch, size = Config.Image.Size;
        double MeanSquare(int row, int patch)
        {
            int py = patch / side, px = patch % side;
            double sum = 0;
            for (int y = 0; y < p; y++)
                for (int x = 0; x < p; x++) sum += Math.Pow(pixels[row * size * size + (py * p + y) * size + px * p + x], 2);
            return sum / (p * p);
        }
        float[] w = Scalars.ToArray<float>(output.WeightMatrix!);
        var perRow = Enumerable.Range(0, 3)
            .Select(r => (Row: r, Hidden: Enumerable.Range(0, patches).Where(i => mask[r * patches + i]).ToList()))
            .Where(x => x.Hidden.Count > 0).ToList();
        double expected = perRow.Sum(x => w[x.Row * 25] * x.Hidden.Average(i => MeanSquare(x.Row, i))) / perRow.Count;
        Assert.Equal(expected, output[ScaleTaskIds.Masked(ScaleModality.Image)].Loss, 4);
    }

    [Fact]
    public void Run_OneRowWithAudio_AudioPairsAbsentMaskedAudioOk()
    {
        var present = TestInputs.All(3);
        present[0, (int)ScaleModality.Audio] = false;
        present[1, (int)ScaleModality.Audio] = false;
        using var model = new ScaleModel(Config, 6);
        using var batch = new TestInputs(Config, rows: 3, seed: 6, present);
        using var output = Run(model, batch.Inputs);
        foreach (var r in output.Results)
        {
            bool audioPair = r.Task.StartsWith("pair_", StringComparison.Ordinal) && r.Task.Contains("audio", StringComparison.Ordinal);
            Assert.Equal(audioPair ? TaskOutcome.Absent : TaskOutcome.Ok, r.Status);
        }
    }

    [Fact]
    public void Run_DisabledModalityAndZeroWeight_ReportedDisabled()
    {
        var config = Config with
        {
            Modalities = [ScaleModality.Image, ScaleModality.Text, ScaleModality.Table, ScaleModality.Video],
            TaskWeights = new Dictionary<string, double> { [ScaleTaskIds.Pair(ScaleModality.Image, ScaleModality.Text)] = 0 },
        };
        using var model = new ScaleModel(config, 7);
        using var batch = new TestInputs(config, rows: 3, seed: 7);
        using var output = Run(model, batch.Inputs);
        foreach (var r in output.Results)
        {
            bool disabled = r.Task.Contains("audio", StringComparison.Ordinal) || r.Task == "pair_image_text";
            Assert.Equal(disabled ? TaskOutcome.Disabled : TaskOutcome.Ok, r.Status);
        }
        Assert.Equal(TaskOutcome.Disabled, output.Weights[(int)ScaleModality.Audio].Status);
    }

    [Fact]
    public void Run_RowWithoutAnyModality_ClearError()
    {
        var present = TestInputs.All(3);
        for (int m = 0; m < 5; m++) present[1, m] = false;
        using var model = new ScaleModel(Config, 8);
        using var batch = new TestInputs(Config, rows: 3, seed: 8, present);
        var error = Assert.Throws<ArgumentException>(() => Run(model, batch.Inputs));
        Assert.Contains("row 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AudioLongerThanConfigured_ClearError()
    {
        using var model = new ScaleModel(Config, 9);
        using var batch = new TestInputs(Config with { Audio = Config.Audio with { MaxFrames = 9 } }, rows: 2, seed: 9);
        var error = Assert.Throws<ArgumentException>(() => Run(model, batch.Inputs));
        Assert.Contains("model.audio.max_frames", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model.heads")]
    [InlineData("model.task_weights.pair_text_image")]
    [InlineData("model.video.pool")]
    [InlineData("model.temperature")]
    public void Validate_BadValue_NamesKey(string key)
    {
        var bad = key switch
        {
            "model.heads" => Config with { Heads = 3 },
            "model.task_weights.pair_text_image" => Config with { TaskWeights = new Dictionary<string, double> { ["pair_text_image"] = 1 } },
            "model.video.pool" => Config with { Video = Config.Video with { Pool = 3 } },
            _ => Config with { Temperature = 0 },
        };
        Assert.Equal(key, Assert.Throws<ConfigException>(() => bad.Validate()).Key);
    }
}
