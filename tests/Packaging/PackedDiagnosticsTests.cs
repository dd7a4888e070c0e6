using System.Text.RegularExpressions;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// Every TSB diagnostic as a user meets it: `dotnet build` of a console app that references only the packed package,
/// one app per case. The build must print the diagnostic at the marked location (<c>/*here*/</c>) and no compiler
/// error that comes from the generator having skipped something (CS8795, CS0117 on generated members, or any error
/// located in a generated file). A few cases keep a compiler error the user's own code causes (listed).
/// </summary>
public sealed class PackedDiagnosticsTests : IClassFixture<PackedDiagnosticsTests.ConsumerApp>
{
    private const string Marker = "/*here*/";

    private readonly ConsumerApp _app;

    public PackedDiagnosticsTests(ConsumerApp app)
    {
        _app = app;
    }

    /// <summary>
    /// One app per case, each a folder of its own, all built by one `dotnet build` of a solution listing them: MSBuild
    /// builds them side by side in one process tree instead of starting the SDK once per case, which took most of this
    /// project's time. Every line MSBuild prints for a project names that project's file, so each case reads its own.
    /// </summary>
    public sealed class ConsumerApp : IAsyncLifetime
    {
        private readonly string _work = Path.Combine(Path.GetTempPath(), "typedsandbox-diag-" + Guid.NewGuid().ToString("N")[..12]);
        private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);
        private string _output = "";

        /// <summary>The start of the whole build's output, for a failure message.</summary>
        public string Head => _output.Length <= 4000 ? _output : _output[..4000];

        /// <summary>The build's output lines that belong to the app of <paramref name="program"/>.</summary>
        public string OutputOf(string program)
        {
            Assert.True(_folders.TryGetValue(program, out var folder), "The case was not among those built.");
            var project = Path.Combine(folder, Path.GetFileName(folder) + ".csproj");
            return string.Join('\n', _output.Split('\n').Where(l => l.Contains(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal) || l.Contains(project, StringComparison.Ordinal)));
        }

        public async Task InitializeAsync()
        {
            await SharedFeed.RuntimeAsync();
            var solution = new System.Text.StringBuilder("<Solution>\n");
            foreach (var (index, source) in Cases.Select((row, i) => (i, (string)row[2])))
            {
                var program = Locate("using TypedSandbox;\n" + source).Program;
                var folder = Path.Combine(_work, "case" + index.ToString("00", System.Globalization.CultureInfo.InvariantCulture));
                PackedConsumer.Write(folder, SharedFeed.Directory, SharedFeed.Version, program);
                // A solution needs distinct project names.
                File.Move(Path.Combine(folder, "app.csproj"), Path.Combine(folder, Path.GetFileName(folder) + ".csproj"));
                _folders[program] = folder;
                solution.Append("  <Project Path=\"").Append(Path.GetFileName(folder)).Append('/').Append(Path.GetFileName(folder)).Append(".csproj\" />\n");
            }

            await File.WriteAllTextAsync(Path.Combine(_work, "cases.slnx"), solution.Append("</Solution>\n").ToString());
            // Every case fails to build by design, so the exit code says nothing here; each case checks its own lines.
            var build = await PackedConsumer.DotnetAsync(
                _work, "build", "cases.slnx", "-c", "Release", "-v", "quiet", "-clp:NoSummary", $"-p:RestorePackagesPath={Path.Combine(_work, "packages")}");
            _output = (build.Stdout + "\n" + build.Stderr).ReplaceLineEndings("\n");
        }

        public Task DisposeAsync()
        {
            if (System.IO.Directory.Exists(_work))
            {
                System.IO.Directory.Delete(_work, recursive: true);
            }

            return Task.CompletedTask;
        }
    }

    private const string UsesRunner = """
        await using var r = await Runner.CreateAsync();
        Console.WriteLine(await r.PingAsync());
        Console.WriteLine(await Runner.CreateAsync().PingAsync());

        """;

    /// <summary>A statement, so a case without one still has an entry point (no CS5001).</summary>
    private const string NoStatements = "Console.WriteLine();\n";

    private const string Ping = """
            [Command("true")]
            public partial Task<int> PingAsync();
        """;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "TSB0001", "", NoStatements + """
            [Sandbox(Timeout = "10m")]
            class /*here*/Runner
            {
            }
            """ },
        { "TSB0002", "CS0501", """
            await using var r = await Runner.CreateAsync();
            Console.WriteLine(await r.PingAsync());

            [Sandbox]
            partial class Runner
            {
                [Command("true")]
                public Task<int> /*here*/PingAsync();
            }
            """ },
        { "TSB0003", "", UsesRunner + $$"""
            [Sandbox(App = /*here*/"my app")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0004", "", UsesRunner + $$"""
            [Sandbox(App = "my-app", Timeout = /*here*/"10 minutes")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0006", "", UsesRunner + $$"""
            [Sandbox(Timeout = "10m", IdleTimeout = /*here*/"20m")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0007", "", UsesRunner + """
            [Sandbox(Timeout = "10m")]
            partial class Runner
            {
                [Command("true", Timeout = /*here*/"1h")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0008", "", UsesRunner + $$"""
            [Sandbox]
            [Tag(/*here*/"bad key", "x")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0009", "", UsesRunner + $$"""
            [Sandbox]
            [Tag("team", "a")]
            [Tag(/*here*/"team", "b")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0010", "", UsesRunner + $$"""
            [Sandbox]
            [Volume(/*here*/"data", "v")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0011", "", UsesRunner + $$"""
            [Sandbox]
            [Volume("/data", "a")]
            [Volume(/*here*/"/data", "b")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0012", "", UsesRunner + $$"""
            [Sandbox]
            [SandboxImage("python:3.13-slim", Env = [/*here*/"1BAD=x"])]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0013", "", UsesRunner + $$"""
            [Sandbox(Workdir = /*here*/"app")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0014", "", UsesRunner + $$"""
            [Sandbox]
            [SandboxImage(/*here*/"Not A Reference")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0015", "", UsesRunner + """
            [Sandbox]
            partial class Runner
            {
                [Command("echo", /*here*/"{missing}")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0016", "", """
            await using var r = await Runner.CreateAsync();
            Console.WriteLine(await r.PingAsync("x"));

            [Sandbox]
            partial class Runner
            {
                [Command("echo")]
                public partial Task<int> PingAsync(string /*here*/text);
            }
            """ },
        { "TSB0017", "", UsesRunner + """
            [Sandbox]
            partial class Runner
            {
                [Command("echo", /*here*/"{")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0017", "", UsesRunner + $$"""
            [Sandbox]
            [Entrypoint("echo", /*here*/"{name}")]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0018", "", """
            await using var r = await Runner.CreateAsync();
            Console.WriteLine(await r.PingAsync());

            [Sandbox]
            partial class Runner
            {
                [Command("true")]
                public partial /*here*/ValueTask<int> PingAsync();
            }
            """ },
        { "TSB0019", "", UsesRunner + $$"""
            [Sandbox(BlockNetwork = /*here*/true, CidrAllowlist = ["10.0.0.0/8"])]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0027", "", UsesRunner + $$"""
            [Sandbox(JsonContext = /*here*/typeof(NotAContext))]
            partial class Runner
            {
            {{Ping}}

                [Command("report")]
                public partial Task<Report> ReportAsync();
            }

            sealed class NotAContext;

            sealed record Report(int Passed);
            """ },
        { "TSB0020", "", NoStatements + """
            partial class NotASandbox
            {
                [/*here*/Command("true")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0021", "", NoStatements + """
            partial class Outer
            {
                [Sandbox]
                partial class /*here*/Runner
                {
                    [Command("true")]
                    public partial Task<int> PingAsync();
                }
            }
            """ },
        { "TSB0021", "", NoStatements + """
            [Sandbox]
            partial record /*here*/Runner
            {
                [Command("true")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0022", "", UsesRunner + """
            [Sandbox]
            partial class Runner
            {
                [Command("true")]
                public static partial Task<int> /*here*/StaticAsync();

            """ + Ping + """

            }
            """ },
        { "TSB0022", "CS8796", NoStatements + """
            [Sandbox]
            partial class Runner
            {
                [Command("true")]
                partial Task<int> /*here*/PingAsync();
            }
            """ },
        { "TSB0023", "", UsesRunner + $$"""
            [Sandbox(Cpu = /*here*/-1)]
            partial class Runner
            {
            {{Ping}}
            }
            """ },
        { "TSB0025", "", UsesRunner + """
            [Sandbox]
            partial class Runner
            {
                [Command("pytest", /*here*/"--files={files}")]
                public partial Task<int> RunAsync(string[] files);

                [Command("true")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0026", "", UsesRunner + """
            [Sandbox]
            partial class Runner
            {
                [Command("cat")]
                public partial Task<string> CatAsync([Stdin] int /*here*/number);

                [Command("true")]
                public partial Task<int> PingAsync();
            }
            """ },
        { "TSB0024", "", UsesRunner + """
            [Sandbox]
            partial class Runner
            {
                [Command(/*here*/"ls -la")]
                public partial Task<int> PingAsync();
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Dotnet_build_prints_the_diagnostic_at_its_location_and_no_error_from_skipped_generation(string id, string allowedCompilerErrors, string source)
    {
        var (program, line, column) = Locate("using TypedSandbox;\n" + source);

        var output = _app.OutputOf(program);

        Assert.True(Regex.IsMatch(output, @": error [A-Z]+[0-9]+:"), $"The build of the {id} case printed no error; the build printed:\n{_app.Head}");
        Assert.Matches(new Regex($@"Program\.cs\({line},{column}\): (error|warning) {id}:"), output);
        var allowed = allowedCompilerErrors.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var compilerErrors = output.Split('\n')
            .Where(l => Regex.IsMatch(l, @": error CS[0-9]+:") && !allowed.Any(a => l.Contains($"error {a}:", StringComparison.Ordinal)))
            .ToList();
        Assert.True(compilerErrors.Count == 0, $"Compiler errors besides {id}:\n{string.Join('\n', compilerErrors)}");
        Assert.DoesNotMatch(new Regex(@"\.g\.cs\([0-9]+,[0-9]+\): error"), output);

        // The compiler loads the generator and skips the code fixes' assembly without a word: no load or analyzer warnings.
        Assert.DoesNotMatch(new Regex(@"warning (CS8032|CS8033|CS8034|CS9057|AD0001):"), output);
    }

    /// <summary>Removes the marker and returns where it was (1-based line and column, as the compiler prints them).</summary>
    private static (string Program, int Line, int Column) Locate(string source)
    {
        source = source.ReplaceLineEndings("\n");
        var index = source.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(index >= 0, "The case has no /*here*/ marker.");
        var before = source[..index];
        var line = before.Count(c => c == '\n') + 1;
        var column = index - (before.LastIndexOf('\n') + 1) + 1;
        return (source.Remove(index, Marker.Length), line, column);
    }
}
