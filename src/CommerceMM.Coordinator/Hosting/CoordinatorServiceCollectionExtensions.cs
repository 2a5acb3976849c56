using CommerceMM.Coordinator.Api;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Metrics;
using CommerceMM.Observability.Coordinator;
using CommerceMM.Observability.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Hosting;

public static class CoordinatorServiceCollectionExtensions
{
    /// <summary>Registers the token check, the liveness monitor, the fleet metrics and the JSON dialect for one job (the grains come with the silo).</summary>
    public static IServiceCollection AddCoordinator(this IServiceCollection services, CoordinatorOptions options)
    {
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(new CoordinatorRuntime(options.Liveness));
        services.AddSingleton(new JobTokens([new(options.Job.Name, options.Token)]));
        services.AddHostedService<LivenessMonitor>();
        // Registered before AddCommerceMMMetrics (which only adds what is missing), on the configured meter, and the
        // pipeline listens to that meter alone: a coordinator exports fleet figures, never a worker's.
        services.AddSingleton(_ => new FleetMetrics(options.Stragglers, options.TimeProvider, options.MetricsMeterName));
        services.AddCommerceMMMetrics(metrics =>
        {
            metrics.MeterNames.Clear();
            metrics.MeterNames.Add(options.MetricsMeterName);
        });
        services.AddSingleton<FleetMetricsFeed>();
        services.AddSingleton<FleetMetricsRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetMetricsRefresher>());
        services.AddProblemDetails();
        services.Configure<JsonOptions>(json => CoordinatorJson.Configure(json.SerializerOptions));
        return services;
    }
}
