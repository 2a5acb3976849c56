using System.Diagnostics;
using System.Reflection;

namespace CommerceMM.Cli.Bench;

/// <summary>Starts another instance of this program (apphost or `dotnet cmm.dll`) with OMP_WAIT_POLICY=PASSIVE.</summary>
internal static class SelfProcess
{
    public static Process Start(IEnumerable<string> args, bool redirectOutput = true, IReadOnlyDictionary<string, string>? environment = null)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate this program's executable");
        var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = redirectOutput, RedirectStandardError = redirectOutput };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {host}");
    }
}
