using TypedSandbox.Protocol.Client;
using TypedSandbox.Validation;
using ProtoSandbox = TypedSandbox.Protocol.Client.Sandbox;

namespace TypedSandbox.Sandboxes;

/// <summary>The identity and placement part of a create request: the readiness probe, cloud and regions.</summary>
internal static class SandboxIdentityRequest
{
    /// <summary>Checks cloud and regions with the rule book and writes them and the probe into the definition.</summary>
    /// <exception cref="InvalidArgumentException">A cloud or region name Modal does not know.</exception>
    public static void Apply(ProtoSandbox definition, SandboxCreateOptions options)
    {
        if ((Placement.CheckCloud(options.Cloud) ?? Placement.CheckRegions(options.Regions)) is { } problem)
        {
            throw new InvalidArgumentException(problem);
        }

        definition.CloudProviderStr = options.Cloud ?? "";
        definition.IncludeOidcIdentityToken = options.IncludeOidcIdentityToken;
        if (options.Regions is { Count: > 0 } regions)
        {
            definition.SchedulerPlacement = new SchedulerPlacement();
            definition.SchedulerPlacement.Regions.Add(regions);
        }

        if (options.ReadinessProbe is { } probe)
        {
            var message = new Probe { IntervalMs = (uint)probe.Interval.TotalMilliseconds };
            if (probe.TcpPort is { } port)
            {
                message.TcpPort = (uint)port;
            }
            else
            {
                message.ExecCommand = new Probe.Types.ExecCommand();
                message.ExecCommand.Argv.Add(probe.ExecArgs ?? []);
            }

            definition.ReadinessProbe = message;
        }
    }
}
