using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Exec;

/// <summary>What an exec request must satisfy before it reaches a sandbox.</summary>
internal static class ExecRules
{
    /// <summary>Throws INVALID_ARGUMENT for an empty command, a bad working directory or a bad environment key.</summary>
    public static void Validate(ProcessSpec spec)
    {
        if (spec.Args.Count == 0 || string.IsNullOrEmpty(spec.Args[0]))
        {
            throw EngineException.Invalid("The command to exec is empty: give at least the program to run.");
        }

        if (spec.Workdir is not null)
        {
            EngineRules.Require(EngineRules.CheckWorkdir(spec.Workdir, "Exec workdir"));
        }

        foreach (var key in spec.Env.Keys)
        {
            EngineRules.Require(EngineRules.CheckEnvironmentKey(key));
        }
    }
}
