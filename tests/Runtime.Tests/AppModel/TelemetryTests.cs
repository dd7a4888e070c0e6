using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TypedSandbox.Runtime.Tests.Engine;

namespace TypedSandbox.Runtime.Tests.AppModel;

/// <summary>The client's own engine for telemetry tests, run alone: metrics are process-wide, so no other test may add to them meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryEngineGroup : ICollectionFixture<EngineFixture>
{
    public const string Name = "runtime-telemetry";
}

/// <summary>Traces and metrics of the client, exported through OpenTelemetry's in-memory exporter, against the real engine.</summary>
[Collection(TelemetryEngineGroup.Name)]
public sealed class TelemetryTests(EngineFixture fixture)
{
    private static readonly ActivitySource TestSource = new("TypedSandbox.Tests.Telemetry");

    [Fact]
    public async Task Create_build_exec_stdin_and_file_operations_are_traced_and_measured_and_no_tag_carries_a_secret()
    {
        var envSecret = "env-secret-" + Guid.NewGuid().ToString("N");
        var storedSecret = "stored-secret-" + Guid.NewGuid().ToString("N");
        var argumentSecret = "argument-secret-" + Guid.NewGuid().ToString("N");
        var execEnvSecret = "exec-env-secret-" + Guid.NewGuid().ToString("N");
        var fileSecret = "file-secret-" + Guid.NewGuid().ToString("N");
        string[] secrets = [envSecret, storedSecret, argumentSecret, execEnvSecret, fileSecret];
        var activities = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SandboxTelemetry.Name, TestSource.Name).AddInMemoryExporter(activities).Build();
        var metering = Sdk.CreateMeterProviderBuilder().AddMeter(SandboxTelemetry.Name).AddInMemoryExporter(metrics).Build();
        string sandboxId;
        ActivityTraceId trace;
        try
        {
            using (var root = TestSource.StartActivity("telemetry-test"))
            {
                Assert.NotNull(root);
                trace = root.TraceId;
                var client = fixture.Client;
                await using var sandbox = await client.Sandboxes.CreateAsync(fixture.App, client.Images.FromRegistry("busybox:latest"), new SandboxCreateOptions
                {
                    Timeout = TimeSpan.FromMinutes(5),
                    Env = new Dictionary<string, string> { ["API_KEY"] = envSecret },
                    Secrets = [client.Secrets.FromDictionary(new Dictionary<string, string> { ["TOKEN"] = storedSecret })],
                });
                sandboxId = sandbox.SandboxId;

                var result = await sandbox.RunAsync(["/bin/sh", "-c", $"echo {argumentSecret} $API_KEY $TOKEN $EXTRA; echo oops >&2; exit 7"],
                    new ExecOptions { Env = new Dictionary<string, string> { ["EXTRA"] = execEnvSecret } });
                Assert.Equal(7, result.ExitCode);
                Assert.Equal($"{argumentSecret} {envSecret} {storedSecret} {execEnvSecret}\n", result.Stdout);

                await using (var catProcess = await sandbox.ExecAsync(["cat"]))
                {
                    await catProcess.Stdin.WriteAsync("hello");
                    await catProcess.Stdin.CloseAsync();
                    Assert.Equal("hello", await catProcess.Stdout.ReadToEndAsync());
                    Assert.Equal(0, await catProcess.WaitAsync());
                }

                await sandbox.Filesystem.WriteTextAsync("/tmp/secret.txt", fileSecret);
                Assert.Equal(fileSecret, await sandbox.Filesystem.ReadTextAsync("/tmp/secret.txt"));
            }
        }
        finally
        {
            tracing.ForceFlush();
            metering.ForceFlush();
            tracing.Dispose();
            metering.Dispose();
        }

        var ours = activities.Where(a => a.TraceId == trace && a.Source.Name == SandboxTelemetry.Name).ToList();
        var create = Assert.Single(ours, a => a.OperationName == SandboxTelemetry.CreateActivity);
        Assert.Equal(ActivityKind.Client, create.Kind);
        Assert.Equal(sandboxId, create.GetTagItem(SandboxTelemetry.SandboxIdTag));
        Assert.Equal(fixture.App.AppId, create.GetTagItem(SandboxTelemetry.AppIdTag));
        Assert.Equal(ActivityStatusCode.Unset, create.Status);

        var build = Assert.Single(ours, a => a.OperationName == SandboxTelemetry.ImageBuildActivity);
        Assert.Equal(create.SpanId, build.ParentSpanId);
        Assert.StartsWith("im-", (string?)build.GetTagItem(SandboxTelemetry.ImageIdTag), StringComparison.Ordinal);
        Assert.Equal(build.GetTagItem(SandboxTelemetry.ImageIdTag), create.GetTagItem(SandboxTelemetry.ImageIdTag));

        var execs = ours.Where(a => a.OperationName == SandboxTelemetry.ExecActivity).ToList();
        var shell = Assert.Single(execs, a => (string?)a.GetTagItem(SandboxTelemetry.ExecutableTag) == "sh");
        Assert.Equal(7, shell.GetTagItem(SandboxTelemetry.ExitCodeTag));
        Assert.Equal(sandboxId, shell.GetTagItem(SandboxTelemetry.SandboxIdTag));
        var cat = Assert.Single(execs, a => (string?)a.GetTagItem(SandboxTelemetry.ExecutableTag) == "cat");
        Assert.Equal(0, cat.GetTagItem(SandboxTelemetry.ExitCodeTag));

        var files = ours.Where(a => a.OperationName == SandboxTelemetry.FileActivity).ToList();
        var write = Assert.Single(files, a => (string?)a.GetTagItem(SandboxTelemetry.FileOperationTag) == "write");
        var read = Assert.Single(files, a => (string?)a.GetTagItem(SandboxTelemetry.FileOperationTag) == "read");
        Assert.Equal(fileSecret.Length, write.GetTagItem(SandboxTelemetry.FileBytesTag));
        Assert.Equal(fileSecret.Length, read.GetTagItem(SandboxTelemetry.FileBytesTag));
        // The file tool runs as an exec under the file operation's span.
        Assert.Contains(execs, a => a.ParentSpanId == write.SpanId);

        // Nothing secret anywhere: tags, names, status descriptions, events — of every exported span.
        foreach (var activity in activities)
        {
            var texts = activity.TagObjects.Select(t => $"{t.Key}={t.Value}")
                .Append(activity.DisplayName).Append(activity.StatusDescription ?? "")
                .Concat(activity.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name} {t.Key}={t.Value}")));
            foreach (var text in texts)
            {
                Assert.DoesNotContain(secrets, s => text.Contains(s, StringComparison.Ordinal));
            }
        }

        var points = metrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last().MetricPoints);
        long Sum(string name, params (string Key, object Value)[] tags) => points.TryGetValue(name, out var list)
            ? list.Where(p => Matches(p, tags)).Sum(p => p.GetSumLong())
            : 0;
        Assert.True(Sum(SandboxTelemetry.CreatesCounter) >= 1);
        Assert.True(Sum(SandboxTelemetry.ImageBuildsCounter) >= 1);
        Assert.True(Sum(SandboxTelemetry.ExecExitsCounter, (SandboxTelemetry.ExecutableTag, "sh"), (SandboxTelemetry.ExitCodeTag, 7)) == 1);
        Assert.True(Sum(SandboxTelemetry.ExecExitsCounter, (SandboxTelemetry.ExecutableTag, "cat"), (SandboxTelemetry.ExitCodeTag, 0)) == 1);
        Assert.True(Sum(SandboxTelemetry.StreamedBytesCounter, (SandboxTelemetry.StreamTag, "stdout")) >= $"{argumentSecret} {envSecret} {storedSecret} {execEnvSecret}\nhello".Length);
        Assert.True(Sum(SandboxTelemetry.StreamedBytesCounter, (SandboxTelemetry.StreamTag, "stderr")) >= "oops\n".Length);
        Assert.True(Sum(SandboxTelemetry.StreamedBytesCounter, (SandboxTelemetry.StreamTag, "stdin")) >= "hello".Length);
        Assert.True(Sum(SandboxTelemetry.FileOperationsCounter, (SandboxTelemetry.FileOperationTag, "write")) >= 1);
        Assert.True(Sum(SandboxTelemetry.FileOperationsCounter, (SandboxTelemetry.FileOperationTag, "read")) >= 1);
        var durations = points[SandboxTelemetry.ExecDurationHistogram].Where(p => Matches(p, (SandboxTelemetry.ExecutableTag, "sh"))).ToList();
        Assert.Equal(1, durations.Sum(p => p.GetHistogramCount()));
        Assert.Equal(1, points[SandboxTelemetry.CreateDurationHistogram].Sum(p => p.GetHistogramCount()));

        foreach (var point in points.Values.SelectMany(p => p))
        {
            foreach (var tag in point.Tags)
            {
                Assert.DoesNotContain(secrets, s => $"{tag.Key}={tag.Value}".Contains(s, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task An_exec_past_its_timeout_ends_its_span_with_the_timeout_error_type()
    {
        var activities = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SandboxTelemetry.Name, TestSource.Name).AddInMemoryExporter(activities).Build();
        ActivityTraceId trace;
        using (var root = TestSource.StartActivity("timeout-test"))
        {
            Assert.NotNull(root);
            trace = root.TraceId;
            await using var sandbox = await fixture.CreateSandboxAsync();
            await using var process = await sandbox.ExecAsync(["sleep", "30"], new ExecOptions { Timeout = TimeSpan.FromSeconds(1) });
            await Assert.ThrowsAsync<ExecTimeoutException>(() => process.WaitAsync());
        }
        tracing.ForceFlush();

        var exec = Assert.Single(activities, a => a.TraceId == trace && a.OperationName == SandboxTelemetry.ExecActivity);
        Assert.Equal("sleep", exec.GetTagItem(SandboxTelemetry.ExecutableTag));
        Assert.Equal(ActivityStatusCode.Error, exec.Status);
        Assert.Equal(nameof(ExecTimeoutException), exec.GetTagItem(SandboxTelemetry.ErrorTypeTag));
        Assert.Null(exec.GetTagItem(SandboxTelemetry.ExitCodeTag));
    }

    private static bool Matches(MetricPoint point, params (string Key, object Value)[] wanted)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }
        return wanted.All(w => tags.TryGetValue(w.Key, out var value) && Equals(value, w.Value));
    }
}
