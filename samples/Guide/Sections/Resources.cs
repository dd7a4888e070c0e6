namespace TypedSandbox.Samples.Guide;

/// <summary>Resources: CPU and memory requests and limits.</summary>
internal sealed class Resources : IGuideSection
{
    public string Name => "resources";

    public string Title => "Resources";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Cpu = 0.5,
            CpuLimit = 1,
            MemoryMiB = 256,
            MemoryLimitMiB = 512,
        }, cancellationToken);

        // Memory above the limit is not granted: the kernel stops the process that asks for it.
        var small = await sb.RunAsync(["python", "-c", "b = bytearray(64 * 1024 * 1024); print('allocated 64 MiB')"], cancellationToken: cancellationToken);
        await output.WriteAsync(small.Stdout);
        var large = await sb.RunAsync(["python", "-c", "b = bytearray(1024 * 1024 * 1024); print('allocated 1 GiB')"], cancellationToken: cancellationToken);
        await output.WriteLineAsync($"allocating 1 GiB under a 512 MiB limit: {(large.Succeeded ? "succeeded" : "failed")} (returncode {large.ExitCode})");
        await sb.TerminateAsync(cancellationToken);
    }
}
