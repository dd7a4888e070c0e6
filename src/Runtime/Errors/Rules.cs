namespace TypedSandbox.Errors;

/// <summary>Turns a message from the shared rule book (<c>TypedSandbox.Validation</c>) into the client's exception.</summary>
internal static class Rules
{
    /// <summary>Throws <see cref="InvalidArgumentException"/> when <paramref name="problem"/> is not null.</summary>
    /// <exception cref="InvalidArgumentException">The rule book reported a problem.</exception>
    public static void Enforce(string? problem)
    {
        if (problem is not null)
        {
            throw new InvalidArgumentException(problem.EndsWith('.') ? problem : problem + ".");
        }
    }
}
