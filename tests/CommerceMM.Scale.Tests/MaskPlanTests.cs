using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

public class MaskPlanTests
{
    private static readonly ScaleConfig Config = TestInputs.Small;

    [Fact]
    public void Create_TableEntities_MaskedWhole()
    {
        using var batch = new TestInputs(Config, rows: 6, seed: 2);
        using var g = new Generator(5);
        var presence = batch.Inputs.EffectivePresence(Config);
        using var plan = ScaleMaskPlan.Create(Config, batch.Inputs, presence, g, Config.Weight);
        long[] entities = Scalars.ToArray<long>(batch.Inputs.TableEntities!);
        long[] labels = Scalars.ToArray<long>(plan.TableLabels!), ids = Scalars.ToArray<long>(plan.TableIds!);
        int l = Config.Table.MaxLength;
        for (int r = 0; r < 6; r++)
        {
            var masked = Enumerable.Range(0, l).Where(i => labels[r * l + i] != ScaleMaskPlan.Ignore).ToList();
            Assert.NotEmpty(masked);
            foreach (int i in masked)
            {
                Assert.Equal(Config.Text.MaskId, ids[r * l + i]);
                long e = entities[r * l + i];
                Assert.True(e >= 0, "only entity tokens are masked");
                // Every token of a masked entity is masked.
                Assert.All(Enumerable.Range(0, l).Where(j => entities[r * l + j] == e), j => Assert.NotEqual(ScaleMaskPlan.Ignore, labels[r * l + j]));
            }
        }
    }

    [Fact]
    public void Create_MissingModalityAndDisabledTask_MaskNothing()
    {
        var present = TestInputs.All(4);
        present[1, (int)ScaleModality.Audio] = false;
        present[2, (int)ScaleModality.Text] = false;
        using var batch = new TestInputs(Config, rows: 4, seed: 3, present);
        using var g = new Generator(5);
        var presence = batch.Inputs.EffectivePresence(Config);
        using var plan = ScaleMaskPlan.Create(Config, batch.Inputs, presence, g, t => t == ScaleTaskIds.Masked(ScaleModality.Video) ? 0 : 1);
        Assert.Null(plan.FeatureMask(ScaleModality.Video));
        bool[] audio = Scalars.ToArray<bool>(plan.FeatureMask(ScaleModality.Audio)!);
        bool[] padding = Scalars.ToArray<bool>(batch.Inputs.AudioPadding!);
        int t = Config.Audio.MaxFrames;
        Assert.DoesNotContain(true, audio.Skip(t).Take(t));                     // row 1 has no audio
        for (int i = 0; i < audio.Length; i++) Assert.False(audio[i] && padding[i], "padding frames are never masked");
        long[] labels = Scalars.ToArray<long>(plan.TextLabels!);
        int l = Config.Text.MaxLength;
        Assert.All(labels.Skip(2 * l).Take(l), x => Assert.Equal(ScaleMaskPlan.Ignore, x)); // row 2 has no text
    }

    [Fact]
    public void Create_TextSelection_FollowsEightyTenTen()
    {
        var config = Config with { Text = Config.Text with { MaxLength = 10, VocabSize = 1000 }, MaskProbability = 0.5 };
        using var batch = new TestInputs(config, rows: 400, seed: 4);
        using var g = new Generator(6);
        using var plan = ScaleMaskPlan.Create(config, batch.Inputs, batch.Inputs.EffectivePresence(config), g, config.Weight);
        long[] source = Scalars.ToArray<long>(batch.Inputs.TextIds!), ids = Scalars.ToArray<long>(plan.TextIds!), labels = Scalars.ToArray<long>(plan.TextLabels!);
        int selected = 0, masked = 0, kept = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == ScaleMaskPlan.Ignore) { Assert.Equal(source[i], ids[i]); continue; }
            selected++;
            Assert.NotEqual(config.Text.ClsId, source[i]);
            Assert.NotEqual(config.Text.SepId, source[i]);
            if (ids[i] == config.Text.MaskId) masked++;
            else if (ids[i] == source[i]) kept++;
        }
        Assert.InRange(masked / (double)selected, 0.75, 0.85);
        Assert.InRange(kept / (double)selected, 0.06, 0.14);   // kept, plus the rare random draw of the same id
    }
}
