namespace TypedSandbox.Samples.Guide;

/// <summary>Lifecycle: a sandbox's maximum lifetime (default 5 minutes, up to 24 hours), wait and poll.</summary>
internal sealed class Timeouts : IGuideSection
{
    public string Name => "timeouts";

    public string Title => "Lifecycle: Timeouts";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);

        // timeout=10*60: the sandbox lives at most ten minutes.
        await using (var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(10) }, cancellationToken))
        {
            await output.WriteLineAsync($"poll() while running: {Describe(await sb.PollAsync(cancellationToken))}");
            await sb.TerminateAsync(cancellationToken);
            await output.WriteLineAsync($"wait() after terminate(): returncode {await sb.WaitAsync(cancellationToken)}");
        }

        // A sandbox that reaches its timeout is stopped by the platform.
        await using (var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { Timeout = TimeSpan.FromSeconds(2) }, cancellationToken))
        {
            var code = await sb.WaitAsync(cancellationToken);
            await output.WriteLineAsync($"sandbox with timeout=2 finished on its own: returncode {code}");
        }
    }

    private static string Describe(int? code) => code is { } c ? c.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None";
}
