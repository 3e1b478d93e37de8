// NVIDIA's Xid catalogue, condensed: what each Xid means and what to do about it. Source: NVIDIA,
// "Xid Errors" (docs.nvidia.com/deploy/xid-errors/, r575 edition) and the GPU memory error management
// guide (docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/) for the ECC / row-remapping entries.
// Pseudo codes name the NVML events that are not Xids: `dbe`, `unavailable`, `recovery`.
// Severity follows the catalogue's "Resolution Bucket (Immediate Action)" column (Xid-Catalog.xlsx,
// analyzing-xid-catalog.html): `critical` (fatal) where it is RESET_GPU, RESTART_BM (reboot),
// CONTACT_SUPPORT or a workflow that ends in a reset or RMA (48, 74); `warning` where it is RESTART_APP
// or IGNORE (the application, or nothing, needs attention — not the GPU).

/** One catalogue entry. */
export interface XidInfo {
  /** One-line meaning. */
  meaning: string;
  /** Recommended action. */
  action: string;
  /** `critical`: the GPU needs attention (reset, drain, RMA); `warning`: usually the application. */
  severity: 'warning' | 'critical';
}

/** Xid code (or pseudo code) → meaning and action. */
export const XID_CATALOGUE: Readonly<Record<string, XidInfo>> = {
  '13': {
    meaning: 'graphics engine exception (an application fault such as an out-of-range access)',
    action: 'check the application (compute-sanitizer); run diagnostics if it happens across applications',
    severity: 'warning',
  },
  '31': {
    meaning: 'GPU memory page fault (an application accessed an invalid address)',
    action: 'debug the application; run diagnostics if different applications hit it',
    severity: 'warning',
  },
  '43': {
    meaning: 'GPU stopped processing (a user application faulted; the GPU is fine)',
    action: 'no GPU action; check the application that was running',
    severity: 'warning',
  },
  '45': {
    meaning: 'preemptive cleanup after earlier errors (e.g. the application was killed)',
    action: 'no action by itself; look at the Xid before it',
    severity: 'warning',
  },
  '46': { meaning: 'GPU stopped processing (timeout)', action: 'reset the GPU; contact support if it repeats', severity: 'critical' },
  '48': {
    meaning: 'double-bit (uncorrectable) ECC error',
    action: 'restart the affected applications and reset the GPU; contact support/RMA if it repeats',
    severity: 'critical',
  },
  '61': { meaning: 'internal micro-controller breakpoint/warning', action: 'reset the GPU; report to NVIDIA if it repeats', severity: 'critical' },
  '62': { meaning: 'internal micro-controller halt', action: 'reset the GPU or reboot; report to NVIDIA if it repeats', severity: 'critical' },
  '63': { meaning: 'ECC page retirement or row remapping recorded', action: 'reset the GPU when convenient so the remap takes effect', severity: 'warning' },
  '64': { meaning: 'ECC page retirement or row remapping failed', action: 'reset the GPU; if it repeats contact support/RMA', severity: 'critical' },
  '68': { meaning: 'video decoder (NVDEC) exception', action: "check the application's video decoding; reset the GPU if it persists", severity: 'warning' },
  '69': { meaning: 'graphics engine class error', action: 'check the application; reset the GPU if it repeats', severity: 'warning' },
  '74': {
    meaning: 'NVLink error',
    action: "check NVLink connections and the other GPU's Xids; reset the GPUs; contact support if it persists",
    severity: 'critical',
  },
  '79': {
    meaning: 'GPU has fallen off the bus',
    action: 'drain the node and reboot; check power, cooling and PCIe seating; contact support if it repeats',
    severity: 'critical',
  },
  '92': { meaning: 'high single-bit ECC error rate', action: 'run diagnostics; plan a replacement if the rate keeps rising', severity: 'warning' },
  '94': {
    meaning: 'contained ECC error (only the affected applications were hit)',
    action: 'restart the affected applications; reset the GPU when convenient',
    severity: 'warning',
  },
  '95': { meaning: 'uncontained ECC error (every application on the GPU is affected)', action: "stop the GPU's work and reset the GPU", severity: 'critical' },
  '109': { meaning: 'context switch timeout', action: 'reset the GPU; contact support if it repeats', severity: 'critical' },
  '119': {
    meaning: 'GSP RPC timeout (the GPU system processor stopped answering)',
    action: 'reset the GPU or reboot; update the driver; report if it recurs',
    severity: 'critical',
  },
  '120': { meaning: 'GSP error', action: 'reset the GPU or reboot; update the driver; report if it recurs', severity: 'critical' },
  '136': { meaning: 'NVLink link training failed', action: 'reset the GPU; check the link (signal integrity) if it repeats', severity: 'critical' },
  '140': { meaning: 'unrecovered ECC error', action: 'reset the GPU; contact support/RMA if it repeats', severity: 'critical' },
  '143': { meaning: 'GPU initialisation error', action: 'reset the GPU; contact support if it repeats', severity: 'critical' },
  '154': {
    meaning: 'GPU recovery action changed (follows another Xid)',
    action: 'follow the recovery action nvidia-smi reports (reset, reboot or drain); see the Xid before it',
    severity: 'critical',
  },
  '155': { meaning: 'NVLink software-defined error', action: 'reset the GPU', severity: 'critical' },
  '158': { meaning: 'GPU fatal timeout', action: 'reset the GPU; contact support if it repeats', severity: 'critical' },
  dbe: {
    meaning: 'double-bit (uncorrectable) ECC error event',
    action: 'restart the affected applications and reset the GPU; contact support/RMA if it repeats',
    severity: 'critical',
  },
  unavailable: { meaning: 'the GPU became unavailable', action: 'drain the node and reset the GPU or reboot', severity: 'critical' },
  recovery: {
    meaning: 'the driver asks for a recovery action',
    action: 'follow the recovery action (reset the GPU, drain, or reboot the node)',
    severity: 'critical',
  },
};

/** NVML recovery actions (nvmlDeviceGpuRecoveryAction_t) by value. */
export const RECOVERY_ACTIONS: readonly string[] = [
  'none',
  'reset the GPU',
  'reboot the node',
  'drain peer-to-peer traffic',
  'drain and reset the GPU',
  'recover the IMEX domain',
];

/** Catalogue entry of a code, or an "unknown Xid N" entry. */
export function xidInfo(code: string): XidInfo {
  return XID_CATALOGUE[code] ?? { meaning: `unknown Xid ${code}`, action: "see NVIDIA's Xid catalogue; run diagnostics if it repeats", severity: 'warning' };
}

/** One line for messages: `Xid 79: GPU has fallen off the bus. Action: drain the node…`. */
export function describeXid(code: string): string {
  const i = xidInfo(code);
  const label = /^\d+$/.test(code)
    ? `Xid ${code}`
    : code === 'dbe'
      ? 'Double-bit ECC'
      : code === 'unavailable'
        ? 'GPU unavailable'
        : code === 'recovery'
          ? 'Recovery action'
          : `Xid ${code}`;
  return `${label}: ${i.meaning}. Action: ${i.action}`;
}
