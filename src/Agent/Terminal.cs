using System.Runtime.InteropServices;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Agent;

/// <summary>
/// A pseudo-terminal for one process. The agent keeps only the controller side; the process opens the terminal by path
/// in its new session (see <see cref="Spawner"/>), so it becomes that session's controlling terminal and 0x03 written to
/// the controller reaches the foreground process group as SIGINT through the line discipline.
/// </summary>
internal static unsafe class Terminal
{
    private const int PathCapacity = 128;

    /// <summary>Opens a new terminal of <paramref name="size"/>; returns the controller's descriptor and the terminal's path.</summary>
    /// <exception cref="IOException">The sandbox has no usable /dev/ptmx or /dev/pts.</exception>
    public static (int Controller, string Path) Open(TerminalSize size)
    {
        var controller = Libc.posix_openpt(Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
        if (controller < 0)
        {
            throw new IOException($"cannot open a pseudo-terminal (/dev/ptmx): {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (Libc.grantpt(controller) != 0 || Libc.unlockpt(controller) != 0)
            {
                throw new IOException($"cannot unlock the pseudo-terminal: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
            }

            var name = stackalloc byte[PathCapacity];
            var rc = Libc.ptsname_r(controller, name, PathCapacity);
            if (rc != 0)
            {
                throw new IOException($"cannot name the pseudo-terminal: {Libc.ErrorText(rc)}");
            }

            // struct winsize: rows, columns, then pixel sizes (unused), four unsigned shorts.
            var window = stackalloc ushort[4] { size.Rows, size.Columns, 0, 0 };
            if (Libc.ioctl(controller, Libc.TIOCSWINSZ, window) != 0)
            {
                throw new IOException($"cannot set the terminal's window size: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
            }

            return (controller, Marshal.PtrToStringUTF8((nint)name) ?? throw new IOException("the pseudo-terminal has no name"));
        }
        catch
        {
            Libc.close(controller);
            throw;
        }
    }
}
