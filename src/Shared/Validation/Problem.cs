using System.Collections.Generic;

namespace TypedSandbox.Validation;

/// <summary>Which rule a <see cref="Problem"/> breaks; the analyzer picks its diagnostic by it.</summary>
internal enum Rule
{
    /// <summary>An app, sandbox, volume or secret name.</summary>
    Name,

    /// <summary>A timeout that is no duration or out of range.</summary>
    Timeout,

    /// <summary>An idle timeout longer than the sandbox timeout.</summary>
    IdleTimeoutExceedsTimeout,

    /// <summary>A command timeout longer than the sandbox timeout.</summary>
    CommandTimeoutExceedsTimeout,

    /// <summary>A working directory that is not absolute.</summary>
    Workdir,

    /// <summary>CPU, memory or a port.</summary>
    Resource,

    /// <summary>BlockNetwork together with an allow-list or tunnels.</summary>
    NetworkConflict,

    /// <summary>A CIDR range of the allow-list.</summary>
    Cidr,

    /// <summary>A volume mount path.</summary>
    MountPath,

    /// <summary>Two volumes at one path.</summary>
    DuplicateMountPath,

    /// <summary>An environment variable key or KEY=VALUE entry.</summary>
    EnvironmentKey,

    /// <summary>A tag key or value.</summary>
    Tag,

    /// <summary>One tag key twice.</summary>
    DuplicateTag,

    /// <summary>An image reference.</summary>
    ImageReference,

    /// <summary>A command line or entrypoint.</summary>
    Command,
}

/// <summary>
/// One broken rule: which declared value (<see cref="Field"/>, the element <see cref="Index"/> of a list and the
/// <see cref="Part"/> of a pair such as a tag's key 0 and value 1) and the message that says what is allowed.
/// </summary>
internal readonly struct Problem
{
    /// <summary>Creates a problem.</summary>
    public Problem(string field, int index, int part, Rule rule, string message)
    {
        Field = field;
        Index = index;
        Part = part;
        Rule = rule;
        Message = message;
    }

    /// <summary>The declared setting, named as the attribute property: "Timeout", "EncryptedPorts", "Volumes"…</summary>
    public string Field { get; }

    /// <summary>The element of a list setting, or -1.</summary>
    public int Index { get; }

    /// <summary>The part of an element (a tag's key 0 or value 1, a volume's path 0 or name 1), or -1.</summary>
    public int Part { get; }

    /// <summary>The rule broken.</summary>
    public Rule Rule { get; }

    /// <summary>What is wrong and what is allowed.</summary>
    public string Message { get; }

    /// <inheritdoc/>
    public override string ToString() => Field + ": " + Message;
}

/// <summary>Collects problems; a null message is no problem.</summary>
internal sealed class ProblemList : List<Problem>
{
    /// <summary>Adds a problem when <paramref name="message"/> is not null.</summary>
    /// <returns>Whether a problem was added.</returns>
    public bool Add(string? message, Rule rule, string field, int index = -1, int part = -1)
    {
        if (message is null)
        {
            return false;
        }

        Add(new Problem(field, index, part, rule, message));
        return true;
    }

    /// <summary>All messages, one a line: what a client or the engine throws (a single problem is its message alone).</summary>
    public static string? Describe(IReadOnlyList<Problem> problems)
    {
        if (problems.Count == 0)
        {
            return null;
        }

        var messages = new string[problems.Count];
        for (var i = 0; i < problems.Count; i++)
        {
            messages[i] = problems[i].Message;
        }

        return string.Join("\n", messages);
    }
}
