using CommerceMM.Scale.Config;
using CommerceMM.Torch;

namespace CommerceMM.Scale;

/// <summary>
/// The step's masking choices (MODEL.md §8), drawn once per batch so the losses are a pure function of
/// (batch, plan). Per present modality, max(1, round(p·n)) of a sample's n eligible units are picked
/// (p = model.mask_probability): text tokens (then 80% [MASK], 10% random, 10% kept), whole table
/// entities (a key or a value: every token [MASK]), image patches, video frames, audio frames (hidden
/// behind the encoder's mask embedding). Rows lacking a modality, and modalities whose masked task is
/// disabled, get nothing masked. Owns its tensors.
/// </summary>
public sealed class ScaleMaskPlan : IDisposable
{
    public const long Ignore = -100;

    private readonly Dictionary<ScaleModality, Tensor> _featureMasks = [];

    private ScaleMaskPlan() { }

    /// <summary>(B, Lt) text ids with the selected tokens corrupted; null when text is not masked.</summary>
    public Tensor? TextIds { get; private set; }
    /// <summary>(B, Lt) the original id at selected tokens, <see cref="Ignore"/> elsewhere.</summary>
    public Tensor? TextLabels { get; private set; }
    public Tensor? TableIds { get; private set; }
    public Tensor? TableLabels { get; private set; }

    /// <summary>(B, N) bool: masked image patches / video frames / audio frames; null when that modality is not masked.</summary>
    public Tensor? FeatureMask(ScaleModality m) => _featureMasks.GetValueOrDefault(m);

    /// <param name="presence">effective presence per row and modality (see <see cref="ScaleInputs.EffectivePresence"/>)</param>
    /// <param name="weight">the loss weight of a task id; a masked task of weight 0 masks nothing</param>
    /// <param name="generator">draws every row's choices, unless <see cref="ScaleInputs.SampleSeeds"/> gives each row its own</param>
    public static ScaleMaskPlan Create(ScaleConfig config, ScaleInputs inputs, bool[,] presence, Generator generator, Func<string, double> weight)
    {
        if (inputs.SampleSeeds is { } seeds && seeds.Length != inputs.Rows)
            throw new ArgumentException($"{seeds.Length} sample seeds for {inputs.Rows} rows");
        using var draws = new Draws(generator, inputs.SampleSeeds);
        var plan = new ScaleMaskPlan();
        long b = inputs.Rows;
        bool Wanted(ScaleModality m) => config.Enabled(m) && weight(ScaleTaskIds.Masked(m)) != 0;
        // Draw in a fixed modality order so one modality's choices never shift another's.
        if (Wanted(ScaleModality.Text))
            (plan.TextIds, plan.TextLabels) = MaskText(config, inputs.TextIds!, inputs.TextPadding!, Rows(presence, ScaleModality.Text), draws);
        if (Wanted(ScaleModality.Table))
            (plan.TableIds, plan.TableLabels) = MaskTable(config, inputs.TableIds!, inputs.TablePadding!, inputs.TableEntities!, Rows(presence, ScaleModality.Table), draws);
        foreach (var m in new[] { ScaleModality.Image, ScaleModality.Video, ScaleModality.Audio })
        {
            if (!Wanted(m)) continue;
            long n = m switch
            {
                ScaleModality.Image => config.Image.PatchCount,
                ScaleModality.Video => config.Video.Frames,
                _ => inputs.Audio!.Size(1),
            };
            // A row draws for the longest audio the model takes, so its choices never depend on how long the batch's padding is.
            long drawn = m == ScaleModality.Audio ? config.Audio.MaxFrames : n;
            bool[]? padding = m == ScaleModality.Audio ? inputs.AudioPadding!.ToArray<bool>() : null;
            plan._featureMasks[m] = DisposeScope.Detach(MaskPositions(config, b, n, drawn, padding, Rows(presence, m), draws));
        }
        return plan;
    }

    /// <summary>The plan for the rows picked by index, in that order (e.g. the batch without one sample).</summary>
    public ScaleMaskPlan SelectRows(Tensor index)
    {
        var plan = new ScaleMaskPlan
        {
            TextIds = Pick(TextIds), TextLabels = Pick(TextLabels), TableIds = Pick(TableIds), TableLabels = Pick(TableLabels),
        };
        foreach (var (m, mask) in _featureMasks) plan._featureMasks[m] = Pick(mask)!;
        return plan;

        Tensor? Pick(Tensor? t) => t is null ? null : DisposeScope.Detach(t.IndexSelect(0, index));
    }

    public void Dispose()
    {
        TextIds?.Dispose();
        TextLabels?.Dispose();
        TableIds?.Dispose();
        TableLabels?.Dispose();
        foreach (var t in _featureMasks.Values) t.Dispose();
    }

    private static bool[] Rows(bool[,] presence, ScaleModality m) =>
        Enumerable.Range(0, presence.GetLength(0)).Select(r => presence[r, (int)m]).ToArray();

    /// <summary>How many of n eligible units to mask: max(1, round(p·n)), or 0 when there are none.</summary>
    internal static int Count(double p, int n) => n == 0 ? 0 : Math.Max(1, (int)Math.Round(p * n, MidpointRounding.AwayFromZero));

    /// <summary>The k eligible positions of lowest score (a uniform random subset).</summary>
    private static IEnumerable<int> Lowest(float[] scores, long offset, IReadOnlyList<int> eligible, int k) =>
        eligible.OrderBy(i => scores[offset + i]).ThenBy(i => i).Take(k);

    private static (Tensor Ids, Tensor Labels) MaskText(ScaleConfig c, Tensor ids, Tensor padding, bool[] rows, Draws draws)
    {
        long b = ids.Size(0), l = ids.Size(1);
        long[] source = ids.ToArray<long>();
        bool[] pad = padding.ToArray<bool>();
        float[] scores = draws.Uniform(b, l, l), actions = draws.Uniform(b, l, l);
        long[] random = draws.Integers(c.Text.VocabSize, b, l);
        long[] corrupted = (long[])source.Clone();
        var labels = Enumerable.Repeat(Ignore, source.Length).ToArray();
        for (long row = 0; row < b; row++)
        {
            if (!rows[row]) continue;
            long o = row * l;
            var eligible = Enumerable.Range(0, (int)l)
                .Where(i => !pad[o + i] && source[o + i] != c.Text.ClsId && source[o + i] != c.Text.SepId && source[o + i] != c.Text.PadId).ToList();
            foreach (int i in Lowest(scores, o, eligible, Count(c.MaskProbability, eligible.Count)))
            {
                labels[o + i] = source[o + i];
                double u = actions[o + i];
                // BERT: [MASK] with probability 1 − 2·share, a random token with share, kept with share.
                corrupted[o + i] = u < 1 - 2 * c.MaskRandomShare ? c.Text.MaskId : u < 1 - c.MaskRandomShare ? random[o + i] : source[o + i];
            }
        }
        return (DisposeScope.Detach(Torch.Torch.FromArray(corrupted, b, l)), DisposeScope.Detach(Torch.Torch.FromArray(labels, b, l)));
    }

    private static (Tensor Ids, Tensor Labels) MaskTable(ScaleConfig c, Tensor ids, Tensor padding, Tensor entities, bool[] rows, Draws draws)
    {
        long b = ids.Size(0), l = ids.Size(1);
        long[] source = ids.ToArray<long>(), entity = entities.ToArray<long>();
        bool[] pad = padding.ToArray<bool>();
        float[] scores = draws.Uniform(b, l, l);
        long[] corrupted = (long[])source.Clone();
        var labels = Enumerable.Repeat(Ignore, source.Length).ToArray();
        for (long row = 0; row < b; row++)
        {
            if (!rows[row]) continue;
            long o = row * l;
            // Entity e's score is scores[o + e]: one draw per entity, whatever its token count.
            var present = Enumerable.Range(0, (int)l).Where(i => !pad[o + i] && entity[o + i] >= 0).Select(i => (int)entity[o + i]).Distinct().ToList();
            var chosen = Lowest(scores, o, present, Count(c.MaskProbability, present.Count)).ToHashSet();
            for (int i = 0; i < l; i++)
            {
                if (pad[o + i] || !chosen.Contains((int)entity[o + i])) continue;
                labels[o + i] = source[o + i];
                corrupted[o + i] = c.Text.MaskId;
            }
        }
        return (DisposeScope.Detach(Torch.Torch.FromArray(corrupted, b, l)), DisposeScope.Detach(Torch.Torch.FromArray(labels, b, l)));
    }

    private static Tensor MaskPositions(ScaleConfig c, long b, long n, long drawn, bool[]? padding, bool[] rows, Draws draws)
    {
        float[] scores = draws.Uniform(b, n, drawn);
        var mask = new bool[b * n];
        for (long row = 0; row < b; row++)
        {
            if (!rows[row]) continue;
            long o = row * n;
            var eligible = Enumerable.Range(0, (int)n).Where(i => padding is null || !padding[o + i]).ToList();
            foreach (int i in Lowest(scores, o, eligible, Count(c.MaskProbability, eligible.Count))) mask[o + i] = true;
        }
        return Torch.Torch.FromArray(mask, b, n);
    }

    /// <summary>
    /// Where a plan's random numbers come from: one generator for the whole batch, or one per row seeded
    /// from the sample. Per row, each draw takes a fixed count (<c>drawn</c>) and keeps the first n, so a
    /// row's numbers never depend on the batch it is in.
    /// </summary>
    private sealed class Draws : IDisposable
    {
        private readonly Generator _batch;
        private readonly Generator[]? _rows;

        public Draws(Generator batch, ulong[]? seeds)
        {
            _batch = batch;
            _rows = seeds?.Select(s => new Generator(s)).ToArray();
        }

        /// <summary>(b, n) uniform [0, 1) floats, row-major.</summary>
        public float[] Uniform(long b, long n, long drawn) =>
            Draw(b, n, drawn, (shape, g) => Torch.Torch.Rand(shape, g), t => t.ToArray<float>());

        /// <summary>(b, n) integers in [0, high), row-major.</summary>
        public long[] Integers(long high, long b, long n) =>
            Draw(b, n, n, (shape, g) => Torch.Torch.RandInt(0, high, shape, g), t => t.ToArray<long>());

        private T[] Draw<T>(long b, long n, long drawn, Func<long[], Generator, Tensor> sample, Func<Tensor, T[]> read)
        {
            if (_rows is null)
            {
                using var all = sample([b, n], _batch);
                return read(all);
            }
            var values = new T[b * n];
            for (int r = 0; r < b; r++)
            {
                using var row = sample([drawn], _rows[r]);
                read(row).AsSpan(0, (int)n).CopyTo(values.AsSpan(r * (int)n));
            }
            return values;
        }

        public void Dispose()
        {
            foreach (var g in _rows ?? []) g.Dispose();
        }
    }
}
