using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Apps;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.Volumes;

namespace TypedSandbox.Server.Api;

/// <summary>
/// <c>modal.client.ModalClient</c>: translates messages and calls the engine core. RPCs outside the subset are left
/// to the generated base class, which answers UNIMPLEMENTED.
/// </summary>
internal sealed partial class ControlPlaneService(
    TokenAuthority tokens,
    AppRegistry apps,
    ImageBuilds images,
    SecretStore secrets,
    VolumeStore volumes,
    SandboxManager sandboxes,
    FilesystemSnapshots snapshots,
    ObjectLifecycle lifecycle,
    Tunnels.ConnectTokens connectTokens,
    EngineEndpoint endpoint,
    EngineOptions options,
    TimeProvider clock) : ModalClient.ModalClientBase
{
    /// <summary>The image builder version the engine reports (the SDKs pass it back on image builds).</summary>
    public const string ImageBuilderVersion = "2025.06";

    public override Task<AuthTokenGetResponse> AuthTokenGet(AuthTokenGetRequest request, ServerCallContext context) =>
        Task.FromResult(new AuthTokenGetResponse { Token = tokens.MintClientToken(context.RequestHeaders.GetValue("x-modal-token-id") ?? "anonymous") });

    public override Task<ClientHelloResponse> ClientHello(Empty request, ServerCallContext context) =>
        Task.FromResult(new ClientHelloResponse { ImageBuilderVersion = ImageBuilderVersion });
}
