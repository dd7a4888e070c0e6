using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using TypedSandbox.Server.Auth;

namespace TypedSandbox.Server.Identity;

/// <summary>
/// The ES256 key the engine signs sandbox identity tokens with: a P-256 private key in
/// <c>&lt;state-dir&gt;/oidc-signing-key.pem</c> (0600), created on first use and reused across restarts, so tokens
/// and the published key set stay valid while the engine restarts.
/// </summary>
internal sealed class IdentitySigningKey
{
    /// <summary>The key file's name in the state directory.</summary>
    public const string FileName = "oidc-signing-key.pem";

    private IdentitySigningKey(ECDsaSecurityKey key, JsonWebKey publicKey)
    {
        SecurityKey = key;
        PublicKey = publicKey;
    }

    /// <summary>The private key, with its key id set (the public key's RFC 7638 thumbprint).</summary>
    public ECDsaSecurityKey SecurityKey { get; }

    /// <summary>The public half as a JSON Web Key (<c>kty</c>, <c>crv</c>, <c>x</c>, <c>y</c>, <c>kid</c>).</summary>
    public JsonWebKey PublicKey { get; }

    /// <summary>Reads the key of <paramref name="stateDirectory"/>, creating it when there is none.</summary>
    public static IdentitySigningKey LoadOrCreate(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, FileName);
        var ecdsa = ECDsa.Create();
        if (File.Exists(path))
        {
            ecdsa.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            ecdsa.GenerateKey(ECCurve.NamedCurves.nistP256);
            PrivateFile.Write(path, ecdsa.ExportPkcs8PrivateKeyPem());
        }

        var publicKey = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(includePrivateParameters: false))));
        var kid = Base64UrlEncoder.Encode(publicKey.ComputeJwkThumbprint());
        publicKey.Kid = kid;
        publicKey.Use = "sig";
        publicKey.Alg = SecurityAlgorithms.EcdsaSha256;
        return new IdentitySigningKey(new ECDsaSecurityKey(ecdsa) { KeyId = kid }, publicKey);
    }
}
