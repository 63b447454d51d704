/* Prints the MuJoCo struct layout facts the C# bindings hard-code, one "Name value" pair per line.
   Built and run by MjLayoutProbeTests against the headers of the installed libmujoco-dev. */
#include <stddef.h>
#include <stdio.h>
#include <mujoco/mujoco.h>

#define OFF(prefix, type, field) printf("%s%s %zu\n", prefix, #field, offsetof(type, field))

int main(void)
{
    printf("HeaderVersion %d\n", mjVERSION_HEADER);
    printf("LibraryVersion %d\n", mj_version());
    printf("SizeOfMjtNum %zu\n", sizeof(mjtNum));
    printf("ObjectBody %d\n", (int)mjOBJ_BODY);
    printf("ObjectGeom %d\n", (int)mjOBJ_GEOM);
    printf("SizeOfContact %zu\n", sizeof(mjContact));
    OFF("Contact_", mjContact, geom1);
    OFF("Contact_", mjContact, geom2);
    OFF("Model_", mjModel, nq);
    OFF("Model_", mjModel, nv);
    OFF("Model_", mjModel, nu);
    OFF("Model_", mjModel, na);
    OFF("Model_", mjModel, nbody);
    OFF("Model_", mjModel, njnt);
    printf("Model_opt_timestep %zu\n", offsetof(mjModel, opt) + offsetof(mjOption, timestep));
    OFF("Model_", mjModel, qpos0);
    OFF("Model_", mjModel, body_mass);
    OFF("Model_", mjModel, jnt_range);
    OFF("Model_", mjModel, actuator_gear);
    OFF("Model_", mjModel, actuator_ctrlrange);
    OFF("Data_", mjData, time);
    OFF("Data_", mjData, qpos);
    OFF("Data_", mjData, qvel);
    OFF("Data_", mjData, ctrl);
    OFF("Data_", mjData, xpos);
    OFF("Data_", mjData, ncon);
    OFF("Data_", mjData, contact);
    OFF("Data_", mjData, qacc_warmstart);
    return 0;
}
