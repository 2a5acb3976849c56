using CommerceMM.Data.Fashion;
using CommerceMM.Data.Scale;

namespace CommerceMM.Cli.Tests;

/// <summary>A few hundred real Fashion-MNIST products, built once for all end-to-end tests.</summary>
public sealed class SmallCorpus : IDisposable
{
    public SmallCorpus()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("cmm-e2e-data-").FullName;
        FashionDatasetBuilder.BuildAsync(new FashionDatasetOptions { OutputDirectory = Directory, TrainLimit = 400, EvalLimit = 60, VocabSize = 600 })
            .GetAwaiter().GetResult();
    }

    public string Directory { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>A hundred five-modality SCALE products (16 with spoken titles), built once for the SCALE end-to-end tests.</summary>
public sealed class SmallScaleCorpus : IDisposable
{
    public SmallScaleCorpus()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("cmm-e2e-scale-").FullName;
        ScaleDatasetBuilder.BuildAsync(new ScaleDatasetOptions
        {
            Catalog = new FashionDatasetOptions { OutputDirectory = Directory, TrainLimit = 100, EvalLimit = 40, VocabSize = 300 },
            AudioLimit = 16,
        }).GetAwaiter().GetResult();
    }

    public string Directory { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class EndToEndCollection : ICollectionFixture<SmallCorpus>, ICollectionFixture<SmallScaleCorpus>
{
    public const string Name = "end-to-end";
}
