namespace TypedSandbox.Samples.Guide;

/// <summary>Running commands: exec, exit codes, stderr, stdin, per-command environment and working directory, timeouts.</summary>
internal sealed class RunningCommands : IGuideSection
{
    public string Name => "commands";

    public string Title => "Running commands";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);

        // exec returns a process handle; wait() gives its exit code, stdout/stderr are streams.
        await using (var p = await sb.ExecAsync(["bash", "-c", "echo to stdout; echo to stderr >&2; exit 3"], cancellationToken: cancellationToken))
        {
            await output.WriteAsync(await p.Stdout.ReadToEndAsync(cancellationToken));
            await output.WriteAsync(await p.Stderr.ReadToEndAsync(cancellationToken));
            await output.WriteLineAsync($"returncode: {await p.WaitAsync(cancellationToken)}");
        }

        // Writing to a process's stdin, then closing it (write_eof + drain).
        await using (var p = await sb.ExecAsync(["bash", "-c", "while read line; do echo \"$line\"; done"], cancellationToken: cancellationToken))
        {
            await p.Stdin.WriteAsync("foo bar\n", cancellationToken);
            await p.Stdin.WriteAsync("baz\n", cancellationToken);
            await p.Stdin.CloseAsync(cancellationToken);
            await p.WaitAsync(cancellationToken);
            await output.WriteAsync(await p.Stdout.ReadToEndAsync(cancellationToken));
        }

        // Environment variables and working directory for a single command.
        var env = await sb.RunAsync(["bash", "-c", "echo $MY_ENV_VAR from $(pwd)"],
            new ExecOptions { Env = new Dictionary<string, string> { ["MY_ENV_VAR"] = "hello" }, Workdir = "/tmp" }, cancellationToken);
        await output.WriteAsync(env.Stdout);

        // A command that outlives its timeout is stopped.
        try
        {
            var slow = await sb.RunAsync(["sleep", "10"], new ExecOptions { Timeout = TimeSpan.FromSeconds(1) }, cancellationToken);
            await output.WriteLineAsync($"sleep 10 with timeout=1 exited with {slow.ExitCode}");
        }
        catch (ExecTimeoutException e)
        {
            await output.WriteLineAsync($"sleep 10 with timeout=1 timed out: {e.Message}");
        }

        await sb.TerminateAsync(cancellationToken);
    }
}
