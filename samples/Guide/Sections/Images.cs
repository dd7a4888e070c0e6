namespace TypedSandbox.Samples.Guide;

/// <summary>Configuration: the sandbox's image, here a registry image with layers added on top.</summary>
internal sealed class Images : IGuideSection
{
    public string Name => "images";

    public string Title => "Configuration: Images";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var app = await client.Apps.FromNameAsync(GuideSections.AppName, createIfMissing: true, cancellationToken: cancellationToken);
        // The guide adds packages with .pip_install(...); this sample stays offline and adds layers that need no
        // package index (PipInstall/AptInstall work the same way when the sandbox can reach one).
        var image = client.Images.FromRegistry(GuideSections.ImageReference)
            .Env("GREETING", "hello from the image")
            .RunCommands("mkdir -p /app", "echo 'print(\"built into the image\")' > /app/main.py");

        await using var sb = await client.Sandboxes.CreateAsync(app, image,
            new SandboxCreateOptions { BuildLog = new Progress<string>(_ => { }) }, cancellationToken);
        await output.WriteLineAsync($"image: {image.ImageId}");

        var greeting = await sb.RunAsync(["bash", "-c", "echo $GREETING"], cancellationToken: cancellationToken);
        await output.WriteAsync(greeting.Stdout);
        var script = await sb.RunAsync(["python", "/app/main.py"], cancellationToken: cancellationToken);
        await output.WriteAsync(script.Stdout);
        await sb.TerminateAsync(cancellationToken);
    }
}
