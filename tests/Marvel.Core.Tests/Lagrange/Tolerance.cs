namespace Marvel.Core.Tests.Lagrange;

internal static class Tolerance
{
    /// <summary>Relative tolerance 1e-6 against a table value printed to 7 significant digits.</summary>
    public static double Relative(double expected) => Math.Abs(expected) * 1e-6;

    /// <summary>Half a unit in the last printed place of a table value printed with 6 decimals.</summary>
    public const double SixDecimals = 5e-7;
}
