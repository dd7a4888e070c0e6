using System.Runtime.InteropServices;

namespace TypedSandbox.Server.Isolation;

/// <summary>Process descriptors (Linux ≥ 5.3) and epoll: how the engine follows a process that is not its child.</summary>
internal static partial class LinuxNative
{
    private const long SysPidfdSendSignal = 424; // the same number on x86-64 and arm64 (asm-generic)
    private const long SysPidfdOpen = 434;
    internal const int EpollCtlAdd = 1;
    internal const int EpollCtlDel = 2;
    internal const uint EpollIn = 0x001;
    internal const uint EpollOneShot = 1u << 30;
    private const int EpollCloexec = 0x80000;
    private const int Eintr = 4;

    /// <summary>struct epoll_event: packed (12 bytes) on x86-64, naturally aligned (16) elsewhere.</summary>
    internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int EpollDataOffset = EpollEventSize - 8;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a, long b, long c, long d);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseSyscall(int fd);

    /// <summary>Closes a descriptor the engine opened itself (an error leaves nothing to do).</summary>
    public static void Close(int fd) => _ = CloseSyscall(fd);

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int EpollCtlSyscall(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWaitSyscall(int epfd, byte* events, int maxEvents, int timeout);

    /// <summary>A descriptor of process <paramref name="pid"/> (readable once it exited); -1 when it is gone.</summary>
    public static int PidfdOpen(int pid) => (int)Syscall(SysPidfdOpen, pid, 0, 0, 0);

    /// <summary>Sends <paramref name="signal"/> to the process behind <paramref name="pidfd"/> (never to a reused pid).</summary>
    public static bool PidfdSendSignal(int pidfd, int signal) => Syscall(SysPidfdSendSignal, pidfd, signal, 0, 0) == 0;

    public static int EpollCreate() => EpollCreate1(EpollCloexec) is var fd and >= 0
        ? fd : throw new InvalidOperationException($"epoll_create1 failed (errno {Marshal.GetLastPInvokeError()}).");

    public static unsafe bool EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
        return EpollCtlSyscall(epfd, op, fd, ev) == 0;
    }

    /// <summary>Waits for events (no timeout, retried on EINTR); returns the data words of the ready entries.</summary>
    public static unsafe int EpollWait(int epfd, Span<ulong> ready)
    {
        var buffer = stackalloc byte[EpollEventSize * ready.Length];
        int count;
        do
        {
            count = EpollWaitSyscall(epfd, buffer, ready.Length, -1);
        }
        while (count < 0 && Marshal.GetLastPInvokeError() == Eintr);

        for (var i = 0; i < count; i++)
        {
            ready[i] = *(ulong*)(buffer + (i * EpollEventSize) + EpollDataOffset);
        }
        return Math.Max(count, 0);
    }
}
