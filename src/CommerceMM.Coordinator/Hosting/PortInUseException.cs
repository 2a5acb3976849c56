using System.Net;
using System.Net.Sockets;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>A port the coordinator must listen on is taken on this machine; the message names it and how to find the holder.</summary>
public sealed class PortInUseException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>
    /// Orleans listens with SO_REUSEPORT on Linux: a second silo on a taken silo or gateway port starts without an error,
    /// and the kernel then splits the workers' connections between the two, so a job's workers reach another job's
    /// coordinator ("runs no job named …") now and then. Binding a plain socket first finds the port taken.
    /// </summary>
    /// <param name="port">the port to listen on</param>
    /// <param name="what">what listens there and the option that set it, e.g. "the gateway port 30000 (--gateway-port)"</param>
    /// <param name="address">the one address that will listen; null for every address (Orleans' endpoints)</param>
    public static void ThrowIfTaken(int port, string what, IPAddress? address = null)
    {
        address ??= IPAddress.Any;
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw Taken(what, port, e);
        }
    }

    internal static PortInUseException Taken(string what, int? port, Exception inner) =>
        new($"{what} is in use on this machine (another coordinator?{(port is { } p ? $" `ss -ltnp 'sport = :{p}'` names the process" : "")}): pick a free port", inner);
}
