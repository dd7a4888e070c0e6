using System.Runtime.InteropServices;
using TypedSandbox.Agent.Protocol;

namespace TypedSandbox.Agent;

/// <summary>Starts processes with posix_spawn: a fresh session each (so a kill reaches the whole group), default
/// signal dispositions and an empty mask (the .NET runtime ignores SIGPIPE; children must not inherit that).</summary>
internal static unsafe class Spawner
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    // glibc's posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80, sigset_t 128: leave headroom.
    private const int OpaqueSize = 1024;

    /// <summary>The process's stdio. With a terminal the child has no ends here (-1): it opens <see cref="TerminalPath"/>
    /// itself; the parent's stdin and stdout ends are two descriptors of the terminal's controller.</summary>
    public readonly record struct Pipes(int StdinChild, int StdinParent, int StdoutChild, int StdoutParent, int StderrChild, int StderrParent,
        string? TerminalPath = null);

    /// <summary>Creates the process's pipes (or its terminal); discarded streams get /dev/null and no parent end (-1).</summary>
    public static Pipes CreatePipes(SpawnRequest request)
    {
        if (request.Terminal is { } size)
        {
            var (controller, path) = Terminal.Open(size);
            // Two descriptors: the stdin writer closes its own on EOF while the output pump keeps reading.
            var output = Libc.fcntl(controller, Libc.F_DUPFD_CLOEXEC, 3);
            if (output < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                Libc.close(controller);
                throw new IOException($"dup of the terminal failed: {Libc.ErrorText(errno)}");
            }

            return new Pipes(-1, controller, -1, output, -1, -1, path);
        }

        var stdin = MakePipe();
        var (outChild, outParent) = request.DiscardStdout ? (OpenDevNull(), -1) : Swap(MakePipe());
        var (errChild, errParent) = request.DiscardStderr ? (OpenDevNull(), -1) : Swap(MakePipe());
        return new Pipes(stdin.Read, stdin.Write, outChild, outParent, errChild, errParent);
    }

    public static void CloseChildEnds(Pipes pipes)
    {
        foreach (var fd in (ReadOnlySpan<int>)[pipes.StdinChild, pipes.StdoutChild, pipes.StderrChild])
        {
            if (fd >= 0)
            {
                Libc.close(fd);
            }
        }
    }

    public static void CloseParentEnds(Pipes pipes)
    {
        Libc.close(pipes.StdinParent);
        if (pipes.StdoutParent >= 0)
        {
            Libc.close(pipes.StdoutParent);
        }

        if (pipes.StderrParent >= 0)
        {
            Libc.close(pipes.StderrParent);
        }
    }

    /// <summary>Spawns the process; returns its pid, or an error message for the engine.</summary>
    public static (int Pid, string? Error) Spawn(SpawnRequest request, Pipes pipes)
    {
        if (request.Args.Count == 0)
        {
            return (0, "no command given");
        }

        if (request.Workdir is { } dir && Libc.access(dir, Libc.F_OK) != 0)
        {
            return (0, $"working directory {dir} does not exist");
        }

        if (request.Args[0] == AgentLayout.FsToolsPath)
        {
            request = request with { Args = AgentLayout.AgentCommand(["fs-tools", .. request.Args.Skip(1)]) };
        }

        var executable = Resolve(request.Args[0], request.Env, request.Workdir);
        if (executable is null)
        {
            return (0, $"{request.Args[0]}: executable file not found in $PATH");
        }

        var attr = stackalloc byte[OpaqueSize];
        var actions = stackalloc byte[OpaqueSize];
        var allSignals = stackalloc byte[OpaqueSize];
        var noSignals = stackalloc byte[OpaqueSize];
        var allocations = new List<nint>();
        try
        {
            Check(Libc.posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(Libc.sigfillset(allSignals), "sigfillset");
            Check(Libc.sigemptyset(noSignals), "sigemptyset");
            Check(Libc.posix_spawnattr_setsigdefault(attr, allSignals), "posix_spawnattr_setsigdefault");
            Check(Libc.posix_spawnattr_setsigmask(attr, noSignals), "posix_spawnattr_setsigmask");
            Check(Libc.posix_spawnattr_setflags(attr, Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSID), "posix_spawnattr_setflags");
            Check(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            if (pipes.TerminalPath is { } terminal)
            {
                // Opened after setsid and without O_NOCTTY: the terminal becomes the new session's controlling terminal.
                Check(Libc.posix_spawn_file_actions_addopen(actions, 0, Utf8(terminal, allocations), Libc.O_RDWR, 0), "posix_spawn_file_actions_addopen");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 0, 1), "posix_spawn_file_actions_adddup2");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 0, 2), "posix_spawn_file_actions_adddup2");
            }
            else
            {
                Check(Libc.posix_spawn_file_actions_adddup2(actions, pipes.StdinChild, 0), "posix_spawn_file_actions_adddup2");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, pipes.StdoutChild, 1), "posix_spawn_file_actions_adddup2");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, pipes.StderrChild, 2), "posix_spawn_file_actions_adddup2");
            }

            if (request.Workdir is not null)
            {
                Check(Libc.posix_spawn_file_actions_addchdir_np(actions, Utf8(request.Workdir, allocations)), "posix_spawn_file_actions_addchdir_np");
            }

            var argv = ToCArray(request.Args, allocations);
            var envp = ToCArray(request.Env, allocations);
            int pid;
            var rc = Libc.posix_spawn(&pid, Utf8(executable, allocations), actions, attr, argv, envp);
            return rc == 0 ? (pid, null) : (0, $"{request.Args[0]}: {Libc.ErrorText(rc)}");
        }
        finally
        {
            _ = Libc.posix_spawn_file_actions_destroy(actions);
            _ = Libc.posix_spawnattr_destroy(attr);
            foreach (var p in allocations)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    // These calls fail only when out of memory; a spawn then reports the error instead of running half-configured.
    private static void Check(int rc, string call)
    {
        if (rc != 0)
        {
            throw new IOException($"{call} failed: {Libc.ErrorText(rc)}");
        }
    }

    /// <summary>PATH lookup with the request's PATH (posix_spawnp would use the agent's own environment).</summary>
    private static string? Resolve(string file, IReadOnlyList<string> env, string? workdir)
    {
        if (file.Contains('/'))
        {
            return file;
        }

        var path = DefaultPath;
        foreach (var entry in env)
        {
            if (entry.StartsWith("PATH=", StringComparison.Ordinal))
            {
                path = entry[5..];
            }
        }

        foreach (var dir in path.Split(':'))
        {
            var baseDir = dir.Length == 0 ? workdir ?? "/" : dir;
            var candidate = baseDir.EndsWith('/') ? baseDir + file : baseDir + "/" + file;
            if (!candidate.StartsWith('/') && workdir is not null)
            {
                candidate = workdir.TrimEnd('/') + "/" + candidate;
            }

            if (Libc.access(candidate, Libc.X_OK) == 0)
            {
                return candidate;
            }
        }
        return null;
    }

    // Default 64 KiB pipes on purpose: bigger ones (F_SETPIPE_SZ) count against uid 0's pipe-user-pages-soft, which
    // every sandbox and the host share; past it, new pipes shrink to one page for everyone.
    private static (int Read, int Write) MakePipe()
    {
        var fds = stackalloc int[2];
        if (Libc.pipe2(fds, Libc.O_CLOEXEC) != 0)
        {
            throw new IOException($"pipe2 failed: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        return (fds[0], fds[1]);
    }

    // Output pipes: the child writes (write end) and the agent reads (read end).
    private static (int Child, int Parent) Swap((int Read, int Write) pipe) => (pipe.Write, pipe.Read);

    private static int OpenDevNull()
    {
        var fd = Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"open /dev/null failed: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        return fd;
    }

    private static byte* Utf8(string value, List<nint> allocations)
    {
        var p = Marshal.StringToCoTaskMemUTF8(value);
        allocations.Add(p);
        return (byte*)p;
    }

    private static byte** ToCArray(IReadOnlyList<string> items, List<nint> allocations)
    {
        var array = (byte**)Marshal.AllocCoTaskMem((items.Count + 1) * sizeof(nint));
        allocations.Add((nint)array);
        for (var i = 0; i < items.Count; i++)
        {
            array[i] = Utf8(items[i], allocations);
        }

        array[items.Count] = null;
        return array;
    }
}
