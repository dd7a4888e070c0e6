namespace TypedSandbox.Server.Identity;

/// <summary>Who a sandbox is, as its identity token states it (Modal's claim names).</summary>
/// <param name="SandboxId">The sandbox (<c>sb-…</c>).</param>
/// <param name="AppId">Its app (<c>ap-…</c>).</param>
/// <param name="AppName">The app's name.</param>
/// <param name="EnvironmentId">The app's environment (<c>en-…</c>).</param>
/// <param name="EnvironmentName">The environment's name.</param>
internal sealed record SandboxIdentity(string SandboxId, string AppId, string AppName, string EnvironmentId, string EnvironmentName)
{
    /// <summary>The <c>sub</c> claim: Modal's colon-separated path from environment to sandbox.</summary>
    public string Subject => $"modal:environment_name:{EnvironmentName}:app_name:{AppName}:sandbox_id:{SandboxId}";
}
