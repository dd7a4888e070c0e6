namespace TypedSandbox.Engine.Tests;

/// <summary>
/// How long a test waits for something that must happen before it fails instead of hanging (not a speed assertion:
/// everything here completes in milliseconds).
/// </summary>
internal static class Patience
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Wait);
}
