using TypedSandbox.Samples;

// TypedCommands: typed arguments and typed results of [Command] methods (see Toolbox.cs). Runs on the embedded engine
// unless MODAL_SERVER_URL (or ~/.modal.toml) points elsewhere; exits with 0 when every step behaved as documented.
await using var engine = await SampleEngine.StartIfNeededAsync();
await using var box = await Toolbox.CreateAsync();
Console.WriteLine($"Sandbox {box.Sandbox.SandboxId} is running.");

string[] files = ["notes.txt", "with space.txt"];
await box.TouchAsync(files);
await foreach (var name in box.ListAsync(newestFirst: true))
{
    Console.WriteLine($"ls: {name}");
}

var words = (await box.CountWordsAsync("typed arguments, typed results")).Trim();
Console.WriteLine($"wc -w: {words}");
Console.WriteLine(await box.GreetAsync("Hello"));
await foreach (var entry in box.StatAsync(files))
{
    Console.WriteLine($"stat: {entry.Name} is {entry.Size} bytes");
}

var exists = await box.ExistsAsync("/tmp/with space.txt");
var missing = await box.ExistsAsync("/tmp/missing");
Console.WriteLine($"test -e: {exists} (exists), {missing} (missing)");

var slow = await box.TooSlowAsync();
Console.WriteLine($"timeout: exit code {slow.ExitCode}, output so far: {slow.Stdout.Trim()}");

// The chained form: create, run, terminate.
var greeting = await Toolbox.CreateAsync().GreetAsync("Bye");
Console.Write(greeting);

var ok = words == "4" && exists == 0 && missing == 1 && slow.ExitCode == 137 && slow.Stdout == "working\n";
Console.WriteLine(ok ? "All typed commands behaved as documented." : "Something differed from the documentation.");
return ok ? 0 : 1;
