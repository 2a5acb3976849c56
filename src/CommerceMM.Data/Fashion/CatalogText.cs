using System.Globalization;

namespace CommerceMM.Data.Fashion;

/// <summary>
/// Titles, descriptions and search queries in English, Spanish and German, filled from varied
/// templates so the tokenizer and model see multilingual catalog text. Phrasing avoids adjective
/// agreement (e.g. Spanish "de tono oscuro") so one word table serves every category.
/// </summary>
public static class CatalogText
{
    private sealed record Words(
        string[] Tone, string[] Texture, string[] Silhouette, string[] Band,
        string[] Titles, string[] Descriptions, string[] Queries, string[] BudgetQueries);

    private static readonly Words English = new(
        Tone: ["light", "mid-tone", "dark"],
        Texture: ["plain", "textured", "patterned"],
        Silhouette: ["slim", "regular", "oversized"],
        Band: ["budget", "mid-range", "premium"],
        Titles:
        [
            "{brand} {tone} {texture} {cat}",
            "{Cat} by {brand}, {tone}, {size} fit",
            "{brand} {size}-fit {cat} in a {tone} shade",
            "{Texture} {cat} - {brand}",
            "{brand} {cat}: {texture}, {tone}",
        ],
        Descriptions:
        [
            "This {size} {cat} from {brand} has a {texture} finish in a {tone} shade. {Band} pick at {price}.",
            "{brand} presents this {tone} {cat}. Fit: {size}. Surface: {texture}. Price: {price}.",
            "{Texture} {cat} with a {size} silhouette. {Tone} colour, {band} range, {price}.",
        ],
        Queries: ["{tone} {cat}", "{brand} {cat}", "{texture} {cat}", "{size} {cat} {tone}", "{cat} {brand} {texture}"],
        BudgetQueries: ["cheap {cat}", "{cat} under {limit} euros"]);

    private static readonly Words Spanish = new(
        Tone: ["tono claro", "tono medio", "tono oscuro"],
        Texture: ["acabado liso", "textura marcada", "estampado"],
        Silhouette: ["corte ajustado", "corte normal", "corte holgado"],
        Band: ["económica", "media", "premium"],
        Titles:
        [
            "{Cat} {brand} de {tone}",
            "{Cat} {brand} con {texture}, {size}",
            "{brand}: {cat} de {size}",
            "{Cat} de {tone} con {texture} - {brand}",
        ],
        Descriptions:
        [
            "{Cat} de {brand} con {size} y {texture}, de {tone}. Gama {band}, {price}.",
            "{brand} presenta este artículo: {cat} de {tone}. Corte: {size}. Superficie: {texture}. Precio: {price}.",
            "{Cat} con {texture} y {size}. Color de {tone}, gama {band}, por {price}.",
        ],
        Queries: ["{cat} {tone}", "{cat} {brand}", "{cat} con {texture}", "{cat} {size}", "{brand} {cat} de {tone}"],
        BudgetQueries: ["{cat} barato", "{cat} por menos de {limit} euros"]);

    private static readonly Words German = new(
        Tone: ["hell", "mittel", "dunkel"],
        Texture: ["glatt", "strukturiert", "gemustert"],
        Silhouette: ["schmal", "normal", "weit"],
        Band: ["günstig", "mittel", "premium"],
        Titles:
        [
            "{brand} {Cat}, {tone}, {texture}",
            "{Cat} von {brand} - Schnitt {size}",
            "{Cat} {brand}: Farbton {tone}",
            "{brand} - {Cat} ({texture}, {size})",
        ],
        Descriptions:
        [
            "{Cat} von {brand}. Farbton: {tone}. Oberfläche: {texture}. Schnitt: {size}. Preisklasse: {band}, {price}.",
            "{brand} zeigt diese(n) {Cat} mit {texture}er Oberfläche und {size}em Schnitt. Nur {price}.",
            "{Cat}, Farbton {tone}, Schnitt {size}. Preisklasse {band} für {price}.",
        ],
        Queries: ["{Cat} {tone}", "{brand} {Cat}", "{Cat} {texture}", "{Cat} {size}", "{Cat} {brand} {tone}"],
        BudgetQueries: ["{Cat} günstig", "{Cat} unter {limit} Euro"]);

    public static string Title(Product product, Language language, int variant) =>
        Fill(Table(language).Titles, variant, product, language);

    public static string Description(Product product, Language language, int variant) =>
        Fill(Table(language).Descriptions, variant, product, language);

    /// <summary>A short search query; budget products sometimes get a price-seeking query.</summary>
    public static string Query(Product product, Language language, int variant)
    {
        var words = Table(language);
        if (product.PriceBand == PriceBand.Budget && variant % 3 == 0)
            return Fill(words.BudgetQueries, variant / 3, product, language);
        return Fill(words.Queries, variant, product, language);
    }

    public static int TitleVariants(Language language) => Table(language).Titles.Length;

    private static Words Table(Language language) => language switch
    {
        Language.English => English,
        Language.Spanish => Spanish,
        _ => German,
    };

    private static string Fill(string[] templates, int variant, Product p, Language language)
    {
        var w = Table(language);
        string template = templates[(int)((uint)variant % (uint)templates.Length)];
        string cat = p.Category.Name(language);
        string tone = w.Tone[(int)p.Tone];
        string texture = w.Texture[(int)p.Texture];
        string band = w.Band[(int)p.PriceBand];
        string text = template
            .Replace("{Cat}", Capitalise(cat)).Replace("{cat}", cat)
            .Replace("{Tone}", Capitalise(tone)).Replace("{tone}", tone)
            .Replace("{Texture}", Capitalise(texture)).Replace("{texture}", texture)
            .Replace("{Band}", Capitalise(band)).Replace("{band}", band)
            .Replace("{size}", w.Silhouette[(int)p.Silhouette])
            .Replace("{brand}", p.Brand)
            .Replace("{price}", FormatPrice(p.Price, language))
            .Replace("{limit}", (Math.Ceiling(p.Price / 10m) * 10m).ToString("0", CultureInfo.InvariantCulture));
        return Capitalise(text);
    }

    private static string FormatPrice(decimal price, Language language) => language == Language.English
        ? "€" + price.ToString("0.00", CultureInfo.InvariantCulture)
        : price.ToString("0.00", CultureInfo.InvariantCulture).Replace('.', ',') + " €";

    private static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
