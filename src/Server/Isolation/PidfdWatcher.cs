using System.Collections.Concurrent;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Tells when processes the engine did not start exit: their process descriptors in one epoll set, waited on by one
/// thread for the whole engine (a detached sandbox's init is not the engine's child, so waitpid cannot see it).
/// </summary>
internal static class PidfdWatcher
{
    private static readonly ConcurrentDictionary<ulong, TaskCompletionSource> Watched = new();
    private static readonly Lazy<int> Epoll = new(Start);
    private static long _nextToken;

    /// <summary>Completes once the process behind <paramref name="pidfd"/> exited; the token unregisters it (<see cref="Forget"/>).</summary>
    public static (Task Exited, ulong Token) Watch(int pidfd)
    {
        var token = (ulong)Interlocked.Increment(ref _nextToken);
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Watched[token] = exited;
        // One-shot: a pidfd stays readable after the exit, a level-triggered entry would wake the thread forever.
        if (!LinuxNative.EpollCtl(Epoll.Value, LinuxNative.EpollCtlAdd, pidfd, LinuxNative.EpollIn | LinuxNative.EpollOneShot, token))
        {
            Watched.TryRemove(token, out _);
            throw new InvalidOperationException("Registering a process descriptor with epoll failed.");
        }
        return (exited.Task, token);
    }

    /// <summary>Stops watching <paramref name="pidfd"/> before it is closed (a fired entry is already disarmed).</summary>
    public static void Forget(int pidfd, ulong token)
    {
        if (Watched.TryRemove(token, out _))
        {
            LinuxNative.EpollCtl(Epoll.Value, LinuxNative.EpollCtlDel, pidfd, 0, 0);
        }
    }

    private static int Start()
    {
        var epoll = LinuxNative.EpollCreate();
        new Thread(() => Loop(epoll)) { IsBackground = true, Name = "pidfd watcher" }.Start();
        return epoll;
    }

    private static void Loop(int epoll)
    {
        Span<ulong> ready = stackalloc ulong[64];
        while (true)
        {
            var count = LinuxNative.EpollWait(epoll, ready);
            for (var i = 0; i < count; i++)
            {
                if (Watched.TryRemove(ready[i], out var exited))
                {
                    exited.TrySetResult();
                }
            }
        }
    }
}
