using CommerceMM.Coordinator.Api;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Hosting;

public static class CoordinatorServiceCollectionExtensions
{
    /// <summary>Registers the entities, the token check, the liveness monitor and the JSON dialect for one job.</summary>
    /// <param name="storePort">Port the hosted c10d store listens on (0 when it is not hosted).</param>
    public static IServiceCollection AddCoordinator(this IServiceCollection services, CoordinatorOptions options, int storePort)
    {
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(options.TimeProvider);
        services.AddSingleton(new CoordinatorRuntime(storePort, options.StoreAdvertisedHost, options.Liveness));
        services.AddSingleton(new JobTokens([new(options.Job.Name, options.Token)]));
        services.AddSingleton(sp => new EntityDirectory([options.Job], options.BlobStore, options.Liveness, options.TimeProvider, sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<LivenessMonitor>();
        services.AddProblemDetails();
        services.Configure<JsonOptions>(json => CoordinatorJson.Configure(json.SerializerOptions));
        return services;
    }
}
