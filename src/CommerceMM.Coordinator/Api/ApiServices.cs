using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Metrics;

namespace CommerceMM.Coordinator.Api;

/// <summary>What every handler needs, bound with <c>[AsParameters]</c> (eShop's CatalogServices shape).</summary>
internal sealed class ApiServices(IGrainFactory grains, CoordinatorRuntime runtime, FleetMetricsFeed fleet)
{
    public IGrainFactory Grains { get; } = grains;

    public FleetMetricsFeed Fleet { get; } = fleet;

    public CoordinatorRuntime Runtime { get; } = runtime;

    /// <summary>The job's grains; the token middleware has already answered 404 for unknown jobs.</summary>
    public JobGrains Job(string job) => JobGrains.For(Grains, job);
}
