namespace TypedSandbox.Samples.Guide;

/// <summary>Tags and listing: tag sandboxes, list an app's running sandboxes filtered by tags, look one up by id.</summary>
internal sealed class TagsAndListing : IGuideSection
{
    public string Name => "tags";

    public string Title => "Tagging and listing Sandboxes";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var sb1 = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);
        await using var sb2 = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);

        await sb1.SetTagsAsync(new Dictionary<string, string> { ["tag-a"] = "a", ["tag-b"] = "b", ["run"] = run }, cancellationToken);
        await sb2.SetTagsAsync(new Dictionary<string, string> { ["tag-a"] = "other", ["run"] = run }, cancellationToken);
        var tags = await sb1.GetTagsAsync(cancellationToken);
        await output.WriteLineAsync($"tags: {string.Join(", ", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))}");

        var inRun = await ListIdsAsync(client, app, new Dictionary<string, string> { ["run"] = run }, cancellationToken);
        await output.WriteLineAsync($"running sandboxes with this run's tag: {inRun.Count}");
        var tagA = await ListIdsAsync(client, app, new Dictionary<string, string> { ["run"] = run, ["tag-a"] = "a" }, cancellationToken);
        await output.WriteLineAsync($"with tag-a=a: {(tagA.SequenceEqual([sb1.SandboxId]) ? "only the first sandbox" : string.Join(", ", tagA))}");

        var byId = await client.Sandboxes.FromIdAsync(sb2.SandboxId, cancellationToken);
        await output.WriteAsync((await byId.RunAsync(["echo", "hello from from_id"], cancellationToken: cancellationToken)).Stdout);
        await byId.DetachAsync();

        await sb1.TerminateAsync(cancellationToken);
        await sb2.TerminateAsync(cancellationToken);
    }

    private static async Task<List<string>> ListIdsAsync(SandboxClient client, App app, IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach (var sandbox in client.Sandboxes.ListAsync(app.AppId, tags, cancellationToken))
        {
            ids.Add(sandbox.SandboxId);
            await sandbox.DetachAsync();
        }
        return ids;
    }
}
