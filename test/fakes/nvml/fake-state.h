/*
 * Shared run-time state of the fake NVML library and the fake nvidia-smi (test-only).
 *
 * Both read a key=value file named by FAKE_NVML_STATE; the file is re-read when its mtime/size changes
 * (checked at most every STATE_CHECK_NS so a full 8-GPU sample stays in the microseconds).
 * Keys (all optional):
 *   count=N                       number of GPUs (default 2, max FAKE_MAX_GPUS)
 *   driver=550.54.15              driver version string
 *   cuda=12040                    CUDA driver version as NVML encodes it (1000*major + 10*minor)
 *   hang=<nvml function name>     that function sleeps (re-reading the state) until the key changes
 *   fail=<nvml function name>:<code>[:<gpu>]   that function returns <code> (for one GPU only when given)
 *   smi_silent=1                  fake nvidia-smi stops printing in -lms mode while set
 *   smi_nohelp=1                  fake nvidia-smi fails --help-query-gpu (callers must retry without unknown fields)
 *   smi_legacy=1                  fake nvidia-smi rejects clocks_event_reasons.* / memory.reserved (driver 470)
 *   gpu.<i>.<field>=<value>       a per-GPU value; gpu.*.<field> sets every GPU
 * Per-GPU fields: name uuid busid cc util memutil mem_total mem_used mem_reserved temp power_mw
 *   power_limit_mw fan clock_sm clock_mem clock_sm_max clock_mem_max pcie_rx_kbs pcie_tx_kbs enc dec
 *   pstate reasons ecc_corrected ecc_uncorrected mig temp_slowdown temp_shutdown
 *   ecc_agg_corrected ecc_agg_uncorrected (aggregate counters)
 *   remap_corr remap_unc remap_pending remap_failure (nvmlDeviceGetRemappedRows)
 *   retired_sbe retired_dbe retired_pending (retired pages, pre-Ampere)
 *   energy_mj (start of the energy counter; it then grows with power_mw over time)
 *   viol_power_pct viol_thermal_pct (share of time the violation counters grow)
 *   gpm (1 = GPM supported) gpm_sm gpm_occ gpm_tensor gpm_dram (percent) nvlink_rx_mibs nvlink_tx_mibs
 *   nvlinks (number of active links) nvlink_crc nvlink_replay nvlink_recovery (per-link error counters)
 *   events (supported event mask; default 0xc00f: SBE, DBE, PState, Xid, GPU unavailable, recovery action)
 *   mig_instances (MIG devices of a mig=1 GPU, ≤ 7; lowering it destroys the last ones: their handles
 *     then answer INVALID_ARGUMENT) mig_mem_used (bytes used in each MIG device)
 *   mig_sm (GPM SM activity % of GPU instance g is mig_sm + g, through nvmlGpmMigSampleGet; needs gpm=1)
 *   nvlink_rx_kib nvlink_tx_kib (NVLink throughput counters, KiB: link l reads the value × (l + 1))
 *   nvlink_rx_kibps nvlink_tx_kibps (the counters also grow by this many KiB/s × (l + 1) since the state was read)
 *   nvlink_ts_us (time stamp of those field values, µs; 0 = the real clock)
 *   unsupported=…  also takes: procs putil cc events remap retired energy violation gpm nvlink
 *     nvlink_tput (throughput field values answer NOT_SUPPORTED) nvlink_data (only the RAW ones answer)
 *   fail=<fn>:<code>:<gpu> with code 3 NOT_SUPPORTED, 4 NO_PERMISSION, 15 GPU_IS_LOST steers any call
 *   xid_file=<path>               events for nvmlEventSetWait_v2, one per line, appended by tests:
 *                                 `<gpu> xid <code>`, `<gpu> dbe`, `<gpu> sbe`, `<gpu> unavailable`,
 *                                 `<gpu> recovery <action>`
 *   unsupported=<comma list of field names>  → those calls return NVML_ERROR_NOT_SUPPORTED
 *   compute=<pid>:<bytes|na>[:<gi>];…    running compute processes (gi: MIG GPU instance)   graphics=…  (same)
 *   putil=<pid>:<sm%>[:<mem%>:<enc%>:<dec%>];…   process utilisation samples
 */
#ifndef FAKE_STATE_H
#define FAKE_STATE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <pthread.h>

#define FAKE_MAX_GPUS 64
#define FAKE_MAX_PROCS 256
#define STATE_CHECK_NS 20000000LL

enum fake_field {
  F_UTIL, F_MEMUTIL, F_MEM_TOTAL, F_MEM_USED, F_MEM_RESERVED, F_TEMP, F_POWER_MW, F_POWER_LIMIT_MW, F_FAN,
  F_CLOCK_SM, F_CLOCK_MEM, F_CLOCK_SM_MAX, F_CLOCK_MEM_MAX, F_PCIE_RX_KBS, F_PCIE_TX_KBS, F_ENC, F_DEC,
  F_PSTATE, F_REASONS, F_ECC_CORRECTED, F_ECC_UNCORRECTED, F_MIG, F_TEMP_SLOWDOWN, F_TEMP_SHUTDOWN,
  F_ECC_AGG_CORRECTED, F_ECC_AGG_UNCORRECTED, F_REMAP_CORR, F_REMAP_UNC, F_REMAP_PENDING, F_REMAP_FAILURE,
  F_RETIRED_SBE, F_RETIRED_DBE, F_RETIRED_PENDING, F_ENERGY_MJ, F_VIOL_POWER_PCT, F_VIOL_THERMAL_PCT,
  F_GPM, F_GPM_SM, F_GPM_OCC, F_GPM_TENSOR, F_GPM_DRAM, F_NVLINK_RX_MIBS, F_NVLINK_TX_MIBS,
  F_NVLINKS, F_NVLINK_CRC, F_NVLINK_REPLAY, F_NVLINK_RECOVERY, F_EVENTS, F_MIG_INSTANCES, F_MIG_MEM_USED,
  F_NVLINK_RX_KIB, F_NVLINK_TX_KIB, F_NVLINK_TS_US, F_MIG_SM, F_NVLINK_RX_KIBPS, F_NVLINK_TX_KIBPS, F_COUNT
};

static const char *const fake_field_names[F_COUNT] = {
  "util", "memutil", "mem_total", "mem_used", "mem_reserved", "temp", "power_mw", "power_limit_mw", "fan",
  "clock_sm", "clock_mem", "clock_sm_max", "clock_mem_max", "pcie_rx_kbs", "pcie_tx_kbs", "enc", "dec",
  "pstate", "reasons", "ecc_corrected", "ecc_uncorrected", "mig", "temp_slowdown", "temp_shutdown",
  "ecc_agg_corrected", "ecc_agg_uncorrected", "remap_corr", "remap_unc", "remap_pending", "remap_failure",
  "retired_sbe", "retired_dbe", "retired_pending", "energy_mj", "viol_power_pct", "viol_thermal_pct",
  "gpm", "gpm_sm", "gpm_occ", "gpm_tensor", "gpm_dram", "nvlink_rx_mibs", "nvlink_tx_mibs",
  "nvlinks", "nvlink_crc", "nvlink_replay", "nvlink_recovery", "events", "mig_instances", "mig_mem_used",
  "nvlink_rx_kib", "nvlink_tx_kib", "nvlink_ts_us", "mig_sm", "nvlink_rx_kibps", "nvlink_tx_kibps",
};

struct fake_proc { unsigned int pid; unsigned long long bytes; unsigned int value, mem, enc, dec; };

struct fake_gpu {
  char name[96];
  char uuid[96];
  char busid[32];
  int cc_major, cc_minor;
  unsigned long long v[F_COUNT];
  unsigned char unsupported[F_COUNT + 16];
  int n_compute, n_graphics, n_putil;
  struct fake_proc compute[FAKE_MAX_PROCS], graphics[FAKE_MAX_PROCS], putil[FAKE_MAX_PROCS];
};

/* Extra "unsupported" names that are not value fields. */
#define U_PROCS (F_COUNT + 0)
#define U_PUTIL (F_COUNT + 1)
#define U_CC (F_COUNT + 2)
#define U_EVENTS (F_COUNT + 3)
#define U_REMAP (F_COUNT + 4)
#define U_RETIRED (F_COUNT + 5)
#define U_ENERGY (F_COUNT + 6)
#define U_VIOLATION (F_COUNT + 7)
#define U_GPM (F_COUNT + 8)
#define U_NVLINK (F_COUNT + 9)
#define U_NVLINK_TPUT (F_COUNT + 10)
#define U_NVLINK_DATA (F_COUNT + 11)

struct fake_state {
  int count;
  char driver[80];
  int cuda;
  char hang[96];
  char fail_fn[96];
  int fail_code;
  int fail_gpu;
  int smi_silent;
  int smi_legacy;
  int smi_nohelp;
  char xid_file[4096];
  struct fake_gpu gpu[FAKE_MAX_GPUS];
};

static struct fake_state S;
static long long fake_last_check_ns = -1;
static time_t fake_mtime_sec = -1;
static long fake_mtime_nsec = -1;
static off_t fake_size = -1;
/* When the state file was last read (monotonic ns): counters that grow with time start there. */
static long long fake_loaded_ns = 0;
static char fake_path[4096];
/* The fake may be called from several worker threads at once (a hung one and a fresh one). */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;

static long long fake_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fake_defaults(void) {
  memset(&S, 0, sizeof S);
  S.count = 2;
  S.fail_gpu = -1;
  strcpy(S.driver, "550.54.15");
  S.cuda = 12040;
  for (int i = 0; i < FAKE_MAX_GPUS; i++) {
    struct fake_gpu *g = &S.gpu[i];
    snprintf(g->name, sizeof g->name, "NVIDIA A100-SXM4-80GB");
    snprintf(g->uuid, sizeof g->uuid, "GPU-%08x-1111-2222-3333-%012x", 0xa1000000u + i, i);
    /* NVML enumerates in PCI order; tests override busid to check sorting. */
    snprintf(g->busid, sizeof g->busid, "00000000:%02X:00.0", 0x07 + i * 8);
    g->cc_major = 8; g->cc_minor = 0;
    g->v[F_UTIL] = 10 + i; g->v[F_MEMUTIL] = 5 + i;
    g->v[F_MEM_TOTAL] = 85899345920ULL; g->v[F_MEM_USED] = 1073741824ULL * (i + 1);
    g->v[F_MEM_RESERVED] = 633339904ULL;
    g->v[F_TEMP] = 40 + i; g->v[F_POWER_MW] = 60000 + 1000 * i; g->v[F_POWER_LIMIT_MW] = 400000;
    g->v[F_FAN] = 30; g->v[F_CLOCK_SM] = 1410; g->v[F_CLOCK_MEM] = 1593; g->v[F_CLOCK_SM_MAX] = 1410;
    g->v[F_CLOCK_MEM_MAX] = 1593; g->v[F_PCIE_RX_KBS] = 1000; g->v[F_PCIE_TX_KBS] = 2000;
    g->v[F_ENC] = 0; g->v[F_DEC] = 0; g->v[F_PSTATE] = 0; g->v[F_REASONS] = 0x1; g->v[F_ECC_CORRECTED] = 0;
    g->v[F_ECC_UNCORRECTED] = 0; g->v[F_MIG] = 0;
    g->v[F_TEMP_SLOWDOWN] = 87; g->v[F_TEMP_SHUTDOWN] = 92;
    g->v[F_ENERGY_MJ] = 1000000ULL * (unsigned long long)(i + 1);
    g->v[F_EVENTS] = 0xc00f;
  }
}

static int fake_field_index(const char *name, size_t len) {
  for (int f = 0; f < F_COUNT; f++)
    if (strlen(fake_field_names[f]) == len && strncmp(fake_field_names[f], name, len) == 0) return f;
  if (len == 5 && strncmp(name, "procs", 5) == 0) return U_PROCS;
  if (len == 5 && strncmp(name, "putil", 5) == 0) return U_PUTIL;
  if (len == 2 && strncmp(name, "cc", 2) == 0) return U_CC;
  static const char *const extra[] = { "events", "remap", "retired", "energy", "violation", "gpm", "nvlink", "nvlink_tput", "nvlink_data" };
  for (int i = 0; i < 9; i++)
    if (strlen(extra[i]) == len && strncmp(extra[i], name, len) == 0) return U_EVENTS + i;
  return -1;
}

static int fake_parse_procs(const char *s, struct fake_proc *out) {
  int n = 0;
  while (*s && n < FAKE_MAX_PROCS) {
    char *end;
    unsigned long pid = strtoul(s, &end, 10);
    if (end == s) break;
    s = end;
    unsigned long long val = 0xFFFFFFFFFFFFFFFFULL; /* NVML_VALUE_NOT_AVAILABLE */
    if (*s == ':') {
      s++;
      if (strncmp(s, "na", 2) == 0) s += 2;
      else { val = strtoull(s, &end, 10); s = end; }
    }
    out[n].pid = (unsigned int)pid; out[n].bytes = val; out[n].value = (unsigned int)val;
    out[n].mem = out[n].enc = out[n].dec = 0;
    /* putil only: `pid:sm:mem:enc:dec` */
    unsigned int *extra[3] = { &out[n].mem, &out[n].enc, &out[n].dec };
    for (int k = 0; k < 3 && *s == ':'; k++) { s++; *extra[k] = (unsigned int)strtoul(s, &end, 10); s = end; }
    n++;
    while (*s == ';' || *s == ',' || *s == ' ') s++;
  }
  return n;
}

static void fake_set_gpu(struct fake_gpu *g, const char *field, const char *val) {
  if (strcmp(field, "name") == 0) { snprintf(g->name, sizeof g->name, "%s", val); return; }
  if (strcmp(field, "uuid") == 0) { snprintf(g->uuid, sizeof g->uuid, "%s", val); return; }
  if (strcmp(field, "busid") == 0) { snprintf(g->busid, sizeof g->busid, "%s", val); return; }
  if (strcmp(field, "cc") == 0) { sscanf(val, "%d.%d", &g->cc_major, &g->cc_minor); return; }
  if (strcmp(field, "compute") == 0) { g->n_compute = fake_parse_procs(val, g->compute); return; }
  if (strcmp(field, "graphics") == 0) { g->n_graphics = fake_parse_procs(val, g->graphics); return; }
  if (strcmp(field, "putil") == 0) { g->n_putil = fake_parse_procs(val, g->putil); return; }
  if (strcmp(field, "unsupported") == 0) {
    memset(g->unsupported, 0, sizeof g->unsupported);
    const char *p = val;
    while (*p) {
      const char *e = p;
      while (*e && *e != ',') e++;
      int f = fake_field_index(p, (size_t)(e - p));
      if (f >= 0) g->unsupported[f] = 1;
      p = *e ? e + 1 : e;
    }
    return;
  }
  int f = fake_field_index(field, strlen(field));
  if (f >= 0 && f < F_COUNT) g->v[f] = strtoull(val, NULL, 0);
}

static long long fake_now_ns(void);
static void fake_load(void) {
  fake_defaults();
  fake_loaded_ns = fake_now_ns();
  const char *path = getenv("FAKE_NVML_STATE");
  if (!path || !*path) return;
  FILE *fp = fopen(path, "r");
  if (!fp) return;
  static char line[65536];
  while (fgets(line, sizeof line, fp)) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    char *eq = strchr(line, '=');
    if (!eq || line[0] == '#') continue;
    *eq = 0;
    const char *key = line, *val = eq + 1;
    if (strcmp(key, "count") == 0) { S.count = atoi(val); if (S.count > FAKE_MAX_GPUS) S.count = FAKE_MAX_GPUS; if (S.count < 0) S.count = 0; }
    else if (strcmp(key, "driver") == 0) snprintf(S.driver, sizeof S.driver, "%s", val);
    else if (strcmp(key, "cuda") == 0) S.cuda = atoi(val);
    else if (strcmp(key, "hang") == 0) snprintf(S.hang, sizeof S.hang, "%s", val);
    else if (strcmp(key, "fail") == 0) {
      char *colon = strchr(val, ':');
      if (colon) {
        snprintf(S.fail_fn, sizeof S.fail_fn, "%.*s", (int)(colon - val), val);
        S.fail_code = atoi(colon + 1);
        const char *gpu = strchr(colon + 1, ':');
        S.fail_gpu = gpu ? atoi(gpu + 1) : -1;
      }
    }
    else if (strcmp(key, "smi_silent") == 0) S.smi_silent = atoi(val);
    else if (strcmp(key, "smi_legacy") == 0) S.smi_legacy = atoi(val);
    else if (strcmp(key, "smi_nohelp") == 0) S.smi_nohelp = atoi(val);
    else if (strcmp(key, "xid_file") == 0) snprintf(S.xid_file, sizeof S.xid_file, "%s", val);
    else if (strncmp(key, "gpu.", 4) == 0) {
      const char *rest = key + 4;
      const char *dot = strchr(rest, '.');
      if (!dot) continue;
      if (rest[0] == '*') { for (int i = 0; i < FAKE_MAX_GPUS; i++) fake_set_gpu(&S.gpu[i], dot + 1, val); }
      else { int i = atoi(rest); if (i >= 0 && i < FAKE_MAX_GPUS) fake_set_gpu(&S.gpu[i], dot + 1, val); }
    }
  }
  fclose(fp);
}

/* Re-reads the state file when it (or FAKE_NVML_STATE) changed; `force` skips the rate limit. */
static void fake_refresh(int force) {
  long long now = fake_now_ns();
  if (!force && fake_last_check_ns >= 0 && now - fake_last_check_ns < STATE_CHECK_NS) return;
  pthread_mutex_lock(&fake_lock);
  fake_last_check_ns = now;
  const char *path = getenv("FAKE_NVML_STATE");
  struct stat st;
  if (!path || !*path || stat(path, &st) != 0) {
    if (fake_size != -2) { fake_defaults(); fake_size = -2; fake_path[0] = 0; }
    pthread_mutex_unlock(&fake_lock);
    return;
  }
  if (strcmp(path, fake_path) != 0 || st.st_mtim.tv_sec != fake_mtime_sec || st.st_mtim.tv_nsec != fake_mtime_nsec || st.st_size != fake_size) {
    snprintf(fake_path, sizeof fake_path, "%s", path);
    fake_mtime_sec = st.st_mtim.tv_sec; fake_mtime_nsec = st.st_mtim.tv_nsec; fake_size = st.st_size;
    fake_load();
  }
  pthread_mutex_unlock(&fake_lock);
}

#endif
