using Marvel.Core.Abstractions.Spaces;
using Marvel.Core.Algorithms.Shared;

namespace Marvel.Core.Tests.Algorithms.Shared;

public class ActionMappingTests
{
    [Test]
    public void SquashedToBox_MapsEndsAndMiddleOntoEachCoordinate()
    {
        // Box [0, 10] × [−2, 2]: a = −1 → low, a = 1 → high, a = 0 → midpoint; two rows.
        var box = new BoxSpace([0f, -2f], [10f, 2f]);
        var destination = new float[4];
        ActionMapping.SquashedToBox([-1f, 1f, 0f, 0.5f], box, destination);
        destination.Should().Equal(0f, 2f, 5f, 1f);
    }

    [Test]
    public void ClipToBox_ClipsEachCoordinate()
    {
        var box = new BoxSpace([0f, -2f], [10f, 2f]);
        var destination = new float[2];
        ActionMapping.ClipToBox([12f, -3f], box, destination);
        destination.Should().Equal(10f, -2f);
    }
}
