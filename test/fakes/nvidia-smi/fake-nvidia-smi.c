/*
 * A fake nvidia-smi for tests and benchmarks, reading the same steerable state as the fake NVML
 * (FAKE_NVML_STATE, see ../nvml/fake-state.h). Supports what Rigwatch runs:
 *   --help-query-gpu
 *   --query-gpu=<fields> --format=csv,noheader,nounits [-lms N]   (rejects unknown fields like the real one)
 *   --query-compute-apps=gpu_bus_id,pid,process_name,used_memory --format=csv,noheader,nounits
 *   -q [-d SECTION] [-i <index|bus id>]      text report        -q -x    XML report (benchmark baseline)
 * State keys of its own: smi_silent=1 (streaming goes quiet), smi_legacy=1 (a 470-era field list).
 * Build: gcc -O2 -I../nvml -o nvidia-smi fake-nvidia-smi.c   (see test/fakes/nvml/build.ts)
 */
#include <unistd.h>
#include "fake-state.h"

#define MIB (1024ULL * 1024ULL)

static const char *const modern_fields[] = {
  "timestamp", "driver_version", "count", "name", "gpu_name", "serial", "uuid", "gpu_uuid", "pci.bus_id", "gpu_bus_id",
  "index", "pstate", "fan.speed", "memory.total", "memory.reserved", "memory.used", "memory.free", "compute_mode",
  "compute_cap", "utilization.gpu", "utilization.memory", "utilization.encoder", "utilization.decoder",
  "temperature.gpu", "power.draw", "power.draw.instant", "power.limit", "enforced.power.limit", "clocks.sm",
  "clocks.current.sm", "clocks.mem", "clocks.current.memory", "clocks.max.sm", "clocks.max.mem", "clocks.max.memory",
  "clocks_event_reasons.active", "clocks_throttle_reasons.active", "ecc.errors.corrected.volatile.total",
  "ecc.errors.uncorrected.volatile.total", "mig.mode.current", NULL,
};
/* Driver 470: no clocks_event_reasons.*, memory.reserved, power.draw.instant; compute_cap exists since 510. */
static const char *const legacy_fields[] = {
  "timestamp", "driver_version", "count", "name", "gpu_name", "serial", "uuid", "gpu_uuid", "pci.bus_id", "gpu_bus_id",
  "index", "pstate", "fan.speed", "memory.total", "memory.used", "memory.free", "compute_mode", "utilization.gpu",
  "utilization.memory", "utilization.encoder", "utilization.decoder", "temperature.gpu", "power.draw", "power.limit",
  "enforced.power.limit", "clocks.sm", "clocks.current.sm", "clocks.mem", "clocks.current.memory", "clocks.max.sm",
  "clocks.max.mem", "clocks.max.memory", "clocks_throttle_reasons.active", "ecc.errors.corrected.volatile.total",
  "ecc.errors.uncorrected.volatile.total", "mig.mode.current", NULL,
};

static int known_field(const char *f) {
  const char *const *list = S.smi_legacy ? legacy_fields : modern_fields;
  for (int i = 0; list[i]; i++) if (strcmp(list[i], f) == 0) return 1;
  return 0;
}

/* GPUs in PCI bus id order: nvidia-smi's index. */
static int order[FAKE_MAX_GPUS];
static void sort_gpus(void) {
  for (int i = 0; i < S.count; i++) order[i] = i;
  for (int i = 1; i < S.count; i++)
    for (int j = i; j > 0 && strcmp(S.gpu[order[j - 1]].busid, S.gpu[order[j]].busid) > 0; j--) {
      int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
    }
}

static void put_num(char *out, size_t n, const struct fake_gpu *g, int f, unsigned long long v) {
  if (g->unsupported[f]) snprintf(out, n, "[Not Supported]");
  else snprintf(out, n, "%llu", v);
}

static void field_value(char *out, size_t n, int idx, const struct fake_gpu *g, const char *f) {
  if (!strcmp(f, "index")) snprintf(out, n, "%d", idx);
  else if (!strcmp(f, "pci.bus_id") || !strcmp(f, "gpu_bus_id")) snprintf(out, n, "%s", g->busid);
  else if (!strcmp(f, "name") || !strcmp(f, "gpu_name")) snprintf(out, n, "%s", g->name);
  else if (!strcmp(f, "uuid") || !strcmp(f, "gpu_uuid")) snprintf(out, n, "%s", g->uuid);
  else if (!strcmp(f, "driver_version")) snprintf(out, n, "%s", S.driver);
  else if (!strcmp(f, "count")) snprintf(out, n, "%d", S.count);
  else if (!strcmp(f, "utilization.gpu")) { if (g->v[F_MIG] || g->unsupported[F_UTIL]) snprintf(out, n, "[N/A]"); else snprintf(out, n, "%llu", g->v[F_UTIL]); }
  else if (!strcmp(f, "utilization.memory")) { if (g->v[F_MIG] || g->unsupported[F_UTIL]) snprintf(out, n, "[N/A]"); else snprintf(out, n, "%llu", g->v[F_MEMUTIL]); }
  else if (!strcmp(f, "memory.used")) put_num(out, n, g, F_MEM_USED, g->v[F_MEM_USED] / MIB);
  else if (!strcmp(f, "memory.total")) put_num(out, n, g, F_MEM_TOTAL, g->v[F_MEM_TOTAL] / MIB);
  else if (!strcmp(f, "memory.reserved")) put_num(out, n, g, F_MEM_RESERVED, g->v[F_MEM_RESERVED] / MIB);
  else if (!strcmp(f, "memory.free")) snprintf(out, n, "%llu", (g->v[F_MEM_TOTAL] - g->v[F_MEM_USED] - g->v[F_MEM_RESERVED]) / MIB);
  else if (!strcmp(f, "temperature.gpu")) put_num(out, n, g, F_TEMP, g->v[F_TEMP]);
  else if (!strcmp(f, "power.draw") || !strcmp(f, "power.draw.instant")) {
    if (g->unsupported[F_POWER_MW]) snprintf(out, n, "[N/A]"); else snprintf(out, n, "%.2f", g->v[F_POWER_MW] / 1000.0);
  }
  else if (!strcmp(f, "power.limit") || !strcmp(f, "enforced.power.limit")) {
    if (g->unsupported[F_POWER_LIMIT_MW]) snprintf(out, n, "[N/A]"); else snprintf(out, n, "%.2f", g->v[F_POWER_LIMIT_MW] / 1000.0);
  }
  else if (!strcmp(f, "fan.speed")) put_num(out, n, g, F_FAN, g->v[F_FAN]);
  else if (!strcmp(f, "clocks.sm") || !strcmp(f, "clocks.current.sm")) put_num(out, n, g, F_CLOCK_SM, g->v[F_CLOCK_SM]);
  else if (!strcmp(f, "clocks.mem") || !strcmp(f, "clocks.current.memory")) put_num(out, n, g, F_CLOCK_MEM, g->v[F_CLOCK_MEM]);
  else if (!strcmp(f, "clocks.max.sm")) put_num(out, n, g, F_CLOCK_SM_MAX, g->v[F_CLOCK_SM_MAX]);
  else if (!strcmp(f, "clocks.max.mem") || !strcmp(f, "clocks.max.memory")) put_num(out, n, g, F_CLOCK_MEM_MAX, g->v[F_CLOCK_MEM_MAX]);
  else if (!strcmp(f, "utilization.encoder")) put_num(out, n, g, F_ENC, g->v[F_ENC]);
  else if (!strcmp(f, "utilization.decoder")) put_num(out, n, g, F_DEC, g->v[F_DEC]);
  else if (!strcmp(f, "pstate")) { if (g->unsupported[F_PSTATE]) snprintf(out, n, "[N/A]"); else snprintf(out, n, "P%llu", g->v[F_PSTATE]); }
  else if (!strcmp(f, "clocks_event_reasons.active") || !strcmp(f, "clocks_throttle_reasons.active")) {
    if (g->unsupported[F_REASONS]) snprintf(out, n, "[Not Supported]"); else snprintf(out, n, "0x%016llX", g->v[F_REASONS]);
  }
  else if (!strcmp(f, "ecc.errors.corrected.volatile.total")) put_num(out, n, g, F_ECC_CORRECTED, g->v[F_ECC_CORRECTED]);
  else if (!strcmp(f, "ecc.errors.uncorrected.volatile.total")) put_num(out, n, g, F_ECC_UNCORRECTED, g->v[F_ECC_UNCORRECTED]);
  else if (!strcmp(f, "mig.mode.current")) { if (g->unsupported[F_MIG]) snprintf(out, n, "[N/A]"); else snprintf(out, n, "%s", g->v[F_MIG] ? "Enabled" : "Disabled"); }
  else if (!strcmp(f, "compute_cap")) snprintf(out, n, "%d.%d", g->cc_major, g->cc_minor);
  else if (!strcmp(f, "timestamp")) snprintf(out, n, "2024/03/12 10:21:33.123");
  else snprintf(out, n, "[N/A]");
}

static char *fields[128];
static int nfields = 0;

static int print_gpu_lines(void) {
  sort_gpus();
  char line[8192], val[256];
  for (int k = 0; k < S.count; k++) {
    const struct fake_gpu *g = &S.gpu[order[k]];
    line[0] = 0;
    for (int i = 0; i < nfields; i++) {
      field_value(val, sizeof val, k, g, fields[i]);
      if (i) strcat(line, ", ");
      strncat(line, val, sizeof line - strlen(line) - 1);
    }
    printf("%s\n", line);
  }
  return fflush(stdout);
}

static void proc_name(unsigned int pid, char *out, size_t n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
  FILE *fp = fopen(path, "r");
  if (!fp) { snprintf(out, n, "[Not Found]"); return; }
  size_t r = fread(out, 1, n - 1, fp);
  fclose(fp);
  out[r] = 0;
  if (r == 0) snprintf(out, n, "[Not Found]");
}

static void report_text(const char *only, const char *section) {
  sort_gpus();
  printf("\n==============NVSMI LOG==============\n\n");
  printf("%-42s: %s\n", "Timestamp", "Tue Mar 12 10:21:33 2024");
  printf("%-42s: %s\n", "Driver Version", S.driver);
  printf("%-42s: %d.%d\n\n", "CUDA Version", S.cuda / 1000, (S.cuda % 1000) / 10);
  printf("%-42s: %d\n", "Attached GPUs", S.count);
  for (int k = 0; k < S.count; k++) {
    const struct fake_gpu *g = &S.gpu[order[k]];
    char idx[16];
    snprintf(idx, sizeof idx, "%d", k);
    if (only && strcmp(only, idx) != 0 && strcasecmp(only, g->busid) != 0) continue;
    printf("GPU %s\n", g->busid);
    if (section && strcmp(section, "COMPUTE") == 0) { printf("    %-38s: Default\n\n", "Compute Mode"); continue; }
    printf("    %-38s: %s\n", "Product Name", g->name);
    printf("    %-38s: %s\n", "Product Brand", "NVIDIA");
    printf("    %-38s: %s\n", "Persistence Mode", "Enabled");
    printf("    MIG Mode\n        %-34s: %s\n        %-34s: %s\n", "Current", g->v[F_MIG] ? "Enabled" : "Disabled", "Pending", g->v[F_MIG] ? "Enabled" : "Disabled");
    printf("    %-38s: %s\n", "GPU UUID", g->uuid);
    printf("    %-38s: %d\n", "Minor Number", order[k]);
    printf("    PCI\n        %-34s: %02X\n        %-34s: %s\n", "Bus", 0, "Bus Id", g->busid);
    printf("    %-38s: %llu %%\n", "Fan Speed", g->v[F_FAN]);
    printf("    %-38s: P%llu\n", "Performance State", g->v[F_PSTATE]);
    printf("    FB Memory Usage\n        %-34s: %llu MiB\n        %-34s: %llu MiB\n        %-34s: %llu MiB\n",
           "Total", g->v[F_MEM_TOTAL] / MIB, "Reserved", g->v[F_MEM_RESERVED] / MIB, "Used", g->v[F_MEM_USED] / MIB);
    printf("    Utilization\n        %-34s: %llu %%\n        %-34s: %llu %%\n", "Gpu", g->v[F_UTIL], "Memory", g->v[F_MEMUTIL]);
    printf("    Temperature\n        %-34s: %llu C\n", "GPU Current Temp", g->v[F_TEMP]);
    printf("    GPU Power Readings\n        %-34s: %.2f W\n        %-34s: %.2f W\n\n", "Power Draw", g->v[F_POWER_MW] / 1000.0, "Current Power Limit", g->v[F_POWER_LIMIT_MW] / 1000.0);
  }
}

static void report_xml(void) {
  sort_gpus();
  printf("<?xml version=\"1.0\" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM \"nvsmi_device_v12.dtd\">\n<nvidia_smi_log>\n");
  printf("\t<timestamp>Tue Mar 12 10:21:33 2024</timestamp>\n\t<driver_version>%s</driver_version>\n", S.driver);
  printf("\t<cuda_version>%d.%d</cuda_version>\n\t<attached_gpus>%d</attached_gpus>\n", S.cuda / 1000, (S.cuda % 1000) / 10, S.count);
  for (int k = 0; k < S.count; k++) {
    const struct fake_gpu *g = &S.gpu[order[k]];
    printf("\t<gpu id=\"%s\">\n\t\t<product_name>%s</product_name>\n\t\t<uuid>%s</uuid>\n", g->busid, g->name, g->uuid);
    printf("\t\t<fb_memory_usage>\n\t\t\t<total>%llu MiB</total>\n\t\t\t<reserved>%llu MiB</reserved>\n\t\t\t<used>%llu MiB</used>\n\t\t</fb_memory_usage>\n",
           g->v[F_MEM_TOTAL] / MIB, g->v[F_MEM_RESERVED] / MIB, g->v[F_MEM_USED] / MIB);
    printf("\t\t<utilization>\n\t\t\t<gpu_util>%llu %%</gpu_util>\n\t\t\t<memory_util>%llu %%</memory_util>\n\t\t\t<encoder_util>%llu %%</encoder_util>\n\t\t\t<decoder_util>%llu %%</decoder_util>\n\t\t</utilization>\n",
           g->v[F_UTIL], g->v[F_MEMUTIL], g->v[F_ENC], g->v[F_DEC]);
    printf("\t\t<temperature>\n\t\t\t<gpu_temp>%llu C</gpu_temp>\n\t\t</temperature>\n", g->v[F_TEMP]);
    printf("\t\t<gpu_power_readings>\n\t\t\t<power_draw>%.2f W</power_draw>\n\t\t\t<current_power_limit>%.2f W</current_power_limit>\n\t\t</gpu_power_readings>\n",
           g->v[F_POWER_MW] / 1000.0, g->v[F_POWER_LIMIT_MW] / 1000.0);
    printf("\t\t<clocks>\n\t\t\t<sm_clock>%llu MHz</sm_clock>\n\t\t\t<mem_clock>%llu MHz</mem_clock>\n\t\t</clocks>\n", g->v[F_CLOCK_SM], g->v[F_CLOCK_MEM]);
    printf("\t\t<fan_speed>%llu %%</fan_speed>\n\t\t<performance_state>P%llu</performance_state>\n", g->v[F_FAN], g->v[F_PSTATE]);
    printf("\t\t<processes>\n");
    for (int p = 0; p < g->n_compute; p++)
      printf("\t\t\t<process_info>\n\t\t\t\t<pid>%u</pid>\n\t\t\t\t<type>C</type>\n\t\t\t\t<used_memory>%llu MiB</used_memory>\n\t\t\t</process_info>\n", g->compute[p].pid, g->compute[p].bytes / MIB);
    printf("\t\t</processes>\n\t</gpu>\n");
  }
  printf("</nvidia_smi_log>\n");
}

int main(int argc, char **argv) {
  fake_refresh(1);
  const char *query = NULL, *apps = NULL, *only = NULL, *section = NULL;
  int lms = 0, q = 0, x = 0, help = 0;
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--query-gpu=", 12)) query = argv[i] + 12;
    else if (!strncmp(argv[i], "--query-compute-apps=", 21)) apps = argv[i] + 21;
    else if (!strcmp(argv[i], "--help-query-gpu")) help = 1;
    else if (!strcmp(argv[i], "-lms") && i + 1 < argc) lms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-q")) q = 1;
    else if (!strcmp(argv[i], "-x")) x = 1;
    else if (!strcmp(argv[i], "-i") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "-d") && i + 1 < argc) section = argv[++i];
  }
  if (help) {
    if (S.smi_nohelp) { printf("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"); return 2; }
    printf("List of valid properties to query for the switch \"--query-gpu\":\n\n");
    const char *const *list = S.smi_legacy ? legacy_fields : modern_fields;
    for (int i = 0; list[i]; i++) printf("\"%s\"\nDescription of %s.\n\n", list[i], list[i]);
    return 0;
  }
  if (query) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", query);
    for (char *tok = strtok(buf, ","); tok && nfields < 128; tok = strtok(NULL, ",")) {
      if (!known_field(tok)) { printf("Field \"%s\" is not a valid field to query.\n\n", tok); fflush(stdout); return 2; }
      fields[nfields++] = tok;
    }
    if (lms <= 0) { print_gpu_lines(); return 0; }
    for (;;) {
      fake_refresh(1);
      if (!S.smi_silent && print_gpu_lines() != 0) return 0; /* reader went away */
      usleep((useconds_t)lms * 1000);
    }
  }
  if (apps) {
    sort_gpus();
    char name[512];
    for (int k = 0; k < S.count; k++) {
      const struct fake_gpu *g = &S.gpu[order[k]];
      for (int p = 0; p < g->n_compute; p++) {
        proc_name(g->compute[p].pid, name, sizeof name);
        if (g->compute[p].bytes == 0xFFFFFFFFFFFFFFFFULL) printf("%s, %u, %s, [N/A]\n", g->busid, g->compute[p].pid, name);
        else printf("%s, %u, %s, %llu\n", g->busid, g->compute[p].pid, name, g->compute[p].bytes / MIB);
      }
    }
    return 0;
  }
  if (q && x) { report_xml(); return 0; }
  if (q) {
    if (only) {
      sort_gpus();
      int found = 0;
      for (int k = 0; k < S.count; k++) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", k);
        if (!strcmp(only, idx) || !strcasecmp(only, S.gpu[order[k]].busid)) found = 1;
      }
      if (!found) { printf("No devices were found\n"); return 6; }
    }
    report_text(only, section);
    return 0;
  }
  printf("fake nvidia-smi: unsupported arguments\n");
  return 2;
}
