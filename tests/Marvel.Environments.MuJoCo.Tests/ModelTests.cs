using Marvel.Environments.MuJoCo.Native;

namespace Marvel.Environments.MuJoCo.Tests;

/// <summary>The compiled models carry the published morphology (environments spec §4); expected numbers are worked out by hand.</summary>
public sealed class ModelTests
{
    // Capsule volume πr²ℓ + (4/3)πr³, times density 1000 kg/m³:
    //   torso  r 0.05, ℓ 0.40: 0.0031416 + 0.0005236 = 0.0036652 m³ → 3.6652 kg
    //   thigh  r 0.05, ℓ 0.45: 0.0035343 + 0.0005236 = 0.0040579 m³ → 4.0579 kg
    //   leg    r 0.04, ℓ 0.50: 0.0025133 + 0.0002681 = 0.0027814 m³ → 2.7814 kg
    //   hopper foot r 0.06, ℓ 0.39: 0.0044108 + 0.0009048 = 0.0053156 m³ → 5.3156 kg
    //   walker foot r 0.06, ℓ 0.20: 0.0022619 + 0.0009048 = 0.0031667 m³ → 3.1667 kg
    [Test]
    public void Hopper_BodyMassesFollowFromCapsuleVolumes()
    {
        var masses = MjModelInfo.BodyMasses(MjModelLibrary.Get("hopper.xml"));
        masses.Should().HaveCount(5);
        masses[1..].Should().Equal([3.6652, 4.0579, 2.7814, 5.3156], (a, e) => Math.Abs(a - e) < 1e-4);
    }

    [Test]
    public void Walker2d_BodyMassesFollowFromCapsuleVolumes()
    {
        var masses = MjModelInfo.BodyMasses(MjModelLibrary.Get("walker2d.xml"));
        masses[1..].Should().Equal([3.6652, 4.0579, 2.7814, 3.1667, 4.0579, 2.7814, 3.1667], (a, e) => Math.Abs(a - e) < 1e-4);
    }

    // Three capsules r 0.1, ℓ 1: 0.0314159 + 0.0041888 = 0.0356047 m³ → 35.6047 kg each.
    [Test]
    public void Swimmer_ThreeEqualSegmentsOf35_6Kilograms()
    {
        var masses = MjModelInfo.BodyMasses(MjModelLibrary.Get("swimmer.xml"));
        masses[1..].Should().Equal([35.6047, 35.6047, 35.6047], (a, e) => Math.Abs(a - e) < 1e-4);
    }

    // Density 5: torso sphere r 0.25: (4/3)π·0.015625 = 0.0654498 m³ → 0.32725 kg;
    // capsule r 0.08, ℓ 0.2√2 = 0.28284: 0.0056868 + 0.0021447 = 0.0078315 m³ → 0.039157 kg;
    // capsule r 0.08, ℓ 0.4√2 = 0.56569: 0.0113737 + 0.0021447 = 0.0135184 m³ → 0.067592 kg.
    [Test]
    public void Ant_TorsoAndLegMassesAtDensity5()
    {
        var masses = MjModelInfo.BodyMasses(MjModelLibrary.Get("ant.xml"));
        masses.Should().HaveCount(14);
        masses[1].Should().BeApproximately(0.32725, 1e-5);
        for (int leg = 0; leg < 4; leg++)
        {
            masses[2 + 3 * leg].Should().BeApproximately(0.039157, 1e-5);
            masses[3 + 3 * leg].Should().BeApproximately(0.039157, 1e-5);
            masses[4 + 3 * leg].Should().BeApproximately(0.067592, 1e-5);
        }
    }

    [Test]
    public void HalfCheetah_TotalMassRescaledTo14Kilograms()
    {
        MjModelInfo.BodyMasses(MjModelLibrary.Get("half_cheetah.xml")).Sum().Should().BeApproximately(14.0, 1e-9);
    }

    [TestCase("half_cheetah.xml", new[] { 120.0, 90, 60, 120, 60, 30 })]
    [TestCase("hopper.xml", new[] { 200.0, 200, 200 })]
    [TestCase("walker2d.xml", new[] { 100.0, 100, 100, 100, 100, 100 })]
    [TestCase("swimmer.xml", new[] { 150.0, 150 })]
    [TestCase("ant.xml", new[] { 150.0, 150, 150, 150, 150, 150, 150, 150 })]
    public void Actuators_HaveTheTabulatedGearsAndUnitControlRange(string file, double[] gears)
    {
        var model = MjModelLibrary.Get(file);
        var gear = MjModelInfo.ActuatorGears(model);
        Enumerable.Range(0, gears.Length).Select(i => gear[6 * i]).Should().Equal(gears);
        MjModelInfo.ControlRanges(model).Should().Equal(Enumerable.Range(0, 2 * gears.Length).Select(i => i % 2 == 0 ? -1.0 : 1.0));
    }

    [TestCase("half_cheetah.xml", 0.01)]
    [TestCase("hopper.xml", 0.002)]
    [TestCase("walker2d.xml", 0.002)]
    [TestCase("swimmer.xml", 0.01)]
    [TestCase("ant.xml", 0.01)]
    public void Timestep_IsTheTabulatedOne(string file, double timestep)
    {
        MjModelInfo.Timestep(MjModelLibrary.Get(file)).Should().Be(timestep);
    }

    // Hopper joints: rootx, rootz, rooty (unlimited), thigh and leg −150°..0 = −2.6180..0 rad, foot ±45° = ±0.7854 rad.
    [Test]
    public void Hopper_JointRangesInRadians()
    {
        var range = MjModelInfo.JointRanges(MjModelLibrary.Get("hopper.xml"));
        range[6..].Should().Equal([-2.6180, 0, -2.6180, 0, -0.7854, 0.7854], (a, e) => Math.Abs(a - e) < 1e-4);
    }

    // Ant joints: root (free), then hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3, hip_4, ankle_4 in body-tree order;
    // hips ±30° = ±0.5236 rad; ankles 30°..70° = 0.5236..1.2217 rad for legs 1 and 4, −70°..−30° for legs 2 and 3.
    [Test]
    public void Ant_HipAndAnkleRangesPerLeg()
    {
        var range = MjModelInfo.JointRanges(MjModelLibrary.Get("ant.xml"));
        double[] expected = [-0.5236, 0.5236, 0.5236, 1.2217, -0.5236, 0.5236, -1.2217, -0.5236, -0.5236, 0.5236, -1.2217, -0.5236, -0.5236, 0.5236, 0.5236, 1.2217];
        range[2..].Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-4);
    }
}
