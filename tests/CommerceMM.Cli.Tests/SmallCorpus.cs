using CommerceMM.Data.Fashion;

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

[CollectionDefinition(Name)]
public sealed class EndToEndCollection : ICollectionFixture<SmallCorpus>
{
    public const string Name = "end-to-end";
}
