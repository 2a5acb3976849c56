using System.Text.Json;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Tasks;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Debugging;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Scale.Tests;

/// <summary>
/// A SCALE step dump replayed by the independent PyTorch reference (tools/reference/scale.py) gives
/// the same 15 losses, 5 mean harmonized weights and total (1e-4 relative) and the same global
/// gradient norm (1e-3 relative), and the recorded mask plan follows MODEL.md §8 (the reference checks it).
/// </summary>
public class ScaleParityTests
{
    private const double LossRtol = 1e-4, NormRtol = 1e-3;
    private const string Script = "tools/reference/scale.py";

    [Fact]
    public void AllModalitiesAllPresent_AfterWarmup_MatchReference()
    {
        var result = AssertParity(TestInputs.Small, new StepDumpOptions { Rows = 6, Seed = 3, WarmupSteps = 2 }, ScaleSyntheticBatch.AllPresent(6));
        Assert.All(result.Tasks, t => Assert.Equal(TaskOutcome.Ok, t.Status));
    }

    [Fact]
    public void RowsMissingModalities_VideoDisabled_ZeroAndOtherWeights_MatchReference()
    {
        var config = TestInputs.Small with
        {
            Modalities = [ScaleModality.Image, ScaleModality.Text, ScaleModality.Table, ScaleModality.Audio],
            TaskWeights = new Dictionary<string, double> { ["masked_audio"] = 0, ["pair_image_text"] = 2.5, ["masked_table"] = 0.5 },
            MaskedWeightGradient = true,   // the other variants keep the default: the gradient norm tells the two apart
        };
        var result = AssertParity(config, new StepDumpOptions { Rows = 8, Seed = 4, WarmupSteps = 1 }, ScaleSyntheticBatch.MixedPresence(8, config.Modalities));
        // video's masked task and its 4 pairs, and masked_audio (weight 0).
        Assert.Equal(6, result.Tasks.Count(t => t.Status == TaskOutcome.Disabled));
        Assert.Equal(TaskOutcome.Disabled, result.Weights.Single(w => w.Modality == ScaleModality.Video).Status);
    }

    [Fact]
    public void TwoRowsEachLackingOneModality_PairsOfMissingAbsent_MatchReference()
    {
        // Row 0 lacks audio, row 1 lacks image: every pair with image or audio has one eligible row.
        var presence = ScaleSyntheticBatch.AllPresent(2);
        presence[0, (int)ScaleModality.Audio] = false;
        presence[1, (int)ScaleModality.Image] = false;
        var result = AssertParity(TestInputs.Small, new StepDumpOptions { Rows = 2, Seed = 5 }, presence);
        Assert.Equal(TaskOutcome.Absent, result.Tasks.Single(t => t.Task == "pair_image_audio").Status);
        Assert.Equal(TaskOutcome.Ok, result.Tasks.Single(t => t.Task == "pair_text_table").Status);
    }

    private static ScaleStepDumpResult AssertParity(ScaleConfig config, StepDumpOptions options, bool[,] presence)
    {
        string dir = Directory.CreateTempSubdirectory("cmm-scale-dump-").FullName;
        try
        {
            var ours = ScaleStepDump.Write(config, options, dir, presence);
            string output = Path.Combine(dir, "reference.json");
            PyTorchReference.Run(Script, dir, "--out", output);
            using var reference = JsonDocument.Parse(File.ReadAllText(output));
            var root = reference.RootElement;

            var violations = root.GetProperty("spec_violations").EnumerateArray().Select(v => v.GetString()).ToList();
            Assert.True(violations.Count == 0, "the recorded mask plan breaks MODEL.md §8: " + string.Join("; ", violations));

            var failures = new List<string>();
            var tasks = root.GetProperty("tasks");
            foreach (var t in ours.Tasks)
                Compare(failures, t.Task, tasks.GetProperty(t.Task), "loss", t.Status, t.Loss, LossRtol);
            var weights = root.GetProperty("harmonized_weights");
            foreach (var w in ours.Weights)
                Compare(failures, "harmonized " + w.Modality.Name(), weights.GetProperty(w.Modality.Name()), "mean", w.Status, w.Mean, LossRtol);
            Compare(failures, "total", root, "total", TaskOutcome.Ok, ours.Total, LossRtol);
            Compare(failures, "gradient norm", root, "grad_norm", TaskOutcome.Ok, ours.GradNorm, NormRtol, WorstGradients(root));
            Assert.True(failures.Count == 0, $"SCALE step dump in {dir} disagrees with {Script}:\n" + string.Join("\n", failures));
            Directory.Delete(dir, recursive: true);
            return ours;
        }
        catch
        {
            // Keep the dump of a failing case for `tools/reference/scale.py DIR`.
            Console.Error.WriteLine($"SCALE step dump kept for inspection: {dir}");
            throw;
        }
    }

    /// <param name="r">the reference's entry: a "status" (unless it is the root) and the value under <paramref name="key"/></param>
    private static void Compare(List<string> failures, string name, JsonElement r, string key, TaskOutcome status, double ours, double rtol, string hint = "")
    {
        string expectedStatus = r.TryGetProperty("status", out var s) ? s.GetString()! : "ok";
        if (expectedStatus != StepDumpJson.Status(status))
        {
            failures.Add($"{name}: reference {expectedStatus}, ours {StepDumpJson.Status(status)}");
            return;
        }
        if (status != TaskOutcome.Ok) return;
        double expected = r.GetProperty(key).GetDouble();
        double rel = Math.Abs(ours - expected) / Math.Max(Math.Abs(expected), 1e-30);
        if (rel > rtol) failures.Add($"{name}: reference {expected:R}, ours {ours:R} (relative {rel:E2} > {rtol:E0}){hint}");
    }

    private static string WorstGradients(JsonElement root) =>
        root.TryGetProperty("gradient_mismatch", out var rows)
            ? "; worst parameters: " + string.Join(", ", rows.EnumerateArray().Take(3).Select(r => $"{r.GetProperty("name").GetString()} {r.GetProperty("relative").GetDouble():E2}"))
            : "";
}
