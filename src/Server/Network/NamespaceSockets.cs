using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TypedSandbox.Server.Network;

/// <summary>
/// Sockets that live in a sandbox's network namespace although the engine's threads do not: a socket belongs to the
/// namespace of the thread that made it, so each is made on a short-lived thread that <c>setns</c>-ed there first.
/// </summary>
internal static partial class NamespaceSockets
{
    /// <summary>The mark the proxy's own connections carry; the sandbox's nat rules let marked packets pass unredirected.</summary>
    public const int ProxyMark = 0x7e55;
    private const int CloneNewNet = 0x40000000;
    private const int SolSocket = 1, SoMark = 36, SolIp = 0, SoOriginalDst = 80;

    /// <summary>Runs <paramref name="make"/> on a thread inside the namespace at <paramref name="namespacePath"/>.</summary>
    /// <exception cref="IOException">The namespace could not be entered.</exception>
    public static Task<Socket> CreateAsync(string namespacePath, Func<Socket> make) => RunAsync(namespacePath, make);

    /// <summary>
    /// Runs <paramref name="make"/> on a thread inside the namespace at <paramref name="namespacePath"/>: what it opens
    /// there (a socket, a file under /proc/sys/net) belongs to that namespace.
    /// </summary>
    /// <exception cref="IOException">The namespace could not be entered.</exception>
    public static Task<T> RunAsync<T>(string namespacePath, Func<T> make)
    {
        var made = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        // setns(2) moves the calling thread only; this thread ends right after, so no other work ever runs in there.
        var thread = new Thread(() =>
        {
            try
            {
                using (var file = File.OpenHandle(namespacePath))
                {
                    if (SetNs(file.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        throw new IOException($"Entering the network namespace {namespacePath} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
                    }
                }

                made.SetResult(make());
            }
            catch (Exception e)
            {
                made.SetException(e);
            }
        }, 64 * 1024) { IsBackground = true, Name = "network namespace" };
        thread.Start();
        return made.Task;
    }

    /// <summary>A TCP socket the proxy connects out with, marked so it bypasses the redirect to the proxy.</summary>
    public static Socket MarkedTcp()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(ProxyMark));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Where a redirected connection was going before the nat rule sent it to the proxy (SO_ORIGINAL_DST).</summary>
    public static IPEndPoint? OriginalDestination(Socket accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        var address = new byte[16]; // struct sockaddr_in
        try
        {
            if (accepted.GetRawSocketOption(SolIp, SoOriginalDst, address) < 8)
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }

        return new IPEndPoint(new IPAddress(address.AsSpan(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(address.AsSpan(2)));
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nsType);
}
