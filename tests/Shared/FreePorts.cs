using System.Net;
using System.Net.Sockets;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Free loopback TCP ports for the servers a test starts. The kernel may hand a port out again as soon as its probe
/// listener closes, so two calls in a row could return the same one (a silo and its gateway were once given one port):
/// each port is handed out once per test process.
/// </summary>
internal static class FreePorts
{
    private static readonly HashSet<int> s_given = [];

    public static int Next()
    {
        while (true)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            lock (s_given)
            {
                if (s_given.Add(port)) return port;
            }
        }
    }
}
