using System.Text.Json;
using System.Text.Json.Serialization;

namespace CommerceMM.Coordinator.Contracts;

/// <summary>The one JSON dialect of the wire contract and of persisted entity state: web casing, enums as strings.</summary>
public static class CoordinatorJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies the dialect to options owned by someone else (ASP.NET Core's).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        if (!options.Converters.Any(c => c is JsonStringEnumConverter))
        {
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        }
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
