using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using CommerceMM.Storage.Azure;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>
/// A real Azurite server (installed by tools/bootstrap) for blobs, or for tables (Orleans' Azure Table clustering), on
/// 127.0.0.1, a free port and a private data folder. Stopped by PID: SIGTERM, then wait for the process to exit
/// (Azurite takes a moment to flush).
/// </summary>
internal sealed partial class AzuriteServer(string service = "blob") : IAsyncDisposable
{
    private readonly TempDirectory _location = new();
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>The port, fixed at the first start so a restarted server keeps its address (the outage test needs that).</summary>
    public int Port { get; private set; }

    /// <summary>The folder Azurite keeps its data in (the corruption tests flip bytes of stored blobs there).</summary>
    public string Location => _location.Path;

    /// <summary>The path-style endpoint of the development account.</summary>
    public Uri ServiceUri => new($"http://127.0.0.1:{Port}/devstoreaccount1");

    /// <summary>The development account's connection string for this server's service.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AzureStorageConnectionString.DevelopmentAccountName};AccountKey={AzureStorageConnectionString.DevelopmentAccountKey};{(service == "table" ? "Table" : "Blob")}Endpoint={ServiceUri};";

    private string Executable
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "CommerceMM.Distributed.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            string path = Path.Combine(dir ?? "/", "tools", ".servers", "node_modules", ".bin", $"azurite-{service}");
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"Azurite is not installed at '{path}': run tools/bootstrap (or tools/bootstrap --no-native).");
        }
    }

    /// <summary>Starts the server (on a new free port the first time, the same port after <see cref="StopAsync"/>) and waits until it answers HTTP.</summary>
    public async Task StartAsync()
    {
        for (int attempt = 0; ; attempt++)
        {
            if (_process is null && Port == 0 || attempt > 0)
            {
                Port = FreePorts.Next();
            }

            try
            {
                await StartOnceAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // The free port was taken between probing and binding by another test's server: pick another.
                await StopAsync();
            }
        }
    }

    /// <summary>Like <see cref="StartAsync"/> but insists on the current port (restarting after an outage).</summary>
    public Task RestartAsync() => StartOnceAsync();

    private async Task StartOnceAsync()
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--location", _location.Path, $"--{service}Host", "127.0.0.1", $"--{service}Port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--disableTelemetry", "--skipApiVersionCheck" })
        {
            info.ArgumentList.Add(arg);
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException("Could not start Azurite.");
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} on port {Port}: {Output}");
            }

            try
            {
                // Any HTTP answer (this one is 4xx: unsigned) means it is listening.
                using HttpResponseMessage _ = await http.GetAsync(ServiceUri + "?comp=list");
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Azurite did not answer on port {Port} within 60 s: {Output}");
    }

    /// <summary>
    /// Flips one bit of a stored blob in Azurite's own files, behind the service's back (bit rot at rest): finds
    /// <paramref name="marker"/> (bytes unique to the blob) and flips its middle byte. Only inside the marker: Azurite
    /// stores blocks wherever they land in shared extent files, so bytes after the marker may belong to another blob.
    /// </summary>
    public void FlipStoredByte(byte[] marker)
    {
        int offset = marker.Length / 2;
        foreach (string file in Directory.EnumerateFiles(Path.Combine(Location, "__blobstorage__")))
        {
            byte[] bytes = File.ReadAllBytes(file);
            int at = bytes.AsSpan().IndexOf(marker);
            if (at >= 0)
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                stream.Position = at + offset;
                int b = stream.ReadByte();
                stream.Position = at + offset;
                stream.WriteByte((byte)(b ^ 0x40));
                return;
            }
        }

        throw new InvalidOperationException("The marker bytes are in none of Azurite's blob files.");
    }

    /// <summary>SIGTERM, then wait for exit (SIGKILL only if it has not exited after 20 s).</summary>
    public async Task StopAsync()
    {
        Process? process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, 15);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _location.Dispose();
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
