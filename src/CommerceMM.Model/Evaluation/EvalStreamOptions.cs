namespace CommerceMM.Model.Evaluation;

/// <summary>Which parts of a data set <see cref="EvalStreams"/> reads, and how much of them.</summary>
public sealed record EvalStreamOptions
{
    public const int DefaultProbeTrainItems = 2000;
    public const int DefaultBatchSize = 256;

    /// <summary>The data set folder (holding dataset.json). Required.</summary>
    public required string DatasetDirectory { get; init; }

    /// <value>Token ids per text, [CLS] and [SEP] included; must be the model's text length. Default 24.</value>
    public int TextLength { get; init; } = 24;

    /// <value>Gallery products kept, the first N by product key (so the same N for every seed); null keeps all. Default null.</value>
    /// <remarks>Queries and photos of products left out are dropped with them, so recall stays well defined.</remarks>
    public int? GalleryLimit { get; init; }

    /// <value>Labelled training-split products embedded to train the linear probe. Default 2000.</value>
    public int ProbeTrainItems { get; init; } = DefaultProbeTrainItems;

    /// <value>Seeds the order the streams are read in, and so which training products the probe gets. Default 1.</value>
    public ulong Seed { get; init; } = 1;

    /// <value>Rows decoded per loader batch. Default 256.</value>
    public int BatchSize { get; init; } = DefaultBatchSize;

    public EvalStreamOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(DatasetDirectory)) throw new ArgumentException($"{nameof(DatasetDirectory)} is required");
        if (GalleryLimit is < 1) throw new ArgumentException($"{nameof(GalleryLimit)} must be at least 1, got {GalleryLimit}");
        if (ProbeTrainItems < 1) throw new ArgumentException($"{nameof(ProbeTrainItems)} must be at least 1, got {ProbeTrainItems}");
        if (BatchSize < 1) throw new ArgumentException($"{nameof(BatchSize)} must be at least 1, got {BatchSize}");
        return this;
    }
}
