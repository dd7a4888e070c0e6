namespace TypedSandbox.Samples.Guide;

/// <summary>One section of Modal's Sandboxes guide, written against the C# client.</summary>
internal interface IGuideSection
{
    /// <summary>The name used on the command line (<c>dotnet run --project samples/Guide -- name</c>).</summary>
    string Name { get; }

    /// <summary>The guide heading the section follows.</summary>
    string Title { get; }

    /// <summary>Runs the section's snippets against <paramref name="client"/>, printing what the guide prints.</summary>
    Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken);
}
