namespace TypedSandbox.Samples.Guide;

/// <summary>Configuration: secrets and environment variables become the sandbox's environment.</summary>
internal sealed class Secrets : IGuideSection
{
    public string Name => "secrets";

    public string Title => "Configuration: Secrets";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        var secret = client.Secrets.FromDictionary(new Dictionary<string, string> { ["MY_SECRET"] = "hello" });

        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Secrets = [secret],
            Env = new Dictionary<string, string> { ["MY_ENV"] = "from env" },
        }, cancellationToken);

        var p = await sb.RunAsync(["bash", "-c", "echo $MY_SECRET"], cancellationToken: cancellationToken);
        await output.WriteAsync(p.Stdout);
        var e = await sb.RunAsync(["bash", "-c", "echo $MY_ENV"], cancellationToken: cancellationToken);
        await output.WriteAsync(e.Stdout);

        // A secret for one command only.
        var perExec = client.Secrets.FromDictionary(new Dictionary<string, string> { ["EXEC_SECRET"] = "only for this command" });
        var x = await sb.RunAsync(["bash", "-c", "echo $EXEC_SECRET"], new ExecOptions { Secrets = [perExec] }, cancellationToken);
        await output.WriteAsync(x.Stdout);
        await sb.TerminateAsync(cancellationToken);
    }
}
