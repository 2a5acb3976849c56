using CommerceMM.Data.Fashion;

namespace CommerceMM.Data.Tests.Fashion;

public class ProductAttributesTests
{
    private static readonly IReadOnlyList<(Data.Imaging.GrayImage Image, int Label)> Photos =
        FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Train, limit: 600);

    [Fact]
    public void Derive_SamePhotoTwice_GivesIdenticalProduct()
    {
        var a = ProductAttributes.Derive("p", FashionSplit.Train, 7, Photos[7].Image, Photos[7].Label);
        var b = ProductAttributes.Derive("p", FashionSplit.Train, 7, Photos[7].Image, Photos[7].Label);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Derive_ManyPhotos_UsesEveryValueOfEachAttribute()
    {
        var products = Photos.Select((p, i) => ProductAttributes.Derive($"p{i}", FashionSplit.Train, i, p.Image, p.Label)).ToList();

        // Per-class tertile cuts should spread each attribute over all three values.
        Assert.Equal(3, products.Select(p => p.Tone).Distinct().Count());
        Assert.Equal(3, products.Select(p => p.Texture).Distinct().Count());
        Assert.Equal(3, products.Select(p => p.Silhouette).Distinct().Count());
        Assert.Equal(3, products.Select(p => p.PriceBand).Distinct().Count());
        Assert.Equal(3, products.Select(p => p.Language).Distinct().Count());
        Assert.True(products.Select(p => p.Brand).Distinct().Count() >= 10);
        Assert.All(products, p => Assert.EndsWith(".99", p.Price.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData(Language.English, "€")]
    [InlineData(Language.Spanish, "€")]
    [InlineData(Language.German, "€")]
    public void CatalogText_EveryLanguage_NamesCategoryAndBrandWithoutPlaceholders(Language language, string currency)
    {
        var p = ProductAttributes.Derive("p", FashionSplit.Train, 0, Photos[0].Image, Photos[0].Label);
        for (int variant = 0; variant < 6; variant++)
        {
            string title = CatalogText.Title(p, language, variant);
            string description = CatalogText.Description(p, language, variant);
            string query = CatalogText.Query(p, language, variant);
            Assert.Contains(p.Category.Name(language), (title + description).ToLowerInvariant(), StringComparison.OrdinalIgnoreCase);
            Assert.Contains(currency, description);
            Assert.DoesNotContain("{", title + description + query);
            Assert.False(string.IsNullOrWhiteSpace(query));
        }
    }
}
