using TypedSandbox;
using TypedSandbox.Samples;

// QuickStart: a sandbox from a Debian image, two commands, streamed output. Runs on the embedded engine unless
// MODAL_SERVER_URL (or ~/.modal.toml) points elsewhere.
await using var engine = await SampleEngine.StartIfNeededAsync();
var client = SandboxClient.Default;

var app = await client.Apps.FromNameAsync("quickstart", createIfMissing: true);
// debian:bookworm-slim comes from a registry mirror if one is configured, else it is built locally with mmdebstrap.
var image = client.Images.FromRegistry("debian:bookworm-slim");
await using var sandbox = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
{
    Timeout = TimeSpan.FromMinutes(10),
    BuildLog = new Progress<string>(line => Console.WriteLine($"  [build] {line}")),
});
Console.WriteLine($"Started {sandbox.SandboxId}");

var hello = await sandbox.ExecAsync(["sh", "-c", "echo hello from $(hostname), $(id -un)"]);
Console.Write(await hello.Stdout.ReadToEndAsync());

var loop = await sandbox.ExecAsync(["sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.5; done"]);
await foreach (var line in loop.Stdout.ReadLinesAsync())
{
    Console.WriteLine(line);
}

Console.WriteLine($"exit code {await loop.WaitAsync()}");
await sandbox.TerminateAsync();
