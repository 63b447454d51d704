using Marvel.Environments.MuJoCo.Native;

namespace Marvel.Environments.MuJoCo.Tests.Native;

public sealed class MuJoCoLibraryTests
{
    [Test]
    public void Load_NoCandidateLoads_ThrowsDllNotFoundNamingTheInstallScript()
    {
        var act = () => MuJoCoLibrary.Load(["/nonexistent/libmujoco.so.2.2.2", "libmujoco-not-installed.so"]);
        act.Should().Throw<DllNotFoundException>()
            .WithMessage("*libmujoco-not-installed.so*install-prerequisites.sh --mujoco*MARVEL_MUJOCO_LIBRARY*");
    }

    [TestCase(221)]
    [TestCase(230)]
    [TestCase(0)]
    public void CheckVersion_OtherThan222_ThrowsNotSupportedNamingBothVersions(int version)
    {
        var act = () => MuJoCoLibrary.CheckVersion(version);
        act.Should().Throw<NotSupportedException>().WithMessage($"*mj_version() = {version}*222*");
    }

    [Test]
    public void CheckVersion_222_Passes()
    {
        var act = () => MuJoCoLibrary.CheckVersion(222);
        act.Should().NotThrow();
    }

    [Test]
    public void Compile_BrokenXml_ThrowsInvalidDataWithMuJoCosMessage()
    {
        var act = () => MjModelLibrary.Compile("broken.xml", "<mujoco><worldbody><geom type=\"capsule\"/></worldbody></mujoco>");
        act.Should().Throw<InvalidDataException>().WithMessage("*'broken.xml' did not compile*");
    }
}
