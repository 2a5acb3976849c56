using System.CommandLine;
using CommerceMM.Cli.Commands;
using CommerceMM.Cli.Hosting;
using CommerceMM.Tensors;

ConsoleLines.WriteWholeLines();
var parsed = CmmRootCommand.Create().Parse(args);
if (ParseErrors.Report(parsed, Console.Error)) return ParseErrors.ExitCode;
if (parsed.CommandResult.Command is StoppableCommand) Signals.ForProcess();
try
{
    // Before any torch use: TorchSharp would otherwise swallow the loader's error and blame a missing package.
    TorchRuntime.EnsureLoaded();
}
catch (TorchLoadException e)
{
    Console.Error.WriteLine($"cmm: {e.Message}");
    return 1;
}
try
{
    // ProcessTerminationTimeout = null: System.CommandLine would otherwise exit the process 2 s after
    // SIGTERM, killing a worker in the middle of its preemption checkpoint. Hosting/Signals handles it.
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
}
catch (CommerceMM.Data.Format.DataSourceException e)
{
    // A remote data set's store out of reach: unlike the errors below, another start may well succeed (a supervisor restarts on 1).
    Console.Error.WriteLine($"cmm: data set source problem: {e.Message}");
    return 1;
}
catch (Exception e) when (UserErrors.Describe(e) is { } message)
{
    Console.Error.WriteLine($"cmm: {message}");
    return 2;
}
