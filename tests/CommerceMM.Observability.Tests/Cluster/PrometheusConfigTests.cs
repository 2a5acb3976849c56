using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Cluster;

/// <summary>The files under cluster/prometheus, checked by the promtool of the Prometheus we ship against.</summary>
public sealed class PrometheusConfigTests
{
    [Fact]
    public async Task PromtoolCheckConfig_LocalConfig_Succeeds()
    {
        var result = await Tool.RunAsync(Tool.Promtool, ["check", "config", RepoPaths.Cluster("prometheus", "prometheus.yml")]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS: 1 rule files found", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolCheckConfig_KubernetesConfigWithStaticDiscovery_Succeeds()
    {
        // Debian builds Prometheus without Kubernetes discovery, so its promtool rejects the
        // kubernetes_sd_configs key itself. Swap just that block for a static target and check the
        // rest (relabelling regexes, rule file) for real.
        var original = await File.ReadAllTextAsync(RepoPaths.Cluster("prometheus", "prometheus-kubernetes.yml"));
        const string discovery = "    kubernetes_sd_configs:\n      - role: pod\n";
        Assert.Contains(discovery, original, StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("cmm-k8s-config-");
        try
        {
            File.Copy(RepoPaths.Cluster("prometheus", "alerts.yml"), Path.Combine(dir.FullName, "alerts.yml"));
            var config = Path.Combine(dir.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(config, original.Replace(discovery, "    static_configs:\n      - targets: [\"127.0.0.1:9400\"]\n", StringComparison.Ordinal));

            var result = await Tool.RunAsync(Tool.Promtool, ["check", "config", config]);

            Assert.True(result.ExitCode == 0, result.Output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task PromtoolCheckRules_Alerts_Succeeds()
    {
        var result = await Tool.RunAsync(Tool.Promtool, ["check", "rules", RepoPaths.Cluster("prometheus", "alerts.yml")]);

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task PromtoolTestRules_SyntheticSeries_AlertsFireAsExpected()
    {
        // Stalled job, failed job, missing worker, NaN/Inf loss, old checkpoint, loss spike, straggler.
        var result = await Tool.RunAsync(Tool.Promtool, ["test", "rules", RepoPaths.Cluster("prometheus", "tests", "alerts_test.yml")]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerts_EveryRule_IsCoveredOrNamedAsUntested()
    {
        var rules = (await File.ReadAllLinesAsync(RepoPaths.Cluster("prometheus", "alerts.yml")))
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("- alert: ", StringComparison.Ordinal))
            .Select(l => l["- alert: ".Length..])
            .ToHashSet();
        var tests = await File.ReadAllTextAsync(RepoPaths.Cluster("prometheus", "tests", "alerts_test.yml"));

        // Two simple threshold rules are left to `promtool check rules`; every other rule has a unit test.
        var untested = rules.Where(r => !tests.Contains($"alertname: {r}\n", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(["CmmHeartbeatLate", "CmmStepsSkipped"], untested);
    }
}
