using System.Text.Json;
using CommerceMM.Cli.Launch;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Tests;

public sealed class PrometheusTargetsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cmm-targets-").FullName;

    [Fact]
    public void Update_RankedMembersWithUrls_ListsCoordinatorThenWorkersWithTheirLabels()
    {
        var targets = new PrometheusTargets(Path.Combine(_dir, "t", "job.json"), "job-a", new Uri("http://127.0.0.1:7070/metrics"));

        targets.Update(
        [
            Member("w1", rank: 1, "http://127.0.0.1:40001/metrics"),
            Member("w0", rank: 0, "http://127.0.0.1:40000/metrics"),
            Member("w2", rank: 2, url: null),     // serves no metrics (yet)
            Member("w3", rank: null, "http://127.0.0.1:40003/metrics"), // waiting in a rendezvous: no rank to label it with
        ]);

        var groups = JsonDocument.Parse(File.ReadAllText(targets.Path)).RootElement.EnumerateArray().ToList();
        Assert.Equal(["127.0.0.1:7070", "127.0.0.1:40000", "127.0.0.1:40001"], groups.Select(g => g.GetProperty("targets")[0].GetString()));
        var labels = groups.Select(g => g.GetProperty("labels")).ToList();
        Assert.Equal(["coordinator", "worker", "worker"], labels.Select(l => l.GetProperty("component").GetString()));
        Assert.All(labels, l => Assert.Equal("job-a", l.GetProperty("cmm_job").GetString()));
        Assert.All(labels, l => Assert.Equal("/metrics", l.GetProperty("__metrics_path__").GetString()));
        Assert.False(labels[0].TryGetProperty("rank", out _));
        Assert.Equal(["0", "1"], labels.Skip(1).Select(l => l.GetProperty("rank").GetString()));
    }

    [Fact]
    public void Clear_AfterUpdate_LeavesAnEmptyTargetList()
    {
        var targets = new PrometheusTargets(Path.Combine(_dir, "job.json"), "job-a", new Uri("http://127.0.0.1:7070/metrics"));
        targets.Update([Member("w0", 0, "http://127.0.0.1:40000/metrics")]);

        targets.Clear();

        Assert.Empty(JsonDocument.Parse(File.ReadAllText(targets.Path)).RootElement.EnumerateArray());
        Assert.False(File.Exists(targets.Path + ".tmp"));
    }

    [Theory]
    [InlineData("file:/data/runs", "/data/runs/prometheus-targets/job-a.json")]
    [InlineData("azure:", "runs/prometheus-targets/job-a.json")]
    public void DefaultPath_BesideAFileStoreElseUnderRuns(string store, string expected) =>
        Assert.Equal(expected, PrometheusTargets.DefaultPath(store, "job-a"));

    private static MemberView Member(string id, int? rank, string? url) =>
        new(id, rank, MemberState.Running, 5, 0.1, 0.2, 0.0, null, MetricsUrl: url);

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
