using System;
using System.Collections.Generic;

namespace TypedSandbox.Validation;

/// <summary>
/// Which rules apply to a sandbox, written once: the analyzer maps each <see cref="Problem"/> to the attribute
/// argument it names, the DSL and the client throw its message, the engine refuses the request with it.
/// </summary>
internal static class SandboxRules
{
    /// <summary>Checks every setting of a sandbox.</summary>
    /// <returns>Every problem, in declaration order; empty when the sandbox is valid.</returns>
    public static ProblemList Check(SandboxDeclaration sandbox)
    {
        var problems = new ProblemList();
        if (sandbox.App is not null)
        {
            problems.Add(ObjectNames.Check(sandbox.App, "App name"), Rule.Name, "App");
        }

        if (sandbox.Name is not null)
        {
            problems.Add(ObjectNames.Check(sandbox.Name, "Sandbox name"), Rule.Name, "Name");
        }

        CheckTimeouts(sandbox, problems);
        if (sandbox.Workdir is not null)
        {
            problems.Add(Paths.CheckWorkdir(sandbox.Workdir, "Workdir"), Rule.Workdir, "Workdir");
        }

        problems.Add(SandboxSettings.CheckCpu(sandbox.Cpu), Rule.Resource, "Cpu");
        problems.Add(SandboxSettings.CheckMemoryMb(sandbox.MemoryMb), Rule.Resource, "MemoryMb");
        CheckNetwork(sandbox, problems);
        CheckVolumes(sandbox.Volumes, problems);
        for (var i = 0; i < sandbox.Secrets.Count; i++)
        {
            problems.Add(ObjectNames.Check(sandbox.Secrets[i], "Secret name"), Rule.Name, "Secrets", i);
        }

        for (var i = 0; i < sandbox.SecretsFromEnvironment.Count; i++)
        {
            var variables = sandbox.SecretsFromEnvironment[i];
            problems.Add(
                variables.Count == 0 ? "SecretFromEnvironment names no variable; name the host environment variables to copy, such as [SecretFromEnvironment(\"API_KEY\")]" : null,
                Rule.EnvironmentKey,
                "SecretsFromEnvironment",
                i);
            for (var j = 0; j < variables.Count; j++)
            {
                problems.Add(EnvironmentKeys.Check(variables[j]), Rule.EnvironmentKey, "SecretsFromEnvironment", i, j);
            }
        }

        for (var i = 0; i < sandbox.EnvKeys.Count; i++)
        {
            problems.Add(EnvironmentKeys.Check(sandbox.EnvKeys[i]), Rule.EnvironmentKey, "Env", i);
        }

        CheckTags(sandbox.Tags, problems);
        if (sandbox.Entrypoint.Count > 0)
        {
            problems.AddRange(CommandRules.CheckEntrypoint(sandbox.Entrypoint));
        }

        return problems;
    }

    /// <summary>Checks tags: each key and value, and each key once.</summary>
    /// <returns>Every problem; field "Tags", index the tag, part 0 the key and 1 the value.</returns>
    public static ProblemList CheckTags(IReadOnlyList<KeyValuePair<string?, string?>> tags, ProblemList? problems = null)
    {
        problems ??= new ProblemList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tags.Count; i++)
        {
            var key = tags[i].Key;
            var keyError = Tags.CheckKey(key);
            problems.Add(keyError, Rule.Tag, "Tags", i, 0);
            problems.Add(Tags.CheckValue(key ?? string.Empty, tags[i].Value), Rule.Tag, "Tags", i, 1);
            if (keyError is null && !seen.Add(key!))
            {
                problems.Add(SandboxSettings.DuplicateTagKey(key!), Rule.DuplicateTag, "Tags", i, 0);
            }
        }

        return problems;
    }

    /// <summary>Tags of a dictionary in the order the rule book reads them.</summary>
    public static IReadOnlyList<KeyValuePair<string?, string?>> TagsOf(IEnumerable<KeyValuePair<string, string>>? tags)
    {
        var list = new List<KeyValuePair<string?, string?>>();
        foreach (var tag in tags ?? System.Array.Empty<KeyValuePair<string, string>>())
        {
            list.Add(new KeyValuePair<string?, string?>(tag.Key, tag.Value));
        }

        return list;
    }

    private static void CheckTimeouts(SandboxDeclaration sandbox, ProblemList problems)
    {
        var timeoutError = sandbox.Timeout.Check("Timeout", out var timeout);
        problems.Add(timeoutError, Rule.Timeout, "Timeout");
        var idleError = sandbox.IdleTimeout.Check("Idle timeout", out var idle);
        problems.Add(idleError, Rule.Timeout, "IdleTimeout");
        var limit = sandbox.Timeout.IsSet ? timeout : Limits.DefaultSandboxTimeout;
        if (idle is { } idleValue && limit is { } limitValue)
        {
            problems.Add(SandboxSettings.CheckIdleTimeout(idleValue, limitValue), Rule.IdleTimeoutExceedsTimeout, "IdleTimeout");
        }
    }

    private static void CheckNetwork(SandboxDeclaration sandbox, ProblemList problems)
    {
        var seen = new HashSet<int>();
        var lists = new[] { ("EncryptedPorts", sandbox.EncryptedPorts), ("UnencryptedPorts", sandbox.UnencryptedPorts), ("H2Ports", sandbox.H2Ports) };
        var count = 0;
        foreach (var (field, ports) in lists)
        {
            count += ports.Count;
            for (var i = 0; i < ports.Count; i++)
            {
                if (!problems.Add(SandboxSettings.CheckPort(ports[i]), Rule.Resource, field, i) && !seen.Add(ports[i]))
                {
                    problems.Add(SandboxSettings.DuplicatePort(ports[i]), Rule.Resource, field, i);
                }
            }
        }

        for (var i = 0; i < sandbox.CidrAllowlist.Count; i++)
        {
            problems.Add(Cidrs.Check(sandbox.CidrAllowlist[i]), Rule.Cidr, "CidrAllowlist", i);
        }

        problems.Add(SandboxSettings.CheckNetwork(sandbox.BlockNetwork, sandbox.CidrAllowlist.Count, count), Rule.NetworkConflict, "BlockNetwork");
    }

    private static void CheckVolumes(IReadOnlyList<VolumeDeclaration> volumes, ProblemList problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < volumes.Count; i++)
        {
            var path = volumes[i].MountPath;
            if (!problems.Add(Paths.CheckMountPath(path), Rule.MountPath, "Volumes", i, 0) && !seen.Add(path!))
            {
                problems.Add(SandboxSettings.DuplicateMountPath(path!), Rule.DuplicateMountPath, "Volumes", i, 0);
            }

            if (volumes[i].HasName)
            {
                problems.Add(ObjectNames.Check(volumes[i].Name, "Volume name"), Rule.Name, "Volumes", i, 1);
            }
        }
    }
}
