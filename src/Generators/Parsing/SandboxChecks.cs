using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedSandbox.Generators.Model;
using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Parsing
{
    /// <summary>
    /// Applies the shared validation rules to the attributes of a [Sandbox] class or a [Command] method. The analyzer
    /// reports what it finds; the generator only asks whether there was an error, and then skips the declaration.
    /// </summary>
    internal static class SandboxChecks
    {
        public static void CheckClass(INamedTypeSymbol type, IProblemSink sink, CancellationToken cancellationToken)
        {
            var sandbox = AttributeValues.Find(type, "SandboxAttribute").FirstOrDefault();
            if (sandbox.Data is null)
            {
                return;
            }

            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                    && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    sink.Report(DiagnosticDescriptors.SandboxClassNotPartial, ProblemTarget.At(declaration.Identifier.GetLocation()), null, type.Name);
                }
            }

            var unsupported = type.ContainingType is not null ? "nested in another type"
                : type.IsRecord ? "a record"
                : type.IsGenericType ? "generic"
                : type.IsStatic ? "static"
                : type.IsAbstract ? "abstract"
                : null;
            if (unsupported is not null)
            {
                sink.Report(DiagnosticDescriptors.UnsupportedSandboxClass, ProblemTarget.At(type.Locations.FirstOrDefault()), null, type.Name, unsupported);
            }

            var data = sandbox.Data;
            CheckName(sandbox.String("App"), "App name", ProblemTarget.NamedArgument(data, "App"), sink);
            CheckName(sandbox.String("Name"), "Sandbox name", ProblemTarget.NamedArgument(data, "Name"), sink);
            var timeout = CheckDuration(sandbox, "Timeout", "Timeout", sink);
            var idleTimeout = CheckDuration(sandbox, "IdleTimeout", "Idle timeout", sink);
            if (idleTimeout is { } idle && (timeout ?? (sandbox.Has("Timeout") ? (TimeSpan?)null : Durations.DefaultSandboxTimeout)) is { } limit)
            {
                Report(SandboxSettings.CheckIdleTimeout(idle, limit), DiagnosticDescriptors.IdleTimeoutExceedsTimeout, ProblemTarget.NamedArgument(data, "IdleTimeout"), sink);
            }

            CheckWorkdir(sandbox.String("Workdir"), "Workdir", ProblemTarget.NamedArgument(data, "Workdir"), sink);
            Report(SandboxSettings.CheckCpu(sandbox.Double("Cpu")), DiagnosticDescriptors.InvalidResource, ProblemTarget.NamedArgument(data, "Cpu"), sink);
            Report(SandboxSettings.CheckMemoryMb(sandbox.Int("MemoryMb")), DiagnosticDescriptors.InvalidResource, ProblemTarget.NamedArgument(data, "MemoryMb"), sink);
            var ports = 0;
            foreach (var property in new[] { "EncryptedPorts", "UnencryptedPorts" })
            {
                var values = sandbox.Ints(property);
                ports += values.Length;
                for (var i = 0; i < values.Length; i++)
                {
                    Report(SandboxSettings.CheckPort(values[i]), DiagnosticDescriptors.InvalidResource, ProblemTarget.NamedArgument(data, property, i), sink);
                }
            }

            Report(
                SandboxSettings.CheckNetwork(sandbox.Bool("BlockNetwork"), sandbox.Strings("CidrAllowlist").Length, ports),
                DiagnosticDescriptors.BlockNetworkConflict,
                ProblemTarget.NamedArgument(data, "BlockNetwork"),
                sink);

            if (data.NamedArguments.FirstOrDefault(a => a.Key == "JsonContext").Value.Value is ITypeSymbol jsonContext && !IsJsonSerializerContext(jsonContext))
            {
                sink.Report(DiagnosticDescriptors.InvalidJsonContext, ProblemTarget.NamedArgument(data, "JsonContext"), null, jsonContext.ToDisplayString());
            }

            CheckImage(type, sink);
            CheckVolumes(type, sink);
            CheckSecrets(type, sink);
            CheckTags(type, sink);
            foreach (var entrypoint in AttributeValues.Find(type, "EntrypointAttribute"))
            {
                CheckEntrypoint(entrypoint, sink);
            }
        }

        private static bool IsJsonSerializerContext(ITypeSymbol type)
        {
            for (var current = type.BaseType; current is not null; current = current.BaseType)
            {
                if (current.Name == "JsonSerializerContext" && current.ContainingNamespace.ToDisplayString() == "System.Text.Json.Serialization")
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Whether the generator can add members to the class: partial, a class (not a record), directly in a namespace, non-generic, non-static, non-abstract.</summary>
        public static bool CanGenerateClass(INamedTypeSymbol type, CancellationToken cancellationToken) =>
            type.ContainingType is null && !type.IsRecord && !type.IsGenericType && !type.IsStatic && !type.IsAbstract
            && type.DeclaringSyntaxReferences.All(r => r.GetSyntax(cancellationToken) is ClassDeclarationSyntax declaration
                && declaration.Modifiers.Any(SyntaxKind.PartialKeyword));

        /// <summary>
        /// Whether the generator, rather than the analyzer, reports the errors of a [Sandbox] class: it does for a class
        /// it cannot add members to, because the compiler's own errors about such a class stop the analyzers of a build.
        /// Each error has exactly one reporter, so a build never shows it twice.
        /// </summary>
        public static bool GeneratorReportsClass(INamedTypeSymbol type, CancellationToken cancellationToken) =>
            !CanGenerateClass(type, cancellationToken);

        /// <summary>
        /// As <see cref="GeneratorReportsClass"/>, for a [Command] method: the generator reports it when it cannot write
        /// the method's body (not a partial definition, generic, no access modifier, or in a class it cannot complete).
        /// A command in a class without [Sandbox] still gets a throwing body when the class could take one.
        /// </summary>
        public static bool GeneratorReportsCommand(IMethodSymbol method, CancellationToken cancellationToken) =>
            !method.IsPartialDefinition || method.IsGenericMethod || DeclaredAccessibility(method, cancellationToken) is null
            || AttributeValues.Find(method.ContainingType, "SandboxAttribute").Skip(1).Any()
            || !CanGenerateClass(method.ContainingType, cancellationToken);

        /// <summary>
        /// The declarations that reopen <paramref name="type"/> and its containing types, outermost first
        /// ("partial class Outer", "partial record Runner"), or <see langword="null"/> when one of them is not partial.
        /// </summary>
        public static List<string>? PartialDeclarations(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            var declarations = new List<string>();
            for (var current = type; current is not null; current = current.ContainingType)
            {
                if (!current.DeclaringSyntaxReferences.All(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                    && declaration.Modifiers.Any(SyntaxKind.PartialKeyword)))
                {
                    return null;
                }

                var keyword = current.TypeKind switch
                {
                    TypeKind.Struct => current.IsRecord ? "record struct" : "struct",
                    TypeKind.Interface => "interface",
                    _ => current.IsRecord ? "record" : "class",
                };
                var parameters = current.TypeParameters.IsEmpty ? string.Empty : "<" + string.Join(", ", current.TypeParameters.Select(p => p.Name)) + ">";
                declarations.Insert(0, $"partial {keyword} {current.Name}{parameters}");
            }

            return declarations;
        }

        /// <summary>Whether a command can run as declared (an instance method with plain by-value parameters); other commands get a throwing body.</summary>
        public static bool IsRunnableCommand(IMethodSymbol method) =>
            !method.IsStatic && method.Parameters.All(p => p.RefKind == RefKind.None && !p.IsParams);

        /// <summary>The access modifiers as written on the method ("public", "protected internal"), or <see langword="null"/> when there are none.</summary>
        public static string? DeclaredAccessibility(IMethodSymbol method, CancellationToken cancellationToken)
        {
            var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;
            var modifiers = syntax?.Modifiers
                .Where(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword) || m.IsKind(SyntaxKind.PrivateKeyword))
                .Select(m => m.Text)
                .ToList();
            return modifiers is null || modifiers.Count == 0 ? null : string.Join(" ", modifiers);
        }

        public static void CheckCommand(IMethodSymbol method, IProblemSink sink, CancellationToken cancellationToken)
        {
            var command = AttributeValues.Find(method, "CommandAttribute").FirstOrDefault();
            if (command.Data is null)
            {
                return;
            }

            var data = command.Data;
            var sandbox = AttributeValues.Find(method.ContainingType, "SandboxAttribute").FirstOrDefault();
            if (sandbox.Data is null)
            {
                sink.Report(DiagnosticDescriptors.CommandOutsideSandbox, ProblemTarget.WholeAttribute(data), null, method.Name, method.ContainingType.Name);
            }

            if (!method.IsPartialDefinition && method.PartialDefinitionPart is null)
            {
                sink.Report(DiagnosticDescriptors.CommandMethodNotPartial, ProblemTarget.At(method.Locations.FirstOrDefault()), null, method.Name);
            }

            var unsupported = DeclaredAccessibility(method, cancellationToken) is null && method.IsPartialDefinition ? "has no access modifier; a partial method that returns a value needs one (public, internal or private)"
                : method.IsStatic ? "is static"
                : method.IsGenericMethod ? "is generic"
                : method.Parameters.Any(p => p.RefKind != RefKind.None) ? "has a ref, out or in parameter"
                : method.Parameters.Any(p => p.IsParams) ? "has a params parameter"
                : null;
            if (unsupported is not null)
            {
                sink.Report(DiagnosticDescriptors.UnsupportedCommandMethod, ProblemTarget.At(method.Locations.FirstOrDefault()), null, method.Name, unsupported);
            }

            if (ClassifyReturnType(method.ReturnType) is null)
            {
                var location = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax syntax
                    ? syntax.ReturnType.GetLocation()
                    : method.Locations.FirstOrDefault();
                sink.Report(DiagnosticDescriptors.UnsupportedReturnType, ProblemTarget.At(location), null, method.ReturnType.ToDisplayString());
            }

            CheckTemplate(method, command, sink);
            CheckParameters(method, sink);
            var env = command.Strings("Env");
            for (var i = 0; i < env.Length; i++)
            {
                Report(EnvironmentKeys.CheckEntry(env[i], out _, out _), DiagnosticDescriptors.InvalidEnvironmentKey, ProblemTarget.NamedArgument(data, "Env", i), sink);
            }

            var secrets = command.Strings("Secrets");
            for (var i = 0; i < secrets.Length; i++)
            {
                Report(ObjectNames.Check(secrets[i], "Secret name"), DiagnosticDescriptors.InvalidName, ProblemTarget.NamedArgument(data, "Secrets", i), sink);
            }

            var timeout = CheckDuration(command, "Timeout", "Command timeout", sink);
            if (timeout is { } commandTimeout && sandbox.Data is not null)
            {
                var sandboxTimeoutText = sandbox.String("Timeout");
                var sandboxTimeout = sandboxTimeoutText is null ? Durations.DefaultSandboxTimeout
                    : Durations.CheckTimeout(sandboxTimeoutText, "Timeout", out var parsed) is null ? parsed
                    : (TimeSpan?)null;
                if (sandboxTimeout is { } limit)
                {
                    Report(SandboxSettings.CheckCommandTimeout(commandTimeout, limit), DiagnosticDescriptors.CommandTimeoutExceedsSandboxTimeout, ProblemTarget.NamedArgument(data, "Timeout"), sink);
                }
            }

            CheckWorkdir(command.String("Workdir"), "Command workdir", ProblemTarget.NamedArgument(data, "Workdir"), sink);
        }

        /// <summary>Which result a [Command] return type asks for, or <see langword="null"/> when it is not supported.</summary>
        public static CommandResultKind? ClassifyReturnType(ITypeSymbol type)
        {
            if (type is not INamedTypeSymbol named || named.TypeKind == TypeKind.Error)
            {
                return null;
            }

            if (named is { Name: "IAsyncEnumerable", Arity: 1, ContainingNamespace: { Name: "Generic", ContainingNamespace: { Name: "Collections", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } } })
            {
                var item = named.TypeArguments[0];
                return item.SpecialType == SpecialType.System_String ? CommandResultKind.Lines
                    : IsJsonType(item) ? CommandResultKind.JsonLines
                    : null;
            }

            if (named.Name != "Task" || named.ContainingNamespace is not { Name: "Tasks" } tasks || !IsSystemThreading(tasks.ContainingNamespace))
            {
                return null;
            }

            if (named.Arity == 0)
            {
                return CommandResultKind.Completion;
            }

            var result = named.TypeArguments[0];
            if (result.SpecialType == SpecialType.System_Int32)
            {
                return CommandResultKind.ExitCode;
            }

            if (result.SpecialType == SpecialType.System_String)
            {
                return CommandResultKind.Text;
            }

            var inTypedSandbox = result.ContainingNamespace is { Name: "TypedSandbox", ContainingNamespace.IsGlobalNamespace: true };
            return inTypedSandbox && result.Name == "ExecResult" ? CommandResultKind.Buffered
                : inTypedSandbox && result.Name == "ContainerProcess" ? CommandResultKind.Streaming
                : IsJsonType(result) ? CommandResultKind.Json
                : null;
        }

        /// <summary>The T of a JSON result (<c>Task&lt;T&gt;</c>, <c>IAsyncEnumerable&lt;T&gt;</c>), or <see langword="null"/> for the other results.</summary>
        public static ITypeSymbol? ResultTypeOf(ITypeSymbol type) =>
            ClassifyReturnType(type) is CommandResultKind.Json or CommandResultKind.JsonLines ? ((INamedTypeSymbol)type).TypeArguments[0] : null;

        /// <summary>What System.Text.Json can read into: not an error type, a type parameter, a pointer, a delegate or a Task.</summary>
        private static bool IsJsonType(ITypeSymbol type) =>
            type.TypeKind is not (TypeKind.Error or TypeKind.TypeParameter or TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Delegate or TypeKind.Dynamic)
            && !(type.Name is "Task" or "ValueTask" && type.ContainingNamespace is { Name: "Tasks" });

        /// <summary>How a parameter reaches the command, and the option's or variable's name.</summary>
        public static ParameterKind KindOf(IParameterSymbol parameter, out string? key)
        {
            key = null;
            if (IsCancellationToken(parameter.Type))
            {
                return ParameterKind.CancellationToken;
            }

            foreach (var attribute in parameter.GetAttributes())
            {
                if (AttributeValues.Is(attribute, "OptionAttribute"))
                {
                    key = new AttributeValues(attribute).ConstructorString(0);
                    return ParameterKind.Option;
                }

                if (AttributeValues.Is(attribute, "EnvAttribute"))
                {
                    key = new AttributeValues(attribute).ConstructorString(0);
                    return ParameterKind.Env;
                }

                if (AttributeValues.Is(attribute, "StdinAttribute"))
                {
                    return ParameterKind.Stdin;
                }
            }

            return ParameterKind.Placeholder;
        }

        /// <summary>Whether a value of this type becomes one argument per element: an array or an IEnumerable, but not a string.</summary>
        public static bool IsCollection(ITypeSymbol type) =>
            type.SpecialType != SpecialType.System_String
            && (type is IArrayTypeSymbol
                || type.SpecialType == SpecialType.System_Collections_IEnumerable
                || type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable));

        /// <summary>Whether a parameter is a CancellationToken, which cancels the command instead of filling a placeholder.</summary>
        public static bool IsCancellationToken(ITypeSymbol type) =>
            type is { Name: "CancellationToken" } && IsSystemThreading(type.ContainingNamespace);

        // Compared part by part: ToDisplayString would build a string for every command and parameter.
        private static bool IsSystemThreading(INamespaceSymbol? ns) =>
            ns is { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };

        /// <summary>TSB0026 and TSB0012: [Option], [Stdin] and [Env] parameters.</summary>
        private static void CheckParameters(IMethodSymbol method, IProblemSink sink)
        {
            var stdin = 0;
            foreach (var parameter in method.Parameters)
            {
                var location = ProblemTarget.At(parameter.Locations.FirstOrDefault());
                var marks = parameter.GetAttributes().Count(a => AttributeValues.Is(a, "OptionAttribute") || AttributeValues.Is(a, "EnvAttribute") || AttributeValues.Is(a, "StdinAttribute"));
                if (marks > 1)
                {
                    sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, "has more than one of [Option], [Env] and [Stdin]; a parameter reaches the command one way");
                    continue;
                }

                switch (KindOf(parameter, out var key))
                {
                    case ParameterKind.Stdin:
                        var type = parameter.Type;
                        var fits = type.SpecialType == SpecialType.System_String
                            || type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Byte }
                            || type is { Name: "Stream", ContainingNamespace: { Name: "IO", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };
                        if (!fits)
                        {
                            sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, $"is [Stdin] of type '{type.ToDisplayString()}'; use string (UTF-8), byte[] or Stream");
                        }

                        if (++stdin == 2)
                        {
                            sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, "is a second [Stdin] parameter; a command has one stdin");
                        }

                        break;
                    case ParameterKind.Option when string.IsNullOrWhiteSpace(key) || CommandTemplate.HasWhitespace(key!):
                        sink.Report(DiagnosticDescriptors.UnsupportedParameter, location, null, parameter.Name, $"has option name '{key}'; give the option as the program expects it, such as \"-k\" or \"--maxfail=\"");
                        break;
                    case ParameterKind.Env:
                        Report(EnvironmentKeys.Check(key), DiagnosticDescriptors.InvalidEnvironmentKey, location, sink);
                        break;
                }
            }
        }

        private static void CheckEntrypoint(AttributeValues entrypoint, IProblemSink sink)
        {
            var args = entrypoint.ConstructorStrings(0);
            if (args.IsEmpty)
            {
                sink.Report(DiagnosticDescriptors.MalformedCommand, ProblemTarget.WholeAttribute(entrypoint.Data), null, "Entrypoint has no program; give the program and its arguments, such as [Entrypoint(\"python\", \"-m\", \"http.server\")]");
                return;
            }

            if (!CommandTemplate.TryParse(args, out _, out var error, out var errorIndex))
            {
                var target = errorIndex < 0 ? ProblemTarget.WholeAttribute(entrypoint.Data) : ProblemTarget.ConstructorArgument(entrypoint.Data, 0, errorIndex);
                sink.Report(DiagnosticDescriptors.MalformedCommand, target, null, error!.Replace("Command", "Entrypoint"));
                return;
            }

            for (var i = 0; i < args.Length; i++)
            {
                foreach (var placeholder in CommandTemplate.PlaceholdersOf(args[i]).Take(1))
                {
                    sink.Report(
                        DiagnosticDescriptors.MalformedCommand,
                        ProblemTarget.ConstructorArgument(entrypoint.Data, 0, i),
                        null,
                        $"Entrypoint argument '{args[i]}' has placeholder '{{{placeholder}}}', but an entrypoint has no parameters; write '{{{{' and '}}}}' for literal braces");
                }
            }

            CheckProgram(args, entrypoint.Data, sink);
        }

        /// <summary>TSB0024: a program with whitespace is almost always a whole command line in one string, which no shell will split.</summary>
        private static void CheckProgram(ImmutableArray<string?> args, AttributeData attribute, IProblemSink sink)
        {
            var program = args[0];
            if (program is null || !CommandTemplate.HasWhitespace(program))
            {
                return;
            }

            var split = string.Join(", ", CommandTemplate.SplitOnWhitespace(program).Select(a => "\"" + a + "\""));
            sink.Report(DiagnosticDescriptors.ProgramWithWhitespace, ProblemTarget.ConstructorArgument(attribute, 0, 0), null, program, split);
        }

        private static void CheckTemplate(IMethodSymbol method, AttributeValues command, IProblemSink sink)
        {
            var args = command.ConstructorStrings(0);
            if (!CommandTemplate.TryParse(args, out var template, out var error, out var errorIndex))
            {
                var target = errorIndex < 0 ? ProblemTarget.WholeAttribute(command.Data) : ProblemTarget.ConstructorArgument(command.Data, 0, errorIndex);
                sink.Report(DiagnosticDescriptors.MalformedCommand, target, null, error);
                return;
            }

            CheckProgram(args, command.Data, sink);

            var parameters = method.Parameters.Where(p => KindOf(p, out _) == ParameterKind.Placeholder).ToList();
            var names = parameters.Select(p => p.Name).ToList();
            var allowed = names.Count == 0 ? "the method has no parameters" : string.Join(", ", names.Select(n => "{" + n + "}"));
            for (var i = 0; i < args.Length; i++)
            {
                foreach (var placeholder in CommandTemplate.PlaceholdersOf(args[i]).Distinct())
                {
                    if (!names.Contains(placeholder))
                    {
                        sink.Report(DiagnosticDescriptors.PlaceholderWithoutParameter, ProblemTarget.ConstructorArgument(command.Data, 0, i), null, placeholder, method.Name, allowed);
                    }
                }
            }

            foreach (var parameter in parameters)
            {
                if (!template!.Placeholders.Contains(parameter.Name))
                {
                    sink.Report(DiagnosticDescriptors.ParameterWithoutPlaceholder, ProblemTarget.At(parameter.Locations.FirstOrDefault()), null, parameter.Name);
                }

                if (IsCollection(parameter.Type))
                {
                    for (var i = 0; i < args.Length; i++)
                    {
                        if (args[i] != "{" + parameter.Name + "}" && CommandTemplate.PlaceholdersOf(args[i]).Contains(parameter.Name))
                        {
                            sink.Report(DiagnosticDescriptors.CollectionInsideArgument, ProblemTarget.ConstructorArgument(command.Data, 0, i), null, parameter.Name, args[i]);
                        }
                    }
                }
            }
        }

        private static void CheckImage(INamedTypeSymbol type, IProblemSink sink)
        {
            foreach (var image in AttributeValues.Find(type, "SandboxImageAttribute"))
            {
                if (image.HasConstructorArguments(1))
                {
                    Report(ImageReferences.Check(image.ConstructorString(0)), DiagnosticDescriptors.InvalidImageReference, ProblemTarget.ConstructorArgument(image.Data, 0), sink);
                }

                var env = image.Strings("Env");
                for (var i = 0; i < env.Length; i++)
                {
                    Report(EnvironmentKeys.CheckEntry(env[i], out _, out _), DiagnosticDescriptors.InvalidEnvironmentKey, ProblemTarget.NamedArgument(image.Data, "Env", i), sink);
                }

                CheckWorkdir(image.String("Workdir"), "Image workdir", ProblemTarget.NamedArgument(image.Data, "Workdir"), sink);
            }
        }

        private static void CheckVolumes(INamedTypeSymbol type, IProblemSink sink)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var volume in AttributeValues.Find(type, "VolumeAttribute"))
            {
                var path = volume.ConstructorString(0);
                var pathError = Paths.CheckMountPath(path);
                Report(pathError, DiagnosticDescriptors.InvalidMountPath, ProblemTarget.ConstructorArgument(volume.Data, 0), sink);
                if (pathError is null && !seen.Add(path!))
                {
                    sink.Report(DiagnosticDescriptors.DuplicateMountPath, ProblemTarget.ConstructorArgument(volume.Data, 0), null, path);
                }

                CheckName(volume.ConstructorString(1), "Volume name", ProblemTarget.ConstructorArgument(volume.Data, 1), sink);
            }
        }

        private static void CheckSecrets(INamedTypeSymbol type, IProblemSink sink)
        {
            foreach (var secret in AttributeValues.Find(type, "SecretAttribute"))
            {
                CheckName(secret.ConstructorString(0), "Secret name", ProblemTarget.ConstructorArgument(secret.Data, 0), sink);
            }

            foreach (var secret in AttributeValues.Find(type, "SecretFromEnvironmentAttribute"))
            {
                var variables = secret.ConstructorStrings(0);
                if (variables.IsEmpty)
                {
                    sink.Report(DiagnosticDescriptors.InvalidEnvironmentKey, ProblemTarget.WholeAttribute(secret.Data), null, "SecretFromEnvironment names no variable; name the host environment variables to copy, such as [SecretFromEnvironment(\"API_KEY\")]");
                }

                for (var i = 0; i < variables.Length; i++)
                {
                    Report(EnvironmentKeys.Check(variables[i]), DiagnosticDescriptors.InvalidEnvironmentKey, ProblemTarget.ConstructorArgument(secret.Data, 0, i), sink);
                }
            }
        }

        private static void CheckTags(INamedTypeSymbol type, IProblemSink sink)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var tag in AttributeValues.Find(type, "TagAttribute"))
            {
                var key = tag.ConstructorString(0);
                var keyError = Tags.CheckKey(key);
                Report(keyError, DiagnosticDescriptors.InvalidTag, ProblemTarget.ConstructorArgument(tag.Data, 0), sink);
                Report(Tags.CheckValue(key ?? string.Empty, tag.ConstructorString(1)), DiagnosticDescriptors.InvalidTag, ProblemTarget.ConstructorArgument(tag.Data, 1), sink);
                if (keyError is null && !seen.Add(key!))
                {
                    sink.Report(DiagnosticDescriptors.DuplicateTagKey, ProblemTarget.ConstructorArgument(tag.Data, 0), null, key);
                }
            }
        }

        /// <summary>Checks a declared duration; returns its value when valid, <see langword="null"/> when absent or invalid.</summary>
        private static TimeSpan? CheckDuration(AttributeValues attribute, string property, string kind, IProblemSink sink)
        {
            var text = attribute.String(property);
            if (!attribute.Has(property))
            {
                return null;
            }

            var target = ProblemTarget.NamedArgument(attribute.Data, property);
            var error = Durations.CheckTimeout(text, kind, out var value);
            if (error is not null)
            {
                var fixable = Durations.TryParseLenient(text, out var meant) && Durations.CheckTimeout(Durations.Format(meant), kind, out _) is null;
                sink.Report(DiagnosticDescriptors.InvalidTimeout, target, fixable ? Canonical(Durations.Format(meant)) : null, error);
                return null;
            }

            var canonical = Durations.Format(value);
            if (!string.Equals(canonical, text, StringComparison.Ordinal))
            {
                sink.Report(DiagnosticDescriptors.TimeoutNotCanonical, target, Canonical(canonical), text, canonical);
            }

            return value;
        }

        private static ImmutableDictionary<string, string?> Canonical(string canonical) =>
            ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.CanonicalProperty, canonical);

        private static void CheckName(string? name, string kind, ProblemTarget target, IProblemSink sink)
        {
            if (name is not null || target.ConstructorIndex >= 0)
            {
                Report(ObjectNames.Check(name, kind), DiagnosticDescriptors.InvalidName, target, sink);
            }
        }

        private static void CheckWorkdir(string? path, string kind, ProblemTarget target, IProblemSink sink)
        {
            if (path is not null)
            {
                Report(Paths.CheckWorkdir(path, kind), DiagnosticDescriptors.RelativeWorkdir, target, sink);
            }
        }

        private static void Report(string? error, DiagnosticDescriptor descriptor, ProblemTarget target, IProblemSink sink)
        {
            if (error is not null)
            {
                sink.Report(descriptor, target, null, error);
            }
        }
    }
}
