namespace CommerceMM.Data.Catalog;

/// <summary>
/// One product of a user's catalog file (one JSON object per line). Image paths are absolute: the reader resolves
/// them against the catalog file's folder.
/// </summary>
/// <param name="Line">the product's line in the catalog file, for messages</param>
/// <param name="Queries">search queries that led to the product (pass-2 "query" sources)</param>
/// <param name="Photos">users' photos of the product (pass-2 "photo" sources)</param>
/// <param name="Listings">other listings or posts of the same product (pass-2 "listing" sources)</param>
/// <param name="Split">where the catalog put it; null lets the build decide from the product id</param>
public sealed record CatalogProduct(
    int Line,
    string Id,
    string Title,
    string? Description,
    string Image,
    string? Category,
    IReadOnlyList<string> Queries,
    IReadOnlyList<string> Photos,
    IReadOnlyList<CatalogListing> Listings,
    CatalogSplit? Split)
{
    /// <summary>The product's text as the model reads it: the title, then the description.</summary>
    public string Text => Description is null ? Title : $"{Title.TrimEnd('.', ' ')}. {Description}";

    /// <summary>Every file the product points at.</summary>
    public IEnumerable<string> Files => new[] { Image }.Concat(Photos).Concat(Listings.Select(l => l.Image));
}

/// <summary>Another listing of the same product: its own text and image.</summary>
public sealed record CatalogListing(string Text, string Image);

public enum CatalogSplit { Train, Eval }

/// <summary>Something of the catalog that the build left out, and why: a whole product, or one of its sources.</summary>
/// <param name="Line">the catalog line</param>
/// <param name="Id">the product id, when the line had one</param>
/// <param name="What">"product", or the source left out ("photo 2", "query 1", "listing 1")</param>
public sealed record CatalogProblem(int Line, string? Id, string What, string Reason)
{
    public bool LostProduct => What == "product";

    public override string ToString() => $"line {Line}{(Id is null ? "" : $" ({Id})")}: {What} skipped: {Reason}";
}
