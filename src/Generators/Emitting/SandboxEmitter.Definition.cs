using System.Globalization;
using System.Linq;
using TypedSandbox.Generators.Model;

namespace TypedSandbox.Generators.Emitting;

/// <summary>The static <c>SandboxDefinition</c> and <c>CommandDefinition</c> fields, written from the attributes.</summary>
internal static partial class SandboxEmitter
{
    private static void WriteDefinition(IndentedWriter writer, SandboxDefinitionSpec definition)
    {
        writer.Line($"private static readonly {Dsl}.SandboxDefinition s_definition = new {Dsl}.SandboxDefinition").Open();
        Property(writer, "App", definition.App);
        Property(writer, "Name", definition.Name);
        Property(writer, "Timeout", definition.Timeout);
        Property(writer, "IdleTimeout", definition.IdleTimeout);
        Property(writer, "Workdir", definition.Workdir);
        if (definition.Cpu != 0)
        {
            writer.Line($"Cpu = {definition.Cpu.ToString("R", CultureInfo.InvariantCulture)},");
        }

        if (definition.MemoryMb != 0)
        {
            writer.Line($"MemoryMb = {definition.MemoryMb.ToString(CultureInfo.InvariantCulture)},");
        }

        Flag(writer, "BlockNetwork", definition.BlockNetwork);
        Property(writer, "CidrAllowlist", definition.CidrAllowlist);
        Property(writer, "EncryptedPorts", definition.EncryptedPorts);
        Property(writer, "UnencryptedPorts", definition.UnencryptedPorts);
        Flag(writer, "Verbose", definition.Verbose);
        if (definition.Image is { } image)
        {
            writer.Line($"Image = new {Dsl}.ImageDefinition").Open();
            Property(writer, "Reference", image.Reference);
            Property(writer, "DebianSuite", image.DebianSuite);
            Property(writer, "Env", image.Env);
            Property(writer, "AptInstall", image.AptInstall);
            Property(writer, "PipInstall", image.PipInstall);
            Property(writer, "RunCommands", image.RunCommands);
            Property(writer, "Workdir", image.Workdir);
            writer.Close("},");
        }

        if (!definition.Volumes.IsEmpty)
        {
            writer.Line($"Volumes = new {Dsl}.VolumeMount[]").Open();
            foreach (var volume in definition.Volumes)
            {
                var readOnly = volume.ReadOnly ? " { ReadOnly = true }" : string.Empty;
                writer.Line($"new {Dsl}.VolumeMount({Literal(volume.MountPath)}, {Literal(volume.VolumeName)}){readOnly},");
            }

            writer.Close("},");
        }

        Property(writer, "Secrets", definition.Secrets);
        if (!definition.SecretsFromEnvironment.IsEmpty)
        {
            writer.Line($"SecretsFromEnvironment = new {Dsl}.EnvironmentSecret[]").Open();
            foreach (var secret in definition.SecretsFromEnvironment)
            {
                var optional = secret.Required ? string.Empty : " { Required = false }";
                writer.Line($"new {Dsl}.EnvironmentSecret({Strings(secret.Variables)}){optional},");
            }

            writer.Close("},");
        }

        if (!definition.Tags.IsEmpty)
        {
            writer.Line("Tags = new global::System.Collections.Generic.Dictionary<string, string>").Open();
            foreach (var tag in definition.Tags)
            {
                writer.Line($"[{Literal(tag.Key)}] = {Literal(tag.Value)},");
            }

            writer.Close("},");
        }

        Property(writer, "Entrypoint", definition.Entrypoint);
        writer.Close("};");
    }

    private static void WriteCommandDefinition(IndentedWriter writer, CommandSpec command, string field)
    {
        var parameters = command.Parameters.Where(p => p.Kind != ParameterKind.CancellationToken).Select(p => p.Kind switch
        {
            ParameterKind.Option => $"{Dsl}.CommandParameter.Option({Literal(p.Name)}, {Literal(p.Key ?? string.Empty)})",
            ParameterKind.Env => $"{Dsl}.CommandParameter.Env({Literal(p.Name)}, {Literal(p.Key ?? string.Empty)})",
            ParameterKind.Stdin => $"{Dsl}.CommandParameter.Stdin({Literal(p.Name)})",
            _ => $"{Dsl}.CommandParameter.Placeholder({Literal(p.Name)})",
        }).ToList();
        var list = parameters.Count == 0 ? $"global::System.Array.Empty<{Dsl}.CommandParameter>()" : $"new {Dsl}.CommandParameter[] {{ {string.Join(", ", parameters)} }}";
        var options = command.Timeout is not null || command.Workdir is not null || !command.Env.IsEmpty || !command.Secrets.IsEmpty;
        writer.Line($"private static readonly {Dsl}.CommandDefinition {field} = new {Dsl}.CommandDefinition({Strings(command.Args)}, {list}){(options ? string.Empty : ";")}");
        if (options)
        {
            writer.Open();
            Property(writer, "Timeout", command.Timeout);
            Property(writer, "Workdir", command.Workdir);
            Property(writer, "Env", command.Env);
            Property(writer, "Secrets", command.Secrets);
            writer.Close("};");
        }
    }



    private static void Property(IndentedWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.Line($"{name} = {Literal(value)},");
        }
    }

    private static void Property(IndentedWriter writer, string name, EquatableArray<string> values)
    {
        if (!values.IsEmpty)
        {
            writer.Line($"{name} = {Strings(values)},");
        }
    }

    private static void Property(IndentedWriter writer, string name, EquatableArray<int> values)
    {
        if (!values.IsEmpty)
        {
            writer.Line($"{name} = new int[] {{ {string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))} }},");
        }
    }

    private static void Flag(IndentedWriter writer, string name, bool value)
    {
        if (value)
        {
            writer.Line($"{name} = true,");
        }
    }

    private static string Strings(EquatableArray<string> values) =>
        values.IsEmpty ? "global::System.Array.Empty<string>()" : $"new string[] {{ {string.Join(", ", values.Select(Literal))} }}";
}
