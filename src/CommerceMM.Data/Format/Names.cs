namespace CommerceMM.Data.Format;

/// <summary>Stream names of the commerce data sets.</summary>
public static class StreamNames
{
    /// <summary>Pass 1 image-text pairs (training).</summary>
    public const string Pairs = "pairs";

    /// <summary>Pass 2 source/target pairs of kinds query, photo, listing (training).</summary>
    public const string Omni = "omni";

    /// <summary>Held-out gallery: products of the test split with category labels.</summary>
    public const string EvalPairs = "eval_pairs";

    /// <summary>Held-out queries and photos (and listings) pointing at gallery products.</summary>
    public const string EvalOmni = "eval_omni";

    /// <summary>SCALE: five-modality products, each modality present or not (training).</summary>
    public const string Products = "products";

    /// <summary>SCALE: held-out five-modality products of the test split.</summary>
    public const string EvalProducts = "eval_products";
}

/// <summary>The modalities this format knows.</summary>
public static class Modality
{
    public const string Image = "image";
    public const string Text = "text";

    /// <summary>Attribute key/value pairs (M5Product's table; SCALE data sets only).</summary>
    public const string Table = "table";

    /// <summary>A short frame sequence of the product (SCALE data sets only).</summary>
    public const string Video = "video";

    /// <summary>The spoken title as a log-mel spectrogram (SCALE data sets only).</summary>
    public const string Audio = "audio";

    public static readonly IReadOnlyList<string> Known = [Image, Text, Table, Video, Audio];

    public static string Validate(string name) =>
        Known.Contains(name) ? name : throw new DatasetException($"unknown modality '{name}' (known: {string.Join(", ", Known)})");
}

/// <summary>Omni pair kinds (MODEL.md §4). The numeric values are what pass-2 batches carry.</summary>
public enum PairKind
{
    /// <summary>Source is text only: a search query that led to the product.</summary>
    Query = 0,

    /// <summary>Source is image only: a user photo of the product.</summary>
    Photo = 1,

    /// <summary>Source is image + text: another listing of the same product.</summary>
    Listing = 2,
}
