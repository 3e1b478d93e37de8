/*
 * A fake libnvidia-ml.so.1 for tests and benchmarks: the real NVML ABI (function names, argument
 * types, struct layouts, return codes) backed by the steerable state in fake-state.h.
 * Build: gcc -shared -fPIC -O2 -o libnvidia-ml.so.1 fake-nvml.c   (see build.ts)
 * -DFAKE_DRIVER_470 leaves out the entry points a 470 driver lacks (the _v3 process calls,
 * nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetCurrentClocksEventReasons) so callers' fallbacks run.
 */
#include <stdint.h>
#include <unistd.h>
#include "fake-state.h"

typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25
#define NVML_ERROR_UNKNOWN 999

#define EXPORT __attribute__((visibility("default")))

typedef struct fake_gpu *nvmlDevice_t;

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
#define NVML_STRUCT_VERSION(size, ver) ((unsigned int)(size) | ((unsigned int)(ver) << 24U))
#define nvmlMemory_v2 NVML_STRUCT_VERSION(sizeof(nvmlMemory_v2_t), 2)
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; } nvmlProcessInfo_t;
typedef struct { unsigned int pid; unsigned long long timeStamp; unsigned int smUtil, memUtil, encUtil, decUtil; } nvmlProcessUtilizationSample_t;

_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t is 40 bytes");
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t is 68 bytes");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t is 24 bytes");
_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t is 16 bytes");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "nvmlProcessUtilizationSample_t is 32 bytes");

static int init_count = 0;

static void fake_log(const char *what) {
  const char *path = getenv("FAKE_NVML_LOG");
  if (!path || !*path) return;
  FILE *fp = fopen(path, "a");
  if (!fp) return;
  fprintf(fp, "%s\n", what);
  fclose(fp);
}

/* Common prologue: refresh state, hang while told to, fail when told to (dev -1 = any), check init. */
static nvmlReturn_t enter_dev(const char *fn, int dev) {
  fake_refresh(0);
  while (S.hang[0] && strcmp(S.hang, fn) == 0) {
    usleep(50000);
    fake_refresh(1);
  }
  if (S.fail_fn[0] && strcmp(S.fail_fn, fn) == 0 && (S.fail_gpu < 0 || S.fail_gpu == dev)) return S.fail_code;
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  return NVML_SUCCESS;
}
static nvmlReturn_t enter(const char *fn) { return enter_dev(fn, -1); }

static int dev_index(nvmlDevice_t d) {
  if (!d) return -1;
  long i = d - S.gpu;
  return (i >= 0 && i < S.count) ? (int)i : -1;
}

#define ENTER_DEV(fn, d)                                  \
  nvmlReturn_t rc_ = enter_dev(fn, dev_index(d));         \
  if (rc_ != NVML_SUCCESS) return rc_;                    \
  if (dev_index(d) < 0) return NVML_ERROR_INVALID_ARGUMENT;

#define UNSUPPORTED(d, f) if ((d)->unsupported[f]) return NVML_ERROR_NOT_SUPPORTED;

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  fake_refresh(1);
  while (S.hang[0] && strcmp(S.hang, "nvmlInit_v2") == 0) { usleep(50000); fake_refresh(1); }
  if (S.fail_fn[0] && strcmp(S.fail_fn, "nvmlInit_v2") == 0) return S.fail_code;
  init_count++;
  fake_log("init");
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
EXPORT nvmlReturn_t nvmlShutdown(void) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  init_count--;
  fake_log("shutdown");
  return NVML_SUCCESS;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 25: return "Argument version mismatch";
    default: return "Unknown Error";
  }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  nvmlReturn_t rc = enter("nvmlSystemGetDriverVersion");
  if (rc) return rc;
  if (!version) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(S.driver) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  strcpy(version, S.driver);
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) {
  nvmlReturn_t rc = enter("nvmlSystemGetCudaDriverVersion_v2");
  if (rc) return rc;
  if (!v) return NVML_ERROR_INVALID_ARGUMENT;
  *v = S.cuda;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v) { return nvmlSystemGetCudaDriverVersion_v2(v); }

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  nvmlReturn_t rc = enter("nvmlDeviceGetCount_v2");
  if (rc) return rc;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = (unsigned int)S.count;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  nvmlReturn_t rc = enter("nvmlDeviceGetHandleByIndex_v2");
  if (rc) return rc;
  if (!device || index >= (unsigned int)S.count) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &S.gpu[index];
  return NVML_SUCCESS;
}

static nvmlReturn_t copy_str(const char *s, char *out, unsigned int length) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(s) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  strcpy(out, s);
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
  ENTER_DEV("nvmlDeviceGetName", d);
  return copy_str(d->name, name, length);
}
EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
  ENTER_DEV("nvmlDeviceGetUUID", d);
  return copy_str(d->uuid, uuid, length);
}
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci) {
  ENTER_DEV("nvmlDeviceGetPciInfo_v3", d);
  if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof *pci);
  unsigned int dom = 0, bus = 0, dev = 0, fn = 0;
  sscanf(d->busid, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
  pci->domain = dom; pci->bus = bus; pci->device = dev;
  pci->pciDeviceId = 0x20B210DE;
  pci->pciSubSystemId = 0x147F10DE;
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.%X", dom & 0xffff, bus, dev, fn);
  snprintf(pci->busId, sizeof pci->busId, "%s", d->busid);
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) {
  ENTER_DEV("nvmlDeviceGetCudaComputeCapability", d);
  UNSUPPORTED(d, U_CC);
  if (!major || !minor) return NVML_ERROR_INVALID_ARGUMENT;
  *major = d->cc_major; *minor = d->cc_minor;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
  ENTER_DEV("nvmlDeviceGetMigMode", d);
  UNSUPPORTED(d, F_MIG);
  if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
  *current = *pending = (unsigned int)d->v[F_MIG];
  return NVML_SUCCESS;
}

/* nvmlClockType_t: GRAPHICS 0, SM 1, MEM 2, VIDEO 3 */
EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *clock) {
  ENTER_DEV("nvmlDeviceGetClockInfo", d);
  if (!clock) return NVML_ERROR_INVALID_ARGUMENT;
  if (type == 0 || type == 1) { UNSUPPORTED(d, F_CLOCK_SM); *clock = (unsigned int)d->v[F_CLOCK_SM]; }
  else if (type == 2) { UNSUPPORTED(d, F_CLOCK_MEM); *clock = (unsigned int)d->v[F_CLOCK_MEM]; }
  else return NVML_ERROR_NOT_SUPPORTED;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, int type, unsigned int *clock) {
  ENTER_DEV("nvmlDeviceGetMaxClockInfo", d);
  if (!clock) return NVML_ERROR_INVALID_ARGUMENT;
  if (type == 0 || type == 1) { UNSUPPORTED(d, F_CLOCK_SM_MAX); *clock = (unsigned int)d->v[F_CLOCK_SM_MAX]; }
  else if (type == 2) { UNSUPPORTED(d, F_CLOCK_MEM_MAX); *clock = (unsigned int)d->v[F_CLOCK_MEM_MAX]; }
  else return NVML_ERROR_NOT_SUPPORTED;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  ENTER_DEV("nvmlDeviceGetUtilizationRates", d);
  /* Real NVML answers NOT_SUPPORTED for utilisation when MIG is enabled. */
  if (d->unsupported[F_UTIL] || d->v[F_MIG]) return NVML_ERROR_NOT_SUPPORTED;
  if (!u) return NVML_ERROR_INVALID_ARGUMENT;
  u->gpu = (unsigned int)d->v[F_UTIL]; u->memory = (unsigned int)d->v[F_MEMUTIL];
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  ENTER_DEV("nvmlDeviceGetMemoryInfo", d);
  UNSUPPORTED(d, F_MEM_USED);
  if (!m) return NVML_ERROR_INVALID_ARGUMENT;
  m->total = d->v[F_MEM_TOTAL]; m->used = d->v[F_MEM_USED];
  /* v1 counts reserved memory as used. */
  m->used += d->v[F_MEM_RESERVED];
  m->free = m->total > m->used ? m->total - m->used : 0;
  return NVML_SUCCESS;
}
#ifndef FAKE_DRIVER_470
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
  ENTER_DEV("nvmlDeviceGetMemoryInfo_v2", d);
  if (!m) return NVML_ERROR_INVALID_ARGUMENT;
  if (m->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  UNSUPPORTED(d, F_MEM_USED);
  m->total = d->v[F_MEM_TOTAL]; m->used = d->v[F_MEM_USED]; m->reserved = d->v[F_MEM_RESERVED];
  unsigned long long taken = m->used + m->reserved;
  m->free = m->total > taken ? m->total - taken : 0;
  return NVML_SUCCESS;
}
#endif
/* nvmlTemperatureSensors_t: NVML_TEMPERATURE_GPU 0 */
EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *temp) {
  ENTER_DEV("nvmlDeviceGetTemperature", d);
  if (sensor != 0 || !temp) return NVML_ERROR_INVALID_ARGUMENT;
  UNSUPPORTED(d, F_TEMP);
  *temp = (unsigned int)d->v[F_TEMP];
  return NVML_SUCCESS;
}
/* nvmlTemperatureThresholds_t: SHUTDOWN 0, SLOWDOWN 1, MEM_MAX 2, GPU_MAX 3 (others NOT_SUPPORTED here). */
EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, int type, unsigned int *temp) {
  ENTER_DEV("nvmlDeviceGetTemperatureThreshold", d);
  if (!temp) return NVML_ERROR_INVALID_ARGUMENT;
  if (type == 0) { UNSUPPORTED(d, F_TEMP_SHUTDOWN); *temp = (unsigned int)d->v[F_TEMP_SHUTDOWN]; return NVML_SUCCESS; }
  if (type == 1) { UNSUPPORTED(d, F_TEMP_SLOWDOWN); *temp = (unsigned int)d->v[F_TEMP_SLOWDOWN]; return NVML_SUCCESS; }
  if (type >= 0 && type <= 7) return NVML_ERROR_NOT_SUPPORTED;
  return NVML_ERROR_INVALID_ARGUMENT;
}
EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
  ENTER_DEV("nvmlDeviceGetPowerUsage", d);
  UNSUPPORTED(d, F_POWER_MW);
  if (!mw) return NVML_ERROR_INVALID_ARGUMENT;
  *mw = (unsigned int)d->v[F_POWER_MW];
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) {
  ENTER_DEV("nvmlDeviceGetEnforcedPowerLimit", d);
  UNSUPPORTED(d, F_POWER_LIMIT_MW);
  if (!mw) return NVML_ERROR_INVALID_ARGUMENT;
  *mw = (unsigned int)d->v[F_POWER_LIMIT_MW];
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t d, unsigned int *pct) {
  ENTER_DEV("nvmlDeviceGetFanSpeed", d);
  UNSUPPORTED(d, F_FAN);
  if (!pct) return NVML_ERROR_INVALID_ARGUMENT;
  *pct = (unsigned int)d->v[F_FAN];
  return NVML_SUCCESS;
}
/* nvmlPcieUtilCounter_t: NVML_PCIE_UTIL_TX_BYTES 0, NVML_PCIE_UTIL_RX_BYTES 1; value in KB/s */
EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t d, int counter, unsigned int *kbs) {
  ENTER_DEV("nvmlDeviceGetPcieThroughput", d);
  if (!kbs) return NVML_ERROR_INVALID_ARGUMENT;
  if (counter == 0) { UNSUPPORTED(d, F_PCIE_TX_KBS); *kbs = (unsigned int)d->v[F_PCIE_TX_KBS]; }
  else if (counter == 1) { UNSUPPORTED(d, F_PCIE_RX_KBS); *kbs = (unsigned int)d->v[F_PCIE_RX_KBS]; }
  else return NVML_ERROR_INVALID_ARGUMENT;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t d, unsigned int *util, unsigned int *periodUs) {
  ENTER_DEV("nvmlDeviceGetEncoderUtilization", d);
  UNSUPPORTED(d, F_ENC);
  if (!util || !periodUs) return NVML_ERROR_INVALID_ARGUMENT;
  *util = (unsigned int)d->v[F_ENC]; *periodUs = 167000;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t d, unsigned int *util, unsigned int *periodUs) {
  ENTER_DEV("nvmlDeviceGetDecoderUtilization", d);
  UNSUPPORTED(d, F_DEC);
  if (!util || !periodUs) return NVML_ERROR_INVALID_ARGUMENT;
  *util = (unsigned int)d->v[F_DEC]; *periodUs = 167000;
  return NVML_SUCCESS;
}
/* nvmlPstates_t: 0..15, NVML_PSTATE_UNKNOWN 32 */
EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t d, int *pstate) {
  ENTER_DEV("nvmlDeviceGetPerformanceState", d);
  UNSUPPORTED(d, F_PSTATE);
  if (!pstate) return NVML_ERROR_INVALID_ARGUMENT;
  *pstate = (int)d->v[F_PSTATE];
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long *reasons) {
  ENTER_DEV("nvmlDeviceGetCurrentClocksThrottleReasons", d);
  UNSUPPORTED(d, F_REASONS);
  if (!reasons) return NVML_ERROR_INVALID_ARGUMENT;
  *reasons = d->v[F_REASONS];
  return NVML_SUCCESS;
}
#ifndef FAKE_DRIVER_470
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t d, unsigned long long *reasons) {
  ENTER_DEV("nvmlDeviceGetCurrentClocksEventReasons", d);
  UNSUPPORTED(d, F_REASONS);
  if (!reasons) return NVML_ERROR_INVALID_ARGUMENT;
  *reasons = d->v[F_REASONS];
  return NVML_SUCCESS;
}
#endif
/* nvmlMemoryErrorType_t: CORRECTED 0, UNCORRECTED 1; nvmlEccCounterType_t: VOLATILE 0, AGGREGATE 1 */
EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int errorType, int counterType, unsigned long long *count) {
  ENTER_DEV("nvmlDeviceGetTotalEccErrors", d);
  if (!count || errorType < 0 || errorType > 1 || counterType < 0 || counterType > 1) return NVML_ERROR_INVALID_ARGUMENT;
  if (d->unsupported[F_ECC_CORRECTED] || d->unsupported[F_ECC_UNCORRECTED]) return NVML_ERROR_NOT_SUPPORTED;
  *count = errorType == 0 ? d->v[F_ECC_CORRECTED] : d->v[F_ECC_UNCORRECTED];
  return NVML_SUCCESS;
}

/* Process lists: *count in = capacity, out = needed; INSUFFICIENT_SIZE when too small. */
static nvmlReturn_t procs(nvmlDevice_t d, const struct fake_proc *src, int n, unsigned int *count, void *infos, size_t stride) {
  UNSUPPORTED(d, U_PROCS);
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (*count < (unsigned int)n) { *count = (unsigned int)n; return NVML_ERROR_INSUFFICIENT_SIZE; }
  if (n > 0 && !infos) return NVML_ERROR_INVALID_ARGUMENT;
  for (int i = 0; i < n; i++) {
    char *p = (char *)infos + stride * (size_t)i;
    if (stride == sizeof(nvmlProcessInfo_t)) {
      nvmlProcessInfo_t *e = (nvmlProcessInfo_t *)p;
      e->pid = src[i].pid; e->usedGpuMemory = src[i].bytes; e->gpuInstanceId = 0xFFFFFFFFu; e->computeInstanceId = 0xFFFFFFFFu;
    } else {
      nvmlProcessInfo_v1_t *e = (nvmlProcessInfo_v1_t *)p;
      e->pid = src[i].pid; e->usedGpuMemory = src[i].bytes;
    }
  }
  *count = (unsigned int)n;
  return NVML_SUCCESS;
}
#ifndef FAKE_DRIVER_470
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
  ENTER_DEV("nvmlDeviceGetComputeRunningProcesses_v3", d);
  return procs(d, d->compute, d->n_compute, count, infos, sizeof(nvmlProcessInfo_t));
}
EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
  ENTER_DEV("nvmlDeviceGetGraphicsRunningProcesses_v3", d);
  return procs(d, d->graphics, d->n_graphics, count, infos, sizeof(nvmlProcessInfo_t));
}
#endif
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
  ENTER_DEV("nvmlDeviceGetComputeRunningProcesses_v2", d);
  return procs(d, d->compute, d->n_compute, count, infos, sizeof(nvmlProcessInfo_t));
}
EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
  ENTER_DEV("nvmlDeviceGetGraphicsRunningProcesses_v2", d);
  return procs(d, d->graphics, d->n_graphics, count, infos, sizeof(nvmlProcessInfo_t));
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v1_t *infos) {
  ENTER_DEV("nvmlDeviceGetComputeRunningProcesses", d);
  return procs(d, d->compute, d->n_compute, count, infos, sizeof(nvmlProcessInfo_v1_t));
}
EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v1_t *infos) {
  ENTER_DEV("nvmlDeviceGetGraphicsRunningProcesses", d);
  return procs(d, d->graphics, d->n_graphics, count, infos, sizeof(nvmlProcessInfo_v1_t));
}

static unsigned long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}
/* Samples newer than lastSeenTimeStamp (µs); NOT_FOUND when there are none, as the real library does. */
EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t d, nvmlProcessUtilizationSample_t *samples,
                                                    unsigned int *count, unsigned long long lastSeenTimeStamp) {
  ENTER_DEV("nvmlDeviceGetProcessUtilization", d);
  UNSUPPORTED(d, U_PUTIL);
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (d->n_putil == 0) { *count = 0; return NVML_ERROR_NOT_FOUND; }
  if (!samples || *count < (unsigned int)d->n_putil) { *count = (unsigned int)d->n_putil; return NVML_ERROR_INSUFFICIENT_SIZE; }
  unsigned long long ts = now_us();
  if (ts <= lastSeenTimeStamp) ts = lastSeenTimeStamp + 1;
  for (int i = 0; i < d->n_putil; i++) {
    samples[i].pid = d->putil[i].pid; samples[i].timeStamp = ts; samples[i].smUtil = d->putil[i].value;
    samples[i].memUtil = 0; samples[i].encUtil = 0; samples[i].decUtil = 0;
  }
  *count = (unsigned int)d->n_putil;
  return NVML_SUCCESS;
}
