using Microsoft.Extensions.Logging.Console;

namespace CommerceMM.Observability.Logging;

/// <summary>Options of <see cref="CmmConsoleFormatter"/>.</summary>
public sealed class CmmConsoleFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>One JSON object per line (for log collectors) instead of a readable text line.</summary>
    /// <value>false.</value>
    public bool Json { get; set; }
}
