namespace TypedSandbox;

public sealed partial record SandboxCreateOptions
{
    /// <summary>
    /// Allow outbound TLS and HTTP only to these names (Modal's <c>outboundDomainAllowlist</c>): exact names or
    /// <c>*.</c> wildcard prefixes (<c>*.example.com</c> covers example.com and every name below it). The engine's egress
    /// proxy reads each connection's SNI or Host; other traffic reaches only <see cref="CidrAllowlist"/>. Cannot be
    /// combined with <see cref="BlockNetwork"/>.
    /// </summary>
    public IReadOnlyList<string>? DomainAllowlist { get; init; }
}
