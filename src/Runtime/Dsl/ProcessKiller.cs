using System.Security.Cryptography;

namespace TypedSandbox.Dsl;

/// <summary>
/// Kills a command in the sandbox when its call is cancelled (or a stream of its output is abandoned). The protocol has
/// no call that kills an exec, so every command carries a random marker in its environment, which its children inherit,
/// and the kill is a fixed helper exec that signals every process whose environment holds that marker. The marker is
/// passed to the helper as an argument, never spliced into its script.
/// </summary>
internal sealed class ProcessKiller : IAsyncDisposable
{
    /// <summary>The environment variable that marks a command's processes.</summary>
    public const string Variable = "TYPEDSANDBOX_COMMAND";

    private const string Script =
        "for d in /proc/[0-9]*; do if tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null | grep -qx \"" + Variable + "=$1\"; then kill -9 \"${d#/proc/}\" 2>/dev/null; fi; done";

    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(30);

    private readonly Sandbox _sandbox;
    private readonly string _marker;
    private readonly CancellationTokenRegistration _registration;
    private Task? _kill;

    public ProcessKiller(Sandbox sandbox, string marker, CancellationToken cancellationToken)
    {
        _sandbox = sandbox;
        _marker = marker;
        _registration = cancellationToken.Register(static state => ((ProcessKiller)state!).StartKill(), this);
    }

    /// <summary>A fresh marker: random, so no other command's processes match.</summary>
    public static string NewMarker() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Kills the command's processes and waits until the helper has run.</summary>
    public Task KillAsync() => StartKill();

    public async ValueTask DisposeAsync()
    {
        await _registration.DisposeAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _kill) is { } running)
        {
            await running.ConfigureAwait(false);
        }
    }

    /// <summary>Starts the helper once; later calls (cancellation, abandonment, failure) share its task.</summary>
    private Task StartKill()
    {
        if (Volatile.Read(ref _kill) is { } existing)
        {
            return existing;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _kill, done.Task, null) is { } other)
        {
            return other;
        }

        _ = CompleteAsync(done);
        return done.Task;
    }

    private async Task CompleteAsync(TaskCompletionSource done)
    {
        await RunKillAsync().ConfigureAwait(false);
        done.SetResult();
    }

    private async Task RunKillAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(KillTimeout);
            await _sandbox.RunAsync(["sh", "-c", Script, "sh", _marker], new ExecOptions { Timeout = KillTimeout }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SandboxException or OperationCanceledException or ObjectDisposedException)
        {
            // The sandbox is gone or unreachable: so is the process.
        }
    }
}
