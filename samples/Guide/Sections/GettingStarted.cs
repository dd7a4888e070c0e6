namespace TypedSandbox.Samples.Guide;

/// <summary>The guide's opening example: two commands in a fresh sandbox, then terminate.</summary>
internal sealed class GettingStarted : IGuideSection
{
    public string Name => "getting-started";

    public string Title => "Sandboxes";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);

        await using (var p = await sb.ExecAsync(["python", "-c", "print('hello')"], new ExecOptions { Timeout = TimeSpan.FromSeconds(3) }, cancellationToken))
        {
            await output.WriteAsync(await p.Stdout.ReadToEndAsync(cancellationToken));
        }

        await using (var p = await sb.ExecAsync(["bash", "-c", "for i in {1..10}; do date +%T; sleep 0.5; done"],
            // Modal's guide gives this loop 5 s, just what its ten half-second sleeps take: on a busy host the timeout
            // then cuts the last line off. Twice that keeps the example's point (a bounded exec) without the race.
            new ExecOptions { Timeout = TimeSpan.FromSeconds(10) }, cancellationToken))
        {
            await foreach (var line in p.Stdout.ReadLinesAsync(cancellationToken))
            {
                await output.WriteLineAsync(line);
                await output.FlushAsync(cancellationToken);
            }
        }

        await sb.TerminateAsync(cancellationToken);
    }
}
