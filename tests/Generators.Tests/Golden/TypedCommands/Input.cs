using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using TypedSandbox;

namespace Demo;

public sealed record Report(int Passed, int Failed);

// Stands in for a System.Text.Json source-generated context (that generator does not run in these tests; the
// JsonContextTests run it).
internal sealed class ReportJson() : JsonSerializerContext(null)
{
    public static ReportJson Default { get; } = new();

    protected override JsonSerializerOptions? GeneratedSerializerOptions => null;

    public override JsonTypeInfo? GetTypeInfo(Type type) => null;
}

[Sandbox(App = "ci", JsonContext = typeof(ReportJson))]
public partial class Suite
{
    [Command("pytest", "{files}", "--maxfail={maxFail}", Env = ["CI=1"], Secrets = ["pypi"])]
    public partial Task RunAsync(IReadOnlyList<string> files, int? maxFail = null, [Option("-k")] string? filter = null, [Option("-v")] bool verbose = false, CancellationToken cancellationToken = default);

    [Command("report", "--since={since}")]
    public partial Task<Report> ReportAsync(DateTimeOffset since);

    [Command("cat")]
    public partial Task<string> EchoAsync([Stdin] Stream input, [Env("TOKEN")] string? token = null);

    [Command("tail", "-f", "{file}")]
    public partial IAsyncEnumerable<string> FollowAsync(string file, CancellationToken cancellationToken = default);

    [Command("events")]
    public partial IAsyncEnumerable<Report> EventsAsync();
}
