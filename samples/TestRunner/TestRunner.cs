namespace TypedSandbox.Samples;

/// <summary>
/// A sandbox that runs pytest: Debian bookworm with Debian's own python3 and pytest (the engine builds
/// <c>debian:bookworm-slim</c> from Debian's packages when no registry serves it, then runs the apt step with network).
/// </summary>
[Sandbox(App = "test-runner", Timeout = "10m")]
[SandboxImage("debian:bookworm-slim", Env = ["DEBIAN_FRONTEND=noninteractive"], AptInstall = ["python3", "python3-pytest"])]
internal partial class TestRunner
{
    /// <summary>Runs the test suite at <paramref name="path"/>; the path is one argument, never seen by a shell.</summary>
    /// <param name="path">The tests' directory or file.</param>
    /// <param name="filter">pytest's <c>-k</c> expression; <see langword="null"/> runs every test.</param>
    /// <param name="maxFail">Stops after this many failures (<c>--maxfail=N</c>); <see langword="null"/> never stops early.</param>
    [Command("pytest", "-q", "{path}")]
    public partial Task<ExecResult> RunTestsAsync(string path, [Option("-k")] string? filter = null, [Option("--maxfail=")] int? maxFail = null);
}
