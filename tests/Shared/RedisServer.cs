using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// A real Redis (Debian's /usr/bin/redis-server) on 127.0.0.1 and a free port, in memory only (no RDB, no AOF), for
/// Orleans' Redis clustering. Stopped by the PID it was started with. Compiled into each test project that needs it.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/redis-server";

    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string (and <c>cmm coordinator --clustering redis=</c> value).</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(TimeSpan readyWithin)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing; run tools/bootstrap (Debian package 'redis-server').");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start redis-server.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        var deadline = Stopwatch.StartNew();
        while (!await server.PingsAsync())
        {
            if (process.HasExited || deadline.Elapsed > readyWithin)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"redis-server on port {port} did not answer PING within {readyWithin.TotalSeconds} s");
            }

            await Task.Delay(50);
        }

        return server;
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n"));
            byte[] reply = new byte[16];
            int read = await stream.ReadAsync(reply);
            return Encoding.ASCII.GetString(reply, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
