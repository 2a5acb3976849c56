using System.Net;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Coordinator;
using CommerceMM.Observability.Hosting;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Tests.Hosting;

public sealed class MetricsHostingTests
{
    [Fact]
    public async Task MapPrometheusMetrics_WithAddCommerceMMMetrics_ServesWhatTheRegisteredRecorderRecorded()
    {
        var meter = $"{MeterNames.Worker}.test.{Guid.NewGuid():N}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(new TrainingMetrics(meterName: meter));
        builder.Services.AddCommerceMMMetrics(o =>
        {
            o.MeterNames.Clear();
            o.MeterNames.Add(meter);
        });
        await using var app = builder.Build();
        app.MapPrometheusMetrics("/metrics");
        await app.StartAsync();

        app.Services.GetRequiredService<TrainingMetrics>().RecordTaskLoss(TrainingTasks.OmniV2M, 0.75);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        using var response = await http.GetAsync("/metrics");

        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("cmm_task_loss{task=\"omni_v2m\"} 0.75\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapPrometheusMetrics_AsTheCoordinatorMapsIt_EveryScrapeSeesTheLatestChangeAndOnlyGetIsServed()
    {
        var meter = $"{MeterNames.Coordinator}.test.{Guid.NewGuid():N}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(_ => new FleetMetrics(meterName: meter));
        builder.Services.AddCommerceMMMetrics(o =>
        {
            o.MeterNames.Clear();
            o.MeterNames.Add(meter);
        });
        builder.Services.AddCommerceMMMetrics(); // a second call changes nothing
        await using var app = builder.Build();
        app.UseRouting();
        app.MapPrometheusMetrics("/metrics");
        await app.StartAsync();
        var fleet = app.Services.GetRequiredService<FleetMetrics>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        var generations = new List<double>();
        for (var generation = 1; generation <= 3; generation++)
        {
            fleet.SetGeneration(generation);
            var text = await http.GetStringAsync("/metrics");
            generations.Add(Support.Exposition.Samples(text).Single(s => s.Name == MetricNames.Generation).Value);
        }
        using var post = await http.PostAsync("/metrics", content: null);

        // Back to back, well within the exporter's default 300 ms cache: each scrape collects anew.
        Assert.Equal([1, 2, 3], generations);
        Assert.Same(app.Services.GetRequiredService<MeterProvider>(), app.Services.GetRequiredService<MetricsPipeline>().MeterProvider);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public void MapPrometheusMetrics_WithoutPipeline_ThrowsNamingTheRegistration()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapPrometheusMetrics());

        Assert.Contains(nameof(MetricsServiceCollectionExtensions.AddCommerceMMMetrics), error.Message, StringComparison.Ordinal);
    }
}
