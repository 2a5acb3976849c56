using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale;

/// <summary>
/// The step's masking choices (MODEL.md §8), drawn once per batch so the losses are a pure function of
/// (batch, plan). Per present modality, max(1, round(p·n)) of a sample's n eligible units are picked
/// (p = model.mask_probability): text tokens (then 80% [MASK], 10% random, 10% kept), whole table
/// entities (a key or a value: every token [MASK]), image patches, video frames, audio frames (hidden
/// behind the encoder's mask embedding). Rows lacking a modality, and modalities whose masked task is
/// disabled, get nothing masked. Every number is drawn on the CPU (so a plan is the same on any device),
/// and the plan's tensors are then put on the batch's device. Owns its tensors.
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
        var device = inputs.Device;
        long b = inputs.Rows;
        bool Wanted(ScaleModality m) => config.Enabled(m) && weight(ScaleTaskIds.Masked(m)) != 0;
        // Draw in a fixed modality order so one modality's choices never shift another's.
        if (Wanted(ScaleModality.Text))
            (plan.TextIds, plan.TextLabels) = MaskText(config, inputs.TextIds!, inputs.TextPadding!, Rows(presence, ScaleModality.Text), draws, device);
        if (Wanted(ScaleModality.Table))
            (plan.TableIds, plan.TableLabels) = MaskTable(config, inputs.TableIds!, inputs.TablePadding!, inputs.TableEntities!, Rows(presence, ScaleModality.Table), draws, device);
        foreach (var m in new[] { ScaleModality.Image, ScaleModality.Video, ScaleModality.Audio })
        {
            if (!Wanted(m)) continue;
            long n = m switch
            {
                ScaleModality.Image => config.Image.PatchCount,
                ScaleModality.Video => config.Video.Frames,
                _ => inputs.Audio!.size(1),
            };
            // A row draws for the longest audio the model takes, so its choices never depend on how long the batch's padding is.
            long drawn = m == ScaleModality.Audio ? config.Audio.MaxFrames : n;
            bool[]? padding = m == ScaleModality.Audio ? Scalars.ToArray<bool>(inputs.AudioPadding!) : null;
            plan._featureMasks[m] = MaskPositions(config, b, n, drawn, padding, Rows(presence, m), draws, device);
        }
        return plan;
    }

    /// <summary>The plan for the rows picked by index, in that order (e.g. the batch without one sample).</summary>
    public ScaleMaskPlan SelectRows(Tensor index) => Map(t => t.index_select(0, index.to(t.device)));

    /// <summary>The same plan with its tensors on <paramref name="device"/> (copies the caller owns; aliases when already there).</summary>
    public ScaleMaskPlan To(Device device) => Map(t => t.to(device));

    private ScaleMaskPlan Map(Func<Tensor, Tensor> f)
    {
        var plan = new ScaleMaskPlan
        {
            TextIds = Apply(TextIds), TextLabels = Apply(TextLabels), TableIds = Apply(TableIds), TableLabels = Apply(TableLabels),
        };
        foreach (var (m, mask) in _featureMasks) plan._featureMasks[m] = Apply(mask)!;
        return plan;

        Tensor? Apply(Tensor? t)
        {
            if (t is null) return null;
            using var scope = NewDisposeScope();
            return f(t).DetachFromDisposeScope();
        }
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

    private static (Tensor Ids, Tensor Labels) MaskText(ScaleConfig c, Tensor ids, Tensor padding, bool[] rows, Draws draws, Device device)
    {
        long b = ids.size(0), l = ids.size(1);
        long[] source = Scalars.ToArray<long>(ids);
        bool[] pad = Scalars.ToArray<bool>(padding);
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
        return (Owned(corrupted, [b, l], device), Owned(labels, [b, l], device));
    }

    private static (Tensor Ids, Tensor Labels) MaskTable(ScaleConfig c, Tensor ids, Tensor padding, Tensor entities, bool[] rows, Draws draws, Device device)
    {
        long b = ids.size(0), l = ids.size(1);
        long[] source = Scalars.ToArray<long>(ids), entity = Scalars.ToArray<long>(entities);
        bool[] pad = Scalars.ToArray<bool>(padding);
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
        return (Owned(corrupted, [b, l], device), Owned(labels, [b, l], device));
    }

    private static Tensor MaskPositions(ScaleConfig c, long b, long n, long drawn, bool[]? padding, bool[] rows, Draws draws, Device device)
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
        return Owned(mask, [b, n], device);
    }

    /// <summary>A plan tensor on the batch's device, outside any dispose scope (the plan owns it).</summary>
    private static Tensor Owned(long[] values, long[] shape, Device device) => tensor(values, shape, device: device).DetachFromDisposeScope();

    private static Tensor Owned(bool[] values, long[] shape, Device device) => tensor(values, shape, device: device).DetachFromDisposeScope();

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
            Draw(b, n, drawn, (shape, g) => rand(shape, device: CPU, generator: g), Scalars.ToArray<float>);

        /// <summary>(b, n) integers in [0, high), row-major.</summary>
        public long[] Integers(long high, long b, long n) =>
            Draw(b, n, n, (shape, g) => randint(0, high, shape, device: CPU, generator: g), Scalars.ToArray<long>);

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
