namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Running commands on a pseudo-terminal: <see cref="ExecOptions.Pty"/> gives the process a terminal of the size asked
/// for (programs see <c>test -t 1</c> true), and Ctrl-C written to its stdin interrupts it as it would at a keyboard.
/// </summary>
internal sealed class PtyExecs : IGuideSection
{
    private const string TrapInterrupt = "trap 'echo caught Ctrl-C; exit 3' INT; echo ready; while :; do sleep 0.1; done";

    public string Name => "pty";

    public string Title => "Running Commands: Pseudo-terminals (PTY)";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);
        var terminal = new ExecOptions { Pty = new PtyOptions { Rows = 30, Columns = 100 } };

        // A terminal joins stdout and stderr and ends lines with \r\n, as a real one does.
        var probe = await sb.RunAsync(["bash", "-c", "test -t 1 && echo 'on a terminal'; stty size"], terminal, cancellationToken);
        foreach (var line in probe.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await output.WriteLineAsync(line.TrimEnd('\r'));
        }

        await using var process = await sb.ExecAsync(["bash", "-c", TrapInterrupt], terminal, cancellationToken);
        string? shown;
        do
        {
            shown = await process.Stdout.ReadLineAsync(cancellationToken);
        }
        while (shown is not null && !shown.Contains("ready", StringComparison.Ordinal));

        await process.Stdin.WriteAsync("\x03", cancellationToken);
        // The terminal echoes the keystroke as ^C before the trap's line.
        var rest = (await process.Stdout.ReadToEndAsync(cancellationToken)).Replace("^C", "", StringComparison.Ordinal);
        await output.WriteLineAsync($"after Ctrl-C: {rest.Trim()}, returncode {await process.WaitAsync(cancellationToken)}");
        await sb.TerminateAsync(cancellationToken);
    }
}
