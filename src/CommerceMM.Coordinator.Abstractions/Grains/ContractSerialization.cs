using CommerceMM.Coordinator.Contracts;
using Orleans.Serialization;

namespace CommerceMM.Coordinator.Grains;

/// <summary>How the control plane's contracts travel between clients and silos: as JSON in the wire dialect of <see cref="CoordinatorJson"/>.</summary>
public static class ContractSerialization
{
    /// <summary>
    /// Our records (JsonElement specs included) use System.Text.Json rather than Orleans' generated serializers: one
    /// dialect for grain calls, stored state and the HTTP API, and no [Id] attribute to keep in step on every field.
    /// </summary>
    public static ISerializerBuilder AddCoordinatorContracts(this ISerializerBuilder serializer) =>
        serializer.AddJsonSerializer(IsContract, CoordinatorJson.Options);

    public static bool IsContract(Type type) => type.Namespace?.StartsWith("CommerceMM.", StringComparison.Ordinal) == true;
}
