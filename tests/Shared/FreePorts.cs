using System.Net;
using System.Net.Sockets;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Free loopback TCP ports for the servers a test starts, each handed out once per test process (two probes of port 0 in
/// a row once gave a silo and its gateway one port). They come from below the kernel's ephemeral range, which outgoing
/// connections and port-0 binds draw from: a server restarted on its port (a coordinator restart) does not find it taken
/// by one of those in between ("Address already in use" in RestartTests).
/// </summary>
internal static class FreePorts
{
    private const int Span = 12_000;
    private static readonly Lock s_gate = new();
    private static readonly int s_low = Math.Max(1024, EphemeralLow() - Span);
    // Test processes of one run start at different places, so that they rarely probe the same ports.
    private static int s_cursor = s_low + Environment.ProcessId * 61 % Span;

    public static int Next()
    {
        lock (s_gate)
        {
            for (int tried = 0; tried < Span; tried++)
            {
                int port = s_cursor;
                s_cursor = port + 1 >= s_low + Span ? s_low : port + 1;
                if (IsFree(port)) return port;
            }
        }

        throw new InvalidOperationException($"no free port in {s_low}-{s_low + Span - 1}");
    }

    private static int EphemeralLow()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0]);
        }
        catch (IOException)
        {
            return 32768; // Linux's default
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
