using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale;

/// <summary>
/// A batch of B products with any subset of the five modalities. <see cref="Present"/> says which; the
/// tensors of a modality the model does not enable may be null. Rows lacking a modality may hold
/// anything there (zeros, padding): the model never lets it reach another row or any loss.
/// The caller owns the tensors.
/// </summary>
public sealed record ScaleInputs
{
    /// <summary>(B, 5) bool in <see cref="ScaleModality"/> order.</summary>
    public required Tensor Present { get; init; }

    /// <summary>(B, C, H, W) float32.</summary>
    public Tensor? Images { get; init; }

    /// <summary>(B, Lt) int64: [CLS] tokens [SEP] then padding.</summary>
    public Tensor? TextIds { get; init; }
    /// <summary>(B, Lt) bool, true at padding.</summary>
    public Tensor? TextPadding { get; init; }

    /// <summary>(B, Lb) int64: [CLS] key : value ; … [SEP] then padding.</summary>
    public Tensor? TableIds { get; init; }
    public Tensor? TablePadding { get; init; }
    /// <summary>(B, Lb) int64: the entity (a whole key or a whole value) each token belongs to, numbered from 0; -1 elsewhere.</summary>
    public Tensor? TableEntities { get; init; }

    /// <summary>(B, F, C, H, W) float32 frames.</summary>
    public Tensor? Video { get; init; }

    /// <summary>(B, T, mels) float32 log-mel frames.</summary>
    public Tensor? Audio { get; init; }
    /// <summary>(B, T) bool, true at padding frames.</summary>
    public Tensor? AudioPadding { get; init; }

    /// <summary>
    /// Optional per-row seeds from each sample's identity: a row's masks are then a function of the
    /// sample, not of the rank or row it landed on, so a job masks alike on any world size. Null draws
    /// every row from the step generator.
    /// </summary>
    public ulong[]? SampleSeeds { get; init; }

    public long Rows => Present.size(0);

    /// <summary>Where the batch lives (its presence tensor's device).</summary>
    public Device Device => Present.device;

    /// <summary>The same rows picked by index (int64), e.g. a batch without one sample.</summary>
    public ScaleInputs SelectRows(Tensor index)
    {
        var rows = index.to(Present.device);
        return Map(t => t.index_select(0, rows)) with
        {
            SampleSeeds = SampleSeeds is null ? null : Scalars.ToArray<long>(index).Select(i => SampleSeeds[i]).ToArray(),
        };
    }

    /// <summary>
    /// The batch on <paramref name="device"/>: new tensor handles (aliases when already there), owned by the
    /// caller's dispose scope like any other result.
    /// </summary>
    public ScaleInputs To(Device device) => Map(t => t.to(device));

    private ScaleInputs Map(Func<Tensor, Tensor> f) => new()
    {
        SampleSeeds = SampleSeeds,
        Present = f(Present),
        Images = Images is null ? null : f(Images),
        TextIds = TextIds is null ? null : f(TextIds),
        TextPadding = TextPadding is null ? null : f(TextPadding),
        TableIds = TableIds is null ? null : f(TableIds),
        TablePadding = TablePadding is null ? null : f(TablePadding),
        TableEntities = TableEntities is null ? null : f(TableEntities),
        Video = Video is null ? null : f(Video),
        Audio = Audio is null ? null : f(Audio),
        AudioPadding = AudioPadding is null ? null : f(AudioPadding),
    };

    /// <summary>Presence as the model uses it: given and enabled. Throws for a row with no usable modality.</summary>
    /// <exception cref="ArgumentException">A row has no enabled modality, or an enabled modality's tensors are missing.</exception>
    public bool[,] EffectivePresence(ScaleConfig config)
    {
        long b = Rows;
        if (Present.dim() != 2 || Present.size(1) != ScaleModalities.Count || Present.dtype != ScalarType.Bool)
            throw new ArgumentException($"Present must be (batch, {ScaleModalities.Count}) bool; got {TensorMemory.FormatShape(Present.shape)} {Present.dtype}");
        bool[] flat = Scalars.ToArray<bool>(Present);
        var result = new bool[b, ScaleModalities.Count];
        foreach (var m in ScaleModalities.All)
        {
            bool enabled = config.Enabled(m);
            if (enabled && Tensors(m).Any(t => t is null))
                throw new ArgumentException($"modality '{m.Name()}' is enabled (model.modalities) but the batch carries no {m.Name()} tensors");
            for (long r = 0; r < b; r++) result[r, (int)m] = enabled && flat[r * ScaleModalities.Count + (int)m];
        }
        for (long r = 0; r < b; r++)
        {
            bool any = false;
            for (int m = 0; m < ScaleModalities.Count; m++) any |= result[r, m];
            if (!any) throw new ArgumentException($"row {r} has none of the enabled modalities ({string.Join(", ", config.Modalities.Select(x => x.Name()))}): drop such samples before batching");
        }
        return result;
    }

    private Tensor?[] Tensors(ScaleModality m) => m switch
    {
        ScaleModality.Image => [Images],
        ScaleModality.Text => [TextIds, TextPadding],
        ScaleModality.Table => [TableIds, TablePadding, TableEntities],
        ScaleModality.Video => [Video],
        _ => [Audio, AudioPadding],
    };
}
