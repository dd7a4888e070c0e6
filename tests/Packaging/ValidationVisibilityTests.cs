using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// The shared validation rules (<c>TypedSandbox.Validation</c>) are compiled into every assembly that applies them, as
/// internal types: no assembly of package TypedSandbox, nor the engine's, exports one.
/// </summary>
public sealed class ValidationVisibilityTests
{
    private const string ValidationNamespace = "TypedSandbox.Validation";

    [Fact]
    public async Task No_assembly_of_the_packed_package_exports_a_validation_type()
    {
        var package = await SharedFeed.RuntimeAsync();

        var assemblies = new Dictionary<string, IReadOnlyList<ValidationType>>(StringComparer.Ordinal);
        using (var zip = ZipFile.OpenRead(package))
        {
            foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".dll", StringComparison.Ordinal)))
            {
                using var stream = new MemoryStream();
                await using (var source = entry.Open())
                {
                    await source.CopyToAsync(stream);
                }

                stream.Position = 0;
                assemblies[entry.FullName] = ValidationTypes(stream);
            }
        }

        Assert.Equal(
            ["analyzers/dotnet/cs/TypedSandbox.Generators.CodeFixers.dll", "analyzers/dotnet/cs/TypedSandbox.Generators.dll", "lib/net10.0/TypedSandbox.Attributes.dll", "lib/net10.0/TypedSandbox.Runtime.dll"],
            assemblies.Keys.Order(StringComparer.Ordinal));
        // The runtime and the generator apply the rules (so they hold them); the attributes assembly has none at all.
        Assert.Contains(assemblies["lib/net10.0/TypedSandbox.Runtime.dll"], t => t.Name == "ObjectNames");
        Assert.Contains(assemblies["analyzers/dotnet/cs/TypedSandbox.Generators.dll"], t => t.Name == "ObjectNames");
        Assert.Empty(assemblies["lib/net10.0/TypedSandbox.Attributes.dll"]);
        Assert.Empty(assemblies["analyzers/dotnet/cs/TypedSandbox.Generators.CodeFixers.dll"]);
        Assert.All(assemblies, a => Assert.DoesNotContain(a.Value, t => t.IsPublic));
    }

    [Fact]
    public void The_engine_assembly_exports_no_validation_type()
    {
        var engine = typeof(TypedSandbox.Server.Hosting.EngineHost).Assembly.Location;
        using var stream = File.OpenRead(engine);

        var types = ValidationTypes(stream);

        Assert.Contains(types, t => t.Name == "Paths");
        Assert.DoesNotContain(types, t => t.IsPublic);
    }

    private sealed record ValidationType(string Name, bool IsPublic);

    /// <summary>Every type of the validation namespace in an assembly's metadata, nested types with their outer type's visibility.</summary>
    private static List<ValidationType> ValidationTypes(Stream assembly)
    {
        using var pe = new PEReader(assembly, PEStreamOptions.LeaveOpen);
        var metadata = pe.GetMetadataReader();
        var found = new List<ValidationType>();
        foreach (var handle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(handle);
            var outermost = type;
            var exported = IsVisible(type.Attributes);
            while (outermost.GetDeclaringType() is { IsNil: false } declaring)
            {
                outermost = metadata.GetTypeDefinition(declaring);
                exported &= IsVisible(outermost.Attributes);
            }

            if (metadata.GetString(outermost.Namespace) == ValidationNamespace)
            {
                found.Add(new ValidationType(metadata.GetString(type.Name), exported));
            }
        }

        return found;
    }

    private static bool IsVisible(TypeAttributes attributes) => (attributes & TypeAttributes.VisibilityMask) switch
    {
        TypeAttributes.Public or TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem => true,
        _ => false,
    };
}
