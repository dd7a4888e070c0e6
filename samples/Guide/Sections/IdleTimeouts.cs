namespace TypedSandbox.Samples.Guide;

/// <summary>Idle timeouts: a sandbox with no running command, stdin traffic or tunnel connection is stopped.</summary>
internal sealed class IdleTimeouts : IGuideSection
{
    public string Name => "idle-timeout";

    public string Title => "Lifecycle: Idle Timeouts";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image,
            new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), IdleTimeout = TimeSpan.FromSeconds(2) }, cancellationToken);

        // A running command keeps the sandbox active past its idle timeout.
        var busy = await sb.RunAsync(["bash", "-c", "sleep 3; echo still alive after 3s of work"], cancellationToken: cancellationToken);
        await output.WriteAsync(busy.Stdout);

        // Then nothing happens, and the sandbox stops by itself.
        var code = await sb.WaitAsync(cancellationToken);
        await output.WriteLineAsync($"idle sandbox finished: returncode {code}");
    }
}
