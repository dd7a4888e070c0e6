using TypedSandbox.Samples;

// TestRunner: a typed sandbox (see TestRunner.cs) runs a small pytest suite the sample writes into it. Runs on the
// embedded engine unless MODAL_SERVER_URL (or ~/.modal.toml) points elsewhere. The first run builds the image
// (Debian bookworm + python3-pytest, a minute or two; a client given no logger shows the build on the console);
// later runs reuse it from the engine's cache.
await using var engine = await SampleEngine.StartIfNeededAsync();
await using var client = SampleEngine.CreateClient(engine);

Console.WriteLine("Creating the sandbox (building its image if needed) ...");
await using var runner = await TestRunner.CreateAsync(client);
Console.WriteLine($"Sandbox {runner.Sandbox.SandboxId} is running.");

await runner.Sandbox.Filesystem.MakeDirectoryAsync(SuiteFiles.Directory, parents: true);
foreach (var (name, text) in SuiteFiles.All)
{
    await runner.Sandbox.Filesystem.WriteTextAsync($"{SuiteFiles.Directory}/{name}", text);
    Console.WriteLine($"Wrote {SuiteFiles.Directory}/{name}");
}

Console.WriteLine($"$ pytest -q {SuiteFiles.Directory}");
var result = await runner.RunTestsAsync(SuiteFiles.Directory);
Console.Write(result.Stdout);
Console.Error.Write(result.Stderr);
Console.WriteLine(result.ExitCode == 0 ? "All tests passed." : $"pytest exited with {result.ExitCode}.");
return result.ExitCode;
