using Marvel.Core.Algorithms.Offline.Cpq;
using Marvel.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Marvel.Core.Tests.Hosting;

/// <summary>A misspelt configuration key names the full key and the nearest settings.</summary>
public class UnknownConfigurationKeyTests
{
    [Test]
    public void MisspeltKey_FailsNamingTheKeyAndTheNearestSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Marvel:Cpq:CostLimt", "5")]).Build();
        var services = new ServiceCollection();
        services.AddMarvel(configuration);
        using var provider = services.BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IOptions<CpqOptions>>().Value).Should().Throw<InvalidOperationException>()
            .WithMessage("'Marvel:Cpq:CostLimt' is not a setting of CpqOptions; did you mean 'CostLimit'? Its settings: *BatchSize*");
    }

    [Test]
    public void UnrelatedKey_ListsTheSettingsWithoutAGuess() =>
        MarvelConfigurationBinder.UnknownKey("Marvel:Pid:Wibble", "Wibble", "PidLagrangeOptions", ["Kp", "Ki", "Kd"])
            .Should().Be("'Marvel:Pid:Wibble' is not a setting of PidLagrangeOptions. Its settings: Kd, Ki, Kp.");

    [TestCase("SEED", "SEED", 0)]
    [TestCase("SED", "SEED", 1)]        // one insertion
    [TestCase("COSTLIMT", "COSTLIMIT", 1)]
    [TestCase("KITTEN", "SITTING", 3)]  // k→s, e→i, +g
    [TestCase("", "ABC", 3)]
    public void EditDistance_CountsInsertionsDeletionsAndSubstitutions(string a, string b, int expected) =>
        MarvelConfigurationBinder.EditDistance(a, b).Should().Be(expected);
}
