using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Looks inside the in-process engine to check what the SDK did.</summary>
internal static class EngineInspection
{
    /// <summary>The outcome of a sandbox ("Terminated", "Success", …), or "Running".</summary>
    public static string GetSandboxResult(this IServiceProvider services, string sandboxId)
    {
        var session = services.GetRequiredService<SandboxManager>().TryGet(sandboxId)
            ?? throw new InvalidOperationException($"The engine does not know sandbox {sandboxId}.");
        return session.Result?.Outcome.ToString() ?? "Running";
    }
}
