// The NVML reader, running in a worker thread so a hung driver call never blocks the collector's
// event loop. Loads libnvidia-ml through koffi, calls nvmlInit_v2 once, caches device handles and
// reads every device in one batch per request into preallocated buffers.

import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { loadKoffi } from './koffi-load';
import type * as KoffiModule from 'koffi';
import { registerWorker } from '../../workers';
import { GPU_METRICS, formatCudaVersion, type GpuMetric } from './reading';
import { CounterRate } from './counter-rate';
import {
  CTRL_DONE,
  CTRL_NPROCS,
  CTRL_REQ,
  CTRL_STATUS,
  MIG_DEVICES_MAX,
  MIG_VALUES_PER_DEVICE,
  NVLINK_LINKS_MAX,
  NVLINK_VALUES_PER_LINK,
  NVML_MIG_OFFSET,
  NVML_NOTES_OFFSET,
  NVML_NVLINK_OFFSET,
  NVML_NOTE_LOST,
  NVML_NOTE_MIG,
  NVML_NOTE_NO_ENERGY,
  NVML_NOTE_NO_GPM,
  NVML_NOTE_NO_MEMORY_HEALTH,
  NVML_NOTE_NO_VIOLATION,
  NVML_NOTE_MIG_GPM,
  NVML_NOTE_NO_NVLINK_THROUGHPUT,
  NVML_NOTE_NVLINK_RAW,
  NVML_PROCESS_CAPACITY,
  NVML_PROCESS_ROW,
  NVML_THROTTLE_OFFSET,
  NVML_VALUES_PER_DEVICE,
  sharedViews,
  NVML_WORKER_KIND,
  type NvmlProcessRow,
  type NvmlReply,
  type NvmlRequest,
  type NvmlStaticDevice,
  type NvmlWorkerData,
} from './nvml-protocol';

type KoffiFunction = ReturnType<KoffiModule.LibraryHandle['func']>;
type Handle = unknown;

// nvml.h return codes and enums used here.
const NVML_SUCCESS = 0;
const NVML_ERROR_INVALID_ARGUMENT = 2;
const NVML_ERROR_NOT_SUPPORTED = 3;
const NVML_ERROR_NOT_FOUND = 6;
const NVML_ERROR_INSUFFICIENT_SIZE = 7;
const NVML_ERROR_GPU_IS_LOST = 15;
const NVML_CLOCK_SM = 1;
const NVML_CLOCK_MEM = 2;
const NVML_TEMPERATURE_GPU = 0;
// nvmlTemperatureThresholds_t.
const NVML_TEMPERATURE_THRESHOLD_SHUTDOWN = 0;
const NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1;
const NVML_PCIE_UTIL_TX_BYTES = 0;
const NVML_PCIE_UTIL_RX_BYTES = 1;
const NVML_MEMORY_ERROR_TYPE_CORRECTED = 0;
const NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
const NVML_VOLATILE_ECC = 0;
const NVML_AGGREGATE_ECC = 1;
const NVML_PERF_POLICY_POWER = 0;
const NVML_PERF_POLICY_THERMAL = 1;
const NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS = 0;
const NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1;
/** Clock-event reasons that mean hardware or thermal slowdown: SW thermal, HW, HW thermal, HW power brake. */
const HW_SLOWDOWN_MASK = 0x20 | 0x8 | 0x40 | 0x80;
// GPM (nvml.h API 13): nvmlGpmMetricsGet_t = version u32, numMetrics u32, sample1 ptr, sample2 ptr,
// metrics[NVML_GPM_METRIC_MAX = 333] of nvmlGpmMetric_t (metricId u32, nvmlReturn i32, value f64, 3 ptrs: 40 bytes).
const GPM_VERSION = 1;
const GPM_METRIC_BYTES = 40;
const GPM_METRICS_GET_BYTES = 24 + GPM_METRIC_BYTES * 333;
/** nvmlGpmMetricId_t → series metric and scale (percent → ratio; MiB/s → bytes/s). */
const GPM_METRICS: ReadonlyArray<readonly [number, GpuMetric, number]> = [
  [2, 'sm_activity_ratio', 0.01],
  [3, 'sm_occupancy_ratio', 0.01],
  [5, 'tensor_activity_ratio', 0.01],
  [10, 'dram_bandwidth_ratio', 0.01],
  [60, 'nvlink_rx_bytes_per_second', 1048576],
  [61, 'nvlink_tx_bytes_per_second', 1048576],
];
// nvmlNvLinkErrorCounter_t.
const NVML_NVLINK_ERROR_DL_REPLAY = 0;
const NVML_NVLINK_ERROR_DL_RECOVERY = 1;
const NVML_NVLINK_ERROR_DL_CRC_FLIT = 2;
const NVML_NVLINK_ERROR_DL_CRC_DATA = 3;
// Field values (nvml.h API 13): nvmlFieldValue_t = fieldId u32, scopeId u32 (the link), timestamp i64 (µs
// since 1970), latencyUsec i64, valueType i32 (nvmlValueType_t), nvmlReturn i32, value (8-byte union): 40 bytes.
const FIELD_VALUE_BYTES = 40;
/** NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX / _RX / RAW_TX / RAW_RX: cumulative KiB per link (scopeId = link). */
const NVML_FI_NVLINK_DATA_TX = 138;
const NVML_FI_NVLINK_DATA_RX = 139;
const NVML_FI_NVLINK_RAW_TX = 140;
const NVML_FI_NVLINK_RAW_RX = 141;
// nvmlValueType_t codes whose values are 32 bits or narrower (the rest are 64-bit, or a double).
const NVML_VALUE_TYPE_DOUBLE = 0;
const NVML_VALUE_TYPE_UNSIGNED_INT = 1;
const NVML_VALUE_TYPE_SIGNED_INT = 5;
const NVML_VALUE_TYPE_UNSIGNED_SHORT = 6;
/** nvmlGpmMetricId_t of SM activity (NVML_GPM_METRIC_SM_UTIL), the one GPM metric read per MIG GPU instance. */
const GPM_METRIC_SM_UTIL = 2;
/** NVLink error counters are read at most this often (link state every tick): 4 calls per link add up. */
const NVLINK_COUNTERS_INTERVAL_MS = 10_000;
const NVML_PSTATE_UNKNOWN = 32;
const NVML_DEVICE_MIG_ENABLE = 1;
/** sizeof(nvmlMemory_v2_t) | 2 << 24 (NVML_STRUCT_VERSION(Memory, 2)). */
const NVML_MEMORY_V2_VERSION = 40 | (2 << 24);
const NVML_VALUE_NOT_AVAILABLE_U64 = 0xffffffffffffffffn;
const NAME_BUFFER_BYTES = 96; // NVML_DEVICE_NAME_V2_BUFFER_SIZE
const UUID_BUFFER_BYTES = 96; // NVML_DEVICE_UUID_V2_BUFFER_SIZE
const DRIVER_BUFFER_BYTES = 80; // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE
const PCI_INFO_BYTES = 68; // nvmlPciInfo_t: busIdLegacy[16], 5 × u32, busId[32]
const PCI_BUS_ID_OFFSET = 36;
const PROCESS_INFO_V3_BYTES = 24; // pid u32, pad, usedGpuMemory u64, gpuInstanceId u32, computeInstanceId u32
const PROCESS_INFO_V1_BYTES = 16; // pid u32, pad, usedGpuMemory u64
const PROCESS_UTIL_SAMPLE_BYTES = 32; // pid u32, pad, timeStamp u64, sm/mem/enc/dec u32
const INITIAL_PROCESS_CAPACITY = 64;
const TWO_32 = 4294967296;
/** gpuInstanceId / computeInstanceId of a process outside MIG (0xFFFFFFFF). */
const NO_INSTANCE_ID = 0xffffffff;

registerWorker(NVML_WORKER_KIND, (data) => runNvmlWorker(data as NvmlWorkerData));

/** Metric slot inside a device's block of values. */
const slot = Object.fromEntries(GPU_METRICS.map((m, i) => [m, i])) as Record<GpuMetric, number>;

function runNvmlWorker(data: NvmlWorkerData): void {
  const port = parentPort;
  if (!port) return;
  const post = (m: NvmlReply): void => port.postMessage(m);
  const fail = (stage: Extract<NvmlReply, { type: 'init-error' }>['stage'], message: string): void => {
    post({ type: 'init-error', stage, message });
    port.close();
  };

  let koffi: typeof KoffiModule;
  try {
    // Resolved at run time: koffi is external to the bundle (a native module next to it or in node_modules).
    koffi = loadKoffi(path.dirname(__filename)).koffi;
  } catch (e) {
    return fail('koffi', `koffi could not be loaded: ${errMsg(e)}`);
  }
  let lib: KoffiModule.LibraryHandle;
  try {
    lib = koffi.load(data.libPath);
  } catch (e) {
    return fail('load', `${data.libPath} could not be loaded: ${errMsg(e)}`);
  }

  const missing: string[] = [];
  const optional = (decl: string): KoffiFunction | null => {
    try {
      return lib.func(decl);
    } catch {
      missing.push(/(\w+)\(/.exec(decl)?.[1] ?? decl);
      return null;
    }
  };
  const first = (...decls: string[]): { fn: KoffiFunction; name: string } | null => {
    for (const d of decls) {
      try {
        return { fn: lib.func(d), name: /(\w+)\(/.exec(d)?.[1] ?? d };
      } catch {
        /* try the next entry point */
      }
    }
    return null;
  };

  const init = first('int nvmlInit_v2()', 'int nvmlInit()');
  const getCount = first('int nvmlDeviceGetCount_v2(void *)', 'int nvmlDeviceGetCount(void *)');
  const getHandle = first('int nvmlDeviceGetHandleByIndex_v2(unsigned int, _Out_ void **)', 'int nvmlDeviceGetHandleByIndex(unsigned int, _Out_ void **)');
  if (!init || !getCount || !getHandle) return fail('symbols', `${data.libPath} lacks nvmlInit/nvmlDeviceGetCount/nvmlDeviceGetHandleByIndex; is it NVML?`);
  const errorString = optional('const char *nvmlErrorString(int)');
  const shutdown = optional('int nvmlShutdown()');
  const describe = (rc: number): string => {
    try {
      return errorString ? `${String(errorString(rc))} (${rc})` : `NVML error ${rc}`;
    } catch {
      return `NVML error ${rc}`;
    }
  };

  const getDriver = optional('int nvmlSystemGetDriverVersion(void *, unsigned int)');
  const getCuda = first('int nvmlSystemGetCudaDriverVersion_v2(void *)', 'int nvmlSystemGetCudaDriverVersion(void *)');
  const getName = optional('int nvmlDeviceGetName(void *, void *, unsigned int)');
  const getUuid = optional('int nvmlDeviceGetUUID(void *, void *, unsigned int)');
  const getPci = first('int nvmlDeviceGetPciInfo_v3(void *, void *)', 'int nvmlDeviceGetPciInfo_v2(void *, void *)');
  const getCc = optional('int nvmlDeviceGetCudaComputeCapability(void *, void *, void *)');
  const getMig = optional('int nvmlDeviceGetMigMode(void *, void *, void *)');
  const getMaxClock = optional('int nvmlDeviceGetMaxClockInfo(void *, int, void *)');
  const getClock = optional('int nvmlDeviceGetClockInfo(void *, int, void *)');
  const getUtil = optional('int nvmlDeviceGetUtilizationRates(void *, void *)');
  const getMemV2 = optional('int nvmlDeviceGetMemoryInfo_v2(void *, void *)');
  const getMemV1 = getMemV2 ? null : optional('int nvmlDeviceGetMemoryInfo(void *, void *)');
  const getTemp = optional('int nvmlDeviceGetTemperature(void *, int, void *)');
  const getTempThreshold = optional('int nvmlDeviceGetTemperatureThreshold(void *, int, void *)');
  const getPower = optional('int nvmlDeviceGetPowerUsage(void *, void *)');
  const getLimit = optional('int nvmlDeviceGetEnforcedPowerLimit(void *, void *)');
  const getFan = optional('int nvmlDeviceGetFanSpeed(void *, void *)');
  const getPcie = optional('int nvmlDeviceGetPcieThroughput(void *, int, void *)');
  const getEnc = optional('int nvmlDeviceGetEncoderUtilization(void *, void *, void *)');
  const getDec = optional('int nvmlDeviceGetDecoderUtilization(void *, void *, void *)');
  const getPstate = optional('int nvmlDeviceGetPerformanceState(void *, void *)');
  const getReasons = first('int nvmlDeviceGetCurrentClocksEventReasons(void *, void *)', 'int nvmlDeviceGetCurrentClocksThrottleReasons(void *, void *)');
  const getEcc = optional('int nvmlDeviceGetTotalEccErrors(void *, int, int, void *)');
  const getRemap = optional('int nvmlDeviceGetRemappedRows(void *, void *, void *, void *, void *)');
  const getRetired = optional('int nvmlDeviceGetRetiredPages(void *, int, void *, void *)');
  const getRetiredPending = optional('int nvmlDeviceGetRetiredPagesPendingStatus(void *, void *)');
  const getEnergy = optional('int nvmlDeviceGetTotalEnergyConsumption(void *, void *)');
  const getViolation = optional('int nvmlDeviceGetViolationStatus(void *, int, void *)');
  const gpmSupport = optional('int nvmlGpmQueryDeviceSupport(void *, void *)');
  const gpmAlloc = optional('int nvmlGpmSampleAlloc(_Out_ void **)');
  const gpmGet = optional('int nvmlGpmSampleGet(void *, void *)');
  const gpmMetrics = optional('int nvmlGpmMetricsGet(void *)');
  const getNvState = optional('int nvmlDeviceGetNvLinkState(void *, unsigned int, void *)');
  const getNvError = optional('int nvmlDeviceGetNvLinkErrorCounter(void *, unsigned int, int, void *)');
  const getMaxMig = optional('int nvmlDeviceGetMaxMigDeviceCount(void *, void *)');
  const getMigHandle = optional('int nvmlDeviceGetMigDeviceHandleByIndex(void *, unsigned int, _Out_ void **)');
  const getFieldValues = optional('int nvmlDeviceGetFieldValues(void *, int, void *)');
  const gpmMigGet = optional('int nvmlGpmMigSampleGet(void *, unsigned int, void *)');
  const gpmFree = optional('int nvmlGpmSampleFree(void *)');
  const getGiId = optional('int nvmlDeviceGetGpuInstanceId(void *, void *)');
  const getCiId = optional('int nvmlDeviceGetComputeInstanceId(void *, void *)');
  const getCompute = first(
    'int nvmlDeviceGetComputeRunningProcesses_v3(void *, void *, void *)',
    'int nvmlDeviceGetComputeRunningProcesses_v2(void *, void *, void *)',
    'int nvmlDeviceGetComputeRunningProcesses(void *, void *, void *)',
  );
  const getGraphics = first(
    'int nvmlDeviceGetGraphicsRunningProcesses_v3(void *, void *, void *)',
    'int nvmlDeviceGetGraphicsRunningProcesses_v2(void *, void *, void *)',
    'int nvmlDeviceGetGraphicsRunningProcesses(void *, void *, void *)',
  );
  const getProcUtil = optional('int nvmlDeviceGetProcessUtilization(void *, void *, void *, unsigned long long)');
  const strideOf = (f: { name: string } | null): number => (f && /_v[23]$/.test(f.name) ? PROCESS_INFO_V3_BYTES : PROCESS_INFO_V1_BYTES);
  const computeStride = strideOf(getCompute);
  const graphicsStride = strideOf(getGraphics);

  const warned = new Set<string>();
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    post({ type: 'warn', key, message });
  };
  for (const m of missing)
    if (m !== 'nvmlErrorString' && m !== 'nvmlShutdown') warnOnce(`missing:${m}`, `libnvidia-ml has no ${m}; the values it gives are null`);
  if (!getReasons)
    warnOnce('missing:reasons', 'libnvidia-ml has neither nvmlDeviceGetCurrentClocksEventReasons nor …ThrottleReasons; throttle reasons are empty');
  if (!getCompute || !getGraphics) warnOnce('missing:processes', 'libnvidia-ml lacks a running-processes entry point; the process list is incomplete');

  // Preallocated scratch buffers, reused on every call (calls are sequential in this thread).
  const u32a = Buffer.alloc(4);
  const u32b = Buffer.alloc(4);
  const text = Buffer.alloc(Math.max(NAME_BUFFER_BYTES, UUID_BUFFER_BYTES, DRIVER_BUFFER_BYTES));
  const pci = Buffer.alloc(PCI_INFO_BYTES);
  let procBuf = Buffer.alloc(INITIAL_PROCESS_CAPACITY * PROCESS_INFO_V3_BYTES);
  // Hot-path outputs as typed arrays (indexing beats Buffer reads; 64-bit values as two u32 halves, no BigInt).
  const o32 = new Uint32Array(1);
  const o32b = new Uint32Array(1);
  const o64 = new Uint32Array(2);
  const oUtil = new Uint32Array(2);
  const oMem = new Uint32Array(getMemV2 ? 10 : 6);
  const o32c = new Uint32Array(1);
  const o32d = new Uint32Array(1);
  // nvmlViolationTime_t: referenceTime (µs), violationTime (ns), as u32 halves.
  const oViol = new Uint32Array(4);
  let utilBuf = Buffer.alloc(INITIAL_PROCESS_CAPACITY * PROCESS_UTIL_SAMPLE_BYTES);
  const cstr = (b: Buffer): string => {
    const end = b.indexOf(0);
    return b.toString('utf8', 0, end < 0 ? b.length : end);
  };

  let rc = init.fn() as number;
  if (rc !== NVML_SUCCESS) return fail('init', `${init.name} failed: ${describe(rc)}`);
  rc = getCount.fn(u32a) as number;
  if (rc !== NVML_SUCCESS) return fail('devices', `${getCount.name} failed: ${describe(rc)}`);
  const count = u32a.readUInt32LE(0);
  const handles: Handle[] = [];
  const statics: NvmlStaticDevice[] = [];
  for (let i = 0; i < count; i++) {
    const out: Handle[] = [null];
    rc = getHandle.fn(i, out) as number;
    if (rc !== NVML_SUCCESS) return fail('devices', `${getHandle.name}(${i}) failed: ${describe(rc)}`);
    const h = out[0];
    handles.push(h);
    text.fill(0);
    const name = getName && getName(h, text, NAME_BUFFER_BYTES) === NVML_SUCCESS ? cstr(text) : `GPU ${i}`;
    text.fill(0);
    const uuid = getUuid && getUuid(h, text, UUID_BUFFER_BYTES) === NVML_SUCCESS ? cstr(text) : '';
    pci.fill(0);
    const pciBusId = getPci && getPci.fn(h, pci) === NVML_SUCCESS ? cstr(pci.subarray(PCI_BUS_ID_OFFSET)) : `unknown-${i}`;
    const computeCapability = getCc && getCc(h, u32a, u32b) === NVML_SUCCESS ? `${u32a.readInt32LE(0)}.${u32b.readInt32LE(0)}` : null;
    const migMode = getMig && getMig(h, u32a, u32b) === NVML_SUCCESS ? u32a.readUInt32LE(0) === NVML_DEVICE_MIG_ENABLE : null;
    statics.push({ name, uuid, pciBusId, computeCapability, migMode, nvLinks: [] });
  }
  text.fill(0);
  const driverVersion = getDriver && getDriver(text, DRIVER_BUFFER_BYTES) === NVML_SUCCESS ? cstr(text) : null;
  const cudaVersion = getCuda && getCuda.fn(u32a) === NVML_SUCCESS ? formatCudaVersion(u32a.readInt32LE(0)) : null;

  // Static per-device values: max clocks do not change while the driver is loaded.
  const maxClocks = handles.map((h) => {
    const read = (type: number): number | null => (getMaxClock && getMaxClock(h, type, u32a) === NVML_SUCCESS ? u32a.readUInt32LE(0) * 1e6 : null);
    return [read(NVML_CLOCK_SM), read(NVML_CLOCK_MEM)] as const;
  });
  // The board's own slowdown/shutdown temperatures (static): alerts compare with them, not fixed °C.
  const tempLimits = handles.map((h) => {
    const read = (type: number): number | null => (getTempThreshold && getTempThreshold(h, type, u32a) === NVML_SUCCESS ? u32a.readUInt32LE(0) : null);
    return [read(NVML_TEMPERATURE_THRESHOLD_SLOWDOWN), read(NVML_TEMPERATURE_THRESHOLD_SHUTDOWN)] as const;
  });

  // NVLink: the links active at start are the ones this GPU uses (unwired links of a PCIe card stay
  // inactive and are not news); a GPU with none shows no NVLink at all. Link 0 answering NOT_SUPPORTED
  // means no NVLink; INVALID_ARGUMENT means past the GPU's last link.
  handles.forEach((h, d) => {
    if (!getNvState) return;
    for (let link = 0; link < NVLINK_LINKS_MAX; link++) {
      const rc = getNvState(h, link, u32a) as number;
      if (rc === NVML_SUCCESS) {
        if (u32a.readUInt32LE(0) === 1) statics[d].nvLinks.push(link);
      } else if (rc === NVML_ERROR_INVALID_ARGUMENT || link === 0) break;
    }
  });
  // MIG devices of MIG-enabled GPUs, looked up every migDiscoveryIntervalMs and at once when a MIG handle
  // stops answering (an administrator destroyed its instance). Slots may be sparse: NOT_FOUND skips one.
  interface MigSlot {
    handle: Handle;
    gi: number | null;
    ci: number | null;
  }
  const migs: MigSlot[][] = handles.map(() => []);
  const migFoundAt = new Array<number>(count).fill(-Infinity);
  const findMig = (d: number): void => {
    migFoundAt[d] = performance.now();
    const h = handles[d];
    const out: MigSlot[] = [];
    if (statics[d].migMode && getMaxMig && getMigHandle && getMaxMig(h, u32a) === NVML_SUCCESS) {
      const max = u32a.readUInt32LE(0);
      for (let i = 0; i < max && out.length < MIG_DEVICES_MAX; i++) {
        const m: Handle[] = [null];
        if (getMigHandle(h, i, m) !== NVML_SUCCESS) continue;
        const gi = getGiId && getGiId(m[0], u32a) === NVML_SUCCESS ? u32a.readUInt32LE(0) : null;
        const ci = getCiId && getCiId(m[0], u32b) === NVML_SUCCESS ? u32b.readUInt32LE(0) : null;
        out.push({ handle: m[0], gi, ci });
      }
      if (max > MIG_DEVICES_MAX)
        warnOnce(`mig-cap:${d}`, `GPU ${statics[d].pciBusId}: more than ${MIG_DEVICES_MAX} MIG devices; the first ${MIG_DEVICES_MAX} are read`);
    }
    migs[d] = out;
    // GPM samples of GPU instances that are gone are freed (a new instance may reuse the id: it starts afresh).
    const pool = migGpm[d];
    if (pool)
      for (const [gi, g] of pool)
        if (!out.some((x) => x.gi === gi)) {
          pool.delete(gi);
          if (gpmFree) for (const sm of g.samples) gpmFree(sm);
        }
  };

  // Last error counters per device and link (replay, recovery, CRC), refreshed every NVLINK_COUNTERS_INTERVAL_MS.
  const nvCounters = statics.map((s) => new Float64Array(s.nvLinks.length * 3).fill(NaN));
  const nvCountersAt = statics.map(() => -Infinity);

  // (device × call) pairs that answered NOT_SUPPORTED: not asked again (support does not change at run time).
  const unsupported = handles.map(() => new Set<string>());
  const lastSeenUs = new Array<number>(count).fill(0);
  const lost = new Array<boolean>(count).fill(false);
  // Last violation counters per device and policy (power, thermal): [reference µs, violation ns].
  const lastViolation = handles.map(() => [
    [NaN, NaN],
    [NaN, NaN],
  ]);
  // GPM: two samples per supported device, swapped each tick (metrics need the previous and the current one).
  interface GpmPair {
    samples: [unknown, unknown];
    addr: [bigint, bigint];
    have: boolean;
  }
  const gpmPair = (d: number): GpmPair | null => {
    if (!gpmAlloc) return null;
    const a: unknown[] = [null];
    const b: unknown[] = [null];
    if (gpmAlloc(a) !== NVML_SUCCESS || gpmAlloc(b) !== NVML_SUCCESS) {
      warnOnce(`gpm-alloc:${d}`, `GPU ${statics[d].pciBusId}: nvmlGpmSampleAlloc failed; GPM metrics are null`);
      return null;
    }
    return { samples: [a[0], b[0]], addr: [koffi.address(a[0]), koffi.address(b[0])], have: false };
  };
  const gpmSupported = handles.map((h): boolean => {
    if (!gpmSupport || !gpmAlloc || !gpmMetrics) return false;
    const sup = Buffer.alloc(8);
    sup.writeUInt32LE(GPM_VERSION, 0);
    return gpmSupport(h, sup) === NVML_SUCCESS && sup.readUInt32LE(4) === 1;
  });
  // Whole-GPU GPM outside MIG; under MIG, one pair of samples per GPU instance (nvmlGpmMigSampleGet).
  const gpm = handles.map((h, d): GpmPair | null => (gpmSupported[d] && gpmGet && !statics[d].migMode ? gpmPair(d) : null));
  const migGpm = handles.map((h, d): Map<number, GpmPair> | null => (gpmSupported[d] && gpmMigGet && statics[d].migMode ? new Map() : null));
  handles.forEach((h, d) => findMig(d));

  // NVLink throughput: one nvmlDeviceGetFieldValues per GPU and tick, rx and tx of every link in one
  // buffer (field ids and links written once). DATA counters first; RAW (data + protocol overhead) when a
  // GPU supports only those; null with one reason when neither.
  const nvFields = statics.map((s) => (s.nvLinks.length > 0 ? Buffer.alloc(2 * s.nvLinks.length * FIELD_VALUE_BYTES) : null));
  const nvMode = statics.map((s): 'data' | 'raw' | null => (s.nvLinks.length > 0 && getFieldValues ? 'data' : null));
  const nvRates = statics.map((s) => s.nvLinks.map(() => [new CounterRate(), new CounterRate()] as const));
  const fillNvFields = (d: number): void => {
    const buf = nvFields[d];
    if (!buf) return;
    buf.fill(0);
    const raw = nvMode[d] === 'raw';
    statics[d].nvLinks.forEach((link, k) => {
      buf.writeUInt32LE(raw ? NVML_FI_NVLINK_RAW_RX : NVML_FI_NVLINK_DATA_RX, 2 * k * FIELD_VALUE_BYTES);
      buf.writeUInt32LE(link, 2 * k * FIELD_VALUE_BYTES + 4);
      buf.writeUInt32LE(raw ? NVML_FI_NVLINK_RAW_TX : NVML_FI_NVLINK_DATA_TX, (2 * k + 1) * FIELD_VALUE_BYTES);
      buf.writeUInt32LE(link, (2 * k + 1) * FIELD_VALUE_BYTES + 4);
    });
  };
  handles.forEach((h, d) => fillNvFields(d));
  /** Turns one field value (KiB counter) into bytes/s through its CounterRate; NaN when there is no rate. */
  const fieldRate = (buf: Buffer, j: number, rate: CounterRate): number => {
    const off = j * FIELD_VALUE_BYTES;
    if (buf.readInt32LE(off + 28) !== NVML_SUCCESS) {
      rate.reset();
      return NaN;
    }
    const type = buf.readInt32LE(off + 24);
    let hi: number;
    let lo: number;
    let bits: 32 | 64 = 64;
    if (type === NVML_VALUE_TYPE_DOUBLE) {
      const v = buf.readDoubleLE(off + 32);
      hi = Math.floor(v / TWO_32);
      lo = v - hi * TWO_32;
    } else if (type === NVML_VALUE_TYPE_UNSIGNED_INT || type === NVML_VALUE_TYPE_SIGNED_INT || type === NVML_VALUE_TYPE_UNSIGNED_SHORT) {
      hi = 0;
      lo = type === NVML_VALUE_TYPE_UNSIGNED_SHORT ? buf.readUInt16LE(off + 32) : buf.readUInt32LE(off + 32);
      bits = 32;
    } else {
      lo = buf.readUInt32LE(off + 32);
      hi = buf.readUInt32LE(off + 36);
    }
    // NVML's own time stamp of the value (µs since 1970) gives the interval; 0 means it has none: ours.
    const ts = buf.readUInt32LE(off + 8) + buf.readInt32LE(off + 12) * TWO_32;
    return rate.update(hi, lo, ts > 0 ? ts : performance.now() * 1000, bits) * 1024;
  };
  const gpmBuf = Buffer.alloc(GPM_METRICS_GET_BYTES);
  let values: Float64Array<ArrayBufferLike> = new Float64Array(count * NVML_VALUES_PER_DEVICE);

  /** True when `rc` is success; otherwise records why the value is null. */
  const ok = (rc: number, dev: number, call: string): boolean => {
    if (rc === NVML_SUCCESS) return true;
    const key = `${dev}:${call}`;
    if (rc === NVML_ERROR_NOT_SUPPORTED) {
      unsupported[dev].add(call);
      warnOnce(`unsupported:${key}`, `GPU ${statics[dev].pciBusId} (${statics[dev].name}): ${call} is not supported; its value is null`);
    } else if (rc === NVML_ERROR_GPU_IS_LOST) {
      lost[dev] = true;
      warnOnce(`lost:${dev}`, `GPU ${statics[dev].pciBusId} (${statics[dev].name}): ${describe(rc)}`);
    } else {
      warnOnce(`error:${key}:${rc}`, `GPU ${statics[dev].pciBusId} (${statics[dev].name}): ${call} failed: ${describe(rc)}`);
    }
    return false;
  };
  const skip = (dev: number, call: string): boolean => unsupported[dev].has(call);

  const readProcesses = (dev: number, h: Handle, fn: { fn: KoffiFunction; name: string } | null, stride: number, type: 0 | 1, out: NvmlProcessRow[]): void => {
    if (!fn || skip(dev, fn.name)) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const capacity = Math.floor(procBuf.length / stride);
      u32a.writeUInt32LE(capacity, 0);
      const rc = fn.fn(h, u32a, procBuf) as number;
      if (rc === NVML_ERROR_INSUFFICIENT_SIZE) {
        // The list grew between the size query and the read: grow with headroom and retry.
        const need = u32a.readUInt32LE(0);
        procBuf = Buffer.alloc(Math.max(need + 16, capacity * 2) * PROCESS_INFO_V3_BYTES);
        continue;
      }
      if (!ok(rc, dev, fn.name)) return;
      const n = u32a.readUInt32LE(0);
      for (let i = 0; i < n; i++) {
        const off = i * stride;
        const bytes = procBuf.readBigUInt64LE(off + 8);
        // v2/v3 rows carry the MIG GPU instance (0xFFFFFFFF when the GPU is not in MIG mode).
        const gi = stride === PROCESS_INFO_V3_BYTES ? procBuf.readUInt32LE(off + 16) : NO_INSTANCE_ID;
        out.push([
          dev,
          procBuf.readUInt32LE(off),
          bytes === NVML_VALUE_NOT_AVAILABLE_U64 ? null : Number(bytes),
          null,
          type,
          null,
          null,
          null,
          gi === NO_INSTANCE_ID ? null : gi,
        ]);
      }
      return;
    }
  };

  const readProcessUtil = (dev: number, h: Handle, rows: NvmlProcessRow[], from: number): void => {
    if (!getProcUtil || skip(dev, 'nvmlDeviceGetProcessUtilization') || rows.length === from) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const capacity = Math.floor(utilBuf.length / PROCESS_UTIL_SAMPLE_BYTES);
      u32a.writeUInt32LE(capacity, 0);
      const rc = getProcUtil(h, utilBuf, u32a, BigInt(lastSeenUs[dev])) as number;
      if (rc === NVML_ERROR_INSUFFICIENT_SIZE) {
        utilBuf = Buffer.alloc(Math.max(u32a.readUInt32LE(0) + 16, capacity * 2) * PROCESS_UTIL_SAMPLE_BYTES);
        continue;
      }
      if (rc === NVML_ERROR_NOT_FOUND) return; // no samples since the last read
      if (!ok(rc, dev, 'nvmlDeviceGetProcessUtilization')) return;
      const n = u32a.readUInt32LE(0);
      // Keep each pid's newest sample.
      // [timestamp µs, sm %, mem %, enc %, dec %]
      const newest = new Map<number, [number, number, number, number, number]>();
      let maxTs = lastSeenUs[dev];
      for (let i = 0; i < n; i++) {
        const off = i * PROCESS_UTIL_SAMPLE_BYTES;
        const pid = utilBuf.readUInt32LE(off);
        const ts = Number(utilBuf.readBigUInt64LE(off + 8));
        const prev = newest.get(pid);
        if (!prev || ts >= prev[0]) {
          newest.set(pid, [ts, utilBuf.readUInt32LE(off + 16), utilBuf.readUInt32LE(off + 20), utilBuf.readUInt32LE(off + 24), utilBuf.readUInt32LE(off + 28)]);
        }
        if (ts > maxTs) maxTs = ts;
      }
      lastSeenUs[dev] = maxTs;
      for (let i = from; i < rows.length; i++) {
        const s = newest.get(rows[i][1]);
        if (s) {
          const r = rows[i];
          r[3] = s[1];
          r[5] = s[2];
          r[6] = s[3];
          r[7] = s[4];
        }
      }
      return;
    }
  };

  const sampleAll = (): NvmlProcessRow[] => {
    values.fill(NaN);
    const processes: NvmlProcessRow[] = [];
    for (let d = 0; d < count; d++) {
      const h = handles[d];
      const base = d * NVML_VALUES_PER_DEVICE;
      const set = (m: GpuMetric, v: number): void => {
        values[base + slot[m]] = v;
      };
      // Fixed arity (no rest/spread): these run ~100 times per tick.
      const u32 = (fn: KoffiFunction | null, call: string): number | null => {
        if (!fn || lost[d] || skip(d, call)) return null;
        return ok(fn(h, o32) as number, d, call) ? o32[0] : null;
      };
      const u32x = (fn: KoffiFunction | null, call: string, arg: number): number | null => {
        if (!fn || lost[d] || skip(d, call)) return null;
        return ok(fn(h, arg, o32) as number, d, call) ? o32[0] : null;
      };
      let noteFlags = statics[d].migMode ? NVML_NOTE_MIG : 0;

      if (getUtil && !skip(d, 'nvmlDeviceGetUtilizationRates') && !lost[d] && ok(getUtil(h, oUtil) as number, d, 'nvmlDeviceGetUtilizationRates')) {
        set('utilization_ratio', oUtil[0] / 100);
        set('memory_utilization_ratio', oUtil[1] / 100);
      }
      if (getMemV2 && !skip(d, 'nvmlDeviceGetMemoryInfo_v2') && !lost[d]) {
        // nvmlMemory_v2_t as u32 words: version, pad, total, reserved, free, used (u64 = lo + hi·2^32).
        oMem[0] = NVML_MEMORY_V2_VERSION;
        if (ok(getMemV2(h, oMem) as number, d, 'nvmlDeviceGetMemoryInfo_v2')) {
          const total = oMem[2] + oMem[3] * TWO_32;
          const used = oMem[8] + oMem[9] * TWO_32;
          set('memory_total_bytes', total);
          set('memory_reserved_bytes', oMem[4] + oMem[5] * TWO_32);
          set('memory_used_bytes', used);
          if (total > 0) set('memory_used_ratio', used / total);
        }
      } else if (getMemV1 && !skip(d, 'nvmlDeviceGetMemoryInfo') && !lost[d] && ok(getMemV1(h, oMem) as number, d, 'nvmlDeviceGetMemoryInfo')) {
        // nvmlMemory_t: total, free, used.
        const total = oMem[0] + oMem[1] * TWO_32;
        const used = oMem[4] + oMem[5] * TWO_32;
        set('memory_total_bytes', total);
        set('memory_used_bytes', used);
        if (total > 0) set('memory_used_ratio', used / total);
      }
      let v = u32x(getTemp, 'nvmlDeviceGetTemperature', NVML_TEMPERATURE_GPU);
      if (v !== null) set('temperature_celsius', v);
      v = u32(getPower, 'nvmlDeviceGetPowerUsage');
      if (v !== null) set('power_watts', v / 1000);
      v = u32(getLimit, 'nvmlDeviceGetEnforcedPowerLimit');
      if (v !== null) set('power_limit_watts', v / 1000);
      v = u32(getFan, 'nvmlDeviceGetFanSpeed');
      if (v !== null) set('fan_ratio', v / 100);
      v = u32x(getClock, 'nvmlDeviceGetClockInfo(SM)', NVML_CLOCK_SM);
      if (v !== null) set('sm_clock_hertz', v * 1e6);
      v = u32x(getClock, 'nvmlDeviceGetClockInfo(MEM)', NVML_CLOCK_MEM);
      if (v !== null) set('memory_clock_hertz', v * 1e6);
      const [slowdown, shutdown] = tempLimits[d];
      if (slowdown !== null) set('temperature_slowdown_celsius', slowdown);
      if (shutdown !== null) set('temperature_shutdown_celsius', shutdown);
      const [smMax, memMax] = maxClocks[d];
      if (smMax !== null) set('sm_clock_max_hertz', smMax);
      if (memMax !== null) set('memory_clock_max_hertz', memMax);
      // NVML reports PCIe throughput in KB/s (1024 bytes).
      v = u32x(getPcie, 'nvmlDeviceGetPcieThroughput(RX)', NVML_PCIE_UTIL_RX_BYTES);
      if (v !== null) set('pcie_rx_bytes_per_second', v * 1024);
      v = u32x(getPcie, 'nvmlDeviceGetPcieThroughput(TX)', NVML_PCIE_UTIL_TX_BYTES);
      if (v !== null) set('pcie_tx_bytes_per_second', v * 1024);
      if (getEnc && !skip(d, 'nvmlDeviceGetEncoderUtilization') && !lost[d] && ok(getEnc(h, o32, o32b) as number, d, 'nvmlDeviceGetEncoderUtilization')) {
        set('encoder_utilization_ratio', o32[0] / 100);
      }
      if (getDec && !skip(d, 'nvmlDeviceGetDecoderUtilization') && !lost[d] && ok(getDec(h, o32, o32b) as number, d, 'nvmlDeviceGetDecoderUtilization')) {
        set('decoder_utilization_ratio', o32[0] / 100);
      }
      v = u32(getPstate, 'nvmlDeviceGetPerformanceState');
      if (v !== null && v !== NVML_PSTATE_UNKNOWN) set('pstate_count', v);
      if (getReasons && !skip(d, getReasons.name) && !lost[d] && ok(getReasons.fn(h, o64) as number, d, getReasons.name)) {
        values[base + NVML_THROTTLE_OFFSET] = o64[0] + o64[1] * TWO_32;
      }
      if (getEcc && !skip(d, 'nvmlDeviceGetTotalEccErrors') && !lost[d]) {
        // Volatile (since the driver loaded) and aggregate (lifetime) counts, corrected and uncorrected.
        const ecc = (type: number, counter: number): number | null =>
          ok(getEcc(h, type, counter, o64) as number, d, 'nvmlDeviceGetTotalEccErrors') ? o64[0] + o64[1] * TWO_32 : null;
        const vc = ecc(NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC);
        const vu = vc === null ? null : ecc(NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC);
        if (vc !== null && vu !== null) {
          set('ecc_volatile_errors_count', vc + vu);
          set('ecc_volatile_corrected_count', vc);
          set('ecc_volatile_uncorrected_count', vu);
          const ac = ecc(NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_AGGREGATE_ECC);
          const au = ac === null ? null : ecc(NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC);
          if (ac !== null && au !== null) {
            set('ecc_aggregate_corrected_count', ac);
            set('ecc_aggregate_uncorrected_count', au);
          }
        }
      }
      // Row remapping (Ampere+), else retired pages (Kepler–Turing): one of the two answers.
      let memoryHealth = false;
      if (getRemap && !skip(d, 'nvmlDeviceGetRemappedRows') && !lost[d] && ok(getRemap(h, o32, o32b, o32c, o32d) as number, d, 'nvmlDeviceGetRemappedRows')) {
        set('remapped_rows_corrected_count', o32[0]);
        set('remapped_rows_uncorrected_count', o32b[0]);
        set('remap_pending_state', o32c[0] ? 1 : 0);
        set('remap_failure_state', o32d[0] ? 1 : 0);
        memoryHealth = true;
      }
      if (!memoryHealth && getRetired && !skip(d, 'nvmlDeviceGetRetiredPages') && !lost[d]) {
        let pages: number | null = 0;
        for (const cause of [NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS, NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR]) {
          o32[0] = 0;
          // A zero-sized query answers the count (INSUFFICIENT_SIZE when there are pages).
          const rc = getRetired(h, cause, o32, null) as number;
          if (rc === NVML_SUCCESS || rc === NVML_ERROR_INSUFFICIENT_SIZE) pages += o32[0];
          else {
            ok(rc, d, 'nvmlDeviceGetRetiredPages');
            pages = null;
            break;
          }
        }
        if (pages !== null) {
          set('retired_pages_count', pages);
          memoryHealth = true;
          const p = u32(getRetiredPending, 'nvmlDeviceGetRetiredPagesPendingStatus');
          if (p !== null) set('retired_pages_pending_state', p ? 1 : 0);
        }
      }
      if (!memoryHealth && !lost[d]) noteFlags |= NVML_NOTE_NO_MEMORY_HEALTH;
      if (
        getEnergy &&
        !skip(d, 'nvmlDeviceGetTotalEnergyConsumption') &&
        !lost[d] &&
        ok(getEnergy(h, o64) as number, d, 'nvmlDeviceGetTotalEnergyConsumption')
      ) {
        set('energy_joules', (o64[0] + o64[1] * TWO_32) / 1000);
      } else if (!lost[d]) noteFlags |= NVML_NOTE_NO_ENERGY;
      let thermal: number | null = null;
      if (getViolation && !skip(d, 'nvmlDeviceGetViolationStatus') && !lost[d]) {
        for (const policy of [NVML_PERF_POLICY_POWER, NVML_PERF_POLICY_THERMAL]) {
          if (!ok(getViolation(h, policy, oViol) as number, d, 'nvmlDeviceGetViolationStatus')) break;
          const refUs = oViol[0] + oViol[1] * TWO_32;
          const violNs = oViol[2] + oViol[3] * TWO_32;
          const last = lastViolation[d][policy];
          // The counters are cumulative: the share of the interval is the growth over the elapsed time.
          if (refUs > last[0]) {
            const r = Math.min(1, Math.max(0, (violNs - last[1]) / ((refUs - last[0]) * 1000)));
            set(policy === NVML_PERF_POLICY_POWER ? 'power_violation_ratio' : 'thermal_violation_ratio', r);
            if (policy === NVML_PERF_POLICY_THERMAL) thermal = r;
          }
          last[0] = refUs;
          last[1] = violNs;
        }
      }
      if (getViolation && skip(d, 'nvmlDeviceGetViolationStatus')) noteFlags |= NVML_NOTE_NO_VIOLATION;
      const g = gpm[d];
      if (g && gpmGet && gpmMetrics && !lost[d]) {
        // samples[1] is the newest: read into samples[0] and compare, then swap.
        if (ok(gpmGet(h, g.samples[0]) as number, d, 'nvmlGpmSampleGet')) {
          if (g.have) {
            gpmBuf.writeUInt32LE(GPM_VERSION, 0);
            gpmBuf.writeUInt32LE(GPM_METRICS.length, 4);
            gpmBuf.writeBigUInt64LE(g.addr[1], 8);
            gpmBuf.writeBigUInt64LE(g.addr[0], 16);
            GPM_METRICS.forEach(([id], k) => gpmBuf.writeUInt32LE(id, 24 + k * GPM_METRIC_BYTES));
            if (ok(gpmMetrics(gpmBuf) as number, d, 'nvmlGpmMetricsGet')) {
              GPM_METRICS.forEach(([, metric, scale], k) => {
                const off = 24 + k * GPM_METRIC_BYTES;
                if (gpmBuf.readInt32LE(off + 4) === NVML_SUCCESS) set(metric, gpmBuf.readDoubleLE(off + 8) * scale);
              });
            }
          }
          g.samples.reverse();
          g.addr.reverse();
          g.have = true;
        }
      } else if (!g && (!migGpm[d] || skip(d, 'nvmlGpmMigSampleGet'))) noteFlags |= NVML_NOTE_NO_GPM;
      if (statics[d].migMode && !lost[d]) {
        if (performance.now() - migFoundAt[d] >= data.migDiscoveryIntervalMs) findMig(d);
        // A GPM-capable MIG GPU that refuses instance samples (NOT_SUPPORTED once) is treated as one without.
        const pool = skip(d, 'nvmlGpmMigSampleGet') ? null : migGpm[d];
        if (pool) noteFlags |= NVML_NOTE_MIG_GPM;
        let refound = false;
        let slots = migs[d];
        for (let k = 0; k < slots.length; k++) {
          const m = slots[k];
          const o = base + NVML_MIG_OFFSET + k * MIG_VALUES_PER_DEVICE;
          values[o] = m.gi ?? -1;
          values[o + 1] = m.ci ?? -1;
          // Per-instance memory: the same memory calls take a MIG device handle. A handle that stops
          // answering belongs to a destroyed instance: look the instances up again, once per tick.
          let rc: number;
          if (getMemV2) {
            oMem[0] = NVML_MEMORY_V2_VERSION;
            rc = getMemV2(m.handle, oMem) as number;
            if (rc === NVML_SUCCESS) {
              values[o + 2] = oMem[2] + oMem[3] * TWO_32;
              values[o + 3] = oMem[8] + oMem[9] * TWO_32;
            }
          } else if (getMemV1) {
            rc = getMemV1(m.handle, oMem) as number;
            if (rc === NVML_SUCCESS) {
              values[o + 2] = oMem[0] + oMem[1] * TWO_32;
              values[o + 3] = oMem[4] + oMem[5] * TWO_32;
            }
          } else rc = NVML_SUCCESS;
          if (rc !== NVML_SUCCESS && rc !== NVML_ERROR_NOT_SUPPORTED && !refound) {
            refound = true;
            findMig(d);
            slots = migs[d];
            for (let j = 0; j < MIG_DEVICES_MAX * MIG_VALUES_PER_DEVICE; j++) values[base + NVML_MIG_OFFSET + j] = NaN;
            k = -1;
            continue;
          }
          if (rc !== NVML_SUCCESS) ok(rc, d, 'nvmlDeviceGetMemoryInfo(MIG)');
          // SM activity per GPU instance (GPM): compute instances of one GPU instance share its value.
          if (pool && gpmMigGet && gpmMetrics && m.gi !== null) {
            let g = pool.get(m.gi);
            if (!g) {
              const fresh = gpmPair(d);
              if (fresh) pool.set(m.gi, (g = fresh));
            }
            const prev = slots.findIndex((x) => x.gi === m.gi);
            if (prev < k) values[o + 4] = values[base + NVML_MIG_OFFSET + prev * MIG_VALUES_PER_DEVICE + 4];
            else if (g && ok(gpmMigGet(h, m.gi, g.samples[0]) as number, d, 'nvmlGpmMigSampleGet')) {
              if (g.have) {
                gpmBuf.writeUInt32LE(GPM_VERSION, 0);
                gpmBuf.writeUInt32LE(1, 4);
                gpmBuf.writeBigUInt64LE(g.addr[1], 8);
                gpmBuf.writeBigUInt64LE(g.addr[0], 16);
                gpmBuf.writeUInt32LE(GPM_METRIC_SM_UTIL, 24);
                if (ok(gpmMetrics(gpmBuf) as number, d, 'nvmlGpmMetricsGet(MIG)') && gpmBuf.readInt32LE(28) === NVML_SUCCESS)
                  values[o + 4] = gpmBuf.readDoubleLE(32) * 0.01;
              }
              g.samples.reverse();
              g.addr.reverse();
              g.have = true;
            }
          }
        }
      }
      const links = statics[d].nvLinks;
      if (links.length > 0 && getNvState && !lost[d] && !skip(d, 'nvmlDeviceGetNvLinkState')) {
        const counters = nvCounters[d];
        const now = performance.now();
        const refresh = getNvError !== null && !skip(d, 'nvmlDeviceGetNvLinkErrorCounter') && now - nvCountersAt[d] >= NVLINK_COUNTERS_INTERVAL_MS;
        if (refresh) nvCountersAt[d] = now;
        let active = 0;
        let crc = 0;
        let replay = 0;
        let recovery = 0;
        for (let k = 0; k < links.length; k++) {
          const o = base + NVML_NVLINK_OFFSET + k * NVLINK_VALUES_PER_LINK;
          if (ok(getNvState(h, links[k], o32) as number, d, 'nvmlDeviceGetNvLinkState')) {
            values[o] = o32[0] === 1 ? 1 : 0;
            active += values[o];
          } else active = NaN;
          if (refresh && getNvError) {
            const read = (counter: number): number =>
              ok(getNvError(h, links[k], counter, o64) as number, d, 'nvmlDeviceGetNvLinkErrorCounter') ? o64[0] + o64[1] * TWO_32 : NaN;
            counters[k * 3] = read(NVML_NVLINK_ERROR_DL_CRC_FLIT) + read(NVML_NVLINK_ERROR_DL_CRC_DATA);
            counters[k * 3 + 1] = read(NVML_NVLINK_ERROR_DL_REPLAY);
            counters[k * 3 + 2] = read(NVML_NVLINK_ERROR_DL_RECOVERY);
          }
          values[o + 1] = counters[k * 3];
          values[o + 2] = counters[k * 3 + 1];
          values[o + 3] = counters[k * 3 + 2];
          crc += counters[k * 3];
          replay += counters[k * 3 + 1];
          recovery += counters[k * 3 + 2];
        }
        const buf = nvFields[d];
        if (buf && nvMode[d] !== null && getFieldValues && !skip(d, 'nvmlDeviceGetFieldValues')) {
          if (ok(getFieldValues(h, 2 * links.length, buf) as number, d, 'nvmlDeviceGetFieldValues')) {
            let rx = 0;
            let tx = 0;
            let nRx = 0;
            let nTx = 0;
            let answered = false;
            for (let k = 0; k < links.length; k++) {
              const o = base + NVML_NVLINK_OFFSET + k * NVLINK_VALUES_PER_LINK;
              const r = nvRates[d][k];
              values[o + 4] = fieldRate(buf, 2 * k, r[0]);
              values[o + 5] = fieldRate(buf, 2 * k + 1, r[1]);
              answered ||= buf.readInt32LE(2 * k * FIELD_VALUE_BYTES + 28) !== NVML_ERROR_NOT_SUPPORTED;
              if (!Number.isNaN(values[o + 4])) {
                rx += values[o + 4];
                nRx++;
              }
              if (!Number.isNaN(values[o + 5])) {
                tx += values[o + 5];
                nTx++;
              }
            }
            // The GPU's rates are the sum over the links that have one (preferred to GPM's, which needs Hopper).
            if (nRx > 0) set('nvlink_rx_bytes_per_second', rx);
            if (nTx > 0) set('nvlink_tx_bytes_per_second', tx);
            if (!answered) {
              nvMode[d] = nvMode[d] === 'data' ? 'raw' : null;
              fillNvFields(d);
              if (nvMode[d] === null)
                warnOnce(
                  `nvlink-throughput:${d}`,
                  `GPU ${statics[d].pciBusId} (${statics[d].name}): NVLink throughput counters (NVML_FI_DEV_NVLINK_THROUGHPUT_*) are not supported; per-link rates are null`,
                );
            }
          }
        }
        if (nvMode[d] === null || skip(d, 'nvmlDeviceGetFieldValues')) noteFlags |= NVML_NOTE_NO_NVLINK_THROUGHPUT;
        else if (nvMode[d] === 'raw') noteFlags |= NVML_NOTE_NVLINK_RAW;
        set('nvlink_links_count', links.length);
        set('nvlink_links_active_count', active);
        set('nvlink_crc_errors_count', crc);
        set('nvlink_replay_errors_count', replay);
        set('nvlink_recovery_errors_count', recovery);
      }
      const mask = values[base + NVML_THROTTLE_OFFSET];
      if (thermal !== null) set('hw_slowdown_ratio', Number.isNaN(mask) || (mask & HW_SLOWDOWN_MASK) === 0 ? thermal : Math.max(thermal, 1));
      else if (!Number.isNaN(mask)) set('hw_slowdown_ratio', (mask & HW_SLOWDOWN_MASK) !== 0 ? 1 : 0);
      if (!lost[d]) {
        const from = processes.length;
        readProcesses(d, h, getCompute, computeStride, 0, processes);
        readProcesses(d, h, getGraphics, graphicsStride, 1, processes);
        readProcessUtil(d, h, processes, from);
      }
      if (lost[d]) noteFlags |= NVML_NOTE_LOST;
      values[base + NVML_NOTES_OFFSET] = noteFlags;
    }
    return processes;
  };

  /** Serves batches through the shared buffer: blocks in Atomics.wait between ticks (no event loop needed). */
  const serve = (buffer: SharedArrayBuffer): void => {
    const v = sharedViews(buffer, count);
    values = v.values;
    // Ids start at 1; a request stored before this thread got the buffer is seen at once.
    let last = 0;
    for (;;) {
      Atomics.wait(v.ctrl, CTRL_REQ, last);
      const req = Atomics.load(v.ctrl, CTRL_REQ);
      if (req === last) continue;
      if (req < 0) break;
      last = req;
      try {
        const rows = sampleAll();
        const n = Math.min(rows.length, NVML_PROCESS_CAPACITY);
        if (rows.length > n) warnOnce('process-capacity', `more than ${NVML_PROCESS_CAPACITY} GPU processes; the list is truncated`);
        for (let i = 0; i < n; i++) {
          const r = rows[i];
          const o = i * NVML_PROCESS_ROW;
          v.procs[o] = r[0];
          v.procs[o + 1] = r[1];
          v.procs[o + 2] = r[2] ?? NaN;
          v.procs[o + 3] = r[3] ?? NaN;
          v.procs[o + 4] = r[4];
          v.procs[o + 5] = r[5] ?? NaN;
          v.procs[o + 6] = r[6] ?? NaN;
          v.procs[o + 7] = r[7] ?? NaN;
          v.procs[o + 8] = r[8] ?? NaN;
        }
        Atomics.store(v.ctrl, CTRL_NPROCS, n);
        Atomics.store(v.ctrl, CTRL_STATUS, 0);
      } catch (e) {
        Atomics.store(v.ctrl, CTRL_STATUS, 1);
        post({ type: 'error', message: errMsg(e) });
      }
      Atomics.store(v.ctrl, CTRL_DONE, req);
      Atomics.notify(v.ctrl, CTRL_DONE);
    }
    try {
      shutdown?.();
    } catch {
      /* closing anyway */
    }
    port.close();
  };

  post({ type: 'ready', info: { driverVersion, cudaVersion, devices: statics } });

  port.on('message', (m: NvmlRequest) => {
    if (m.type === 'shared') {
      serve(m.buffer);
      return;
    }
    try {
      shutdown?.();
    } catch {
      /* closing anyway */
    }
    port.close();
  });
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
