using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Hosting;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

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
    public void MapPrometheusMetrics_WithoutPipeline_ThrowsNamingTheRegistration()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapPrometheusMetrics());

        Assert.Contains(nameof(MetricsServiceCollectionExtensions.AddCommerceMMMetrics), error.Message, StringComparison.Ordinal);
    }
}
