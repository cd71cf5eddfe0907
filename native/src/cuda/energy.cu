/* energy.cu: device energy through NVML, loaded with dlopen("libnvidia-ml.so.1") at engine
 * creation (the library ships with the driver; nothing links against it). The device is found
 * by its PCI bus id (CUDA and NVML number devices differently). The engine keeps the driver's
 * total-energy counter (millijoules since the driver loaded, nvmlDeviceGetTotalEnergyConsumption,
 * Volta and newer) at the start of the counters' window; lmr_counters_get reports the energy
 * and wall time since then (backend.h energy op). No library, no device match or no energy
 * counter: the figures stay 0 (absent), never an error. The library handle stays open for the
 * process (NVML is initialised once, as nvidia-smi does). */
#include <dlfcn.h>
#include <string.h>

#include "clock.h"
#include "common.cuh"

typedef int nvml_ret;          /* nvmlReturn_t: 0 NVML_SUCCESS */
typedef struct nvml_device_st *nvml_dev; /* nvmlDevice_t */

static struct {
    int tried, ok;
    nvml_ret (*get_by_pci)(const char *, nvml_dev *);
    nvml_ret (*energy)(nvml_dev, unsigned long long *);
} nvml_api;

/* dlopen + nvmlInit once per process; 1 when NVML is usable. */
static int nvml_load(void) {
    if (nvml_api.tried) return nvml_api.ok;
    nvml_api.tried = 1;
    void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) return 0;
    nvml_ret (*init)(void) = (nvml_ret(*)(void))dlsym(h, "nvmlInit_v2");
    nvml_api.get_by_pci = (nvml_ret(*)(const char *, nvml_dev *))dlsym(h, "nvmlDeviceGetHandleByPciBusId_v2");
    nvml_api.energy = (nvml_ret(*)(nvml_dev, unsigned long long *))dlsym(h, "nvmlDeviceGetTotalEnergyConsumption");
    if (!init || !nvml_api.get_by_pci || !nvml_api.energy || init() != 0) {
        dlclose(h);
        return 0;
    }
    nvml_api.ok = 1;
    return 1;
}

/* The NVML handle of CUDA device dev, or NULL. */
void *lmr_cuda_nvml_device(int dev) {
    if (!nvml_load()) return NULL;
    char bus[32];
    if (cudaDeviceGetPCIBusId(bus, (int)sizeof bus, dev) != cudaSuccess) {
        cudaGetLastError();
        return NULL;
    }
    nvml_dev d = NULL;
    unsigned long long mj = 0;
    if (nvml_api.get_by_pci(bus, &d) != 0 || nvml_api.energy(d, &mj) != 0) return NULL;
    return d;
}

/* Millijoules of the device's energy counter; 0 with *ok = 0 when it cannot be read. */
static unsigned long long read_mj(void *d, int *ok) {
    unsigned long long mj = 0;
    *ok = d && nvml_api.energy((nvml_dev)d, &mj) == 0;
    return *ok ? mj : 0;
}

/* backend.h energy op. */
void lmr_cuda_energy(lmr_engine *e, int reset) {
    cu_engine *ce = (cu_engine *)e->priv;
    if (!ce || !ce->nvml) return;
    int ok = 0;
    unsigned long long mj = read_mj(ce->nvml, &ok);
    uint64_t now = lmr_now_ns();
    if (reset) {
        ce->energy_mj0 = mj, ce->energy_t0 = now, ce->energy_ok = ok;
        e->counters.energy_mj = e->counters.energy_ns = 0;
        return;
    }
    /* no reading at the window start, a failed read or a counter that went back: no figure */
    if (!ce->energy_ok || !ok || mj < ce->energy_mj0) {
        e->counters.energy_mj = e->counters.energy_ns = 0;
        return;
    }
    e->counters.energy_mj = mj - ce->energy_mj0;
    e->counters.energy_ns = now - ce->energy_t0;
}
