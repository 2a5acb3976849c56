namespace CommerceMM.Cli.Hosting;

/// <summary>
/// A progress bar on a terminal, a line per 10% when output is redirected (CI logs, kubectl logs).
/// Thread-safe: builders report from background threads. Commands whose standard output is a report
/// (cmm checkpoints, cmm data inspect) draw it on standard error, so the report stays clean when piped.
/// </summary>
internal sealed class ConsoleProgress(string unit = "", bool toStandardError = false) : IProgress<(string Stage, long Done, long Total)>
{
    private readonly object _gate = new();
    private string _stage = "";
    private int _lastDecile = -1;

    private TextWriter Output => toStandardError ? Console.Error : Console.Out;
    private bool Redirected => toStandardError ? Console.IsErrorRedirected : Console.IsOutputRedirected;

    public void Report((string Stage, long Done, long Total) value)
    {
        lock (_gate)
        {
            double fraction = value.Total > 0 ? Math.Clamp((double)value.Done / value.Total, 0, 1) : 0;
            if (value.Stage != _stage)
            {
                if (_stage.Length > 0 && !Redirected) Output.WriteLine();
                _stage = value.Stage;
                _lastDecile = -1;
            }
            if (Redirected)
            {
                int decile = (int)(fraction * 10);
                if (decile == _lastDecile) return;
                _lastDecile = decile;
                Output.WriteLine($"{value.Stage}: {fraction:P0} ({value.Done:N0}/{value.Total:N0}{unit})");
                return;
            }
            const int width = 30;
            int filled = (int)(fraction * width);
            Output.Write($"\r{value.Stage,-10} [{new string('#', filled)}{new string('.', width - filled)}] {fraction,4:P0} {value.Done:N0}/{value.Total:N0}{unit}   ");
            if (value.Done >= value.Total) Output.WriteLine();
        }
    }
}
