namespace TypedSandbox.Samples.Guide;

/// <summary>
/// The lifecycle of named objects: an image published under a name and found by it, deletes of images and volumes,
/// and environments, each with its own apps, volumes and secrets, deleted with everything in them.
/// </summary>
internal sealed class ObjectLifecycle : IGuideSection
{
    public string Name => "objects";

    public string Title => "Object lifecycle: Published Images, Deletes and Environments";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        var suffix = Guid.NewGuid().ToString("N")[..8];

        // Publish a built image under a name; anyone in the environment can start sandboxes from it by that name.
        var tools = await image.RunCommands($"echo 'baked in {suffix}' > /baked.txt").BuildAsync(app, cancellationToken: cancellationToken);
        await client.Images.PublishAsync(tools, $"guide-tools-{suffix}:v1", cancellationToken: cancellationToken);
        var byName = await client.Images.FromNameAsync($"guide-tools-{suffix}:v1", cancellationToken: cancellationToken);
        await using (var sb = await client.Sandboxes.CreateAsync(app, byName, cancellationToken: cancellationToken))
        {
            var baked = (await sb.RunAsync(["cat", "/baked.txt"], cancellationToken: cancellationToken)).Stdout.Trim();
            await output.WriteLineAsync($"same image by name: {byName.ImageId == tools.ImageId}, reads: {baked.Replace(suffix, "…", StringComparison.Ordinal)}");
            await sb.TerminateAsync(cancellationToken);
        }

        await client.Images.DeleteAsync(tools.ImageId!, cancellationToken);
        await output.WriteLineAsync($"after delete, by name: {await FailureAsync(() => client.Images.FromNameAsync($"guide-tools-{suffix}:v1", cancellationToken: cancellationToken))}");

        // Environments scope apps, volumes and secrets; deleting one deletes what is in it.
        var environment = $"guide-{suffix}";
        await client.Environments.CreateAsync(environment, cancellationToken);
        var scoped = await client.Apps.FromNameAsync(GuideSections.AppName, createIfMissing: true, environment: environment, cancellationToken: cancellationToken);
        await client.Volumes.FromNameAsync("guide-data", createIfMissing: true, environment: environment, cancellationToken: cancellationToken);
        var listed = await client.Environments.ListAsync(cancellationToken);
        await output.WriteLineAsync($"listed: {listed.Any(e => e.Name == environment)}, own app: {scoped.AppId != app.AppId}");
        await client.Volumes.DeleteAsync("guide-data", environment: environment, cancellationToken: cancellationToken);
        await output.WriteLineAsync($"deleted volume: {await FailureAsync(() => client.Volumes.FromNameAsync("guide-data", environment: environment, cancellationToken: cancellationToken))}");
        await client.Environments.DeleteAsync(environment, cancellationToken);
        await output.WriteLineAsync($"deleted environment: {await FailureAsync(() => client.Environments.FromNameAsync(environment, cancellationToken: cancellationToken))}");
    }

    private static async Task<string> FailureAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return "found";
        }
        catch (SandboxException e)
        {
            return e.GetType().Name;
        }
    }
}
