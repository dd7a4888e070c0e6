namespace TypedSandbox.Samples.Guide;

/// <summary>Configuration: the working directory of the sandbox's commands.</summary>
internal sealed class Workdir : IGuideSection
{
    public string Name => "workdir";

    public string Title => "Configuration: Working directory";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { Workdir = "/tmp" }, cancellationToken);

        await output.WriteAsync((await sb.RunAsync(["pwd"], cancellationToken: cancellationToken)).Stdout);
        await output.WriteAsync((await sb.RunAsync(["pwd"], new ExecOptions { Workdir = "/usr" }, cancellationToken)).Stdout);
        await sb.TerminateAsync(cancellationToken);
    }
}
