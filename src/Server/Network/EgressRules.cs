using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Network;

/// <summary>
/// What a sandbox's egress proxy enforces: which names TLS (by SNI) and plain HTTP (by Host) connections may reach,
/// and which headers it sets on plain HTTP requests on the way out. The seam between the policy model (create options,
/// live updates) and the proxy: whoever builds the policy hands the proxy one of these.
/// </summary>
/// <param name="AllowedDomains">The allow-list; null allows every name and address (the proxy then only rewrites headers).</param>
/// <param name="HeaderReplacements">Headers set on plain HTTP requests to matching names, first match per header name wins.</param>
internal sealed record EgressRules(IReadOnlyList<DomainPattern>? AllowedDomains, IReadOnlyList<HeaderReplacement> HeaderReplacements)
{
    /// <summary>Ports whose connections the proxy reads as TLS (SNI).</summary>
    public IReadOnlyList<int> TlsPorts { get; init; } = [443];

    /// <summary>Ports whose connections the proxy reads as plain HTTP (Host).</summary>
    public IReadOnlyList<int> HttpPorts { get; init; } = [80];

    /// <summary>Rules from an SDK's allow-list entries.</summary>
    /// <exception cref="EngineException">An entry is not a host name or <c>*.</c> pattern (INVALID_ARGUMENT).</exception>
    public static EgressRules AllowOnly(IEnumerable<string> domains)
    {
        ArgumentNullException.ThrowIfNull(domains);
        return new EgressRules([.. domains.Select(ParseDomain).Distinct()], []);
    }

    /// <summary>Parses an allow-list or header-replacement domain the way the SDK documents them.</summary>
    /// <exception cref="EngineException">It is not a host name or <c>*.</c> pattern (INVALID_ARGUMENT).</exception>
    public static DomainPattern ParseDomain(string domain) =>
        DomainPattern.TryParse(domain ?? throw new ArgumentNullException(nameof(domain)))
        ?? throw EngineException.Invalid($"'{domain}' is not a domain name; list names like 'example.com' or wildcard prefixes like '*.example.com'.");

    /// <summary>Whether a connection naming <paramref name="host"/> (null: none, or an IP address) may go out.</summary>
    public bool Allows(string? host) => AllowedDomains is null || host is not null && AllowedDomains.Any(d => d.Matches(host));

    /// <summary>The headers to set on a plain HTTP request to <paramref name="host"/> (empty when none apply).</summary>
    public IReadOnlyDictionary<string, string> HeadersFor(string? host)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (host is null)
        {
            return headers;
        }

        foreach (var replacement in HeaderReplacements.Where(r => r.Domain.Matches(host)))
        {
            foreach (var (name, value) in replacement.Headers)
            {
                headers.TryAdd(name, value);
            }
        }
        return headers;
    }
}

/// <summary>Headers (name → final value, secrets already resolved) set on requests to names matching <paramref name="Domain"/>.</summary>
internal sealed record HeaderReplacement(DomainPattern Domain, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>Checks names and values and builds the replacement.</summary>
    /// <exception cref="EngineException">A header name is not an HTTP token or a value holds a control character (INVALID_ARGUMENT).</exception>
    public static HeaderReplacement Create(string domain, IReadOnlyDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || !name.All(HttpRequestHead.IsTokenChar))
            {
                throw EngineException.Invalid($"'{name}' is not an HTTP header name.");
            }

            if (value.Any(c => c is '\r' or '\n' or '\0'))
            {
                throw EngineException.Invalid($"The value of header '{name}' contains a line break or NUL.");
            }
        }
        return new HeaderReplacement(EgressRules.ParseDomain(domain), headers);
    }
}
