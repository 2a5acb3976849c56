namespace CommerceMM.Coordinator.Hosting;

/// <summary>A silo's clustering provider did not answer at start-up; the message names the provider and its address.</summary>
public sealed class ClusteringUnreachableException(string message, Exception innerException) : Exception(message, innerException);
