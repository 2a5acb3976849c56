using CommerceMM.Model.Evaluation;
using CommerceMM.Scale.Config;
using CommerceMM.Model.NN;
using CommerceMM.Scale.Evaluation;

namespace CommerceMM.Scale.Tests;

/// <summary>Product embeddings as sums of modality embeddings, modality sets and the table, on synthetic batches.</summary>
public class ScaleEvaluatorTests
{
    private static readonly ScaleConfig Config = TestInputs.Small;

    private static bool[,] Presence()
    {
        var p = TestInputs.All(6);
        p[0, (int)ScaleModality.Audio] = false;
        p[1, (int)ScaleModality.Image] = false;
        p[2, (int)ScaleModality.Text] = p[2, (int)ScaleModality.Table] = false;
        p[3, (int)ScaleModality.Video] = false;
        return p;
    }

    private static readonly int[] Categories = [0, 1, 0, 1, 2, 2];

    private static float[] Vectors(ScaleModel model, TestInputs batch, IReadOnlyCollection<ScaleModality> modalities)
    {
        using var e = ModalityEmbeddings.FromInputs(model, batch.Inputs, Categories);
        using var p = e.Combine(modalities);
        return Scalars.ToArray<float>(p.Vectors);
    }

    [Fact]
    public void Combine_DataInMissingSlotsChanged_EveryEmbeddingUnchanged()
    {
        using var model = new ScaleModel(Config, 21);
        using var a = new TestInputs(Config, rows: 6, seed: 22, Presence());
        using var b = new TestInputs(Config, rows: 6, seed: 22, Presence(), noiseSeed: 23);
        Assert.Equal(Vectors(model, a, ScaleModalities.All), Vectors(model, b, ScaleModalities.All), new Near(1e-6));
    }

    [Fact]
    public void Combine_OneProductLosesAModality_OnlyThatProductChanges()
    {
        using var model = new ScaleModel(Config, 24);
        var fewer = Presence();
        fewer[4, (int)ScaleModality.Table] = false;
        using var a = new TestInputs(Config, rows: 6, seed: 25, Presence());
        using var b = new TestInputs(Config, rows: 6, seed: 25, fewer);
        float[] before = Vectors(model, a, ScaleModalities.All), after = Vectors(model, b, ScaleModalities.All);
        int e = Config.EmbedDim;
        for (int r = 0; r < 6; r++)
        {
            var x = before.AsSpan(r * e, e).ToArray();
            var y = after.AsSpan(r * e, e).ToArray();
            if (r == 4) Assert.True(x.Zip(y).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the product that lost its table must change");
            else Assert.Equal(x, y, new Near(1e-6));
        }
    }

    [Fact]
    public void Combine_SumsOnlyTheSubsetsModalitiesTheProductHas_ThenNormalises()
    {
        using var model = new ScaleModel(Config, 26);
        using var batch = new TestInputs(Config, rows: 6, seed: 27, Presence());
        using var e = ModalityEmbeddings.FromInputs(model, batch.Inputs, Categories);
        using var both = e.Combine([ScaleModality.Image, ScaleModality.Text]);
        // row 1 lacks image, row 2 lacks text: each is its one remaining modality's (unit) embedding
        Assert.Equal([0, 1, 2, 3, 4, 5], both.Rows);
        float[] pooled = Scalars.ToArray<float>(e.Pooled), v = Scalars.ToArray<float>(both.Vectors);
        int d = Config.EmbedDim;
        float[] Pooled(int row, ScaleModality m) => pooled.AsSpan((row * ScaleModalities.Count + (int)m) * d, d).ToArray();
        float[] Row(int row) => v.AsSpan(row * d, d).ToArray();
        Assert.Equal(Pooled(1, ScaleModality.Text), Row(1), new Near(1e-6));
        Assert.Equal(Pooled(2, ScaleModality.Image), Row(2), new Near(1e-6));
        var sum = Pooled(0, ScaleModality.Image).Zip(Pooled(0, ScaleModality.Text), (x, y) => x + y).ToArray();
        double norm = Math.Sqrt(sum.Sum(x => (double)x * x));
        Assert.Equal(sum.Select(x => (float)(x / norm)).ToArray(), Row(0), new Near(1e-6));
        Assert.All(Enumerable.Range(0, 6), r => Assert.Equal(1.0, Math.Sqrt(Row(r).Sum(x => (double)x * x)), 1e-5));
    }

    [Fact]
    public void Combine_ProductWithoutAnyOfTheSubset_LeftOut()
    {
        var p = Presence();
        for (int m = 0; m < ScaleModalities.Count; m++) p[5, m] = m == (int)ScaleModality.Audio;   // row 5: audio only
        using var model = new ScaleModel(Config, 28);
        using var batch = new TestInputs(Config, rows: 6, seed: 29, p);
        using var e = ModalityEmbeddings.FromInputs(model, batch.Inputs, Categories);
        using var image = e.Combine([ScaleModality.Image]);
        Assert.Equal([0, 2, 3, 4], image.Rows);   // row 1 lacks image too
        Assert.Equal([0, 0, 1, 2], image.Categories);
        Assert.True(Scalars.ToArray<float>(image.Vectors).All(float.IsFinite));
    }

    [Fact]
    public void FromInputs_ModelWithoutAModality_NeverUsesIt()
    {
        var imageText = Config with { Modalities = [ScaleModality.Image, ScaleModality.Text] };
        using var model = new ScaleModel(imageText, 30);
        using var batch = new TestInputs(Config, rows: 6, seed: 31, Presence());
        using var e = ModalityEmbeddings.FromInputs(model, batch.Inputs, Categories);
        Assert.All(Enumerable.Range(0, 6), r => Assert.False(e.Available[r, (int)ScaleModality.Table]));
        using var table = e.Combine([ScaleModality.Table]);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void CheckEnabledIn_ModalityTheModelDoesNotEnable_ThrowsNamingIt()
    {
        var imageText = Config with { Modalities = [ScaleModality.Image, ScaleModality.Text] };
        var e = Assert.Throws<ArgumentException>(() => ModalitySet.Parse("image+text+table").CheckEnabledIn(imageText));
        Assert.Contains("table", e.Message);
        Assert.Contains("image+text+table", e.Message);
    }

    [Fact]
    public void PaperAblation_AllModalities_AddsTableVideoAudioInTurn()
    {
        var rows = ModalitySet.PaperAblation(Config);
        Assert.Equal(["image+text", "+table", "+video", "+audio"], rows.Select(r => r.Label));
        Assert.Equal(ScaleModalities.All, rows[^1].Modalities);
        Assert.Equal([ScaleModality.Image, ScaleModality.Text, ScaleModality.Table], rows[1].Modalities);
    }

    [Fact]
    public void PaperAblation_SomeModalities_OnlyThoseEnabled()
    {
        Assert.Equal(["image+text", "+table"], ModalitySet.PaperAblation(Config with { Modalities = [ScaleModality.Table, ScaleModality.Text, ScaleModality.Image] }).Select(r => r.Label));
        Assert.Equal(["table", "+video"], ModalitySet.PaperAblation(Config with { Modalities = [ScaleModality.Video, ScaleModality.Table] }).Select(r => r.Label));
    }

    [Fact]
    public void Parse_AnyOrderAndSeparator_PaperOrderLabel()
    {
        Assert.Equal("image+text+audio", ModalitySet.Parse("audio, text+image").Label);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => ModalitySet.Parse("image+image")).Message);
        Assert.Contains("'sound'", Assert.Throws<ArgumentException>(() => ModalitySet.Parse("image+sound")).Message);
    }

    [Fact]
    public void Format_TwoRows_AlignedMarkdownWithEveryColumn()
    {
        RetrievalScores Scores(double map) => new(100, 100, 0, map, [0.6, 0.5, 0.45], 0.12, 0.1);
        ScaleEvalResult Row(string label, string[] modalities, double map) =>
            new(label, modalities, 200, 0, Scores(map), Scores(0.11), new ProbeRow(label, 300, 200, 0.8, 0.12), 1.0);
        var report = new ScaleEvalReport([1, 5, 10], [Row("image+text", ["image", "text"], 0.4), Row("+table", ["image", "text", "table"], 0.45678)]);
        string text = ScaleEvalTable.Format(report);
        var table = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith('|')).ToList();
        Assert.Equal(4, table.Count);
        Assert.Single(table.Select(l => l.Length).Distinct());
        Assert.All(["mAP", "P@1", "P@5", "P@10", "acc", "chance mAP", "random-emb mAP", "majority acc"], h => Assert.Contains(h, table[0]));
        Assert.Contains("| +table ", table[3]);
        Assert.Contains("0.4568", table[3]);
        Assert.Contains("\"mean_average_precision\": 0.45678", ScaleEvalTable.ToJson(report));
    }

    private sealed class Near(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }
}
