namespace TypedSandbox.Samples.Guide;

/// <summary>Configuration: a command as the sandbox's entrypoint; the sandbox ends when it exits.</summary>
internal sealed class Entrypoint : IGuideSection
{
    public string Name => "entrypoint";

    public string Title => "Configuration: Entrypoint";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["bash", "-c", "echo hello from the entrypoint; echo oops >&2; exit 42"],
        }, cancellationToken);

        var returncode = await sb.WaitAsync(cancellationToken);
        await output.WriteAsync(await sb.Stdout.ReadToEndAsync(cancellationToken));
        await output.WriteAsync(await sb.Stderr.ReadToEndAsync(cancellationToken));
        await output.WriteLineAsync($"returncode: {returncode}");
    }
}
