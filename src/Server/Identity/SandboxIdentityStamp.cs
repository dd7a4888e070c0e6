using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Identity;

/// <summary>Applies a spec's <see cref="SandboxSpec.IdentityEnvironment"/> once its sandbox id is minted.</summary>
internal static class SandboxIdentityStamp
{
    /// <summary>The spec with the variables made for <paramref name="sandboxId"/> merged over its environment.</summary>
    public static SandboxSpec Apply(SandboxSpec spec, string sandboxId)
    {
        if (spec.IdentityEnvironment is not { } make)
        {
            return spec;
        }

        var environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal);
        foreach (var (key, value) in make(sandboxId))
        {
            environment[key] = value;
        }

        return spec with { Environment = environment, IdentityEnvironment = null };
    }
}
