/*
 * A fake libnvidia-ml.so.1 for tests and benchmarks: the real NVML ABI (function names, argument
 * types, struct layouts, return codes) backed by the steerable state in fake-state.h.
 * Build: gcc -shared -fPIC -O2 -o libnvidia-ml.so.1 fake-nvml.c   (see build.ts)
 * -DFAKE_DRIVER_470 leaves out the entry points a 470 driver lacks (the _v3 process calls,
 * nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetCurrentClocksEventReasons) so callers' fallbacks run.
 * Layouts and enum values follow NVIDIA's nvml.h, NVML_API_VERSION 13 (as vendored by NVIDIA/go-nvml,
 * pkg/nvml/nvml.h at commit 2f9e261f, July 2026): nvmlEventData_t, nvmlEventType*, nvmlViolationTime_t,
 * nvmlPerfPolicyType_t, nvmlPageRetirementCause_t, nvmlGpmSupport_t, nvmlGpmMetric_t, nvmlGpmMetricsGet_t,
 * nvmlNvLinkErrorCounter_t, nvmlDeviceGpuRecoveryAction_t, NVML_NVLINK_MAX_LINKS (36; the fake has 18),
 * and the MIG device calls (nvmlDeviceGetMaxMigDeviceCount, nvmlDeviceGetMigDeviceHandleByIndex,
 * nvmlDeviceGetGpuInstanceId, nvmlDeviceGetComputeInstanceId), nvmlFieldValue_t / nvmlValue_t /
 * nvmlDeviceGetFieldValues with NVML_FI_DEV_NVLINK_THROUGHPUT_{DATA,RAW}_{TX,RX} (138-141), and
 * nvmlGpmMigSampleGet; the last three from gen/nvml/nvml.h at the same commit.
 */
#include <stdint.h>
#include <unistd.h>
#include <poll.h>
#include <sys/inotify.h>
#include "fake-state.h"

typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_TIMEOUT 10
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
/* ---------- MIG devices (nvml.h: nvmlDeviceGetMaxMigDeviceCount, nvmlDeviceGetMigDeviceHandleByIndex,
 * nvmlDeviceGetGpuInstanceId, nvmlDeviceGetComputeInstanceId; memory queries take MIG handles) ----------
 * A MIG-enabled GPU (mig=1) has `mig_instances` MIG devices (default 0, at most FAKE_MAX_MIG), each with
 * GPU instance id index+1, compute instance 0, total = mem_total / FAKE_MAX_MIG × (index+1) and used =
 * mig_mem_used bytes. Handles point into a separate array, so every other call rejects them as invalid. */
#define FAKE_MAX_MIG 7
struct fake_mig { int gpu, idx; };
static struct fake_mig MIG[FAKE_MAX_GPUS][FAKE_MAX_MIG];
static struct fake_mig *mig_of(nvmlDevice_t d) {
  struct fake_mig *m = (struct fake_mig *)(void *)d;
  if (m < &MIG[0][0] || m >= &MIG[0][0] + FAKE_MAX_GPUS * FAKE_MAX_MIG) return NULL;
  return m;
}
/* A MIG device at an index at or past mig_instances was destroyed: its handle no longer answers. */
static int mig_gone(struct fake_mig *m) { return (unsigned long long)m->idx >= S.gpu[m->gpu].v[F_MIG_INSTANCES] || !S.gpu[m->gpu].v[F_MIG]; }
static void mig_memory(struct fake_mig *m, unsigned long long *total, unsigned long long *used) {
  struct fake_gpu *g = &S.gpu[m->gpu];
  *total = g->v[F_MEM_TOTAL] / FAKE_MAX_MIG * (unsigned long long)(m->idx + 1);
  *used = g->v[F_MIG_MEM_USED];
}
EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count) {
  ENTER_DEV("nvmlDeviceGetMaxMigDeviceCount", d);
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (!d->v[F_MIG]) return NVML_ERROR_NOT_SUPPORTED;
  *count = FAKE_MAX_MIG;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig) {
  ENTER_DEV("nvmlDeviceGetMigDeviceHandleByIndex", d);
  if (!mig || index >= FAKE_MAX_MIG) return NVML_ERROR_INVALID_ARGUMENT;
  if (!d->v[F_MIG]) return NVML_ERROR_NOT_SUPPORTED;
  if (index >= d->v[F_MIG_INSTANCES]) return NVML_ERROR_NOT_FOUND;
  int g = dev_index(d);
  MIG[g][index].gpu = g; MIG[g][index].idx = (int)index;
  *mig = (nvmlDevice_t)(void *)&MIG[g][index];
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned int *id) {
  nvmlReturn_t rc = enter("nvmlDeviceGetGpuInstanceId");
  if (rc) return rc;
  struct fake_mig *m = mig_of(d);
  if (!m || !id) return NVML_ERROR_INVALID_ARGUMENT;
  *id = (unsigned int)m->idx + 1;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t d, unsigned int *id) {
  nvmlReturn_t rc = enter("nvmlDeviceGetComputeInstanceId");
  if (rc) return rc;
  if (!mig_of(d) || !id) return NVML_ERROR_INVALID_ARGUMENT;
  *id = 0;
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
  struct fake_mig *mg = mig_of(d);
  if (mg) {
    nvmlReturn_t rc = enter("nvmlDeviceGetMemoryInfo");
    if (rc) return rc;
    if (!m || mig_gone(mg)) return NVML_ERROR_INVALID_ARGUMENT;
    mig_memory(mg, &m->total, &m->used);
    m->free = m->total > m->used ? m->total - m->used : 0;
    return NVML_SUCCESS;
  }
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
  struct fake_mig *mg = mig_of(d);
  if (mg) {
    nvmlReturn_t rc = enter("nvmlDeviceGetMemoryInfo_v2");
    if (rc) return rc;
    if (!m || mig_gone(mg)) return NVML_ERROR_INVALID_ARGUMENT;
    if (m->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    mig_memory(mg, &m->total, &m->used);
    m->reserved = 0;
    m->free = m->total > m->used ? m->total - m->used : 0;
    return NVML_SUCCESS;
  }
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
  if (counterType == 1) *count = errorType == 0 ? d->v[F_ECC_AGG_CORRECTED] : d->v[F_ECC_AGG_UNCORRECTED];
  else *count = errorType == 0 ? d->v[F_ECC_CORRECTED] : d->v[F_ECC_UNCORRECTED];
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
      e->pid = src[i].pid; e->usedGpuMemory = src[i].bytes;
      /* MIG: `compute=<pid>:<bytes>:<gi>` puts the process in GPU instance <gi>, compute instance 0. */
      int in_mig = d->v[F_MIG] && src[i].mem > 0;
      e->gpuInstanceId = in_mig ? src[i].mem : 0xFFFFFFFFu; e->computeInstanceId = in_mig ? 0 : 0xFFFFFFFFu;
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
    samples[i].memUtil = d->putil[i].mem; samples[i].encUtil = d->putil[i].enc; samples[i].decUtil = d->putil[i].dec;
  }
  *count = (unsigned int)d->n_putil;
  return NVML_SUCCESS;
}

/* ---------- memory health (ECC aggregate, row remapping, retired pages) ---------- */

EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t d, unsigned int *corrRows, unsigned int *uncRows,
                                              unsigned int *isPending, unsigned int *failureOccurred) {
  ENTER_DEV("nvmlDeviceGetRemappedRows", d);
  /* nvml.h: NOT_SUPPORTED when MIG is enabled or the device lacks row remapping (pre-Ampere). */
  if (d->unsupported[U_REMAP] || d->v[F_MIG]) return NVML_ERROR_NOT_SUPPORTED;
  if (!corrRows || !uncRows || !isPending || !failureOccurred) return NVML_ERROR_INVALID_ARGUMENT;
  *corrRows = (unsigned int)d->v[F_REMAP_CORR]; *uncRows = (unsigned int)d->v[F_REMAP_UNC];
  *isPending = (unsigned int)d->v[F_REMAP_PENDING]; *failureOccurred = (unsigned int)d->v[F_REMAP_FAILURE];
  return NVML_SUCCESS;
}
/* nvmlPageRetirementCause_t: MULTIPLE_SINGLE_BIT_ECC_ERRORS 0, DOUBLE_BIT_ECC_ERROR 1. */
EXPORT nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t d, int cause, unsigned int *pageCount, unsigned long long *addresses) {
  ENTER_DEV("nvmlDeviceGetRetiredPages", d);
  UNSUPPORTED(d, U_RETIRED);
  if (!pageCount || cause < 0 || cause > 1) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int n = (unsigned int)(cause == 0 ? d->v[F_RETIRED_SBE] : d->v[F_RETIRED_DBE]);
  if (*pageCount < n) { *pageCount = n; return *pageCount == 0 ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE; }
  for (unsigned int i = 0; i < n && addresses; i++) addresses[i] = 0x100000ULL * (i + 1);
  *pageCount = n;
  return NVML_SUCCESS;
}
/* nvmlEnableState_t: DISABLED 0, ENABLED 1. */
EXPORT nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t d, int *isPending) {
  ENTER_DEV("nvmlDeviceGetRetiredPagesPendingStatus", d);
  UNSUPPORTED(d, U_RETIRED);
  if (!isPending) return NVML_ERROR_INVALID_ARGUMENT;
  *isPending = d->v[F_RETIRED_PENDING] ? 1 : 0;
  return NVML_SUCCESS;
}

/* ---------- counters that grow with time: energy, violation time ---------- */

static unsigned long long energy_mj[FAKE_MAX_GPUS], energy_base[FAKE_MAX_GPUS];
static long long energy_at_ns[FAKE_MAX_GPUS];
static double viol_ns[FAKE_MAX_GPUS][2];
static long long viol_at_ns[FAKE_MAX_GPUS];

/* Energy in mJ since the driver loaded: the configured start plus power integrated over time. */
EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *energy) {
  ENTER_DEV("nvmlDeviceGetTotalEnergyConsumption", d);
  UNSUPPORTED(d, U_ENERGY);
  if (!energy) return NVML_ERROR_INVALID_ARGUMENT;
  int i = dev_index(d);
  long long now = fake_now_ns();
  pthread_mutex_lock(&fake_lock);
  if (energy_at_ns[i] == 0 || energy_base[i] != d->v[F_ENERGY_MJ]) {
    energy_base[i] = d->v[F_ENERGY_MJ]; energy_mj[i] = d->v[F_ENERGY_MJ];
  } else {
    energy_mj[i] += (unsigned long long)((double)d->v[F_POWER_MW] * (double)(now - energy_at_ns[i]) / 1e9);
  }
  energy_at_ns[i] = now;
  *energy = energy_mj[i];
  pthread_mutex_unlock(&fake_lock);
  return NVML_SUCCESS;
}

typedef struct { unsigned long long referenceTime, violationTime; } nvmlViolationTime_t;
_Static_assert(sizeof(nvmlViolationTime_t) == 16, "nvmlViolationTime_t is 16 bytes");
/* nvmlPerfPolicyType_t: POWER 0, THERMAL 1, SYNC_BOOST 2, BOARD_LIMIT 3, LOW_UTILIZATION 4, RELIABILITY 5. */
EXPORT nvmlReturn_t nvmlDeviceGetViolationStatus(nvmlDevice_t d, int policy, nvmlViolationTime_t *t) {
  ENTER_DEV("nvmlDeviceGetViolationStatus", d);
  UNSUPPORTED(d, U_VIOLATION);
  if (!t || policy < 0 || policy > 11) return NVML_ERROR_INVALID_ARGUMENT;
  int i = dev_index(d);
  long long now = fake_now_ns();
  pthread_mutex_lock(&fake_lock);
  if (viol_at_ns[i] != 0) {
    double dt = (double)(now - viol_at_ns[i]);
    viol_ns[i][0] += dt * (double)d->v[F_VIOL_POWER_PCT] / 100.0;
    viol_ns[i][1] += dt * (double)d->v[F_VIOL_THERMAL_PCT] / 100.0;
  }
  viol_at_ns[i] = now;
  t->referenceTime = now_us();
  t->violationTime = policy <= 1 ? (unsigned long long)viol_ns[i][policy] : 0;
  pthread_mutex_unlock(&fake_lock);
  return NVML_SUCCESS;
}

/* ---------- NVLink ---------- */

/* 18 links (an H100's): the first `nvlinks` are active, the rest inactive; no NVLink when nvlinks=0.
 * nvmlEnableState_t: DISABLED 0, ENABLED 1. */
EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned int link, int *isActive) {
  ENTER_DEV("nvmlDeviceGetNvLinkState", d);
  UNSUPPORTED(d, U_NVLINK);
  if (!isActive) return NVML_ERROR_INVALID_ARGUMENT;
  if (d->v[F_NVLINKS] == 0) return NVML_ERROR_NOT_SUPPORTED;
  if (link >= 18) return NVML_ERROR_INVALID_ARGUMENT;
  *isActive = link < d->v[F_NVLINKS] ? 1 : 0;
  return NVML_SUCCESS;
}
/* nvmlNvLinkErrorCounter_t: DL_REPLAY 0, DL_RECOVERY 1, DL_CRC_FLIT 2, DL_CRC_DATA 3, DL_ECC_DATA 4. */
EXPORT nvmlReturn_t nvmlDeviceGetNvLinkErrorCounter(nvmlDevice_t d, unsigned int link, int counter, unsigned long long *value) {
  ENTER_DEV("nvmlDeviceGetNvLinkErrorCounter", d);
  UNSUPPORTED(d, U_NVLINK);
  if (!value || counter < 0 || counter > 4) return NVML_ERROR_INVALID_ARGUMENT;
  if (d->v[F_NVLINKS] == 0) return NVML_ERROR_NOT_SUPPORTED;
  if (link >= 18) return NVML_ERROR_INVALID_ARGUMENT;
  /* The same counts on every link (an inactive link keeps the counts it had). */
  *value = counter == 0 ? d->v[F_NVLINK_REPLAY] : counter == 1 ? d->v[F_NVLINK_RECOVERY] : counter == 2 ? d->v[F_NVLINK_CRC] : 0;
  return NVML_SUCCESS;
}

/* ---------- field values (nvml.h: nvmlFieldValue_t, nvmlValue_t, nvmlValueType_t, nvmlDeviceGetFieldValues) ----------
 * Only the NVLink throughput counters (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX 138, _RX 139, RAW_TX 140,
 * RAW_RX 141; scopeId = link, UINT_MAX = all links) are answered; other fields say NOT_SUPPORTED. */
typedef union { double dVal; int siVal; unsigned int uiVal; unsigned long ulVal; unsigned long long ullVal; signed long long sllVal; unsigned short usVal; } nvmlValue_t;
typedef struct {
  unsigned int fieldId, scopeId;
  long long timestamp, latencyUsec;
  int valueType; /* nvmlValueType_t: UNSIGNED_LONG_LONG 3 */
  nvmlReturn_t nvmlReturn;
  nvmlValue_t value;
} nvmlFieldValue_t;
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t is 40 bytes");
EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int valuesCount, nvmlFieldValue_t *values) {
  ENTER_DEV("nvmlDeviceGetFieldValues", d);
  if (!values || valuesCount < 0) return NVML_ERROR_INVALID_ARGUMENT;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long long ts = d->v[F_NVLINK_TS_US] ? (long long)d->v[F_NVLINK_TS_US] : (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000;
  for (int i = 0; i < valuesCount; i++) {
    nvmlFieldValue_t *f = &values[i];
    f->timestamp = ts; f->latencyUsec = 0; f->valueType = 3; f->value.ullVal = 0;
    unsigned int id = f->fieldId;
    int is_tput = id >= 138 && id <= 141, is_data = id == 138 || id == 139, is_rx = id == 139 || id == 141;
    if (!is_tput || d->v[F_NVLINKS] == 0 || d->unsupported[U_NVLINK_TPUT] || (is_data && d->unsupported[U_NVLINK_DATA])) { f->nvmlReturn = NVML_ERROR_NOT_SUPPORTED; continue; }
    unsigned long long base = d->v[is_rx ? F_NVLINK_RX_KIB : F_NVLINK_TX_KIB] +
      (unsigned long long)((double)d->v[is_rx ? F_NVLINK_RX_KIBPS : F_NVLINK_TX_KIBPS] * (double)(fake_now_ns() - fake_loaded_ns) / 1e9);
    if (f->scopeId == 0xFFFFFFFFu) { f->value.ullVal = base * (d->v[F_NVLINKS] * (d->v[F_NVLINKS] + 1) / 2); f->nvmlReturn = NVML_SUCCESS; continue; }
    if (f->scopeId >= 18) { f->nvmlReturn = NVML_ERROR_INVALID_ARGUMENT; continue; }
    f->value.ullVal = base * (f->scopeId + 1);
    f->nvmlReturn = NVML_SUCCESS;
  }
  return NVML_SUCCESS;
}

/* ---------- GPM (Hopper+) ---------- */

typedef struct nvmlGpmSample_st { int dev; int gi; long long at_ns; } fake_gpm_sample;
typedef struct { struct nvmlGpmSample_st *handle; } nvmlGpmSample_t;
typedef struct { char *shortName, *longName, *unit; } nvmlGpmMetricMetricInfo_t;
typedef struct { unsigned int metricId; nvmlReturn_t nvmlReturn; double value; nvmlGpmMetricMetricInfo_t metricInfo; } nvmlGpmMetric_t;
#define NVML_GPM_METRIC_MAX 333
typedef struct {
  unsigned int version, numMetrics;
  nvmlGpmSample_t sample1, sample2;
  nvmlGpmMetric_t metrics[NVML_GPM_METRIC_MAX];
} nvmlGpmMetricsGet_t;
typedef struct { unsigned int version, isSupportedDevice; } nvmlGpmSupport_t;
#define NVML_GPM_METRICS_GET_VERSION 1
#define NVML_GPM_SUPPORT_VERSION 1
_Static_assert(sizeof(nvmlGpmMetric_t) == 40, "nvmlGpmMetric_t is 40 bytes");
_Static_assert(sizeof(nvmlGpmMetricsGet_t) == 24 + 40 * NVML_GPM_METRIC_MAX, "nvmlGpmMetricsGet_t layout");

EXPORT nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t d, nvmlGpmSupport_t *s) {
  ENTER_DEV("nvmlGpmQueryDeviceSupport", d);
  if (!s) return NVML_ERROR_INVALID_ARGUMENT;
  if (s->version != NVML_GPM_SUPPORT_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  s->isSupportedDevice = d->v[F_GPM] && !d->unsupported[F_GPM] ? 1 : 0;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *s) {
  nvmlReturn_t rc = enter("nvmlGpmSampleAlloc");
  if (rc) return rc;
  if (!s) return NVML_ERROR_INVALID_ARGUMENT;
  s->handle = calloc(1, sizeof(fake_gpm_sample));
  if (!s->handle) return 20; /* NVML_ERROR_MEMORY */
  s->handle->dev = -1;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t s) {
  if (!s.handle) return NVML_ERROR_INVALID_ARGUMENT;
  free(s.handle);
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t d, nvmlGpmSample_t s) {
  ENTER_DEV("nvmlGpmSampleGet", d);
  if (!s.handle) return NVML_ERROR_INVALID_ARGUMENT;
  if (!d->v[F_GPM] || d->unsupported[F_GPM]) return NVML_ERROR_NOT_SUPPORTED;
  s.handle->dev = dev_index(d);
  s.handle->gi = -1;
  s.handle->at_ns = fake_now_ns();
  return NVML_SUCCESS;
}
/* A GPU instance's sample (nvmlGpmMigSampleGet): the parent device handle and the GPU instance id. */
EXPORT nvmlReturn_t nvmlGpmMigSampleGet(nvmlDevice_t d, unsigned int gpuInstanceId, nvmlGpmSample_t s) {
  ENTER_DEV("nvmlGpmMigSampleGet", d);
  if (!s.handle) return NVML_ERROR_INVALID_ARGUMENT;
  if (!d->v[F_GPM] || d->unsupported[F_GPM] || !d->v[F_MIG]) return NVML_ERROR_NOT_SUPPORTED;
  if (gpuInstanceId < 1 || gpuInstanceId > d->v[F_MIG_INSTANCES]) return NVML_ERROR_NOT_FOUND;
  s.handle->dev = dev_index(d);
  s.handle->gi = (int)gpuInstanceId;
  s.handle->at_ns = fake_now_ns();
  return NVML_SUCCESS;
}
/* nvmlGpmMetricId_t: SM_UTIL 2, SM_OCCUPANCY 3, ANY_TENSOR_UTIL 5, DRAM_BW_UTIL 10, NVLINK_TOTAL_RX_PER_SEC 60, TX 61. */
EXPORT nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *m) {
  nvmlReturn_t rc = enter("nvmlGpmMetricsGet");
  if (rc) return rc;
  if (!m) return NVML_ERROR_INVALID_ARGUMENT;
  if (m->version != NVML_GPM_METRICS_GET_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (!m->sample1.handle || !m->sample2.handle || m->numMetrics > NVML_GPM_METRIC_MAX) return NVML_ERROR_INVALID_ARGUMENT;
  int i = m->sample1.handle->dev;
  if (i < 0 || i != m->sample2.handle->dev || m->sample2.handle->at_ns <= m->sample1.handle->at_ns) return NVML_ERROR_INVALID_ARGUMENT;
  if (m->sample1.handle->gi != m->sample2.handle->gi) return NVML_ERROR_INVALID_ARGUMENT;
  struct fake_gpu *g = &S.gpu[i];
  int gi = m->sample1.handle->gi;
  for (unsigned int k = 0; k < m->numMetrics; k++) {
    nvmlGpmMetric_t *e = &m->metrics[k];
    e->nvmlReturn = NVML_SUCCESS;
    memset(&e->metricInfo, 0, sizeof e->metricInfo);
    switch (e->metricId) {
      case 2: e->value = gi >= 0 ? (double)(g->v[F_MIG_SM] + (unsigned long long)gi) : (double)g->v[F_GPM_SM]; break;
      case 3: e->value = (double)g->v[F_GPM_OCC]; break;
      case 5: e->value = (double)g->v[F_GPM_TENSOR]; break;
      case 10: e->value = (double)g->v[F_GPM_DRAM]; break;
      case 60: e->value = (double)g->v[F_NVLINK_RX_MIBS]; break;
      case 61: e->value = (double)g->v[F_NVLINK_TX_MIBS]; break;
      default: e->nvmlReturn = NVML_ERROR_NOT_SUPPORTED; e->value = 0;
    }
  }
  return NVML_SUCCESS;
}

/* ---------- events (Xid, ECC, GPU unavailable, recovery action) ---------- */

typedef struct {
  nvmlDevice_t device;
  unsigned long long eventType, eventData;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlEventData_t;
_Static_assert(sizeof(nvmlEventData_t) == 32, "nvmlEventData_t is 32 bytes");
#define nvmlEventTypeSingleBitEccError 0x1ULL
#define nvmlEventTypeDoubleBitEccError 0x2ULL
#define nvmlEventTypeXidCriticalError 0x8ULL
#define nvmlEventTypeGpuUnavailableError 0x4000ULL
#define nvmlEventTypeGpuRecoveryAction 0x8000ULL

struct nvmlEventSet_st { long offset; unsigned long long mask[FAKE_MAX_GPUS]; };
typedef struct nvmlEventSet_st *nvmlEventSet_t;

EXPORT nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t d, unsigned long long *types) {
  ENTER_DEV("nvmlDeviceGetSupportedEventTypes", d);
  UNSUPPORTED(d, F_EVENTS);
  if (!types) return NVML_ERROR_INVALID_ARGUMENT;
  *types = d->v[F_EVENTS];
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
  nvmlReturn_t rc = enter("nvmlEventSetCreate");
  if (rc) return rc;
  if (!set) return NVML_ERROR_INVALID_ARGUMENT;
  *set = calloc(1, sizeof(struct nvmlEventSet_st));
  fake_log("event-set-create");
  return *set ? NVML_SUCCESS : 20;
}
EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types, nvmlEventSet_t set) {
  ENTER_DEV("nvmlDeviceRegisterEvents", d);
  UNSUPPORTED(d, F_EVENTS);
  if (!set) return NVML_ERROR_INVALID_ARGUMENT;
  /* MIG-enabled GPUs: NVML answers NOT_SUPPORTED for device-level registration in this fake. */
  if (d->v[F_MIG]) return NVML_ERROR_NOT_SUPPORTED;
  if (types & ~d->v[F_EVENTS]) return NVML_ERROR_NOT_SUPPORTED;
  set->mask[dev_index(d)] |= types;
  return NVML_SUCCESS;
}
EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
  if (!set) return NVML_ERROR_INVALID_ARGUMENT;
  free(set);
  fake_log("event-set-free");
  return NVML_SUCCESS;
}

/* Reads the next complete line after set->offset into ev; 1 when an event for a registered type was found. */
static int next_event(nvmlEventSet_t set, nvmlEventData_t *ev) {
  char path[4096];
  pthread_mutex_lock(&fake_lock);
  snprintf(path, sizeof path, "%s", S.xid_file);
  pthread_mutex_unlock(&fake_lock);
  if (!path[0]) return 0;
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size <= set->offset) return 0;
  FILE *fp = fopen(path, "r");
  if (!fp) return 0;
  int found = 0;
  char line[256];
  if (fseek(fp, set->offset, SEEK_SET) == 0) {
    while (!found && fgets(line, sizeof line, fp)) {
      size_t n = strlen(line);
      if (n == 0 || line[n - 1] != '\n') break; /* partial line: read it next time */
      set->offset += (long)n;
      int gpu = -1; char kind[32] = ""; unsigned long long arg = 0;
      if (sscanf(line, "%d %31s %llu", &gpu, kind, &arg) < 2 || gpu < 0 || gpu >= S.count) continue;
      unsigned long long type = 0, data = 0;
      if (strcmp(kind, "xid") == 0) { type = nvmlEventTypeXidCriticalError; data = arg; }
      else if (strcmp(kind, "dbe") == 0) type = nvmlEventTypeDoubleBitEccError;
      else if (strcmp(kind, "sbe") == 0) type = nvmlEventTypeSingleBitEccError;
      else if (strcmp(kind, "unavailable") == 0) type = nvmlEventTypeGpuUnavailableError;
      else if (strcmp(kind, "recovery") == 0) { type = nvmlEventTypeGpuRecoveryAction; data = arg; }
      if (!(set->mask[gpu] & type)) continue;
      ev->device = &S.gpu[gpu]; ev->eventType = type; ev->eventData = data;
      ev->gpuInstanceId = 0xFFFFFFFFu; ev->computeInstanceId = 0xFFFFFFFFu;
      found = 1;
    }
  }
  fclose(fp);
  return found;
}

/* Blocks up to timeoutms for the next event: sleeps in poll() on an inotify watch of the xid file (no
 * polling loop, like the real library's blocking wait), so an idle waiting thread costs ~nothing. */
EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
  nvmlReturn_t rc = enter("nvmlEventSetWait_v2");
  if (rc) return rc;
  if (!set || !data) return NVML_ERROR_INVALID_ARGUMENT;
  long long end = fake_now_ns() + (long long)timeoutms * 1000000LL;
  int ifd = -1;
  char path[4096];
  pthread_mutex_lock(&fake_lock);
  snprintf(path, sizeof path, "%s", S.xid_file);
  pthread_mutex_unlock(&fake_lock);
  if (path[0]) {
    ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd >= 0 && inotify_add_watch(ifd, path, IN_MODIFY | IN_CLOSE_WRITE) < 0) { close(ifd); ifd = -1; }
  }
  nvmlReturn_t out = NVML_ERROR_TIMEOUT;
  for (;;) {
    if (next_event(set, data)) { out = NVML_SUCCESS; break; }
    long long left = end - fake_now_ns();
    if (left <= 0) break;
    if (ifd >= 0) {
      struct pollfd pfd = { ifd, POLLIN, 0 };
      if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) > 0) {
        char ev[4096];
        while (read(ifd, ev, sizeof ev) > 0) {}
      }
    } else if (path[0]) {
      usleep((useconds_t)((left < 250000000LL ? left : 250000000LL) / 1000)); /* no inotify: poll the file */
    } else {
      usleep((useconds_t)(left / 1000)); /* no event source: sleep out the timeout */
    }
  }
  if (ifd >= 0) close(ifd);
  return out;
}
