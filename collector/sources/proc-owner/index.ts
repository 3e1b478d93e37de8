// Process attribution shared by the GPU backends (NVIDIA NVML / nvidia-smi, DRM): who a pid is and what
// it belongs to. Not a source (nothing here is sampled on its own); GPU sources call it per process.

export { cgroupPaths, ownerLabel, ownerOfPath, parseCgroupOwner } from './cgroup';
export { COMMAND_MAX_CHARS, parseBootTime, parseCmdline, parseNsPid, parsePasswd, parseStartTicks, parseUid, shortName } from './proc-parse';
export { ProcOwnerReader, procRootOf, REVALIDATE_PER_TICK, type ProcIdentity, type ProcOwnerOptions } from './reader';
export { KubeletPods, parsePodList, KUBELET_READONLY_URL } from './kubelet';
export { ContainerNames, type ContainerInfo } from './containers';
