namespace TypedSandbox.Samples.Guide;

/// <summary>Named sandboxes: find a running sandbox by app and name; a name is unique among running sandboxes.</summary>
internal sealed class NamedSandboxes : IGuideSection
{
    public string Name => "named";

    public string Title => "Named Sandboxes";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { Name = "my-name" }, cancellationToken);

        var found = await client.Sandboxes.FromNameAsync(GuideSections.AppName, "my-name", cancellationToken: cancellationToken);
        await output.WriteLineAsync($"from_name finds the same sandbox: {found.SandboxId == sb.SandboxId}");
        await output.WriteAsync((await found.RunAsync(["echo", "hi from my-name"], cancellationToken: cancellationToken)).Stdout);
        await found.DetachAsync();

        try
        {
            await using var twin = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { Name = "my-name" }, cancellationToken);
            await output.WriteLineAsync("unexpected: a second running sandbox named my-name");
        }
        catch (AlreadyExistsException e)
        {
            await output.WriteLineAsync($"AlreadyExistsError: {e.Message}");
        }

        await sb.TerminateAsync(cancellationToken);
        await sb.WaitAsync(cancellationToken);
        try
        {
            await client.Sandboxes.FromNameAsync(GuideSections.AppName, "my-name", cancellationToken: cancellationToken);
            await output.WriteLineAsync("unexpected: a terminated sandbox is still found by name");
        }
        catch (NotFoundException e)
        {
            await output.WriteLineAsync($"NotFoundError: {e.Message}");
        }
    }
}
