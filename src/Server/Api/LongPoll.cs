namespace TypedSandbox.Server.Api;

/// <summary>Server-side budgets of the protocol's long-polls (the SDKs ask for 10-55 s and re-open when it ends).</summary>
internal static class LongPoll
{
    /// <summary>The longest a long-poll may hold a call open.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(55);

    /// <summary>The requested wait, bounded to 0..<see cref="Max"/>.</summary>
    public static TimeSpan Clamp(float seconds) =>
        seconds > 0 ? TimeSpan.FromSeconds(Math.Min(seconds, Max.TotalSeconds)) : TimeSpan.Zero;

    /// <summary>A token that fires when the call ends or the budget (or <see cref="Max"/> when none is given) is spent.</summary>
    public static CancellationTokenSource Budget(float seconds, CancellationToken callToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(callToken);
        source.CancelAfter(seconds > 0 ? Clamp(seconds) : Max);
        return source;
    }
}
