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
    private const nuint TCGETS = 0x5401, TIOCGPGRP = 0x540F;
    // struct termios as TCGETS fills it: four uint32 flag words, c_line, then c_cc[19].
    private const int TermiosSize = 36, LocalFlagsOffset = 12, ControlCharsOffset = 17;
    private const uint ISIG = 1;
    private const int VINTR = 0, VQUIT = 1, VSUSP = 10, SIGINT = 2, SIGQUIT = 3, SIGTSTP = 20;
    // How long a reaped process's terminal may stay quiet before its output is taken as complete (Linux hands the
    // process's last writes to the controller side from a kernel worker, so they can trail its exit slightly).
    private const int DrainQuietMs = 100;

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

    /// <summary>
    /// The signal typing <paramref name="c"/> raises (SIGINT for VINTR, usually Ctrl-C; SIGQUIT; SIGTSTP), or 0.
    /// The agent delivers these itself instead of typing them: gVisor's line discipline (2022 releases) passes them
    /// through as data, so relying on it would make Ctrl-C depend on the runtime. Like Linux's n_tty, only when ISIG is on.
    /// The settings are read from the controller, or from the terminal itself where the controller does not answer
    /// (gVisor's does not), and are the defaults (ISIG on, ^C ^\ ^Z) when neither does.
    /// </summary>
    public static int SignalFor(int controller, string path, byte c)
    {
        if (c is 0 or >= 0x20)
        {
            return 0; // interrupt characters are control characters (a remapping to a printable byte is not honoured)
        }

        var termios = stackalloc byte[TermiosSize];
        if (!Ask(controller, path, TCGETS, termios))
        {
            return c == 0x03 ? SIGINT : c == 0x1c ? SIGQUIT : c == 0x1a ? SIGTSTP : 0;
        }

        if ((*(uint*)(termios + LocalFlagsOffset) & ISIG) == 0)
        {
            return 0;
        }

        var cc = termios + ControlCharsOffset;
        return c == cc[VINTR] ? SIGINT : c == cc[VQUIT] ? SIGQUIT : c == cc[VSUSP] ? SIGTSTP : 0;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the terminal's foreground process group, as the line discipline would; when
    /// the terminal does not say which group that is, to the group of the process it was opened for
    /// (<paramref name="leader"/>, its session's leader, whose group is the foreground one unless a shell's job control
    /// moved it).
    /// </summary>
    public static void SignalForeground(int controller, string path, int leader, int signal)
    {
        int group;
        if (!Ask(controller, path, TIOCGPGRP, &group) || group <= 0)
        {
            group = leader;
        }

        Libc.kill(-group, signal);
    }

    /// <summary>Runs a read-only ioctl on the controller, else on the terminal opened for it alone; false when neither answers.</summary>
    private static bool Ask(int controller, string path, nuint request, void* answer)
    {
        if (Libc.ioctl(controller, request, answer) == 0)
        {
            return true;
        }

        // O_NOCTTY: opening the terminal must not make it the agent's controlling terminal.
        var fd = Libc.open(path, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return Libc.ioctl(fd, request, answer) == 0;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>
    /// Waits until the controller has output to read (true) or the process was reaped (<paramref name="hangup"/> closed)
    /// and the controller stayed quiet for <see cref="DrainQuietMs"/> (false: the output is complete).
    /// </summary>
    public static bool WaitForOutput(int controller, int hangup, ref bool hungUp)
    {
        var fds = stackalloc int[4];
        while (true)
        {
            // struct pollfd: int fd, short events, short revents.
            fds[0] = controller;
            fds[1] = Libc.POLLIN;
            fds[2] = hangup;
            fds[3] = Libc.POLLIN;
            var rc = Libc.poll(fds, hungUp ? 1u : 2u, hungUp ? DrainQuietMs : -1);
            if (rc < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                {
                    continue;
                }

                return true; // let the read report the error
            }

            if (rc == 0)
            {
                return false;
            }

            if ((fds[1] >> 16) != 0)
            {
                return true; // readable, or hung up (a read then ends with EIO)
            }

            hungUp = true;
        }
    }
}
