using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Fashion;

/// <summary>One catalog product: a Fashion-MNIST photo and the attributes derived from it.</summary>
public sealed record Product(
    string Id,
    FashionSplit Split,
    int SourceIndex,
    FashionCategory Category,
    GrayImage Image,
    Tone Tone,
    Texture Texture,
    Silhouette Silhouette,
    string Brand,
    PriceBand PriceBand,
    decimal Price,
    Language Language);

/// <summary>How light the item is (Fashion-MNIST is inverted: bright ink is a dark item).</summary>
public enum Tone { Light, Medium, Dark }

/// <summary>How busy the surface is, from the mean pixel gradient inside the item.</summary>
public enum Texture { Plain, Textured, Patterned }

/// <summary>How much of the frame the item fills.</summary>
public enum Silhouette { Slim, Regular, Oversized }

public enum PriceBand { Budget, MidRange, Premium }
