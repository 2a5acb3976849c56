using System.Diagnostics;
using CommerceMM.Tensors;

namespace CommerceMM.Collectives.Tests;

/// <summary>
/// Starts N real peer processes (tests/CommerceMM.Collectives.Peer) that meet through a store in a
/// fresh temporary directory, and collects what each wrote.
/// </summary>
internal static class PeerProcesses
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    /// <summary>What one run left behind: each result rank's file and every rank's console output.</summary>
    internal sealed record Run(List<SafeTensorsFile> Results, string[] Output, string Directory) : IDisposable
    {
        public void Dispose()
        {
            Results.ForEach(f => f.Dispose());
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    /// <param name="resultRanks">ranks whose result file to read (default: all)</param>
    /// <param name="environment">extra variables for every peer; "{rank}" and "{dir}" in values are replaced</param>
    public static Run Start(string scenario, int world, int[]? resultRanks = null, IReadOnlyDictionary<string, string>? environment = null, params string[] arguments)
    {
        string dir = Directory.CreateTempSubdirectory("cmm-peer-").FullName;
        string store = Path.Combine(dir, "store");
        Directory.CreateDirectory(store);
        string peer = Path.Combine(AppContext.BaseDirectory, "CommerceMM.Collectives.Peer.dll");
        var processes = new List<(Process Process, Task<string> Output)>();
        try
        {
            for (int rank = 0; rank < world; rank++)
            {
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (string a in new[] { peer, scenario, store, rank.ToString(), world.ToString(), Path.Combine(dir, $"rank{rank}.safetensors") }.Concat(arguments))
                    info.ArgumentList.Add(a);
                info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
                foreach (var (name, value) in environment ?? new Dictionary<string, string>())
                    info.Environment[name] = value.Replace("{rank}", rank.ToString()).Replace("{dir}", dir);
                var process = Process.Start(info)!;
                var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync())
                    .ContinueWith(t => string.Join("\n", t.Result));
                processes.Add((process, output));
            }
            foreach (var (process, output) in processes)
            {
                if (!process.WaitForExit(ProcessTimeout))
                {
                    foreach (var (p, _) in processes) if (!p.HasExited) p.Kill(entireProcessTree: true);
                    throw new TimeoutException($"peer for '{scenario}' did not finish within {ProcessTimeout}");
                }
                if (process.ExitCode != 0) throw new InvalidOperationException($"peer exited with {process.ExitCode}:\n{output.Result}");
            }
            var results = (resultRanks ?? Enumerable.Range(0, world).ToArray()).Select(r => SafeTensors.Read(Path.Combine(dir, $"rank{r}.safetensors"))).ToList();
            return new Run(results, processes.Select(p => p.Output.Result).ToArray(), dir);
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }
}
