// The NVML event thread: registers Xid / double-bit ECC / GPU-unavailable / recovery-action events and
// blocks in nvmlEventSetWait_v2 with a timeout, so it costs nothing while idle and never shares a thread
// with the per-tick reads. A burst is drained and folded per (device, kind, code) before it is posted,
// so a storm of 1,000 Xids is one message. The stop flag is checked after every wait: shutdown takes
// at most one wait timeout, even while waiting.

import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type * as KoffiModule from 'koffi';
import { registerWorker } from '../../workers';
import { NVML_EVENTS_WORKER_KIND, type NvmlEventKind, type NvmlEventsReply, type NvmlEventsWorkerData, type NvmlFoldedEvent } from './nvml-events-protocol';

const NVML_SUCCESS = 0;
const NVML_ERROR_TIMEOUT = 10;
const NVML_ERROR_GPU_IS_LOST = 15;
// nvml.h nvmlEventType* (API 13).
const EVENT_DOUBLE_BIT_ECC = 0x2;
const EVENT_XID = 0x8;
const EVENT_GPU_UNAVAILABLE = 0x4000;
const EVENT_RECOVERY_ACTION = 0x8000;
const WANTED_EVENTS = EVENT_DOUBLE_BIT_ECC | EVENT_XID | EVENT_GPU_UNAVAILABLE | EVENT_RECOVERY_ACTION;
/** sizeof(nvmlEventData_t): device pointer, eventType u64, eventData u64, gpuInstanceId u32, computeInstanceId u32. */
const EVENT_DATA_BYTES = 32;
/** Events drained after the first one of a burst before the folded batch is posted. */
const DRAIN_MAX_EVENTS = 4096;
/** Pause after an unexpected wait error before waiting again, in ms (wakes at once on stop). */
const ERROR_BACKOFF_MS = 1000;

registerWorker(NVML_EVENTS_WORKER_KIND, (data) => runEventsWorker(data as NvmlEventsWorkerData));

function runEventsWorker(data: NvmlEventsWorkerData): void {
  const port = parentPort;
  if (!port) return;
  const post = (m: NvmlEventsReply): void => port.postMessage(m);
  const stop = new Int32Array(data.stop);
  const finish = (): void => {
    post({ type: 'stopped', threadCpuNs: threadCpuNs() });
    port.close();
  };
  let koffi: typeof KoffiModule;
  let lib: KoffiModule.LibraryHandle;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native module resolved at run time, not bundled
    koffi = require('koffi') as typeof KoffiModule;
    lib = koffi.load(data.libPath);
  } catch (e) {
    post({ type: 'unavailable', reason: `cannot load NVML for events: ${errMsg(e)}` });
    return finish();
  }
  const fn = (decl: string): ReturnType<KoffiModule.LibraryHandle['func']> | null => {
    try {
      return lib.func(decl);
    } catch {
      return null;
    }
  };
  const init = fn('int nvmlInit_v2()');
  const shutdown = fn('int nvmlShutdown()');
  const getCount = fn('int nvmlDeviceGetCount_v2(void *)');
  const getHandle = fn('int nvmlDeviceGetHandleByIndex_v2(unsigned int, _Out_ void **)');
  const errorString = fn('const char *nvmlErrorString(int)');
  const supported = fn('int nvmlDeviceGetSupportedEventTypes(void *, void *)');
  const create = fn('int nvmlEventSetCreate(_Out_ void **)');
  const register = fn('int nvmlDeviceRegisterEvents(void *, unsigned long long, void *)');
  const wait = fn('int nvmlEventSetWait_v2(void *, void *, unsigned int)');
  const free = fn('int nvmlEventSetFree(void *)');
  const describe = (rc: number): string => {
    try {
      return errorString ? `${String(errorString(rc))} (${rc})` : `NVML error ${rc}`;
    } catch {
      return `NVML error ${rc}`;
    }
  };
  if (!init || !getCount || !getHandle || !supported || !create || !register || !wait || !free) {
    post({ type: 'unavailable', reason: 'this libnvidia-ml has no event API (nvmlEventSetWait_v2 and friends)' });
    return finish();
  }
  let rc = init() as number;
  if (rc !== NVML_SUCCESS) {
    post({ type: 'unavailable', reason: `nvmlInit_v2 failed: ${describe(rc)}` });
    return finish();
  }
  const u32 = Buffer.alloc(4);
  const u64 = Buffer.alloc(8);
  rc = getCount(u32) as number;
  const count = rc === NVML_SUCCESS ? u32.readUInt32LE(0) : 0;
  const setOut: unknown[] = [null];
  rc = create(setOut) as number;
  if (rc !== NVML_SUCCESS) {
    post({ type: 'unavailable', reason: `nvmlEventSetCreate failed: ${describe(rc)}` });
    shutdown?.();
    return finish();
  }
  const set = setOut[0];
  const addresses: bigint[] = [];
  const reasons: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    const out: unknown[] = [null];
    if (getHandle(i, out) !== NVML_SUCCESS) {
      addresses.push(-1n);
      reasons.push('no device handle');
      continue;
    }
    const h = out[0];
    addresses.push(koffi.address(h));
    rc = supported(h, u64) as number;
    if (rc !== NVML_SUCCESS) {
      reasons.push(`nvmlDeviceGetSupportedEventTypes: ${describe(rc)}`);
      continue;
    }
    const mask = Number(u64.readBigUInt64LE(0) & BigInt(WANTED_EVENTS));
    if (mask === 0) {
      reasons.push('the GPU supports none of the Xid / ECC / recovery events');
      continue;
    }
    rc = register(h, BigInt(mask), set) as number;
    reasons.push(rc === NVML_SUCCESS ? null : `nvmlDeviceRegisterEvents: ${describe(rc)}`);
  }
  post({ type: 'registered', reasons, threadCpuNs: threadCpuNs() });

  const buf = Buffer.alloc(EVENT_DATA_BYTES);
  const folded = new Map<string, NvmlFoldedEvent>();
  const record = (): void => {
    const addr = buf.readBigUInt64LE(0);
    const device = addresses.indexOf(addr);
    if (device < 0) return;
    const type = Number(buf.readBigUInt64LE(8));
    const value = Number(buf.readBigUInt64LE(16));
    const kind: NvmlEventKind | null =
      type === EVENT_XID
        ? 'xid'
        : type === EVENT_DOUBLE_BIT_ECC
          ? 'dbe'
          : type === EVENT_GPU_UNAVAILABLE
            ? 'unavailable'
            : type === EVENT_RECOVERY_ACTION
              ? 'recovery'
              : null;
    if (kind === null) return;
    const code = kind === 'xid' || kind === 'recovery' ? value : 0;
    const key = `${device}:${kind}:${kind === 'xid' ? code : ''}`;
    const now = Date.now();
    const f = folded.get(key);
    if (f) {
      f.count++;
      f.lastSeen = now;
      f.code = code;
    } else folded.set(key, { device, kind, code, count: 1, lastSeen: now });
  };
  while (Atomics.load(stop, 0) === 0) {
    rc = wait(set, buf, data.waitTimeoutMs) as number;
    if (rc === NVML_ERROR_TIMEOUT) continue;
    if (rc !== NVML_SUCCESS) {
      post({ type: 'wait-error', message: `nvmlEventSetWait_v2: ${describe(rc)}`, lost: rc === NVML_ERROR_GPU_IS_LOST });
      Atomics.wait(stop, 0, 0, ERROR_BACKOFF_MS);
      continue;
    }
    record();
    for (let n = 0; n < DRAIN_MAX_EVENTS && Atomics.load(stop, 0) === 0; n++) {
      if (wait(set, buf, 0) !== NVML_SUCCESS) break;
      record();
    }
    post({ type: 'events', events: [...folded.values()] });
    folded.clear();
  }
  free(set);
  shutdown?.();
  finish();
}

/** CPU time this thread has run, in ns (Linux schedstat), or null where it cannot be read. */
function threadCpuNs(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
