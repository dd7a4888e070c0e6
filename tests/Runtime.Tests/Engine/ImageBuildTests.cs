namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Image builds through the client against the real engine: steps, build logs as they happen, cache hits.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class ImageBuildTests(EngineFixture fixture)
{
    private sealed class Collector : IProgress<string>
    {
        private readonly Lock _gate = new();
        private readonly List<string> _lines = [];

        public string Text
        {
            get { lock (_gate) { return string.Concat(_lines); } }
        }

        public void Report(string value)
        {
            lock (_gate)
            {
                _lines.Add(value);
            }
        }
    }

    [Fact]
    public async Task Build_steps_run_their_logs_reach_the_caller_and_the_result_is_usable()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        var image = fixture.Client.Images.FromRegistry("busybox:latest")
            .RunCommands($"echo built-{marker} && echo {marker} > /marker")
            .Env("FROM_IMAGE", marker)
            .Workdir("/srv");
        var log = new Collector();

        await image.BuildAsync(fixture.App, log);
        await using var sandbox = await fixture.Client.Sandboxes.CreateAsync(fixture.App, image);
        var result = await sandbox.RunAsync(["sh", "-c", "cat /marker; echo $FROM_IMAGE; pwd"]);

        Assert.NotNull(image.ImageId);
        Assert.Contains($"built-{marker}", log.Text, StringComparison.Ordinal);
        Assert.Equal($"{marker}\n{marker}\n/srv\n", result.Stdout);
    }

    [Fact]
    public async Task The_same_definition_builds_to_the_same_image_without_running_again()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        var first = fixture.Client.Images.FromRegistry("busybox:latest").RunCommands($"echo ran-{marker}; touch /same");
        var second = fixture.Client.Images.FromRegistry("busybox:latest").RunCommands($"echo ran-{marker}; touch /same");
        var firstLog = new Collector();
        var secondLog = new Collector();

        await first.BuildAsync(fixture.App, firstLog);
        await second.BuildAsync(fixture.App, secondLog);

        Assert.Equal(first.ImageId, second.ImageId);
        // Ids are content hashes, equal whether or not anything ran: the step's output shows it ran for the first
        // build only; the second was answered from the cache without joining a build.
        Assert.Contains($"ran-{marker}", firstLog.Text, StringComparison.Ordinal);
        Assert.Equal("", secondLog.Text);
    }

    [Fact]
    public async Task A_failing_step_is_an_ImageBuildException_with_the_output()
    {
        var image = fixture.Client.Images.FromRegistry("busybox:latest").RunCommands("echo about-to-fail >&2; exit 9");

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => image.BuildAsync(fixture.App));

        Assert.Contains("failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Images_are_found_again_by_id()
    {
        var image = fixture.Client.Images.FromRegistry("busybox:latest");
        await image.BuildAsync(fixture.App);

        var again = await fixture.Client.Images.FromIdAsync(image.ImageId!);

        Assert.Equal(image.ImageId, again.ImageId);
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Images.FromIdAsync("im-doesnotexist0000000000"));
    }
}
