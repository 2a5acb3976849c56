namespace CommerceMM.Coordinator.Hosting;

/// <summary>Facts fixed at start-up that handlers hand to workers: where the c10d store listens, and the liveness settings.</summary>
internal sealed record CoordinatorRuntime(int StorePort, string? StoreAdvertisedHost, LivenessOptions Liveness);
