namespace TypedSandbox.Samples;

/// <summary>
/// A sandbox that runs pytest: Debian bookworm with Debian's own python3 and pytest (the engine builds
/// <c>debian:bookworm-slim</c> from Debian's packages when no registry serves it, then runs the apt step with network).
/// </summary>
[Sandbox(App = "test-runner", Timeout = "10m")]
[SandboxImage("debian:bookworm-slim", Env = ["DEBIAN_FRONTEND=noninteractive"], AptInstall = ["python3", "python3-pytest"])]
partial class TestRunner
{
    /// <summary>Runs the test suite at <paramref name="path"/>; the path is one argument, never seen by a shell.</summary>
    [Command("pytest", "-q", "{path}")]
    public partial Task<ExecResult> RunTestsAsync(string path);
}
