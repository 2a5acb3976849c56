namespace CommerceMM.Observability.Tests.Support;

/// <summary>Paths in the repository, found from the test binary's location.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Cluster(params string[] parts) => Path.Combine([Root, "cluster", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No CommerceMM.Distributed.sln above {AppContext.BaseDirectory}.");
    }
}
