using System.Globalization;

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

        var memory = (await sb.RunAsync(["cat", "/sys/fs/cgroup/memory.max"], cancellationToken: cancellationToken)).Stdout.Trim();
        var limit = long.TryParse(memory, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) ? $"{bytes / (1024 * 1024)} MiB" : memory;
        await output.WriteLineAsync($"memory limit: {limit}");
        var cpu = (await sb.RunAsync(["cat", "/sys/fs/cgroup/cpu.max"], cancellationToken: cancellationToken)).Stdout.Trim();
        await output.WriteLineAsync($"cpu.max: {cpu}");
        await sb.TerminateAsync(cancellationToken);
    }
}
