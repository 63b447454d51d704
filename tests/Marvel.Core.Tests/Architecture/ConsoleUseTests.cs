using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Marvel.Core.Pipeline;

namespace Marvel.Core.Tests.Architecture;

/// <summary>Issue 22 §3: the library never writes to the console itself; it logs through <c>ILogger</c> and reports through
/// <c>IProgress</c>. <see cref="ConsoleProgress"/> writes to the <c>TextWriter</c> its user hands it.</summary>
public class ConsoleUseTests
{
    [Test]
    public void MarvelCore_ReferencesNoSystemConsoleType()
    {
        using var stream = File.OpenRead(typeof(MarvelPipeline).Assembly.Location);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();

        var console = reader.TypeReferences.Select(h => reader.GetTypeReference(h))
            .Where(t => reader.GetString(t.Namespace) == "System" && reader.GetString(t.Name) is "Console" or "ConsoleColor" or "ConsoleKey")
            .Select(t => reader.GetString(t.Name));

        console.Should().BeEmpty("Marvel.Core writes nothing to the console; log through ILogger or report through IProgress");
    }
}
