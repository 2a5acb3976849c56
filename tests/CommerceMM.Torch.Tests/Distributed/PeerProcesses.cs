using System.Diagnostics;
using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.Serialization;

namespace CommerceMM.Torch.Tests.Distributed;

/// <summary>
/// Starts N real peer processes (tests/CommerceMM.Torch.Peer) that rendezvous through a TCPStore this
/// test process hosts on 127.0.0.1, as the coordinator does in production, and collects what each wrote.
/// </summary>
internal static class PeerProcesses
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    /// <param name="resultRanks">ranks whose result file to read (default: all)</param>
    public static List<SafeTensorsFile> Run(string scenario, int world, int[]? resultRanks = null)
    {
        using var store = TcpStore.StartServer("127.0.0.1", 0, TimeSpan.FromSeconds(60));
        string dir = Directory.CreateTempSubdirectory("cmm-peer-").FullName;
        try
        {
            string peer = Path.Combine(AppContext.BaseDirectory, "CommerceMM.Torch.Peer.dll");
            var processes = new List<(Process Process, Task<string> Output)>();
            for (int rank = 0; rank < world; rank++)
            {
                var info = new ProcessStartInfo("dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (string a in new[] { peer, scenario, store.Port.ToString(), rank.ToString(), world.ToString(), Path.Combine(dir, $"rank{rank}.safetensors") })
                    info.ArgumentList.Add(a);
                info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
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
            return (resultRanks ?? Enumerable.Range(0, world).ToArray()).Select(r => SafeTensors.Read(Path.Combine(dir, $"rank{r}.safetensors"))).ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
