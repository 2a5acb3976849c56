namespace CommerceMM.Data.Fashion;

/// <summary>
/// The ten Fashion-MNIST classes with their names and the cut points that turn pixel statistics into
/// attribute words. Cut points are the class's own tertiles, measured once over the 60,000 training
/// photos, so each attribute value covers about a third of each class (a "large" sandal is large for
/// a sandal) and a product's attributes depend on its pixels alone, never on which others are built.
/// </summary>
public sealed record FashionCategory(
    int Id,
    string English,
    string Spanish,
    string German,
    (double Low, double High) InkCuts,
    (double Low, double High) TextureCuts,
    (double Low, double High) AreaCuts,
    decimal BasePrice)
{
    public static readonly IReadOnlyList<FashionCategory> All =
    [
        new(0, "t-shirt", "camiseta", "T-Shirt", (134.5, 186.2), (17.3, 22.6), (400, 440), 19.99m),
        new(1, "trousers", "pantalón", "Hose", (161.9, 192.8), (27.8, 31.6), (237, 259), 49.99m),
        new(2, "pullover", "jersey", "Pullover", (135.1, 190.1), (20.1, 23.6), (446, 500), 44.99m),
        new(3, "dress", "vestido", "Kleid", (153.6, 195.3), (22.2, 28.3), (274, 331), 59.99m),
        new(4, "coat", "abrigo", "Mantel", (168.1, 197.2), (21.3, 25.7), (423, 470), 119.99m),
        new(5, "sandal", "sandalia", "Sandale", (123.1, 148.0), (39.0, 46.1), (156, 218), 34.99m),
        new(6, "shirt", "camisa", "Hemd", (119.0, 176.5), (19.6, 24.9), (423, 484), 39.99m),
        new(7, "sneaker", "zapatilla", "Sneaker", (139.9, 165.2), (30.9, 36.4), (199, 234), 79.99m),
        new(8, "bag", "bolso", "Tasche", (160.7, 187.1), (20.5, 25.6), (377, 453), 69.99m),
        new(9, "ankle boot", "botín", "Stiefelette", (169.3, 189.5), (24.9, 29.0), (310, 362), 89.99m),
    ];

    public static FashionCategory Get(int id) =>
        (uint)id < (uint)All.Count ? All[id] : throw new ArgumentOutOfRangeException(nameof(id), id, "Fashion-MNIST classes are 0..9");

    public string Name(Language language) => language switch
    {
        Language.English => English,
        Language.Spanish => Spanish,
        _ => German,
    };
}

public enum Language
{
    English,
    Spanish,
    German,
}

public static class LanguageCodes
{
    public static string Code(this Language language) => language switch
    {
        Language.English => "en",
        Language.Spanish => "es",
        _ => "de",
    };
}
