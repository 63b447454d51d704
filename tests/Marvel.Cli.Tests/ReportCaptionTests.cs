using Marvel.Cli.Reports;

namespace Marvel.Cli.Tests;

/// <summary>What report titles name (the shared plot style is tested in Marvel.Plotting.Tests).</summary>
[TestFixture]
public sealed class ReportCaptionTests
{
    [Test]
    public void ReportCaption_NamesTaskAndCostLimit() => ReportPlots.Caption("CarRun", 10).Should().Be("CarRun, cost limit 10");
}
