using TypedSandbox;
using TypedSandbox.Samples;
using TypedSandbox.Samples.Guide;

// Modal's Sandboxes guide in C#, section by section:
//   dotnet run --project samples/Guide -- [section...]     (all sections when none is named)
// Runs on the embedded engine unless MODAL_SERVER_URL (or ~/.modal.toml) points elsewhere. GUIDE_IMAGE replaces the
// guide's image (python:3.13-slim; the engine pulls it through TYPEDSANDBOX_REGISTRY_MIRRORS when one is set).
IReadOnlyList<IGuideSection> sections;
try
{
    sections = GuideSections.Select(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

await using var engine = await SampleEngine.StartIfNeededAsync(cancel.Token);
var client = SandboxClient.Default;
foreach (var section in sections)
{
    Console.WriteLine($"== {section.Title} ({section.Name})");
    await section.RunAsync(client, Console.Out, cancel.Token);
    Console.WriteLine();
}
return 0;
