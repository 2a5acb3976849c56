using System.CommandLine;
using CommerceMM.Cli.Commands;
using CommerceMM.Cli.Hosting;

var parsed = CmmRootCommand.Create().Parse(args);
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (UserErrors.Describe(e) is { } message)
{
    Console.Error.WriteLine($"cmm: {message}");
    return 2;
}
