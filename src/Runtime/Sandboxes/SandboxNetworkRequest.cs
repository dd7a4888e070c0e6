using TypedSandbox.Protocol.Client;
using ProtoSandbox = TypedSandbox.Protocol.Client.Sandbox;
using ProtoOutboundPolicy = TypedSandbox.Protocol.Client.ExperimentalOutboundPolicy;

namespace TypedSandbox.Sandboxes;

/// <summary>The network policy part of a create request and of live updates: inbound allow-list, outbound policy.</summary>
internal static class SandboxNetworkRequest
{
    /// <summary>Writes the inbound allow-list and the outbound policy into the definition.</summary>
    /// <exception cref="InvalidArgumentException">Either is combined with <see cref="SandboxCreateOptions.BlockNetwork"/>.</exception>
    public static void Apply(ProtoSandbox definition, SandboxCreateOptions options)
    {
        if (options.BlockNetwork && (options.InboundCidrAllowlist is not null || options.ExperimentalOutboundPolicy is not null))
        {
            throw new InvalidArgumentException("InboundCidrAllowlist and ExperimentalOutboundPolicy cannot be used when BlockNetwork is enabled");
        }

        definition.InboundCidrAllowlist.Add(options.InboundCidrAllowlist ?? []);
        if (options.ExperimentalOutboundPolicy is { } policy)
        {
            definition.ExperimentalOutboundPolicy = ToProtocol(policy);
        }
    }

    /// <summary>The protocol form of an outbound policy.</summary>
    public static ProtoOutboundPolicy ToProtocol(TypedSandbox.ExperimentalOutboundPolicy policy)
    {
        var message = new ProtoOutboundPolicy();
        foreach (var replacement in policy.HeaderReplacements)
        {
            var entry = new ProtoOutboundPolicy.Types.HeaderReplacement { Domain = replacement.Domain, SecretId = replacement.Secret?.SecretId ?? "" };
            foreach (var (name, value) in replacement.Headers)
            {
                entry.Headers[name] = value;
            }

            message.HeaderReplacements.Add(entry);
        }

        return message;
    }

    /// <summary>The allow-list access of a live update (both lists always sent, as Modal's SDK does).</summary>
    public static NetworkAccess AllowList(IReadOnlyList<string> cidrs, IReadOnlyList<string> domains)
    {
        var access = new NetworkAccess { NetworkAccessType = NetworkAccess.Types.NetworkAccessType.Allowlist };
        access.AllowedCidrs.Add(cidrs);
        access.AllowedDomains.Add(domains);
        return access;
    }
}
